"""The demo's colleague: the sandbox's flow written to the demo's watchlist file."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tui.cli_demo import DemoColleague, apply_step
from tui.core.watchlist import Watchlist
from tui.sandbox.clock import SandboxClock
from tui.sandbox.demo_flow import Arrival, DemoFlow, FlowStep
from tui.sandbox.state import SandboxState


def test_a_step_adds_arrivals_with_their_notes_and_removes_what_was_tidied(
        tmp_path: Path) -> None:
    with Watchlist(tmp_path / "watch.sqlite3") as watchlist:
        watchlist.add([1, 2, 3])
        apply_step(watchlist, FlowStep(arrived=[Arrival(4, "INC-4480"), Arrival(5)],
                                       deleted=[2], unwatched=[1, 3]))
        assert watchlist.ids() == [2, 4, 5]
        assert [(row.id, row.note) for row in watchlist.all()] == [
            (2, None), (4, "INC-4480"), (5, None)]


def test_the_colleague_steps_the_flow_into_the_file_until_stopped(tmp_path: Path) -> None:
    clock = SandboxClock(wall=lambda: 1_800_000_000.0)
    state = SandboxState(seed_count=20, rng_seed=1, clock=clock)
    flow = DemoFlow(state, rng_seed=1)
    path = tmp_path / "watch.sqlite3"
    with Watchlist(path) as watchlist:
        watchlist.add(flow.start())
        at_start = set(watchlist.ids())
        colleague = DemoColleague(flow, path, every=0.01)
        colleague.start()
        try:
            clock.advance(30.0)  # half a minute of the demo: a few arrivals fall due
            deadline = time.monotonic() + 30.0
            while not set(watchlist.ids()) - at_start and time.monotonic() < deadline:
                time.sleep(0.02)
            arrived = set(watchlist.ids()) - at_start
            assert arrived, f"nothing arrived; the flow watches {flow.watched}"
            assert arrived <= set(flow.watched)
        finally:
            colleague.stop()
    assert not any(t.name == "demo-colleague" for t in threading.enumerate())
