"""Two monitors on one watchlist file: one polls, the other follows the file.

In one process a ``PollerLock`` held by the test stands for the other monitor (an
``flock`` belongs to its descriptor, so it excludes the app's as another process would);
a second ``Watchlist`` connection stands for what that monitor or the CLI writes.
tests/e2e/test_two_monitors.py does the same with two real processes and SIGKILL.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_alerts import with_alerts
from tests.ui.test_monitor import SIZE, header_text, monitor, status_of, table
from tui.api.models import StatusEnvelope
from tui.core.alerts.hook import AlertHook
from tui.core.alerts.settings import AlertSettings, ChannelSwitches
from tui.core.polling.lock import PollerLock
from tui.core.watchlist import PollResult, Watchlist
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp

# Looks at the file come every second; a loaded machine may take much longer.
TIMEOUT = 30.0


def _notices(app: ConversionsApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_note_written_by_another_process_shows_in_the_table(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conversion = sandbox.state.add_conversion(status="Completed", file_name="noted.csv")
    session = monitor_session(ids=[conversion])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, conversion) == "Completed",
                       what="the row checked")
        assert "following" not in header_text(app)  # the only monitor: it polls
        with Watchlist(session.watchlist.path) as elsewhere:
            elsewhere.set_note(conversion, "INC-4480 from the CLI")
        await wait_for(pilot, lambda: table(app).rows[conversion].note
                       == "INC-4480 from the CLI", timeout=TIMEOUT, what="the note shown")


async def test_a_second_monitor_follows_the_file_then_polls_once_the_first_is_gone(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    watched = state.add_conversion(status="Processing", frozen=True, file_name="a.csv")
    session = monitor_session(ids=[watched])
    other_monitor = PollerLock(session.watchlist.path)
    assert other_monitor.try_acquire()
    app = ConversionsApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            who = f"pid {os.getpid()} on {socket.gethostname()}"
            await wait_for(pilot, lambda: f"following another monitor ({who})"
                           in header_text(app), timeout=TIMEOUT, what="the header")
            requests_before = state.stats.total
            # What the polling monitor writes shows here: its check, a note, an added ID.
            assert session.preset_key is not None
            client = session.open_client(session.preset_key)
            try:
                envelope = await client.get_status(watched)
            finally:
                await client.aclose()
            with Watchlist(session.watchlist.path) as leader_file:
                leader_file.record_results([PollResult(watched, 1.0, envelope)])
                leader_file.set_note(watched, "INC-4480")
                leader_file.add([999_001])
            await wait_for(pilot, lambda: status_of(app, watched) == "Processing"
                           and table(app).rows[watched].note == "INC-4480"
                           and 999_001 in table(app).rows, timeout=TIMEOUT,
                           what="the other monitor's writes shown")
            assert state.stats.total == requests_before + 1, "the follower polled"

            # r checks nothing itself: it says who does.
            await pilot.press("r")
            await wait_for(pilot, lambda: any("Another monitor polls this watchlist" in n
                                              for n in _notices(app)), what="r's answer")
            assert state.stats.total == requests_before + 1

            # The other monitor goes: this one takes over and checks the rows itself.
            state.set_status(watched, "Completed", frozen=True)
            other_monitor.release()
            await wait_for(pilot, lambda: "following" not in header_text(app)
                           and status_of(app, watched) == "Completed", timeout=TIMEOUT,
                           what="the takeover and a check of its own")
            assert monitor(app).scheduler is not None
            assert session.poller_lock.held
    finally:
        other_monitor.release()


async def test_a_follower_tells_its_person_but_leaves_the_hook_to_the_poller(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Two monitors on one watchlist: the failure is a toast on both, the hook runs once
    (on the one that polls; tests/ui/test_alerts.py shows the poller's)."""
    sent: list[Mapping[str, Any]] = []
    monkeypatch.setattr(AlertHook, "send", lambda hook, event, on_problem: sent.append(event))
    state = sandbox.state
    watched = state.add_conversion(status="Processing", frozen=True, file_name="a.csv")
    session = with_alerts(monitor_session(ids=[watched]), AlertSettings(
        hook=(sys.executable, str(tmp_path / "hook.py")),
        channels=ChannelSwitches(False, False, False, False)))
    other_monitor = PollerLock(session.watchlist.path)
    assert other_monitor.try_acquire()
    app = ConversionsApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "following another monitor" in header_text(app),
                           timeout=TIMEOUT, what="the header")
            def answer(status: str) -> PollResult:
                return PollResult(watched, time.time(), StatusEnvelope.from_wire(json.dumps(
                    {"payload": {"id": watched, "status": status, "fileName": "a.csv"}}
                ).encode()))

            with Watchlist(session.watchlist.path) as leader_file:
                leader_file.record_results([answer("Processing")])
            await wait_for(pilot, lambda: status_of(app, watched) == "Processing",
                           timeout=TIMEOUT, what="the poller's first answer shown")
            with Watchlist(session.watchlist.path) as leader_file:
                leader_file.record_results([answer("Failed")])
            await wait_for(pilot, lambda: any("failed" in n for n in _notices(app)),
                           timeout=TIMEOUT, what=lambda: f"the toast; {_notices(app)}")
            assert monitor(app).watching.following
            assert sent == [], sent
    finally:
        other_monitor.release()
