"""The :class:`Watchlist`: the watched conversions of one profile, in one SQLite file.

Durability: stdlib ``sqlite3`` in WAL mode with ``synchronous=NORMAL``; each batch of poll
results is one transaction, so a crash or a kill loses at most the batch being written,
never half of one. Thread-safety: one connection made with ``check_same_thread=False`` and
a lock around every use, so the event loop and worker threads may share a Watchlist.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from types import TracebackType
from typing import Any

from tui.core.watchlist import grouping
from tui.core.watchlist import messages as stored_messages
from tui.core.watchlist import schema as sql
from tui.core.watchlist.connection import WatchlistConnection
from tui.core.watchlist.decoding import RowDecoder
from tui.core.watchlist.matches import MessageMatches
from tui.core.watchlist.reads import status_changes
from tui.core.watchlist.rows import (
    PollResult,
    RecordedResults,
    StatusChange,
    WatchedConversion,
    checked_ids,
    fold_results,
    int_ids,
    result_params,
)
from tui.core.watchlist.schema import WatchlistError

__all__ = ["KEEP_UNWATCHED", "MessageMatches", "Watchlist"]

#: Seconds an unwatched row is kept (with its note and history) for watching it again.
KEEP_UNWATCHED = 90 * 86400.0


class Watchlist(WatchlistConnection):
    """The watched conversions of one profile, stored in ``db_path``.

    Unwatching a row keeps it aside (with its note, its last known data and its history),
    so adding the ID again, or undoing the unwatch, brings all of it back, for
    :data:`KEEP_UNWATCHED`. Every write takes the next number of the file's change feed,
    so another process reads only what changed (:meth:`changes_since`).

    :meth:`all` answers from a snapshot kept in memory while the file is unchanged by
    anyone else (SQLite's ``data_version`` tells), so refreshing a 100,000-row table
    after each poll costs next to nothing. The items it returns are shared with that
    snapshot: read them, do not modify them (a change is made through the methods here
    and replaces the item, so an item already handed out never changes under its holder).
    """

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

    # -- membership ------------------------------------------------------------------------

    def add(self, ids: Iterable[int], *, note: str | None = None,
            at: float | None = None) -> list[int]:
        """Watch ``ids``; returns those that were not watched yet, in the order given.

        An ID unwatched before comes back as it was kept: its note, its last known
        data, its first-seen time and its history. ``note`` goes on every row of
        ``ids`` that has none, watched already or not (an upload's note reaches an ID
        pasted from a ticket before the upload made it).
        """
        wanted = checked_ids(ids)
        first_seen = at if at is not None else time.time()
        # The lock spans the write and the snapshot update: another thread's write in
        # between would otherwise be overwritten in the snapshot by our older rows.
        with self._lock:
            with self._transaction() as conn:
                present = {value for (value,) in conn.execute(
                    f"SELECT id FROM watched WHERE {sql.IN_IDS}", (json.dumps(wanted),))}
                added = [value for value in wanted if value not in present]
                payload = json.dumps(added)
                seq = self._next_seq(conn)
                conn.execute(sql.BRING_BACK, (seq, seq, payload))
                conn.execute(f"DELETE FROM unwatched WHERE {sql.IN_IDS}", (payload,))
                if note:
                    # changed_seq: another monitor following this file sees the note too.
                    conn.execute("UPDATE watched SET note = ?, changed_seq = ? "
                                 f"WHERE note IS NULL AND {sql.IN_IDS}",
                                 (note, seq, json.dumps(wanted)))
                conn.executemany(
                    "INSERT OR IGNORE INTO watched (id, first_seen, note, changed_seq, "
                    "added_seq) VALUES (?, ?, ?, ?, ?)",
                    [(value, first_seen, note or None, seq, seq) for value in added])
                grouping.refresh_problems(conn, payload)  # rows brought back: their groups
            self._refresh(wanted if note else added)
        return added

    def remove(self, ids: Iterable[int], *, at: float | None = None) -> int:
        """Stop watching ``ids``; returns how many were watched.

        The rows are kept aside with their history: :meth:`add` of the same IDs
        brings them back (see :meth:`kept`).
        """
        wanted = int_ids(ids)
        payload = json.dumps(wanted)
        when = at if at is not None else time.time()
        with self._lock:
            with self._transaction() as conn:
                conn.execute(sql.SET_ASIDE, (when, payload))
                conn.execute(f"UPDATE unwatched SET removed_seq = ? WHERE {sql.IN_IDS}",
                             (self._next_seq(conn), payload))
                removed = conn.execute(f"DELETE FROM watched WHERE {sql.IN_IDS}",
                                       (payload,)).rowcount
                grouping.refresh_problems(conn, payload)  # unwatched: in no group
                # Rows unwatched long ago go for good now, with their history.
                expired = when - KEEP_UNWATCHED
                gone = "SELECT id FROM unwatched WHERE unwatched_at < ?"
                conn.execute(f"DELETE FROM status_history WHERE id IN ({gone})", (expired,))
                stored_messages.forget(conn, gone, (expired,), self._indexed)
                conn.execute("DELETE FROM unwatched WHERE unwatched_at < ?", (expired,))
            self._refresh(wanted)
        return int(removed)

    def kept(self, ids: Iterable[int]) -> set[int]:
        """Which of ``ids`` are unwatched rows kept aside (adding them brings them back)."""
        with self._lock:
            return {value for (value,) in self._conn.execute(
                f"SELECT id FROM unwatched WHERE {sql.IN_IDS}", (json.dumps(int_ids(ids)),))}

    def ids(self) -> list[int]:
        """Every watched ID, ascending."""
        with self._lock:
            return [value for (value,) in self._conn.execute(
                "SELECT id FROM watched ORDER BY id")]

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM watched").fetchone()[0])

    def __contains__(self, conversion_id: object) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM watched WHERE id = ?",
                                      (conversion_id,)).fetchone() is not None

    # -- reading ---------------------------------------------------------------------------

    def get(self, conversion_id: int) -> WatchedConversion | None:
        """One watched conversion (read from the file), or None when it is not watched."""
        with self._lock:
            cursor = self._conn.execute(sql.SELECT_ONE, (conversion_id,))
            return next(RowDecoder().items(cursor), None)

    def get_many(self, ids: Iterable[int]) -> Mapping[int, WatchedConversion]:
        """Several watched conversions by ID (those not watched are left out): from the
        snapshot when it is current, else in one query."""
        wanted = int_ids(ids)
        with self._lock:
            if self._snapshot_usable():
                assert self._snapshot is not None
                snapshot = self._snapshot
                return {i: snapshot[i] for i in wanted if i in snapshot}
            return self._read(wanted)

    def head(self, count: int) -> list[WatchedConversion]:
        """The first ``count`` watched conversions by ID (read from the file): what a
        screen shows first, while :meth:`all` of 100,000 rows takes a second."""
        with self._lock:
            if self._snapshot_usable():
                assert self._snapshot is not None
                if self._snapshot_sorted:
                    return list(islice(self._snapshot.values(), max(count, 0)))
            cursor = self._conn.execute(f"{sql.SELECT_ALL} LIMIT ?", (max(count, 0),))
            return list(RowDecoder(self).items(cursor))

    def all(self) -> list[WatchedConversion]:
        """Every watched conversion, by ID (shared snapshot items: do not modify them)."""
        with self._lock:
            if not self._snapshot_usable():
                version = self._data_version()
                cursor = self._conn.execute(sql.SELECT_ALL)
                self._snapshot = {item.id: item for item in RowDecoder(self).items(cursor)}
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
            return [(status, seen_at) for status, seen_at in self._conn.execute(
                "SELECT status, seen_at FROM status_history WHERE id = ? "
                "ORDER BY seen_at, rowid", (conversion_id,))]

    def changes_between(self, start: float, end: float) -> list[StatusChange]:
        """Every recorded status change with ``start <= at < end``, of any watched ID,
        oldest first. ``previous`` is the status recorded before it (None for the first
        status seen after adding, which says what it was, not that it changed)."""
        return self._changes(sql.CHANGES_BETWEEN, start, end)

    def transitions_between(self, start: float, end: float) -> list[StatusChange]:
        """As :meth:`changes_between`, without the first status seen after adding (which
        says what a status was, not that it changed): what the activity strip counts."""
        return self._changes(sql.TRANSITIONS_BETWEEN, start, end)

    def _changes(self, query: str, start: float, end: float) -> list[StatusChange]:
        with self._lock:
            self._ensure_time_index()
            return status_changes(self._conn, query, start, end)

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
                conn.execute(sql.TIME_INDEX)
        except sqlite3.OperationalError:
            pass  # read-only or busy file: the query still works, by a scan

    # -- message search --------------------------------------------------------------------

    @property
    def message_index(self) -> bool:
        """Whether this file has its FTS5 message index (else ``msg:`` searches rows in
        memory: this SQLite lacks FTS5 or its trigram tokenizer)."""
        return self._indexed

    def message_matches(self, needles: Sequence[str]) -> MessageMatches | None:
        """Which rows have a stored error or warning holding one of ``needles`` (taken
        literally, in any case), from one FTS query; None when the index cannot answer
        (no index here, a needle shorter than three characters, or one found in very many
        distinct texts): test in memory."""
        folded = [needle.casefold() for needle in needles]
        if (not self._indexed or not folded
                or any(len(needle) < stored_messages.SHORTEST_NEEDLE
                       or not stored_messages.NOT_INDEXED.isdisjoint(needle)
                       for needle in folded)):
            return None
        with self._lock:
            try:
                found = stored_messages.matching(self._conn, folded)
            except sqlite3.Error:
                # The query is quoted so it cannot be bad; a damaged index must not
                # fail the filter: the rows in memory still give the answer.
                return None
            if found is None:
                return None
            return MessageMatches(found, self._rewritten, self._rewrites)

    # -- failures grouped by cause -----------------------------------------------------------

    def stored_groups(self) -> grouping.StoredGroups:
        """The Problems view's groups as the file holds them (each text masked when
        stored), with the watched rows as counted (one read transaction: one moment), to
        seed a :class:`~tui.core.problems.ProblemIndex` without masking every message.
        Raises WatchlistError when the file cannot answer (damaged, closed)."""
        with self._lock:
            try:
                self._conn.execute("BEGIN")
                try:
                    counts = [(kind, text, count) for kind, text, count
                              in self._conn.execute(grouping.GROUP_COUNTS)]
                    self.all()
                    assert self._snapshot is not None
                    rows = dict(self._snapshot)
                finally:
                    self._conn.execute("COMMIT")
            except sqlite3.Error as error:
                raise WatchlistError(f"{self.path}: the stored groups cannot be read "
                                     f"({error})") from None
        return grouping.StoredGroups(counts, rows, self.group_members)

    def group_members(self, kind: str, masked: str) -> frozenset[int]:
        """The watched rows in the group of ``kind`` ("error" or "warning") and masked
        text ``masked``, as the file holds it now."""
        with self._lock:
            return frozenset(value for (value,) in self._conn.execute(
                grouping.GROUP_MEMBERS, (kind, masked)))

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

    def mark_read(self, ids: Iterable[int], at: float) -> int:
        """The person looked at ``ids`` at ``at`` (see :mod:`tui.core.unread`): one
        transaction, seen by another monitor following the file. ``read_at`` never goes
        back (a look stamped earlier, by a window with a slower clock, changes nothing).
        Returns how many watched rows were stamped."""
        wanted = int_ids(ids)
        if not wanted:
            return 0
        with self._lock:
            with self._transaction() as conn:
                stamped = conn.execute(
                    "UPDATE watched SET read_at = max(coalesce(read_at, ?), ?), "
                    f"changed_seq = ? WHERE {sql.IN_IDS}",
                    (at, at, self._next_seq(conn), json.dumps(wanted))).rowcount
            self._refresh(wanted)
        return int(stamped)

    def record_problem(self, conversion_id: int, message: str, at: float) -> None:
        """Count a failed check; the last known data stays as it was."""
        self._update_one(conversion_id, "last_problem = ?, last_problem_at = ?, "
                         "problem_count = problem_count + 1", (message, at))

    # -- the user's attention marks -------------------------------------------------------

    def _update_many(self, ids: Iterable[int], assignments: str,
                     params: tuple[Any, ...] = ()) -> list[int]:
        """One UPDATE of the watched rows among ``ids``, in one transaction; stamped with
        the feed's next number (another monitor following the file sees it). Returns the
        IDs that were watched."""
        wanted = int_ids(ids)
        payload = json.dumps(wanted)
        with self._lock:
            with self._transaction() as conn:
                seq = self._next_seq(conn)
                found = {value for (value,) in conn.execute(
                    f"UPDATE watched SET {assignments}, changed_seq = ? "
                    f"WHERE {sql.IN_IDS} RETURNING id", (*params, seq, payload))}
            self._refresh(wanted)
        return [value for value in wanted if value in found]

    def acknowledge(self, ids: Iterable[int], at: float) -> list[int]:
        """Mark ``ids`` acknowledged ("I have this one") at ``at``; returns those watched.
        What that means for alerts and attention: :mod:`tui.core.attention`."""
        return self._update_many(ids, "acknowledged_at = ?", (at,))

    def clear_acknowledged(self, ids: Iterable[int]) -> list[int]:
        """Take the acknowledgement off ``ids``; returns those watched."""
        return self._update_many(ids, "acknowledged_at = NULL")

    def snooze(self, ids: Iterable[int], until: float | None) -> list[int]:
        """Snooze ``ids`` until ``until`` (None: end the snooze); returns those watched."""
        return self._update_many(ids, "snoozed_until = ?", (until,))

    # -- polling ---------------------------------------------------------------------------

    def record_results(self, results: Sequence[PollResult]) -> RecordedResults:
        """Store a batch of poll results in one transaction.

        Returns the status changes (a list, oldest first) and, in ``.rows``, every row
        written, as stored now. Results for IDs no longer watched are ignored. With
        several results for one ID in a batch, they apply in order.
        """
        if not results:
            return RecordedResults()
        with self._lock:
            with self._transaction() as conn:
                # Fresh items, handed to nobody yet: the results are folded into them.
                rows = self._read([result.id for result in results])
                before = {value: (row.errors, row.warnings, grouping.in_problems(row))
                          for value, row in rows.items()}
                changes = fold_results(rows, results)
                seq = self._next_seq(conn)
                conn.executemany(sql.UPDATE_RESULT,
                                 [result_params(row, seq) for row in rows.values()])
                # Most polls change no message: only rows whose lists changed are rewritten.
                rewritten = [(value, row.errors, row.warnings) for value, row in rows.items()
                             if before[value][:2] != (row.errors, row.warnings)]
                stored_messages.rewrite(conn, rewritten, self._indexed)
                # The groups of rows whose messages changed, or that left or joined them.
                regroup = [value for value, row in rows.items() if before[value] != (
                    row.errors, row.warnings, grouping.in_problems(row))]
                if regroup:
                    grouping.refresh_problems(conn, json.dumps(regroup))
                self._mark_rewritten(value for value, _, _ in rewritten)
                conn.executemany(
                    "INSERT INTO status_history (id, status, seen_at) VALUES (?, ?, ?)",
                    [(change.id, change.current, change.at) for change in changes])
            # The raw texts are in the file now: the rows read them from there if asked.
            for row in rows.values():
                row.raw = None
            # The rows are in hand: the snapshot takes them as they are.
            if self._snapshot_usable():
                assert self._snapshot is not None
                self._snapshot.update(rows)
        return RecordedResults(changes, rows)
