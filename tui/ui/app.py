"""The Textual application: screens, the one place worker failures land, safe crash output."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from rich.segment import Segments
from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from tui.core.paths import AppPaths
from tui.core.session import MonitorSession
from tui.core.settings import AppConfig
from tui.core.untrusted import printable
from tui.ui.clipboard import copy_to_terminal_clipboard
from tui.ui.screens.first_run import FirstRunScreen, NewProfile
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.widgets.conversions_table import STATUS_VARIABLE_DEFAULTS

log = logging.getLogger(__name__)

EXIT_GRACE_SECONDS = 3.0


def _exit_hard_after(seconds: float, code: int) -> None:
    time.sleep(seconds)
    os._exit(code)


@dataclass(frozen=True)
class SetupNeeded:
    """No profile could be resolved: the app starts on the first-run form."""

    paths: AppPaths
    config: AppConfig
    explanation: str


class ConversionsApp(App[None]):
    """The conversions monitor."""

    CSS_PATH = "app.tcss"
    TITLE = "conversions-tui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+c", "quit", "Quit", id="app.quit_ctrl_c", show=False, priority=True),
    ]

    def __init__(self, session: MonitorSession | None, *, theme: str | None = None,
                 setup: SetupNeeded | None = None) -> None:
        super().__init__()
        self.session = session
        self._setup = setup
        self._requested_theme = theme
        if session is not None and session.config.keymap:
            self.set_keymap(dict(session.config.keymap))

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Status colours always exist, whatever theme is active."""
        return dict(STATUS_VARIABLE_DEFAULTS)

    def on_mount(self) -> None:
        if self._requested_theme and self._requested_theme in self.available_themes:
            self.theme = self._requested_theme
        self._install_signal_handlers()
        if self.session is not None:
            self.push_screen(MonitorScreen(self.session))
        elif self._setup is not None:
            self.push_screen(FirstRunScreen(self._setup.paths, self._setup.config,
                                            self._setup.explanation), self._after_setup)

    def _after_setup(self, created: NewProfile | None) -> None:
        if created is None or self._setup is None:
            self.exit()
            return
        self.session = MonitorSession.open(self._setup.paths, created.config, created.profile)
        self.push_screen(MonitorScreen(self.session))

    def _install_signal_handlers(self) -> None:
        # SSH dropped: SIGHUP. Exit promptly; the watchlist is committed per batch,
        # so nothing is lost, and no process stays behind.
        import asyncio

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._exit_on_signal)
            except (NotImplementedError, RuntimeError, ValueError):  # not main thread / Windows
                pass

    def _exit_on_signal(self) -> None:
        self.exit(return_code=129)
        # If the terminal is gone or stuck (a dead SSH link, output blocked), the
        # orderly exit can hang writing the screen restore. The databases are
        # committed per batch (WAL), so a hard exit after a grace period loses nothing.
        # (Not in headless runs: there the "process" is a test runner.)
        if self.is_headless:
            return
        watchdog = threading.Thread(target=_exit_hard_after, args=(EXIT_GRACE_SECONDS, 129),
                                    name="exit-watchdog", daemon=True)
        watchdog.start()

    def copy_to_clipboard(self, text: str) -> None:
        """OSC 52 as Textual does, but wrapped for tmux and capped (see tui.core.clipboard)."""
        self._clipboard = text
        copy_to_terminal_clipboard(self, text)

    # ------------------------------------------------------- worker failures
    def report_worker_failure(self, worker: Worker[Any]) -> None:
        """The one place a failed worker lands: logged (no locals) and told, never a crash."""
        error = worker.error
        name = worker.name or worker.group or "background task"
        log.error("worker %s failed: %s", name, type(error).__name__)
        self.notify(f"{name} failed: {type(error).__name__}: {printable(str(error), limit=200)}",
                    severity="error", timeout=10, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.report_worker_failure(event.worker)

    def _fatal_error(self) -> None:
        # Textual's own crash report shows local variables, which may hold the key or
        # server text. Show the traceback without locals instead.
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None)
        self._exit_renderables.append(Segments(self.console.render(traceback,
                                                                   self.console.options)))
        self._exit_renderables.append(Text("conversions-tui stopped after an internal error; "
                                           "the watchlist is saved."))
        self._close_messages_no_wait()
