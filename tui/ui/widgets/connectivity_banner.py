"""One banner for the app when the server is unreachable, failing, rate limiting, or
refusing the key.

A thousand rows failing for the same reason is one message, not a thousand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.core.polling.types import Connectivity, ConnectivityState
from tui.core.untrusted import printable
from tui.ui.key_names import key_for_action

#: The action that asks for a new key after a 401 (and pauses or resumes otherwise).
NEW_KEY_ACTION = "toggle_pause"


def describe_connectivity(conn: Connectivity, now: float, *, key_hint: str = "p") -> str:
    """The banner's sentence, e.g. "offline since 12:03, retrying in 8 s (connection refused)".

    ``key_hint`` is the key that asks for a new API key (and resumes a pause), as the
    user's keymap has it: a banner that says polling waits for a key must say how.
    """
    since = datetime.fromtimestamp(conn.since).strftime("%H:%M") if conn.since else None
    wait = max(0, round(conn.retry_at - now)) if conn.retry_at else None
    # The cause sits in brackets inside this sentence: a cause that is a sentence of its
    # own ("… (HTTP 429).") must not end it twice.
    reason = printable(conn.message, limit=120).strip().rstrip(". ") if conn.message else ""
    cause = f" ({reason})" if reason else ""
    if conn.state is ConnectivityState.OFFLINE:
        head = f"Offline since {since}" if since else "Offline"
        tail = f", retrying in {wait} s" if wait is not None else ", retrying"
        return f"{head}{tail}{cause}. Rows keep their last known data."
    if conn.state is ConnectivityState.RATE_LIMITED:
        tail = f" for {wait} s" if wait is not None else ""
        return f"The server is rate limiting: slowed down{tail}{cause}."
    if conn.state is ConnectivityState.AUTH_FAILED:
        # The key comes first: a long cause may be cut at the right edge, the way out not.
        return (f"The server refused the API key: press {key_hint} to enter a new one; "
                f"polling is paused until then{cause}.")
    if conn.state is ConnectivityState.PAUSED:
        return f"Polling paused ({key_hint} to resume)."
    if conn.state is ConnectivityState.SERVER_FAILING:
        # The verdict's sentence ("20 of 20 checks ... failed: HTTP 502, HTML page") is
        # built in core from the rows' problems: server text, made printable above.
        said = printable(conn.message, limit=160).strip().rstrip(". ")
        return f"Server failing: {said}. Rows keep their last known data."
    return ""


class ConnectivityBanner(Widget):
    """Shown above the table only while something is wrong; counts down its retry."""

    DEFAULT_CSS = """
    ConnectivityBanner {
        height: 1;
        display: none;
        background: $warning 30%;
        color: $foreground;
        text-style: bold;
    }
    ConnectivityBanner.-error { background: $error 35%; }
    ConnectivityBanner.-shown { display: block; }
    """

    connectivity: reactive[Connectivity | None] = reactive(None)

    def __init__(self, *, clock: Callable[[], float] = time.time, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._clock = clock

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        if self.has_class("-shown"):
            self.refresh()

    def watch_connectivity(self, conn: Connectivity | None) -> None:
        shown = conn is not None and conn.state not in (ConnectivityState.ONLINE,
                                                         ConnectivityState.PAUSED)
        self.set_class(shown, "-shown")
        self.set_class(conn is not None and conn.state in (
            ConnectivityState.OFFLINE, ConnectivityState.AUTH_FAILED,
            ConnectivityState.SERVER_FAILING), "-error")
        self.refresh()

    def render(self) -> Text:
        conn = self.connectivity
        if conn is None:
            return Text("")
        key = key_for_action(self.screen, NEW_KEY_ACTION, "p")
        return Text(" " + describe_connectivity(conn, self._clock(), key_hint=key),
                    no_wrap=True, overflow="ellipsis")
