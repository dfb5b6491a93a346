"""Screenshot of the monitor with unread rows (bold IDs) and the Changed view's count.

The fixed rows of the monitor snapshots, all looked at 1,000 s before the frozen NOW: the
two that changed since (a Failed row and an unknown status word) are unread. No key is
pressed, so no look is taken while the picture is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

# The fixed rows, silent client and frozen clock of the monitor snapshots, reused.
from tests.ui.test_monitor_snapshots import (
    FIRST,
    NOW,
    OWNER,
    ROWS,
    FrozenSession,
    frozen_clock,  # noqa: F401 - a fixture, used by name
    load_rows,
    settle,
)
from tui.core.credentials import ApiKey
from tui.core.paths import AppPaths
from tui.core.settings import AppConfig, ProfileSettings
from tui.core.unread import unread_ids
from tui.ui.app import ConversionsApp
from tui.ui.widgets.table.conversions_table import ConversionsTable

SnapCompare = Callable[..., bool]


@pytest.fixture
def unread_app(tmp_path: Path, frozen_clock: None) -> Iterator[ConversionsApp]:  # noqa: F811
    profile = ProfileSettings(name="support-prod", base_url="https://api.northwind.example")
    session = FrozenSession.open(AppPaths.under(tmp_path / "app"), AppConfig(), profile,
                                 preset_key=ApiKey("snapshot-key-7f3a"), env={})
    session.last_profile = OWNER
    load_rows(session, read_at=NOW - 1000)
    assert unread_ids(session.watchlist.all()) == [FIRST + 4, FIRST + 8]
    try:
        yield ConversionsApp(session)
    finally:
        session.close()


async def cursor_on_a_read_row(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    pilot.app.screen.query_one(ConversionsTable).move_cursor(FIRST)
    await pilot.pause()


def test_unread_rows_80x24(snap_compare: SnapCompare, unread_app: ConversionsApp) -> None:
    assert len(ROWS) == 10
    assert snap_compare(unread_app, terminal_size=(80, 24), run_before=cursor_on_a_read_row)
