"""The team's rows as read, and this machine's copy kept in step: :class:`TeamRows`,
the reading half of :class:`~tui.core.teamstore.store.TeamStore`.

A whole list is read in one snapshot with the change number it is complete up to, and
replaces the copy (:mod:`.mirror`); a catch-up by the change counter (``changes_since``)
and the change reader's batches (``remember``) are applied to it, as are this app's own
writes (their rows, never the copy's number). Before the database was reached in this run
(a store that started away), the first screen's reads come from the copy.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from tui.core.teamstore.connection import TeamConnection
from tui.core.teamstore.rows import COLUMNS, decode_rows, marks_of
from tui.core.watchlist.rows import WatchedConversion, WatchlistChanges, int_ids

__all__ = ["TeamRows"]

log = logging.getLogger(__name__)


class TeamRows(TeamConnection):
    """Reading one profile's watched rows (see the module docstring)."""

    def _keep(self, rows: Iterable[WatchedConversion] = (), removed: Iterable[int] = (), *,
              seq: int) -> None:
        """This app's own write ``seq`` for this machine's copy at once (the change feed
        brings it again later): the rows, never the copy's number."""
        self.remember(rows, removed, since=seq, seq=seq)

    def _copy_of_another(self) -> bool:
        """Whether the copy shown at start came from another database at this address
        (made again since): then its number means nothing here. Asked once, at the
        first catch-up of a store that started away."""
        if not self._from_copy or self.mirror is None:
            return False
        self._from_copy = False
        saved = self.mirror.state().database
        return bool(saved and self.database and saved != self.database)

    def get_many(self, ids: Iterable[int]) -> dict[int, WatchedConversion]:
        """The watched rows among ``ids``, by ID (one query); before the database was
        reached in this run, this machine's copy of them."""
        if not self.opened:
            return self.mirror.get_many(ids) if self.mirror is not None else {}
        with self._failing("read conversions"), self._pooled() as conn:
            return self._read(conn, int_ids(ids))

    def added_since(self, ids: Iterable[int], seq: int) -> set[int]:
        """Which of ``ids`` were (re)added after change number ``seq``."""
        with self._failing("read conversions"), self._pooled() as conn:
            return {value for (value,) in conn.execute(
                "SELECT id FROM watched WHERE profile = %s AND id = ANY(%s) "
                "AND added_seq > %s", (self.base_url, int_ids(ids), seq))}

    def get(self, conversion_id: int) -> WatchedConversion | None:
        """One watched row, or None."""
        return self.get_many([conversion_id]).get(conversion_id)

    def head(self, count: int) -> list[WatchedConversion]:
        """The first ``count`` watched rows by ID (the first screen of a long list)."""
        if not self.opened:
            return self.mirror.head(count) if self.mirror is not None else []
        with self._failing("read the watchlist"), self._pooled() as conn:
            return self._rows(conn, "profile = %s ORDER BY id LIMIT %s",
                              (self.base_url, max(count, 0)))

    def all(self) -> list[WatchedConversion]:
        """Every watched row of the profile, by ID; before the database was reached in
        this run, this machine's copy (read-only: writes are refused meanwhile). Read
        rows replace the copy, with the change number of their snapshot."""
        if not self.opened:
            return self.mirror.rows() if self.mirror is not None else []
        with self._failing("read the watchlist"), self._pooled() as conn, \
                conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            seq = self._committed_seq(conn) if self.mirror is not None else 0
            rows = self._all_rows(conn)
        if self.mirror is not None:
            self.mirror.replace(rows, seq, self.database)
        return rows

    def _all_rows(self, conn: Any) -> list[WatchedConversion]:
        return self._rows(conn, "profile = %s ORDER BY id", (self.base_url,))

    def _rows(self, conn: Any, where: str, params: Sequence[Any]) -> list[WatchedConversion]:
        """The watched rows ``where`` says (a read of many), with this person's marks."""
        # The marks' seek a row lifts 10,000 rows over the planner's threshold for JIT
        # compiling, which then costs more than it saves (+80 ms measured): off for this
        # transaction only.
        conn.execute("SET LOCAL jit = off")
        return list(decode_rows(conn.execute(
            f"SELECT {COLUMNS} FROM watched WHERE {where}".encode(),
            (marks_of(self.person), *params))))

    def copy_saved_at(self) -> float | None:
        """While the database was not reached in this run, when this machine's copy of
        the rows shown was saved (None: there is none, or the rows are the database's)."""
        if self.opened or self.mirror is None:
            return None
        return self.mirror.state().saved_at

    def remember(self, rows: Iterable[WatchedConversion], removed: Iterable[int], *,
                 since: int, seq: int) -> None:
        """A change reader's batch (every change after ``since`` up to ``seq``) for this
        machine's copy; only queued."""
        if self.mirror is not None:
            self.mirror.apply(rows, removed, since=since, seq=seq)

    def changes_since(self, seq: int) -> WatchlistChanges:
        """Rows written and IDs removed after change number ``seq`` (catching up after a
        lost connection, when notifications were missed), read in one snapshot.

        A database whose counter never handed out ``seq`` was reset (or replaced) since
        that number was read: then every row comes, all as added, and the IDs this machine's
        copy holds that the database does not are removed."""
        with self._failing("read changes"), self._pooled() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            now = self._committed_seq(conn)
            # Not the committed number: a write that changed no row still notifies its
            # number. No number is ever handed out twice, unless the counter was reset.
            issued = conn.execute("SELECT CASE WHEN is_called THEN last_value ELSE 0 END "
                                  "FROM change_seq").fetchone()
            foreign = self._copy_of_another()
            if foreign or (issued is not None and int(issued[0]) < seq):
                every = self._all_rows(conn)
                reset = True
            else:
                reset = False
                rows = self._rows(conn, "profile = %s AND changed_seq > %s",
                                  (self.base_url, seq))
                added = {value for (value,) in conn.execute(
                    "SELECT id FROM watched WHERE profile = %s AND added_seq > %s",
                    (self.base_url, seq))}
                removed = tuple(value for (value,) in conn.execute(
                    "SELECT id FROM unwatched WHERE profile = %s AND removed_seq > %s",
                    (self.base_url, seq)))
        if reset:
            log.warning("the team database was reset or replaced (its counter is behind "
                        "%d, or the copy is another's): every row is read again", seq)
            present = {row.id for row in every}
            known = self.mirror.ids() if self.mirror is not None else set()
            if self.mirror is not None:
                self.mirror.replace(every, now, self.database)
            return WatchlistChanges(seq=now, rows=tuple(every), added=frozenset(present),
                                    removed=tuple(sorted(known - present)))
        self.remember(rows, removed, since=seq, seq=max(now, seq))
        return WatchlistChanges(seq=max(now, seq), rows=tuple(rows),
                                added=frozenset(added), removed=removed)
