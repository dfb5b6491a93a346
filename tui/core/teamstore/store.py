"""The team's watchlist in PostgreSQL: :class:`TeamStore`.

The same rows as the SQLite watchlist (decoded into :class:`WatchedConversion`), scoped
by the profile's base URL, with who did what. Every write is one transaction that takes a
number from the change counter, stamps the rows with it, and notifies the profile's
channel with the IDs (see :mod:`.changes`), so every other app on the database sees it.
Connections come from a small pool; a dedicated one listens (:class:`ChangeReader`).

Every database failure surfaces as :class:`TeamStoreError`, one sentence, without the
password (see :mod:`.errors`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from tui.core.teamstore.address import APP_NAME_PREFIX, KEEPALIVES, StoreAddress
from tui.core.teamstore.changes import channel_for, payloads, write_key
from tui.core.teamstore.errors import TeamStoreError, first_line
from tui.core.teamstore.migrations import (
    SCHEMA_VERSION,
    migrate,
    newer_schema_message,
    schema_version,
)
from tui.core.teamstore.rows import COLUMNS, KEPT, UPDATE_RESULT, decode_rows
from tui.core.watchlist.rows import (
    PollResult,
    RecordedResults,
    WatchedConversion,
    WatchlistChanges,
    checked_ids,
    fold_results,
    int_ids,
    result_params,
)

__all__ = ["DeleteRequests", "TeamStore"]

@dataclass(frozen=True)
class DeleteRequests:
    """What :meth:`TeamStore.request_delete` did: the rows now marked (by us), and those
    refused because a colleague asked first (ID -> (who, when, unix seconds))."""

    accepted: Mapping[int, WatchedConversion]
    refused: Mapping[int, tuple[str | None, float]] = field(default_factory=dict)


class TeamStore:
    """One profile's watched rows in a shared PostgreSQL database.

    ``person`` is who this app acts for (profile e-mail or OS user): it is written with
    every note, acknowledgement, delete request, add and audit entry.
    """

    def __init__(self, address: StoreAddress, base_url: str, person: str | None, *,
                 max_connections: int = 4, connect_timeout: float = 10.0,
                 migrate_schema: bool = True) -> None:
        self.address = address
        self.base_url = base_url
        self.person = person
        self.channel = channel_for(base_url)
        self._write_key = write_key(base_url)
        self._connect_timeout = max(1, round(connect_timeout))
        self._kwargs = address.connect_kwargs(f"{APP_NAME_PREFIX} {person or '?'}")
        self._secret = self._kwargs.get("password") or address.password_hint()
        # The first connection is made directly: a refused login or an unreachable server
        # fails at once with its reason (a pool would retry until its timeout and say only
        # that it timed out). It checks or brings up the schema, then the pool opens.
        try:
            first = psycopg.connect(address.url, autocommit=True,
                                    connect_timeout=self._connect_timeout, **self._kwargs)
        except psycopg.Error as error:
            raise TeamStoreError(self._unreachable(error)) from None
        with first, self._failing("set up the team database"):
            self._check_schema(first, migrate_schema)
        # check: a connection the server closed (restart, pg_terminate_backend) is
        # replaced when taken, not handed out to fail.
        self._pool = ConnectionPool(
            address.url, kwargs={**self._kwargs, **KEEPALIVES,
                                 "connect_timeout": self._connect_timeout},
            min_size=1, max_size=max_connections, open=False, name="teamstore",
            timeout=connect_timeout, check=ConnectionPool.check_connection)
        self._pool.open(wait=False)

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
        detail = first_line(error, self._secret) if isinstance(error, psycopg.Error) else (
            "no connection within the timeout")
        return (f"The team database {self.address.display} cannot be reached ({detail}): "
                "check the address, the password source and that the server is up.")

    @contextlib.contextmanager
    def _failing(self, action: str) -> Iterator[None]:
        """Turn driver errors into one sentence that says what we were doing."""
        try:
            yield
        except TeamStoreError:
            raise
        except psycopg.OperationalError as error:
            # The server is gone, shutting down or unreachable (the pool's timeout and
            # closure are OperationalErrors too).
            raise TeamStoreError(
                f"Could not {action}: the team database {self.address.display} cannot be "
                f"reached ({first_line(error, self._secret)}).") from None
        except psycopg.Error as error:
            raise TeamStoreError(
                f"Could not {action} in the team database {self.address.display} "
                f"({first_line(error, self._secret)}).") from None

    @contextlib.contextmanager
    def _write(self, action: str) -> Iterator[tuple[psycopg.Connection[Any], int]]:
        """One write transaction and its change number. The profile's writes take turns
        (a lock held to the commit), so they commit in the order of their numbers, which a
        reader relies on to catch up (see :mod:`.changes`)."""
        with self._failing(action), self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._write_key,))
            row = conn.execute("SELECT nextval('change_seq')").fetchone()
            assert row is not None
            yield conn, int(row[0])

    def _notify(self, conn: psycopg.Connection[Any], seq: int, changed: Iterable[int] = (),
                removed: Iterable[int] = ()) -> None:
        for payload in payloads(seq, changed, removed):
            conn.execute("SELECT pg_notify(%s, %s)", (self.channel, payload))

    def _read(self, conn: psycopg.Connection[Any], ids: Sequence[int],
              lock: bool = False) -> dict[int, WatchedConversion]:
        cursor = conn.execute(
            f"SELECT {COLUMNS} FROM watched WHERE profile = %s AND id = ANY(%s)"
            + (" FOR UPDATE" if lock else ""), (self.base_url, list(ids)))
        return {row.id: row for row in decode_rows(cursor)}

    def close(self) -> None:
        """Close every connection of the pool."""
        self._pool.close()

    def __enter__(self) -> TeamStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Writes: each returns what it wrote, as stored now.

    def watch(self, ids: Iterable[int], *, note: str | None = None,
              at: float | None = None) -> list[int]:
        """Watch ``ids`` (for the whole team); the IDs not watched before, in order. An ID
        unwatched before comes back with its note and history; ``note`` goes on every row
        of ``ids`` that has none."""
        wanted = checked_ids(ids)
        when = time.time() if at is None else at
        with self._write("watch conversions") as (conn, seq):
            present = {value for (value,) in conn.execute(
                "SELECT id FROM watched WHERE profile = %s AND id = ANY(%s)",
                (self.base_url, wanted))}
            added = [value for value in wanted if value not in present]
            conn.execute(
                f"INSERT INTO watched (profile, id, {KEPT}, changed_seq, added_seq) "
                f"SELECT profile, id, {KEPT}, %s, %s FROM unwatched "
                "WHERE profile = %s AND id = ANY(%s) ON CONFLICT DO NOTHING",
                (seq, seq, self.base_url, added))
            conn.execute("DELETE FROM unwatched WHERE profile = %s AND id = ANY(%s)",
                         (self.base_url, added))
            if note:
                conn.execute(
                    "UPDATE watched SET note = %s, note_by = %s, note_at = %s, "
                    "changed_seq = %s WHERE profile = %s AND id = ANY(%s) AND note IS NULL",
                    (note, self.person, when, seq, self.base_url, wanted))
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO watched (profile, id, first_seen, note, note_by, note_at, "
                    "added_by, changed_seq, added_seq) VALUES (%s, %s, %s, %s, %s, %s, %s, "
                    "%s, %s) ON CONFLICT DO NOTHING",
                    [(self.base_url, value, when, note or None,
                      self.person if note else None, when if note else None, self.person,
                      seq, seq) for value in added])
            self._notify(conn, seq, changed=wanted if note else added)
        return added

    def unwatch(self, ids: Iterable[int], *, at: float | None = None) -> int:
        """Stop watching ``ids`` for the team (rows kept aside with their history); how
        many were watched."""
        wanted = int_ids(ids)
        when = time.time() if at is None else at
        with self._write("unwatch conversions") as (conn, seq):
            conn.execute("DELETE FROM unwatched WHERE profile = %s AND id = ANY(%s)",
                         (self.base_url, wanted))
            moved = conn.execute(
                f"INSERT INTO unwatched (profile, id, {KEPT}, unwatched_at, unwatched_by, "
                f"removed_seq) SELECT profile, id, {KEPT}, %s, %s, %s FROM watched "
                "WHERE profile = %s AND id = ANY(%s)",
                (when, self.person, seq, self.base_url, wanted)).rowcount
            conn.execute("DELETE FROM watched WHERE profile = %s AND id = ANY(%s)",
                         (self.base_url, wanted))
            self._notify(conn, seq, removed=wanted)
        return int(moved)

    def _mark(self, action: str, assignments: str, params: Sequence[Any],
              ids: Iterable[int]) -> dict[int, WatchedConversion]:
        wanted = int_ids(ids)
        with self._write(action) as (conn, seq):
            conn.execute(f"UPDATE watched SET {assignments}, changed_seq = %s "
                         "WHERE profile = %s AND id = ANY(%s)",
                         (*params, seq, self.base_url, wanted))
            rows = self._read(conn, wanted)
            self._notify(conn, seq, changed=rows)
        return rows

    def set_note(self, ids: Iterable[int], note: str | None,
                 at: float | None = None) -> dict[int, WatchedConversion]:
        """Set (or clear, with None or "") the note of ``ids``, signed by this person."""
        when = time.time() if at is None else at
        text = note or None
        return self._mark("save the note", "note = %s, note_by = %s, note_at = %s",
                          (text, self.person if text else None, when if text else None), ids)

    def acknowledge(self, ids: Iterable[int], at: float | None = None,
                    ) -> dict[int, WatchedConversion]:
        """Mark ``ids`` acknowledged ("I have this one") by this person."""
        when = time.time() if at is None else at
        return self._mark("acknowledge", "acknowledged_at = %s, acknowledged_by = %s",
                          (when, self.person), ids)

    def snooze(self, ids: Iterable[int], until: float | None,
               ) -> dict[int, WatchedConversion]:
        """Snooze ``ids`` until ``until`` (None: wake them)."""
        return self._mark("snooze", "snoozed_until = %s", (until,), ids)

    def mark_read(self, ids: Iterable[int], at: float | None = None,
                  ) -> dict[int, WatchedConversion]:
        """Mark ``ids`` read."""
        when = time.time() if at is None else at
        return self._mark("mark read", "read_at = %s", (when,), ids)

    def request_delete(self, ids: Iterable[int], at: float | None = None) -> DeleteRequests:
        """Mark ``ids`` as being deleted by this person. Rows a colleague is already
        deleting are refused (with their name and time), never taken over."""
        wanted = int_ids(ids)
        when = time.time() if at is None else at
        with self._write("request the delete") as (conn, seq):
            rows = self._read(conn, wanted, lock=True)  # two deleters: one waits
            refused: dict[int, tuple[str | None, float]] = {}
            by = dict(conn.execute(
                "SELECT id, delete_requested_by FROM watched WHERE profile = %s AND "
                "id = ANY(%s) AND delete_requested_at IS NOT NULL",
                (self.base_url, wanted)).fetchall())
            for value, row in rows.items():
                if row.delete_requested_at is not None and by.get(value) != self.person:
                    refused[value] = (by.get(value), row.delete_requested_at)
            mine = [value for value in rows if value not in refused]
            conn.execute("UPDATE watched SET delete_requested_at = coalesce("
                         "delete_requested_at, %s), delete_requested_by = %s, "
                         "changed_seq = %s WHERE profile = %s AND id = ANY(%s)",
                         (when, self.person, seq, self.base_url, mine))
            accepted = self._read(conn, mine)
            self._notify(conn, seq, changed=accepted)
        return DeleteRequests(accepted, refused)

    def record_results(self, results: Sequence[PollResult]) -> RecordedResults:
        """Store a batch of poll results (the leader's); the status changes and the rows
        written, as for the SQLite watchlist."""
        if not results:
            return RecordedResults()
        with self._write("record poll results") as (conn, seq):
            rows = self._read(conn, [result.id for result in results], lock=True)
            changes = fold_results(rows, results)
            with conn.cursor() as cursor:
                cursor.executemany(UPDATE_RESULT, [
                    {**result_params(row, seq), "not_found": row.not_found,
                     "profile": self.base_url} for row in rows.values()])
                cursor.executemany(
                    "INSERT INTO status_history (profile, id, status, seen_at) "
                    "VALUES (%s, %s, %s, %s)",
                    [(self.base_url, change.id, change.current, change.at)
                     for change in changes])
            self._notify(conn, seq, changed=rows)
        return RecordedResults(changes, rows)

    def audit(self, action: str, ids: Iterable[int], outcome: str, detail: str | None = None,
              at: float | None = None) -> None:
        """Append one audit entry, signed by this person."""
        when = time.time() if at is None else at
        with self._failing("write the audit log"), self._pool.connection() as conn:
            conn.execute("INSERT INTO audit (profile, at, person, action, ids, outcome, "
                         "detail) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                         (self.base_url, when, self.person, action,
                          ",".join(str(value) for value in int_ids(ids)), outcome, detail))

    # Reads.

    def get_many(self, ids: Iterable[int]) -> dict[int, WatchedConversion]:
        """The watched rows among ``ids``, by ID (one query)."""
        with self._failing("read conversions"), self._pool.connection() as conn:
            return self._read(conn, int_ids(ids))

    def all(self) -> list[WatchedConversion]:
        """Every watched row of the profile, by ID."""
        with self._failing("read the watchlist"), self._pool.connection() as conn:
            return list(decode_rows(conn.execute(
                f"SELECT {COLUMNS} FROM watched WHERE profile = %s ORDER BY id",
                (self.base_url,))))

    def signatures(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """Who added, noted, acknowledged and asked to delete each of ``ids``."""
        with self._failing("read conversions"), self._pool.connection() as conn:
            cursor = conn.execute(
                "SELECT id, added_by, note_by, note_at, acknowledged_by, delete_requested_by "
                "FROM watched WHERE profile = %s AND id = ANY(%s)",
                (self.base_url, int_ids(ids)))
            names = [column.name for column in cursor.description or ()]
            return {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cursor}

    def feed_seq(self) -> int:
        """The number of the profile's last committed write (0 before any)."""
        with self._failing("read the change counter"), self._pool.connection() as conn:
            return self._committed_seq(conn)

    def _committed_seq(self, conn: psycopg.Connection[Any]) -> int:
        # Not the sequence's last value: that counts writes not committed yet.
        row = conn.execute(
            "SELECT greatest((SELECT max(changed_seq) FROM watched WHERE profile = %s), "
            "(SELECT max(removed_seq) FROM unwatched WHERE profile = %s), 0)",
            (self.base_url, self.base_url)).fetchone()
        return int(row[0]) if row else 0

    def changes_since(self, seq: int) -> WatchlistChanges:
        """Rows written and IDs removed after change number ``seq`` (catching up after a
        lost connection, when notifications were missed), read in one snapshot."""
        with self._failing("read changes"), self._pool.connection() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            now = self._committed_seq(conn)
            rows = list(decode_rows(conn.execute(
                f"SELECT {COLUMNS} FROM watched WHERE profile = %s AND changed_seq > %s",
                (self.base_url, seq))))
            added = {value for (value,) in conn.execute(
                "SELECT id FROM watched WHERE profile = %s AND added_seq > %s",
                (self.base_url, seq))}
            removed = tuple(value for (value,) in conn.execute(
                "SELECT id FROM unwatched WHERE profile = %s AND removed_seq > %s",
                (self.base_url, seq)))
        return WatchlistChanges(seq=max(now, seq), rows=tuple(rows),
                                added=frozenset(added), removed=removed)

    def history(self, conversion_id: int) -> list[tuple[str, float]]:
        """The statuses seen for one conversion, oldest first, with their times."""
        with self._failing("read the history"), self._pool.connection() as conn:
            return [(status, at) for status, at in conn.execute(
                "SELECT status, seen_at FROM status_history WHERE profile = %s AND id = %s "
                "ORDER BY seen_at, seq", (self.base_url, conversion_id))]

    def audit_entries(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest audit entries of the profile, newest first."""
        with self._failing("read the audit log"), self._pool.connection() as conn:
            cursor = conn.execute(
                "SELECT at, person, action, ids, outcome, detail FROM audit "
                "WHERE profile = %s ORDER BY seq DESC LIMIT %s", (self.base_url, limit))
            names = [column.name for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor]

    def connection(self) -> contextlib.AbstractContextManager[psycopg.Connection[Any]]:
        """A pooled connection (for the change reader's batch reads and ``team status``)."""
        return self._pool.connection()

    def connect_listener(self) -> psycopg.Connection[Any]:
        """A new dedicated connection (autocommit), outside the pool, for LISTEN."""
        try:
            return psycopg.connect(self.address.url, autocommit=True, **KEEPALIVES,
                                   connect_timeout=self._connect_timeout, **self._kwargs)
        except psycopg.Error as error:
            raise TeamStoreError(self._unreachable(error)) from None

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
