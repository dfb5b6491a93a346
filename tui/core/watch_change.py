"""The one message type the watch service (:mod:`tui.core.watching`) sends the screen,
:class:`WatchChange`, and how it runs background work (:data:`Spawn`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tui.core.polling.types import Connectivity
from tui.core.watchlist import StatusChange, WatchedConversion

__all__ = ["Spawn", "WatchChange", "changes_seen", "spawn_task"]

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


def changes_seen(before: Mapping[int, WatchedConversion],
                 rows: Iterable[WatchedConversion]) -> tuple[StatusChange, ...]:
    """The status changes between the rows as shown (``before``) and as written by the
    monitor that polls (``rows``): a follower's updates carry rows, not changes, and its
    person is told of a failure as the poller's is. A row not shown before, or shown
    without a status, is no change (its first answer is not news)."""
    seen: list[StatusChange] = []
    for row in rows:
        old = before.get(row.id)
        if old is None or old.status is None or old.status == row.status:
            continue
        at = row.last_changed or row.last_checked or 0.0
        seen.append(StatusChange(row.id, old.status, row.status, at))
    return tuple(seen)
