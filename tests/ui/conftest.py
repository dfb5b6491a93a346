"""Fixtures for driving the monitor with Pilot: sessions on temp folders, settled widgets.

``monitor_session`` builds a :class:`MonitorSession` on ``AppPaths.under(tmp_path)`` for a
profile pointing at the ``sandbox`` fixture's server, with a short poll interval so
changes arrive within a test. :func:`wait_for` polls a condition between Pilot pauses
instead of sleeping a fixed time, with the one generous bound of ``tests.waiting``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from tests.waiting import WAIT_BOUND, Describe, until
from tui.core.credentials import ApiKey
from tui.core.paths import AppPaths
from tui.core.session import MonitorSession
from tui.core.settings import AppConfig, ProfileSettings
from tui.sandbox.runner import SandboxServer
from tui.ui.screens.monitor import MonitorScreen

POLL_INTERVAL = 0.2
"""Seconds between polls of an active conversion in UI tests: quick, yet not a flood."""


async def wait_for(pilot: Pilot[Any], condition: Callable[[], object],
                   what: Describe = "condition", *, bound: float | None = None,
                   timeout: float | None = None) -> None:
    """Let the app run until ``condition()`` is true (see :func:`tests.waiting.until`).

    ``what`` says what was awaited; a callable is called only if the wait fails, so it
    can show what was actually there. The screen in front is added to the message.
    ``timeout`` (from before the one bound) can only lengthen the bound, never shorten it.
    """
    def describe() -> str:
        said = what() if callable(what) else what
        return f"{said} (screen in front: {type(pilot.app.screen).__name__})"

    if timeout is not None:
        bound = max(timeout, bound if bound is not None else WAIT_BOUND)
    await until(condition, describe, pause=lambda: pilot.pause(0.02), bound=bound)


async def quiet_window(pilot: Pilot[Any], seconds: float = 0.5) -> None:
    """Let the app run ``seconds`` in which the test expects NOTHING to happen.

    A check that something does not happen (no request while paused, nothing retried)
    has no condition to wait for, so it watches for a while. This never waits for
    something to happen (use :func:`wait_for`); on a loaded machine the window only
    sees less, it cannot fail a correct app.
    """
    await pilot.pause(seconds)
    await pilot.pause()


async def polls_settled(pilot: Pilot[Any]) -> None:
    """After ``p``: wait until no poll is on the wire (one sent before may still land)."""
    def in_flight() -> int:
        screen = next(s for s in pilot.app.screen_stack if isinstance(s, MonitorScreen))
        watching = screen.watching
        scheduler = watching.scheduler
        if scheduler is None:
            # A paused leader hands the lead over once its last poll is in, then follows.
            assert watching.paused, "polls_settled needs p first"
            return 0 if watching.following else 1
        assert scheduler.paused, "polls_settled needs p first"
        return scheduler.stats.in_flight

    await wait_for(pilot, lambda: in_flight() == 0,
                   lambda: f"no poll in flight ({in_flight()} are)")


class SessionFactory(Protocol):
    """Builds a monitor session against the sandbox (see ``monitor_session``)."""

    def __call__(self, *, key: str | None = ..., env: Mapping[str, str] | None = ...,
                 ids: Sequence[int] = ..., poll_interval: float = ...,
                 name: str = ..., base_url: str | None = ...,
                 demo: bool = ...) -> MonitorSession: ...


@pytest.fixture
def monitor_session(sandbox: SandboxServer, tmp_path: Path) -> Iterator[SessionFactory]:
    """A factory of sessions on private folders; every session is closed afterwards.

    ``key`` is a preset key (as ``--demo`` passes it); None leaves the key to ``env`` and
    the keyring. ``ids`` are put on the watchlist before the app starts.
    """
    made: list[MonitorSession] = []

    def build(*, key: str | None = "test-key", env: Mapping[str, str] | None = None,
              ids: Sequence[int] = (), poll_interval: float = POLL_INTERVAL,
              name: str = "test", base_url: str | None = None,
              demo: bool = False) -> MonitorSession:
        profile = ProfileSettings(name=name, base_url=base_url or sandbox.base_url,
                                  poll_interval=poll_interval)
        session = MonitorSession.open(
            AppPaths.under(tmp_path / "app"), AppConfig(), profile, demo=demo,
            preset_key=ApiKey(key) if key is not None else None, env=dict(env or {}))
        if ids:
            session.watchlist.add(ids)
        made.append(session)
        return session

    yield build
    for session in made:
        session.close()


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes screenshots depend on timing: keep it steady."""
    # The reactive stays as it is; the timers' toggles do nothing, so the cursor stays shown.
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)
