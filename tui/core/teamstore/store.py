"""The team's watchlist in PostgreSQL: :class:`TeamStore`.

The same rows as the SQLite watchlist (decoded into :class:`WatchedConversion`), scoped
by the profile's base URL, with who did what. Every write is one transaction that takes a
number from the change counter, stamps the rows with it, and notifies the profile's
channel with the IDs (see :mod:`.changes`), so every other app on the database sees it.
Connections come from a small pool (:mod:`.connection`); a dedicated one listens
(:class:`ChangeReader`). The reads, and this machine's copy of the rows, are
:mod:`.rowreads`'s.

Notes, acknowledgements, deletes and history are the team's; unread marks are each
person's (``read_marks``: a row's ``read_at`` is this app's person's look). A mark is no
change of the row: it takes no change number and notifies nobody, so a colleague's
screen neither redraws nor loses an unread mark when someone else looks.

Every database failure surfaces as :class:`TeamStoreError`, one sentence, without the
password (see :mod:`.errors`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui.core.teamstore.rowreads import TeamRows
from tui.core.teamstore.rows import (
    CHANGES_IN_WINDOW,
    KEPT,
    MARK_WATCHED_READ,
    UPDATE_RESULT,
    marks_of,
)
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

__all__ = ["DeleteRequests", "TeamStore"]


@dataclass(frozen=True)
class DeleteRequests:
    """What :meth:`TeamStore.request_delete` did: the rows now marked (by us), and those
    refused because a colleague asked first (ID -> (who, when, unix seconds))."""

    accepted: Mapping[int, WatchedConversion]
    refused: Mapping[int, tuple[str | None, float]] = field(default_factory=dict)


class TeamStore(TeamRows):
    """One profile's watched rows in a shared PostgreSQL database.

    ``person`` is who this app acts for (profile e-mail or OS user): it is written with
    every note, acknowledgement, delete request, add and audit entry.
    """

    # Writes: each returns what it wrote, as stored now.

    def add(self, ids: Iterable[int], *, note: str | None = None,
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

    def remove(self, ids: Iterable[int], *, at: float | None = None) -> int:
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
        self._keep(removed=wanted, seq=seq)
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
        self._keep(rows.values(), seq=seq)
        return rows

    def _mark_ids(self, action: str, assignments: str, params: Sequence[Any],
                  ids: Iterable[int]) -> list[int]:
        wanted = int_ids(ids)
        rows = self._mark(action, assignments, params, wanted)
        return [value for value in wanted if value in rows]

    def set_note(self, conversion_id: int, note: str | None, at: float | None = None) -> None:
        """Attach a note to one row (None or "" removes it), signed by this person."""
        self.set_notes([conversion_id], note, at)

    def set_notes(self, ids: Iterable[int], note: str | None,
                  at: float | None = None) -> dict[int, WatchedConversion]:
        """Set (or clear, with None or "") the note of ``ids`` in one write, signed by this
        person; the rows as stored now."""
        when = time.time() if at is None else at
        text = note or None
        return self._mark("save the note", "note = %s, note_by = %s, note_at = %s",
                          (text, self.person if text else None, when if text else None), ids)

    def acknowledge(self, ids: Iterable[int], at: float | None = None) -> list[int]:
        """Mark ``ids`` acknowledged ("I have this one") by this person; those watched."""
        when = time.time() if at is None else at
        return self._mark_ids("acknowledge", "acknowledged_at = %s, acknowledged_by = %s",
                              (when, self.person), ids)

    def clear_acknowledged(self, ids: Iterable[int]) -> list[int]:
        """Take the acknowledgement off ``ids``; those watched."""
        return self._mark_ids("take the acknowledgement off",
                              "acknowledged_at = NULL, acknowledged_by = NULL", (), ids)

    def snooze(self, ids: Iterable[int], until: float | None) -> list[int]:
        """Snooze ``ids`` until ``until`` (None: wake them); those watched."""
        return self._mark_ids("snooze", "snoozed_until = %s", (until,), ids)

    def mark_read(self, ids: Iterable[int], at: float | None = None) -> int:
        """Mark ``ids`` read at ``at`` by this person only (colleagues' unread marks stay,
        and are not told: see the module's docstring); ``read_at`` never goes back (a
        look stamped earlier, by an app with a slower clock, changes nothing). How many
        were watched."""
        when = time.time() if at is None else at
        wanted = int_ids(ids)
        with (self._failing("mark read"), self._pooled() as conn,
              conn.transaction()):
            marked = conn.execute(MARK_WATCHED_READ, {
                "person": marks_of(self.person), "at": when, "profile": self.base_url,
                "ids": wanted}).rowcount
        return int(marked)

    def mark_delete_requested(self, conversion_id: int, at: float) -> None:
        """Record that the server accepted this person's delete; a later 404 then means
        "Deleted" (see :meth:`request_delete` for the claim made before asking)."""
        self._mark("record the delete request",
                   "delete_requested_at = %s, delete_requested_by = %s",
                   (at, self.person), [conversion_id])

    def clear_delete_requested(self, conversion_id: int) -> None:
        """Forget a delete request (the server refused it, e.g. 409 while Processing)."""
        self._mark("forget the delete request",
                   "delete_requested_at = NULL, delete_requested_by = NULL", (),
                   [conversion_id])

    def record_problem(self, conversion_id: int, message: str, at: float) -> None:
        """Count a failed check; the last known data stays as it was."""
        self._mark("record the problem", "last_problem = %s, last_problem_at = %s, "
                   "problem_count = problem_count + 1", (message, at), [conversion_id])

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
        self._keep(accepted.values(), seq=seq)
        return DeleteRequests(accepted, refused)

    def claim_delete(self, conversion_id: int, at: float) -> tuple[str | None, float] | None:
        """Claim the delete of one row before sending it (see :meth:`request_delete`):
        None when it is ours now, else who asked first and when."""
        return self.request_delete([conversion_id], at).refused.get(conversion_id)

    def release_delete(self, conversion_id: int) -> None:
        """Give a claim back: the server did not accept the delete."""
        self.clear_delete_requested(conversion_id)

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
        self._keep(rows.values(), seq=seq)
        return RecordedResults(changes, rows)

    def audit(self, action: str, ids: Iterable[int], outcome: str, detail: str | None = None,
              at: float | None = None) -> int:
        """Append one audit entry, signed by this person; its number."""
        when = time.time() if at is None else at
        with self._failing("write the audit log"), self._pooled() as conn:
            row = conn.execute(
                "INSERT INTO audit (profile, at, person, action, ids, outcome, detail) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING seq",
                (self.base_url, when, self.person, action,
                 ",".join(str(value) for value in int_ids(ids)), outcome, detail)).fetchone()
        return int(row[0]) if row else 0

    # Reads.

    def message_matches(self, needles: Sequence[str]) -> None:
        """The ``msg:`` filter's index (the SQLite watchlist's FTS): none here, so the
        filter tests the rows in memory (always None)."""
        del needles
        return None

    def signatures(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """Who added, noted, acknowledged and asked to delete each of ``ids``."""
        with self._failing("read conversions"), self._pooled() as conn:
            cursor = conn.execute(
                "SELECT id, added_by, note_by, note_at, acknowledged_by, delete_requested_by "
                "FROM watched WHERE profile = %s AND id = ANY(%s)",
                (self.base_url, int_ids(ids)))
            names = [column.name for column in cursor.description or ()]
            return {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cursor}

    def history(self, conversion_id: int) -> list[tuple[str, float]]:
        """The statuses seen for one conversion, oldest first, with their times (none
        before the database was reached in this run: this machine's copy keeps none)."""
        if not self.opened:
            return []
        with self._failing("read the history"), self._pooled() as conn:
            return [(status, at) for status, at in conn.execute(
                "SELECT status, seen_at FROM status_history WHERE profile = %s AND id = %s "
                "ORDER BY seen_at, seq", (self.base_url, conversion_id))]

    def changes_between(self, start: float, end: float) -> list[StatusChange]:
        """Every recorded status change of a watched row with ``start <= at < end``,
        oldest first (``previous`` None: the first status seen after adding)."""
        return self._changes(start, end, transitions=False)

    def transitions_between(self, start: float, end: float) -> list[StatusChange]:
        """As :meth:`changes_between`, only changes from one status to another."""
        return self._changes(start, end, transitions=True)

    def _changes(self, start: float, end: float, *, transitions: bool) -> list[StatusChange]:
        if not self.opened:
            return []  # as for history(): the copy keeps none
        where = " WHERE previous IS NOT NULL" if transitions else ""
        with self._failing("read the history"), self._pooled() as conn:
            return [StatusChange(int(value), previous, current, at) for value, previous,
                    current, at in conn.execute(
                        f"SELECT id, previous, current, at FROM ({CHANGES_IN_WINDOW}) AS c"
                        f"{where} ORDER BY at, seq",
                        {"profile": self.base_url, "start": start, "end": end})]

    def audit_entries(self, limit: int = 100, *, action: str | None = None,
                      naming: int | None = None) -> list[dict[str, Any]]:
        """The newest audit entries of the profile, newest first; only ``action``'s, and
        only those naming the ID ``naming``, when given."""
        where, params = "profile = %s", [self.base_url]
        if action is not None:
            where, params = where + " AND action = %s", [*params, action]
        if naming is not None:
            where += " AND %s::text = ANY(string_to_array(ids, ','))"
            params = [*params, str(int(naming))]
        with self._failing("read the audit log"), self._pooled() as conn:
            cursor = conn.execute(
                "SELECT seq, at, person, action, ids, outcome, detail FROM audit "
                f"WHERE {where} ORDER BY seq DESC LIMIT %s", (*params, limit))
            names = [column.name for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor]


if TYPE_CHECKING:
    from tui.core.deletion import DeleteClaims
    from tui.core.watchstore import WatchStore

    def _is_a_watch_store(store: TeamStore) -> WatchStore:
        return store  # mypy checks that the team store serves the watch service

    def _claims_deletes(store: TeamStore) -> DeleteClaims:
        return store  # ... and that the deleter asks it before sending a delete
