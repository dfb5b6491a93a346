"""Alerts in the running monitor (issue 13): a toast, the bell and desktop notifications
through the terminal, the hook; bursts merged; quiet hours; --no-alerts; never a toast for
what the banner already says."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import SessionFactory, quiet_window, wait_for
from tests.ui.test_monitor import SIZE, banner_text, notices, status_of
from tui.api.models import StatusEnvelope
from tui.core.alerts.quiet import QuietHours
from tui.core.alerts.settings import AlertSettings, ChannelSwitches
from tui.core.session import MonitorSession
from tui.core.settings import parse_config
from tui.core.since import LastLooked
from tui.core.timeinstatus import StuckAfter
from tui.core.watchlist import PollResult
from tui.sandbox.runner import SandboxServer
from tui.ui import alerting
from tui.ui.app import ConversionsApp


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the alerts write to the terminal (the headless driver has none)."""
    written: list[str] = []
    monkeypatch.setattr(alerting, "write_to_terminal",
                        lambda app, text: written.append(text) or True)
    monkeypatch.delenv("TMUX", raising=False)
    return written


def with_alerts(session: MonitorSession, alerts: AlertSettings, **more: Any) -> MonitorSession:
    session.profile = session.profile.model_copy(update={"alerts": alerts, **more})
    return session


async def test_a_failure_is_a_toast_a_bell_and_a_desktop_notification(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        terminal: list[str]) -> None:
    state = sandbox.state
    moving = state.add_conversion(status="Processing", outcome="Failed",
                                  file_name="payroll.csv", frozen=True)
    app = ConversionsApp(monitor_session(ids=[moving]))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, moving) == "Processing", what="first poll")
        assert terminal == []  # nothing rings for what was already so
        state.set_status(moving, "Failed", frozen=True)
        await wait_for(pilot, lambda: any("failed" in m for _s, m in notices(app)),
                       what=lambda: f"the failure's toast; toasts: {notices(app)}")
        [(severity, message)] = [(s, m) for s, m in notices(app) if "failed" in m]
        assert severity == "error"
        assert message == f"Conversion {moving} failed (payroll.csv)"
        await wait_for(pilot, lambda: terminal, what="the bell and the notifications")
        sent = "".join(terminal)
        assert sent.startswith("\x07")  # the bell
        assert f"\x1b]9;Conversion failed: Conversion {moving} failed (payroll.csv)\x07" in sent
        assert "\x1b]777;notify;Conversion failed;" in sent
        assert "\x1b]99;i=" in sent and ":p=title;Conversion failed\x1b\\" in sent


async def test_a_burst_of_failures_is_one_alert_and_no_toast_flood(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        terminal: list[str]) -> None:
    state = sandbox.state
    ids = [state.add_conversion(status="Processing", frozen=True) for _ in range(30)]
    app = ConversionsApp(monitor_session(ids=ids))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(status_of(app, i) == "Processing" for i in ids),
                       what="first polls")
        for conversion in ids:
            state.set_status(conversion, "Failed", frozen=True)
        await wait_for(pilot, lambda: all(status_of(app, i) == "Failed" for i in ids),
                       what="every failure seen")
        await quiet_window(pilot, 1.5)
        failed = [m for _s, m in notices(app) if "failed" in m]
        # The first poll batch alerts at once, the rest of the minute is held and merged.
        assert 1 <= len(failed) <= 2, failed
        assert sum("\x07" in text for text in terminal) == len(failed)
        assert any(m.startswith(("30 conversions failed", "Conversion ")) or
                   " conversions failed" in m for m in failed), failed


async def test_server_failing_rings_but_its_words_are_the_banners(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        terminal: list[str]) -> None:
    state = sandbox.state
    ids = [state.add_conversion(status="Processing", frozen=True) for _ in range(4)]
    app = ConversionsApp(monitor_session(ids=ids))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(status_of(app, i) for i in ids), what="first polls")
        state.faults.update({"html_error": 1.0})
        try:
            await wait_for(pilot, lambda: "Server failing" in banner_text(app),
                           what="the banner")
            await wait_for(pilot, lambda: any("Server failing" in t for t in terminal),
                           what="the desktop notification")
        finally:
            state.faults.clear()
        assert not any("Server failing" in m or "checks" in m for _s, m in notices(app))


@pytest.mark.parametrize("case", ["quiet hours", "--no-alerts"])
async def test_quiet_hours_and_no_alerts(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        terminal: list[str], case: str) -> None:
    state = sandbox.state
    alerts = (AlertSettings(quiet_hours=QuietHours.parse("00:00-23:59"))
              if case == "quiet hours" else AlertSettings().switched_off())
    moving = state.add_conversion(status="Processing", frozen=True)
    app = ConversionsApp(with_alerts(monitor_session(ids=[moving]), alerts))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, moving) == "Processing",
                       what="first poll")
        state.set_status(moving, "Failed", frozen=True)
        await wait_for(pilot, lambda: status_of(app, moving) == "Failed", what="failure")
        if case == "quiet hours":  # the toast still shows, nothing rings
            await wait_for(pilot, lambda: any("failed" in m for _s, m in notices(app)),
                           what="the toast in quiet hours")
        else:
            await quiet_window(pilot, 1.0)
            assert not any("failed" in m for _s, m in notices(app)), notices(app)
    assert terminal == [], terminal


async def test_a_stuck_row_alerts_once_from_its_upload_time(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        terminal: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tui.ui.screens.flows.changes.ALERT_SWEEP_EVERY", 1)
    state = sandbox.state
    hung = state.add_conversion(status="Processing", frozen=True, file_name="hung.csv")
    session = with_alerts(monitor_session(ids=[hung]), AlertSettings(),
                          stuck_after=StuckAfter(1.0))
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("stuck" in m for _s, m in notices(app)),
                       what=lambda: f"the stuck alert; toasts: {notices(app)}")
        await quiet_window(pilot, 2.5)  # more sweeps: still one alert
        stuck = [m for _s, m in notices(app) if "stuck" in m]
        assert len(stuck) == 1 and stuck[0].startswith(f"Conversion {hung} stuck in Processing")


async def test_the_hook_gets_the_alert_as_json_and_never_the_key(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        terminal: list[str], tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    hook = tmp_path / "hook.py"
    hook.write_text("import os, sys\n"
                    f"with open({str(out)!r}, 'a') as f:\n"
                    "    f.write(sys.stdin.read().strip() + ' ' + "
                    "repr(os.environ.get('CONVERSIONS_API_KEY')) + '\\n')\n")
    state = sandbox.state
    moving = state.add_conversion(status="Processing", frozen=True)
    session = with_alerts(monitor_session(ids=[moving], env={"CONVERSIONS_API_KEY": "k"}),
                          AlertSettings(hook=(sys.executable, str(hook)),
                                        channels=ChannelSwitches(False, False, False, False)))
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, moving) == "Processing", what="first poll")
        state.set_status(moving, "Failed", frozen=True)
        await wait_for(pilot, lambda: out.exists() and out.read_text().strip(),
                       what="the hook's output")
    line = out.read_text().strip()
    body, key = line.rsplit(" ", 1)
    event = json.loads(body)
    assert event["kind"] == "failed" and event["ids"] == [moving]
    assert key == "None" and "test-key" not in line
    assert terminal == []  # every channel switched off


async def test_since_you_last_looked_after_the_app_was_closed(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        terminal: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tui.ui.screens.flows.since.SINCE_AFTER", 0.1)
    state = sandbox.state
    overnight = state.add_conversion(status="Processing", frozen=True, file_name="night.csv")
    done = state.add_conversion(status="Processing", frozen=True)
    session = monitor_session(ids=[overnight, done])
    session.watchlist.record_results([
        PollResult(i, time.time() - 5 * 3600, StatusEnvelope.from_wire(json.dumps({
            "payload": {"id": i, "status": "Processing", "fileName": "x.csv"}}).encode()))
        for i in (overnight, done)])
    looked = LastLooked(session.paths.state_dir / "test" / "last_looked.json")
    looked.write(time.time() - 5 * 3600)  # closed five hours ago
    # Meanwhile on the server: one failed (a kind of error never seen), one completed.
    state.set_status(overnight, "Failed", frozen=True)
    state.set_status(done, "Completed", frozen=True)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("Since you last looked" in m
                                          for _s, m in notices(app)),
                       what=lambda: f"the summary; toasts: {notices(app)}")
        [summary] = [m for _s, m in notices(app) if "Since you last looked" in m]
    assert summary.startswith("Since you last looked (5 h ago): 1 completed, 1 failed"), summary
    assert looked.read() is not None and time.time() - (looked.read() or 0) < 3600


async def test_since_you_last_looked_after_a_long_quiet(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        terminal: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tui.ui.screens.flows.since.GAP", 0.5)
    state = sandbox.state
    moving = state.add_conversion(status="Processing", frozen=True)
    app = ConversionsApp(monitor_session(ids=[moving]))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, moving) == "Processing", what="first poll")
        await pilot.press("down")
        pressed = time.time()
        state.set_status(moving, "Completed", frozen=True)
        await wait_for(pilot, lambda: status_of(app, moving) == "Completed"
                       and time.time() - pressed > 0.6, what="the change, then a quiet")
        assert not any("Since you last looked" in m for _s, m in notices(app))
        await pilot.press("up")  # back at the desk
        await wait_for(pilot, lambda: any("Since you last looked" in m and "1 completed" in m
                                          for _s, m in notices(app)),
                       what=lambda: f"the summary; toasts: {notices(app)}")


async def test_a_bad_value_in_the_config_is_said_at_start(
        sandbox: SandboxServer, monitor_session: SessionFactory, terminal: list[str]) -> None:
    session = monitor_session()
    session.config = parse_config('[profiles.test]\nbase_url = "https://x.example"\n'
                                  '[profiles.test.alerts]\nquiet_hours = "25:00-26:00"\n',
                                  Path("config.toml"))
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any(
            m.startswith("config.toml: line 4: alerts quiet_hours") for _s, m in notices(app)),
            what=lambda: f"the warning; toasts: {notices(app)}")


async def test_since_you_last_looked_tells_a_stuck_row_though_nothing_is_unread(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        terminal: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Stuck is not news for the unread marks (no Changed view to point at): the summary
    # is told all the same, without pointing at that view.
    monkeypatch.setattr("tui.ui.screens.flows.since.SINCE_AFTER", 0.1)
    stuck = sandbox.state.add_conversion(status="Processing", frozen=True)
    session = monitor_session(ids=[stuck])
    for status, hours in (("Queued", 6), ("Processing", 5)):
        session.watchlist.record_results([PollResult(
            stuck, time.time() - hours * 3600, StatusEnvelope.from_wire(json.dumps({
                "payload": {"id": stuck, "status": status, "fileName": "x.csv"}}).encode()))])
    LastLooked(session.paths.state_dir / "test" / "last_looked.json").write(
        time.time() - 5.5 * 3600)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("Since you last looked" in m
                                          for _s, m in notices(app)),
                       what=lambda: f"the summary; toasts: {notices(app)}")
        [summary] = [m for _s, m in notices(app) if "Since you last looked" in m]
    assert "1 stuck" in summary and "Changed view" not in summary, summary


def test_a_follower_runs_the_hook_for_its_own_refused_key_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the monitor that polls runs the hook, so a team is paged once; but a refused
    key is this monitor's own (a newcomer's follower with a wrong key paged nobody)."""
    from tui.core.alerts.events import AlertKind
    from tui.core.alerts.hook import AlertHook
    from tui.core.polling.types import Connectivity, ConnectivityState

    sent: list[str] = []
    monkeypatch.setattr(AlertHook, "send", lambda hook, event, on_problem: sent.append(
        event["kind"]))
    now = [1000.0]

    class _Screenless:  # server-wide alerts are no toast: nothing is drawn
        def notify(self, *args: Any, **kwargs: Any) -> None:
            raise AssertionError("no toast expected")

    alerter = alerting.Alerter(
        _Screenless(), AlertSettings(hook=(sys.executable, "-c", "pass"),  # type: ignore[arg-type]
                                     channels=ChannelSwitches(False, False, False, False)),
        StuckAfter(3600.0), profile="team", clock=lambda: now[0], runs_hook=lambda: False)
    alerter.observe(connectivity=Connectivity(ConnectivityState.OFFLINE, since=now[0],
                                              message="connection refused"))
    alerter.observe(connectivity=Connectivity(ConnectivityState.AUTH_FAILED, since=now[0],
                                              message="HTTP 401"))
    now[0] += 60
    alerter.tick()
    kinds = [alert.kind for alert in alerter.delivered]
    assert AlertKind.KEY_REFUSED in kinds and AlertKind.SERVER_FAILING in kinds, kinds
    assert sent == ["key_refused"], sent
