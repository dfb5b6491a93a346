"""First run with no profile: say how to make one, and offer a small form that does it.

Quit (the button, or Esc) asks first once something was typed: Enter on a focused
Quit must not throw the form away unasked.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static

from tui.core.config_file import save_config
from tui.core.paths import AppPaths
from tui.core.settings import AppConfig, ConfigError, ProfileSettings
from tui.ui.screens.text_prompt import QuestionModal
from tui.ui.workers import work

DEFAULT_NAME = "default"


@dataclass(frozen=True)
class NewProfile:
    """What the form produced: the saved profile and the config it now belongs to."""

    profile: ProfileSettings
    config: AppConfig


class FirstRunScreen(Screen[NewProfile | None]):
    """Explains where profiles live; the form writes one into the config file."""

    DEFAULT_CSS = """
    FirstRunScreen VerticalScroll { padding: 1 2; }
    FirstRunScreen #explain { margin-bottom: 1; }
    FirstRunScreen Input { width: 80; max-width: 100%; }
    FirstRunScreen #problem { color: $error; height: auto; }
    FirstRunScreen Horizontal { height: auto; margin-top: 1; }
    FirstRunScreen Button { margin-right: 2; }
    """

    BINDINGS = [Binding("escape", "quit_setup", "Quit", id="first_run.quit")]

    def __init__(self, paths: AppPaths, config: AppConfig, explanation: str) -> None:
        super().__init__()
        self._paths = paths
        self._config = config
        self._explanation = explanation

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label("[b]Welcome to conversions-tui[/b]: no profile is set up yet.")
            yield Static(
                f"{self._explanation}\n"
                f"Or fill in the form: it writes the profile to {self._paths.config_file}. "
                "The API key is asked for next and kept in the OS keyring or, when there is "
                "none (usual over SSH), for this session only. "
                "To try the app without a server: conversions-tui --demo",
                id="explain", markup=False)
            yield Label("Profile name")
            yield Input(value=DEFAULT_NAME, id="name")
            yield Label("Base URL of the API (https://...)")
            yield Input(placeholder="https://conversions.example.com", id="base_url")
            yield Checkbox("Read-only (no deletes, no uploads)", id="read_only")
            yield Static("", id="problem", markup=False)
            with Horizontal():
                yield Button("Save and start", id="save", variant="primary")
                yield Button("Quit", id="quit")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#base_url", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        problem = self.query_one("#problem", Static)
        name = self.query_one("#name", Input).value.strip() or "default"
        url = self.query_one("#base_url", Input).value.strip()
        try:
            profile = ProfileSettings(name=name, base_url=url,
                                      read_only=self.query_one(Checkbox).value)
        except ValidationError as error:
            problem.update("; ".join(str(e.get("msg", "")).removeprefix("Value error, ")
                                     for e in error.errors()))
            return
        self._config.profiles[name] = profile
        if self._config.default_profile is None:
            self._config.default_profile = name
        try:
            self._paths.ensure()
            save_config(self._paths.config_file, self._config)
        except (ConfigError, OSError) as error:
            problem.update(f"Could not save the config: {error}")
            return
        self.dismiss(NewProfile(profile=profile, config=self._config))

    def form_changed(self) -> bool:
        """True once the form holds something of the user's (quitting would lose it)."""
        name = self.query_one("#name", Input).value.strip()
        url = self.query_one("#base_url", Input).value.strip()
        return bool(url) or name not in ("", DEFAULT_NAME) or self.query_one(Checkbox).value

    @on(Button.Pressed, "#quit")
    def _quit_pressed(self) -> None:
        self.action_quit_setup()

    @work(exclusive=True, group="quit-setup", exit_on_error=False)
    async def action_quit_setup(self) -> None:
        """Leave without a profile; asks first when the form was filled in."""
        if self.form_changed():
            sure = await self.app.push_screen_wait(QuestionModal(
                "Quit without saving? The profile in the form is not written anywhere.",
                yes="Quit without saving", no="Back to the form"))
            if not sure:
                return
        self.dismiss(None)
