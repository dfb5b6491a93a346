"""How the conversions table is drawn: a visible line at a time, from :class:`TableRows`.

:class:`TableView` holds the rows, the cursor and the marks, lays out the columns, reads
the theme's component styles and caches each row's Strip until that row, the layout, the
cursor, a mark, the theme or one of its clock cells changes; repaints after data updates
are held back to one per :attr:`TableView.repaint_interval`. What a person does with the
table (keys, clicks, sorting, filtering, marking) is :class:`ConversionsTable`'s.

Colours come from the theme: component classes below use ``$status-*``
variables; :data:`STATUS_VARIABLE_DEFAULTS` gives them values for any theme
that does not (the App returns it from ``get_theme_variable_defaults``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from tui.ui.textual_private import component_styles_identity
from tui.ui.widgets.table.columns import CLOCK_STEP, COLUMNS, Column, ColumnSlot, layout_columns
from tui.ui.widgets.table.drawing import (
    ACCENTS,
    CHECKING,
    PREFIX,
    PROBLEM,
    STALE,
    STATUS_CLASS,
    UNREAD,
    clock_cells,
    draw_header,
    draw_message,
    draw_row,
)
from tui.ui.widgets.table.rows import TableRows

__all__ = ["STATUS_VARIABLE_DEFAULTS", "STRIP_CACHE_ROWS", "TableView"]


STATUS_VARIABLE_DEFAULTS: dict[str, str] = {
    "status-queued": "#8a8f98",
    "status-processing": "#4ea1f3",
    "status-completed": "#3fb950",
    "status-failed": "#f85149",
    "status-deleting": "#d29922",
    "status-deleted": "#6e7681",
    "status-not-found": "#c586c0",
    "status-unknown": "#b0b4ba",
    "status-stale": "#d29922",
}
"""Theme variables the table's stylesheet uses, with values that read on dark and light."""

#: Drawn rows kept for reuse: two screens of a tall (100-row) terminal. Each keeps the
#: crops Textual made of it, so the soak measured ~9 kB a row.
STRIP_CACHE_ROWS = 200


class TableView(ScrollView):
    """The drawing half of the conversions table (see the module docstring)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        f"{PREFIX}header",
        f"{PREFIX}cursor",
        f"{PREFIX}marked",
        f"{PREFIX}deleted-row",
        STALE,
        CHECKING,
        PROBLEM,
        UNREAD,
        f"{PREFIX}empty",
        *STATUS_CLASS.values(),
    }

    empty_message = "No conversions watched yet — press a to add IDs"
    """Shown when the table has no rows (the app may reword it after a keymap change)."""
    no_match_message = "Nothing matches the filter"
    """Shown when rows exist but the filter hides them all."""
    view_empty_message = "Nothing in this view"
    """Shown when rows exist, no filter is set and the view holds none of them."""
    repaint_interval = 0.5
    """Seconds: repaints caused by upsert() are held back to at most one per interval."""

    def __init__(
        self,
        *,
        now: Callable[[], float] = time.time,
        poll_interval: float = 5.0,
        settled_interval: float = 600.0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """``now`` gives the time in unix seconds (inject a frozen clock in tests);
        ``poll_interval`` and ``settled_interval`` (seconds) decide when "Checked" counts
        as stale: after three intervals of the row's own kind (active or settled)."""
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._now = now
        self._poll_interval = poll_interval
        self._settled_interval = settled_interval
        self._rows = TableRows()
        self._cursor_id: int | None = None
        self._marks: set[int] = set()
        self._slots: tuple[ColumnSlot, ...] = ()
        self._columns: tuple[Column, ...] = COLUMNS  # chosen ones (tui.ui.screens.flows.columns)
        self._layout_for: tuple[int, tuple[tuple[str, int], ...], frozenset[str]] | None = None
        self._layout_dirty = True
        self._layout_generation = 0
        self._styles: dict[str, Style] = {}
        self._style_token: tuple[Style, ...] = ()
        self._style_identity: tuple[object, ...] = ()
        self._style_generation = 0
        # Drawn rows by id, reused while nothing in them changed. A cached Strip costs
        # kilobytes (with Textual's own caches inside it), so keep a couple of screens'
        # worth (a page back and forth stays cached), not thousands nobody looks at.
        self._strips: LRUCache[int, tuple[tuple[Any, ...], Strip]] = LRUCache(STRIP_CACHE_ROWS)
        self._header: tuple[tuple[Any, ...], Strip] | None = None
        self._today: tuple[int, datetime] | None = None
        self._pending_full = False
        self._pending_rows: set[int] = set()
        self._repaint_timer: Timer | None = None
        self._last_data_repaint = float("-inf")
        self._clock_timer: Timer | None = None
        # The content width during one paint (render_lines): Textual works the region out
        # anew (styles, scrollbars, gutter) each time it is asked, and that was twice a
        # line, a tenth of a repaint.
        self._paint_width: int | None = None

    # -- settings --------------------------------------------------------------
    @property
    def now(self) -> Callable[[], float]:
        """The clock the relative-time columns use."""
        return self._now

    @now.setter
    def now(self, provider: Callable[[], float]) -> None:
        self._now = provider
        self._repaint_all()

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns to show when they fit, left to right (the default: COLUMNS)."""
        return self._columns

    @columns.setter
    def columns(self, columns: tuple[Column, ...]) -> None:
        if columns != self._columns:
            self._columns = columns
            self._layout_for = None
            self._layout_dirty = True
            self.refresh()

    @property
    def filled_columns(self) -> frozenset[str]:
        """Keys of the columns some row has text in now (they may rank higher)."""
        return self._rows.filled

    @property
    def poll_interval(self) -> float:
        """Seconds between polls; "Checked" older than three of these is stale."""
        return self._poll_interval

    @poll_interval.setter
    def poll_interval(self, seconds: float) -> None:
        self._poll_interval = seconds
        self._repaint_all()

    def _stale_after(self) -> tuple[float, float]:
        """Seconds after which "Checked" is stale: (active rows, settled rows)."""
        return (3 * self._poll_interval, 3 * self._settled_interval)

    def _page_rows(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def _refresh_row(self, conversion_id: int) -> None:
        index = self._rows.index_of(conversion_id)
        if index is not None:
            self._refresh_index(index)

    def _refresh_index(self, index: int) -> None:
        """Repaint one row now (after a held-back full repaint, so no line shows old order)."""
        if self._pending_full:
            self._repaint_pending(data=False)
        else:
            self.refresh_line(index + 1)

    def _repaint_all(self) -> None:
        """Repaint every visible line now; a held-back data repaint is no longer needed."""
        self._pending_full = True
        self._repaint_pending(data=False)

    def _repaint_soon(self, changed: list[int] | None) -> None:
        """Repaint after a data update, at most once per ``repaint_interval``.

        Polls can deliver a change every few milliseconds; each repaint of a full
        screen costs several milliseconds of compositing and terminal output, all
        day. Held-back changes are already in the model (cursor, sort, lookups
        see them at once); only the pixels wait.
        """
        if changed is None:
            self._pending_full = True
        else:
            self._pending_rows.update(changed)
        if self._repaint_timer is not None:
            return
        wait = self._last_data_repaint + self.repaint_interval - time.monotonic()
        if wait <= 0 or not self.is_mounted:
            self._repaint_pending()
        else:
            self._repaint_timer = self.set_timer(wait, self._repaint_pending)

    def _repaint_pending(self, data: bool = True) -> None:
        if self._repaint_timer is not None:
            self._repaint_timer.stop()
            self._repaint_timer = None
        if self._pending_full:
            self.refresh()
        else:
            for conversion_id in self._pending_rows:
                index = self._rows.index_of(conversion_id)
                if index is not None:
                    self.refresh_line(index + 1)
        self._pending_full = False
        self._pending_rows.clear()
        if data:
            self._last_data_repaint = time.monotonic()

    def _update_virtual_size(self) -> None:
        size = Size(0, self._rows.shown_count + 1)  # + the header line
        if self.virtual_size != size:
            self.virtual_size = size

    # -- internals: drawing ------------------------------------------------------
    def _ensure_layout(self) -> None:
        width = self.scrollable_content_region.width
        if not self._layout_dirty and self._layout_for and self._layout_for[0] == width:
            return
        wants = tuple(sorted(self._rows.wants.items()))
        filled = self._rows.filled
        if self._layout_for != (width, wants, filled):
            slots = layout_columns(width, dict(wants), self._columns, filled=filled)
            if slots != self._slots:
                self._slots = slots
                self._layout_generation += 1
                self._header = None
                # New column widths: every visible line (header included) must be drawn
                # again, not only the rows whose data changed.
                self.refresh()
            self._layout_for = (width, wants, filled)
        self._layout_dirty = False

    def _resolve_styles(self) -> None:
        """Read the component styles; when the theme changed, drop every cached Strip.

        Textual clears its own style cache on every refresh, so reading fourteen
        component styles per paint costs more than drawing the rows. The stylesheet
        replaces a node's component styles whenever it re-applies them (theme,
        focus, hover), so their identities tell cheaply whether to look again.
        """
        base = self.rich_style
        identity = (base, *component_styles_identity(self))
        if identity == self._style_identity and self._styles:
            return
        self._style_identity = identity
        names = sorted(self.COMPONENT_CLASSES)
        full = [self.get_component_rich_style(name) for name in names]
        token = (base, *full)
        if token == self._style_token:
            return
        self._style_token = token
        self._style_generation += 1
        self._header = None
        styles = dict(zip(names, full, strict=True))
        # Accents colour a cell's text only, keeping the row's background.
        for name in ACCENTS:
            partial = self.get_component_rich_style(name, partial=True)
            styles[name] = partial.without_color + Style(color=styles[name].color)
        styles["base"] = base
        self._styles = styles

    def render_lines(self, crop: Region) -> list[Strip]:
        """Resolve styles, layout and width once per paint, then draw lines."""
        self._resolve_styles()
        self._ensure_layout()
        self._paint_width = self.scrollable_content_region.width
        try:
            return super().render_lines(crop)
        finally:
            self._paint_width = None

    def render_line(self, y: int) -> Strip:
        """Line 0 is the header; the rest are rows from the scroll position."""
        width = self._paint_width
        if width is None:  # asked outside a paint: nothing was resolved for it
            width = self.scrollable_content_region.width
            if not self._styles:
                self._resolve_styles()
            self._ensure_layout()
        if y == 0:
            key = (width, self._layout_generation, self._style_generation,
                   self._rows.sort_column, self._rows.reverse)
            if self._header is None or self._header[0] != key:
                strip = draw_header(self._slots, self._styles[f"{PREFIX}header"],
                                    self._rows.sort_column, self._rows.reverse, width)
                self._header = (key, strip)
            return self._header[1]
        count = self._rows.shown_count
        if not count:
            if y == 1:
                if not len(self._rows):
                    message = self.empty_message
                elif self._rows.filter_text:
                    message = self.no_match_message
                else:
                    message = self.view_empty_message
                return draw_message(message, self._styles[f"{PREFIX}empty"], width)
            return Strip.blank(width, self._styles["base"])
        index = y - 1 + self.scroll_offset.y
        if index >= count:
            return Strip.blank(width, self._styles["base"])
        return self._row_strip(self._rows.id_at(index), width)

    def _clock_now(self) -> tuple[int, datetime]:
        """The clock the ages are drawn at (stepped, see CLOCK_STEP) and its local day."""
        now = int(self._now()) // CLOCK_STEP * CLOCK_STEP
        if self._today is None or self._today[0] != now:
            self._today = (now, datetime.fromtimestamp(now).astimezone())
        return self._today

    def _row_strip(self, conversion_id: int, width: int) -> Strip:
        entry = self._rows.entries[conversion_id]
        now, today = self._clock_now()
        clock = clock_cells(entry, now, today, self._stale_after())
        is_cursor = conversion_id == self._cursor_id
        is_marked = conversion_id in self._marks
        key = (entry.version, width, self._layout_generation, self._style_generation,
               is_cursor, is_marked, clock)
        cached = self._strips.get(conversion_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        strip = draw_row(entry, clock, self._slots, self._styles,
                         cursor=is_cursor, marked=is_marked, width=width)
        self._strips.discard(conversion_id)  # LRUCache.set keeps an existing value
        self._strips[conversion_id] = (key, strip)
        return strip

    def refresh_clock(self) -> None:
        """Repaint the visible rows whose clock cells changed, nothing else (run every second)."""
        count = self._rows.shown_count
        if not count or not self._slots:
            return
        if not self.screen.is_current:
            # Under a modal, ticking ages would repaint the whole screen behind it every
            # few seconds (tens of kB over SSH); they catch up when the modal closes.
            return
        now, today = self._clock_now()
        stale_after = self._stale_after()
        top = self.scroll_offset.y
        entries, strips = self._rows.entries, self._strips
        for index in range(top, min(top + self._page_rows(), count)):
            conversion_id = self._rows.id_at(index)
            cached = strips.get(conversion_id)
            if cached is None:
                continue
            if cached[0][-1] != clock_cells(entries[conversion_id], now, today, stale_after):
                self._refresh_index(index)
