"""Sending the poll requests: which row goes next within the budget, and one request.

:class:`RequestSender` is the half of :class:`~tui.core.polling.scheduler.PollScheduler`
that talks to the server: the token bucket, the lanes' choice, the ramp after a 429, the
probe while offline, the tasks that go on from one answer to the next request, and
requests stuck far longer than answers take. The scheduler keeps the public surface
(watch, refresh, pause, ...) and the run loop; both run on one event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tui.api.errors import ApiError, TransportError
from tui.core.polling.answers import AnswerHandler
from tui.core.polling.lanes import LanePicker, home_lane
from tui.core.polling.link import Link
from tui.core.polling.pacing import RecoveryRamp, TokenBucket
from tui.core.polling.queue import Lane, PollQueue, PollSlot
from tui.core.polling.types import ConnectivityState, PollSettings, PollStats, StatusSource

__all__ = ["RequestSender"]

# Before the first answer, the latency assumed; a request counts as stuck once it is out
# this many times longer than answers typically take (and at least an interval).
_FIRST_LATENCY_GUESS = 0.25
_STUCK_FACTOR = 4.0


class RequestSender:
    """Sends every request the rules allow, and turns each into state (see the module)."""

    def __init__(self, client: StatusSource, settings: PollSettings, queue: PollQueue,
                 link: Link, answers: AnswerHandler, stats: PollStats, *,
                 clock: Callable[[], float], publish: Callable[[], None]) -> None:
        self.client = client
        """Where statuses are asked (replaced after a new key)."""
        self.stopped = False
        """Set by the scheduler's stop(): nothing more is sent."""
        self._settings = settings
        self._queue = queue
        self._link = link
        self._answers = answers
        self._stats = stats
        self._clock = clock
        self._publish = publish
        now = clock()
        budget = settings.request_budget
        self._bucket = TokenBucket(budget, min(budget / 4, settings.concurrency), now)
        self._lanes = LanePicker(settings, now)
        self._ramp = RecoveryRamp(max(1.0, min(budget * settings.settled_share,
                                                float(settings.concurrency))))
        self._tasks: set[asyncio.Task[None]] = set()
        self.in_flight = 0
        self._slow_in_flight = 0  # requests of rows in the slow lane
        self._stuck = 0  # requests out far longer than answers take (see _stuck_after)
        self._typical_latency = _FIRST_LATENCY_GUESS  # moving average of answered requests
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake_handle: asyncio.TimerHandle | None = None

    # -- the loop's side ---------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Send on ``loop`` from now on (run() starts)."""
        self._loop = loop
        self._wake = asyncio.Event()

    def rearm(self) -> None:
        """Forget earlier pokes: call before deciding what to send (a poke after it wakes
        the next sleep)."""
        assert self._wake is not None
        self._wake.clear()

    async def sleep(self, delay: float | None) -> None:
        """Wait ``delay`` seconds (None: until poked), or less when poked."""
        assert self._wake is not None and self._loop is not None
        if delay is not None:
            self._wake_handle = self._loop.call_later(delay, self._wake.set)
        try:
            await self._wake.wait()
        finally:
            if self._wake_handle is not None:
                self._wake_handle.cancel()
                self._wake_handle = None

    def poke(self) -> None:
        """Wake the run loop: something may be sent now."""
        if self._wake is not None:
            self._wake.set()

    async def shutdown(self) -> None:
        """Cancel the requests in flight (their rows are asked again on the next run)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._link.probe_in_flight = False
        self.in_flight = 0
        self._slow_in_flight = 0
        self._stuck = 0
        self.stopped = False  # a later run() starts afresh
        self._wake = None
        self._loop = None

    def dispatch(self, now: float) -> float | None:
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
        if self.stopped or self._link.auth_problem is not None:
            return None
        # A stuck request (out far longer than answers take) no longer holds its slot
        # (the client's deadline ends it): rows not yet known to trickle must not
        # stop the others. ``spare_slots`` bounds the connections that costs.
        if self.in_flight - self._stuck >= settings.concurrency or (
                self.in_flight >= settings.concurrency + settings.spare_slots):
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
        self.in_flight += 1
        slow = slot.slow and not probe
        if slow:
            self._slow_in_flight += 1
        self._stats.max_in_flight = max(self._stats.max_in_flight, self.in_flight)
        return slow

    def _launch(self, slot: PollSlot, lane: Lane, *, probe: bool) -> None:
        assert self._loop is not None
        slow = self._begin(slot, probe)
        task = self._loop.create_task(self._poll(slot, lane, probe, slow))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
        self.poke()

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
                self.poke()
                return
            slot, lane, probe = taken
            slow = self._begin(slot, probe)
            if self.in_flight - self._stuck < self._settings.concurrency:
                self.poke()  # room for more than this one: run() sends the rest

    async def _check(self, slot: PollSlot, lane: Lane, probe: bool, slow: bool) -> None:
        """One request for ``slot``, its answer or failure turned into state."""
        started = self._clock()
        generation = self._answers.generation
        assert self._loop is not None
        stuck = [False]
        timer = self._loop.call_later(self._stuck_after(), self._request_stuck, stuck)
        try:
            if self.stopped or self._link.holds_back(probe):  # learnt since dispatch
                self._answers.requeue(slot, lane, started)
                return
            self._stats.requests_sent += 1
            envelope = await self.client.get_status(slot.id)
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
            self.in_flight -= 1
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
