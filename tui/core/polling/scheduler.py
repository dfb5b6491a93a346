"""The background poll scheduler behind the live monitor.

:class:`PollScheduler` keeps every watched conversion fresh by the rules in
:mod:`tui.core.polling`: it owns the queue of rows and sends each request; lanes pick
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

from tui.api.errors import ApiError, TransportError
from tui.core.polling.answers import AnswerHandler
from tui.core.polling.feed import WatchlistFeed
from tui.core.polling.lanes import LanePicker, home_lane, lane_for
from tui.core.polling.link import Link
from tui.core.polling.pacing import RecoveryRamp, TokenBucket
from tui.core.polling.queue import Lane, PollQueue, PollSlot
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

# Before the first answer, the latency assumed; a request counts as stuck once it is out
# this many times longer than answers typically take (and at least an interval).
_FIRST_LATENCY_GUESS = 0.25
_STUCK_FACTOR = 4.0


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
        self._client = client
        self._settings = settings
        self._clock = clock
        self._wall = wall_clock
        self._rng = rng if rng is not None else random.Random()
        self._queue = PollQueue()
        self._stats = PollStats()
        now = clock()
        budget = settings.request_budget
        self._bucket = TokenBucket(budget, min(budget / 4, settings.concurrency), now)
        self._lanes = LanePicker(settings, now)
        self._ramp = RecoveryRamp(max(1.0, min(budget * settings.settled_share,
                                                float(settings.concurrency))))
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        self._slow_in_flight = 0  # requests of rows in the slow lane
        self._stuck = 0  # requests out far longer than answers take (see _stuck_after)
        self._typical_latency = _FIRST_LATENCY_GUESS  # moving average of answered requests
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = False
        self._stopped = False
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
        self._wake_handle: asyncio.TimerHandle | None = None

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
        snapshot.in_flight = self._in_flight
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
        self._wake = asyncio.Event()
        try:
            self._feed.load(self._loop)
            self._publish()
            while not self._stopped:
                self._wake.clear()
                await self._sleep(self._dispatch(self._clock()))
        finally:
            await self._shutdown()

    def stop(self) -> None:
        """Ask :meth:`run` to return (in-flight requests are cancelled, results flushed).

        Called before :meth:`run` starts, it makes that run return at once.
        """
        self._stopped = True
        self._poke()

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
        self._client = client
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

    # -- the dispatch loop -----------------------------------------------------------

    def _dispatch(self, now: float) -> float | None:
        """Send every request allowed now; return seconds until the next one could
        go (None: nothing to do until something wakes us)."""
        while True:
            taken = self._take(now)
            if not isinstance(taken, tuple):
                return taken
            slot, lane, probe = taken
            self._launch(slot, lane, probe=probe)

    def _take(self, now: float) -> tuple[PollSlot, Lane, bool] | float | None:
        """The next request allowed now, taken off its lane: (slot, lane, probe); else
        seconds until one could go (None: nothing to do until something wakes us)."""
        settings = self._settings
        if self._stopped or self._link.auth_problem is not None:
            return None
        # A stuck request (out far longer than answers take) no longer holds its slot
        # (the client's deadline ends it): rows not yet known to trickle must not
        # stop the others. ``spare_slots`` bounds the connections that costs.
        if self._in_flight - self._stuck >= settings.concurrency or (
                self._in_flight >= settings.concurrency + settings.spare_slots):
            return None
        if self._link.offline:
            return self._take_probe(now)
        if self._link.state is ConnectivityState.RATE_LIMITED:
            if now < self._link.hold_until:
                return self._link.hold_until - now
            self._end_hold(now)
        rate = self._ramp.ceiling(now, settings.request_budget)
        if rate != self._bucket.rate:
            self._bucket.set_rate(rate, now)
        slot, wait, contended = self._lanes.choose(
            self._queue, now, paused=self._link.paused, slow_in_flight=self._slow_in_flight)
        if slot is None:
            return wait
        token_wait = self._bucket.wait_time(now)
        if token_wait > 0:
            return max(token_wait, 0.0005)
        lane = slot.lane
        self._queue.unschedule(slot)
        self._bucket.take(now)
        self._lanes.took(lane, contended, now)
        return slot, lane, False

    def _take_probe(self, now: float) -> tuple[PollSlot, Lane, bool] | float | None:
        link = self._link
        if link.probe_in_flight or link.paused:
            return None
        if now < link.probe_due:
            return link.probe_due - now
        slot = link.probe_slot(self._queue)
        if slot is None:
            return None  # nothing to probe with until watch()
        lane = slot.lane if slot.queued else home_lane(slot)
        self._queue.unschedule(slot)
        link.probe_in_flight = True
        return slot, lane, True

    def _begin(self, slot: PollSlot, probe: bool) -> bool:
        """Count ``slot``'s request as in flight; True when it holds a slow-lane slot."""
        slot.in_flight = True
        slot.refresh_wanted = False
        self._in_flight += 1
        slow = slot.slow and not probe
        if slow:
            self._slow_in_flight += 1
        self._stats.max_in_flight = max(self._stats.max_in_flight, self._in_flight)
        return slow

    def _launch(self, slot: PollSlot, lane: Lane, *, probe: bool) -> None:
        assert self._loop is not None
        slow = self._begin(slot, probe)
        task = self._loop.create_task(self._poll(slot, lane, probe, slow))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sleep(self, delay: float | None) -> None:
        assert self._wake is not None and self._loop is not None
        if delay is not None:
            self._wake_handle = self._loop.call_later(delay, self._wake.set)
        try:
            await self._wake.wait()
        finally:
            if self._wake_handle is not None:
                self._wake_handle.cancel()
                self._wake_handle = None

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _shutdown(self) -> None:
        self._feed.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._link.probe_in_flight = False
        self._in_flight = 0
        self._slow_in_flight = 0
        self._stuck = 0
        self._answers.drop_unconfirmed()
        self._updates.flush()
        self._updates.loop = None
        self._running = False
        self._stopped = False  # a later run() starts afresh
        self._wake = None
        self._loop = None

    # -- one request -----------------------------------------------------------------

    def _stuck_after(self) -> float:
        """Seconds after which a request counts as stuck: a slow server whose every
        answer is slow is not stuck, one request among fast answers is."""
        return max(self._settings.interval, _STUCK_FACTOR * self._typical_latency)

    def _note_latency(self, seconds: float) -> None:
        self._typical_latency += 0.2 * (seconds - self._typical_latency)

    def _request_stuck(self, stuck: list[bool]) -> None:
        stuck[0] = True
        self._stuck += 1
        self._poke()

    async def _poll(self, slot: PollSlot, lane: Lane, probe: bool, slow: bool) -> None:
        """Check ``slot``; then, while another request is allowed at once, take it and
        check that too. A task goes on from answer to next request, as a worker would:
        no new task, no wake-up of :meth:`run`, per check while requests keep flowing
        (and the connection just freed is the one used next). Every rule of
        :meth:`_take` applies to each request, whoever takes it."""
        while True:
            await self._check(slot, lane, probe, slow)
            taken = self._take(self._clock())
            if not isinstance(taken, tuple):
                # Nothing to send at once: run() times the next request (or waits).
                self._poke()
                return
            slot, lane, probe = taken
            slow = self._begin(slot, probe)
            if self._in_flight - self._stuck < self._settings.concurrency:
                self._poke()  # room for more than this one: run() sends the rest

    async def _check(self, slot: PollSlot, lane: Lane, probe: bool, slow: bool) -> None:
        """One request for ``slot``, its answer or failure turned into state."""
        started = self._clock()
        generation = self._answers.generation
        assert self._loop is not None
        stuck = [False]
        timer = self._loop.call_later(self._stuck_after(), self._request_stuck, stuck)
        try:
            if self._stopped or self._link.holds_back(probe):  # learnt since dispatch
                self._answers.requeue(slot, lane, started)
                return
            self._stats.requests_sent += 1
            envelope = await self._client.get_status(slot.id)
        except asyncio.CancelledError:
            self._answers.requeue(slot, lane, self._clock())  # stopped: ask again on the next run
            raise
        except Exception as error:  # every failure becomes state, never a dead poller
            if isinstance(error, ApiError) and not isinstance(error, TransportError):
                self._note_latency(self._clock() - started)
            self._answers.failed(slot, lane, error, generation, probe)
        else:
            self._note_latency(self._clock() - started)
            self._answers.answered(slot, envelope)
        finally:
            timer.cancel()
            if stuck[0]:
                self._stuck -= 1
            slot.in_flight = False
            self._in_flight -= 1
            if slow:
                self._slow_in_flight -= 1
            if probe:
                self._link.probe_in_flight = False

    def _end_hold(self, now: float) -> None:
        """A 429's hold is over: ramp back up from a trickle."""
        self._link.end_hold()
        self._ramp.begin(now)
        self._bucket.drain(now, keep=1.0)
        self._publish()

    def _publish(self) -> None:
        """Recompute the banner state; a change is sent to the UI straight away."""
        self._updates.publish(self._link.connectivity())
