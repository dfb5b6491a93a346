"""One row as the conversions table draws it: sanitised once, with its sort key.

Everything shown is prepared when a row arrives (sanitised with :func:`printable`, sort
values), so scrolling and repainting never touch server text again. No Textual here.
"""

from __future__ import annotations

import struct
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
from tui.core.timeinstatus import TimeInStatus, parse_instant, time_in_status
from tui.core.unread import is_unread
from tui.core.untrusted import printable
from tui.core.watchlist import WatchedConversion
from tui.ui.widgets.table.choosable import column_for, extra_sort_value

__all__ = ["PROBLEM_SYMBOL", "ConversionRow", "RowEntry", "SortKey", "key_id", "make_entry",
           "reckon_in_status", "refill", "sort_key"]


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


SortKey = int | tuple[Any, ...]
"""A row's place in one column's order (see :func:`sort_key`)."""

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
    seconds = parse_instant(text)
    if len(_upload_seconds) >= _SHARED_LIMIT:
        _upload_seconds.clear()
    _upload_seconds[text] = seconds
    return seconds


# What the status cells are, by the facts they are read from: a change of 1,000 rows
# carries a handful of distinct statuses, each read, sanitised and worded once.
_StatusCells = tuple[StatusKind, str, str]
_status_cells: dict[tuple[str | None, bool, bool], _StatusCells] = {}


def _status_of(row: ConversionRow, checking: bool) -> _StatusCells:
    """(kind, status word, status cell text) of ``row``."""
    facts = (row.status, row.not_found, checking)
    found = _status_cells.get(facts)
    if found is not None:
        return found
    reading = read_status(row)
    kind = reading.kind
    word = _share(reading.label(_clean))
    if checking:
        text = _share(f"{CHECKING_SYMBOL} {CHECKING_WORD}")
    else:
        text = _share(f"{status_symbol(kind)} {word or '—'}")
    cells = (kind, word, text)
    if len(_status_cells) >= _SHARED_LIMIT:  # server words are untrusted: bounded
        _status_cells.clear()
    _status_cells[facts] = cells
    return cells


def reckon_in_status(entry: RowEntry) -> TimeInStatus | None:
    """Since when the entry's row is in its status, reckoned with the upload time the
    entry already read (not kept: at 100,000 rows an object a row is megabytes)."""
    return time_in_status(entry.row, entry.uploaded)


def make_entry(row: ConversionRow) -> RowEntry:
    """Prepare ``row`` for display: every server string goes through printable()."""
    entry: RowEntry = object.__new__(RowEntry)
    entry.key = ()
    entry.shown = False
    refill(entry, row)
    return entry


def refill(entry: RowEntry, row: ConversionRow) -> None:
    """Make ``entry`` the entry of ``row`` (the same conversion, changed), in place.

    In place, not a new entry: the entry loaded at start stays exempt from the collector
    (tui/core/memory.py), and 1,000 changes leave no 1,000 new objects behind to trigger
    young collections in the middle of a change. ``key`` and ``shown`` are the caller's.
    """
    checking = awaits_first_answer(row)
    kind, word, status_text = _status_of(row, checking)
    uploaded = _uploaded_at(row.upload_date)
    cause = row.last_problem
    note = row.note
    entry.row = row
    entry.version = next(_versions)
    entry.file = _clean(row.file_name)
    entry.type = _share(_clean(row.data_source_type))
    entry.status_word = word
    entry.status_text = status_text
    entry.kind = kind
    entry.note = _clean(note) if note else ""
    entry.problem = f"{PROBLEM_SYMBOL} {_clean(cause)}" if cause else ""
    entry.checking = checking
    entry.uploaded = uploaded
    entry.uploaded_raw = "" if uploaded is not None else _clean(row.upload_date)
    entry.deleted = row.deleted_at is not None or kind is StatusKind.DELETED
    entry.uploaded_text = ""
    entry.uploaded_day = -1
    entry.search_text = None
    entry.unread = is_unread(row)


def _text_value(text: str) -> tuple[int, str]:
    return (0, text.casefold()) if text else (1, "")


# Numeric sort keys are one int each, not a tuple: at 100,000 rows a binary search
# compares keys scattered in memory, and one int costs a fraction of a tuple of three
# (a tuple is three objects to fetch, an int one). Layout, high bits to low:
# [missing flag][the value as an order-preserving 64-bit number][the id, _ID_BITS].
_ID_BITS = 66
_ID_OFFSET = 1 << (_ID_BITS - 1)  # any id within +-2**65 (the API's are 1 .. 2**63-1)
_ID_MASK = (1 << _ID_BITS) - 1
_VALUE_BITS = 64
_MISSING = 1 << (_VALUE_BITS + _ID_BITS)
_DOUBLE = struct.Struct("<d")
_INT64 = struct.Struct("<q")
_SIGN_BITS = (1 << 63) - 1


def _ordered_bits(value: float) -> int:
    """``value`` as an int in [0, 2**64) that orders exactly as the floats do."""
    bits: int = _INT64.unpack(_DOUBLE.pack(value + 0.0))[0]  # + 0.0: -0.0 sorts as 0.0
    return (bits ^ _SIGN_BITS if bits < 0 else bits) + (1 << 63)


def _id_part(conversion_id: int) -> int:
    return conversion_id + _ID_OFFSET


def _time_key(value: float | None, conversion_id: int, sign: float = 1.0) -> int:
    if value is None:
        return _MISSING + _id_part(conversion_id)
    return (_ordered_bits(sign * value) << _ID_BITS) + _id_part(conversion_id)


def _count_key(count: int, conversion_id: int) -> int:
    return (count << _ID_BITS) + _id_part(conversion_id)


def key_id(key: SortKey) -> int:
    """The conversion id a sort key (from :func:`sort_key`) belongs to."""
    if isinstance(key, int):
        return (key & _ID_MASK) - _ID_OFFSET
    conversion_id: int = key[-1]
    return conversion_id


def sort_key(column: str, entry: RowEntry) -> SortKey:
    """The unique sort key of ``entry`` in ``column``: by the column's typed value, missing
    values last, ties by id. Keys of one column compare with each other only.

    Durations sort by the negated start time, which orders them exactly like the
    duration itself but does not change as the clock runs: no re-sort per tick.
    """
    row = entry.row
    conversion_id: int = row.id
    if column == "id":
        return _id_part(conversion_id)
    if column == "file":
        return (*_text_value(entry.file), conversion_id)
    if column == "type":
        return (*_text_value(entry.type), conversion_id)
    if column == "status":
        if not entry.status_word:
            return (1, 0, "", conversion_id)
        return (0, _STATUS_RANK[entry.kind], entry.status_word.casefold(), conversion_id)
    if column == "uploaded":
        return _time_key(entry.uploaded, conversion_id)
    if column == "in_status":
        reckoned = reckon_in_status(entry)
        return _time_key(None if reckoned is None else reckoned.since, conversion_id, -1.0)
    if column == "checked":
        return _time_key(row.last_checked, conversion_id, -1.0)
    if column == "warnings":
        return _count_key(row.warning_count, conversion_id)
    if column == "errors":
        return _count_key(row.error_count, conversion_id)
    if column == "note":
        return (*_text_value(entry.note), conversion_id)
    if column == "problem":
        return (*_text_value(entry.problem), conversion_id)
    if column == "attention":  # taken on or snoozed first, the latest first
        marked = max(row.acknowledged_at or 0.0, row.snoozed_until or 0.0)
        return _time_key(marked or None, conversion_id, -1.0)
    if column_for(column) is None:
        raise KeyError(column)
    # A chosen column (reference, metadata): its value, then the id.
    return (*extra_sort_value(row, column), conversion_id)
