"""A restarted monitor does not alert again for rows already in trouble when it started
(they alerted before, or the since-you-last-looked summary tells them); what happens to
a row after the start alerts as ever."""

from __future__ import annotations

import json
import time

import pytest

from tests.ui.conftest import SessionFactory, quiet_window, wait_for
from tests.ui.test_alerts import terminal, with_alerts  # noqa: F401 (a fixture)
from tests.ui.test_monitor import SIZE, status_of
from tui.api.models import StatusEnvelope
from tui.core.alerts.events import AlertKind
from tui.core.alerts.settings import AlertSettings
from tui.core.timeinstatus import StuckAfter
from tui.core.watchlist import PollResult
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.monitor import MonitorScreen

HOUR = 3600.0
FAILED, STUCK, STALLED = AlertKind.FAILED, AlertKind.STUCK, AlertKind.DELETE_STALLED


def answer(conversion_id: int, status: str, at: float) -> PollResult:
    """A check of ``conversion_id`` made at ``at`` (the run before the restart)."""
    return PollResult(conversion_id, at, StatusEnvelope.from_wire(json.dumps({
        "payload": {"id": conversion_id, "status": status, "fileName": f"{status}.csv",
                    "uploadDate": "2026-01-01T00:00:00Z"}}).encode()))


async def test_rows_in_trouble_before_a_restart_do_not_alert_again(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        terminal: list[str], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setattr("tui.ui.screens.flows.changes.ALERT_SWEEP_EVERY", 1)
    state = sandbox.state
    # In trouble before the restart: stuck for hours, a delete not finishing, failed.
    stuck = state.add_conversion(status="Processing", frozen=True)
    deleting = state.add_conversion(status="DeletionPending", frozen=True)
    failed = state.add_conversion(status="Failed", frozen=True)
    # After the restart: one fails, one turns stuck (Queued: stuck after a second).
    fails_later = state.add_conversion(status="Processing", frozen=True)
    queued = state.add_conversion(status="Queued", frozen=True)
    session = with_alerts(monitor_session(ids=[stuck, deleting, failed, fails_later, queued]),
                          AlertSettings(), stuck_after=StuckAfter(HOUR, {"Queued": 1.0}))
    before = time.time() - 5 * HOUR
    session.watchlist.record_results([answer(stuck, "Processing", before),
                                      answer(deleting, "DeletionPending", before),
                                      answer(failed, "Processing", before),
                                      answer(fails_later, "Processing", before)])
    session.watchlist.record_results([answer(failed, "Failed", before + 60)])
    session.watchlist.mark_delete_requested(deleting, before)
    app = ConversionsApp(session)

    def alerted(kind: AlertKind) -> set[int]:
        screen = next(s for s in app.screen_stack if isinstance(s, MonitorScreen))
        assert screen.alerter is not None
        return {i for alert in screen.alerter.delivered if alert.kind is kind
                for i in alert.ids}

    def seen() -> str:
        return f"failed {alerted(FAILED)}, stuck {alerted(STUCK)}, stalled {alerted(STALLED)}"

    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(status_of(app, i) for i in (stuck, deleting, queued)),
                       what="the first answers")
        state.set_status(fails_later, "Failed", frozen=True)
        await wait_for(pilot, lambda: fails_later in alerted(FAILED)
                       and queued in alerted(STUCK),
                       what=lambda: f"the new failure and the newly stuck row: {seen()}")
        await quiet_window(pilot, 2.5)  # more sweeps over every row in flight
        assert alerted(FAILED) == {fails_later}, seen()
        assert alerted(STUCK) == {queued}, seen()
        assert alerted(STALLED) == set(), seen()
