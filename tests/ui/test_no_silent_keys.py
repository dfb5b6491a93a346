"""Keys that used to do nothing, silently, now say why (issue 16, "Silent no-ops").

- After a cancelled 401 key prompt the banner names the key that asks for a new one,
  and r / R say why nothing is checked.
- In a read-only profile d and u say "Read-only profile".
- The first-run form does not throw away what was typed on Enter over a focused Quit,
  and the focused button looks focused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ScreenStackError
from textual.color import Color
from textual.pilot import Pilot
from textual.widgets import Button, Input

from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_triage_actions import (
    SIZE,
    all_deletes,
    first_poll,
    monitor,
    notices,
    on_screen,
    quick_keys,  # noqa: F401  (autouse: quick Pilot key presses)
)
from tui.core.paths import AppPaths
from tui.core.settings import AppConfig
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp, SetupNeeded
from tui.ui.screens.first_run import FirstRunScreen
from tui.ui.screens.key_prompt import KeyPromptModal
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.screens.text_prompt import QuestionModal
from tui.ui.typeahead import TypeAhead
from tui.ui.widgets.connectivity_banner import ConnectivityBanner


def banner_text(app: ConversionsApp) -> str:
    """The connectivity banner as drawn ("" when hidden)."""
    banner = monitor(app).query_one(ConnectivityBanner)
    return banner.render().plain.strip() if banner.has_class("-shown") else ""


async def cancel_the_401_prompt(pilot: Pilot[Any], app: ConversionsApp) -> None:
    """Wait for the key prompt a refused key brings up, and cancel it."""
    await on_screen(pilot, KeyPromptModal, "the 401 prompt")
    await pilot.press("escape")
    await on_screen(pilot, MonitorScreen, "prompt cancelled")
    await wait_for(pilot, lambda: "refused the API key" in banner_text(app),
                   what="the 401 banner")


async def test_the_401_banner_names_the_key_and_r_says_why_nothing_happens(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    session = monitor_session(key="revoked-key-9999", ids=[conv])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await cancel_the_401_prompt(pilot, app)
        text = banner_text(app)
        assert "press p to enter a new one; polling is paused until then" in text, text
        for key in ("R", "r"):
            before = len(notices(app))
            await pilot.press(key)
            await wait_for(pilot, lambda before=before: len(notices(app)) > before,
                           what=f"{key} answers")
            said = notices(app)[-1]
            assert said.startswith("Nothing is checked while the server refuses the API "
                                   "key: press p"), said
            assert not said.startswith("Checking")
        await pilot.press("p")  # the key the banner names does what it says
        await on_screen(pilot, KeyPromptModal, "p asks for a new key")


async def test_the_banner_names_the_key_as_remapped(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    session = monitor_session(key="revoked-key-9999", ids=[conv])
    session.config.keymap = {"monitor.pause": "ctrl+k"}
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await cancel_the_401_prompt(pilot, app)
        assert "press ^k to enter a new one" in banner_text(app), banner_text(app)
        await pilot.press("ctrl+k")
        await on_screen(pilot, KeyPromptModal, "ctrl+k asks for a new key")


async def test_r_without_any_key_says_so(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    session = monitor_session(key=None, env={}, ids=[conv])  # keyring holds no key
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, KeyPromptModal, "the key prompt")
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen, "prompt cancelled")
        await pilot.press("R")
        await wait_for(pilot, lambda: any(m.startswith("No API key yet: nothing can be "
                                                       "checked. Press p") for m in notices(app)),
                       what="R explains")
        assert sandbox.state.request_count == 0


async def test_read_only_d_and_u_say_read_only_profile(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Completed")
    session = monitor_session(ids=[conv])
    session.read_only = True
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conv])
        for key, words in (("d", "deleting"), ("delete", "deleting"), ("u", "uploading")):
            before = len(notices(app))
            await pilot.press(key)
            await wait_for(pilot, lambda before=before: len(notices(app)) > before,
                           what=f"{key} answers")
            assert notices(app)[-1] == f"Read-only profile: {words} is switched off."
            assert isinstance(app.screen, MonitorScreen)  # no dialog
            # A burst behind it fires nothing (tests/ui/test_typeahead.py): the next key
            # is a person's next key, once that window has closed.
            await wait_for(pilot, lambda: not app.typeahead.active, what="window closed")
        assert all_deletes(sandbox) == 0 and session.audit.entries() == []
        # Still out of the footer and the palette (tests/ui/test_triage_actions.py).
        assert monitor(app).check_action("delete_on_server", ()) is False


async def test_read_only_key_follows_the_keymap(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Completed")
    session = monitor_session(ids=[conv])
    session.read_only = True
    session.config.keymap = {"monitor.delete": "ctrl+d"}
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conv])
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: "Read-only profile: deleting is switched off."
                       in notices(app), what="ctrl+d answers")


# ------------------------------------------------------------------ first run
def first_run_app(tmp_path: Path) -> tuple[ConversionsApp, AppPaths]:
    """The app with no profile: it opens on the first-run form."""
    paths = AppPaths.under(tmp_path / "app")
    setup = SetupNeeded(paths=paths, config=AppConfig(), explanation="No profile yet.")
    return ConversionsApp(None, setup=setup), paths


async def focus_quit(pilot: Pilot[Any]) -> FirstRunScreen:
    """Tab from the URL box to the Quit button, as a person would."""
    screen: FirstRunScreen = await on_screen(pilot, FirstRunScreen, "the form")
    await pilot.press("tab", "tab", "tab")  # read-only box, Save, Quit
    assert screen.focused is screen.query_one("#quit", Button)
    return screen


async def test_enter_on_a_focused_quit_asks_before_dropping_the_form(tmp_path: Path) -> None:
    app, paths = first_run_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_screen(pilot, FirstRunScreen, "the form")
        await pilot.press(*"https://conversions.example.test")
        await focus_quit(pilot)
        await pilot.press("enter")
        question: QuestionModal = await on_screen(pilot, QuestionModal, "asked first")
        assert question.focused is question.query_one("#no", Button)
        await pilot.press("enter")  # the safe answer is the focused one
        await on_screen(pilot, FirstRunScreen, "back to the form")
        assert app.is_running
        url = screen.query_one("#base_url", Input).value
        assert url == "https://conversions.example.test"
        await pilot.press("escape")  # Esc asks too
        await on_screen(pilot, QuestionModal, "Esc asks as well")
        await pilot.press("tab", "enter")  # "Quit without saving", on purpose
        await wait_for(pilot, lambda: not app.is_running, what="the app quits")
    assert not paths.config_file.exists()


async def test_quit_on_an_untouched_form_quits_at_once(tmp_path: Path) -> None:
    app, _paths = first_run_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await focus_quit(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.is_running, what="the app quits")


async def test_the_focused_button_looks_focused_and_the_primary_does_not(
        tmp_path: Path) -> None:
    app, _paths = first_run_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await focus_quit(pilot)
        await pilot.pause()
        quit_button = screen.query_one("#quit", Button)
        save = screen.query_one("#save", Button)
        focused = Color.parse(app.theme_variables["foreground"])
        assert quit_button.styles.background.rgb == focused.rgb
        assert save.styles.background.rgb != focused.rgb
        await pilot.press("shift+tab")  # on Save now: the look follows the focus
        await pilot.pause()
        assert save.styles.background.rgb == focused.rgb
        assert quit_button.styles.background.rgb != focused.rgb


class _ClosingApp:
    """An app on its way out: no screen left on the stack."""

    def __init__(self) -> None:
        self.stopped = False

    @property
    def screen(self) -> Any:
        raise ScreenStackError("No screens on stack")

    def set_interval(self, *_args: Any, **_kwargs: Any) -> Any:
        app = self

        class Timer:
            def stop(self) -> None:
                app.stopped = True

        return Timer()


def test_the_key_window_ends_quietly_when_the_app_closes_inside_it() -> None:
    """d or u in a read-only profile opens the type-ahead window with no prompt; ctrl+c
    (never held) inside it used to crash the exit when the window's timer ticked."""
    app = _ClosingApp()
    typeahead = TypeAhead(app, clock=lambda: 0.0)  # type: ignore[arg-type]
    typeahead.begin(object(), replay=False)  # type: ignore[arg-type]
    assert typeahead.active is False
    assert app.stopped
    typeahead._tick()  # no error either
