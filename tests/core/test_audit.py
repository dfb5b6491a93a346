"""The audit log: appends survive reopening, come back newest first, and hold no keys."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tui.core.audit import AuditEntry, AuditLog
from tui.core.credentials import ApiKey
from tui.core.paths import AppPaths

CANARY = "canary-S3CRET-0123456789-zz9q"


def test_append_and_read_back(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        first = log.append("delete", [4512, 4513], "accepted", "prod", "ann", at=10.0)
        log.append("upload", [7], "2 of 3 accepted", "prod", None, detail="batch.json",
                   at=11.0)
        entries = log.entries()
    assert [e.action for e in entries] == ["upload", "delete"]  # newest first
    assert entries[1] == first == AuditEntry(first.seq, 10.0, "delete", (4512, 4513),
                                             "accepted", "prod", "ann", None)
    assert entries[0].detail == "batch.json" and entries[0].user is None


def test_limit_gives_the_newest(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        for n in range(5):
            log.append("remove", [n + 1], "done", "prod", "ann", at=float(n))
        assert [e.ids for e in log.entries(limit=2)] == [(5,), (4,)]
        assert log.entries(limit=0) == []


def test_entries_survive_reopening(tmp_path: Path) -> None:
    path = AppPaths.under(tmp_path).audit_db("prod")
    with AuditLog(path) as log:
        log.append("delete", [1], "accepted", "prod", "ann")
    with AuditLog(path) as log:
        (entry,) = log.entries()
    assert entry.action == "delete" and entry.at > 0
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


def test_keys_are_never_stored(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    path = tmp_path / "db" / "audit.sqlite3"
    key = ApiKey(CANARY)
    with AuditLog(path) as log:
        log.redact(key)
        log.append("login", [], "saved", "prod", "ann", detail=f"key {key.reveal()} saved")
        log.append("login", [], "saved", "prod", "ann", detail=str(key))
        log.append(f"oops {CANARY}", [], CANARY, "prod", CANARY)
        assert all(CANARY not in repr(entry) for entry in log.entries())
    for file in path.parent.iterdir():
        assert CANARY.encode() not in file.read_bytes(), file.name


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    AuditLog(path).close()
    assert path.stat().st_mode & 0o077 == 0
