"""The audit log: appends survive reopening, come back newest first, and hold no keys."""

from __future__ import annotations

import getpass
import json
import os
import sqlite3
from pathlib import Path

import pytest

from tui.api.models import StatusEnvelope
from tui.core.audit import AuditEntry, AuditLog, acting_user, record_confirmed_deletions
from tui.core.credentials import ApiKey
from tui.core.paths import AppPaths
from tui.core.watchlist import PollResult, Watchlist

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
    # No e-mail known: the OS user is named (the one rule for the app and the CLI).
    assert entries[0].detail == "batch.json" and entries[0].user == getpass.getuser()


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


# ------------------------------------------------------------ who acted
def test_the_acting_user_is_the_owners_email_else_the_os_user() -> None:
    assert acting_user("dana@northwind.example") == "dana@northwind.example"
    assert acting_user(None) == acting_user("") == acting_user("  ") == getpass.getuser()


# ------------------------------------------------------------ delete confirmations
def _status(conversion_id: int, status: str) -> StatusEnvelope:
    body = {"profile": None, "payload": {"id": conversion_id, "status": status},
            "errors": [], "hasErrors": False, "warnings": [], "hasWarnings": False,
            "metadata": {}}
    return StatusEnvelope.from_wire(json.dumps(body))


def test_confirmed_deletions_are_recorded_once_each(tmp_path: Path) -> None:
    with Watchlist(tmp_path / "w.sqlite3") as watchlist, \
            AuditLog(tmp_path / "audit.sqlite3") as log:
        watchlist.add([1, 2, 3])
        watchlist.record_results([PollResult(i, 10.0, _status(i, "DeletionPending"))
                                  for i in (1, 2)] + [PollResult(3, 10.0, _status(3, "Completed"))])
        watchlist.mark_delete_requested(1, 11.0)
        watchlist.mark_delete_requested(2, 11.0)
        # 1 shows Deleted; 2 is purged (404 after our request); 3 was deleted by someone
        # else (no request from here): not an action of ours.
        results = [PollResult(1, 20.0, _status(1, "Deleted")),
                   PollResult(2, 21.0, not_found=True),
                   PollResult(3, 22.0, _status(3, "Deleted"))]
        changes = watchlist.record_results(results)
        rows = list(watchlist.get_many([1, 2, 3]).values())
        assert record_confirmed_deletions(log, changes, rows, profile="prod",
                                          user="ann@example.com") == [1, 2]
        # The next update carries no change for them: nothing is recorded twice.
        later = watchlist.record_results([PollResult(1, 30.0, _status(1, "Deleted")),
                                          PollResult(2, 31.0, not_found=True)])
        assert record_confirmed_deletions(log, later, rows, profile="prod", user=None) == []
        entries = list(reversed(log.entries()))
    assert [(e.action, e.ids, e.outcome, e.user, e.at) for e in entries] == [
        ("delete", (1,), "confirmed", "ann@example.com", 20.0),
        ("delete", (2,), "confirmed", "ann@example.com", 21.0)]
    assert entries[0].detail == "deletion confirmed: the server reports it Deleted"
    assert entries[1].detail == ("deletion confirmed: the server no longer has it (404 after "
                                 "the delete request)")
