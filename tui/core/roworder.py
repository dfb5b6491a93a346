"""The order of watched rows by a column: the one sort key of the monitor's table and of
``conversions-tui list --view``.

:func:`sort_key` reads a row's :class:`Sortable` facts: the texts as drawn (sanitised
once), the status as read, the upload time in seconds. The table keeps these on its
drawing entries (``tui.ui.widgets.table.entries.RowEntry``), made once per change;
a caller without them (the command line) makes them with :func:`sort_facts`. Each key
is unique (ties by id) and keys of one column compare with each other only; ascending,
missing values last, and a reversed sort reads the ascending order backwards.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tui.core.statuses import StatusKind, read_status
from tui.core.timeinstatus import TimeInStatus, parse_instant, time_in_status
from tui.core.untrusted import printable

__all__ = ["BUILT_IN_SORTS", "METADATA_PREFIX", "PROBLEM_SYMBOL", "TEXT_LIMIT", "SortFacts",
           "SortKey", "Sortable", "cell_text", "extra_sort_value", "key_id", "key_reader",
           "metadata_text", "problem_text", "reckon_in_status", "sort_facts", "sort_key",
           "sorted_rows"]

#: Longer text is cut anyway when drawn; bounding it keeps width measurement cheap.
TEXT_LIMIT = 300

PROBLEM_SYMBOL = "⚠"
"""Leads the Problem cell: the row's last check failed (readable without colour)."""

METADATA_PREFIX = "meta:"
"""A column of one metadata key (``meta:rowsRead``)."""

#: The columns :func:`sort_key` orders by itself (the extras: ``ref``, ``meta:KEY``).
BUILT_IN_SORTS = ("id", "file", "type", "status", "uploaded", "in_status", "checked",
                  "warnings", "errors", "note", "problem", "attention")

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

SortKey = int | tuple[Any, ...]
"""A row's place in one column's order (see :func:`sort_key`)."""


class Sortable(Protocol):
    """What :func:`sort_key` reads of a row: the row itself and its texts as drawn."""

    @property
    def row(self) -> Any: ...
    @property
    def file(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def status_word(self) -> str: ...
    @property
    def kind(self) -> StatusKind: ...
    @property
    def note(self) -> str: ...
    @property
    def problem(self) -> str: ...
    @property
    def uploaded(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class SortFacts:
    """A row's :class:`Sortable` facts, made by :func:`sort_facts`."""

    row: Any
    file: str
    type: str
    status_word: str
    kind: StatusKind
    note: str
    problem: str
    uploaded: float | None


def cell_text(value: object) -> str:
    """Server text as a cell holds it: control characters made visible, bounded."""
    if value is None:
        return ""
    return printable(value if isinstance(value, str) else str(value), limit=TEXT_LIMIT)


def problem_text(cause: str | None) -> str:
    """The Problem cell: the last check's problem with its symbol, or empty."""
    return f"{PROBLEM_SYMBOL} {cell_text(cause)}" if cause else ""


def sort_facts(row: Any) -> SortFacts:
    """The facts :func:`sort_key` reads, made from a watched row as the table makes them."""
    reading = read_status(row)
    return SortFacts(
        row=row, file=cell_text(row.file_name), type=cell_text(row.data_source_type),
        status_word=reading.label(cell_text), kind=reading.kind,
        note=cell_text(row.note) if row.note else "", problem=problem_text(row.last_problem),
        uploaded=parse_instant(row.upload_date) if row.upload_date else None)


def reckon_in_status(facts: Sortable) -> TimeInStatus | None:
    """Since when the row is in its status, reckoned with the upload time already read."""
    return time_in_status(facts.row, facts.uploaded)


def metadata_text(metadata: Mapping[str, Any], key: str) -> str:
    """One metadata value as a cell shows it (server text, sanitised)."""
    value = metadata.get(key)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return printable(text, limit=200)


def extra_sort_value(row: Any, key: str) -> tuple[Any, ...]:
    """The sort value of an extra column: numbers as numbers, text in any case; empty last.

    Not by Profile: it is read from each row's stored envelope (a read of the file per
    row, seconds at 100,000 rows), and one watchlist's rows answer for one key's owner.
    """
    value: Any
    if key == "profile":
        return (2, 0, "")
    if key.startswith(METADATA_PREFIX):
        value = row.metadata.get(key.removeprefix(METADATA_PREFIX))
    elif key == "ref":
        value = metadata_text(row.metadata, "externalReference")
    else:
        value = None
    if isinstance(value, bool) or value is None or value == "":
        return (2, 0, "")
    if isinstance(value, int | float):
        return (0, value, "")
    return (1, 0, str(value).casefold())


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


def _same_id(key: SortKey) -> int:
    assert isinstance(key, int)
    return key


def key_reader(column: str) -> Callable[[SortKey], int]:
    """How to read the conversion id from a sort key of ``column`` (:func:`sort_key`)."""
    return _same_id if column == "id" else key_id


def key_id(key: SortKey) -> int:
    """The conversion id a sort key (from :func:`sort_key`) of any column but the ID
    belongs to (:func:`key_reader` says it for every column)."""
    if isinstance(key, int):
        return (key & _ID_MASK) - _ID_OFFSET
    conversion_id: int = key[-1]
    return conversion_id


def sort_key(column: str, facts: Sortable) -> SortKey:
    """The unique sort key of a row in ``column``: by the column's typed value, missing
    values last, ties by id. Keys of one column compare with each other only. A column
    neither built in (:data:`BUILT_IN_SORTS`) nor ``ref``, ``profile`` or ``meta:KEY``
    raises KeyError. The ID's key is the id itself; the others hold it last
    (:func:`key_reader` reads it back).

    Durations sort by the negated start time, which orders them exactly like the
    duration itself but does not change as the clock runs: no re-sort per tick.
    """
    row = facts.row
    conversion_id: int = row.id
    if column == "id":
        # The id itself (the row's own int: at 100,000 rows a made one costs 4 MB).
        return conversion_id
    if column == "file":
        return (*_text_value(facts.file), conversion_id)
    if column == "type":
        return (*_text_value(facts.type), conversion_id)
    if column == "status":
        if not facts.status_word:
            return (1, 0, "", conversion_id)
        return (0, _STATUS_RANK[facts.kind], facts.status_word.casefold(), conversion_id)
    if column == "uploaded":
        return _time_key(facts.uploaded, conversion_id)
    if column == "in_status":
        reckoned = reckon_in_status(facts)
        return _time_key(None if reckoned is None else reckoned.since, conversion_id, -1.0)
    if column == "checked":
        return _time_key(row.last_checked, conversion_id, -1.0)
    if column == "warnings":
        return _count_key(row.warning_count, conversion_id)
    if column == "errors":
        return _count_key(row.error_count, conversion_id)
    if column == "note":
        return (*_text_value(facts.note), conversion_id)
    if column == "problem":
        return (*_text_value(facts.problem), conversion_id)
    if column == "attention":  # taken on or snoozed first, the latest first
        marked = max(row.acknowledged_at or 0.0, row.snoozed_until or 0.0)
        return _time_key(marked or None, conversion_id, -1.0)
    if column in ("ref", "profile") or column.startswith(METADATA_PREFIX):
        # A chosen column (reference, metadata): its value, then the id.
        return (*extra_sort_value(row, column), conversion_id)
    raise KeyError(column)


def sorted_rows(rows: Iterable[Any], column: str, reverse: bool = False) -> list[Any]:
    """``rows`` in the table's order by ``column`` (reversed: read backwards, as the table
    does). A column :func:`sort_key` does not know raises KeyError."""
    keyed = sorted((sort_key(column, sort_facts(row)), row) for row in rows)
    ordered = [row for _, row in keyed]
    return ordered[::-1] if reverse else ordered
