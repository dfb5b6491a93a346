"""The demo's steady flow, on a clock the test moves (no real waiting).

A colleague keeps conversions coming for as long as the demo runs: arrivals every few
seconds, some failing, some warning, a few hanging, some deleted; and the whole stays
about the same size however long it runs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tui.sandbox.clock import SandboxClock, iso_utc
from tui.sandbox.demo_flow import DEMO_STUCK_AFTER, DemoFlow, FlowPace, FlowStep
from tui.sandbox.lifecycle import DELETED, IN_FLIGHT, PROCESSING
from tui.sandbox.state import SandboxState

WALL = 1_800_000_000.0


@dataclass
class Run:
    """A demo run: the state, its flow, and what the watchlist would hold."""

    state: SandboxState
    flow: DemoFlow
    clock: SandboxClock
    watched: set[int] = field(default_factory=set)
    steps: list[tuple[float, FlowStep]] = field(default_factory=list)

    def step_for(self, seconds: float, every: float = 1.0) -> None:
        """Step the flow every ``every`` seconds for ``seconds``, as the demo does."""
        for _ in range(round(seconds / every)):
            self.clock.advance(every)
            done = self.flow.step()
            self.steps.append((self.clock.offset, done))
            self.watched |= {arrival.id for arrival in done.arrived}
            self.watched -= set(done.unwatched)

    def elapsed(self) -> float:
        return self.clock.offset

    def in_window(self, start: float, end: float) -> list[FlowStep]:
        return [done for at, done in self.steps if start < at <= end]


def demo_run(seed: int = 3, seed_count: int = 60, pace: FlowPace | None = None) -> Run:
    clock = SandboxClock(wall=lambda: WALL)
    state = SandboxState(seed_count=seed_count, rng_seed=seed, clock=clock)
    flow = DemoFlow(state, rng_seed=seed, pace=pace)
    run = Run(state, flow, clock)
    run.watched = set(flow.start())
    return run


def test_start_watches_the_seed_and_one_conversion_stuck_for_hours() -> None:
    run = demo_run()
    seeded = run.state.seeded_ids()
    assert run.watched == {*seeded, max(seeded) + 1}
    stuck = run.state.get(max(seeded) + 1)
    assert stuck is not None and stuck.status == PROCESSING
    run.step_for(10 * 60, every=5.0)  # still hanging ten minutes in: the monitor's case
    stuck = run.state.get(max(seeded) + 1)
    assert stuck is not None and stuck.status == PROCESSING
    assert stuck.upload_date < iso_utc(WALL - 2 * 3600)  # hours before the demo's start
    for _ in range(3600):  # it times out within the hour
        run.step_for(1.0)
        done = run.state.get(max(seeded) + 1)
        if done is None or done.status != PROCESSING:
            break
    assert done is not None and done.status == "Failed", done
    assert any("timed out" in error for error in done.errors)


def test_conversions_keep_arriving_every_few_seconds_for_hours() -> None:
    run = demo_run()
    run.step_for(2 * 3600, every=2.0)
    per_minute = Counter(int(at // 60) for at, done in run.steps for _ in done.arrived)
    assert all(per_minute[minute] >= 3 for minute in range(120)), per_minute
    assert sum(per_minute.values()) <= 120 * 20
    # Something is deleted and something leaves the watchlist in every ten minutes.
    for start in range(0, 7200, 600):
        window = run.in_window(start, start + 600)
        assert any(done.deleted for done in window), f"no delete in minute {start // 60}+"
        if start >= 600:
            assert any(done.unwatched for done in window), f"no unwatch at {start // 60}+"


def test_arrivals_fail_warn_hang_and_finish_like_a_real_service() -> None:
    run = demo_run(seed=5)
    hangs: dict[int, float] = {}
    entered: dict[int, tuple[str, float]] = {}
    for _ in range(1200):  # twenty minutes, looking at every arrival once a second
        run.step_for(1.0)
        arrivals = {a.id for _, done in run.steps[-1:] for a in done.arrived}
        for conversion_id in arrivals | set(entered):
            snapshot = run.state.get(conversion_id)
            if snapshot is None or snapshot.status not in IN_FLIGHT:
                entered.pop(conversion_id, None)
                continue
            status, since = entered.setdefault(conversion_id, (snapshot.status, run.elapsed()))
            if status != snapshot.status:
                entered[conversion_id] = (snapshot.status, run.elapsed())
            else:
                hangs[conversion_id] = max(hangs.get(conversion_id, 0.0), run.elapsed() - since)
    arrived = [a for _, done in run.steps for a in done.arrived]
    finals = [run.state.get(a.id) for a in arrived]
    settled = [s for s in finals if s is not None and s.status in ("Completed", "Failed")]
    assert any(s.status == "Failed" and s.errors for s in settled)
    assert any(s.status == "Completed" and s.warnings for s in settled)
    assert any(s.status == "Completed" and not s.warnings for s in settled)
    stuck = [i for i, longest in hangs.items() if longest > DEMO_STUCK_AFTER]
    assert 1 <= len(stuck) <= len(arrived) // 5, (len(stuck), len(arrived))
    assert any(a.note and a.note.startswith("INC-") for a in arrived)
    assert any(a.note is None for a in arrived)


def test_ordinary_arrivals_settle_well_before_the_demo_calls_them_stuck() -> None:
    run = demo_run(seed=8, pace=FlowPace(stuck_rate=0.0))
    # Settled 20 s after upload: even seen one poll interval (5 s) late, never "stuck".
    assert DEMO_STUCK_AFTER > 20.0 + 5.0
    # Nor the seed's ordinary rows, counted from their upload (a plan's longest: 70 s);
    # a hang always is.
    assert DEMO_STUCK_AFTER > 4.0 + 6.0 + 60.0 + 5.0
    assert FlowPace().stuck_for[0] > DEMO_STUCK_AFTER
    arrived: dict[int, float] = {}
    checked = 0
    for _ in range(600):
        run.step_for(1.0)
        arrived.update({a.id: run.elapsed() for a in run.steps[-1][1].arrived})
        for conversion_id, at in list(arrived.items()):
            if run.elapsed() - at >= 20.0:
                snapshot = run.state.get(conversion_id)
                assert snapshot is None or snapshot.status not in IN_FLIGHT, snapshot
                del arrived[conversion_id]
                checked += 1
    assert checked > 50


def test_the_demo_stays_the_same_size_however_long_it_runs() -> None:
    run = demo_run(seed=2)
    sizes: list[tuple[int, int]] = []
    for _ in range(6):  # six hours, in steps of five seconds (a few arrivals each)
        run.step_for(3600, every=5.0)
        sizes.append((len(run.watched), len(run.state.ids())))
    pace = FlowPace()
    assert all(watched <= pace.keep + 40 for watched, _ in sizes), sizes
    assert all(stored <= pace.keep + 80 for _, stored in sizes), sizes
    assert set(run.flow.watched) == run.watched


def test_only_settled_conversions_are_deleted_and_deleted_ones_leave_the_watchlist() -> None:
    run = demo_run(seed=4)
    statuses: dict[int, str] = {}
    for _ in range(900):
        before = {i: s.status for i in run.watched if (s := run.state.get(i))}
        run.step_for(1.0)
        done = run.steps[-1][1]
        for conversion_id in done.deleted:
            assert before.get(conversion_id) in ("Completed", "Failed"), before.get(
                conversion_id)
        for conversion_id in done.unwatched:
            snapshot = run.state.get(conversion_id)
            statuses[conversion_id] = DELETED if snapshot else "gone"
            assert snapshot is None or snapshot.status == DELETED
    assert statuses


def test_after_a_long_pause_it_does_not_make_up_every_missed_arrival() -> None:
    run = demo_run()
    run.clock.advance(3 * 3600)  # a laptop asleep for three hours
    done = run.flow.step()
    assert 1 <= len(done.arrived) <= FlowPace().max_catch_up
    run.step_for(60)
    assert sum(len(d.arrived) for _, d in run.steps) <= 20  # back to the usual pace


def test_the_flow_is_the_same_for_one_rng_seed() -> None:
    def arrivals(seed: int) -> list[tuple[int, str | None]]:
        run = demo_run(seed=seed)
        run.step_for(300)
        return [(a.id, a.note) for _, done in run.steps for a in done.arrived]

    assert arrivals(6) == arrivals(6)
    assert arrivals(6) != arrivals(7)


def test_the_flow_follows_the_sandbox_speed() -> None:
    clock = SandboxClock(speed=10.0, wall=lambda: WALL)
    state = SandboxState(seed_count=10, rng_seed=1, clock=clock)
    flow = DemoFlow(state, rng_seed=1)
    flow.start()
    arrived = 0
    for _ in range(60):  # six seconds at speed 10: a minute of the demo's pace
        clock.advance(0.1)
        arrived += len(flow.step().arrived)
    assert 5 <= arrived <= 25
