"""Leaving promptly when the terminal goes: SSH dropped (SIGHUP) or SIGTERM.

The app exits with 129; the watchlist is committed per batch (WAL), so nothing is lost
and no process stays behind. If the orderly exit hangs (a dead SSH link, output
blocked), a watchdog thread ends the process after :data:`EXIT_GRACE_SECONDS`, running
the cleanups registered with :func:`on_hard_exit` first (no ``finally`` runs then).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from textual.app import App

__all__ = ["EXIT_GRACE_SECONDS", "install_hangup_handlers", "on_hard_exit"]

EXIT_GRACE_SECONDS = 3.0

_HARD_EXIT_CLEANUPS: list[Callable[[], object]] = []


def on_hard_exit(cleanup: Callable[[], object]) -> None:
    """Run ``cleanup`` if a hung exit after a hangup has to be cut short (no ``finally``
    runs then): for what must not stay behind, such as the demo's throwaway folder."""
    _HARD_EXIT_CLEANUPS.append(cleanup)


def _exit_hard_after(seconds: float, code: int) -> None:
    time.sleep(seconds)
    for cleanup in list(_HARD_EXIT_CLEANUPS):
        try:
            cleanup()
        except Exception:  # exiting regardless; nothing to report it to
            pass
    os._exit(code)


def install_hangup_handlers(app: App[Any]) -> None:
    """Make SIGHUP and SIGTERM exit ``app`` (call on the event loop, once mounted)."""
    # SSH dropped: SIGHUP. Exit promptly; the watchlist is committed per batch,
    # so nothing is lost, and no process stays behind.
    import asyncio

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGHUP, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, _exit_on_signal, app)
        except (NotImplementedError, RuntimeError, ValueError):  # not main thread / Windows
            pass


def _exit_on_signal(app: App[Any]) -> None:
    app.exit(return_code=129)
    # If the terminal is gone or stuck (a dead SSH link, output blocked), the
    # orderly exit can hang writing the screen restore. The databases are
    # committed per batch (WAL), so a hard exit after a grace period loses nothing.
    # (Not in headless runs: there the "process" is a test runner.)
    if app.is_headless:
        return
    watchdog = threading.Thread(target=_exit_hard_after, args=(EXIT_GRACE_SECONDS, 129),
                                name="exit-watchdog", daemon=True)
    watchdog.start()
