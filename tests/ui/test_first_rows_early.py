"""A long watchlist shows its first rows before the whole of it is read (issue 12: the
first screen at 100,000 watched within a second of the spawn)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.ui.conftest import wait_for
from tests.ui.test_monitor_snapshots import FrozenSession
from tui.core.credentials import ApiKey
from tui.core.paths import AppPaths
from tui.core.settings import AppConfig, ProfileSettings
from tui.core.watchlist import WatchedConversion
from tui.ui.app import ConversionsApp
from tui.ui.screens.flows import loading
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.screens.flows.loading import FIRST_SCREEN_ROWS
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.widgets.monitor_header import MonitorHeader
from tui.ui.widgets.table.conversions_table import ConversionsTable


async def test_the_first_rows_show_while_the_rest_is_still_being_read(
        tmp_path: Path) -> None:
    profile = ProfileSettings(name="support", base_url="https://api.example")
    session = FrozenSession.open(AppPaths.under(tmp_path / "app"), AppConfig(), profile,
                                 preset_key=ApiKey("k"), env={})
    total = FIRST_SCREEN_ROWS + 50
    session.watchlist.add(range(1, total + 1))
    # The whole read waits for the test's word: what shows meanwhile came from head().
    gate = threading.Event()
    read_everything = session.watchlist.all

    def slow_all() -> list[WatchedConversion]:
        gate.wait(timeout=60)
        return read_everything()

    session.watchlist.all = slow_all  # type: ignore[method-assign]
    try:
        app = ConversionsApp(session)
        async with app.run_test(size=(120, 30)) as pilot:
            def table() -> ConversionsTable:
                return app.screen.query_one(ConversionsTable)

            await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen)
                           and table().visible_count == FIRST_SCREEN_ROWS,
                           what="the first rows before the whole watchlist")
            assert table().visible_ids[:3] == [1, 2, 3]
            assert not gate.is_set()
            gate.set()
            await wait_for(pilot, lambda: table().visible_count == total,
                           what=lambda: f"every row ({table().visible_count} of {total})")
    finally:
        gate.set()
        session.close()


@pytest.mark.parametrize("count", [3, FIRST_SCREEN_ROWS - 1, FIRST_SCREEN_ROWS])
async def test_only_a_long_watchlist_shows_its_first_rows_early(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    # Fewer rows than a first screen are read whole at once, so they never show without
    # their counts (the tabs, the header).
    early: list[int] = []
    show_first = loading.show_first_rows

    def recording(host: MonitorHost, rows: list[WatchedConversion]) -> None:
        early.append(len(rows))
        show_first(host, rows)

    monkeypatch.setattr(loading, "show_first_rows", recording)
    profile = ProfileSettings(name="support", base_url="https://api.example")
    session = FrozenSession.open(AppPaths.under(tmp_path / "app"), AppConfig(), profile,
                                 preset_key=ApiKey("k"), env={})
    session.watchlist.add(range(1, count + 1))
    try:
        app = ConversionsApp(session)
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen)
                           and app.screen.query_one(MonitorHeader).info.watched == count,
                           what="the header's count")
            assert app.screen.query_one(ConversionsTable).visible_count == count
    finally:
        session.close()
    assert early == ([FIRST_SCREEN_ROWS] if count >= FIRST_SCREEN_ROWS else [])
