"""While it runs, the app hands freed heap memory back on a timer and collects
young garbage less often."""

from __future__ import annotations

import gc

import pytest

import tui.ui.app
from tests.ui.conftest import SessionFactory, wait_for
from tui.core.memory import YOUNG_COLLECTION_EVERY
from tui.ui.app import ConversionsApp


async def test_the_app_releases_free_memory_periodically(
        monitor_session: SessionFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def release() -> bool:
        calls.append(1)
        return True

    monkeypatch.setattr(tui.ui.app, "MEMORY_RELEASE_EVERY", 0.05)
    monkeypatch.setattr(tui.ui.app, "release_free_memory", release)
    app = ConversionsApp(monitor_session())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(calls) >= 3, what="three releases")


async def test_the_app_spaces_out_young_collections_while_it_runs(
        monitor_session: SessionFactory) -> None:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        app = ConversionsApp(monitor_session())
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, 10, 10)
        assert gc.get_threshold() == (700, 10, 10)  # given back when the app is gone
    finally:
        gc.set_threshold(*before)
