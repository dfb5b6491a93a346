"""The demo's steady flow: a colleague who keeps adding, deleting and tidying conversions.

Seeded data alone settles within a minute or two, and then nothing changes. The flow keeps
the demo alive for as long as it runs: every few seconds a new conversion arrives (most
complete, some with warnings, some fail, a few hang in Queued or Processing for minutes),
now and then an old settled one is deleted, and conversions that are gone leave the
watchlist again, so the demo stays about the same size however long it runs.

Nothing runs in the background here: :meth:`DemoFlow.step` does whatever fell due on the
sandbox clock since the last call and says what the watchlist gains and loses. The demo
wiring (``tui/cli_demo.py``) calls it once a second; tests move the clock instead.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tui.sandbox.demo_data import file_name, outcome_messages
from tui.sandbox.lifecycle import (
    COMPLETED,
    DELETED,
    DELETION_PENDING,
    FAILED,
    PROCESSING,
    UPLOADED,
    Conversion,
    LifecyclePlan,
)
from tui.sandbox.state import SandboxState

#: Seconds in one in-flight status after which the demo's monitor calls a conversion stuck.
#: The demo's time is its own: its ordinary arrivals settle within 20 s of their upload
#: (see :class:`FlowPace`) and the seed's within 70 s (a plan's longest: 4 s uploaded, 6 s
#: queued, 60 s processing), while a hang lasts 120 s or more: 90 s in Uploaded, Queued or
#: Processing is a hang. The seed's frozen rows, uploaded hours ago, are stuck from the
#: first screen (time in flight counts from the upload), not after the real 30 minutes.
DEMO_STUCK_AFTER = 90.0

_SETTLED = frozenset({COMPLETED, FAILED})
_LEAVING = frozenset({DELETION_PENDING, DELETED})


@dataclass(frozen=True, slots=True)
class FlowPace:
    """How the colleague works. Durations are seconds at sandbox speed 1."""

    #: Seconds between two arrivals, drawn evenly from this range.
    arrival_gap: tuple[float, float] = (3.0, 9.0)
    #: Phases of an ordinary arrival: it settles within 20 s of its upload, so even seen
    #: a poll interval late (5 s) it never looks stuck (DEMO_STUCK_AFTER), whether time
    #: is counted in its status or from its upload.
    uploaded: tuple[float, float] = (1.0, 2.0)
    queued: tuple[float, float] = (1.0, 3.0)
    processing: tuple[float, float] = (4.0, 15.0)
    failure_rate: float = 0.15
    #: Share of arrivals that hang in Queued or Processing for ``stuck_for`` seconds.
    stuck_rate: float = 0.04
    stuck_for: tuple[float, float] = (120.0, 300.0)
    #: Chance, per arrival, that the colleague also deletes one settled conversion.
    delete_rate: float = 0.25
    #: Conversions not being deleted, at most; beyond it the oldest settled ones are deleted.
    keep: int = 80
    #: A conversion leaves the watchlist this long after it was found Deleted (or gone).
    unwatch_after: float = 60.0
    #: Arrivals made by one step at most (after a suspend: no burst of hundreds).
    max_catch_up: int = 5
    #: Share of arrivals added with a ticket reference as their note.
    note_rate: float = 0.4


@dataclass(frozen=True, slots=True)
class Arrival:
    """A new conversion the colleague adds to the watchlist, with an optional note."""

    id: int
    note: str | None = None


@dataclass(slots=True)
class FlowStep:
    """What one step did: conversions that arrived, were deleted, and left the watchlist."""

    arrived: list[Arrival] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    unwatched: list[int] = field(default_factory=list)


class DemoFlow:
    """A colleague working on the sandbox ``state`` at the pace ``pace`` (see the module doc).

    The conversions it tracks (the seed, its arrivals) are the ones it watches; it never
    touches others (a user's own uploads in the demo stay as they are).
    """

    def __init__(self, state: SandboxState, *, pace: FlowPace | None = None,
                 rng_seed: int | None = None) -> None:
        self._state = state
        self._pace = pace or FlowPace()
        self._rng = random.Random(rng_seed)
        # Watched conversions, oldest first -> when the flow first found it Deleted or gone.
        self._watched: dict[int, float | None] = {}
        self._purging: set[int] = set()
        self._next_arrival: float | None = None

    @property
    def watched(self) -> list[int]:
        """The conversions the colleague watches now, oldest first."""
        return list(self._watched)

    def start(self) -> list[int]:
        """Begin: returns what to watch at launch (the seed, plus one conversion stuck in
        Processing since hours ago: the case a monitor must flag). Call it once."""
        stuck = self._state.admit(self._long_stuck)
        ids = [*self._state.seeded_ids(), stuck]
        self._watched.update(dict.fromkeys(ids))
        self._next_arrival = self._state.clock.now() + self._gap()
        return ids

    def step(self) -> FlowStep:
        """Do what fell due since the last step (arrivals, deletes, unwatching)."""
        now = self._state.clock.now()
        if self._next_arrival is None:
            self._next_arrival = now + self._gap()
        done = FlowStep()
        deletes_wanted = 0
        while self._next_arrival <= now:
            if len(done.arrived) == self._pace.max_catch_up:
                self._next_arrival = now + self._gap()
                break
            done.arrived.append(self._arrive())
            self._next_arrival += self._gap()
            deletes_wanted += self._rng.random() < self._pace.delete_rate
        self._tidy(now, deletes_wanted, done)
        return done

    # -- the colleague's work ------------------------------------------------------------------

    def _gap(self) -> float:
        return self._state.clock.lifecycle_seconds(self._rng.uniform(*self._pace.arrival_gap))

    def _arrive(self) -> Arrival:
        rng, pace = self._rng, self._pace
        outcome = FAILED if rng.random() < pace.failure_rate else COMPLETED
        plan = LifecyclePlan(uploaded=rng.uniform(*pace.uploaded),
                             queued=rng.uniform(*pace.queued),
                             processing=rng.uniform(*pace.processing),
                             deletion=rng.uniform(3.0, 10.0), outcome=outcome)
        if rng.random() < pace.stuck_rate:  # a hang: mostly in Processing, sometimes queued
            if rng.random() < 0.7:
                plan.processing = rng.uniform(*pace.stuck_for)
            else:
                plan.queued = rng.uniform(*pace.stuck_for)
        name, kind = file_name(rng)
        warnings, errors, metadata = outcome_messages(rng, outcome)
        size = rng.randint(2_000, 9_000_000)

        def build(conversion_id: int, now: float) -> Conversion:
            return Conversion(
                id=conversion_id, file_name=name, data_source_type=kind, upload_date=now,
                status=UPLOADED, since=now, plan=plan, outcome_warnings=warnings,
                outcome_errors=errors, metadata={"sizeBytes": size},
                outcome_metadata=metadata)

        conversion_id = self._state.admit(build)
        self._watched[conversion_id] = None
        note = f"INC-{rng.randint(4400, 4999)}" if rng.random() < pace.note_rate else None
        return Arrival(conversion_id, note)

    def _long_stuck(self, conversion_id: int, now: float) -> Conversion:
        """Processing for 2-5 h already; it times out (Failed) 20-50 min into the demo."""
        rng, speed = self._rng, self._state.clock.speed
        age = rng.uniform(2 * 3600.0, 5 * 3600.0)
        plan = LifecyclePlan(uploaded=2.0, queued=rng.uniform(20.0, 90.0),
                             processing=age + rng.uniform(20 * 60.0, 50 * 60.0), outcome=FAILED)
        name, kind = file_name(rng)
        since = now - age / speed
        return Conversion(
            id=conversion_id, file_name=name, data_source_type=kind,
            upload_date=since - (plan.uploaded + plan.queued) / speed, status=PROCESSING,
            since=since, plan=plan, metadata={"sizeBytes": rng.randint(2_000_000, 9_000_000)},
            outcome_errors=[f"Processing timed out after {plan.processing / 3600:.1f} h; "
                            "nothing was imported"],
            outcome_metadata={"rowsRead": 0, "rowsProcessed": 0})

    def _tidy(self, now: float, deletes_wanted: int, done: FlowStep) -> None:
        """Unwatch what has been Deleted a while; delete settled ones (a few, and beyond the
        cap)."""
        statuses: dict[int, str] = {}
        grace = self._state.clock.lifecycle_seconds(self._pace.unwatch_after)
        for conversion_id, gone_since in list(self._watched.items()):
            status = self._state.status_of(conversion_id)
            if status is not None:
                statuses[conversion_id] = status
            if status not in (DELETED, None):
                continue
            if gone_since is None:
                self._watched[conversion_id] = now
            elif now - gone_since >= grace:
                del self._watched[conversion_id]
                done.unwatched.append(conversion_id)
                if status is not None:
                    self._purging.add(conversion_id)
        # Unwatched but still Deleted: read now and then so the sandbox purges them when
        # their retention ends (it purges on read), and its store stays flat too.
        self._purging = {i for i in self._purging if self._state.status_of(i) is not None}
        settled = [i for i, status in statuses.items() if status in _SETTLED]  # oldest first
        for _ in range(min(deletes_wanted, len(settled))):
            # One of the older half: what just finished stays on screen a while.
            self._delete(settled.pop(self._rng.randrange((len(settled) + 1) // 2)), done)
        live = sum(status not in _LEAVING for status in statuses.values()) - len(done.deleted)
        while live > self._pace.keep and settled:
            self._delete(settled.pop(0), done)
            live -= 1

    def _delete(self, conversion_id: int, done: FlowStep) -> None:
        if self._state.request_deletion(conversion_id).kind == "accepted":
            done.deleted.append(conversion_id)

