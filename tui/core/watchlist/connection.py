"""One open watchlist file: :class:`WatchlistConnection`, what :class:`~.store.Watchlist`
is built on.

It holds the SQLite connection and the lock around every use of it, opens write
transactions, numbers each write in the file's change feed, and keeps the in-memory
snapshot of the rows current after this connection's own writes. What the watchlist
reads and writes, in the domain's words, is in :mod:`.store`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tui.core.watchlist import schema as sql
from tui.core.watchlist.decoding import RowDecoder
from tui.core.watchlist.reads import data_version, read_feed
from tui.core.watchlist.rows import WatchedConversion, WatchlistChanges
from tui.core.watchlist.schema import WatchlistError, prepare


class WatchlistConnection:
    """The connection to one watchlist file, its transactions, feed and snapshot.

    Thread-safety: one connection made with ``check_same_thread=False`` and a lock
    around every use, so the event loop and worker threads may share it.
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
        # Message search: whether the file has its FTS index, and which rows' messages
        # this connection saw rewritten, with when (a count of rewrites): an answer found
        # before a row's rewrite does not hold for that row any more (MessageMatches).
        self._indexed = False
        self._rewrites = [0]  # a cell: searches' answers read it live
        self._rewritten: dict[int, int] = {}
        try:
            # isolation_level=None: we open transactions ourselves (BEGIN IMMEDIATE), so
            # a batch is one transaction and readers in other processes never wait on it.
            self._conn = sqlite3.connect(self.path, check_same_thread=False,
                                         isolation_level=None, timeout=10.0)
        except sqlite3.Error as error:
            raise WatchlistError(f"{self.path}: cannot be opened ({error})") from None
        try:
            with self._lock:
                self._indexed = prepare(self._conn, self.path)
        except (sqlite3.DatabaseError, WatchlistError) as error:
            self._conn.close()
            if isinstance(error, WatchlistError):
                raise
            raise WatchlistError(f"{self.path}: not a usable watchlist ({error})") from None

    # -- transactions and the snapshot -----------------------------------------------------

    def _data_version(self) -> int:
        return data_version(self._conn)

    def _next_seq(self, conn: sqlite3.Connection) -> int:
        """The feed number of the write in progress (call inside its transaction)."""
        (self._seq_now,) = conn.execute("UPDATE feed SET seq = seq + 1 RETURNING seq").fetchone()
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
        changes, version = read_feed(self._conn, seq, self)
        self._feed_seq, self._feed_version, self._seq_now = changes.seq, version, changes.seq
        # Rows another process wrote may have new messages: searched in memory from now.
        self._mark_rewritten(row.id for row in changes.rows)
        return changes

    def _mark_rewritten(self, ids: Iterable[int]) -> None:
        """Note that the messages of ``ids`` changed now (call with the lock held)."""
        marks = list(ids)
        if marks:
            self._rewrites[0] += 1
            self._rewritten.update(dict.fromkeys(marks, self._rewrites[0]))

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

    def _read(self, ids: list[int]) -> dict[int, WatchedConversion]:
        """The watched rows among ``ids``, read from the file (call with the lock held)."""
        cursor = self._conn.execute(sql.SELECT_IDS, (json.dumps(ids),))
        return {item.id: item for item in RowDecoder(self).items(cursor)}

    def _refresh(self, ids: Iterable[int]) -> None:
        """After our own write: bring the snapshot's items for ``ids`` up to date."""
        if not self._snapshot_usable():
            return
        assert self._snapshot is not None
        wanted = list(ids)
        rows = self._read(wanted)
        for value in wanted:
            item = rows.get(value)
            if item is None:
                self._snapshot.pop(value, None)
            else:
                self._snapshot_sorted &= value in self._snapshot
                self._snapshot[value] = item

    def raw_of(self, conversion_id: int) -> str | None:
        """The last envelope stored for ``conversion_id`` (watched or set aside), as JSON
        text; None when there is none (or the file is closed). Rows read in bulk
        (:class:`StoredConversion`) read their ``raw`` here, when asked."""
        with self._lock:
            try:
                found = self._conn.execute(sql.SELECT_RAW, {"id": conversion_id}).fetchone()
            except sqlite3.ProgrammingError:  # closed: nothing more to read
                return None
        return None if found is None else found[0]

