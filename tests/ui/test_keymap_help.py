"""Keys: every binding has an id, [keymap] remaps by id, problems are told; ``?`` help."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual import events
from textual.binding import Binding
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

import tui.ui
from tests.ui.conftest import wait_for
from tui.core.credentials import ApiKey
from tui.core.paths import AppPaths
from tui.core.session import MonitorSession
from tui.core.settings import AppConfig, ProfileSettings
from tui.core.statuses import StatusKind, status_symbol
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.keymap import KeymapScope, binding_ids, check_keymap
from tui.ui.screens.add_ids import AddIdsModal
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.widgets.table.conversions_table import ConversionsTable

SIZE = (140, 50)
MONITOR = [KeymapScope("monitor", (ConversionsApp, MonitorScreen, ConversionsTable))]


def our_bindings(node: type[DOMNode]) -> list[Binding]:
    """Bindings declared by our own classes in ``node``'s ancestry (Textual's excluded)."""
    found = []
    for cls in node.__mro__:
        if cls.__module__.startswith("tui.") and "BINDINGS" in cls.__dict__:
            found.extend(Binding.make_bindings(cls.__dict__["BINDINGS"]))
    return found


def classes_with_bindings() -> set[type[DOMNode]]:
    """Every class in tui.ui that declares BINDINGS."""
    found: set[type[DOMNode]] = set()
    for module_info in pkgutil.walk_packages(tui.ui.__path__, "tui.ui."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (cls.__module__ == module.__name__ and issubclass(cls, DOMNode)
                    and "BINDINGS" in cls.__dict__):
                found.add(cls)
    return found


# --------------------------------------------------------------------- the ids
def test_every_binding_of_ours_has_an_id_and_ids_name_one_action() -> None:
    actions: dict[str, str] = {}
    for scope in ConversionsApp.keymap_scopes():
        for node in scope.nodes:
            for binding in our_bindings(node):
                assert binding.id, f"{node.__name__}: {binding.key} -> {binding.action}"
                assert actions.setdefault(binding.id, binding.action) == binding.action
    assert {"monitor.add", "monitor.delete", "app.help", "app.quit", "mark"} <= set(actions)


def test_every_class_with_bindings_is_in_a_keymap_scope() -> None:
    covered = {cls for scope in ConversionsApp.keymap_scopes() for node in scope.nodes
               for cls in node.__mro__}
    missing = {cls.__name__ for cls in classes_with_bindings()} - {c.__name__ for c in covered}
    assert not missing, f"add these to ConversionsApp.keymap_scopes(): {sorted(missing)}"


def test_binding_ids_include_inherited_triage_and_table_bindings() -> None:
    ids = binding_ids(MONITOR)
    assert {"monitor.delete", "monitor.export", "monitor.add", "cursor-down", "app.quit"} <= ids


# ------------------------------------------------------------------ the checks
def test_check_keymap_accepts_a_clean_remap() -> None:
    assert check_keymap({"monitor.delete": "ctrl+d", "app.help": "?"}, MONITOR) == []


def test_check_keymap_reports_unknown_ids() -> None:
    problems = check_keymap({"monitor.dlete": "ctrl+d"}, MONITOR)
    assert problems == ["unknown binding id 'monitor.dlete'"]


def test_check_keymap_reports_two_actions_on_one_key() -> None:
    (problem,) = check_keymap({"monitor.add": "d"}, MONITOR)
    assert problem.startswith("d is bound twice on the monitor screen")
    assert "monitor.add" in problem and "monitor.delete" in problem
    # across nodes too: a table key over the app's quit
    (problem,) = check_keymap({"mark": "q"}, MONITOR)
    assert "mark" in problem and "app.quit" in problem


def test_check_keymap_ignores_two_ids_of_one_action_and_default_overlaps() -> None:
    # monitor.delete and monitor.delete_key both delete; enter is the table's and the
    # screen's by design.
    assert check_keymap({"monitor.delete": "delete"}, MONITOR) == []
    assert check_keymap({}, MONITOR) == []


def test_check_keymap_understands_character_keys() -> None:
    # "?" is Textual's question_mark: remapping help to it is a no-op, not a clash.
    assert check_keymap({"app.help": "?"}, MONITOR) == []
    (problem,) = check_keymap({"monitor.filter": "?"}, MONITOR)
    assert "question_mark" in problem


# ------------------------------------------------------------------- in the app
@pytest.fixture
def session_with(sandbox: SandboxServer, tmp_path: Path) -> Iterator[
        Callable[..., MonitorSession]]:
    """Sessions against the sandbox with a given keymap (and read-only flag)."""
    made: list[MonitorSession] = []

    def build(keymap: dict[str, str] | None = None, *, read_only: bool = False
              ) -> MonitorSession:
        paths = AppPaths.under(tmp_path / "app")
        config = AppConfig(keymap=dict(keymap or {}), path=paths.config_file)
        profile = ProfileSettings(name="support", base_url=sandbox.base_url)
        session = MonitorSession.open(paths, config, profile, read_only=read_only,
                                      preset_key=ApiKey("test-key"), env={})
        made.append(session)
        return session

    yield build
    for session in made:
        session.close()


def screen_text(app: ConversionsApp) -> str:
    """The screen as plain text."""
    console = Console(color_system=None, width=SIZE[0], force_terminal=False)
    with console.capture() as capture:
        console.print(app.screen._compositor.render_update(full=True), end="")
    return capture.get()


def plain(renderable: Any) -> str:
    """A Rich renderable as plain text, without wrapping."""
    console = Console(color_system=None, width=1000)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def toasts(app: ConversionsApp) -> list[str]:
    """Messages of the toasts so far."""
    return [n.message for n in app._notifications]


async def on_monitor(pilot: Pilot[Any]) -> None:
    """Wait for the monitor screen, table focused."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MonitorScreen),
                   what="the monitor screen")
    await pilot.pause()


async def test_a_remapped_key_runs_the_action_and_the_old_key_does_not(
        session_with: Callable[..., MonitorSession]) -> None:
    app = ConversionsApp(session_with({"monitor.add": "ctrl+n"}))
    async with app.run_test(size=SIZE) as pilot:
        await on_monitor(pilot)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, MonitorScreen)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, AddIdsModal),
                       what="the add-IDs modal")
        assert toasts(app) == []


async def test_keymap_conflicts_and_unknown_ids_are_one_toast_and_the_app_runs(
        session_with: Callable[..., MonitorSession]) -> None:
    app = ConversionsApp(session_with({"monitor.add": "d", "monitor.bogus": "x"}))
    async with app.run_test(size=SIZE) as pilot:
        await on_monitor(pilot)
        (message,) = toasts(app)
        assert "monitor.bogus" in message
        assert "d is bound twice on the monitor screen" in message
        await pilot.press("d")  # the remap won; the app carries on
        await wait_for(pilot, lambda: isinstance(app.screen, AddIdsModal),
                       what="the add-IDs modal on d")


async def test_question_mark_shows_keys_as_remapped_legend_and_paths(
        session_with: Callable[..., MonitorSession]) -> None:
    session = session_with({"monitor.add": "ctrl+n", "monitor.delete": "ctrl+d"})
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await on_monitor(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await pilot.pause()
        lines = screen_text(app).splitlines()

        def line_with(text: str) -> str:
            found = [line for line in lines if text in line]
            assert found, f"{text!r} not on the help screen"
            return found[0]

        assert "^n" in line_with("Add IDs") and "monitor.add" in line_with("Add IDs")
        assert "^d" in line_with("Delete on server")
        assert "del" in line_with("Delete on server")  # the other key of the action stays
        assert "?" in line_with("Help")
        for label, kind in (("Queued", StatusKind.QUEUED), ("Failed", StatusKind.FAILED),
                            ("Not found", StatusKind.NOT_FOUND),
                            ("Deleting", StatusKind.DELETING)):
            line_with(f"{status_symbol(kind)} {label} ")  # symbol and label together
        assert "Stale" in screen_text(app)
        assert "Files (profile support)" in screen_text(app)
        # Long paths wrap in their column: read the table itself, as wide as it likes.
        files = plain(app.screen.query_one("#help-paths", Static).content)
        paths = session.paths
        for what, path in (("Config", paths.config_file), ("Themes", paths.themes_dir),
                           ("Data", paths.profile_data_dir("support")),
                           ("Audit log", paths.audit_db("support"))):
            assert any(what in line and str(path) in line for line in files.splitlines())
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen),
                       what="help closed")


async def test_help_legend_takes_the_theme_colours(
        session_with: Callable[..., MonitorSession]) -> None:
    app = ConversionsApp(session_with(), theme="light")
    async with app.run_test(size=SIZE) as pilot:
        await on_monitor(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        failed = app.screen.query_one(".legend-failed")
        assert failed.styles.color.hex.lower() == app.get_css_variables()["status-failed"]
        app.theme = "high-contrast"
        await pilot.pause()
        assert failed.styles.color.hex.lower() == "#ff6b6b"


async def test_help_in_read_only_mode_leaves_out_delete(
        session_with: Callable[..., MonitorSession]) -> None:
    app = ConversionsApp(session_with(read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        await on_monitor(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await pilot.pause()
        text = screen_text(app)
        assert "Export" in text
        assert "Delete on server" not in text


async def test_a_burst_follows_the_remapped_keys(
        session_with: Callable[..., MonitorSession]) -> None:
    app = ConversionsApp(session_with({"monitor.filter": "f", "monitor.add": "ctrl+n"}))
    async with app.run_test(size=SIZE) as pilot:
        await on_monitor(pilot)
        # "/" is no longer the filter key and "a" no longer opens a prompt: neither
        # holds the keys behind it.
        for key, char in (("slash", "/"), ("a", "a"), ("f", "f"), ("x", "x"), ("y", "y")):
            app.post_message(events.Key(key, char))
        await wait_for(pilot, lambda: app.screen.query_one("#filter", Input).value == "xy",
                       what="the filter opened by the remapped f")
        await pilot.press("escape")
        app.post_message(events.Key("ctrl+n", None))
        for char in "42":
            app.post_message(events.Key(char, char))
        await wait_for(pilot, lambda: isinstance(app.screen, AddIdsModal)
                       and app.screen.query("#ids"), what="the add modal on ctrl+n")
        box = app.screen.query_one("#ids", TextArea)
        await wait_for(pilot, lambda: box.text == "42", what=lambda: f"ids typed ({box.text!r})")
