"""While it runs, the app hands freed heap memory back on a timer and collects
young garbage less often."""

from __future__ import annotations

import gc
import time
import weakref

import pytest
from textual.widgets._toast import Toast

import tui.ui.app
from tests.ui.conftest import SessionFactory, wait_for
from tui.core.memory import YOUNG_COLLECTION_EVERY
from tui.ui.app import ConversionsApp
from tui.ui.widgets import ConversionsTable


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


async def test_removed_toasts_do_not_stay_in_memory(
        monitor_session: SessionFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # Textual memoises a colour pair per widget's styles cache (Textualize/textual#6665):
    # every toast shown all day would stay, lines and all, without the periodic clear.
    monkeypatch.setattr(tui.ui.app, "MEMORY_RELEASE_EVERY", 0.05)
    releases: list[float] = []
    monkeypatch.setattr(tui.ui.app, "release_free_memory",
                        lambda: releases.append(time.monotonic()) is None)
    app = ConversionsApp(monitor_session())
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        kept: list[weakref.ref[object]] = []
        for number in range(12):
            app.notify(f"news {number}", timeout=1.0)
        seen: set[int] = set()

        def keep_shown() -> bool:
            # Kept as soon as they are up: on a loaded machine they may expire before any
            # later look (they are drawn meanwhile: their styles are asked for colours).
            for toast in app.screen.query(Toast):
                if id(toast) not in seen:
                    seen.add(id(toast))
                    kept.append(weakref.ref(toast._styles_cache))
            return len(kept) >= 3

        await wait_for(pilot, keep_shown, what=lambda: f"toasts shown ({len(kept)})")
        await wait_for(pilot, lambda: not app.screen.query(Toast), what="toasts gone")
        # Textual lets go of removed widgets at the next layout: a later toast makes one.
        app.notify("later", timeout=0.3)
        await wait_for(pilot, lambda: bool(app.screen.query(Toast)), what="a later toast")
        await wait_for(pilot, lambda: not app.screen.query(Toast), what="it went too")
        gone = len(releases)
        await wait_for(pilot, lambda: len(releases) >= gone + 2, what="two releases after")
        gc.collect()
        assert kept and all(ref() is None for ref in kept)


async def test_the_loaded_rows_are_left_out_of_collections_until_the_monitor_goes(
        monitor_session: SessionFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # At 100,000 rows every full collection walked a million objects loaded once (issue 12):
    # once the rows are shown they are frozen; the monitor unfreezes them when it goes.
    # (Only a long watchlist: here two rows stand for one.)
    monkeypatch.setattr("tui.ui.screens.flows.loading.FREEZE_FROM_ROWS", 2)
    gc.unfreeze()
    app = ConversionsApp(monitor_session(ids=[48211, 48212]))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: gc.get_freeze_count() > 0,
                       what=lambda: f"objects frozen ({gc.get_freeze_count()})")
        row = next(iter(app.screen.query_one(ConversionsTable).rows.values()))
        assert gc.is_tracked(row)
        assert not any(seen is row for seen in gc.get_objects()), "a row is still collected"
    assert gc.get_freeze_count() == 0
