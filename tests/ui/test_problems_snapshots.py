"""Snapshots of the Problems view (issue 14) at 80x24 and 160x48.

Deterministic as the triage snapshots are: fixed answers at fixed times, nothing polls,
frozen clocks, UTC, the shipped "dark" theme. Run with ``--snapshot-update`` to accept new
images after looking at them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import wait_for
from tests.ui.test_triage_snapshots import (
    FROZEN,
    MINUTE,
    FrozenTime,
    NoServer,
    answer,
    utc,  # noqa: F401 (the fixture: local time is UTC)
)
from tui.api.models import Profile
from tui.core.paths import AppPaths
from tui.core.session import MonitorSession
from tui.core.settings import AppConfig, ProfileSettings
from tui.core.watchlist import PollResult
from tui.ui.app import ConversionsApp
from tui.ui.screens.flows import filtering
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.views import VIEWS
from tui.ui.widgets.problems_list import ProblemsList
from tui.ui.widgets.summary_strip import SummaryStrip
from tui.ui.widgets.table.conversions_table import ConversionsTable

PROBLEMS_KEY = str([view.key for view in VIEWS].index("problems") + 1)
FIRST = 48300


def fill(session: MonitorSession) -> int:
    """Twenty failures of four causes and warnings; returns how many rows."""
    specs: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    for n in range(9):
        specs.append(("Failed", (f"File is not valid UTF-8 (byte 0x{n + 192:x} at {n * 131})",),
                      ()))
    for n in range(5):
        specs.append(("Failed", (f"Row {n * 17 + 2}: date '0{n + 1}/04' is ambiguous",),
                      (f"Row {n + 3}: trailing spaces trimmed",)))
    for n in range(3):
        specs.append(("Completed", (), (f"Column \"Cost centre {n}\" is empty",)))
    specs.append(("Failed", ("[bold]Sheet[/] 'Notes' has no header row \x1b[2J",), ()))
    ids = list(range(FIRST, FIRST + len(specs)))
    session.watchlist.add(ids, at=FROZEN - 70 * MINUTE)
    session.watchlist.record_results([
        PollResult(i, FROZEN - (30 - n) * MINUTE,
                   answer(i, status, file_name=f"batch-{n:02}.csv", kind="Csv",
                          errors=errors, warnings=warnings))
        for n, (i, (status, errors, warnings)) in enumerate(zip(ids, specs, strict=True))])
    return len(ids)


@pytest.fixture
def problems_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ConversionsApp]:
    """The monitor on fixed data with failures of several causes: no polling, frozen."""
    clock = FrozenTime(FROZEN)
    monkeypatch.setattr(filtering, "time", clock)
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
        rows = fill(session)
        app = ConversionsApp(session, theme="dark")
        app.problem_rows = rows  # type: ignore[attr-defined]
        yield app
    finally:
        session.close()


async def groups_shown(pilot: Pilot[Any]) -> None:
    """Open the Problems tab once every row and the history are in."""
    app = pilot.app
    screen = app.screen
    grid = screen.query_one(ConversionsTable)
    strip = screen.query_one(SummaryStrip)
    rows = app.problem_rows  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: len(grid.rows) == rows and strip.reads >= 1,
                   what=lambda: f"{rows} rows and the history ({len(grid.rows)} rows)")
    await pilot.press(PROBLEMS_KEY)
    listing = screen.query_one(ProblemsList)
    await wait_for(pilot, lambda: len(listing.shown_keys) == 5 and listing.has_focus,
                   what=lambda: f"five groups (saw {len(listing.shown_keys)})")
    await pilot.pause()


async def group_opened(pilot: Pilot[Any]) -> None:
    """The groups, then enter on the largest."""
    await groups_shown(pilot)
    await pilot.press("enter")
    grid = pilot.app.screen.query_one(ConversionsTable)
    await wait_for(pilot, lambda: grid.display and len(grid.marked_ids) == 9,
                   what=lambda: f"the nine rows marked (saw {grid.marked_ids})")
    await pilot.pause()


@pytest.mark.usefixtures("utc")
def test_problems_view_80x24(snap_compare: Any, problems_app: ConversionsApp) -> None:
    assert snap_compare(problems_app, terminal_size=(80, 24), run_before=groups_shown)


@pytest.mark.usefixtures("utc")
def test_problems_view_160x48(snap_compare: Any, problems_app: ConversionsApp) -> None:
    assert snap_compare(problems_app, terminal_size=(160, 48), run_before=groups_shown)


@pytest.mark.usefixtures("utc")
def test_problems_group_rows_160x48(snap_compare: Any, problems_app: ConversionsApp) -> None:
    assert snap_compare(problems_app, terminal_size=(160, 48), run_before=group_opened)
