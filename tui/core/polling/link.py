"""The state of the connection as the banner shows it: online, offline, held by a 429,
the key refused, or paused by the user.

:class:`Link` only holds that state and its transitions; the scheduler decides when to
take them (see :mod:`tui.core.polling.answers`) and publishes the result.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from tui.core.polling.health import ServerHealth
from tui.core.polling.pacing import jittered
from tui.core.polling.queue import PollQueue, PollSlot
from tui.core.polling.types import Connectivity, ConnectivityState, PollSettings


class Link:
    """Where polling stands with the server, and the offline probe's schedule.

    ``state`` is ONLINE, OFFLINE or RATE_LIMITED; a refused key (``auth_problem``) and
    the user's pause sit on top of it in :meth:`connectivity`. Times ending in ``_due``,
    ``_until`` and ``last_answer`` are on the scheduler's monotonic clock; ``since`` ones
    are wall-clock.
    """

    def __init__(self, settings: PollSettings, clock: Callable[[], float],
                 wall_clock: Callable[[], float], rng: random.Random) -> None:
        self._settings = settings
        self._clock = clock
        self._wall = wall_clock
        self._rng = rng
        self.state = ConnectivityState.ONLINE
        self.since: float | None = wall_clock()
        self.message = ""
        self.hold_until = 0.0
        self.probe_due = 0.0
        self.probe_attempt = 0
        self.probe_id: int | None = None
        self.probe_in_flight = False
        self.probe_timed_out: set[int] = set()  # IDs whose probe timed out this outage
        self.last_answer = -math.inf  # clock time of the last HTTP answer
        self.transport_failures = 0  # drops/timeouts since that answer
        self.auth_problem: str | None = None
        self.auth_since: float | None = None
        self.paused = False
        self.paused_since: float | None = None
        #: The last checks of every row: is the server failing while it answers?
        self.health = ServerHealth(settings.interval)
        self.failing_since: float | None = None

    @property
    def offline(self) -> bool:
        """True while no HTTP answer comes (one ID is probed)."""
        return self.state is ConnectivityState.OFFLINE

    def connectivity(self) -> Connectivity:
        """The banner state now."""
        if self.auth_problem is not None:
            return Connectivity(ConnectivityState.AUTH_FAILED, self.auth_since, None,
                                self.auth_problem)
        if self.paused:
            return Connectivity(ConnectivityState.PAUSED, self.paused_since, None,
                                self.message)
        retry_at: float | None = None
        verdict = self.health.verdict
        if self.state is ConnectivityState.ONLINE and verdict is not None:
            return Connectivity(ConnectivityState.SERVER_FAILING, self.failing_since, None,
                                verdict.sentence())
        if self.state is ConnectivityState.OFFLINE:
            retry_at = self._wall() + max(0.0, self.probe_due - self._clock())
        elif self.state is ConnectivityState.RATE_LIMITED:
            retry_at = self._wall() + max(0.0, self.hold_until - self._clock())
        return Connectivity(self.state, self.since, retry_at, self.message)

    def checked(self, conversion_id: int, cause: str | None, now: float) -> bool:
        """A check ended (``cause``: why it failed, None when it went through); True when
        the banner must be told."""
        told = self.health.record(conversion_id, cause, now)
        failing = self.health.verdict is not None
        if failing and self.failing_since is None:
            self.failing_since = self._wall()
        elif not failing:
            self.failing_since = None
        return told

    def answered(self) -> None:
        """An HTTP answer came: the link is up now."""
        self.last_answer = self._clock()
        self.transport_failures = 0

    def back_online(self) -> bool:
        """After an answer: leave OFFLINE at once; True when that ended an outage."""
        if self.state is not ConnectivityState.OFFLINE:
            return False
        self.state = ConnectivityState.ONLINE
        self.since = self._wall()
        self.message = ""
        self.probe_attempt = 0
        self.probe_timed_out.clear()
        return True

    def go_offline(self, probe_id: int, cause: str, now: float) -> None:
        """No answer comes: probe with ``probe_id`` from now on."""
        self.state = ConnectivityState.OFFLINE
        self.since = self._wall()
        self.message = cause
        self.probe_attempt = 0
        self.probe_id = probe_id
        self.probe_due = now + self.probe_delay()

    def holds_back(self, probe: bool) -> bool:
        """True when what was learnt since a request was dispatched (a 429, a lost
        connection, a refused key) says it must not go out after all."""
        if self.auth_problem is not None:
            return True
        if self.offline:
            return not probe
        return self.state is ConnectivityState.RATE_LIMITED and self._clock() < self.hold_until

    def probe_slot(self, queue: PollQueue) -> PollSlot | None:
        """The row to probe with (None: nothing watched is free): the last one, unless it
        is in flight or its probe timed out."""
        slot = queue.get(self.probe_id) if self.probe_id is not None else None
        if slot is None or slot.in_flight or slot.id in self.probe_timed_out:
            # A row whose probe timed out may be one the server trickles: try the others
            # first (O(n), but probes go out at most about once a second).
            slot = next((s for s in queue if not s.in_flight
                         and s.id not in self.probe_timed_out), None)
            if slot is None:
                self.probe_timed_out.clear()
                slot = next((s for s in queue if not s.in_flight), None)
        if slot is not None:
            self.probe_id = slot.id
        return slot

    def probe_failed(self, conversion_id: int, cause: str, *, timed_out: bool,
                     now: float) -> None:
        """The probe found no server either: try again later (another row after a timeout,
        which may be one the server trickles)."""
        self.probe_attempt += 1
        if timed_out:
            self.probe_timed_out.add(conversion_id)
        self.message = cause
        self.probe_due = now + self.probe_delay()

    def probe_delay(self) -> float:
        """Seconds until the next probe: doubling from ``offline_probe_min``, jittered."""
        settings = self._settings
        # Never wait longer than a poll interval between probes: once the server is back,
        # rows must be fresh within two intervals, not after a 30 s probe backoff.
        cap = min(settings.offline_probe_max, settings.interval)
        base = min(settings.offline_probe_min, cap) * math.pow(2.0, min(self.probe_attempt, 30))
        return jittered(min(base, cap), self._rng)

    def hold(self, until: float, cause: str) -> None:
        """A 429: everyone waits until ``until``."""
        if self.state is not ConnectivityState.RATE_LIMITED:
            self.state = ConnectivityState.RATE_LIMITED
            self.since = self._wall()
        self.hold_until = max(self.hold_until, until)
        self.message = cause

    def end_hold(self) -> None:
        """The 429's hold is over."""
        self.state = ConnectivityState.ONLINE
        self.since = self._wall()
        self.message = ""
