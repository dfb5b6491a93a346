"""The team store's row columns and statements, and reading rows into
:class:`WatchedConversion` by column name.

A row's ``read_at`` is the reader's own: the later of their mark in ``read_marks`` and the
look of anyone before marks were personal (``shared_read_at``, see migration 3); so
:data:`COLUMNS` takes one parameter, the person, before any other of its statement.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import psycopg

from tui.core.watchlist.rows import WatchedConversion

__all__ = ["CHANGES_IN_WINDOW", "COLUMNS", "KEPT", "MARK_READ", "MARK_WATCHED_READ",
           "UPDATE_RESULT", "decode_rows", "marks_of"]

_FIELDS = tuple(name for name in WatchedConversion.__dataclass_fields__
                if name not in ("entered_seen", "read_at"))
COLUMNS = ", ".join(_FIELDS) + (
    # The person's look: one seek on read_marks' key a row (greatest() skips a NULL). Not
    # a join: its plan hangs on statistics, which lag after a big import or "mark all
    # read" (a nested loop over every mark took 5 s for 10,000 rows); a seek a row costs
    # the same whatever they say: under 1 ms for the first screen's 300 rows, some 20 to
    # 50 ms for 10,000.
    ", greatest(shared_read_at, (SELECT m.read_at FROM read_marks AS m "
    "WHERE m.profile = watched.profile AND m.person = %s AND m.id = watched.id)) AS read_at"
    # As in the SQLite watchlist: the row was seen entering its status when another status
    # is on record for it.
    ", EXISTS (SELECT 1 FROM status_history AS h WHERE h.profile = watched.profile "
    "AND h.id = watched.id AND h.status <> watched.status) AS entered_seen")
"""Every field of a :class:`WatchedConversion`, selected from ``watched``; its one
parameter, first in the statement, is whose read marks (:func:`marks_of`)."""

# A mark never goes back: a look stamped earlier (an app with a slower clock, an import
# of an older file) changes nothing.
_LATER_LOOK = ("ON CONFLICT (profile, person, id) "
               "DO UPDATE SET read_at = greatest(read_marks.read_at, excluded.read_at)")
MARK_READ = ("INSERT INTO read_marks (profile, person, id, read_at) "
             f"VALUES (%s, %s, %s, %s) {_LATER_LOOK}")
"""One person's look at one row: (profile, person, ID, when)."""
MARK_WATCHED_READ = ("INSERT INTO read_marks (profile, person, id, read_at) "
                     "SELECT profile, %(person)s, id, %(at)s FROM watched "
                     f"WHERE profile = %(profile)s AND id = ANY(%(ids)s) {_LATER_LOOK}")
"""One person's look at the watched rows among ``ids``, at one time (named parameters);
its row count is how many were watched."""


def marks_of(person: str | None) -> str:
    """The ``read_marks`` key of ``person`` (an app that knows no name for its user
    shares the marks of the others that do not)."""
    return person or ""


UPDATE_RESULT = """
UPDATE watched SET file_name = %(file_name)s, data_source_type = %(data_source_type)s,
    status = %(status)s, upload_date = %(upload_date)s, warnings = %(warnings)s,
    errors = %(errors)s, metadata = %(metadata)s, last_checked = %(last_checked)s,
    last_changed = %(last_changed)s, last_problem = %(last_problem)s,
    problem_count = %(problem_count)s, deleted_at = %(deleted_at)s,
    not_found = %(not_found)s, raw = coalesce(%(raw)s, raw),
    last_problem_at = %(last_problem_at)s, errors_total = %(errors_total)s,
    warnings_total = %(warnings_total)s, changed_seq = %(changed_seq)s
WHERE profile = %(profile)s AND id = %(id)s
"""
# Status changes of the profile's watched rows in a window of time, each with the status
# recorded before it (one seek per change on the by-ID index; seq breaks ties of time).
CHANGES_IN_WINDOW = """
SELECT h.id AS id,
       (SELECT p.status FROM status_history AS p
        WHERE p.profile = h.profile AND p.id = h.id AND (p.seen_at, p.seq) < (h.seen_at, h.seq)
        ORDER BY p.seen_at DESC, p.seq DESC LIMIT 1) AS previous,
       h.status AS current, h.seen_at AS at, h.seq AS seq
FROM status_history AS h
WHERE h.profile = %(profile)s AND h.seen_at >= %(start)s AND h.seen_at < %(end)s
  AND EXISTS (SELECT 1 FROM watched AS w WHERE w.profile = h.profile AND w.id = h.id)
"""
# The stored columns moved between watched and unwatched (all but profile, id and seqs).
KEPT = ("file_name, data_source_type, status, upload_date, warnings, errors, metadata, "
        "first_seen, last_checked, last_changed, note, last_problem, problem_count, "
        "delete_requested_at, deleted_at, not_found, raw, last_problem_at, acknowledged_at, "
        "snoozed_until, shared_read_at, added_by, note_by, note_at, acknowledged_by, "
        "delete_requested_by, errors_total, warnings_total")


def decode_rows(cursor: psycopg.Cursor[Any]) -> Iterator[WatchedConversion]:
    """Each row of ``cursor`` (selected with :data:`COLUMNS`) as a conversion."""
    names = [column.name for column in cursor.description or ()]
    for row in cursor:
        values = dict(zip(names, row, strict=True))
        values["warnings"] = tuple(str(item) for item in json.loads(values["warnings"]))
        values["errors"] = tuple(str(item) for item in json.loads(values["errors"]))
        values["metadata"] = MappingProxyType(dict(json.loads(values["metadata"])))
        values["id"] = int(values["id"])
        yield WatchedConversion(**values)
