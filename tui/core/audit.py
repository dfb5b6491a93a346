"""The audit log: who did what to which conversions, and how it went.

Destructive or bulk actions (delete, upload, removing from the watchlist) are
appended here, one SQLite row each (WAL, committed at once), per profile, so
support staff can answer "who deleted 4512, and when?". It never holds an API
key: there is no column for one, and any key registered with :meth:`redact`
is masked in every text that is stored.

Who acted is decided here, the same way for the app and the CLI (see
:func:`acting_user`): the e-mail of the key's owner when the server has told us
(every answer carries the profile), else the operating-system login name.
"""

from __future__ import annotations

import getpass
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from tui.core.credentials import ApiKey
from tui.core.watchlist import DELETED_STATUS

if TYPE_CHECKING:
    from tui.core.watchlist import StatusChange, WatchedConversion

__all__ = ["AuditEntry", "AuditLog", "AuditTrail", "acting_user", "record_confirmed_deletions"]

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


def acting_user(email: str | None) -> str | None:
    """Who the audit log names: ``email`` (the key owner's, from the server's answers)
    when known, else the login name of this process's user (None if there is none)."""
    if email and email.strip():
        return email.strip()
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (a container without one)
        return None


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


class AuditTrail(Protocol):
    """Where the watch service and the monitor record and read actions: this machine's
    :class:`AuditLog`, or a team store's shared one (``tui.core.teamstore.audit``)."""

    def redact(self, key: ApiKey) -> None:
        """Mask ``key`` in every text recorded from now on (it never reaches the log)."""
        ...

    def append(self, action: str, ids: Sequence[int], outcome: str, profile: str,
               user: str | None, detail: str | None = None,
               at: float | None = None) -> AuditEntry:
        """Record one action and return it."""
        ...

    def entries(self, limit: int | None = None) -> list[AuditEntry]:
        """Recorded actions, newest first."""
        ...

    def last_for(self, action: str, conversion_id: int) -> AuditEntry | None:
        """The newest entry of ``action`` that names ``conversion_id`` (None: none)."""
        ...

    def close(self) -> None:
        """Let go of the log."""
        ...


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
        """Record one action (committed before returning) and return it.

        ``user`` is the key owner's e-mail when known; None (or empty) stands for the
        operating-system user (see :func:`acting_user`).
        """
        when = time.time() if at is None else at
        user = acting_user(user)
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

    def last_for(self, action: str, conversion_id: int) -> AuditEntry | None:
        """The newest entry of ``action`` that names ``conversion_id`` (None: none)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT seq, at, action, ids, outcome, profile, user, detail FROM audit "
                "WHERE action = ? AND EXISTS (SELECT 1 FROM json_each(audit.ids) "
                "WHERE value = ?) ORDER BY seq DESC LIMIT 1",
                (action, int(conversion_id))).fetchone()
        if row is None:
            return None
        return AuditEntry(row[0], row[1], row[2], tuple(json.loads(row[3])), row[4], row[5],
                          row[6], row[7])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def record_confirmed_deletions(audit: AuditTrail, changes: Iterable[StatusChange],
                               rows: Iterable[WatchedConversion], *, profile: str,
                               user: str | None) -> list[int]:
    """Record phase two of the deletes this profile asked for: the status turned Deleted,
    or the server answered 404 after the request (the watchlist shows that as Deleted too).

    ``changes`` and ``rows`` are one poll update's; a conversion deleted by someone else
    (no delete requested here) is not an action of ours and is left out. Returns the IDs.
    """
    requested = {row.id: row for row in rows if row.delete_requested_at is not None}
    confirmed: list[int] = []
    for change in changes:
        row = requested.get(change.id)
        if row is None or change.current != DELETED_STATUS:
            continue
        how = ("the server reports it Deleted" if _last_answered_status(row) == DELETED_STATUS
               else "the server no longer has it (404 after the delete request)")
        audit.append("delete", [change.id], "confirmed", profile, user,
                     detail=f"deletion confirmed: {how}", at=change.at)
        confirmed.append(change.id)
    return confirmed


def _last_answered_status(row: WatchedConversion) -> str | None:
    """The status in the last answer stored for ``row`` (a 404 leaves the one before)."""
    try:
        status = json.loads(row.raw or "{}").get("payload", {}).get("status")
    except (ValueError, AttributeError):
        return None
    return status if isinstance(status, str) else None
