"""Screenshot of the column chooser over the fixed monitor at 80x24 (pytest-textual-snapshot):
the chosen columns in order with their boxes and when each drops, then the hidden ones."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.ui.conftest import wait_for
from tests.ui.test_monitor_snapshots import (  # noqa: F401  (fixtures used by name)
    SnapCompare,
    frozen_app,
    frozen_clock,
    settle,
)
from tui.ui.app import ConversionsApp
from tui.ui.screens.column_chooser import ColumnChooserModal


def test_column_chooser_80x24(snap_compare: SnapCompare,
                              frozen_app: ConversionsApp) -> None:  # noqa: F811
    async def open_chooser(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ColumnChooserModal),
                       what="the chooser")
        await pilot.press("down", "down", "space")  # Type hidden: its box empties
        await pilot.pause()

    assert snap_compare(frozen_app, terminal_size=(80, 24), run_before=open_chooser)
