"""The API key of the monitor: found or asked for at the start, asked again when refused.

A new key gets a new client; the service polls with it (or follows the monitor that
polls this watchlist), and the old client's connections are closed.
"""

from __future__ import annotations

import logging

from tui.core.credentials import ApiKey, KeySource
from tui.core.polling.types import Connectivity, ConnectivityState
from tui.core.session import ProfileTrackingSource
from tui.ui.key_names import key_for_action
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.workers import reported

log = logging.getLogger(__name__)

_SOURCE_WORDS = {
    KeySource.ENV: "env",
    KeySource.KEYRING: "keyring",
    KeySource.SESSION: "session only",
}


class Credentials:
    """The monitor's key, where it came from, and the client made with it."""

    def __init__(self, host: MonitorHost) -> None:
        self._host = host
        self.key: ApiKey | None = None
        self.key_source: KeySource | None = None
        #: The client of the current key (None: no key yet).
        self.source: ProfileTrackingSource | None = None
        #: The key prompt is up because the server refused the key.
        self.asking = False
        self._last_state: ConnectivityState | None = None

    async def connect(self) -> None:
        """The stored key, else ask for one; then poll with it. Must run inside a worker."""
        from tui.ui.screens.key_prompt import KeyPromptModal
        host = self._host
        session = host.session
        resolved = await session.resolve_key()
        key, source = resolved.key, resolved.source
        if key is None:
            # Following needs no key: show what the team's (or the file's) poller writes
            # while the person finds one.
            host.watching.begin()
            host.update_header()
            reason = resolved.problem or "No API key is stored for this profile."
            key = await host.app.push_screen_wait(
                KeyPromptModal(profile=session.profile.name, reason=reason))
            if key is None:
                press = key_for_action(host.screen, "toggle_pause", "p")
                host.notify(f"No API key: polling is off. Press {press} to enter one.",
                            severity="warning", timeout=8, markup=False)
                return
            source = KeySource.SESSION
        self.use_key(key, source)

    def connectivity_changed(self, connectivity: Connectivity) -> None:
        """The server refused the key just now: ask for a new one (once, not per poll)."""
        state = connectivity.state
        if state is ConnectivityState.AUTH_FAILED and not self.asking and (
                self._last_state is not ConnectivityState.AUTH_FAILED):
            # The code the server really sent ("HTTP 403: …"), never a fixed "401".
            cause = connectivity.message.rstrip(".") or "no reason given"
            self._host.ask_for_new_key(
                f"The server refused the key ({cause}): rotated or revoked? "
                "Polling is paused; enter a new key to go on.")
        self._last_state = state

    async def ask_for_new_key(self, why: str) -> None:
        """Ask for a key in place of a refused one. Must run inside a worker."""
        from tui.ui.screens.key_prompt import KeyPromptModal
        host = self._host
        self.asking = True
        try:
            key = await host.app.push_screen_wait(
                KeyPromptModal(profile=host.session.profile.name, reason=why))
        finally:
            self.asking = False
        if key is not None:
            self.use_key(key, KeySource.SESSION)

    def use_key(self, key: ApiKey, source: KeySource) -> None:
        """Make a client with ``key`` and give it to the service."""
        host = self._host
        self.key, self.key_source = key, source
        client = host.session.open_client(key)
        previous, self.source = self.source, client
        if previous is not None:
            # The scheduler never closes a client it was given; the old pool goes here.
            host.screen.run_worker(reported(previous.aclose()), group="close-client",
                                   exit_on_error=False)
        # The first key starts polling (or following the monitor that polls this file).
        host.watching.set_client(client)
        host.update_header()

    def source_words(self) -> str:
        """Where the key came from, as the header says it ("keyring", "demo", ...)."""
        if self.key_source is None:
            return ""
        if self._host.session.demo:
            return "demo"
        return _SOURCE_WORDS.get(self.key_source, "")

    async def aclose(self) -> None:
        """Close the current client's connections (a replaced client was closed already);
        on the way out, so a failure is logged, never raised."""
        close = getattr(self.source, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception:  # closing on the way out must never turn into a crash
                log.exception("closing the API client failed")
