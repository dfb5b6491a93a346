"""Snapshots of the triage modals: inspect, and the delete confirmation (one and several).

Deterministic on purpose: the watchlist is filled with fixed answers at fixed times,
nothing polls (the monitor never connects), every clock the screens read is frozen at
FROZEN, local time is UTC and the theme is the shipped "dark". Run with
``--snapshot-update`` to accept new images after looking at them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import TabbedContent

import tui.ui.screens.inspect as inspect_screen
from tests.ui.conftest import wait_for
from tui.api.models import Profile, StatusEnvelope
from tui.core.paths import AppPaths
from tui.core.session import MonitorSession
from tui.core.settings import AppConfig, ProfileSettings
from tui.core.watchlist import PollResult
from tui.ui.app import ConversionsApp
from tui.ui.screens.confirm_delete import ConfirmDeleteModal
from tui.ui.screens.flows import filtering
from tui.ui.screens.inspect import InspectModal
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.widgets.summary_strip import SummaryStrip
from tui.ui.widgets.table.conversions_table import ConversionsTable

SIZE = (120, 36)
FROZEN = 1_795_874_700.0  # 2026-11-28 14:05:00 UTC
MINUTE = 60.0


class FrozenTime:
    """Stands in for the ``time`` module of a screen: wall time stands still."""

    perf_counter = staticmethod(time.perf_counter)
    monotonic = staticmethod(time.monotonic)

    def __init__(self, at: float) -> None:
        self._at = at

    def time(self) -> float:
        """FROZEN, always."""
        return self._at


class NoServer:
    """The client of a monitor that must never talk to a server."""

    @property
    def client(self) -> Any:
        raise AssertionError("a snapshot test reached for the server")


def answer(conversion_id: int, status: str, *, file_name: str, kind: str,
           warnings: tuple[str, ...] = (), errors: tuple[str, ...] = (),
           metadata: dict[str, Any] | None = None) -> StatusEnvelope:
    """A status envelope as the server would send it."""
    body = {
        "profile": None,
        "payload": {"id": conversion_id, "fileName": file_name, "dataSourceType": kind,
                    "status": status, "uploadDate": "2026-11-28T12:58:07Z"},
        "errors": list(errors), "hasErrors": bool(errors),
        "warnings": list(warnings), "hasWarnings": bool(warnings),
        "metadata": metadata or {},
    }
    return StatusEnvelope.from_wire(json.dumps(body))


FAILED_ID, DONE_ID, BUSY_ID, OTHER_ID = 48211, 48212, 48213, 48214


def fill(session: MonitorSession) -> None:
    """Four conversions with a history, all seen at fixed times before FROZEN."""
    watchlist = session.watchlist
    watchlist.add([FAILED_ID, DONE_ID, BUSY_ID, OTHER_ID], at=FROZEN - 70 * MINUTE)
    failed = dict(file_name="expenses-q3.xlsx", kind="Excel")
    results = [
        PollResult(FAILED_ID, FROZEN - 66 * MINUTE, answer(FAILED_ID, "Queued", **failed)),
        PollResult(FAILED_ID, FROZEN - 65 * MINUTE, answer(FAILED_ID, "Processing", **failed)),
        PollResult(FAILED_ID, FROZEN - 23 * MINUTE, answer(
            FAILED_ID, "Failed", **failed,
            warnings=("Row 4: date '03/04' read as 3 April", "Row 9: trailing spaces trimmed"),
            errors=("Row 12: amount 'x1' is not a number", "Row 40: currency 'XYZ' is unknown",
                    "Sheet 'Notes' was ignored: it has no header row"),
            metadata={"rowsRead": 1200, "sheet": "Q3", "durationMs": 2520000})),
        PollResult(DONE_ID, FROZEN - 9 * MINUTE, answer(
            DONE_ID, "Completed", file_name="payroll-nov.csv", kind="Csv",
            warnings=("Row 77: empty cost centre",))),
        PollResult(BUSY_ID, FROZEN - 4 * MINUTE, answer(
            BUSY_ID, "Processing", file_name="vendors.csv", kind="Csv")),
        PollResult(OTHER_ID, FROZEN - 2 * MINUTE, answer(
            OTHER_ID, "Completed", file_name="ledger-2026.json", kind="Json")),
    ]
    watchlist.record_results(results)
    watchlist.set_note(FAILED_ID, "TCK-1042")


@pytest.fixture
def utc() -> Iterator[None]:
    """Local time is UTC (TZ by hand, not monkeypatch: tzset() must run after restoring)."""
    zone = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if zone is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = zone
        time.tzset()


@pytest.fixture
def frozen_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
               utc: None) -> Iterator[ConversionsApp]:
    """The monitor on fixed data: no polling, frozen clocks, UTC."""
    clock = FrozenTime(FROZEN)
    monkeypatch.setattr(inspect_screen, "time", clock)
    monkeypatch.setattr(filtering, "time", clock)  # the views' counts and predicates
    # The summary strip's sparkline window too: its "now" decides where a spike falls.
    monkeypatch.setattr(SummaryStrip, "clock", staticmethod(clock.time))
    monkeypatch.setattr(ConversionsTable.__init__, "__kwdefaults__",
                        {**(ConversionsTable.__init__.__kwdefaults__ or {}), "now": clock.time})

    def connect_nowhere(self: MonitorScreen) -> None:
        self.credentials.source = NoServer()  # type: ignore[assignment]

    monkeypatch.setattr(MonitorScreen, "connect", connect_nowhere)
    profile = ProfileSettings(name="support", base_url="https://conversions.example.test",
                              poll_interval=5.0)
    session = MonitorSession.open(AppPaths.under(tmp_path / "app"), AppConfig(), profile,
                                  env={})
    session.last_profile = Profile(email="dana.whitfield@northwind.example",
                                   first_name="Dana", last_name="Whitfield",
                                   company="Northwind Traders")
    try:
        fill(session)
        # The shipped default theme, named: the images are about the modals, and must not
        # change when the default does.
        yield ConversionsApp(session, theme="dark")
    finally:
        session.close()


async def rows_shown(pilot: Pilot[Any]) -> ConversionsTable:
    """Wait for the table to hold the four rows; return it."""
    grid = pilot.app.screen.query_one(ConversionsTable)
    strip = pilot.app.screen.query_one(SummaryStrip)
    # The strip reads the recorded history in a thread: wait for it too, or the
    # sparklines differ from run to run.
    await wait_for(pilot, lambda: len(grid.rows) == 4 and strip.reads >= 1
                   and sum(strip.activity.failed),
                   what=lambda: f"the four rows and the history ({len(grid.rows)} rows, "
                                f"{strip.reads} reads)")
    await pilot.pause()
    return grid


async def modal_up(pilot: Pilot[Any], kind: type[Any]) -> Any:
    """Wait until a screen of ``kind`` is on top."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind),
                   what=f"{kind.__name__} on top")
    await pilot.pause()
    return pilot.app.screen


def open_inspect(tab: str) -> Any:
    """A run_before that opens inspect on the failed conversion at ``tab``."""

    async def run_before(pilot: Pilot[Any]) -> None:
        grid = await rows_shown(pilot)
        assert grid.move_cursor(FAILED_ID)
        await pilot.press("enter")
        modal = await modal_up(pilot, InspectModal)
        modal.query_one(TabbedContent).active = tab
        await pilot.pause()

    return run_before


def test_inspect_overview(snap_compare: Any, frozen_app: ConversionsApp) -> None:
    assert snap_compare(frozen_app, terminal_size=SIZE, run_before=open_inspect("overview"))


def test_inspect_errors(snap_compare: Any, frozen_app: ConversionsApp) -> None:
    assert snap_compare(frozen_app, terminal_size=SIZE, run_before=open_inspect("errors"))


def test_inspect_history(snap_compare: Any, frozen_app: ConversionsApp) -> None:
    assert snap_compare(frozen_app, terminal_size=SIZE, run_before=open_inspect("history"))


def test_confirm_delete_one(snap_compare: Any, frozen_app: ConversionsApp) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        grid = await rows_shown(pilot)
        assert grid.move_cursor(FAILED_ID)
        await pilot.press("d")
        await modal_up(pilot, ConfirmDeleteModal)

    assert snap_compare(frozen_app, terminal_size=SIZE, run_before=run_before)


def test_confirm_delete_several(snap_compare: Any, frozen_app: ConversionsApp) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        grid = await rows_shown(pilot)
        for conversion_id in (FAILED_ID, DONE_ID, OTHER_ID):
            assert grid.move_cursor(conversion_id)
            await pilot.press("space")
        await pilot.press("d")
        modal = await modal_up(pilot, ConfirmDeleteModal)
        await pilot.press("shift+tab")  # to the count box: its placeholder says what to type
        assert modal.query_one("#delete").disabled

    assert snap_compare(frozen_app, terminal_size=SIZE, run_before=run_before)


def test_confirm_delete_marks_outside_the_view(snap_compare: Any,
                                               frozen_app: ConversionsApp) -> None:
    """Two rows marked in All, then the Failed view, ctrl+a, d: the dialog says that two
    are not in the view, lists the seen one first and breaks them down by status."""

    async def run_before(pilot: Pilot[Any]) -> None:
        grid = await rows_shown(pilot)
        for conversion_id in (DONE_ID, OTHER_ID):
            assert grid.move_cursor(conversion_id)
            await pilot.press("space")
        await pilot.press("3", "ctrl+a", "d")
        await modal_up(pilot, ConfirmDeleteModal)

    assert snap_compare(frozen_app, terminal_size=SIZE, run_before=run_before)
