"""The audit log: who did what to which conversions, and how it went.

Destructive or bulk actions (delete, upload, removing from the watchlist) are
appended here, one SQLite row each (WAL, committed at once), per profile, so
support staff can answer "who deleted 4512, and when?". It never holds an API
key: there is no column for one, and any key registered with :meth:`redact`
is masked in every text that is stored.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from tui.core.credentials import ApiKey

__all__ = ["AuditEntry", "AuditLog"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    action TEXT NOT NULL,
    ids TEXT NOT NULL,
    outcome TEXT NOT NULL,
    profile TEXT NOT NULL,
    user TEXT,
    detail TEXT
);
"""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded action. ``at`` is unix seconds; ``seq`` orders entries."""

    seq: int
    at: float
    action: str
    ids: tuple[int, ...]
    outcome: str
    profile: str
    user: str | None
    detail: str | None


class AuditLog:
    """Append-only record of actions for one profile, stored in ``db_path``."""

    def __init__(self, db_path: Path) -> None:
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.Lock()
        self._secrets: list[tuple[str, str]] = []
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                     timeout=10.0)
        if os.name == "posix":
            try:
                os.chmod(self.path, 0o600)
            except OSError:
                pass
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"AuditLog({str(self.path)!r})"

    def redact(self, key: ApiKey) -> None:
        """Mask ``key`` wherever it would appear in a stored text (belt and braces)."""
        with self._lock:
            self._secrets.append((key.reveal(), key.masked))

    def _clean(self, text: str | None) -> str | None:
        if text is None:
            return None
        text = str(text)
        for secret, masked in self._secrets:
            text = text.replace(secret, masked)
        return text

    def append(self, action: str, ids: Sequence[int], outcome: str, profile: str,
               user: str | None, detail: str | None = None,
               at: float | None = None) -> AuditEntry:
        """Record one action (committed before returning) and return it."""
        when = time.time() if at is None else at
        values = (when, self._clean(action), json.dumps([int(i) for i in ids]),
                  self._clean(outcome), self._clean(profile), self._clean(user),
                  self._clean(detail))
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO audit (at, action, ids, outcome, profile, user, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", values)
            seq = cursor.lastrowid
        assert seq is not None
        return AuditEntry(seq, when, str(values[1]), tuple(int(i) for i in ids),
                          str(values[3]), str(values[4]), values[5], values[6])

    def entries(self, limit: int | None = None) -> list[AuditEntry]:
        """Recorded actions, newest first (at most ``limit`` of them)."""
        sql = "SELECT seq, at, action, ids, outcome, profile, user, detail FROM audit " \
              "ORDER BY seq DESC"
        params: tuple[int, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (max(limit, 0),)
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [AuditEntry(row[0], row[1], row[2], tuple(json.loads(row[3])), row[4], row[5],
                           row[6], row[7]) for row in rows]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
