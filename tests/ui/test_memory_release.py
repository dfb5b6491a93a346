"""The app hands freed heap memory back on a timer while it runs."""

from __future__ import annotations

import pytest

import tui.ui.app
from tests.ui.conftest import SessionFactory, wait_for
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
