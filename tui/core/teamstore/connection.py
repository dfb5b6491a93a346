"""The team store's connections: :class:`TeamConnection`, the plumbing under
:class:`~tui.core.teamstore.store.TeamStore`.

The first connection is made directly (a refused login or an unreachable server fails at
once, with its reason), checks or brings up the schema, then a small pool opens. Every
driver error becomes one :class:`TeamStoreError` sentence that says what was being done,
without the password. A write is one transaction that takes the next change number, with
the profile's writes taking turns so they commit in number order (see :mod:`.changes`).

While the database cannot be reached, calls fail at once with a sentence (nothing waits
for the pool's timeout on the event loop), for a while that doubles up to
:data:`AWAY_RETRY_MAX`; then a call may try again, but not on an event loop's thread: that
call is refused too and a thread tries a new connection for it. A new listening connection
(the follower's or that thread's) that succeeds ends it at once. The first call after the
server went finds its pooled connection dead: a new one is tried at once, and refused, the
call fails then (the pool would wait for its timeout).

The monitor opens its store with ``start_away=True``: a server that cannot be reached at
start (refused, timed out, not resolved, starting up; not a refused login, a missing
database or a newer schema, which stay one sentence) leaves the store *away* from the
start: every call is refused at once, the reads of the first screen come from this
machine's copy (:mod:`.mirror`), and the first listening connection that succeeds does
what the start could not (the schema check or migration, the pool) before it listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Self

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from tui.core.teamstore.address import APP_NAME_PREFIX, KEEPALIVES, StoreAddress
from tui.core.teamstore.changes import channel_for, payloads, write_key
from tui.core.teamstore.errors import (
    ServerGone,
    TeamStoreError,
    TeamStoreUnreachable,
    cause,
    connect_failure,
    query_failure,
    unreachable,
)
from tui.core.teamstore.migrations import (
    SCHEMA_VERSION,
    migrate,
    newer_schema_message,
    schema_version,
)
from tui.core.teamstore.mirror import TeamMirror
from tui.core.teamstore.rows import COLUMNS, decode_rows, marks_of
from tui.core.watchlist.rows import WatchedConversion

__all__ = ["AWAY_RETRY_MAX", "POOL_WAIT", "TeamConnection"]

log = logging.getLogger(__name__)

AWAY_RETRY_MAX = 30.0
"""Seconds at most that calls fail at once, without trying, after the database was away."""
_OWN_SEQS_KEPT = 4096
POOL_WAIT = 5.0
"""Seconds at most to wait for a pooled connection (the server stopped: not 10 s a call)."""

class TeamConnection:
    """A pool of connections to one team database, for one profile (``base_url``), on
    behalf of ``person``; its rows are :class:`~tui.core.teamstore.store.TeamStore`'s."""

    def __init__(self, address: StoreAddress, base_url: str, person: str | None, *,
                 max_connections: int = 4, connect_timeout: float = 10.0,
                 migrate_schema: bool = True, start_away: bool = False,
                 mirror: TeamMirror | None = None) -> None:
        self.address = address
        self.base_url = base_url
        self.person = person
        self.channel = channel_for(base_url)
        self.mirror = mirror
        self._write_key = write_key(base_url)
        self._connect_timeout = max(1, round(connect_timeout))
        self._max_connections = max_connections
        self._migrate = migrate_schema
        self._kwargs = address.connect_kwargs(f"{APP_NAME_PREFIX} {person or '?'}")
        self._secret = self._kwargs.get("password") or address.password_hint()
        self._away_since: float | None = None  # unix time the database went away
        self._away_for = 0.0  # seconds calls fail at once, doubling while it stays away
        self._try_at = 0.0  # monotonic time a call may try again
        self._probing = False  # a thread tries the database for the event loop's calls
        # Change numbers of this pool's own writes: a leader's LISTEN skips their echo.
        self._own_seqs: set[int] = set()
        self._pool: ConnectionPool | None = None  # None until the database was reached
        self.database = ""  # which database, once reached (see _set_up)
        self._from_copy = False
        self._opening = threading.Lock()
        # The first connection is made directly: a refused login or an unreachable server
        # fails at once with its reason (a pool would retry until its timeout and say only
        # that it timed out). It checks or brings up the schema, then the pool opens.
        try:
            first = psycopg.connect(address.url, autocommit=True,
                                    connect_timeout=self._connect_timeout, **self._kwargs)
        except psycopg.Error as error:
            if not (start_away and unreachable(error)):
                raise TeamStoreError(self._unreachable(error)) from None
            # Info, not a warning: before the screen is up a warning is printed on the
            # terminal, and seen again only after quitting, long after it stopped being
            # true; the banner says it while it is.
            log.info("%s", self._unreachable(error))
            self._went_away()  # the first listening connection that works opens it
            self._from_copy = True  # the first catch-up starts from the copy's number
            return
        with first:
            self._set_up(first)

    def _set_up(self, first: psycopg.Connection[Any]) -> None:
        """Check or bring up the schema on ``first``, then open the pool."""
        with self._translating("check the tables"):
            self._check_schema(first, self._migrate)
            # Which database this is: its OID and when it was set up (a database made
            # again at the same address has others), for this machine's copy.
            row = first.execute(
                "SELECT (SELECT oid FROM pg_database WHERE datname = current_database()), "
                "(SELECT extract(epoch FROM applied_at)::text FROM schema_version "
                "WHERE version = 1)").fetchone()
            self.database = f"{row[0]}:{row[1]}" if row else ""
        # check: a connection the server closed (restart, pg_terminate_backend) is
        # replaced when taken, not handed out to fail. reconnect_timeout: the pool's own
        # tries back off without a cap (1, 2, 4 … 32 s), so after half a minute away its
        # next one could come half a minute after the server is back; given up soon
        # instead, the next call that needs a connection tries at once.
        pool = ConnectionPool(
            self.address.url, kwargs={**self._kwargs, **KEEPALIVES,
                                      "connect_timeout": self._connect_timeout},
            min_size=1, max_size=self._max_connections, open=False, name="teamstore",
            timeout=min(self._connect_timeout, POOL_WAIT),
            check=self._check_pooled, reconnect_timeout=POOL_WAIT)
        pool.open(wait=False)
        self._pool = pool

    @property
    def opened(self) -> bool:
        """Whether the database was reached in this run (a store that started away is not,
        until its first listening connection succeeds)."""
        return self._pool is not None

    @staticmethod
    def _check_schema(conn: psycopg.Connection[Any], migrate_schema: bool) -> None:
        if migrate_schema:
            migrate(conn)
            return
        version = schema_version(conn)
        if version > SCHEMA_VERSION:
            raise TeamStoreError(newer_schema_message(version))
        if version < SCHEMA_VERSION:
            raise TeamStoreError(
                f"The team database has schema {version}, older than this app's "
                f"{SCHEMA_VERSION}: run conversions-tui team migrate.")

    def __repr__(self) -> str:
        return f"TeamStore({self.address.display!r}, profile={self.base_url!r})"

    def _unreachable(self, error: BaseException) -> str:
        if isinstance(error, psycopg.Error):
            return connect_failure(self.address.display, error, self._secret)
        return (f"The team database cannot be reached (no connection within the timeout) "
                f"at {self.address.display}: check the address and that the server is up.")

    def _away_reason(self, error: psycopg.Error) -> str:
        """Why the database cannot be reached, in plain words: the pool's timeout says
        only how long it waited, in its own wording ("couldn't get a connection after
        5.00 sec")."""
        if isinstance(error, PoolTimeout):
            return f"no connection within {min(self._connect_timeout, POOL_WAIT):g} s"
        return cause(error, self._secret)

    def away_refusal(self, action: str) -> TeamStoreError | None:
        """The refusal an ``action`` meets while the database is known to be away (a
        call failed, and none succeeded since), to refuse before asking anything (a
        delete's confirmation); None while it is not known away."""
        words = self._away_words(action)
        return None if words is None else TeamStoreError(f"{words}.")

    def _away_words(self, action: str) -> str | None:
        """"Could not ACTION: the team database … cannot be reached since HH:MM" while
        it is away (no end stop), else None."""
        since = self._away_since
        if since is None:
            return None
        return (f"Could not {action}: the team database {self.address.display} cannot be "
                f"reached since {time.strftime('%H:%M', time.localtime(since))}")

    @property
    def away_since(self) -> float | None:
        """Since when (unix time) the database cannot be reached; None while it can."""
        return self._away_since

    def _went_away(self) -> None:
        if self._away_since is None:
            self._away_since, self._away_for = time.time(), 1.0
        else:
            self._away_for = min(self._away_for * 2, AWAY_RETRY_MAX)
        self._try_at = time.monotonic() + self._away_for

    def _came_back(self) -> None:
        self._away_since = None

    def _refuse_while_away(self, action: str) -> None:
        since = self._away_since
        # Never reached in this run: only the follower's listening connection tries (in
        # its thread); after that, a call on the event loop is refused while a thread
        # tries for it, so none waits for a connection timeout with the screen.
        if since is not None and (self._pool is None or time.monotonic() < self._try_at
                                  or self._tried_off_the_loop()):
            self.refuse_while_away(action)

    def refuse_while_away(self, action: str) -> None:
        """Raise the away sentence for ``action`` while the database is away, before
        anything is tried (an upload must not send what could not be recorded)."""
        words = self._away_words(action)
        if words is not None:
            raise TeamStoreError(
                f"{words}; nothing was changed, and the app reconnects by itself.")

    def _check_pooled(self, conn: psycopg.Connection[Any]) -> None:
        """The pool's check of a connection it hands out. One found dead (the server
        went away, or that session was ended) is replaced by the pool, which waits for a
        new one up to its timeout: a new connection is tried at once here instead, and
        when that is refused too the server is gone, and the call fails now (the event
        loop's caller would wait with the screen)."""
        try:
            ConnectionPool.check_connection(conn)
        except psycopg.Error:
            # No longer than the pool would have waited (a server that does not answer
            # at all, rather than refusing).
            wait = max(1, round(min(self._connect_timeout, POOL_WAIT)))
            try:
                psycopg.connect(self.address.url, autocommit=True, connect_timeout=wait,
                                **self._kwargs).close()
            except psycopg.Error as refused:
                raise ServerGone(refused) from None
            raise  # only that session ended: the pool replaces it

    def _tried_off_the_loop(self) -> bool:
        """While away, a call on an event loop's thread never tries the database itself
        (a pooled connection is waited for up to the pool's timeout, and the screen with
        it): a thread tries once for it (a new connection: refused at once while the
        server is down) and this call is refused. True when this call is to be refused;
        off a loop (a worker thread, the CLI), False: the call tries."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        if not self._probing:
            self._probing = True
            threading.Thread(target=self._probe, name="teamstore-probe", daemon=True).start()
        return True

    def _probe(self) -> None:
        try:
            self.connect_listener().close()  # back: _came_back; still away: _went_away
        except TeamStoreError:
            pass
        finally:
            self._probing = False

    @contextlib.contextmanager
    def _failing(self, action: str) -> Iterator[None]:
        """Turn driver errors into one sentence that says what we were doing; while the
        database is away, refuse at once."""
        self._refuse_while_away(action)
        with self._translating(action):
            yield
        if self._away_since is not None:
            self._came_back()

    @contextlib.contextmanager
    def _translating(self, action: str) -> Iterator[None]:
        """Driver errors as one sentence (a lost server also starts the away spell)."""
        try:
            yield
        except TeamStoreError:
            raise
        except ServerGone as gone:
            self._went_away()
            raise TeamStoreError(
                f"Could not {action}: the team database cannot be reached "
                f"({self._away_reason(gone.error)}) at {self.address.display}.") from None
        except psycopg.OperationalError as error:
            # The server is gone, shutting down or unreachable (the pool's timeout and
            # closure are OperationalErrors too).
            self._went_away()
            # The reason first: a narrow banner cuts the end of the sentence.
            raise TeamStoreError(
                f"Could not {action}: the team database cannot be reached "
                f"({self._away_reason(error)}) at {self.address.display}.") from None
        except psycopg.Error as error:
            raise TeamStoreError(query_failure(action, self.address.display, error,
                                               self._secret)) from None

    def _pooled(self) -> contextlib.AbstractContextManager[psycopg.Connection[Any]]:
        """A connection from the pool (refused while the database was never reached)."""
        if self._pool is None:
            raise TeamStoreError(
                f"The team database {self.address.display} has not been reached yet; "
                "nothing was changed, and the app reconnects by itself.")
        return self._pool.connection()

    @contextlib.contextmanager
    def _write(self, action: str) -> Iterator[tuple[psycopg.Connection[Any], int]]:
        """One write transaction and its change number. The profile's writes take turns
        (a lock held to the commit), so they commit in the order of their numbers, which a
        reader relies on to catch up (see :mod:`.changes`)."""
        with self._failing(action), self._pooled() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._write_key,))
            row = conn.execute("SELECT nextval('change_seq')").fetchone()
            assert row is not None
            seq = int(row[0])
            self._remember_own(seq)
            yield conn, seq

    def _remember_own(self, seq: int) -> None:
        own = self._own_seqs
        if len(own) >= _OWN_SEQS_KEPT:  # the oldest half: their echoes are long read
            own = self._own_seqs = {value for value in own if value > seq - _OWN_SEQS_KEPT // 2}
        own.add(seq)

    def wrote(self, seq: int) -> bool:
        """Whether change number ``seq`` is one of this store's own writes (recent ones)."""
        return seq in self._own_seqs

    def _notify(self, conn: psycopg.Connection[Any], seq: int, changed: Iterable[int] = (),
                removed: Iterable[int] = ()) -> None:
        for payload in payloads(seq, changed, removed):
            conn.execute("SELECT pg_notify(%s, %s)", (self.channel, payload))

    def _read(self, conn: psycopg.Connection[Any], ids: Sequence[int],
              lock: bool = False) -> dict[int, WatchedConversion]:
        cursor = conn.execute(
            f"SELECT {COLUMNS} FROM watched WHERE profile = %s AND id = ANY(%s)"
            + (" FOR UPDATE" if lock else ""),
            (marks_of(self.person), self.base_url, list(ids)))
        return {row.id: row for row in decode_rows(cursor)}

    def close(self) -> None:
        """Close every connection of the pool (and save this machine's copy)."""
        if self._pool is not None:
            self._pool.close()
        if self.mirror is not None:
            self.mirror.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def feed_seq(self) -> int:
        """The number of the profile's last committed write (0 before any); before the
        database was reached, the one this machine's copy is complete up to."""
        if not self.opened:
            return self.mirror.state().seq if self.mirror is not None else 0
        with self._failing("read the change counter"), self._pooled() as conn:
            return self._committed_seq(conn)

    def _committed_seq(self, conn: psycopg.Connection[Any]) -> int:
        # Not the sequence's last value: that counts writes not committed yet.
        row = conn.execute(
            "SELECT greatest((SELECT max(changed_seq) FROM watched WHERE profile = %s), "
            "(SELECT max(removed_seq) FROM unwatched WHERE profile = %s), 0)",
            (self.base_url, self.base_url)).fetchone()
        return int(row[0]) if row else 0

    def connection(self) -> contextlib.AbstractContextManager[psycopg.Connection[Any]]:
        """A pooled connection (for the change reader's batch reads and ``team status``)."""
        return self._pooled()

    def connect_listener(self) -> psycopg.Connection[Any]:
        """A new dedicated connection (autocommit), outside the pool, for LISTEN."""
        try:
            conn = psycopg.connect(self.address.url, autocommit=True, **KEEPALIVES,
                                   connect_timeout=self._connect_timeout, **self._kwargs)
        except psycopg.Error as error:
            self._went_away()
            raise TeamStoreUnreachable(self._unreachable(error)) from None
        if self._pool is None:  # started away: what the start could not do, first
            try:
                with self._opening:
                    if self._pool is None:
                        self._set_up(conn)
            except BaseException:
                conn.close()
                raise
        self._came_back()
        return conn

    def writing(self, action: str,
                ) -> contextlib.AbstractContextManager[tuple[psycopg.Connection[Any], int]]:
        """One write transaction and its change number, for the package's helpers (the
        import); they stamp rows with the number and call :meth:`notify` before the end."""
        return self._write(action)

    def notify(self, conn: psycopg.Connection[Any], seq: int, changed: Iterable[int] = (),
               removed: Iterable[int] = ()) -> None:
        """Notify the profile's channel of write ``seq`` (inside its transaction)."""
        self._notify(conn, seq, changed, removed)

    def failing(self, action: str) -> contextlib.AbstractContextManager[None]:
        """The store's error translation, for its helpers (reader, leader lock)."""
        return self._failing(action)
