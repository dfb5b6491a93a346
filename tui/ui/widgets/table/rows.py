"""The rows behind the conversions table: sanitised once, filtered, kept in sort order.

No Textual here: the widget asks this model "which conversion is at display
index i" and "where is conversion n", both cheap at 100,000 rows. Each row arrives
as a :class:`RowEntry` (entries.py): sanitised once, with its sort key.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from rich.cells import cell_len

from tui.core.attention import is_acknowledged
from tui.core.filters import RowFilter, TextTest, parse_filter
from tui.ui.widgets.table.choosable import column_for
from tui.ui.widgets.table.entries import (
    PROBLEM_SYMBOL,
    ConversionRow,
    RowEntry,
    SortKey,
    key_reader,
    make_entry,
    new_version,
    refill,
    sort_key,
)
from tui.ui.widgets.table.order import SortedKeys

__all__ = ["PROBLEM_SYMBOL", "ConversionRow", "RowEntry", "RowsById", "RowsChange",
           "RowsWatcher", "TableRows", "make_entry"]

#: Columns whose presence (or rank) depends on whether any row has text in them.
_FILLABLE = ("note", "problem", "attention")


ViewPredicate = Callable[[Any], bool]

# Content-sized columns and the entry field each is measured from (the ID apart).
_MEASURED = (("file", "file"), ("type", "type"), ("status", "status_text"),
             ("note", "note"), ("problem", "problem"))


def _cells(text: str) -> int:
    # isascii() first: cell_len is the cost here, and most names are ASCII.
    return len(text) if text.isascii() else cell_len(text)


class RowsWatcher(Protocol):
    """Told of every row the table gains, loses or replaces (counts kept per change)."""

    def reset(self, rows: Iterable[Any]) -> None:
        """The rows are now exactly ``rows``."""

    def replace(self, old: Any | None, new: Any | None) -> None:
        """One row changed: ``old`` (None: it is new) became ``new`` (None: removed)."""


@dataclass(slots=True)
class RowsChange:
    """What an update did: ``reordered`` when rows moved, appeared or vanished."""

    reordered: bool
    changed: list[int]


class TableRows:
    """All rows by id, and the shown ones (filter and view applied) in sort order.

    Shown rows are kept as unique sort keys (the id is the last part), always
    ascending, in a :class:`SortedKeys` (blocks of about a thousand keys); a reversed
    sort only reverses how indexes are read. A change moves its row with two binary
    searches and an edit of one block: its cost does not grow with the rows.
    """

    def __init__(self) -> None:
        self._entries: dict[int, RowEntry] = {}
        self._order = SortedKeys()
        self._filter = ""
        self._row_test: ViewPredicate | None = None
        self._text_test: TextTest | None = None
        self._view: ViewPredicate | None = None
        self.sort_column = "id"
        self._key_id = key_reader(self.sort_column)
        self.reverse = False
        self.wants: dict[str, int] = {}
        """Widest content seen per content-sized column (for the layout)."""
        self._filled_rows: dict[str, int] = dict.fromkeys(_FILLABLE, 0)
        self._watcher: RowsWatcher | None = None

    @property
    def watcher(self) -> RowsWatcher | None:
        """Told of each change of the rows; set it and it is reset to the rows held."""
        return self._watcher

    @watcher.setter
    def watcher(self, watcher: RowsWatcher | None) -> None:
        self._watcher = watcher
        if watcher is not None:
            watcher.reset(entry.row for entry in self._entries.values())

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
        """The current filter, as typed (without its outer spaces)."""
        return self._filter

    @property
    def view(self) -> ViewPredicate | None:
        """The current view predicate."""
        return self._view

    def id_at(self, index: int) -> int:
        """The conversion id at display ``index`` (0 is the top row)."""
        position = len(self._order) - 1 - index if self.reverse else index
        return self._key_id(self._order[position])

    def index_of(self, conversion_id: int) -> int | None:
        """The display index of ``conversion_id``, or None when it is not shown."""
        entry = self._entries.get(conversion_id)
        if entry is None or not entry.shown:
            return None
        position = self._order.index(entry.key)
        return len(self._order) - 1 - position if self.reverse else position

    def shown_ids(self) -> Iterator[int]:
        """Shown conversion ids in display order."""
        keys = reversed(self._order) if self.reverse else iter(self._order)
        key_id = self._key_id
        for key in keys:
            yield key_id(key)

    # -- changing ------------------------------------------------------------
    def _passes(self, entry: RowEntry) -> bool:
        if self._row_test is not None and not self._row_test(entry.row):
            return False
        # Free words are searched in the entry's sanitised text, made once per row.
        if self._text_test is not None and not self._text_test(entry.haystack):
            return False
        return self._view is None or bool(self._view(entry.row))

    def _key(self, entry: RowEntry) -> SortKey:
        return sort_key(self.sort_column, entry)

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
        row = entry.row
        # The Ack column: acknowledged or ever snoozed (read from the row alone, so the
        # count goes down by what it went up; an ended snooze shows an empty cell).
        if row.snoozed_until is not None or (row.acknowledged_at is not None
                                             and is_acknowledged(row)):
            filled["attention"] += step

    def _rebuild(self) -> None:
        passes = self._passes
        order = []
        for entry in self._entries.values():
            entry.shown = passes(entry)
            if entry.shown:
                order.append(entry.key)
        self._order.reset(order)

    def set_rows(self, rows: Iterable[ConversionRow]) -> None:
        """Replace every row."""
        version = new_version()  # one for all: each differs from the entries' before
        self._entries = {row.id: make_entry(row, version) for row in rows}
        self.wants = {}
        self._filled_rows = dict.fromkeys(_FILLABLE, 0)
        self._measure(self._entries.values())
        for entry in self._entries.values():
            entry.key = self._key(entry)
            self._count_filled(entry, 1)
        self._rebuild()
        if self._watcher is not None:
            self._watcher.reset(entry.row for entry in self._entries.values())

    def upsert(self, rows: Iterable[ConversionRow]) -> RowsChange:
        """Add or replace rows; shown rows move only when their sort key changed."""
        entries = self._entries
        changed: list[int] = []
        touched: list[RowEntry] = []
        # Each touched id's (sort key, shown, row) from before this batch (None: new), at
        # its first sight only: an entry is refilled in place, and an id may come twice.
        before: dict[int, tuple[SortKey, bool, Any] | None] = {}
        for row in rows:
            conversion_id = row.id
            entry = entries.get(conversion_id)
            if entry is None:
                entry = entries[conversion_id] = make_entry(row)
                before.setdefault(conversion_id, None)
            else:
                if conversion_id not in before:
                    before[conversion_id] = (entry.key, entry.shown, entry.row)
                self._count_filled(entry, -1)
                refill(entry, row)
            entry.key = self._key(entry)
            entry.shown = self._passes(entry)
            self._count_filled(entry, 1)
            changed.append(conversion_id)
            touched.append(entry)
        self._measure(touched)
        reordered = False
        order = self._order
        watcher = self._watcher
        for conversion_id, old in before.items():
            entry = entries[conversion_id]
            if watcher is not None:
                watcher.replace(None if old is None else old[2], entry.row)
            if old is not None and old[1] == entry.shown and old[0] == entry.key:
                continue
            reordered = True
            if old is not None and old[1]:
                order.remove(old[0])
            if entry.shown:
                order.add(entry.key)
        return RowsChange(reordered, changed)

    def remove(self, ids: Iterable[int]) -> list[int]:
        """Forget rows; returns the ids that were there."""
        gone: list[int] = []
        for conversion_id in ids:
            entry = self._entries.pop(conversion_id, None)
            if entry is None:
                continue
            gone.append(conversion_id)
            if self._watcher is not None:
                self._watcher.replace(entry.row, None)
            self._count_filled(entry, -1)
            if entry.shown:
                self._order.remove(entry.key)
        return gone

    def set_filter(self, rows_filter: str | RowFilter) -> None:
        """Show only rows that pass ``rows_filter`` (the filter language of
        :mod:`tui.core.filters`; free words: a part of the ID, file, type, status or note,
        in any case). Text is parsed here: a bad term raises ``FilterError``, and the
        filter shown stays as it was."""
        if isinstance(rows_filter, str):
            rows_filter = parse_filter(rows_filter)
        self._filter = rows_filter.text.strip()
        self._row_test, self._text_test = rows_filter.row_test, rows_filter.text_test
        self._rebuild()

    def set_view(self, predicate: ViewPredicate | None) -> None:
        """Show only rows for which ``predicate(row)`` is true (None: all rows)."""
        self._view = predicate
        self._rebuild()

    def sort_by(self, column: str, reverse: bool) -> None:
        """Order by ``column`` (a key of COLUMNS); ties are broken by id."""
        if column_for(column) is None:
            raise KeyError(column)
        self.reverse = reverse
        if column != self.sort_column:
            self.sort_column = column
            self._key_id = key_reader(column)
            for entry in self._entries.values():
                entry.key = self._key(entry)
            self._rebuild()


class RowsById(Mapping[int, Any]):
    """Live read-only view of the table's rows by conversion id (the objects given).

    It reads the table's rows at each use, never a copy taken when it was made: a caller
    that keeps the view (a test waiting for a row to change) must not be left looking at
    the rows from before the first load replaced them all.
    """

    __slots__ = ("_rows",)

    def __init__(self, rows: TableRows) -> None:
        self._rows = rows

    def __getitem__(self, conversion_id: int) -> Any:
        return self._rows.entries[conversion_id].row

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows.entries)

    def __len__(self) -> int:
        return len(self._rows.entries)

    def __contains__(self, conversion_id: object) -> bool:
        return conversion_id in self._rows.entries
