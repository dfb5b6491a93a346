"""Alerts as the monitor delivers them: a toast, the terminal bell, a desktop notification
through the terminal (OSC 9, 777, 99; wrapped for tmux), and the profile's hook.

The rules, the burst merging and the bytes are core's (:mod:`tui.core.alerts`); this
module feeds them what the poller reports and delivers what comes out. Server-wide alerts
(the server failing, the key refused) get no toast: the banner says it on screen already;
they ring, notify and run the hook like the others. Rows a person acknowledged or
snoozed (:mod:`tui.core.attention`) do not alert. Every monitor on a watchlist tells its
own person, but only the one that polls runs the hook (but for its own refused key).
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from textual.app import App

from tui.core.alerts.bursts import BurstMerger
from tui.core.alerts.detect import AlertDetector
from tui.core.alerts.events import Alert, AlertKind
from tui.core.alerts.hook import AlertHook
from tui.core.alerts.settings import AlertSettings
from tui.core.alerts.terminal import notification_bytes
from tui.core.attention import quiet_ids
from tui.core.clipboard import inside_tmux
from tui.core.polling.types import Connectivity, ConnectivityState
from tui.core.timeinstatus import StuckAfter
from tui.core.watchlist import StatusChange, WatchedConversion
from tui.ui.textual_private import write_to_terminal

__all__ = ["Alerter"]

_SERVER_KINDS = frozenset({AlertKind.SERVER_FAILING, AlertKind.KEY_REFUSED})
_SEVERITY = {AlertKind.FAILED: "error", AlertKind.STUCK: "warning",
             AlertKind.DELETE_STALLED: "warning"}
TOAST_SECONDS = 12.0
#: Seconds the first alert of a burst waits for more of its kind before it goes out.
GATHER_SECONDS = 2.0


class Alerter:
    """One monitor's alerts: :meth:`observe` each poll update, :meth:`tick` every second
    (held bursts come out; ``rows`` is every watched row now and then, for the rules that
    time alone sets off)."""

    def __init__(self, app: App[Any], settings: AlertSettings, stuck_after: StuckAfter, *,
                 profile: str, env: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.time,
                 runs_hook: Callable[[], bool] = lambda: True) -> None:
        self._app = app
        # Only the monitor that polls runs the hook: two monitors on one watchlist (a
        # team's, or one file) would otherwise page the team twice for one failure.
        self._runs_hook = runs_hook
        self._settings = settings
        self._profile = profile
        self._env = dict(os.environ) if env is None else dict(env)
        self._clock = clock
        self._detector = AlertDetector(rules=settings.rules if settings.enabled else (),
                                       stuck_after=stuck_after,
                                       delete_stalled_after=settings.delete_stalled_after)
        # Rows that fail in one check come back over a few poll batches: gathered.
        self._merger = BurstMerger(gather=GATHER_SECONDS)
        self._hook = (AlertHook(settings.hook, timeout=settings.hook_timeout, env=self._env)
                      if settings.enabled and settings.hook else None)
        self._numbers = itertools.count(1)
        self._connectivity: Connectivity | None = None  # the last one reported
        self.delivered: list[Alert] = []  # the last alerts shown (for Help and tests)

    @property
    def enabled(self) -> bool:
        """Whether any rule is on."""
        return self._settings.enabled and bool(self._settings.rules)

    def observe(self, *, rows: Iterable[WatchedConversion] = (),
                changes: Iterable[StatusChange] = (),
                connectivity: Connectivity | None = None,
                acknowledged: Collection[int] = ()) -> None:
        """Look at one change of the watched rows: new failures, rows in it that are stuck
        or whose delete stalls, the server's state (``connectivity`` None: unchanged)."""
        if not self.enabled:
            return
        if connectivity is not None:
            self._connectivity = connectivity
        now = self._clock()
        rows = list(rows)
        events = self._detector.observe(
            now=now, rows=rows, changes=changes, connectivity=self._connectivity,
            server_failing=_failing_sentence(self._connectivity),
            acknowledged=quiet_ids(rows, now).union(acknowledged))
        self._deliver(self._merger.offer(events, now))

    def known_at_start(self, rows: Iterable[WatchedConversion]) -> None:
        """The stored rows, shown before any poll of this run: the trouble they are in
        already (stuck, a delete not finishing) alerted before the restart, or the
        since-you-last-looked summary tells it; it alerts again only once it changes."""
        self._detector.known_at_start(rows, self._clock())

    def wants(self, kind: AlertKind) -> bool:
        """Whether alerts of ``kind`` are on."""
        return self._settings.wants(kind)

    def tick(self, rows: Iterable[WatchedConversion] | None = None,
             acknowledged: Collection[int] = ()) -> None:
        """Give out held bursts whose window ended; with ``rows``, look at every one of
        them for the rules time alone sets off (stuck, a delete that does not finish)."""
        if not self.enabled:
            return
        now = self._clock()
        rows = None if rows is None else list(rows)
        events = [] if rows is None else self._detector.observe(
            now=now, rows=rows, connectivity=self._connectivity,
            server_failing=_failing_sentence(self._connectivity),
            acknowledged=quiet_ids(rows, now).union(acknowledged))
        self._deliver(self._merger.offer(events, now) if events else self._merger.due(now))

    def forget(self, ids: Iterable[int]) -> None:
        """``ids`` are no longer watched."""
        self._detector.forget(ids)

    def quiet(self, ids: Iterable[int]) -> None:
        """A person acknowledged or snoozed ``ids``: alerts still gathering leave them out
        (later ones do already: the rows say so)."""
        self._merger.drop(ids)

    async def aclose(self) -> None:
        """Stop hooks still running (on the way out)."""
        if self._hook is not None:
            await self._hook.aclose()

    def _deliver(self, alerts: list[Alert]) -> None:
        if not alerts:
            return
        channels = self._settings.channels_at(datetime.now())
        in_tmux = inside_tmux(self._env)
        for alert in alerts:
            self.delivered = [*self.delivered[-19:], alert]
            if alert.kind not in _SERVER_KINDS:
                self._app.notify(alert.text, title=alert.title, timeout=TOAST_SECONDS,
                                 severity=_SEVERITY.get(alert.kind, "warning"),  # type: ignore[arg-type]
                                 markup=False)
            sequence = notification_bytes(alert, channels, in_tmux=in_tmux,
                                          identifier=f"conversions-tui-{next(self._numbers)}")
            if sequence:
                write_to_terminal(self._app, sequence.decode("utf-8", errors="replace"))
            # This monitor's own key refused is its person's to hear of, polling or not.
            if self._hook is not None and (alert.kind is AlertKind.KEY_REFUSED
                                           or self._runs_hook()):
                self._hook.send(alert.to_json(profile=self._profile), self._hook_problem)

    def _hook_problem(self, message: str) -> None:
        self._app.notify(message, title="Alert hook", severity="warning", timeout=10,
                         markup=False)


def _failing_sentence(connectivity: Connectivity | None) -> str | None:
    """The health verdict's sentence while the server fails though it answers."""
    if connectivity is not None and connectivity.state is ConnectivityState.SERVER_FAILING:
        return connectivity.message or "most recent checks failed"
    return None
