"""One poller per base URL: a PostgreSQL advisory lock held by a session connection.

The app that holds :class:`LeaderLock` polls; the others follow the change feed and try
again now and then. The lock belongs to the database session, so it goes when the session
goes: the holder releasing it, closing, exiting, being killed with SIGKILL (the server sees
the socket close), or its connection being terminated. A holder whose connection is gone
has lost leadership: :meth:`LeaderLock.still_held` says so, and it must stop polling.

Who holds it is read from the server itself (``pg_locks`` joined to ``pg_stat_activity``):
the holder's connection is named ``conversions-tui leader user@host``, so no table of
holders can go stale after a crash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from tui.core.teamstore.address import APP_NAME_PREFIX, KEEPALIVES, StoreAddress
from tui.core.teamstore.errors import TeamStoreError, connect_failure, first_line

__all__ = ["LeaderInfo", "LeaderLock", "lock_key"]

LEADER_PREFIX = f"{APP_NAME_PREFIX} leader "
HOLDER_QUERY = """
SELECT a.pid, a.application_name, a.backend_start, host(a.client_addr)
FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def lock_key(base_url: str) -> int:
    """The advisory lock key of a base URL (a signed 64-bit number)."""
    digest = hashlib.sha256(b"conversions-tui poller " + base_url.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True)
class LeaderInfo:
    """Who polls a base URL: ``who`` as its connection names it (``user@host``; text from
    the database: show it escaped), its server process and since when."""

    who: str
    backend_pid: int
    since: datetime | None
    client_addr: str | None

    def describe(self) -> str:
        """``user@host``: what the header says ("following dana@desk-3")."""
        return self.who


class LeaderLock:
    """The poller's lock for one base URL on a team database; never blocks."""

    def __init__(self, address: StoreAddress, base_url: str, who: str, *,
                 connect_timeout: float = 10.0) -> None:
        self.address = address
        self.base_url = base_url
        self.who = who
        self.key = lock_key(base_url)
        self._connect_timeout = connect_timeout
        self._conn: psycopg.Connection[Any] | None = None
        self._held = False

    def __repr__(self) -> str:
        state = "held" if self._held else "not held"
        return f"LeaderLock({self.address.display!r}, {self.base_url!r}, {state})"

    def _connect(self, name: str) -> psycopg.Connection[Any]:
        kwargs = self.address.connect_kwargs(name)
        try:
            return psycopg.connect(self.address.url, autocommit=True,
                                   connect_timeout=max(1, round(self._connect_timeout)),
                                   **KEEPALIVES, **kwargs)
        except psycopg.Error as error:
            secret = kwargs.get("password") or self.address.password_hint()
            raise TeamStoreError(connect_failure(self.address.display, error, secret)
                                 ) from None

    @property
    def held(self) -> bool:
        """Whether this lock was held at the last check (see :meth:`still_held`)."""
        return self._held

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this app holds it now. Raises
        :class:`TeamStoreError` when the database cannot be reached."""
        if self._held and self.still_held():
            return True
        if self._conn is None or self._conn.closed:
            self._conn = self._connect(LEADER_PREFIX + self.who)
        try:
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        except psycopg.Error:
            self._drop()
            return False
        self._held = bool(row and row[0])
        return self._held

    def still_held(self) -> bool:
        """Ask the server whether our session is alive (and so holds the lock); a lost
        connection means leadership lost."""
        if not self._held or self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            self._drop()
        return self._held

    def _drop(self) -> None:
        self._held = False
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def holder(self) -> LeaderInfo | None:
        """Who holds the lock now (None: nobody)."""
        own = self._conn is not None and not self._conn.closed
        conn = self._conn if own and self._conn else self._connect(
            f"{APP_NAME_PREFIX} {self.who}")
        high, low = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        try:
            row = conn.execute(HOLDER_QUERY, (high, low)).fetchone()
        except psycopg.Error as error:
            raise TeamStoreError(f"Could not ask the team database {self.address.display} "
                                 f"who polls ({first_line(error)}).") from None
        finally:
            if not own:
                conn.close()
        if row is None:
            return None
        pid, name, since, client = row
        who = name[len(LEADER_PREFIX):] if name.startswith(LEADER_PREFIX) else name
        return LeaderInfo(who=who or "?", backend_pid=int(pid), since=since,
                          client_addr=client)

    def release(self) -> None:
        """Give the lock up (and close the session)."""
        if self._conn is not None and self._held:
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            except psycopg.Error:
                pass  # the session is gone: so is the lock
        self._drop()

    def close(self) -> None:
        """Same as :meth:`release`."""
        self.release()
