"""The watchlist: every conversion the app watches, kept in SQLite per profile.

The API has no list call, so this table *is* the app's view of the world: each
watched ID with the last status envelope seen (file name, type, status, upload
date, warnings, errors, metadata and the raw JSON), when it was first seen,
last checked and last changed, a note, the last polling problem, and a history
of every status change seen, with its time.

Unwatching a row keeps it aside (table ``unwatched``, with its note, its last
known data and its history), so adding the ID again, or undoing the unwatch,
brings all of it back, for :data:`KEEP_UNWATCHED` (then the row and its history
go, so a file used for years does not keep everything ever watched). Schema 2
added that table; a file of schema 1 gains it, empty, the first time it is opened.

Change feed (schema 3): every write takes the next number of a counter kept in
the file (table ``feed``) and stamps it on the rows it writes (``changed_seq``;
``added_seq`` when it (re)adds them; ``removed_seq`` on rows it sets aside), so
another process reads only what changed after the number it last saw
(:meth:`Watchlist.changes_since`), and nothing at all (one ``PRAGMA
data_version``) while no other connection has written. Older files gain the
columns (zero) and the counter the first time they are opened.

Durability: stdlib ``sqlite3`` in WAL mode with ``synchronous=NORMAL``; each
batch of poll results is one transaction, so a crash or a kill loses at most
the batch being written, never half of one. Thread-safety: one connection made
with ``check_same_thread=False`` and a lock around every use, so the event loop
and worker threads may share a :class:`Watchlist`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from types import TracebackType
from typing import Any

from tui.api.models import StatusEnvelope

__all__ = [
    "DELETED_STATUS",
    "KEEP_UNWATCHED",
    "PollResult",
    "StatusChange",
    "WatchedConversion",
    "Watchlist",
    "WatchlistChanges",
    "WatchlistError",
]

DELETED_STATUS = "Deleted"
#: Seconds an unwatched row is kept (with its note and history) for watching it again.
KEEP_UNWATCHED = 90 * 86400.0
MAX_ID = 2**63 - 1
_SCHEMA_VERSION = 3

# The columns a watched row stores (the schema below lists them in this order).
_STORED = ("id, file_name, data_source_type, status, upload_date, warnings, errors, metadata, "
           "first_seen, last_checked, last_changed, note, last_problem, problem_count, "
           "delete_requested_at, deleted_at, not_found, raw, last_problem_at")

# Schema 2: rows unwatched, kept as they were (their history stays in status_history) so
# that watching the ID again brings the note and the history back.
# The stored row's columns after its id, the same in both tables (in _STORED's order).
_ROW_COLUMNS = """
    file_name TEXT,
    data_source_type TEXT,
    status TEXT,
    upload_date TEXT,
    warnings TEXT NOT NULL DEFAULT '[]',
    errors TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}',
    first_seen REAL NOT NULL,
    last_checked REAL,
    last_changed REAL,
    note TEXT,
    last_problem TEXT,
    problem_count INTEGER NOT NULL DEFAULT 0,
    delete_requested_at REAL,
    deleted_at REAL,
    not_found INTEGER NOT NULL DEFAULT 0,
    raw TEXT,
    last_problem_at REAL,
"""
_UNWATCHED_SCHEMA = """
CREATE TABLE IF NOT EXISTS unwatched (
    id INTEGER PRIMARY KEY,""" + _ROW_COLUMNS + """    unwatched_at REAL NOT NULL,
    removed_seq INTEGER NOT NULL DEFAULT 0
);
"""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS watched (
    id INTEGER PRIMARY KEY,""" + _ROW_COLUMNS + """    changed_seq INTEGER NOT NULL DEFAULT 0,
    added_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS status_history (
    id INTEGER NOT NULL,
    status TEXT NOT NULL,
    seen_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS status_history_by_id ON status_history (id, seen_at);
CREATE INDEX IF NOT EXISTS status_history_by_time ON status_history (seen_at);
""" + _UNWATCHED_SCHEMA

# Schema 3: the change feed. Columns an older file lacks, added by ALTER TABLE (zero: older
# than any number the counter hands out), then the counter and the indexes.
_FEED_COLUMNS = (("watched", "changed_seq"), ("watched", "added_seq"),
                 ("unwatched", "removed_seq"))
_FEED_SCHEMA = """
CREATE TABLE IF NOT EXISTS feed (seq INTEGER NOT NULL);
INSERT INTO feed (seq) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM feed);
CREATE INDEX IF NOT EXISTS watched_by_change ON watched (changed_seq);
CREATE INDEX IF NOT EXISTS unwatched_by_removal ON unwatched (removed_seq);
"""

_COLUMNS = (_STORED + ", "
            # Whether the row was seen entering its status: another status is on record
            # (history gets a row on each change, the first answer's included, and the
            # first answer says what the status is, not since when). Times are not
            # compared: two answers may share one, and the wall clock can step back.
            "EXISTS (SELECT 1 FROM status_history AS h "
            "WHERE h.id = watched.id AND h.status <> watched.status)")

# Positions in a row of _COLUMNS.
(_ID, _FILE, _TYPE, _STATUS, _UPLOADED, _WARNINGS, _ERRORS, _METADATA, _FIRST_SEEN, _CHECKED,
 _CHANGED, _NOTE, _PROBLEM, _PROBLEMS, _DELETE_REQUESTED, _DELETED, _NOT_FOUND, _RAW,
 _PROBLEM_AT, _ENTERED_SEEN) = range(20)

# Everything a poll result can change is rewritten from the new state, one statement for
# the batch; the note and the delete request belong to the user and are left alone.
_UPDATE = """
UPDATE watched SET file_name = ?, data_source_type = ?, status = ?, upload_date = ?,
    warnings = ?, errors = ?, metadata = ?, last_checked = ?, last_changed = ?,
    last_problem = ?, problem_count = ?, deleted_at = ?, not_found = ?, raw = ?,
    last_problem_at = ?, changed_seq = ?
WHERE id = ?
"""
_UPDATE_PARAMS = itemgetter(_FILE, _TYPE, _STATUS, _UPLOADED, _WARNINGS, _ERRORS, _METADATA,
                            _CHECKED, _CHANGED, _PROBLEM, _PROBLEMS, _DELETED, _NOT_FOUND, _RAW,
                            _PROBLEM_AT)
# Files made before the per-minute activity view lack this index; it is added on first use.
_TIME_INDEX = "CREATE INDEX IF NOT EXISTS status_history_by_time ON status_history (seen_at)"
# The previous status is one seek per change on (id, seen_at); rowid breaks ties of time.
_CHANGES_BETWEEN = """
SELECT h.id, (SELECT p.status FROM status_history AS p
              WHERE p.id = h.id AND (p.seen_at, p.rowid) < (h.seen_at, h.rowid)
              ORDER BY p.seen_at DESC, p.rowid DESC LIMIT 1),
       h.status, h.seen_at
FROM status_history AS h
WHERE h.seen_at >= ? AND h.seen_at < ? AND h.id IN (SELECT id FROM watched)
ORDER BY h.seen_at, h.rowid
"""
_SELECT_IDS = f"SELECT {_COLUMNS} FROM watched WHERE id IN (SELECT value FROM json_each(?))"
_IN_IDS = "id IN (SELECT value FROM json_each(?))"
# Unwatching moves rows aside; watching again moves them back (the history never moves).
_SET_ASIDE = (f"INSERT OR REPLACE INTO unwatched ({_STORED}, unwatched_at) "
              f"SELECT {_STORED}, ? FROM watched WHERE {_IN_IDS}")
_BRING_BACK = (f"INSERT INTO watched ({_STORED}, changed_seq, added_seq) "
               f"SELECT {_STORED}, ?, ? FROM unwatched WHERE {_IN_IDS}")
# The feed: rows written after a number (with whether they were (re)added after it too),
# and IDs set aside after it.
_CHANGED_SINCE = f"SELECT {_COLUMNS}, added_seq > ? FROM watched WHERE changed_seq > ?"
_REMOVED_SINCE = "SELECT id FROM unwatched WHERE removed_seq > ?"


class WatchlistError(Exception):
    """The watchlist file cannot be used (not a database, or from a newer version)."""


@dataclass(frozen=True, slots=True)
class WatchlistChanges:
    """What other connections wrote after a feed number (see :meth:`Watchlist.changes_since`).

    ``rows``: watched rows written since, as they are now (a note, a delete request, a
    poll result, an add); ``added``: those of them (re)added since; ``removed``: IDs
    unwatched since (and not watched again). ``seq``: the number to ask from next time.
    """

    seq: int
    rows: tuple[WatchedConversion, ...] = ()
    added: frozenset[int] = frozenset()
    removed: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rows or self.removed)


@dataclass(slots=True)
class WatchedConversion:
    """One watched conversion as last seen. Times are unix seconds; text is untrusted."""

    id: int
    file_name: str | None
    data_source_type: str | None
    status: str | None
    upload_date: str | None
    warnings: tuple[str, ...]
    errors: tuple[str, ...]
    metadata: dict[str, Any]
    first_seen: float
    last_checked: float | None
    last_changed: float | None
    note: str | None
    last_problem: str | None
    problem_count: int
    delete_requested_at: float | None
    deleted_at: float | None
    not_found: bool
    raw: str | None  # the last envelope as JSON text
    last_problem_at: float | None = None
    # Seen changing into its status (then ``last_changed`` is when); False when the status
    # is the one the first answer gave: the time in it counts from that answer, a bound.
    entered_seen: bool = False


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A status seen to change (``previous`` is None for the first status after adding)."""

    id: int
    previous: str | None
    current: str | None
    at: float


@dataclass(frozen=True, slots=True)
class PollResult:
    """The outcome of one status check, as the poller hands it over.

    Exactly one of: ``envelope`` (an answer), ``not_found`` (404), ``problem``
    (the check failed: a short safe sentence, e.g. a timeout).
    """

    id: int
    checked_at: float
    envelope: StatusEnvelope | None = None
    problem: str | None = None
    not_found: bool = False


class _Decoder:
    """Turns stored JSON text back into values, decoding each distinct text once.

    Rows often share the same warnings or metadata (none at all, most often),
    so one ``all()`` of 10,000 rows decodes a handful of texts, not 30,000.
    Tuples are shared between rows (they are immutable); each row gets its own
    metadata dict.
    """

    def __init__(self) -> None:
        self._texts: dict[str, tuple[str, ...]] = {"[]": ()}
        self._mappings: dict[str, dict[str, Any]] = {"{}": {}}

    def texts(self, encoded: str) -> tuple[str, ...]:
        found = self._texts.get(encoded)
        if found is None:
            found = self._texts[encoded] = tuple(str(item) for item in json.loads(encoded))
        return found

    def mapping(self, encoded: str) -> dict[str, Any]:
        found = self._mappings.get(encoded)
        if found is None:
            found = self._mappings[encoded] = dict(json.loads(encoded))
        return dict(found) if found else {}

    def item(self, row: Sequence[Any]) -> WatchedConversion:
        texts = self.texts
        return WatchedConversion(
            row[0], row[1], row[2], row[3], row[4], texts(row[5]), texts(row[6]),
            self.mapping(row[7]), row[8], row[9], row[10], row[11], row[12], row[13], row[14],
            row[15], bool(row[16]), row[17], row[18], bool(row[19]),
        )


def _encode_texts(items: Sequence[Any]) -> str:
    return json.dumps([str(item) for item in items], ensure_ascii=False) if items else "[]"


def _upload_date(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _raw_text(envelope: Any) -> str:
    # The real model keeps the body as received: no need to decode and encode it again.
    text = getattr(envelope, "raw_text", None)
    if isinstance(text, str):
        return text
    return json.dumps(envelope.raw, ensure_ascii=False, default=str)


def _checked_ids(ids: Iterable[int]) -> list[int]:
    given = list(ids)
    # Checked before removing duplicates: True and 1.0 would hide behind an equal 1.
    for value in given:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
            raise ValueError(f"{value!r} is not a conversion ID (1 to 2**63-1)")
    return list(dict.fromkeys(given))


class Watchlist:
    """The watched conversions of one profile, stored in ``db_path``.

    :meth:`all` answers from a snapshot kept in memory while the file is
    unchanged by anyone else (SQLite's ``data_version`` tells), so refreshing
    a 10,000-row table after each poll costs next to nothing. The items it
    returns are shared with that snapshot: read them, do not modify them (a
    change is made through the methods here and replaces the item, so an item
    already handed out never changes under its holder).
    """

    def __init__(self, db_path: Path) -> None:
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.RLock()
        self._snapshot: dict[int, WatchedConversion] | None = None
        self._snapshot_version = -1
        self._snapshot_sorted = True
        self._time_indexed = False
        # The feed: the counter as of this connection's last look (or write) and the
        # data_version then; while that stays, no other connection has written since.
        self._feed_seq = -1
        self._feed_version = -1
        self._seq_now = 0
        try:
            # isolation_level=None: we open transactions ourselves (BEGIN IMMEDIATE), so
            # a batch is one transaction and readers in other processes never wait on it.
            self._conn = sqlite3.connect(self.path, check_same_thread=False,
                                         isolation_level=None, timeout=10.0)
        except sqlite3.Error as error:
            raise WatchlistError(f"{self.path}: cannot be opened ({error})") from None
        try:
            self._prepare()
        except (sqlite3.DatabaseError, WatchlistError) as error:
            self._conn.close()
            if isinstance(error, WatchlistError):
                raise
            raise WatchlistError(f"{self.path}: not a usable watchlist ({error})") from None

    def _prepare(self) -> None:
        if os.name == "posix":
            try:
                os.chmod(self.path, 0o600)  # the -wal and -shm files take the same mode
            except OSError:
                pass
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > _SCHEMA_VERSION:
            raise WatchlistError(f"{self.path}: made by a newer version of conversions-tui "
                                 f"(schema {version}); upgrade to open it")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        if version == _SCHEMA_VERSION:
            return  # opening must not write: that would void other windows' snapshots
        # One transaction: two processes opening a new file at once are fine (the second
        # waits, then finds the columns there). Every CREATE is "IF NOT EXISTS", so the same
        # statements bring a schema 1 or 2 file up to date without touching its rows.
        with self._transaction() as conn:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            for table, column in _FEED_COLUMNS:
                present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} "
                                 "INTEGER NOT NULL DEFAULT 0")
            for statement in _FEED_SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def __repr__(self) -> str:
        return f"Watchlist({str(self.path)!r})"

    def close(self) -> None:
        """Close the database (further calls fail)."""
        with self._lock:
            self._snapshot = None
            self._conn.close()

    def __enter__(self) -> Watchlist:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # -- transactions and the snapshot -----------------------------------------------------

    def _data_version(self) -> int:
        # Changes only when *another* connection (another process, say) commits.
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def _next_seq(self, conn: sqlite3.Connection) -> int:
        """The feed number of the write in progress (call inside its transaction)."""
        conn.execute("UPDATE feed SET seq = seq + 1")
        self._seq_now = int(conn.execute("SELECT seq FROM feed").fetchone()[0])
        return self._seq_now

    def feed_seq(self) -> int:
        """The feed's number now: :meth:`changes_since` of it tells what comes after."""
        with self._lock:
            return self._look(None).seq

    def changes_since(self, seq: int) -> WatchlistChanges:
        """What was written to the file after feed number ``seq``, by other processes
        (and by this connection, when another wrote since the last look: such rows are
        current, just not news to the caller).

        While no other connection has written since the last look this is one
        ``PRAGMA data_version`` and answers "nothing"; else three indexed queries
        that read only the rows written since.
        """
        with self._lock:
            if self._data_version() == self._feed_version and seq >= self._feed_seq:
                return WatchlistChanges(max(seq, self._seq_now))
            return self._look(seq)

    def _look(self, seq: int | None) -> WatchlistChanges:
        """Read the counter (and with ``seq``, what changed after it) in one snapshot."""
        conn = self._conn
        conn.execute("BEGIN")
        try:
            now = int(conn.execute("SELECT seq FROM feed").fetchone()[0])
            version = self._data_version()  # of this snapshot: the read has begun
            if seq is None or seq >= now:
                changes = WatchlistChanges(now)
            else:
                decoder = _Decoder()
                rows: list[WatchedConversion] = []
                added: set[int] = set()
                for row in conn.execute(_CHANGED_SINCE, (seq, seq)):
                    rows.append(decoder.item(row))
                    if row[-1]:
                        added.add(row[_ID])
                removed = tuple(row[0] for row in conn.execute(_REMOVED_SINCE, (seq,)))
                changes = WatchlistChanges(now, tuple(rows), frozenset(added), removed)
        finally:
            conn.execute("COMMIT")
        self._feed_seq, self._feed_version, self._seq_now = now, version, now
        return changes

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _snapshot_usable(self) -> bool:
        """True when the snapshot still matches the file (call with the lock held)."""
        if self._snapshot is None:
            return False
        if self._data_version() != self._snapshot_version:
            self._snapshot = None  # someone else wrote: read everything again next time
            return False
        return True

    def _refresh(self, ids: Iterable[int]) -> None:
        """After our own write: bring the snapshot's items for ``ids`` up to date."""
        if not self._snapshot_usable():
            return
        assert self._snapshot is not None
        wanted = list(ids)
        decoder = _Decoder()
        rows = {row[_ID]: row for row in self._conn.execute(_SELECT_IDS, (json.dumps(wanted),))}
        for value in wanted:
            row = rows.get(value)
            if row is None:
                self._snapshot.pop(value, None)
            else:
                self._snapshot_sorted &= value in self._snapshot
                self._snapshot[value] = decoder.item(row)

    # -- membership ------------------------------------------------------------------------

    def add(self, ids: Iterable[int], *, note: str | None = None,
            at: float | None = None) -> list[int]:
        """Watch ``ids``; returns those that were not watched yet, in the order given.

        An ID unwatched before comes back as it was kept: its note, its last known
        data, its first-seen time and its history. ``note`` goes on every row of
        ``ids`` that has none, watched already or not (an upload's note reaches an ID
        pasted from a ticket before the upload made it).
        """
        wanted = _checked_ids(ids)
        first_seen = at if at is not None else time.time()
        # The lock spans the write and the snapshot update: another thread's write in
        # between would otherwise be overwritten in the snapshot by our older rows.
        with self._lock:
            with self._transaction() as conn:
                present = {row[0] for row in conn.execute(
                    f"SELECT id FROM watched WHERE {_IN_IDS}", (json.dumps(wanted),))}
                added = [value for value in wanted if value not in present]
                payload = json.dumps(added)
                seq = self._next_seq(conn)
                conn.execute(_BRING_BACK, (seq, seq, payload))
                conn.execute(f"DELETE FROM unwatched WHERE {_IN_IDS}", (payload,))
                if note:
                    # changed_seq: another monitor following this file sees the note too.
                    conn.execute("UPDATE watched SET note = ?, changed_seq = ? "
                                 f"WHERE note IS NULL AND {_IN_IDS}",
                                 (note, seq, json.dumps(wanted)))
                conn.executemany(
                    "INSERT OR IGNORE INTO watched (id, first_seen, note, changed_seq, "
                    "added_seq) VALUES (?, ?, ?, ?, ?)",
                    [(value, first_seen, note or None, seq, seq) for value in added])
            self._refresh(wanted if note else added)
        return added

    def remove(self, ids: Iterable[int], *, at: float | None = None) -> int:
        """Stop watching ``ids``; returns how many were watched.

        The rows are kept aside with their history: :meth:`add` of the same IDs
        brings them back (see :meth:`kept`).
        """
        wanted = [value for value in dict.fromkeys(ids) if isinstance(value, int)]
        payload = json.dumps(wanted)
        when = at if at is not None else time.time()
        with self._lock:
            with self._transaction() as conn:
                conn.execute(_SET_ASIDE, (when, payload))
                conn.execute(f"UPDATE unwatched SET removed_seq = ? WHERE {_IN_IDS}",
                             (self._next_seq(conn), payload))
                removed = conn.execute(f"DELETE FROM watched WHERE {_IN_IDS}",
                                       (payload,)).rowcount
                # Rows unwatched long ago go for good now, with their history.
                expired = when - KEEP_UNWATCHED
                conn.execute("DELETE FROM status_history WHERE id IN "
                             "(SELECT id FROM unwatched WHERE unwatched_at < ?)", (expired,))
                conn.execute("DELETE FROM unwatched WHERE unwatched_at < ?", (expired,))
            self._refresh(wanted)
        return int(removed)

    def kept(self, ids: Iterable[int]) -> set[int]:
        """Which of ``ids`` are unwatched rows kept aside (adding them brings them back)."""
        wanted = [value for value in dict.fromkeys(ids) if isinstance(value, int)]
        with self._lock:
            return {row[0] for row in self._conn.execute(
                f"SELECT id FROM unwatched WHERE {_IN_IDS}", (json.dumps(wanted),))}

    def ids(self) -> list[int]:
        """Every watched ID, ascending."""
        with self._lock:
            return [row[0] for row in self._conn.execute("SELECT id FROM watched ORDER BY id")]

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM watched").fetchone()[0])

    def __contains__(self, conversion_id: object) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM watched WHERE id = ?",
                                      (conversion_id,)).fetchone() is not None

    def get(self, conversion_id: int) -> WatchedConversion | None:
        """One watched conversion (read from the file), or None when it is not watched."""
        with self._lock:
            row = self._conn.execute(f"SELECT {_COLUMNS} FROM watched WHERE id = ?",
                                     (conversion_id,)).fetchone()
        return _Decoder().item(row) if row else None

    def get_many(self, ids: Iterable[int]) -> dict[int, WatchedConversion]:
        """Several watched conversions by ID: from the snapshot when it is current (the
        poller reads back what it just recorded), else in one query."""
        wanted = [value for value in dict.fromkeys(ids) if isinstance(value, int)]
        with self._lock:
            if self._snapshot_usable():
                assert self._snapshot is not None
                snapshot = self._snapshot
                return {i: snapshot[i] for i in wanted if i in snapshot}
            decoder = _Decoder()
            return {row[_ID]: decoder.item(row)
                    for row in self._conn.execute(_SELECT_IDS, (json.dumps(wanted),))}

    def all(self) -> list[WatchedConversion]:
        """Every watched conversion, by ID (shared snapshot items: do not modify them)."""
        with self._lock:
            if not self._snapshot_usable():
                version = self._data_version()
                decoder = _Decoder()
                rows = self._conn.execute(f"SELECT {_COLUMNS} FROM watched ORDER BY id")
                self._snapshot = {row[_ID]: decoder.item(row) for row in rows}
                self._snapshot_version = version
                self._snapshot_sorted = True
            assert self._snapshot is not None
            if not self._snapshot_sorted:
                self._snapshot = dict(sorted(self._snapshot.items()))
                self._snapshot_sorted = True
            return list(self._snapshot.values())

    def history(self, conversion_id: int) -> list[tuple[str, float]]:
        """Every status change seen for ``conversion_id``: (status, seen_at), oldest first."""
        with self._lock:
            return [(row[0], row[1]) for row in self._conn.execute(
                "SELECT status, seen_at FROM status_history WHERE id = ? "
                "ORDER BY seen_at, rowid", (conversion_id,))]

    def changes_between(self, start: float, end: float) -> list[StatusChange]:
        """Every recorded status change with ``start <= at < end``, of any watched ID,
        oldest first. ``previous`` is the status recorded before it (None for the first
        status seen after adding, which says what it was, not that it changed)."""
        with self._lock:
            self._ensure_time_index()
            return [StatusChange(row[0], row[1], row[2], row[3]) for row in self._conn.execute(
                _CHANGES_BETWEEN, (start, end))]

    def _ensure_time_index(self) -> None:
        """Add the by-time index to an older file, once (call with the lock held)."""
        if self._time_indexed:
            return
        self._time_indexed = True
        present = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?",
            ("status_history_by_time",)).fetchone()
        if present is not None:
            return
        try:
            with self._transaction() as conn:
                conn.execute(_TIME_INDEX)
        except sqlite3.OperationalError:
            pass  # read-only or busy file: the query still works, by a scan

    # -- user actions ----------------------------------------------------------------------

    def _update_one(self, conversion_id: int, assignments: str,
                    params: tuple[Any, ...] = ()) -> None:
        with self._lock:
            with self._transaction() as conn:
                conn.execute(f"UPDATE watched SET {assignments}, changed_seq = ? WHERE id = ?",
                             (*params, self._next_seq(conn), conversion_id))
            self._refresh([conversion_id])

    def set_note(self, conversion_id: int, note: str | None) -> None:
        """Attach a note (an empty note removes it)."""
        self._update_one(conversion_id, "note = ?", (note or None,))

    def mark_delete_requested(self, conversion_id: int, at: float) -> None:
        """Record that a delete was accepted; a later 404 then means "Deleted"."""
        self._update_one(conversion_id, "delete_requested_at = ?", (at,))

    def clear_delete_requested(self, conversion_id: int) -> None:
        """Forget a delete request (it was refused, e.g. 409 while Processing)."""
        self._update_one(conversion_id, "delete_requested_at = NULL")

    def record_problem(self, conversion_id: int, message: str, at: float) -> None:
        """Count a failed check; the last known data stays as it was."""
        self._update_one(conversion_id, "last_problem = ?, last_problem_at = ?, "
                         "problem_count = problem_count + 1", (message, at))

    # -- polling ---------------------------------------------------------------------------

    def record_results(self, results: Sequence[PollResult]) -> list[StatusChange]:
        """Store a batch of poll results in one transaction; returns the status changes.

        Results for IDs no longer watched are ignored. With several results for
        one ID in a batch, they apply in order.
        """
        if not results:
            return []
        changes: list[StatusChange] = []
        history: list[tuple[int, str, float]] = []
        with self._lock:
            with self._transaction() as conn:
                state: dict[int, list[Any]] = {
                    row[_ID]: list(row) for row in conn.execute(
                        _SELECT_IDS, (json.dumps([result.id for result in results]),))
                }
                for result in results:
                    row = state.get(result.id)
                    if row is None:
                        continue
                    before = row[_STATUS]
                    _apply(row, result)
                    if row[_STATUS] != before:
                        row[_CHANGED] = result.checked_at
                        row[_ENTERED_SEEN] = before is not None
                        changes.append(StatusChange(result.id, before, row[_STATUS],
                                                    result.checked_at))
                        history.append((result.id, row[_STATUS], result.checked_at))
                seq = self._next_seq(conn)
                conn.executemany(_UPDATE, [(*_UPDATE_PARAMS(row), seq, row[_ID])
                                           for row in state.values()])
                conn.executemany(
                    "INSERT INTO status_history (id, status, seen_at) VALUES (?, ?, ?)", history)
            # The rows are already in hand: no need to read them back.
            if self._snapshot_usable():
                assert self._snapshot is not None
                decoder = _Decoder()
                for key, row in state.items():
                    self._snapshot[key] = decoder.item(row)
        return changes


def _apply(row: list[Any], result: PollResult) -> None:
    """Fold one result into a row of last known state (in place)."""
    at = result.checked_at
    if result.problem is not None:
        # A failed check says nothing about the conversion: keep what we knew.
        row[_PROBLEM] = result.problem
        row[_PROBLEMS] += 1
        row[_PROBLEM_AT] = at
        return
    row[_CHECKED] = at
    row[_PROBLEM] = None
    row[_PROBLEMS] = 0
    row[_PROBLEM_AT] = None
    if result.not_found:
        if row[_DELETE_REQUESTED] is not None:
            # After our own delete request a 404 is the confirmation (the server purged it).
            row[_STATUS] = DELETED_STATUS
            row[_DELETED] = row[_DELETED] or at
        # Kept as the fact it is, with the last status known: statuses.read_status says
        # what it means (after Deleted: "Deleted, purged"; else "not found").
        row[_NOT_FOUND] = 1
        return
    envelope = result.envelope
    if envelope is None:
        return
    row[_NOT_FOUND] = 0
    row[_WARNINGS] = _encode_texts(envelope.warnings)
    row[_ERRORS] = _encode_texts(envelope.errors)
    row[_METADATA] = (json.dumps(envelope.metadata, ensure_ascii=False, default=str)
                      if envelope.metadata else "{}")
    row[_RAW] = _raw_text(envelope)
    payload = envelope.payload
    if payload is None:
        return
    row[_FILE] = payload.file_name
    row[_TYPE] = payload.data_source_type
    row[_STATUS] = payload.status
    row[_UPLOADED] = _upload_date(payload.upload_date)
    if payload.status == DELETED_STATUS and row[_DELETED] is None:
        row[_DELETED] = at
