"""The watchlist table: thousands of conversions, drawn a visible line at a time.

Why not DataTable: at 10,000 rows it takes seconds to show, repaints slowly,
reads plain strings as markup and lets escape bytes through (measured; see
benchmarks/bench_table.py). The rows live in :class:`TableRows` (sanitised once,
kept in sort order); :class:`TableView` draws only the lines on screen. This module
is what a person does with it: keys, clicks, the cursor, marks, sorting and filtering.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from textual import events
from textual.binding import Binding, BindingType

from tui.core.filters import RowFilter
from tui.ui.widgets.table.choosable import column_for
from tui.ui.widgets.table.columns import COLUMN_KEYS
from tui.ui.widgets.table.messages import CursorMoved, MarksChanged, RowActivated, SortChanged
from tui.ui.widgets.table.rows import ConversionRow, RowsById, RowsWatcher
from tui.ui.widgets.table.styles import TABLE_CSS
from tui.ui.widgets.table.view import STATUS_VARIABLE_DEFAULTS, TableView

__all__ = ["STATUS_VARIABLE_DEFAULTS", "ConversionsTable"]


class ConversionsTable(TableView, can_focus=True):
    """A sortable, filterable table of watched conversions with a row cursor and marks.

    Rows are any objects with the attributes of
    ``tui.core.watchlist.WatchedConversion``; the row key is the conversion id.
    """

    # How each part the drawing names (header, cursor, marks, statuses) looks: styles.py.
    DEFAULT_CSS = TABLE_CSS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False, id="cursor-up"),
        Binding("down", "cursor_down", "Down", show=False, id="cursor-down"),
        Binding("pageup", "page_up", "Page up", show=False, id="page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="page-down"),
        Binding("home", "first", "First", show=False, id="first-row"),
        Binding("end", "last", "Last", show=False, id="last-row"),
        Binding("space", "toggle_mark", "Mark", id="mark", show=False),
        Binding("enter", "activate", "Inspect", id="activate"),
    ]

    CursorMoved = CursorMoved
    RowActivated = RowActivated
    SortChanged = SortChanged
    MarksChanged = MarksChanged

    # -- reading ---------------------------------------------------------------
    @property
    def rows(self) -> Mapping[int, Any]:
        """Every row (shown or not) by conversion id."""
        return RowsById(self._rows)

    @property
    def rows_watcher(self) -> RowsWatcher | None:
        """Told of every row change (the view counts); setting it resets it to the rows."""
        return self._rows.watcher

    @rows_watcher.setter
    def rows_watcher(self, watcher: RowsWatcher | None) -> None:
        self._rows.watcher = watcher

    @property
    def visible_count(self) -> int:
        """Rows that pass the filter and the view."""
        return self._rows.shown_count

    @property
    def visible_ids(self) -> list[int]:
        """Shown conversion ids, top to bottom."""
        return list(self._rows.shown_ids())

    @property
    def cursor_id(self) -> int | None:
        """The conversion under the cursor, or None when no row is shown."""
        return self._cursor_id

    @property
    def sort_column(self) -> str:
        """Key of the column rows are sorted by."""
        return self._rows.sort_column

    @property
    def sort_reverse(self) -> bool:
        """True when the sort is descending."""
        return self._rows.reverse

    @property
    def filter_text(self) -> str:
        """The current filter, as typed (empty: none)."""
        return self._rows.filter_text

    @property
    def marked_ids(self) -> tuple[int, ...]:
        """Marked conversions, by id; includes marks a filter currently hides."""
        return tuple(sorted(self._marks))

    @property
    def shown_columns(self) -> tuple[str, ...]:
        """Keys of the columns that fit the current width, left to right."""
        self._ensure_layout()
        return tuple(slot.column.key for slot in self._slots)

    @property
    def cursor_in_sight(self) -> bool:
        """True when the cursor's row is on screen (inside the rows the table shows now)."""
        index = self._cursor_index()
        if index is None:
            return False
        top = self.scroll_offset.y
        return top <= index < top + self._page_rows()

    def scroll_cursor_into_sight(self) -> None:
        """Scroll so that the cursor's row is on screen (nothing else moves)."""
        index = self._cursor_index()
        if index is not None:
            self._scroll_to_index(index)

    def targets(self) -> list[int]:
        """What an action applies to: the marked conversions, else the cursor's."""
        if self._marks:
            return list(self.marked_ids)
        return [] if self._cursor_id is None else [self._cursor_id]

    # -- data ------------------------------------------------------------------
    def set_rows(self, rows: Iterable[ConversionRow]) -> None:
        """Replace all rows. The cursor stays on its conversion if it is still there."""
        before = self._cursor_index()
        self._rows.set_rows(rows)
        self._strips.clear()
        self._drop_missing_marks()
        self._after_change(before, reordered=True)

    def upsert(self, rows: Iterable[ConversionRow]) -> None:
        """Add or update rows in place: cursor, marks and scroll position stay."""
        before = self._cursor_index()
        change = self._rows.upsert(rows)
        if not change.changed:
            return
        self._after_change(before, reordered=change.reordered, changed=change.changed)

    def remove_rows(self, ids: Iterable[int]) -> None:
        """Forget rows; a cursor on a removed row moves to the row that took its place.

        (Not ``remove``: that is Widget.remove, which takes the widget off the screen.)
        """
        before = self._cursor_index()
        gone = self._rows.remove(ids)
        if not gone:
            return
        for conversion_id in gone:
            self._strips.discard(conversion_id)
        self._drop_missing_marks()
        self._after_change(before, reordered=True)

    def set_filter(self, rows_filter: str | RowFilter) -> None:
        """Show the rows that pass ``rows_filter``: the filter language of
        :mod:`tui.core.filters`, parsed or as text (free words: a part of the ID, file,
        type, status or note, any case). Bad text raises ``FilterError``; nothing changes."""
        before = self._cursor_index()
        self._rows.set_filter(rows_filter)
        self._after_change(before, reordered=True, follow=True)

    def set_view(self, predicate: Callable[[Any], bool] | None, *,
                 empty_message: str | None = None) -> None:
        """Show only rows for which ``predicate(row)`` is true; None shows all.
        ``empty_message``: what to say when the view holds no row."""
        before = self._cursor_index()
        self.view_empty_message = empty_message or type(self).view_empty_message
        self._rows.set_view(predicate)
        self._after_change(before, reordered=True, follow=True)

    # -- sorting ---------------------------------------------------------------
    def sort_by(self, column_key: str, reverse: bool | None = None) -> None:
        """Sort by ``column_key`` (one of COLUMN_KEYS). ``reverse=None`` keeps the
        direction when the column is unchanged and sorts a new column ascending."""
        if column_for(column_key) is None:
            raise KeyError(column_key)
        if reverse is None:
            reverse = self._rows.reverse if column_key == self._rows.sort_column else False
        if (column_key, reverse) == (self._rows.sort_column, self._rows.reverse):
            return
        before = self._cursor_index()
        self._rows.sort_by(column_key, reverse)
        self._header = None
        self._after_change(before, reordered=True, follow=True)
        self.post_message(self.SortChanged(self, column_key, reverse))

    def cycle_sort(self) -> None:
        """Sort by the next column shown (left to right, wrapping), ascending."""
        keys = self.shown_columns or COLUMN_KEYS
        current = self._rows.sort_column
        position = keys.index(current) if current in keys else -1
        self.sort_by(keys[(position + 1) % len(keys)], False)

    def reverse_sort(self) -> None:
        """Flip the sort direction."""
        self.sort_by(self._rows.sort_column, not self._rows.reverse)

    # -- cursor and marks --------------------------------------------------------
    def move_cursor(self, conversion_id: int) -> bool:
        """Put the cursor on ``conversion_id`` and scroll to it; False if it is not shown."""
        index = self._rows.index_of(conversion_id)
        if index is None:
            return False
        self._set_cursor(conversion_id)
        self._scroll_to_index(index)
        return True

    def toggle_mark(self, conversion_id: int | None = None) -> None:
        """Mark or unmark ``conversion_id`` (default: the cursor's)."""
        target = self._cursor_id if conversion_id is None else conversion_id
        if target is None or target not in self._rows.entries:
            return
        if target in self._marks:
            self._marks.discard(target)
        else:
            self._marks.add(target)
        self._refresh_row(target)
        self.post_message(self.MarksChanged(self, len(self._marks)))

    def mark_all_visible(self) -> None:
        """Mark every shown row."""
        before = len(self._marks)
        self._marks.update(self._rows.shown_ids())
        if len(self._marks) != before:
            self._repaint_all()
            self.post_message(self.MarksChanged(self, len(self._marks)))

    def clear_marks(self) -> None:
        """Unmark everything."""
        if self._marks:
            self._marks.clear()
            self._repaint_all()
            self.post_message(self.MarksChanged(self, 0))

    # -- actions (bound keys) --------------------------------------------------
    def action_cursor_up(self) -> None:
        """Cursor one row up."""
        self._move_by(-1)

    def action_cursor_down(self) -> None:
        """Cursor one row down."""
        self._move_by(1)

    def action_page_up(self) -> None:
        """Cursor one page up."""
        self._move_by(-self._page_rows())

    def action_page_down(self) -> None:
        """Cursor one page down."""
        self._move_by(self._page_rows())

    def action_first(self) -> None:
        """Cursor to the first row."""
        self._move_to_index(0)

    def action_last(self) -> None:
        """Cursor to the last row."""
        self._move_to_index(self._rows.shown_count - 1)

    def action_toggle_mark(self) -> None:
        """Mark or unmark the cursor's row, then step down (to mark a run quickly)."""
        if self._cursor_id is None:
            return
        self.toggle_mark()
        self._move_by(1)

    def action_activate(self) -> None:
        """Post RowActivated for the cursor's row."""
        if self._cursor_id is not None:
            self.post_message(self.RowActivated(self, self._cursor_id))

    # -- events ----------------------------------------------------------------
    def on_mount(self) -> None:
        """Start the clock that keeps relative times current."""
        self._clock_timer = self.set_interval(1.0, self.refresh_clock)
        self._update_virtual_size()

    def on_click(self, event: events.Click) -> None:
        """A click on the header sorts by that column (again: reverses); on a row selects it."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        if offset.y == 0:
            for slot in self._slots:
                if slot.x <= offset.x < slot.x + slot.width + 1:
                    same = slot.column.key == self._rows.sort_column
                    self.sort_by(slot.column.key, not self._rows.reverse if same else False)
                    break
            return
        index = offset.y - 1 + self.scroll_offset.y
        if 0 <= index < self._rows.shown_count:
            self._move_to_index(index)
            if event.chain >= 2:
                self.action_activate()

    def on_resize(self, event: events.Resize) -> None:
        """Columns are laid out again for the new width; the cursor's row stays on screen
        (a destructive key acts on it, so it must never be somewhere out of sight)."""
        self._layout_dirty = True
        self._update_virtual_size()
        self.scroll_cursor_into_sight()
        # The scroll range follows the new size only after the next layout: look again then.
        self.call_after_refresh(self.scroll_cursor_into_sight)

    # -- internals: cursor -------------------------------------------------------
    def _cursor_index(self) -> int | None:
        return None if self._cursor_id is None else self._rows.index_of(self._cursor_id)

    def _set_cursor(self, conversion_id: int | None) -> None:
        previous = self._cursor_id
        if previous == conversion_id:
            return
        self._cursor_id = conversion_id
        if previous is not None:
            self._refresh_row(previous)
        if conversion_id is not None:
            self._refresh_row(conversion_id)
        self.post_message(self.CursorMoved(self, conversion_id))

    def _move_to_index(self, index: int) -> None:
        count = self._rows.shown_count
        if not count:
            return
        index = min(max(index, 0), count - 1)
        self._set_cursor(self._rows.id_at(index))
        self._scroll_to_index(index)

    def _move_by(self, delta: int) -> None:
        current = self._cursor_index()
        self._move_to_index(0 if current is None else current + delta)

    def _scroll_to_index(self, index: int) -> None:
        top = self.scroll_offset.y
        page = self._page_rows()
        # force: right after rows arrive the scrollbar (which permits scrolling)
        # is only shown at the next layout, but the cursor must be on screen now.
        if index < top:
            self.scroll_to(y=index, animate=False, force=True)
        elif index >= top + page:
            self.scroll_to(y=index - page + 1, animate=False, force=True)

    def _drop_missing_marks(self) -> None:
        entries = self._rows.entries
        missing = {mark for mark in self._marks if mark not in entries}
        if missing:
            self._marks -= missing
            self.post_message(self.MarksChanged(self, len(self._marks)))

    def _after_change(
        self,
        cursor_before: int | None,
        *,
        reordered: bool,
        changed: list[int] | None = None,
        follow: bool = False,
    ) -> None:
        """Keep the cursor on its conversion (or where it was), and repaint what moved.

        ``changed`` (the ids an upsert touched) marks a data update, whose repaint
        may be held back briefly; everything else is a person's action: at once.
        """
        self._layout_dirty = True
        rows = self._rows
        if self._cursor_id is not None and rows.index_of(self._cursor_id) is not None:
            if follow:
                self._scroll_to_index(rows.index_of(self._cursor_id) or 0)
        elif rows.shown_count:
            index = min(cursor_before or 0, rows.shown_count - 1)
            self._set_cursor(rows.id_at(index))
            if follow:
                self._scroll_to_index(index)
        else:
            self._set_cursor(None)
        self._update_virtual_size()
        if changed is None:
            self._repaint_all()
        else:
            self._repaint_soon(None if reordered else changed)
