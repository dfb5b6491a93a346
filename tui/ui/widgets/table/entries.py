"""One row as the conversions table draws it: sanitised once, with its sort key.

Everything shown is prepared when a row arrives (sanitised with :func:`printable`, sort
values), so scrolling and repainting never touch server text again. No Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from typing import Any

from tui.core.statuses import (
    CHECKING_SYMBOL,
    CHECKING_WORD,
    StatusKind,
    awaits_first_answer,
    read_status,
    status_symbol,
)
from tui.core.timeinstatus import time_in_status
from tui.core.unread import is_unread
from tui.core.untrusted import printable
from tui.core.watchlist import WatchedConversion
from tui.ui.widgets.table.choosable import column_for, extra_sort_value
from tui.ui.widgets.table.columns import parse_upload_date

__all__ = ["PROBLEM_SYMBOL", "ConversionRow", "RowEntry", "SortKey", "make_entry", "sort_value"]


# Longer text is cut anyway when drawn; bounding it keeps width measurement cheap.
_TEXT_LIMIT = 300

# Triage order when sorting by status: what needs a person comes first.
_STATUS_RANK: dict[StatusKind, int] = {
    StatusKind.FAILED: 0,
    StatusKind.NOT_FOUND: 1,
    StatusKind.UNKNOWN: 2,
    StatusKind.PROCESSING: 3,
    StatusKind.QUEUED: 4,
    StatusKind.DELETING: 5,
    StatusKind.COMPLETED: 6,
    StatusKind.DELETED: 7,
}

PROBLEM_SYMBOL = "⚠"
"""Leads the Problem cell: the row's last check failed (readable without colour)."""

# What the table reads from a row: the watchlist's own record (duck-typed rows with
# the same attributes work too; nothing checks the type at run time).
ConversionRow = WatchedConversion


SortKey = tuple[Any, ...]

_versions = count(1)


@dataclass(slots=True, eq=False)
class RowEntry:
    """One row as the table draws it: sanitised text, computed once per change.

    At 100,000 rows every field costs megabytes: texts a row shares with many others
    (type, status) are one shared string, the ID's text is made when drawn, and the
    search text only once a filter asks for it.
    """

    row: Any
    version: int
    file: str
    type: str
    status_word: str
    status_text: str
    kind: StatusKind
    note: str
    problem: str
    """The last check's problem, sanitised, with its symbol ("⚠ HTTP 502, HTML page"),
    or empty when the last check went through."""
    checking: bool
    """Never answered for: the status cell says "checking…"."""
    uploaded: float | None
    """The upload date as unix seconds (drawn in the local zone), None when unreadable."""
    uploaded_raw: str
    deleted: bool
    unread: bool = False
    """Changed since the person last looked at it (tui/core/unread.py): the ID is bold."""
    key: SortKey = ()
    shown: bool = False
    uploaded_text: str = ""
    """``uploaded`` as drawn on ``uploaded_day`` (its wording depends on today)."""
    uploaded_day: int = -1
    search_text: str | None = None

    @property
    def id_text(self) -> str:
        """The ID as drawn."""
        return str(self.row.id)

    @property
    def haystack(self) -> str:
        """What the filter searches (ID, file, type, status, note; case-folded)."""
        text = self.search_text
        if text is None:
            text = self.search_text = "\n".join(
                (self.id_text, self.file, self.type, self.status_word, self.note)).casefold()
        return text


def _clean(value: object) -> str:
    if value is None:
        return ""
    return printable(value if isinstance(value, str) else str(value), limit=_TEXT_LIMIT)


# Texts many rows share (types, status words and cells): one string each, not one a row.
# Bounded: a server could send a different status word on every row.
_SHARED_LIMIT = 4096
_shared: dict[str, str] = {}


def _share(text: str) -> str:
    found = _shared.get(text)
    if found is not None:
        return found
    if len(_shared) < _SHARED_LIMIT:
        _shared[text] = text
    return text


# Upload dates as unix seconds, by the text the server sent: rows of one upload share it.
_upload_seconds: dict[str, float | None] = {}


def _uploaded_at(text: str | None) -> float | None:
    if not text:
        return None
    if text in _upload_seconds:
        return _upload_seconds[text]
    parsed = parse_upload_date(text)
    seconds = None if parsed is None else parsed.timestamp()
    if len(_upload_seconds) >= _SHARED_LIMIT:
        _upload_seconds.clear()
    _upload_seconds[text] = seconds
    return seconds


def make_entry(row: ConversionRow) -> RowEntry:
    """Prepare ``row`` for display: every server string goes through printable()."""
    reading = read_status(row)
    kind = reading.kind
    word = _share(reading.label(_clean))
    file, type_, note = _clean(row.file_name), _share(_clean(row.data_source_type)), \
        _clean(row.note)
    uploaded = _uploaded_at(row.upload_date)
    cause = _clean(row.last_problem)
    checking = awaits_first_answer(row)
    if checking:
        status_text = _share(f"{CHECKING_SYMBOL} {CHECKING_WORD}")
    else:
        status_text = _share(f"{status_symbol(kind)} {word or '—'}")
    return RowEntry(
        row=row,
        version=next(_versions),
        file=file,
        type=type_,
        status_word=word,
        status_text=status_text,
        kind=kind,
        note=note,
        problem=f"{PROBLEM_SYMBOL} {cause}" if cause else "",
        checking=checking,
        uploaded=uploaded,
        uploaded_raw="" if uploaded is not None else _clean(row.upload_date),
        deleted=row.deleted_at is not None or kind is StatusKind.DELETED,
        unread=is_unread(row),
    )


def _text_value(text: str) -> tuple[int, str]:
    return (0, text.casefold()) if text else (1, "")


def _time_value(value: float | None, sign: float = 1.0) -> tuple[int, float]:
    return (1, 0.0) if value is None else (0, sign * value)


def sort_value(column: str, entry: RowEntry) -> tuple[Any, ...]:
    """The typed sort value of ``entry`` in ``column`` (missing values sort last).

    Durations sort by the negated start time, which orders them exactly like the
    duration itself but does not change as the clock runs: no re-sort per tick.
    """
    row = entry.row
    if column == "id":
        return (0, row.id)
    if column == "file":
        return _text_value(entry.file)
    if column == "type":
        return _text_value(entry.type)
    if column == "status":
        if not entry.status_word:
            return (1, 0, "")
        return (0, _STATUS_RANK[entry.kind], entry.status_word.casefold())
    if column == "uploaded":
        return _time_value(entry.uploaded)
    if column == "in_status":
        reckoned = time_in_status(row)
        return _time_value(None if reckoned is None else reckoned.since, -1.0)
    if column == "checked":
        return _time_value(row.last_checked, -1.0)
    if column == "warnings":
        return (0, row.warning_count)
    if column == "errors":
        return (0, row.error_count)
    if column == "note":
        return _text_value(entry.note)
    if column == "problem":
        return _text_value(entry.problem)
    if column == "attention":  # taken on or snoozed first, the latest first
        marked = max(row.acknowledged_at or 0.0, row.snoozed_until or 0.0)
        return _time_value(marked or None, -1.0)
    if column_for(column) is None:
        raise KeyError(column)
    return extra_sort_value(row, column)  # a chosen column: reference, metadata
