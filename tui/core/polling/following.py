"""A monitor that follows another one: it shows the file, and polls once it may.

When another monitor holds the watchlist's :class:`~tui.core.polling.lock.PollerLock` it
polls, and writes what it learns to the file. :class:`WatchlistFollower` reads the
file's change feed once a second and hands what changed (rows written, IDs added and
removed) to ``on_update`` as a :class:`~tui.core.polling.types.PollUpdate`, the message the
screen already applies for its own poller. Each second it also tries the lock: when it
gets it (the other monitor quit, crashed or was killed) it calls ``on_lead`` and ends,
and the caller starts its own poller. Status-change toasts and the audit of confirmed
deletions stay with the monitor that polls: a follower's updates carry no changes.

Runs on the event loop that runs :meth:`WatchlistFollower.run`; the feed's read is
one ``PRAGMA`` while nothing changed, so doing it on the loop costs nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from tui.core.polling.leadership import Leadership, PollerHolder
from tui.core.polling.types import Connectivity, ConnectivityState, PollUpdate, WatchlistStore

__all__ = ["FOLLOW_INTERVAL", "WatchlistFollower"]

log = logging.getLogger(__name__)

#: Seconds between looks at the file (and tries of the lock) while following.
FOLLOW_INTERVAL = 1.0


class WatchlistFollower:
    """Follows the watchlist file while another monitor polls (see the module docstring)."""

    def __init__(self, watchlist: WatchlistStore, lock: Leadership, *, since: int,
                 on_update: Callable[[PollUpdate], None], on_lead: Callable[[], None],
                 interval: float = FOLLOW_INTERVAL) -> None:
        self._watchlist = watchlist
        self._lock = lock
        self._seq = since
        self._on_update = on_update
        self._on_lead = on_lead
        self._interval = interval
        self._stopped = asyncio.Event()
        self.holder: PollerHolder | None = lock.holder()

    def stop(self) -> None:
        """Stop following (the lock is not tried again)."""
        self._stopped.set()

    async def run(self) -> None:
        """Follow until :meth:`stop`, or until the lock is ours (then ``on_lead``)."""
        while not self._stopped.is_set():
            if self._lock.try_acquire():
                self._look()  # what the last leader wrote last, before polling starts
                self._on_lead()
                return
            self.holder = self._lock.holder() or self.holder
            self._look()
            try:
                await asyncio.wait_for(self._stopped.wait(), self._interval)
            except TimeoutError:
                pass

    def _look(self) -> None:
        try:
            changes = self._watchlist.changes_since(self._seq)
        except Exception:  # a busy or broken file: the next look retries
            log.exception("could not read the watchlist's changes")
            return
        self._seq = changes.seq
        if not changes:
            return
        update = PollUpdate(rows=list(changes.rows), changes=[],
                            connectivity=Connectivity(ConnectivityState.ONLINE, None),
                            removed=list(changes.removed), added=sorted(changes.added))
        try:
            self._on_update(update)
        except Exception:
            log.exception("on_update callback failed")
