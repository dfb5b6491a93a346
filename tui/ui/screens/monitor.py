"""The live monitor: the screen a support engineer keeps open all day.

What a person does with rows (delete, upload, export, note, unwatch, ...) is one module
each in :mod:`tui.ui.screens.flows`; the screen owns them and calls them from its
``action_*`` methods, so its bindings, keymap ids and palette entries stay here.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static, Tab, Tabs
from textual.worker import Worker, WorkerState

from tui.core.memory import exempt_loaded_objects, readmit_exempt_objects
from tui.core.polling.scheduler import PollScheduler
from tui.core.session import MonitorSession, ProfileTrackingSource
from tui.core.watching import WatchChange, WatchService
from tui.core.watchlist import WatchedConversion
from tui.ui.alerting import Alerter
from tui.ui.screens.flows import (
    ROW_ACTION_BINDINGS,
    acknowledge,
    add,
    filtering,
    guards,
    hint,
    loading,
    note,
    reading,
    refresh,
)
from tui.ui.screens.flows.changes import ChangeFlow
from tui.ui.screens.flows.credentials import Credentials
from tui.ui.screens.flows.delete import DeleteFlow
from tui.ui.screens.flows.export import export_view
from tui.ui.screens.flows.header import header_info
from tui.ui.screens.flows.layouts import LayoutFlow
from tui.ui.screens.flows.problems import ProblemsFlow
from tui.ui.screens.flows.since import SinceFlow
from tui.ui.screens.flows.unread import UnreadFlow
from tui.ui.screens.flows.unwatch import UnwatchFlow
from tui.ui.screens.flows.upload import run_upload
from tui.ui.views import VIEWS
from tui.ui.widgets.connectivity_banner import ConnectivityBanner
from tui.ui.widgets.keys_footer import KeysFooter
from tui.ui.widgets.monitor_header import MonitorHeader
from tui.ui.widgets.summary_strip import SummaryStrip
from tui.ui.widgets.table.conversions_table import ConversionsTable
from tui.ui.widgets.table.messages import RowActivated, SortChanged
from tui.ui.workers import reported, work


class MonitorScreen(Screen[None]):
    """Header, connectivity banner, views, filter, the table and the footer."""

    DEFAULT_CSS = """
    MonitorScreen { layout: vertical; }
    MonitorScreen #views { height: 2; }
    MonitorScreen #filter { display: none; height: 3; border: tall $accent; }
    MonitorScreen #filter.-shown { display: block; }
    MonitorScreen #filter-problem { display: none; height: auto; padding: 0 1; color: $error; }
    MonitorScreen #filter-problem.-shown { display: block; }
    MonitorScreen ConversionsTable { height: 1fr; }
    MonitorScreen #hint { display: none; height: 1; padding: 0 1;
                          background: $boost; color: $text-muted; }
    MonitorScreen #hint.-shown { display: block; }
    """

    # In this order (the footer's): the row actions, then the monitor's own keys.
    BINDINGS = [
        *ROW_ACTION_BINDINGS,
        Binding("a", "add_ids", "Add IDs", id="monitor.add"),
        Binding("x", "remove_from_watchlist", "Unwatch", id="monitor.unwatch"),
        Binding("z", "undo_unwatch", "Undo unwatch", id="monitor.undo_unwatch", show=False),
        Binding("r", "refresh_selected", "Refresh", id="monitor.refresh"),
        Binding("R", "refresh_all", "Refresh all", id="monitor.refresh_all", show=False),
        Binding("p", "toggle_pause", "Pause", id="monitor.pause"),
        Binding("s", "cycle_sort", "Sort", id="monitor.sort"),
        Binding("S", "reverse_sort", "Reverse", id="monitor.reverse", show=False),
        Binding("o", "pick_sort", "Sort by…", id="monitor.sort_by", show=False),
        Binding("h", "choose_columns", "Columns", id="monitor.columns", show=False),
        Binding("V", "save_view", "Save view", id="monitor.save_view", show=False),
        Binding("slash", "open_filter", "Filter", id="monitor.filter"),
        Binding("escape", "clear", "Clear", id="monitor.clear", show=False),
        Binding("M", "mark_all_read", "Mark all read", id="monitor.mark_all_read", show=False),
        *[
            Binding(str(n), f"view('{view.key}')", view.label, id=f"monitor.view_{view.key}",
                    show=False)
            for n, view in enumerate(VIEWS, start=1)
        ],
    ]

    def __init__(self, session: MonitorSession) -> None:
        super().__init__()
        self.session = session
        # The one owner of the watched rows: every change reaches the table through it.
        self.watching = WatchService.for_session(session, on_change=self._apply_change,
                                                 spawn=self._spawn)
        self.credentials = Credentials(self)
        self.deletion = DeleteFlow(self)
        self.unwatching = UnwatchFlow(self)
        self.layouts = LayoutFlow(self)  # saved views, sort and columns (views.toml)
        self._view = "all"
        self._polling_started = False
        self._hint_done = False
        self.alerter: Alerter | None = None  # made on mount (it needs the app)
        # When the person last looked, for "since you last looked" after a gap.
        self.since = SinceFlow(self)
        self.problems = ProblemsFlow(self)  # the Problems view: failures grouped by cause
        self.unread = UnreadFlow(self)  # bold IDs: changed since you last looked
        # Each change of the service shown; the once-a-second tick.
        self.changes = ChangeFlow(self, credentials=self.credentials, deletion=self.deletion,
                                  problems=self.problems, unwatching=self.unwatching)

    # ------------------------------------------------- what the flows see
    @property
    def table(self) -> ConversionsTable:
        """The watchlist table."""
        return self.query_one(ConversionsTable)

    @property
    def scheduler(self) -> PollScheduler | None:
        """The poll scheduler while this monitor polls (None: no key yet, or following)."""
        return self.watching.scheduler

    @property
    def source(self) -> ProfileTrackingSource | None:
        """The API client of the key once one is known (None: no key yet)."""
        return self.credentials.source

    @property
    def view_key(self) -> str:
        """The view tab shown ("all", "active", ...)."""
        return self._view

    @property
    def deleting(self) -> set[int]:
        """IDs of the deletes still being sent (their confirmations wait)."""
        return self.deletion.deleting

    # ---------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield MonitorHeader(id="header")
        yield ConnectivityBanner(id="banner")
        yield SummaryStrip(self.session.watchlist.transitions_between, id="summary")
        yield Tabs(*[Tab(f"{v.label} 0", id=f"view-{v.key}") for v in VIEWS], id="views")
        # Not select_on_focus: keys of a burst behind "/" can reach the box before its
        # focus does, and the select-all on focus then had the next key replace them.
        yield Input(placeholder=filtering.FILTER_PLACEHOLDER, id="filter",
                    highlighter=filtering.FilterHighlighter(), select_on_focus=False)
        yield Static("", id=filtering.PROBLEM_ID, markup=False)  # a bad filter term, why
        profile = self.session.profile
        yield self.problems.make_breadcrumb()
        yield ConversionsTable(id="table", poll_interval=profile.poll_interval,
                               settled_interval=profile.settled_interval)
        yield self.problems.make_list()  # in the table's place on the Problems tab
        yield Static("", id="hint", markup=False)  # below the table, above the footer
        yield KeysFooter()

    def on_mount(self) -> None:
        profile = self.session.profile
        self.alerter = Alerter(self.app, profile.alerts, profile.stuck_after,
                               profile=profile.name, env=self.session.env,
                               runs_hook=lambda: not self.watching.following)
        self.table.focus()
        self.layouts.load()
        self._load_watchlist()
        self.update_header()
        self.set_interval(1.0, self.changes.tick)
        # Polling starts once the stored rows are shown (see _show_rows): a slow first
        # load must not replace fresher poll results with older stored ones.

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load_watchlist(self) -> None:
        loading.load_watchlist(self, self._show_rows)

    def _show_rows(self, rows: list[WatchedConversion], _elapsed: float) -> None:
        self.table.set_rows(rows)
        if self.alerter is not None:  # what was so before the start is not news
            self.alerter.known_at_start(rows)
        self.problems.load(rows)
        if len(rows) >= loading.FREEZE_FROM_ROWS:
            # Every row is loaded: no later collection walks them again (tui/core/memory.py).
            exempt_loaded_objects()
        self.refresh_counts()
        self.since.first_screen()  # a look too; after a gap, what changed meanwhile
        # First run: nothing watched yet, or the demo (a newcomer's tour). Once shown, the
        # hint stays until one of the screens it names has been opened.
        if (self.session.demo or not rows) and not self._hint_done:
            hint.show(self, self.query_one("#hint", Static))
        self._start_polling()

    # ------------------------------------------------------------------ hint
    def hint_text(self) -> Text:
        """The first-run hint: "? help  a add IDs  u upload", as the keys are bound now."""
        return hint.hint_text(self)

    def on_screen_suspend(self) -> None:
        if hint.has_done_its_work(self, self.query_one("#hint", Static)):
            self._hint_done = True

    def _start_polling(self) -> None:
        if not self._polling_started:
            self._polling_started = True
            self.connect()

    async def on_unmount(self) -> None:
        # Stop polling (another monitor on the file may poll at once) and close the
        # connection pool (only a replaced client was closed).
        self.changes.closing = True
        self.since.closing()
        readmit_exempt_objects()
        self.watching.stop()
        if self.alerter is not None:
            await self.alerter.aclose()  # hooks still running are stopped
        await self.credentials.aclose()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Read-only: destructive actions vanish from the footer, the palette and the keys.
        return not (action in guards.DESTRUCTIVE_ACTIONS and self.session.read_only)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A failure is reported by the app (tui/ui/workers.py); here only what follows it.
        if event.state is WorkerState.ERROR and event.worker.group == "load":
            self._start_polling()  # the stored rows could not be read: poll all the same

    # ----------------------------------------------------------- credentials
    @work(exclusive=True, group="connect", exit_on_error=False)
    async def connect(self) -> None:
        await self.credentials.connect()

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def ask_for_new_key(self, why: str) -> None:
        await self.credentials.ask_for_new_key(why)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run the service's poller or follower as a worker of this screen."""
        self.run_worker(reported(coro), group=name, name=name, exit_on_error=False)

    # ---------------------------------------------------------------- changes
    def _apply_change(self, change: WatchChange) -> None:
        """Show one change of the watched rows (see :class:`ChangeFlow`)."""
        self.changes.apply(change)

    def refresh_counts(self) -> None:
        """Recount the views (tab labels, summary strip, header) now."""
        self.changes.refresh_counts()

    def update_header(self, *, watched: int | None = None, active: int | None = None,
                      attention: int | None = None) -> None:
        """Show who the key belongs to, where it came from, paused, following, counts."""
        header = self.query_one(MonitorHeader)
        header.info = header_info(self, self.credentials, header.info, watched=watched,
                                  active=active, attention=attention)

    # ------------------------------------------------------- actions on rows
    @on(RowActivated)
    def _row_activated(self, event: RowActivated) -> None:
        reading.inspect(self, event.conversion_id)

    def action_inspect(self) -> None:
        if self.table.cursor_id is not None:
            reading.inspect(self, self.table.cursor_id)

    # Textual runs ``_action_x`` ahead of ``action_x``: every way in (key, palette) passes.
    def _action_delete_on_server(self) -> None:
        if guards.targets_in_sight(self, "delete_on_server"):
            self.action_delete_on_server()

    @work(group="delete", exit_on_error=False)
    async def action_delete_on_server(self) -> None:
        # Not an exclusive worker: a second `d` must never cancel a bulk delete whose
        # requests are on the wire (they would go unfollowed and be audited as failed).
        # Two deletes may run side by side; repeating a delete request is harmless.
        await self.deletion.run()

    def action_mark_all(self) -> None:
        self.table.mark_all_visible()

    def action_mark_all_read(self) -> None:
        self.unread.mark_all_read()

    @on(ConversionsTable.CursorMoved)
    def _cursor_moved(self) -> None:
        self.unread.cursor_moved()

    def action_copy_ids(self) -> None:
        reading.copy_ids(self)

    def action_copy_triage(self) -> None:
        reading.copy_triage(self)

    @work(exclusive=True, group="export", exit_on_error=False)
    async def action_export(self) -> None:
        await export_view(self)

    @work(exclusive=True, group="note", exit_on_error=False)
    async def action_note(self) -> None:
        await note.edit_note(self)

    def action_acknowledge(self) -> None:
        acknowledge.toggle_acknowledged(self)

    @work(exclusive=True, group="snooze", exit_on_error=False)
    async def action_snooze(self) -> None:
        await acknowledge.snooze(self)

    def action_audit_log(self) -> None:
        reading.show_audit_log(self)

    @work(exclusive=True, group="upload", exit_on_error=False)
    async def action_upload(self) -> None:
        await run_upload(self)

    @work(exclusive=True, group="add", exit_on_error=False)
    async def action_add_ids(self) -> None:
        await add.add_ids(self)

    def _action_remove_from_watchlist(self) -> None:
        if guards.targets_in_sight(self, "remove_from_watchlist"):
            self.action_remove_from_watchlist()

    @work(exclusive=True, group="unwatch", exit_on_error=False)
    async def action_remove_from_watchlist(self) -> None:
        await self.unwatching.unwatch()

    def action_undo_unwatch(self) -> None:
        self.unwatching.undo()

    # ------------------------------------------------------ polling and views
    def action_refresh_selected(self) -> None:
        refresh.refresh_selected(self)

    def action_refresh_all(self) -> None:
        refresh.refresh_all(self)

    def action_toggle_pause(self) -> None:
        refresh.toggle_pause(self)

    def action_cycle_sort(self) -> None:
        self.table.cycle_sort()

    def action_reverse_sort(self) -> None:
        self.table.reverse_sort()

    @work(exclusive=True, group="layout", exit_on_error=False)
    async def action_pick_sort(self) -> None:
        await self.layouts.pick_sort()

    @work(exclusive=True, group="layout", exit_on_error=False)
    async def action_choose_columns(self) -> None:
        await self.layouts.choose_columns()

    @work(exclusive=True, group="layout", exit_on_error=False)
    async def action_save_view(self) -> None:
        await self.layouts.save_view()

    def saved_view_commands(self) -> list[Any]:
        """Palette entries of the saved views and the sort columns (tui.ui.commands)."""
        return self.layouts.palette_commands()

    @on(SortChanged)
    def _sort_changed(self) -> None:
        self.layouts.sort_changed()  # kept across restarts

    def action_open_filter(self) -> None:
        filtering.open_filter(self, self.query_one("#filter", Input))

    def action_view(self, key: str) -> None:
        self.query_one(Tabs).active = f"view-{key}"

    def action_clear(self) -> None:
        box = self.query_one("#filter", Input)
        if not self.problems.escape(box):
            filtering.clear(self, box)

    def on_key(self, event: events.Key) -> None:
        self.since.key_pressed()
        self.unread.key_pressed()
        # Bursts behind "/" go into the filter; read-only and blind keys are held back.
        if guards.guard_key(self, event, self.query_one("#filter", Input)):
            self.action_open_filter()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        filtering.apply_filter(self, event.input)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.set_focus(self.table)

    @on(SummaryStrip.ViewChosen)
    def _count_clicked(self, message: SummaryStrip.ViewChosen) -> None:
        self.action_view(message.view)

    @on(Tabs.TabActivated, "#views")
    def _view_changed(self, event: Tabs.TabActivated) -> None:
        if event.tab is not None and event.tab.id is not None:
            key = event.tab.id.removeprefix("view-")
            base = self.layouts.open_tab(event.tab.id)  # a saved view: its tab, its filter
            if base is not None:
                self.problems.show_view(base)  # leave the groups' list if it was shown
                self._view = base
            elif self.problems.show_view(key) or filtering.show_view(self, key):
                self.layouts.left_saved_view()
                self._view = key
