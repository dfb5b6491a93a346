"""The command palette: the screen's actions, views, themes and profiles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Tabs

from tests.ui.conftest import wait_for
from tui.core.credentials import ApiKey
from tui.core.paths import AppPaths
from tui.core.session import MonitorSession
from tui.core.settings import AppConfig, ProfileSettings
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.commands import palette_commands
from tui.ui.screens.add_ids import AddIdsModal
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.views import VIEWS

SIZE = (120, 40)


@pytest.fixture
def session_with(sandbox: SandboxServer, tmp_path: Path) -> Iterator[
        Callable[..., MonitorSession]]:
    """Sessions with three configured profiles (running "support")."""
    made: list[MonitorSession] = []

    def build(*, read_only: bool = False, keymap: dict[str, str] | None = None
              ) -> MonitorSession:
        paths = AppPaths.under(tmp_path / "app")
        profiles = {name: ProfileSettings(name=name, base_url=sandbox.base_url)
                    for name in ("support", "staging", "eu-prod")}
        config = AppConfig(profiles=profiles, keymap=dict(keymap or {}),
                           path=paths.config_file)
        session = MonitorSession.open(paths, config, profiles["support"], read_only=read_only,
                                      preset_key=ApiKey("test-key"), env={})
        made.append(session)
        return session

    yield build
    for session in made:
        session.close()


async def on_monitor(pilot: Pilot[Any]) -> MonitorScreen:
    """Wait for the monitor screen."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MonitorScreen),
                   what="the monitor screen")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, MonitorScreen)
    return screen


def titles(screen: MonitorScreen) -> dict[str, str]:
    """Palette command title -> help text, over ``screen``."""
    return {command.title: command.help for command in palette_commands(screen)}


def settled(pilot: Pilot[Any]) -> bool:
    """The open palette has finished asking its providers (closing it earlier races
    with Textual's gathering worker)."""
    palette = pilot.app.screen
    return not any(worker.node is palette and worker.is_running
                   for worker in pilot.app.workers)


async def palette_prompts(pilot: Pilot[Any], query: str) -> list[str]:
    """Open the palette, type ``query``, return the listed prompts (then close it)."""
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandPalette),
                   what="the palette")
    await pilot.press(*query)
    command_list = pilot.app.screen.query_one(CommandList)
    await wait_for(pilot, lambda: command_list.option_count > 0, what="hits")
    await wait_for(pilot, lambda: settled(pilot), what="every provider answered")
    prompts = [str(command_list.get_option_at_index(i).prompt)
               for i in range(command_list.option_count)]
    await pilot.press("escape")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, CommandPalette),
                   what="palette closed")
    return prompts


async def run_in_palette(pilot: Pilot[Any], query: str) -> None:
    """Open the palette, type ``query`` and run the top hit."""
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandPalette),
                   what="the palette")
    await pilot.press(*query)
    command_list = pilot.app.screen.query_one(CommandList)
    await wait_for(pilot, lambda: command_list.option_count > 0, what="hits")
    await wait_for(pilot, lambda: settled(pilot), what="every provider answered")
    await pilot.press("down", "enter")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, CommandPalette),
                   what="palette closed")
    await pilot.pause()


async def test_palette_offers_actions_views_themes_and_profiles(
        session_with: Callable[..., MonitorSession]) -> None:
    app = ConversionsApp(session_with(keymap={"monitor.export": "ctrl+e"}))
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_monitor(pilot)
        offered = titles(screen)
        for action in ("Add IDs", "Delete on server", "Export", "Copy IDs", "Refresh",
                       "Pause", "Help", "Quit", "Audit log"):
            assert action in offered, action
        assert offered["Export"] == "Key: ^e"  # as remapped
        assert offered["Delete on server"] == "Key: d del"
        for view in VIEWS:
            assert f"View: {view.label}" in offered
        for theme in ("dark", "light", "high-contrast", "ansi-16", "nord"):
            assert f"Theme: {theme}" in offered
        assert offered["Theme: dark"] == "Dark blue-grey, the default (built-in) (current)"
        assert offered["Theme: nord"] == "Textual theme"
        assert offered["Profile: staging"] == "Restart with: conversions-tui --profile staging"
        assert offered["Profile: support"] == "The profile running now"
        # and the real palette lists them as the user types
        assert any("View: Failed" in p for p in await palette_prompts(pilot, "view fail"))
        assert any("Theme: high-contrast" in p
                   for p in await palette_prompts(pilot, "high-contrast"))
        assert any("Profile: eu-prod" in p for p in await palette_prompts(pilot, "eu-prod"))


async def test_read_only_palette_has_no_delete(
        session_with: Callable[..., MonitorSession]) -> None:
    app = ConversionsApp(session_with(read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        offered = titles(await on_monitor(pilot))
        assert "Export" in offered
        assert "Delete on server" not in offered


async def test_choosing_a_view_switches_the_tab(
        session_with: Callable[..., MonitorSession]) -> None:
    app = ConversionsApp(session_with())
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_monitor(pilot)
        await run_in_palette(pilot, "View: Failed")
        await wait_for(pilot, lambda: screen.query_one(Tabs).active == "view-failed",
                       what="the Failed tab")


async def test_choosing_an_action_runs_it(session_with: Callable[..., MonitorSession]) -> None:
    app = ConversionsApp(session_with())
    async with app.run_test(size=SIZE) as pilot:
        await on_monitor(pilot)
        await run_in_palette(pilot, "Add IDs")
        await wait_for(pilot, lambda: isinstance(app.screen, AddIdsModal),
                       what="the add-IDs modal")


async def test_choosing_another_profile_explains_the_restart(
        session_with: Callable[..., MonitorSession]) -> None:
    app = ConversionsApp(session_with())
    async with app.run_test(size=SIZE) as pilot:
        await on_monitor(pilot)
        await run_in_palette(pilot, "Profile: staging")
        messages = [n.message for n in app._notifications]
        assert any("conversions-tui --profile staging" in m for m in messages), messages
        assert isinstance(app.screen, MonitorScreen)  # nothing else happened


async def test_theme_command_lists_our_themes_and_help_is_listed_once(
        session_with: Callable[..., MonitorSession]) -> None:
    app = ConversionsApp(session_with())
    async with app.run_test(size=SIZE) as pilot:
        await on_monitor(pilot)
        prompts = await palette_prompts(pilot, "theme")
        assert "Theme\nChange the colour theme (saved in the config)" in prompts
        app.call_later(app._pick_theme)  # what the palette's "Theme" command runs
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette)
                       and app.screen.query(CommandList), what="picker")
        command_list = app.screen.query_one(CommandList)
        await wait_for(pilot, lambda: command_list.option_count >= 4, what="themes listed")
        await wait_for(pilot, lambda: settled(pilot), what="every theme listed")
        listed = {str(command_list.get_option_at_index(i).prompt)
                  for i in range(command_list.option_count)}
        assert {"dark", "light", "high-contrast", "ansi-16"} <= {p.split("\n")[0]
                                                                for p in listed}
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen), what="closed")
        prompts = await palette_prompts(pilot, "help")
        assert sum(p.split("\n")[0] == "Help" for p in prompts) == 1, prompts  # no twin
        await run_in_palette(pilot, "Help")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")


async def test_screenshot_saves_into_the_named_folder_and_says_where(
        session_with: Callable[..., MonitorSession]) -> None:
    session = session_with()
    folder = session.paths.screenshots_dir
    assert not folder.exists()  # made on first use
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await on_monitor(pilot)
        prompts = await palette_prompts(pilot, "screenshot")
        assert f"Screenshot\nSave an SVG picture of the screen in {folder}" in prompts, prompts
        await run_in_palette(pilot, "Screenshot")
        messages = lambda: [n.message for n in app._notifications]  # noqa: E731
        await wait_for(pilot, lambda: any(m.startswith("Saved ") for m in messages()),
                       what="the saved toast")
        said = next(m for m in messages() if m.startswith("Saved "))
        saved = Path(said.removeprefix("Saved "))
        assert saved.parent == folder and saved.suffix == ".svg", said
        picture = saved.read_text(encoding="utf-8")
        assert picture.startswith("<svg") and "support" in picture  # the header's profile
        assert "Search&#160;for" not in picture  # taken once the palette was gone
        assert saved.stat().st_mode & 0o077 == 0  # private, like the watchlist
        assert not any("Failed" in m for m in messages()), messages()
        # A second one is a second file, not an overwrite.
        app.action_save_screenshot()
        await wait_for(pilot, lambda: len(list(folder.glob("*.svg"))) == 2, what="two files")


async def test_screenshot_that_cannot_be_written_says_why(
        session_with: Callable[..., MonitorSession]) -> None:
    session = session_with()
    folder = session.paths.screenshots_dir
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("a file where the folder should be")
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await on_monitor(pilot)
        app.action_save_screenshot()
        await wait_for(pilot, lambda: any(
            n.message.startswith(f"Screenshot not saved in {folder}: ")
            for n in app._notifications), what="the not-saved toast")
