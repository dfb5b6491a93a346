"""The watched rows as they change: each ``WatchChange`` of the service shown, and the
once-a-second tick that recounts the views, sweeps for alerts and announces the changes.

The table follows the service (it keeps no list of its own); this flow is the one place
that turns a change into what the screen shows: rows, banner, alerts, counts, toasts.
"""

from __future__ import annotations

from dataclasses import replace

from tui.api.models import Profile
from tui.core.statuses import is_settled
from tui.core.watch_change import changes_seen
from tui.core.watching import WatchChange
from tui.core.watchlist import StatusChange, WatchedConversion
from tui.ui.screens.flows import filtering
from tui.ui.screens.flows.announce import announce
from tui.ui.screens.flows.credentials import Credentials
from tui.ui.screens.flows.delete import DeleteFlow
from tui.ui.screens.flows.header import took_over_sentence
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.screens.flows.problems import ProblemsFlow
from tui.ui.screens.flows.unwatch import UnwatchFlow
from tui.ui.widgets.connectivity_banner import ConnectivityBanner
from tui.ui.widgets.summary_strip import SummaryStrip

# Status-change toasts are gathered for this many seconds, then shown together.
ANNOUNCE_EVERY = 3
#: Every this many seconds, every row in flight is looked at for stuck and stalled deletes.
ALERT_SWEEP_EVERY = 15


class ChangeFlow:
    """Shows the service's changes and, once a second, what time alone changes."""

    def __init__(self, host: MonitorHost, *, credentials: Credentials, deletion: DeleteFlow,
                 problems: ProblemsFlow, unwatching: UnwatchFlow) -> None:
        self._host = host
        self._credentials = credentials
        self._deletion = deletion
        self._problems = problems
        self._unwatching = unwatching
        #: Status changes not yet announced (a toast per kind every few seconds).
        self.pending: list[StatusChange] = []
        #: Seconds ticked since the screen was mounted.
        self.ticks = 0
        self.counts_dirty = False
        self.closing = False  # unmounting: the poller's last flush is not shown
        self._shown_profile: Profile | None = None

    def apply(self, change: WatchChange) -> None:
        """Show one change of the watched rows (a poll's, another process's, or one made
        here through the service): the table follows the service, it keeps no list."""
        if self.closing:
            return
        host = self._host
        screen = host.screen
        table = host.table
        if change.rows and not change.changes and host.watching.following:
            # The poller's writes carry no changes: those seen against the rows shown now.
            change = replace(change, changes=changes_seen(table.rows, change.rows))
        if change.rows:
            table.upsert(list(change.rows))
        self._problems.rows_changed(change.rows, change.removed)
        if change.removed:
            if change.elsewhere:  # unwatched elsewhere (another window, the demo's colleague)
                self._unwatching.say_unwatched_elsewhere(change.removed)
            table.remove_rows(change.removed)  # their marks go with them
        if change.connectivity is not None:
            screen.query_one(ConnectivityBanner).connectivity = change.connectivity
            self._credentials.connectivity_changed(change.connectivity)
        if host.alerter is not None:
            # Alerts are rules over the same message: a row failed, the server failing, a
            # refused key (stuck and stalled deletes also on the tick, as time passes).
            if change.removed:
                host.alerter.forget(change.removed)
            host.alerter.observe(rows=change.rows, changes=change.changes,
                                 connectivity=change.connectivity)
        self.pending.extend(change.changes)
        if change.changes or (change.rows and host.watching.following):
            # Throttled: one read per few s. A follower's updates carry no changes, but the
            # rows the polling monitor wrote may hold some: the history says.
            screen.query_one(SummaryStrip).activity_changed()
        if not change.elsewhere and (change.added or change.removed):
            host.refresh_counts()  # the person's own add or unwatch: counted at once
        elif change.rows or change.removed or change.changes:
            # Shown once a second at most, not per batch (the counts are kept per change).
            self.counts_dirty = True
        if change.took_over:
            host.update_header()
            team = host.session.team_store is not None
            if change.took_over_from or team:
                # One toast; a personal monitor resumed with nobody else polling says
                # nothing more than "Polling resumed".
                host.notify(took_over_sentence(change.took_over_from, team=team),
                            timeout=6, markup=False)
        if host.session.last_profile is not self._shown_profile:
            # Whose key this is shows as soon as the first answer says so.
            self._shown_profile = host.session.last_profile
            host.update_header()

    def refresh_counts(self) -> None:
        """Recount the views (tab labels, summary strip, header) now."""
        self.counts_dirty = False
        filtering.show_counts(self._host)

    def tick(self) -> None:
        """Once a second: recount the views if rows changed; announce what happened."""
        host = self._host
        if host.watching.following:
            host.update_header()  # whose monitor polls may change (cheap when it did not)
        if self.counts_dirty or self.ticks % ANNOUNCE_EVERY == 0:
            # Also while nothing changes: rows turn stuck as time passes (cheap: the counts
            # are kept per change, and only a changed label is redrawn).
            host.refresh_counts()
        self._problems.tick()
        self.ticks += 1
        if host.alerter is not None:
            # Held bursts come out once a second; every row is looked at now and then for
            # what time alone sets off (stuck, a delete that does not finish).
            everyone = self.ticks % ALERT_SWEEP_EVERY == 0
            host.alerter.tick(self._rows_in_flight() if everyone else None)
        if self.ticks % ANNOUNCE_EVERY == 0 and self.pending:
            changes, self.pending = self.pending, []
            # A few seconds' worth in one toast per kind; confirmations of a delete still
            # being sent are told after its outcome toast.
            self.pending.extend(announce(host, changes, self._deletion.deleting))

    def _rows_in_flight(self) -> list[WatchedConversion]:
        """Rows whose status may still change by itself (or whose delete is awaited)."""
        return [row for row in self._host.table.rows.values()
                if not is_settled(row.status) or row.delete_requested_at is not None]
