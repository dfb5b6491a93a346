"""The Problems view: failures grouped by cause, and a group's rows in the table.

The view's tab shows a list of groups (:class:`~tui.ui.widgets.problems_list.ProblemsList`)
in the table's place. Enter on a group shows that group's rows in the normal table, all of
them marked, under a breadcrumb; esc goes back to the groups. Because the rows are marked,
every row action (copy ``c``, export ``e``, re-check ``r``, delete ``d`` with its usual
confirmation, unwatch, acknowledge) acts on the whole group through the same code as
anywhere else. A row action pressed on the list itself first opens the highlighted group,
so the person sees exactly the rows it will act on.

The groups are kept by a :class:`~tui.core.problems.ProblemIndex`, seeded at load from the
groups the watchlist file keeps (one query: each text was masked when stored), then
following the watched rows as they change (only changed rows are masked again); the list
and the tab's count are redrawn at most once a second, on the monitor's tick.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

from textual import events
from textual.widget import Widget
from textual.widgets import Input, Tab, Tabs

from tui.core.problems import ProblemIndex, ProblemKey
from tui.core.untrusted import printable
from tui.core.watchlist import WatchedConversion, WatchlistError
from tui.ui.screens.flows import ROW_ACTION_BINDINGS
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.textual_private import bindings_with_keymap
from tui.ui.views import VIEWS_BY_KEY, tab_label
from tui.ui.widgets.problems_list import ProblemsBreadcrumb, ProblemsList
from tui.ui.workers import reported

__all__ = ["GROUP_ACTIONS", "PROBLEMS_VIEW", "ProblemsFlow"]

_log = logging.getLogger(__name__)

PROBLEMS_VIEW = "problems"
"""The key of the Problems view (tui/ui/views.py)."""

#: Actions that, pressed on the list of groups, act on the highlighted group's rows: the
#: row actions (an acknowledge key added to ROW_ACTION_BINDINGS joins them by itself) and
#: the monitor's own ones that work on marked rows.
GROUP_ACTIONS = frozenset(
    {binding.action for binding in ROW_ACTION_BINDINGS} - {"inspect", "upload", "audit_log"}
    | {"remove_from_watchlist", "refresh_selected"})


def _no_row(row: WatchedConversion) -> bool:
    return False


class ProblemsFlow:
    """The Problems view of the monitor (see the module docstring)."""

    def __init__(self, host: MonitorHost) -> None:
        self._host = host
        self.index = ProblemIndex()
        self.open_group_key: ProblemKey | None = None
        self._active = False  # the Problems tab is the view shown
        # Changes that arrive until the first index is built in a thread, applied after
        # (None once built). Not None from the start: the tab chosen before the rows are
        # loaded says it is grouping, not that there are no problems.
        self._pending: list[tuple[Sequence[WatchedConversion], Sequence[int]]] | None = []
        self._drawn_generation = -1
        self._shown_label: str | None = None

    # ----------------------------------------------------------------- widgets
    def make_list(self) -> ProblemsList:
        """The list of groups, for the screen's compose (hidden until the view is shown)."""
        return ProblemsList(id="problems", on_choose=self.open_group,
                            before_key=self.before_key)

    @staticmethod
    def make_breadcrumb() -> ProblemsBreadcrumb:
        """The line above a group's rows: which group, and how to go back."""
        return ProblemsBreadcrumb("", id="problems-crumb", markup=False)

    @property
    def _list(self) -> ProblemsList:
        return self._host.screen.query_one(ProblemsList)

    @property
    def _crumb(self) -> ProblemsBreadcrumb:
        return self._host.screen.query_one(ProblemsBreadcrumb)

    @property
    def ready(self) -> bool:
        """True once the first index of the watched rows is built."""
        return self._pending is None and self._drawn_generation >= 0

    # ------------------------------------------------------------- following rows
    def load(self, rows: list[WatchedConversion]) -> None:
        """Index the loaded rows, from the groups the file keeps (in a thread: the query
        reads the file)."""
        if self._pending is None:
            self._pending = []
        if self._active and self.open_group_key is None:
            self._show_groups()  # "grouping…" until built, also if shown before
        self._host.screen.run_worker(reported(partial(self._build, rows)), thread=True,
                                     group="problems", exit_on_error=False)

    def _build(self, rows: list[WatchedConversion]) -> None:
        index = ProblemIndex()
        # The team store (PostgreSQL) keeps no groups: its rows are masked here.
        stored_groups = getattr(self._host.watching.watchlist, "stored_groups", None)
        try:
            if stored_groups is None:
                index.set_rows(rows)
            else:
                # The groups and the rows of one moment; changes since are in _pending.
                index.seed(stored_groups())
        except WatchlistError as error:  # a damaged file: the rows in hand still group
            _log.warning("the stored groups could not be read (%s): masking every "
                         "message instead", error)
            index.set_rows(rows)
        try:
            self._host.app.call_from_thread(self._built, index)
        except RuntimeError:
            pass  # the app is closing

    def _built(self, index: ProblemIndex) -> None:
        for rows, removed in self._pending or ():
            index.update(rows)
            index.remove(removed)
        self._pending = None
        self.index = index
        self.redraw()

    def rows_changed(self, rows: Sequence[WatchedConversion], removed: Sequence[int]) -> None:
        """Follow a change of the watched rows (shown on the next tick)."""
        if self._pending is not None:
            self._pending.append((rows, removed))
            return
        if rows:
            self.index.update(rows)
        if removed:
            self.index.remove(removed)

    def tick(self) -> None:
        """Once a second: redraw the groups and their count if a group changed."""
        if self._pending is None and self.index.generation != self._drawn_generation:
            self.redraw()

    def redraw(self) -> None:
        """Draw the groups and the tab's count now."""
        self._drawn_generation = self.index.generation
        label = tab_label(VIEWS_BY_KEY[PROBLEMS_VIEW], f"{len(self.index):,}",
                          self._host.screen.size.width)
        if label != self._shown_label:  # a new label restarts the tab bar's underline
            self._shown_label = label
            tab = self._host.screen.query_one(Tabs).query_one(f"#view-{PROBLEMS_VIEW}", Tab)
            tab.label = label
        if self._active and self.open_group_key is None:
            self._show_groups()
        elif self.open_group_key is not None:
            self._show_crumb(self.open_group_key)

    # ------------------------------------------------------------------ the view
    def show_view(self, key: str) -> bool:
        """The view tab ``key`` was chosen: show the groups if it is Problems (True), else
        leave the Problems view (False: the caller shows the view)."""
        if key != PROBLEMS_VIEW:
            if self._active:
                self._active = False
                self._leave_group()
                self._show_list(False)
            return False
        self._active = True
        self._leave_group()
        self._show_list(True)
        return True

    def open_group(self, key: ProblemKey) -> None:
        """Show the rows of the group ``key`` in the table, every one of them marked."""
        if not self._active:
            return
        table = self._host.table
        index_of = self  # the index may be replaced (first build): read it at each call
        self.open_group_key = key
        table.set_view(lambda row: index_of.index.has(key, row),
                       empty_message="No row has this problem any more (esc: the groups)")
        table.clear_marks()
        table.mark_all_visible()
        self._show_crumb(key)
        self._show_list(False, table_too=True)

    def escape(self, box: Input) -> bool:
        """Esc in a group's rows: back to the groups (True). An open or set filter is
        closed first, by the caller (False)."""
        if self.open_group_key is None or box.has_class("-shown") or box.value:
            return False
        self._leave_group()
        self._show_list(True)
        self.redraw()
        return True

    def before_key(self, event: events.Key) -> None:
        """A row action pressed on the list acts on the highlighted group: open it first
        (synchronously, so the action that follows finds its rows marked)."""
        bindings = bindings_with_keymap(self._host.screen).key_to_bindings.get(event.key, [])
        if any(binding.action.split("(")[0] in GROUP_ACTIONS for binding in bindings):
            key = self._list.highlighted_key
            if key is not None:
                self.open_group(key)
            else:  # never a silent key: nothing is acted on, and the person hears why
                event.stop()
                event.prevent_default()
                self._host.notify("No group of problems here: nothing to act on.",
                                  severity="warning", timeout=4, markup=False)

    # ----------------------------------------------------------------- internals
    def _leave_group(self) -> None:
        if self.open_group_key is not None:
            self.open_group_key = None
            self._host.table.clear_marks()  # marks made for the group must not act elsewhere
        self._crumb.remove_class("-shown")

    def _show_groups(self) -> None:
        # Before the first index is built, an empty list would claim there are no problems.
        self._list.show_groups(self.index.groups(), empty=(
            "Grouping the failures of the watched conversions…" if self._pending is not None
            else None))

    def _show_crumb(self, key: ProblemKey) -> None:
        count = len(self.index.ids_of(key))
        marked = len(self._host.table.marked_ids)
        text = printable(key.text, limit=200)
        # The marks are what the keys act on: a filter set before may have left some out.
        # The way back first: at 80 columns a long message would push it out of sight.
        self._crumb.update(f"esc: back · Problems › {count:,} × {key.kind.value} "
                           f"({marked:,} marked): {text}")
        self._crumb.add_class("-shown")

    def _show_list(self, shown: bool, *, table_too: bool = False) -> None:
        """Show the list of groups in the table's place, or the table again."""
        table = self._host.table
        listing = self._list
        if shown:
            # Nothing of the table may be acted on while it is hidden.
            table.set_view(_no_row, empty_message="")
            listing.add_class("-shown")
            table.display = False
            self._show_groups()
            self._focus(listing)
        else:
            listing.remove_class("-shown")
            table.display = True
            if table_too:
                self._focus(table)

    def _focus(self, widget: Widget) -> None:
        # Now, and again once the layout hid the other one (hiding the focused widget
        # moves the focus on by itself).
        widget.focus()
        self._host.screen.call_after_refresh(widget.focus)
