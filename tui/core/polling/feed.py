"""The stored watchlist is the truth: the scheduler follows it through its change feed.

:class:`WatchlistFeed` loads the stored rows when polling starts and then, every
:data:`WATCHLIST_SYNC_INTERVAL` seconds, reads what other processes wrote since the last
look (one ``PRAGMA`` when nothing): rows another process added are polled from now on,
rows it removed are dropped, a delete it requested is followed, and the next update
carries the rows it changed (notes included) and names the IDs added and removed.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable

from tui.core.polling.lanes import home_lane
from tui.core.polling.queue import Lane, PollQueue
from tui.core.polling.types import PollSettings, WatchlistStore
from tui.core.polling.updates import UpdateBatcher
from tui.core.statuses import is_settled
from tui.core.watchlist import WatchedConversion
from tui.core.watchstore import StoreRefused

log = logging.getLogger(__name__)

#: Seconds between looks at the stored watchlist's change feed (what other processes wrote):
#: their changes show within this and a flush.
WATCHLIST_SYNC_INTERVAL = 1.0


class WatchlistFeed:
    """Keeps the scheduler's queue in step with the stored watchlist (see the module)."""

    def __init__(self, watchlist: WatchlistStore, queue: PollQueue, updates: UpdateBatcher,
                 settings: PollSettings, *, clock: Callable[[], float], rng: random.Random,
                 expect_deletion: Callable[[int], None],
                 unwatch: Callable[[Iterable[int]], None], poke: Callable[[], None]) -> None:
        self._watchlist = watchlist
        self._queue = queue
        self._updates = updates
        self._settings = settings
        self._clock = clock
        self._rng = rng
        self._expect_deletion = expect_deletion
        self._unwatch = unwatch
        self._poke = poke
        self._loop: asyncio.AbstractEventLoop | None = None
        self._seq = 0  # the change feed's number at the last look
        self._handle: asyncio.Handle | None = None

    def load(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Track every stored row, then look at the feed every interval on ``loop``."""
        self._loop = loop
        now = self._clock()
        # The number first: what is written after it comes again in the feed (harmless).
        self._seq = self._watchlist.feed_seq()
        rows = self._watchlist.all()
        if loop is not None:
            self._handle = loop.call_later(WATCHLIST_SYNC_INTERVAL, self._sync)
        for row in rows:
            if row.id not in self._queue:
                self._track(row, now)

    def look_now(self) -> None:
        """Look at the feed at once (the store said another app wrote), not at the next
        tick; the every-second look stays as the fallback. On the loop's thread only."""
        if self._loop is None:
            return
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self._loop.call_soon(self._sync)

    def stop(self) -> None:
        """Stop looking at the feed (until the next :meth:`load`)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._loop = None

    def _sync(self) -> None:
        """Every second, follow the stored watchlist through its change feed: rows another
        process added (``conversions-tui watch``, an upload from the CLI, a second monitor,
        the demo's colleague) are polled from now on; rows it removed are dropped; a delete
        it requested is followed; and the next update carries the rows it changed (notes
        included) and names the IDs added and removed. A timer of its own, so an idle
        scheduler is not woken for it unless something changed."""
        assert self._loop is not None
        self._handle = self._loop.call_later(WATCHLIST_SYNC_INTERVAL, self._sync)
        try:
            changes = self._watchlist.changes_since(self._seq)
        except StoreRefused as error:  # the team database away: its sentence says it all
            log.warning("could not read the watchlist's changes: %s", error)
            return
        except Exception:  # a busy or broken file: polling goes on, the next look retries
            log.exception("could not read the watchlist's changes")
            return
        self._seq = changes.seq
        if not changes:
            return
        now = self._clock()
        for row in changes.rows:
            slot = self._queue.get(row.id)
            if slot is None:
                # Only rows (re)added in the store: an ID unwatched here but still stored
                # stays so, whatever else is written to it.
                if row.id in changes.added:
                    self._track(row, now)
                    self._updates.added_elsewhere(row)
                continue
            self._updates.changed_elsewhere(row)
            if (row.delete_requested_at is not None and not slot.expect_deletion
                    and not row.not_found and row.deleted_at is None):
                self._expect_deletion(row.id)  # a delete requested by another process
        gone = [i for i in changes.removed if i in self._queue]
        if gone:
            self._unwatch(gone)
            self._updates.removed_elsewhere(gone)
        self._updates.schedule_flush(0.0)
        self._poke()

    def _track(self, row: WatchedConversion, now: float) -> None:
        """Start polling a stored row, as soon as its state calls for."""
        slot = self._queue.add(row.id)
        gone = row.not_found or row.deleted_at is not None
        slot.expect_deletion = row.delete_requested_at is not None and not gone
        if row.last_checked is None:
            slot.new = True
            self._queue.schedule(slot, home_lane(slot), now)
        elif (gone or is_settled(row.status)) and not slot.expect_deletion:
            slot.settled = True
            # Spread the first re-checks over a whole settled interval so that
            # ten thousand settled rows do not all fall due at startup.
            spread = self._rng.uniform(0.0, self._settings.settled_interval)
            self._queue.schedule(slot, Lane.SETTLED, now + spread)
        else:
            self._queue.schedule(slot, Lane.ACTIVE, now)
