"""The one message type the watch service (:mod:`tui.core.watching`) sends the screen,
:class:`WatchChange`, and how it runs background work (:data:`Spawn`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from tui.core.polling.types import Connectivity
from tui.core.watchlist import StatusChange, WatchedConversion

__all__ = ["Spawn", "WatchChange", "spawn_task"]

#: Runs a background coroutine under a name (the UI passes its worker runner).
Spawn = Callable[[Coroutine[Any, Any, None], str], None]

_TASKS: set[asyncio.Task[None]] = set()


def spawn_task(coro: Coroutine[Any, Any, None], name: str) -> None:
    """Without a UI: a task on the running loop, kept referenced until it ends."""
    task = asyncio.get_running_loop().create_task(coro, name=name)
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


@dataclass(frozen=True, slots=True)
class WatchChange:
    """One change to the watched conversions, for the screen to apply.

    ``rows``: rows to show as they are now (new or changed); ``removed``: IDs no longer
    watched; ``added``: IDs (re)added; ``changes``: status changes a poll saw (for
    toasts); ``connectivity``: where polling stands (None: not changed by this one).
    ``elsewhere``: the IDs in ``removed`` / ``added`` were unwatched / added by another
    process (the file said so), not through this service. ``took_over``: the monitor
    that polled this file stopped (or let the lead go) and this service polls from now
    on; ``took_over_from``: who polled before, as its follower last saw it ("" unknown;
    text from a file or a database: show it escaped).
    """

    rows: tuple[WatchedConversion, ...] = ()
    removed: tuple[int, ...] = ()
    added: tuple[int, ...] = ()
    changes: tuple[StatusChange, ...] = ()
    connectivity: Connectivity | None = None
    elsewhere: bool = False
    took_over: bool = False
    took_over_from: str = ""
