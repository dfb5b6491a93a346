"""The rows behind the conversions table: sanitised once, filtered, kept in sort order.

No Textual here: the widget asks this model "which conversion is at display
index i" and "where is conversion n", both cheap at 10,000 rows. Everything
shown is prepared when a row arrives (sanitised with :func:`printable`, sort key,
search text), so scrolling and repainting never touch server text again.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import count
from typing import Any

from rich.cells import cell_len

from tui.core.statuses import (
    CHECKING_SYMBOL,
    CHECKING_WORD,
    StatusKind,
    awaits_first_answer,
    read_status,
    status_symbol,
)
from tui.core.untrusted import printable
from tui.core.watchlist import WatchedConversion
from tui.ui.widgets.table_columns import COLUMN_KEYS, parse_upload_date

__all__ = ["ConversionRow", "RowEntry", "RowsById", "RowsChange", "TableRows", "make_entry"]

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

# Up to this many keys to take out or put in, the sorted list is edited in place (each
# edit moves the list's tail in memory); above it, it is copied once, in slices.
_IN_PLACE_LIMIT = 16

PROBLEM_SYMBOL = "⚠"
"""Leads the Problem cell: the row's last check failed (readable without colour)."""

#: Columns whose presence (or rank) depends on whether any row has text in them.
_FILLABLE = ("note", "problem")


# What the table reads from a row: the watchlist's own record (duck-typed rows with
# the same attributes work too; nothing checks the type at run time).
ConversionRow = WatchedConversion


SortKey = tuple[Any, ...]
ViewPredicate = Callable[[Any], bool]

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
    )


# Content-sized columns and the entry field each is measured from (the ID apart).
_MEASURED = (("file", "file"), ("type", "type"), ("status", "status_text"),
             ("note", "note"), ("problem", "problem"))


def _cells(text: str) -> int:
    # isascii() first: cell_len is the cost here, and most names are ASCII.
    return len(text) if text.isascii() else cell_len(text)


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
        return _time_value(row.last_changed, -1.0)
    if column == "checked":
        return _time_value(row.last_checked, -1.0)
    if column == "warnings":
        return (0, len(row.warnings))
    if column == "errors":
        return (0, len(row.errors))
    if column == "note":
        return _text_value(entry.note)
    if column == "problem":
        return _text_value(entry.problem)
    raise KeyError(column)


@dataclass(slots=True)
class RowsChange:
    """What an update did: ``reordered`` when rows moved, appeared or vanished."""

    reordered: bool
    changed: list[int]


class TableRows:
    """All rows by id, and the shown ones (filter and view applied) in sort order.

    Shown rows are kept as a list of unique sort keys (the id is the last part),
    always ascending; a reversed sort only reverses how indexes are read, so a
    change moves one row with a binary search instead of re-sorting everything.
    """

    def __init__(self) -> None:
        self._entries: dict[int, RowEntry] = {}
        self._order: list[SortKey] = []
        self._filter = ""
        self._view: ViewPredicate | None = None
        self.sort_column = "id"
        self.reverse = False
        self.wants: dict[str, int] = {}
        """Widest content seen per content-sized column (for the layout)."""
        self._filled_rows: dict[str, int] = dict.fromkeys(_FILLABLE, 0)

    # -- reading -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    @property
    def shown_count(self) -> int:
        """How many rows pass the filter and the view."""
        return len(self._order)

    @property
    def filled(self) -> frozenset[str]:
        """Keys of the columns (Note, Problem) that some row has text in now."""
        return frozenset(key for key, rows in self._filled_rows.items() if rows)

    @property
    def entries(self) -> Mapping[int, RowEntry]:
        """Every row's entry by conversion id (read-only use)."""
        return self._entries

    @property
    def filter_text(self) -> str:
        """The current filter, as given."""
        return self._filter

    @property
    def view(self) -> ViewPredicate | None:
        """The current view predicate."""
        return self._view

    def id_at(self, index: int) -> int:
        """The conversion id at display ``index`` (0 is the top row)."""
        position = len(self._order) - 1 - index if self.reverse else index
        key = self._order[position]
        conversion_id: int = key[-1]
        return conversion_id

    def index_of(self, conversion_id: int) -> int | None:
        """The display index of ``conversion_id``, or None when it is not shown."""
        entry = self._entries.get(conversion_id)
        if entry is None or not entry.shown:
            return None
        position = bisect_left(self._order, entry.key)
        return len(self._order) - 1 - position if self.reverse else position

    def shown_ids(self) -> Iterator[int]:
        """Shown conversion ids in display order."""
        keys = reversed(self._order) if self.reverse else iter(self._order)
        for key in keys:
            yield key[-1]

    # -- changing ------------------------------------------------------------
    def _passes(self, entry: RowEntry) -> bool:
        if self._filter and self._filter not in entry.haystack:
            return False
        return self._view is None or bool(self._view(entry.row))

    def _key(self, entry: RowEntry) -> SortKey:
        return (*sort_value(self.sort_column, entry), entry.row.id)

    def _measure(self, entries: Collection[RowEntry]) -> None:
        wants = self.wants
        # Column by column: the widest ID is the largest one, and shared texts (type,
        # status) are measured once each.
        largest = max((entry.row.id for entry in entries), default=None)
        if largest is not None and len(str(largest)) > wants.get("id", 0):
            wants["id"] = len(str(largest))
        for column, field in _MEASURED:
            texts = {getattr(entry, field) for entry in entries}
            widest = max(map(_cells, texts), default=0)
            if widest > wants.get(column, 0):
                wants[column] = widest

    def _count_filled(self, entry: RowEntry, step: int) -> None:
        filled = self._filled_rows
        if entry.note:
            filled["note"] += step
        if entry.problem:
            filled["problem"] += step

    def _rebuild(self) -> None:
        passes = self._passes
        order = []
        for entry in self._entries.values():
            entry.shown = passes(entry)
            if entry.shown:
                order.append(entry.key)
        order.sort()
        self._order = order

    def set_rows(self, rows: Iterable[ConversionRow]) -> None:
        """Replace every row."""
        self._entries = {row.id: make_entry(row) for row in rows}
        self.wants = {}
        self._filled_rows = dict.fromkeys(_FILLABLE, 0)
        self._measure(self._entries.values())
        for entry in self._entries.values():
            entry.key = self._key(entry)
            self._count_filled(entry, 1)
        self._rebuild()

    def upsert(self, rows: Iterable[ConversionRow]) -> RowsChange:
        """Add or replace rows; shown rows move only when their sort key changed."""
        fresh = [make_entry(row) for row in rows]
        self._measure(fresh)
        reordered = False
        changed: list[int] = []
        entries = self._entries
        # Each touched id's entry from before this batch (None: new), its first sight only.
        before: dict[int, RowEntry | None] = {}
        for entry in fresh:
            conversion_id = entry.row.id
            entry.key = self._key(entry)
            entry.shown = self._passes(entry)
            old = entries.get(conversion_id)
            if conversion_id not in before:
                before[conversion_id] = old
            entries[conversion_id] = entry
            changed.append(conversion_id)
            if old is not None:
                self._count_filled(old, -1)
            self._count_filled(entry, 1)
        gone: list[SortKey] = []
        come: list[SortKey] = []
        for conversion_id, old in before.items():
            entry = entries[conversion_id]
            if old is not None and old.shown == entry.shown and old.key == entry.key:
                continue
            reordered = True
            if old is not None and old.shown:
                gone.append(old.key)
            if entry.shown:
                come.append(entry.key)
        if gone or come:
            self._order = _spliced(self._order, gone, come)
        return RowsChange(reordered, changed)

    def remove(self, ids: Iterable[int]) -> list[int]:
        """Forget rows; returns the ids that were there."""
        gone: list[int] = []
        keys: list[SortKey] = []
        for conversion_id in ids:
            entry = self._entries.pop(conversion_id, None)
            if entry is None:
                continue
            gone.append(conversion_id)
            self._count_filled(entry, -1)
            if entry.shown:
                keys.append(entry.key)
        if keys:
            self._order = _spliced(self._order, keys, [])
        return gone

    def set_filter(self, text: str) -> None:
        """Show only rows whose ID, file, type, status or note holds ``text`` (any case)."""
        self._filter = text.strip().casefold()
        self._rebuild()

    def set_view(self, predicate: ViewPredicate | None) -> None:
        """Show only rows for which ``predicate(row)`` is true (None: all rows)."""
        self._view = predicate
        self._rebuild()

    def sort_by(self, column: str, reverse: bool) -> None:
        """Order by ``column`` (a key of COLUMNS); ties are broken by id."""
        if column not in COLUMN_KEYS:
            raise KeyError(column)
        self.reverse = reverse
        if column != self.sort_column:
            self.sort_column = column
            for entry in self._entries.values():
                entry.key = self._key(entry)
            self._rebuild()


def _spliced(order: list[SortKey], gone: list[SortKey],
             come: list[SortKey]) -> list[SortKey]:
    """``order`` (ascending, unique keys) without the keys ``gone`` and with ``come``.

    Cost: a binary search per key, plus one copy of the list in slices (done in C) when
    there are many: 1,000 changes among 100,000 rows take a few milliseconds, where
    filtering and re-sorting the whole list took tens.
    """
    if len(gone) + len(come) <= _IN_PLACE_LIMIT:
        for key in gone:
            del order[bisect_left(order, key)]
        for key in come:
            insort(order, key)
        return order
    # Positions in ``order``: where each key goes out, and where each new one goes in
    # (before the key there); one pass then copies the runs between them.
    out = sorted(bisect_left(order, key) for key in gone)
    come = sorted(come)
    into = [bisect_left(order, key) for key in come]
    result: list[SortKey] = []
    start = taken = put = 0
    while taken < len(out) or put < len(come):
        if put < len(come) and (taken == len(out) or into[put] <= out[taken]):
            position = into[put]
            result += order[start:position]
            result.append(come[put])
            put += 1
            start = position
        else:
            position = out[taken]
            result += order[start:position]
            taken += 1
            start = position + 1
    result += order[start:]
    return result


class RowsById(Mapping[int, Any]):
    """Read-only view of the table's rows by conversion id (the objects given)."""

    __slots__ = ("_entries",)

    def __init__(self, entries: Mapping[int, RowEntry]) -> None:
        self._entries = entries

    def __getitem__(self, conversion_id: int) -> Any:
        return self._entries[conversion_id].row

    def __iter__(self) -> Iterator[int]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, conversion_id: object) -> bool:
        return conversion_id in self._entries
