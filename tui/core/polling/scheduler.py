"""The background poll scheduler behind the live monitor.

:class:`PollScheduler` keeps every watched conversion fresh by the rules in
:mod:`tui.core.polling`: it owns the queue of rows and the run loop; the requests are
sent by :mod:`~tui.core.polling.requests` (budget, probe, stuck requests), lanes pick
the next row (:mod:`~tui.core.polling.lanes`), answers and failures are turned into
state by :mod:`~tui.core.polling.answers`, and results go out in batches through
:mod:`~tui.core.polling.updates`.

Everything runs on the event loop that runs :meth:`PollScheduler.run`; call
the other methods from that loop's thread (a Textual app does: its workers
and message handlers share the loop). The scheduler never touches the UI.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import random
import time
from collections.abc import Callable, Iterable

from tui.core.polling.answers import AnswerHandler
from tui.core.polling.feed import WatchlistFeed
from tui.core.polling.lanes import lane_for
from tui.core.polling.link import Link
from tui.core.polling.queue import Lane, PollQueue
from tui.core.polling.requests import RequestSender
from tui.core.polling.types import (
    Connectivity,
    ConnectivityState,
    PollSettings,
    PollStats,
    PollUpdate,
    RowPollState,
    StatusSource,
    WatchlistStore,
)
from tui.core.polling.updates import UpdateBatcher

log = logging.getLogger(__name__)


class PollScheduler:
    """Polls watched conversions and reports batched results (see :mod:`tui.core.polling`)."""

    def __init__(
        self,
        client: StatusSource,
        watchlist: WatchlistStore,
        settings: PollSettings,
        on_update: Callable[[PollUpdate], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._wall = wall_clock
        self._rng = rng if rng is not None else random.Random()
        self._queue = PollQueue()
        self._stats = PollStats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = False
        self._stop_asked = False
        self._link = Link(settings, clock, wall_clock, self._rng)
        self._updates = UpdateBatcher(
            watchlist, settings, on_update, self._stats, clock,
            Connectivity(ConnectivityState.ONLINE, self._link.since))
        self._answers = AnswerHandler(
            self._queue, self._link, self._updates, settings, self._stats, clock=clock,
            wall_clock=wall_clock, rng=self._rng, publish=self._publish)
        self._feed = WatchlistFeed(
            watchlist, self._queue, self._updates, settings, clock=clock, rng=self._rng,
            expect_deletion=self.expect_deletion, unwatch=self.unwatch, poke=self._poke)
        self._sender = RequestSender(client, settings, self._queue, self._link, self._answers,
                                     self._stats, clock=clock, publish=self._publish)

    # -- public surface --------------------------------------------------------------

    @property
    def connectivity(self) -> Connectivity:
        """The current banner state."""
        return self._updates.connectivity

    @property
    def stats(self) -> PollStats:
        """A snapshot of the counters."""
        snapshot = dataclasses.replace(self._stats, errors_by_kind=dict(
            self._stats.errors_by_kind))
        snapshot.in_flight = self._sender.in_flight
        return snapshot

    @property
    def paused(self) -> bool:
        """True while automatic polling is paused."""
        return self._link.paused

    @property
    def settings(self) -> PollSettings:
        """The settings in force."""
        return self._settings

    def watched_ids(self) -> list[int]:
        """IDs the scheduler polls."""
        return [slot.id for slot in self._queue]

    def row_state(self, conversion_id: int) -> RowPollState | None:
        """Where polling stands with ``conversion_id`` (None when it is not watched)."""
        slot = self._queue.get(conversion_id)
        if slot is None:
            return None
        due_in = max(0.0, slot.due - self._clock()) if slot.queued else None
        return RowPollState(slot.in_flight, due_in, slot.failures, slot.slow)

    async def run(self) -> None:
        """Poll until :meth:`stop`; the app runs this in a worker."""
        if self._running:
            raise RuntimeError("PollScheduler.run() is already running")
        self._running = True
        self._loop = asyncio.get_running_loop()
        self._updates.loop = self._loop
        sender = self._sender
        sender.start(self._loop)
        try:
            self._feed.load(self._loop)
            self._publish()
            while not sender.stopped:
                sender.rearm()
                await sender.sleep(self._dispatch(self._clock()))
        finally:
            await self._shutdown()

    def stop(self) -> None:
        """Ask :meth:`run` to return (in-flight requests are cancelled, results flushed).

        Called before :meth:`run` starts, it makes that run return at once.
        """
        self._sender.stopped = True
        self._stop_asked = True
        self._poke()

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called (it stays so once the run has ended)."""
        return self._stop_asked

    def look_at_store(self) -> None:
        """Read what other apps wrote to the store now (a team store's notification),
        rather than at the next one-second look."""
        self._feed.look_now()

    def pause(self) -> None:
        """Stop automatic polling (explicit :meth:`refresh` still works)."""
        link = self._link
        if not link.paused:
            link.paused = True
            link.paused_since = self._wall()
            self._publish()
            self._poke()

    def resume(self) -> None:
        """Resume automatic polling; whatever fell due meanwhile goes first."""
        link = self._link
        if link.paused:
            link.paused = False
            link.paused_since = None
            if link.offline:
                link.probe_due = self._clock()
            self._publish()
            self._poke()

    def refresh(self, ids: Iterable[int] | None = None) -> None:
        """Check ``ids`` (all watched IDs when None) now, ahead of everything else.

        IDs that are not watched are ignored; an ID whose check is in flight is
        not asked again (that answer is on its way). While offline this probes now.
        """
        now = self._clock()
        slots = list(self._queue) if ids is None else [
            slot for slot in (self._queue.get(i) for i in ids) if slot is not None]
        for slot in slots:
            if not slot.in_flight:
                slot.refresh_wanted = slot.slow
                # A slow row asked for goes ahead of the slow lane's overdue rows (which
                # pile up while paused and would block it).
                due = -math.inf if slot.slow else now
                self._queue.schedule(slot, lane_for(slot, Lane.REFRESH), due)
        link = self._link
        if link.offline and not link.probe_in_flight:
            link.probe_due = min(link.probe_due, now)
        self._poke()

    def watch(self, ids: Iterable[int]) -> None:
        """Start polling ``ids``; new ones join the new lane (oldest first: at once,
        unless thousands came before them)."""
        now = self._clock()
        for conversion_id in ids:
            if conversion_id not in self._queue:
                slot = self._queue.add(conversion_id)
                slot.new = True
                self._queue.schedule(slot, Lane.NEW, now)
        self._poke()

    def uploaded(self, ids: Iterable[int]) -> None:
        """``ids`` were accepted by an upload: they exist now, whatever an earlier check
        said. Watch them and check them at once, ahead of the new and settled lanes: a row
        "not found" before the upload leaves that lane now. A check in flight may bring
        an answer from before the upload: the row is asked again when it returns."""
        wanted = list(ids)
        for conversion_id in wanted:
            slot = self._queue.add(conversion_id)
            # Known to exist and to be at its start: an active row from now on.
            slot.new = slot.settled = False
            slot.ask_again = slot.in_flight
        self.refresh(wanted)

    def unwatch(self, ids: Iterable[int]) -> None:
        """Stop polling ``ids``; answers still on their way are dropped."""
        gone = {conversion_id for conversion_id in ids if self._queue.remove(conversion_id)}
        if gone:
            self._answers.forget(gone)
            self._updates.drop_results(gone)
            if self._link.probe_id in gone:
                self._link.probe_id = None

    def set_client(self, client: StatusSource) -> None:
        """Use ``client`` from now on (after a new key); clears AUTH_FAILED and resumes.

        The old client is not closed here: its owner closes it.
        """
        self._sender.client = client
        self._answers.new_key()
        link = self._link
        if link.auth_problem is not None:
            link.auth_problem = None
            link.auth_since = None
        if link.offline and not link.probe_in_flight:
            link.probe_due = self._clock()
        self._publish()
        self._poke()

    def expect_deletion(self, conversion_id: int) -> None:
        """A delete was requested: poll at the active rate until Deleted or 404."""
        slot = self._queue.add(conversion_id)
        slot.expect_deletion = True
        if not slot.in_flight:
            self._queue.schedule(slot, lane_for(slot, Lane.ACTIVE), self._clock())
        self._poke()

    # -- the run loop (sending is the RequestSender's) -----------------------------------

    def _dispatch(self, now: float) -> float | None:
        """Send every request allowed now; return seconds until the next one could
        go (None: nothing to do until something wakes us)."""
        return self._sender.dispatch(now)

    def _poke(self) -> None:
        self._sender.poke()

    async def _shutdown(self) -> None:
        self._feed.stop()
        await self._sender.shutdown()
        self._answers.drop_unconfirmed()
        self._updates.flush()
        self._updates.loop = None
        self._running = False
        self._loop = None

    def _publish(self) -> None:
        """Recompute the banner state; a change is sent to the UI straight away."""
        self._updates.publish(self._link.connectivity())
