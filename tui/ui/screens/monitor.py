"""The live monitor: the screen a support engineer keeps open all day."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static, Tab, Tabs
from textual.worker import Worker, WorkerState

from tui.api.models import Profile
from tui.core.credentials import ApiKey, KeySource
from tui.core.idlist import IdListResult
from tui.core.memory import exempt_loaded_objects, readmit_exempt_objects
from tui.core.polling.types import Connectivity, ConnectivityState
from tui.core.session import MonitorSession, ProfileTrackingSource
from tui.core.statuses import StatusKind, is_settled, status_kind
from tui.core.untrusted import printable
from tui.core.watching import WatchChange, WatchService
from tui.core.watchlist import DELETED_STATUS, StatusChange, WatchedConversion
from tui.ui.alerting import Alerter
from tui.ui.key_names import key_for_action
from tui.ui.screens.triage_actions import DESTRUCTIVE_ACTIONS, TriageScreen
from tui.ui.textual_private import bindings_with_keymap
from tui.ui.typeahead import TypeAhead
from tui.ui.views import VIEWS, VIEWS_BY_KEY, count_views
from tui.ui.widgets.connectivity_banner import ConnectivityBanner
from tui.ui.widgets.conversions_table import ConversionsTable
from tui.ui.widgets.keys_footer import KeysFooter
from tui.ui.widgets.monitor_header import HeaderInfo, MonitorHeader
from tui.ui.widgets.summary_strip import SummaryStrip
from tui.ui.workers import reported, work

_SOURCE_WORDS = {
    KeySource.ENV: "env",
    KeySource.KEYRING: "keyring",
    KeySource.SESSION: "session only",
}

#: Bindings that open a prompt: keys typed in the same burst are typed into it.
_PROMPT_ACTIONS = frozenset({"add_ids", "note", "upload"})
#: Bindings after which a blind burst must not fire other bindings (nor be replayed).
_GUARDED_ACTIONS = frozenset({"delete_on_server", "export"})

# Status-change toasts are gathered for this many seconds, then shown together.
ANNOUNCE_EVERY = 3
#: Every this many seconds, every row in flight is looked at for stuck and stalled deletes.
ALERT_SWEEP_EVERY = 15
#: IDs the unwatched-elsewhere toast names; more are counted.
NAMED_UNWATCHED = 5

#: What the first-run hint names: (action, words). Keys come from the live bindings.
FIRST_RUN_HINT = (("help", "help"), ("add_ids", "add IDs"), ("upload", "upload"))
#: Keys that change rows the person may not see: they act only on a row in sight.
_SIGHT_ACTIONS = {"delete_on_server": "delete", "remove_from_watchlist": "unwatch"}


log = logging.getLogger(__name__)


def unwatched_elsewhere_sentence(ids: Sequence[int], *, marked: int, noted: int,
                                 add_key: str) -> str:
    """"3 conversions were unwatched elsewhere (…): 48211, 48219, 48239 (2 were marked) —
    a is how to add them back; …": at most :data:`NAMED_UNWATCHED` IDs named."""
    count = len(ids)
    named = ", ".join(str(i) for i in ids[:NAMED_UNWATCHED])
    if count > NAMED_UNWATCHED:
        named += f" and {count - NAMED_UNWATCHED} more"
    if count == 1:
        what, them, kept = "1 conversion was", "it", "its note and history are kept"
        words = ["was marked"] * bool(marked) + ["had a note"] * bool(noted)
        extra = f" (it {' and '.join(words)})" if words else ""
    else:
        what, them = f"{count} conversions were", "them"
        kept = "their notes and history are kept"
        notable = [f"{marked} {'was' if marked == 1 else 'were'} marked"] if marked else []
        if noted:
            notable.append(f"{noted} {'has' if noted == 1 else 'have'} a note")
        extra = f" ({', '.join(notable)})" if notable else ""
    return (f"{what} unwatched elsewhere (another monitor or the CLI): {named}{extra} — "
            f"{add_key} is how to add {them} back; {kept}.")


#: Rows shown before the whole watchlist is read: more than the tallest terminal.
FIRST_SCREEN_ROWS = 300


class MonitorScreen(TriageScreen):
    """Header, connectivity banner, views, filter, the table and the footer."""

    DEFAULT_CSS = """
    MonitorScreen { layout: vertical; }
    MonitorScreen #views { height: 2; }
    MonitorScreen #filter { display: none; height: 3; border: tall $accent; }
    MonitorScreen #filter.-shown { display: block; }
    MonitorScreen ConversionsTable { height: 1fr; }
    MonitorScreen #hint { display: none; height: 1; padding: 0 1;
                          background: $boost; color: $text-muted; }
    MonitorScreen #hint.-shown { display: block; }
    """

    BINDINGS = [
        Binding("a", "add_ids", "Add IDs", id="monitor.add"),
        Binding("x", "remove_from_watchlist", "Unwatch", id="monitor.unwatch"),
        Binding("z", "undo_unwatch", "Undo unwatch", id="monitor.undo_unwatch", show=False),
        Binding("r", "refresh_selected", "Refresh", id="monitor.refresh"),
        Binding("R", "refresh_all", "Refresh all", id="monitor.refresh_all", show=False),
        Binding("p", "toggle_pause", "Pause", id="monitor.pause"),
        Binding("s", "cycle_sort", "Sort", id="monitor.sort"),
        Binding("S", "reverse_sort", "Reverse", id="monitor.reverse", show=False),
        Binding("slash", "open_filter", "Filter", id="monitor.filter"),
        Binding("escape", "clear", "Clear", id="monitor.clear", show=False),
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
        self._source: ProfileTrackingSource | None = None
        self._key: ApiKey | None = None
        self._key_source: KeySource | None = None
        self._view = "all"
        self._asking_for_key = False
        self._last_connectivity_state: ConnectivityState | None = None
        self._counts_dirty = False
        self._shown_profile: Profile | None = None
        self._pending_changes: list[StatusChange] = []
        self._tick_count = 0
        self._polling_started = False
        self._hint_done = False
        self._closing = False  # unmounting: the poller's last flush is not shown
        self.alerter: Alerter | None = None  # made on mount (it needs the app)

    # ---------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield MonitorHeader(id="header")
        yield ConnectivityBanner(id="banner")
        yield SummaryStrip(self.session.watchlist.transitions_between, id="summary")
        yield Tabs(*[Tab(f"{v.label} 0", id=f"view-{v.key}") for v in VIEWS], id="views")
        yield Input(placeholder="filter: ID, file, type, status, note (enter keeps, esc clears)",
                    id="filter")
        profile = self.session.profile
        yield ConversionsTable(id="table", poll_interval=profile.poll_interval,
                               settled_interval=profile.settled_interval)
        yield Static("", id="hint", markup=False)  # below the table, above the footer
        yield KeysFooter()

    def on_mount(self) -> None:
        profile = self.session.profile
        self.alerter = Alerter(self.app, profile.alerts, profile.stuck_after,
                               profile=profile.name, env=self.session.env)
        self.table.focus()
        self._load_watchlist()
        self._update_header()
        self.set_interval(1.0, self._tick)
        # Polling starts once the stored rows are shown (see _show_rows): a slow first
        # load must not replace fresher poll results with older stored ones.

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load_watchlist(self) -> None:
        started = time.perf_counter()
        try:
            rows = self.watching.load(self.session.initial_ids,
                                      first_rows=self._show_first_rows_from_thread,
                                      first_count=FIRST_SCREEN_ROWS)
        except BaseException:
            # The IDs given on the command line could not be added (reported as this
            # worker's error): show what is stored all the same, then poll.
            rows = self.session.watchlist.all()
            self.app.call_from_thread(self._show_rows, rows, time.perf_counter() - started)
            raise
        self.app.call_from_thread(self._show_rows, rows, time.perf_counter() - started)

    def _show_first_rows_from_thread(self, rows: list[WatchedConversion]) -> None:
        """A long watchlist: its first rows by ID at once (the table opens sorted by ID),
        as reading and preparing 100,000 rows takes a second or more. Their frame is
        drawn before the long read starts, which holds the interpreter."""
        painted = threading.Event()
        self.app.call_from_thread(self._show_first_rows, rows, painted)
        painted.wait(timeout=2.0)

    def _show_first_rows(self, rows: list[WatchedConversion], painted: threading.Event) -> None:
        self.table.set_rows(rows)
        self.call_after_refresh(painted.set)

    def _show_rows(self, rows: list[WatchedConversion], _elapsed: float) -> None:
        self.table.set_rows(rows)
        # Every row is loaded: no later collection walks them again (tui/core/memory.py).
        exempt_loaded_objects()
        self._refresh_counts()
        # First run: nothing watched yet, or the demo (a newcomer's tour). Once shown, the
        # hint stays until one of the screens it names has been opened.
        if (self.session.demo or not rows) and not self._hint_done:
            self._show_hint()
        self._start_polling()

    # ------------------------------------------------------------------ hint
    def _key_of(self, action: str) -> str | None:
        """How the key of ``action`` is shown (keymap applied), None when it is off."""
        for active in self.active_bindings.values():
            if active.binding.action == action and active.enabled:
                return self.app.get_key_display(active.binding)
        return None

    def hint_text(self) -> Text:
        """The first-run hint: "? help  a add IDs  u upload", as the keys are bound now."""
        text = Text()
        for action, words in FIRST_RUN_HINT:
            key = self._key_of(action)
            if key is None:
                continue  # read-only: no upload
            if text:
                text.append("  ")
            text.append(key, style="bold")
            text.append(f" {words}")
        return text

    def _show_hint(self) -> None:
        hint = self.query_one("#hint", Static)
        hint.update(self.hint_text())
        hint.add_class("-shown")

    def on_screen_suspend(self) -> None:
        # The hint has done its work once a screen it names has been opened. (Those
        # screens say so themselves: they are imported when first opened, not here.)
        if getattr(self.app.screen, "ENDS_FIRST_RUN_HINT", False):
            self._hint_done = True
            self.query_one("#hint", Static).remove_class("-shown")

    # ------------------------------------------------------- keys in sight
    def _cursor_may_act(self) -> bool:
        table = self.table
        return bool(table.marked_ids) or table.cursor_id is None or table.cursor_in_sight

    def _targets_in_sight(self, action: str) -> bool:
        """Whether ``action`` may act now: marked rows were each picked by hand, but the
        cursor's row alone must be on screen (a resize or the mouse wheel may have moved
        it out of sight). If it is not, it is scrolled into sight and the person told."""
        if self._cursor_may_act():
            return True
        table = self.table
        table.scroll_cursor_into_sight()
        key = self._key_of(action) or "the key"
        self.notify(f"The cursor was on {table.cursor_id}, out of sight: it is shown now. "
                    f"Press {key} again to {_SIGHT_ACTIONS[action]} it.",
                    severity="warning", timeout=6, markup=False)
        return False

    # Textual runs ``_action_x`` ahead of ``action_x``: every way in (key, palette) passes.
    def _action_delete_on_server(self) -> None:
        if self._targets_in_sight("delete_on_server"):
            self.action_delete_on_server()

    def _action_remove_from_watchlist(self) -> None:
        if self._targets_in_sight("remove_from_watchlist"):
            self.action_remove_from_watchlist()

    def _start_polling(self) -> None:
        if not self._polling_started:
            self._polling_started = True
            self._connect()

    async def on_unmount(self) -> None:
        # Stop polling (another monitor on the file may poll at once) and close the
        # connection pool (only a replaced client was closed).
        self._closing = True
        readmit_exempt_objects()
        self.watching.stop()
        if self.alerter is not None:
            await self.alerter.aclose()  # hooks still running are stopped
        close = getattr(self._source, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception:  # closing on the way out must never turn into a crash
                log.exception("closing the API client failed")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Read-only: destructive actions vanish from the footer, the palette and the keys.
        return not (action in DESTRUCTIVE_ACTIONS and self.session.read_only)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A failure is reported by the app (tui/ui/workers.py); here only what follows it.
        if event.state is WorkerState.ERROR and event.worker.group == "load":
            self._start_polling()  # the stored rows could not be read: poll all the same

    # ----------------------------------------------------------- credentials
    @work(exclusive=True, group="connect", exit_on_error=False)
    async def _connect(self) -> None:
        session = self.session
        resolved = await session.resolve_key()
        key, source = resolved.key, resolved.source
        if key is None:
            reason = resolved.problem or "No API key is stored for this profile."
            from tui.ui.screens.key_prompt import KeyPromptModal

            key = await self.app.push_screen_wait(
                KeyPromptModal(profile=session.profile.name, reason=reason))
            if key is None:
                press = key_for_action(self, "toggle_pause", "p")
                self.notify(f"No API key: polling is off. Press {press} to enter one.",
                            severity="warning", timeout=8, markup=False)
                return
            source = KeySource.SESSION
        self._use_key(key, source)

    def _use_key(self, key: ApiKey, source: KeySource) -> None:
        self._key, self._key_source = key, source
        client = self.session.open_client(key)
        previous, self._source = self._source, client
        if previous is not None:
            # The scheduler never closes a client it was given; the old pool goes here.
            self.run_worker(reported(previous.aclose()), group="close-client",
                            exit_on_error=False)
        # The first key starts polling (or following the monitor that polls this file).
        self.watching.set_client(client)
        self._update_header()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run the service's poller or follower as a worker of this screen."""
        self.run_worker(reported(coro), group=name, name=name, exit_on_error=False)

    def following_sentence(self) -> str | None:
        """Why r / R / p act elsewhere while another monitor polls, or None."""
        if not self.watching.following:
            return None
        holder = self.watching.poller_holder
        who = f" ({printable(holder.describe(), limit=80)})" if holder is not None else ""
        return (f"Another monitor polls this watchlist{who}; its checks show here within "
                "2 s. This one takes over when it stops.")

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def _ask_for_new_key(self, why: str) -> None:
        from tui.ui.screens.key_prompt import KeyPromptModal

        self._asking_for_key = True
        try:
            key = await self.app.push_screen_wait(
                KeyPromptModal(profile=self.session.profile.name, reason=why))
        finally:
            self._asking_for_key = False
        if key is not None:
            self._use_key(key, KeySource.SESSION)

    # ---------------------------------------------------------------- changes
    def _apply_change(self, change: WatchChange) -> None:
        """Show one change of the watched rows (a poll's, another process's, or one made
        here through the service): the table follows the service, it keeps no list."""
        if self._closing:
            return
        table = self.table
        if change.rows:
            table.upsert(list(change.rows))
        if change.removed:
            if change.elsewhere:  # unwatched elsewhere (another window, the demo's colleague)
                self._say_unwatched_elsewhere(change.removed)
            table.remove_rows(change.removed)  # their marks go with them
        if change.connectivity is not None:
            self._show_connectivity(change.connectivity)
        if self.alerter is not None:
            # Alerts are rules over the same message: a row failed, the server failing, a
            # refused key (stuck and stalled deletes also on the tick, as time passes).
            if change.removed:
                self.alerter.forget(change.removed)
            self.alerter.observe(rows=change.rows, changes=change.changes,
                                 connectivity=change.connectivity)
        self._pending_changes.extend(change.changes)
        if change.changes or (change.rows and self.watching.following):
            # Throttled: one read per few s. A follower's updates carry no changes, but the
            # rows the polling monitor wrote may hold some: the history says.
            self.query_one(SummaryStrip).activity_changed()
        if not change.elsewhere and (change.added or change.removed):
            self._refresh_counts()  # the person's own add or unwatch: counted at once
        elif change.rows or change.removed or change.changes:
            # Recounting every view is O(watched rows): once a second at most, not per batch.
            self._counts_dirty = True
        if change.took_over:
            self._update_header()
            self.notify("The other monitor stopped: this one checks the watchlist now.",
                        timeout=6, markup=False)
        if self.session.last_profile is not self._shown_profile:
            # Whose key this is shows as soon as the first answer says so.
            self._shown_profile = self.session.last_profile
            self._update_header()

    def _show_connectivity(self, connectivity: Connectivity) -> None:
        self.query_one(ConnectivityBanner).connectivity = connectivity
        state = connectivity.state
        if state is ConnectivityState.AUTH_FAILED and not self._asking_for_key and (
                self._last_connectivity_state is not ConnectivityState.AUTH_FAILED):
            # The code the server really sent ("HTTP 403: …"), never a fixed "401".
            cause = connectivity.message.rstrip(".") or "no reason given"
            self._ask_for_new_key(
                f"The server refused the key ({cause}): rotated or revoked? "
                "Polling is paused; enter a new key to go on.")
        self._last_connectivity_state = state

    def _say_unwatched_elsewhere(self, removed: Sequence[int]) -> None:
        """One calm toast for rows another process unwatched, before they leave the table.

        Rows this monitor unwatched itself are out of the table already (and the service
        leaves them out of what others removed): they are not named.
        """
        table = self.table
        ids = sorted({i for i in removed if i in table.rows})
        if not ids:
            return
        marked = set(table.marked_ids)
        sentence = unwatched_elsewhere_sentence(
            ids, marked=sum(1 for i in ids if i in marked),
            noted=sum(1 for i in ids if table.rows[i].note),
            add_key=key_for_action(self, "add_ids", "a"))
        self.notify(sentence, markup=False, timeout=15)

    def _tick(self) -> None:
        """Once a second: recount the views if rows changed; announce what happened."""
        if self.watching.following:
            self._update_header()  # whose monitor polls may change (cheap when it did not)
        if self._counts_dirty:
            self._refresh_counts()
        self._tick_count += 1
        if self.alerter is not None:
            # Held bursts come out once a second; every row is looked at now and then for
            # what time alone sets off (stuck, a delete that does not finish).
            everyone = self._tick_count % ALERT_SWEEP_EVERY == 0
            self.alerter.tick(self._rows_in_flight() if everyone else None)
        if self._tick_count % ANNOUNCE_EVERY == 0 and self._pending_changes:
            changes, self._pending_changes = self._pending_changes, []
            self._announce(changes)

    def _rows_in_flight(self) -> list[WatchedConversion]:
        """Rows whose status may still change by itself (or whose delete is awaited)."""
        return [row for row in self.table.rows.values()
                if not is_settled(row.status) or row.delete_requested_at is not None]

    def _announce(self, changes: Sequence[StatusChange]) -> None:
        """Toasts for what a watcher should know; a few seconds' worth collapse into one
        toast per kind, so a busy watchlist does not bury the screen in toasts. A failure
        is an alert (tui/ui/alerting.py): merged in bursts, and heard, not only seen."""
        warned: list[str] = []
        deleted: list[str] = []
        later: list[StatusChange] = []
        for change in changes:
            if change.previous is None or change.previous == change.current:
                continue
            if change.id in self.deleting and change.current == DELETED_STATUS:
                later.append(change)  # told after the delete's own outcome toast
                continue
            row = self.table.rows.get(change.id)
            name = f"{change.id}" + (f" {printable(row.file_name, limit=40)}"
                                     if row and row.file_name else "")
            kind = status_kind(change.current)
            if kind is StatusKind.COMPLETED and row is not None and row.warnings:
                warned.append(name)
            elif kind is StatusKind.DELETED and row is not None and row.delete_requested_at:
                # Only deletions this app asked for: others' are news, not confirmations.
                deleted.append(name)
        groups = ((warned, "completed with warnings", "warning"),
                  (deleted, "deleted (confirmed by the server)", "information"))
        for names, what, severity in groups:
            if not names:
                continue
            if len(names) == 1:
                self.notify(f"{names[0]} {what}", severity=severity, markup=False)  # type: ignore[arg-type]
            else:
                listed = ", ".join(names[:3]) + (" …" if len(names) > 3 else "")
                self.notify(f"{len(names)} conversions {what}: {listed}", severity=severity,  # type: ignore[arg-type]
                            markup=False)
        self._pending_changes.extend(later)

    # ------------------------------------------------------------- summaries
    def _refresh_counts(self) -> None:
        self._counts_dirty = False
        now = time.time()
        rows = list(self.table.rows.values())
        counts = count_views(rows, now, self.session.profile.stuck_after)
        self.query_one(SummaryStrip).show_rows(rows)
        tabs = self.query_one(Tabs)
        for view in VIEWS:
            label = f"{view.label} {counts[view.key]}"
            tab = tabs.query_one(f"#view-{view.key}", Tab)
            # Setting a label restarts the tab bar's underline animation: only on change.
            if tab.label_text != label:
                tab.label = label
        self._update_header(watched=counts["all"], active=counts["active"])

    def _update_header(self, *, watched: int | None = None, active: int | None = None) -> None:
        header = self.query_one(MonitorHeader)
        old = header.info
        profile = self.session.last_profile
        user = None
        if profile is not None:
            user = " ".join(p for p in (profile.first_name, profile.last_name) if p) or None
        header.info = HeaderInfo(
            profile_name=self.session.profile.name,
            base_url=self.session.profile.base_url,
            user=user,
            email=profile.email if profile else None,
            company=profile.company if profile else None,
            key_source=self._key_source_words(),
            key_masked=self._key.masked if self._key else "",
            read_only=self.session.read_only,
            paused=self.watching.paused,
            demo=self.session.demo,
            following=self._following_words(),
            watched=old.watched if watched is None else watched,
            active=old.active if active is None else active,
        )

    def _following_words(self) -> str:
        if not self.watching.following:
            return ""
        holder = self.watching.poller_holder
        return holder.describe() if holder is not None else "?"

    def _key_source_words(self) -> str:
        if self._key_source is None:
            return ""
        if self.session.demo:
            return "demo"
        return _SOURCE_WORDS.get(self._key_source, "")

    # ---------------------------------------------------------------- actions
    @work(exclusive=True, group="add", exit_on_error=False)
    async def action_add_ids(self) -> None:
        from tui.ui.screens.add_ids import AddIdsModal

        result: IdListResult | None = await self.app.push_screen_wait(
            AddIdsModal(watched=self.table.rows))
        if result is None:
            return
        if result.ids:
            added = self.watching.watch(result.ids)
            already = len(result.ids) - len(added)
            msg = f"Added {len(added)} to the watchlist"
            if already:
                msg += f" ({already} already watched)"
            self.notify(msg, markup=False)
        if result.invalid:
            self.notify("Not added: " + "; ".join(result.invalid[:6]), severity="warning",
                        markup=False, timeout=10)

    def action_refresh_selected(self) -> None:
        if (elsewhere := self.following_sentence()) is not None:
            self.notify(elsewhere, markup=False, timeout=5)
        elif (why := self.why_nothing_is_checked()) is not None:
            self.notify(why, severity="warning", markup=False)
        elif self.scheduler is not None:
            ids = self.table.targets()
            self.watching.refresh(ids)
            self.notify(f"Checking {len(ids)} now", timeout=2)

    def action_refresh_all(self) -> None:
        if (elsewhere := self.following_sentence()) is not None:
            self.notify(elsewhere, markup=False, timeout=5)
        elif (why := self.why_nothing_is_checked()) is not None:
            self.notify(why, severity="warning", markup=False)
        elif self.scheduler is not None:
            self.watching.refresh(None)
            self.notify("Checking every watched conversion (within the request budget)",
                        timeout=3)

    def action_toggle_pause(self) -> None:
        if (elsewhere := self.following_sentence()) is not None:
            self.notify(elsewhere, markup=False, timeout=5)
            return
        if self.scheduler is None:
            self._connect()
            return
        if self.scheduler.connectivity.state is ConnectivityState.AUTH_FAILED:
            # The key was refused and the prompt was cancelled: p asks again.
            self._ask_for_new_key("The server refused the key. Enter a new one to go on.")
            return
        if self.watching.paused:
            self.watching.resume()
            self.notify("Polling resumed", timeout=2)
        else:
            self.watching.pause()
            self.notify("Polling paused (p resumes)", timeout=2)
        self._update_header()

    def action_cycle_sort(self) -> None:
        self.table.cycle_sort()

    def action_reverse_sort(self) -> None:
        self.table.reverse_sort()

    def action_open_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-shown")
        # Focus now, not on the next tick: keys typed right after "/" (a paste, a fast
        # typist over SSH) must land in the filter, not on the table.
        self.set_focus(box)

    def action_view(self, key: str) -> None:
        self.query_one(Tabs).active = f"view-{key}"

    def action_clear(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_class("-shown") or box.value:
            box.value = ""
            box.remove_class("-shown")
            self.table.set_filter("")
            self.set_focus(self.table)
            return
        self.table.clear_marks()

    def _actions_of_key(self, key: str) -> set[str]:
        """What ``key`` does on this screen, with the user's keymap applied."""
        bindings = bindings_with_keymap(self).key_to_bindings  # as a key press sees them
        return {binding.action for binding in bindings.get(key, [])}

    @property
    def _typeahead(self) -> TypeAhead | None:
        found = getattr(self.app, "typeahead", None)
        return found if isinstance(found, TypeAhead) else None

    def on_key(self, event: events.Key) -> None:
        # A burst of keys ("/pdf" pasted, or typed fast over SSH) is queued at the table
        # before any binding runs, and bindings are checked only when each key reaches
        # the app. So "/" opens the filter here, as its key passes, and the keys behind
        # it go into the filter instead of firing bindings (p would pause, d delete).
        typeahead = self._typeahead
        if typeahead is not None and typeahead.hold_at_screen(event):
            return
        box = self.query_one("#filter", Input)
        if self.focused is box:
            if event.is_printable and event.character:
                event.stop()
                event.prevent_default()
                box.insert_text_at_cursor(event.character)
            return
        actions = self._actions_of_key(event.key)
        if self.refuse_read_only(actions):  # d, u: not live in read-only, yet never silent
            event.stop()
            event.prevent_default()
            if typeahead is not None:
                typeahead.begin(self, replay=False)  # a burst behind it fires nothing either
        elif "open_filter" in actions:
            event.stop()
            event.prevent_default()
            self.action_open_filter()
        elif typeahead is not None and actions & _PROMPT_ACTIONS:
            # The same for the keys behind a key that opens a prompt (a, n, u): held,
            # then typed into the prompt's box once it is up (tui/ui/typeahead.py).
            typeahead.begin(self, replay=True)
        elif typeahead is not None and actions & _GUARDED_ACTIONS and not (
                actions & _SIGHT_ACTIONS.keys() and not self._cursor_may_act()):
            typeahead.begin(self, replay=False)  # kept from firing bindings, not replayed

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.set_focus(self.table)

    @on(SummaryStrip.ViewChosen)
    def _count_clicked(self, message: SummaryStrip.ViewChosen) -> None:
        self.action_view(message.view)

    @on(Tabs.TabActivated, "#views")
    def _view_changed(self, event: Tabs.TabActivated) -> None:
        if event.tab is None or event.tab.id is None:
            return
        key = event.tab.id.removeprefix("view-")
        view = VIEWS_BY_KEY.get(key)
        if view is None:
            return
        self._view = key
        predicate = view.predicate
        stuck_after = self.session.profile.stuck_after
        if predicate is None:
            self.table.set_view(None)
        else:
            self.table.set_view(lambda row: predicate(row, time.time(), stuck_after),
                                empty_message=view.empty)
        self.table.focus()
