"""A one-off import of a person's SQLite watchlist into the team store.

Each watched row comes over with its last answer, note, attention marks and status history.
A row the team already watches keeps the team's data (it may be newer); only a note, an
acknowledgement or a snooze the team lacks is filled in (the report lists the rows whose
own note differed from the team's, which the team's replaced). Running the import twice
adds nothing the second time. The importer is named as the one who added the rows (and
wrote the notes and acknowledgements: the file does not say who did), and the import is
one audit entry. The file's read marks are the importer's own (never the team's: see
migration 3).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from tui.core.teamstore.rows import MARK_READ, marks_of
from tui.core.teamstore.store import TeamStore
from tui.core.watchlist import Watchlist
from tui.core.watchlist.rows import encode_mapping, encode_texts

__all__ = ["ImportReport", "import_watchlist"]

_COLUMNS = ("id, file_name, data_source_type, status, upload_date, warnings, errors, "
            "metadata, first_seen, last_checked, last_changed, note, last_problem, "
            "problem_count, delete_requested_at, deleted_at, not_found, raw, last_problem_at, "
            "acknowledged_at, snoozed_until, errors_total, warnings_total")
_INSERT = (f"INSERT INTO watched (profile, {_COLUMNS}, added_by, note_by, note_at, "
           "acknowledged_by, changed_seq, added_seq) VALUES (%s, " + ", ".join(["%s"] * 23)
           + ", %s, %s, %s, %s, %s, %s) ON CONFLICT (profile, id) DO UPDATE SET "
           # The team's note, acknowledgement and snooze stay; only what it lacks is added.
           "note = coalesce(watched.note, excluded.note), "
           "note_by = CASE WHEN watched.note IS NULL THEN excluded.note_by "
           "ELSE watched.note_by END, "
           "note_at = CASE WHEN watched.note IS NULL THEN excluded.note_at "
           "ELSE watched.note_at END, "
           "acknowledged_at = coalesce(watched.acknowledged_at, excluded.acknowledged_at), "
           "acknowledged_by = CASE WHEN watched.acknowledged_at IS NULL "
           "THEN excluded.acknowledged_by ELSE watched.acknowledged_by END, "
           "snoozed_until = coalesce(watched.snoozed_until, excluded.snoozed_until), "
           "changed_seq = excluded.changed_seq "
           "WHERE (watched.note IS NULL AND excluded.note IS NOT NULL) "
           "OR (watched.acknowledged_at IS NULL AND excluded.acknowledged_at IS NOT NULL) "
           "OR (watched.snoozed_until IS NULL AND excluded.snoozed_until IS NOT NULL)")


@dataclass(frozen=True)
class ImportReport:
    """What an import did: rows new to the team, rows it had, notes filled in, history
    entries copied; the rows whose own note differed from the team's (the team's kept),
    and the rows the team had whose acknowledgement or snooze came from the import (the
    team had none)."""

    added: int
    already: int
    notes: int
    history: int
    notes_kept_the_teams: tuple[int, ...] = ()
    marks_carried: tuple[int, ...] = ()


def import_watchlist(store: TeamStore, watchlist: Watchlist, *,
                     at: float | None = None) -> ImportReport:
    """Copy ``watchlist``'s watched rows and their history into ``store`` (its profile),
    in one transaction; others see the rows through the change feed."""
    when = time.time() if at is None else at
    rows = watchlist.all()
    ids = [row.id for row in rows]
    with store.writing("import the watchlist") as (conn, seq):
        present: dict[int, tuple[str | None, float | None, float | None]] = {
            value: (note, acked, snoozed) for value, note, acked, snoozed in conn.execute(
                "SELECT id, note, acknowledged_at, snoozed_until FROM watched "
                "WHERE profile = %s AND id = ANY(%s)", (store.base_url, ids))}
        values = []
        for row in rows:
            signed = store.person if row.note else None
            values.append((
                store.base_url, row.id, row.file_name, row.data_source_type, row.status,
                row.upload_date, encode_texts(row.warnings), encode_texts(row.errors),
                encode_mapping(row.metadata), row.first_seen, row.last_checked,
                row.last_changed, row.note, row.last_problem, row.problem_count,
                row.delete_requested_at, row.deleted_at, row.not_found, row.raw,
                row.last_problem_at, row.acknowledged_at, row.snoozed_until,
                row.error_count, row.warning_count, store.person, signed,
                when if signed else None, store.person if row.acknowledged_at else None,
                seq, seq))
        with conn.cursor() as cursor:
            cursor.executemany(_INSERT, values)
            new = [value for value in ids if value not in present]
            history = [(store.base_url, value, status, seen_at) for value in new
                       for status, seen_at in watchlist.history(value)]
            cursor.executemany("INSERT INTO status_history (profile, id, status, seen_at) "
                               "VALUES (%s, %s, %s, %s)", history)
            cursor.executemany(MARK_READ, [
                (store.base_url, marks_of(store.person), row.id, row.read_at)
                for row in rows if row.read_at is not None])
        noted = [row.id for row in rows
                 if row.id in present and present[row.id][0] is None and row.note]
        kept = tuple(row.id for row in rows if row.id in present and row.note
                     and present[row.id][0] is not None and present[row.id][0] != row.note)
        marked = tuple(row.id for row in rows if row.id in present and (
            (row.acknowledged_at is not None and present[row.id][1] is None)
            or (row.snoozed_until is not None and present[row.id][2] is None)))
        conn.execute("INSERT INTO audit (profile, at, person, action, ids, outcome, detail) "
                     "VALUES (%s, %s, %s, 'import', %s, 'done', %s)",
                     (store.base_url, when, store.person, ",".join(map(str, new)),
                      f"{len(new)} added, {len(present)} already watched"))
        store.notify(conn, seq, changed=sorted({*new, *noted, *marked}))
    return ImportReport(added=len(new), already=len(present), notes=len(noted),
                        history=len(history), notes_kept_the_teams=kept,
                        marks_carried=marked)
