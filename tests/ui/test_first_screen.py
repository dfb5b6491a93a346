"""The monitor's first screen and a small terminal: ``? help`` always in the footer, the
first-run hint, rows not answered yet counted apart, and keys that act only in sight."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot

from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_monitor_snapshots import FrozenSession
from tui.core.credentials import ApiKey
from tui.core.paths import AppPaths
from tui.core.settings import AppConfig, ProfileSettings
from tui.core.statuses import StatusKind
from tui.core.watchlist import PollResult
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.confirm_delete import ConfirmDeleteModal
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.widgets.keys_footer import PinnedKeys
from tui.ui.widgets.monitor_header import MonitorHeader
from tui.ui.widgets.summary_strip import SummaryStrip
from tui.ui.widgets.table.conversions_table import ConversionsTable


def screen_lines(app: ConversionsApp) -> list[str]:
    """The screen as plain text, one string per terminal line."""
    width, height = app.size
    console = Console(color_system=None, width=width, height=height, force_terminal=False)
    with console.capture() as capture:
        console.print(app.screen._compositor.render_update(full=True), end="")
    return capture.get().splitlines()


async def until_on_screen(pilot: Pilot[Any], condition: Any, what: str) -> None:
    """Wait for ``condition(lines)``; on a timeout, say what the screen showed then."""
    try:
        await wait_for(pilot, lambda: condition(screen_lines(pilot.app)), timeout=10.0,
                       what=what)
    except AssertionError:
        shown = "\n".join(screen_lines(pilot.app))
        raise AssertionError(f"{what}: not on screen; the screen was:\n{shown}") from None


def monitor(app: ConversionsApp) -> MonitorScreen:
    """The monitor screen, whatever is on top of it."""
    return next(s for s in app.screen_stack if isinstance(s, MonitorScreen))


def grid(app: ConversionsApp) -> ConversionsTable:
    """The monitor's table."""
    return monitor(app).query_one(ConversionsTable)


def toasts(app: ConversionsApp) -> list[str]:
    """Messages of the toasts so far."""
    return [n.message for n in app._notifications]


# -- the footer ---------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(120, 36), (80, 24), (60, 15)])
async def test_help_is_always_in_the_footer(
        size: tuple[int, int], sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    ids = [sandbox.state.add_conversion(status="Completed", frozen=True) for _ in range(3)]
    app = ConversionsApp(monitor_session(ids=ids))
    async with app.run_test(size=size) as pilot:
        # The footer's last line: its own keys first (cut where they must be), help pinned.
        await until_on_screen(pilot, lambda lines: "Delete" in lines[-1] and "? help" in
                              lines[-1], f"'? help' in the footer at {size[0]} columns")
        footer = screen_lines(app)[-1]
        assert footer.rstrip().endswith("^p palette"), footer
        # A click on it opens help, as a click on any footer key presses it.
        pinned = app.screen.query_one(PinnedKeys)
        assert pinned.key_at(1) == "question_mark"
        # A press that lands while the footer redoes its keys (the bindings changed on a
        # busy machine) is dropped, not a crash (test_mouse_guard.py): press again then,
        # as a person would.
        for _ in range(20):
            if isinstance(app.screen, HelpScreen):
                break
            await pilot.click(PinnedKeys, offset=(2, 0))
            await pilot.pause()
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")


# -- the first-run hint -------------------------------------------------------------------

HINT = "? help  a add IDs  u upload"


async def test_first_run_shows_one_hint_line_until_help_is_opened(
        monitor_session: SessionFactory) -> None:
    app = ConversionsApp(monitor_session())  # nothing watched: a first run
    async with app.run_test(size=(80, 24)) as pilot:
        await until_on_screen(pilot, lambda lines: HINT in lines[-2], "the hint above the footer")
        assert "No conversions watched yet" in "\n".join(screen_lines(app))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen), what="monitor")
        await until_on_screen(pilot, lambda lines: not any(HINT in line for line in lines),
                              "the hint gone once help was opened")


async def test_a_watchlist_in_use_gets_no_hint(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    ids = [sandbox.state.add_conversion(status="Completed", frozen=True)]
    app = ConversionsApp(monitor_session(ids=ids))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen)
                       and grid(app).rows.get(ids[0]) is not None
                       and grid(app).rows[ids[0]].status == "Completed", what="the row")
        assert monitor(app).hint_text().plain == HINT  # what it would say
        assert not any(HINT in line for line in screen_lines(app))


async def test_the_demo_shows_the_hint(monitor_session: SessionFactory) -> None:
    app = ConversionsApp(monitor_session(demo=True))
    async with app.run_test(size=(120, 36)) as pilot:
        await until_on_screen(pilot, lambda lines: HINT in lines[-2], "the hint in the demo")


# -- rows not answered yet ----------------------------------------------------------------

async def test_rows_never_answered_say_checking_and_are_not_active(tmp_path: Path) -> None:
    # A client that never answers: the rows stay unanswered for the whole test.
    profile = ProfileSettings(name="support", base_url="https://api.example")
    session = FrozenSession.open(AppPaths.under(tmp_path / "app"), AppConfig(), profile,
                                 preset_key=ApiKey("k"), env={})
    try:
        session.watchlist.add([101, 102, 103])
        session.watchlist.record_results([PollResult(id=103, checked_at=1.0, not_found=True)])
        app = ConversionsApp(session)
        async with app.run_test(size=(120, 36)) as pilot:
            await until_on_screen(pilot, lambda lines: sum("↻ checking…" in line
                                                           for line in lines) == 2,
                                  "two rows reading 'checking…'")
            screen = monitor(app)
            strip = screen.query_one(SummaryStrip)
            await wait_for(pilot, lambda: strip.checking == 2, what="the strip's count")
            assert strip.counts[StatusKind.UNKNOWN] == 0
            assert strip.counts[StatusKind.NOT_FOUND] == 1
            # "↻ Checking 2", or "↻ 2" when the strip is compact (as at this width).
            await until_on_screen(pilot, lambda lines: re.search(r"↻ (Checking )?2 ", lines[1]),
                                  "the strip's checking count")
            text = "\n".join(screen_lines(app))
            assert "Unknown" not in text
            assert "Active 0" in text  # the views: not in flight until an answer says so
            assert screen.query_one(MonitorHeader).info.active == 0
    finally:
        session.close()


# -- keys act only in sight ----------------------------------------------------------------

async def rows_loaded(pilot: Pilot[Any], ids: list[int]) -> None:
    """Wait until every row has its first answer."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen) and all(
        (row := grid(app).rows.get(i)) is not None and row.status for i in ids),  # type: ignore[arg-type]
        timeout=15.0, what="every row answered")


async def test_after_a_resize_the_cursor_row_is_on_screen(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    ids = [sandbox.state.add_conversion(status="Completed", frozen=True) for _ in range(40)]
    app = ConversionsApp(monitor_session(ids=ids))
    async with app.run_test(size=(120, 36)) as pilot:
        await rows_loaded(pilot, ids)
        table = grid(app)
        table.move_cursor(ids[25])
        await pilot.pause()
        await pilot.resize_terminal(60, 15)
        await wait_for(pilot, lambda: table.size.height < 15, what="the smaller table")
        await wait_for(pilot, lambda: table.cursor_in_sight, what="the cursor in sight")
        await until_on_screen(pilot, lambda lines: any(line.lstrip().startswith(str(ids[25]))
                                                       for line in lines),
                              f"the cursor row {ids[25]} at 60x15")


@pytest.mark.parametrize(("key", "verb"), [("d", "delete"), ("x", "unwatch")])
async def test_a_destructive_key_on_a_cursor_out_of_sight_only_brings_it_back(
        key: str, verb: str, sandbox: SandboxServer,
        monitor_session: SessionFactory) -> None:
    ids = [sandbox.state.add_conversion(status="Completed", frozen=True) for _ in range(40)]
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=(60, 15)) as pilot:
        await rows_loaded(pilot, ids)
        table = grid(app)
        target = ids[30]
        table.move_cursor(target)
        table.scroll_to(y=0, animate=False, force=True)  # the mouse wheel, say
        await wait_for(pilot, lambda: not table.cursor_in_sight, what="cursor scrolled away")
        await pilot.press(key)
        await wait_for(pilot, lambda: any("out of sight" in t for t in toasts(app)),
                       what="the out-of-sight notice")
        notice = next(t for t in toasts(app) if "out of sight" in t)
        assert str(target) in notice and f"Press {key} again to {verb}" in notice
        assert isinstance(app.screen, MonitorScreen)  # no dialog, nothing done
        assert table.cursor_in_sight
        assert session.watchlist.get(target) is not None
        # Now that it can be seen, the key does its work.
        await pilot.press(key)
        if key == "d":
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDeleteModal),
                           what="the delete dialog")
            assert target in [row.id for row in app.screen.rows]  # type: ignore[attr-defined]
        else:
            await wait_for(pilot, lambda: session.watchlist.get(target) is None,
                           what="the row unwatched")


async def test_the_palette_way_to_delete_also_needs_the_row_in_sight(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    ids = [sandbox.state.add_conversion(status="Completed", frozen=True) for _ in range(40)]
    app = ConversionsApp(monitor_session(ids=ids))
    async with app.run_test(size=(60, 15)) as pilot:
        await rows_loaded(pilot, ids)
        table = grid(app)
        table.move_cursor(ids[30])
        table.scroll_to(y=0, animate=False, force=True)
        await wait_for(pilot, lambda: not table.cursor_in_sight, what="cursor scrolled away")
        # The command palette runs actions by name, as here.
        await app.run_action("delete_on_server", monitor(app))
        await wait_for(pilot, lambda: any("out of sight" in t for t in toasts(app)),
                       what="the out-of-sight notice")
        assert isinstance(app.screen, MonitorScreen) and table.cursor_in_sight
