"""The Textual application: screens, the one place worker failures land, safe crash output."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.text import Text
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen

from tui.core.memory import collect_young_garbage_less_often, release_free_memory
from tui.core.paths import AppPaths
from tui.core.session import SESSION_OPEN_ERRORS, MonitorSession
from tui.core.settings import AppConfig, ConfigError
from tui.core.untrusted import printable
from tui.ui.clipboard import copy_to_terminal_clipboard
from tui.ui.commands import ConversionsCommands, ThemeChoice, ThemeCommands
from tui.ui.hangup import install_hangup_handlers
from tui.ui.hangup import on_hard_exit as on_hard_exit  # the CLI's demo registers here
from tui.ui.keymap import KeymapScope, check_keymap
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.textual_private import forget_styles_cache, remember_clipboard, show_on_exit_and_close
from tui.ui.themes import (
    FileTheme,
    install_themes,
    no_color_requested,
    persist_theme,
    pick_theme,
    set_monochrome,
)
from tui.ui.typeahead import TypeAhead
from tui.ui.widgets.table.conversions_table import STATUS_VARIABLE_DEFAULTS, ConversionsTable
from tui.ui.workers import WorkerFailure, reported

if TYPE_CHECKING:
    from tui.ui.screens.first_run import NewProfile

# Screens other than the monitor are imported where they are opened, not here: the first
# screen needs none of them, and at 100,000 rows every millisecond before it counts
# (issue 12: <= 1.0 s from spawn). tests/ui/test_lazy_imports.py keeps it so.

log = logging.getLogger(__name__)

def _screen_title(screen: Screen[Any]) -> str:
    words = type(screen).__name__.removesuffix("Screen").removesuffix("Modal")
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in words).strip()
    return f"the {spaced} screen" if spaced else "this screen"


@dataclass(frozen=True)
class SetupNeeded:
    """No profile could be resolved: the app starts on the first-run form."""

    paths: AppPaths
    config: AppConfig
    explanation: str
    read_only: bool = False
    initial_ids: tuple[int, ...] | list[int] = ()


#: Seconds between asking the C library to return freed heap memory.
MEMORY_RELEASE_EVERY = 60.0


class ConversionsApp(App[None]):
    """The conversions monitor."""

    CSS_PATH = "app.tcss"
    TITLE = "conversions-tui"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {ConversionsCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+c", "quit", "Quit", id="app.quit_ctrl_c", show=False, priority=True),
        Binding("question_mark", "help", "Help", id="app.help"),
    ]

    def __init__(self, session: MonitorSession | None, *, theme: str | None = None,
                 setup: SetupNeeded | None = None) -> None:
        super().__init__()
        self.session = session
        self._setup = setup
        self._startup_problems: list[str] = []
        #: Keys typed blind behind a key that opens a prompt (tui/ui/typeahead.py).
        self.typeahead = TypeAhead(self)
        self._gc_thresholds_before: tuple[int, int, int] | None = None
        self._setup_theme(theme)
        config = session.config if session is not None else setup.config if setup else None
        if config is not None:
            # What the config got wrong and what was used instead (a bad duration, an
            # unknown key): said at start, never silently ignored.
            self._startup_problems.extend(config.warnings)
        if config is not None and config.keymap:
            self._startup_problems.extend(self._check_keymap(config))
            self.set_keymap(dict(config.keymap))

    async def on_event(self, event: events.Event) -> None:
        """Keys of a burst behind a key that opened a prompt wait for the prompt's box."""
        if (isinstance(event, events.Key) and not event.is_forwarded
                and self.typeahead.hold_at_app(event)):
            return
        if isinstance(event, events.MouseDown) and lands_on_a_removed_widget(self, event):
            return
        await super().on_event(event)


    # ------------------------------------------------------------- themes
    @property
    def paths(self) -> AppPaths | None:
        """The folders of this run (None only without session and setup)."""
        if self.session is not None:
            return self.session.paths
        return self._setup.paths if self._setup is not None else None

    def _user_themes_dir(self) -> Path | None:
        if self.session is not None and self.session.demo:
            # The demo's folders are a throwaway tree; the user's themes still apply.
            return AppPaths.default().themes_dir
        return self.paths.themes_dir if self.paths is not None else None

    def _setup_theme(self, requested: str | None) -> None:
        # Same precedence as the CLI (flag, CONVERSIONS_THEME, profile, config), so an app
        # built without a theme argument still honours the config.
        if not requested and self.session is not None:
            requested = self.session.profile.theme or self.session.config.theme
        if not requested and self._setup is not None:
            requested = self._setup.config.theme
        loaded = install_themes(self, self._user_themes_dir())
        self._startup_problems.extend(str(problem) for problem in loaded.problems)
        pick = pick_theme(requested, self.available_themes,
                          no_color=no_color_requested(os.environ))
        if pick.problem:
            self._startup_problems.append(pick.problem)
        self.theme = pick.name
        set_monochrome(self, pick.monochrome)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Status colours always exist, whatever theme is active."""
        return dict(STATUS_VARIABLE_DEFAULTS)

    def theme_choices(self) -> list[ThemeChoice]:
        """Built-in and user themes first, then Textual's own."""
        ours: list[ThemeChoice] = []
        rest: list[ThemeChoice] = []
        for name, theme in self.available_themes.items():
            if isinstance(theme, FileTheme):
                where = "your theme" if theme.user else "built-in"
                text = f"{theme.description} ({where})" if theme.description else where
                ours.append(ThemeChoice(name, text, True))
            elif name != "textual-ansi":  # Textual hides that one too
                rest.append(ThemeChoice(name, "", False))
        return ours + sorted(rest, key=lambda choice: choice.name)

    def choose_theme(self, name: str) -> None:
        """Switch to ``name`` (from the palette) and remember it in the config file."""
        if name not in self.available_themes:
            self.notify(f"No theme named {name!r}", severity="warning", markup=False)
            return
        self.theme = name
        set_monochrome(self, False)  # an explicit choice overrides NO_COLOR
        if self.session is not None and self.session.demo:
            self.notify(f"Theme {name} (demo: not saved)", timeout=3, markup=False)
            return
        paths = self.paths
        if paths is None:
            return
        profile = self.session.profile.name if self.session is not None else None
        try:
            written = persist_theme(paths.config_file, name, profile)
        except (ConfigError, OSError) as error:
            self.notify(f"Theme {name} is on, but not saved: {error}", severity="warning",
                        timeout=10, markup=False)
            return
        for config in (self.session.config if self.session else None,
                       self._setup.config if self._setup else None):
            if config is not None:
                config.theme = name
        self.notify(f"Theme {name} saved in {written}", timeout=4, markup=False)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's commands, with a theme picker that saves the choice and a Screenshot
        that saves into the app's own folder (Textual's aims at a Downloads folder).

        "Keys" and "Quit" are left out: ``?`` help and the app's own Quit binding
        already appear in the palette (see :mod:`tui.ui.commands`).
        """
        for command in super().get_system_commands(screen):
            if command.title == "Theme":
                yield SystemCommand("Theme", "Change the colour theme (saved in the config)",
                                    self._pick_theme)
            elif command.title == "Screenshot":
                folder = self.screenshots_dir()
                if folder is not None:
                    # After a moment: the palette must be gone from the picture.
                    yield SystemCommand("Screenshot", f"Save an SVG picture of the screen in "
                                        f"{folder}", lambda: self.set_timer(
                                            0.1, self.action_save_screenshot))
            elif command.title not in ("Keys", "Quit"):
                yield command

    def screenshots_dir(self) -> Path | None:
        """Where the palette's Screenshot saves (the user's folder in the demo too: the
        demo's own folders are removed when it ends)."""
        if self.session is not None and self.session.demo:
            return AppPaths.default().screenshots_dir
        return self.paths.screenshots_dir if self.paths is not None else None

    def action_save_screenshot(self) -> None:
        """Save the screen as SVG into :meth:`screenshots_dir` and say where (or why not)."""
        folder = self.screenshots_dir()
        if folder is None:
            self.notify("Screenshot not saved: no folder for it before a profile exists.",
                        severity="warning", markup=False)
            return
        from tui.ui.screenshot import save_screenshot

        try:
            path = save_screenshot(self, folder)
        except OSError as error:
            self.notify(f"Screenshot not saved in {folder}: {error.strerror or error}",
                        title="Screenshot", severity="error", markup=False, timeout=10)
            return
        self.notify(f"Saved {path}", title="Screenshot", markup=False, timeout=10)

    def _pick_theme(self) -> None:
        self.push_screen(CommandPalette(providers=[ThemeCommands],
                                        placeholder="Search for themes…"))

    # ----------------------------------------------------------- profiles
    def profile_choices(self) -> list[tuple[str, bool]]:
        """Profiles of the config file, and which one is running."""
        if self.session is None:
            return []
        running = self.session.profile.name
        return [(name, name == running) for name in sorted(self.session.config.profiles)]

    def choose_profile(self, name: str) -> None:
        """Explain how to switch: a restart (the poller, key and watchlist are per profile)."""
        if self.session is not None and name == self.session.profile.name:
            self.notify(f"Profile {name} is the one running", timeout=3, markup=False)
            return
        self.notify(f"Switching to profile {name} needs a restart: quit (q) and run "
                    f"conversions-tui --profile {name}", title="Profile", timeout=12,
                    markup=False)

    # ------------------------------------------------------------ keys, help
    @staticmethod
    def keymap_scopes() -> list[KeymapScope]:
        """Which bindings are live together, screen by screen (for keymap checks)."""
        from tui.ui.screens.add_ids import AddIdsModal
        from tui.ui.screens.audit_view import AuditScreen
        from tui.ui.screens.column_chooser import ColumnChooserModal, SortPickerModal
        from tui.ui.screens.confirm_delete import ConfirmDeleteModal
        from tui.ui.screens.first_run import FirstRunScreen
        from tui.ui.screens.help import HelpScreen
        from tui.ui.screens.inspect import InspectModal
        from tui.ui.screens.key_prompt import KeyPromptModal
        from tui.ui.screens.text_prompt import QuestionModal, TextPromptModal
        from tui.ui.screens.upload import UploadModal
        from tui.ui.screens.upload_preview import UploadPreviewTable
        from tui.ui.widgets.upload_files import UploadFileTree

        app = ConversionsApp
        return [
            KeymapScope("monitor", (app, MonitorScreen, ConversionsTable)),
            KeymapScope("inspect", (app, InspectModal)),
            KeymapScope("add IDs", (app, AddIdsModal)),
            KeymapScope("audit log", (app, AuditScreen)),
            KeymapScope("upload", (app, UploadModal, UploadFileTree, UploadPreviewTable)),
            KeymapScope("confirm delete", (app, ConfirmDeleteModal)),
            KeymapScope("text prompt", (app, TextPromptModal)),
            KeymapScope("question", (app, QuestionModal)),
            KeymapScope("API key", (app, KeyPromptModal)),
            KeymapScope("first run", (app, FirstRunScreen)),
            KeymapScope("help", (app, HelpScreen)),
            KeymapScope("columns", (app, ColumnChooserModal)),
            KeymapScope("sort by", (app, SortPickerModal)),
        ]

    def _check_keymap(self, config: AppConfig) -> list[str]:
        problems = check_keymap(config.keymap, self.keymap_scopes())
        if not problems:
            return []
        where = config.path or "the config"
        return [f"[keymap] in {where}: " + "; ".join(problems)]

    def action_help(self) -> None:
        """Show the keys of the screen below, the status legend and where files are."""
        from tui.ui.screens.help import HelpPaths, HelpScreen, keys_of_screen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        paths = None
        if self.paths is not None:
            profile = self.session.profile.name if self.session is not None else None
            demo = self.session is not None and self.session.demo
            themes_dir = self._user_themes_dir()
            team, polled_by = self._team_for_help()
            paths = HelpPaths.of(self.paths, profile, demo=demo,
                                 themes_dir=str(themes_dir) if themes_dir else None,
                                 team_store=team, polled_by=polled_by)
        title = getattr(self.screen, "HELP_TITLE", None) or _screen_title(self.screen)
        self.push_screen(HelpScreen(keys_of_screen(self.screen), paths, screen_title=title))

    def _team_for_help(self) -> tuple[str | None, str | None]:
        """The team database this session uses, and who polls it (None: not a team)."""
        team = self.session.team_store if self.session is not None else None
        monitor = next((screen for screen in self.screen_stack
                        if isinstance(screen, MonitorScreen)), None)
        if team is None or monitor is None:
            return team, None
        watching = monitor.watching
        if watching.following:
            holder = watching.poller_holder
            return team, holder.describe() if holder is not None else "another monitor"
        return team, "this monitor" if watching.scheduler is not None else None

    # -------------------------------------------------------------- startup
    def on_mount(self) -> None:
        for problem in self._startup_problems:
            self.notify(problem, severity="warning", timeout=15, markup=False)
        install_hangup_handlers(self)  # SSH dropped: exit promptly (tui/ui/hangup.py)
        # A monitor left open all day: give glibc's freed heap pages back now and then
        # (tui/core/memory.py says why), off the event loop: it walks the whole heap.
        self.set_interval(MEMORY_RELEASE_EVERY, self._release_memory, name="release-memory")
        # Fewer collector pauses while polling hard (tui/core/memory.py has the numbers).
        self._gc_thresholds_before = collect_young_garbage_less_often()
        if self.session is not None:
            self.push_screen(MonitorScreen(self.session))
        elif self._setup is not None:
            from tui.ui.screens.first_run import FirstRunScreen

            self.push_screen(FirstRunScreen(self._setup.paths, self._setup.config,
                                            self._setup.explanation), self._after_setup)

    def on_unmount(self) -> None:
        if self._gc_thresholds_before is not None:  # as it was: a process may run more apps
            gc.set_threshold(*self._gc_thresholds_before)

    def _release_memory(self) -> None:
        forget_styles_cache()  # toasts' drawn lines stay in it otherwise (textual#6665)
        self.run_worker(reported(release_free_memory), thread=True, group="release-memory",
                        exclusive=True, exit_on_error=False)

    def _after_setup(self, created: NewProfile | None) -> None:
        if created is None or self._setup is None:
            self.exit()
            return
        try:
            self.session = MonitorSession.open(
                self._setup.paths, created.config, created.profile,
                read_only=self._setup.read_only, initial_ids=list(self._setup.initial_ids))
        except SESSION_OPEN_ERRORS as error:
            self.notify(f"Cannot open the watchlist of profile {created.profile.name!r}: "
                        f"{error}", severity="error", markup=False, timeout=30)
            return
        self.push_screen(MonitorScreen(self.session))

    def copy_to_clipboard(self, text: str) -> None:
        """OSC 52 as Textual does, but wrapped for tmux and capped (see tui.core.clipboard)."""
        remember_clipboard(self, text)
        copy_to_terminal_clipboard(self, text)

    # ------------------------------------------------------- worker failures
    def on_worker_failure(self, failure: WorkerFailure) -> None:
        """The one place a failed worker of any screen, widget or the app lands (see
        tui/ui/workers.py): logged without locals or traceback (they may hold the key or
        server text), told in a toast, never a crash."""
        error = failure.error
        log.error("worker %s failed: %s", failure.task, type(error).__name__)
        self.notify(f"Background task {failure.task} failed: {type(error).__name__}: "
                    f"{printable(str(error), limit=200)}",
                    severity="error", timeout=10, markup=False)

    def _fatal_error(self) -> None:
        # Textual's own crash report shows local variables, which may hold the key or
        # server text. Show the traceback without locals instead. (Overrides a private
        # method: pinned in tui/ui/textual_private.py.)
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None)
        # One renderable: outside dev mode Textual prints only the first of them.
        report = Group(traceback, Text("conversions-tui stopped after an internal error; "
                                       "the watchlist is saved."))
        show_on_exit_and_close(self, report)


def lands_on_a_removed_widget(app: App[Any], event: events.MouseDown) -> bool:
    """Whether a mouse press lands on a widget just taken off the screen (the footer
    redoes its keys when the bindings change) before the screen was drawn again.

    Textual's text selection then reads the removed widget's parent (None) and the app
    crashes; the press is dropped instead, and the next one lands on what is shown.
    """
    try:
        widget, _ = app.screen.get_widget_and_offset_at(event.x, event.y)
    except Exception:  # no screen yet, or nothing there: Textual's own handling applies
        return False
    return widget is not None and not isinstance(widget, Screen) and widget.parent is None
