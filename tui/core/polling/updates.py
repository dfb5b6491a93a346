"""Batched updates: poll results stored in one transaction, then one message for the UI.

The scheduler hands every result, banner change and change seen in the stored watchlist
to one :class:`UpdateBatcher`; it writes the waiting results with one ``record_results``
and calls ``on_update`` once, at most every ``flush_interval`` seconds (at once when
``flush_batch`` results wait, or when the banner changes).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping

from tui.core.polling.types import (
    Connectivity,
    PollSettings,
    PollStats,
    PollUpdate,
    WatchlistStore,
)
from tui.core.watchlist import PollResult, StatusChange, WatchedConversion
from tui.core.watchstore import StoreRefused

log = logging.getLogger(__name__)


class UpdateBatcher:
    """Collects what the next :class:`PollUpdate` carries and sends it in batches."""

    def __init__(
        self,
        watchlist: WatchlistStore,
        settings: PollSettings,
        on_update: Callable[[PollUpdate], None],
        stats: PollStats,
        clock: Callable[[], float],
        connectivity: Connectivity,
    ) -> None:
        self._watchlist = watchlist
        self._settings = settings
        self._on_update = on_update
        self._stats = stats
        self._clock = clock
        #: The banner state the last update carried (or will carry).
        self.connectivity = connectivity
        self._connectivity_dirty = False
        self._pending: list[PollResult] = []
        self._last_flush = -math.inf
        self._flush_handle: asyncio.Handle | None = None
        #: The loop flushes are timed on: set while the scheduler runs, else None.
        self.loop: asyncio.AbstractEventLoop | None = None
        # What others changed in the stored watchlist since the last flush.
        self._removed: list[int] = []
        self._added: list[int] = []
        self._changed_elsewhere: dict[int, WatchedConversion] = {}

    def publish(self, current: Connectivity) -> None:
        """A banner state; a change is sent to the UI straight away."""
        if current != self.connectivity:
            self.connectivity = current
            self._connectivity_dirty = True
            self.schedule_flush(0.0)

    def add_result(self, result: PollResult) -> None:
        """One result to store, in the next batch."""
        self._pending.append(result)
        if len(self._pending) >= self._settings.flush_batch:
            self.flush()
        else:
            due = self._last_flush + self._settings.flush_interval - self._clock()
            self.schedule_flush(max(0.0, due), replace=False)

    def drop_results(self, gone: set[int]) -> None:
        """Forget waiting results of IDs no longer watched."""
        self._pending = [result for result in self._pending if result.id not in gone]

    def added_elsewhere(self, row: WatchedConversion) -> None:
        """Another process (re)added ``row`` to the stored watchlist."""
        self._added.append(row.id)
        self._changed_elsewhere[row.id] = row

    def changed_elsewhere(self, row: WatchedConversion) -> None:
        """Another process changed ``row`` (a note, a delete request, a result)."""
        self._changed_elsewhere[row.id] = row

    def removed_elsewhere(self, gone: list[int]) -> None:
        """Another process removed ``gone`` from the stored watchlist."""
        self._removed.extend(gone)
        for conversion_id in gone:
            self._changed_elsewhere.pop(conversion_id, None)

    def schedule_flush(self, delay: float, *, replace: bool = True) -> None:
        """Flush in ``delay`` seconds (``replace``: instead of a flush already timed)."""
        if self.loop is None:
            return  # not running: run() publishes on start, shutdown flushes
        if self._flush_handle is not None:
            if not replace:
                return
            self._flush_handle.cancel()
        self._flush_handle = self.loop.call_later(delay, self.flush)

    def flush(self) -> None:
        """Store waiting results in one transaction, then send one update."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        batch, self._pending = self._pending, []
        removed, self._removed = self._removed, []
        added, self._added = self._added, []
        elsewhere, self._changed_elsewhere = self._changed_elsewhere, {}
        if not batch and not self._connectivity_dirty and not removed and not elsewhere:
            return
        self._last_flush = self._clock()
        self._connectivity_dirty = False
        changes: list[StatusChange] = []
        rows: list[WatchedConversion] = []
        if batch:
            recorded: object = None
            try:
                recorded = self._watchlist.record_results(batch)
                changes = list(recorded)
                self._stats.results_recorded += len(batch)
            except StoreRefused as error:  # the team database away: nothing written
                log.warning("could not record %d poll results: %s", len(batch), error)
            except Exception:  # a full disk must not stop the monitor
                log.exception("could not record %d poll results", len(batch))
            ids = list(dict.fromkeys(result.id for result in batch))
            # The store hands back the rows it wrote: no reading them again. A store that
            # does not (or a write that failed) is read back.
            written = getattr(recorded, "rows", None)
            if isinstance(written, Mapping):
                rows = [written[i] for i in ids if i in written]
            else:
                rows = self._rows(ids)
        if elsewhere:
            # Rows another process changed, as the file had them; rows read back just now
            # are fresher and win.
            fresh = {row.id for row in rows}
            rows.extend(row for key, row in elsewhere.items() if key not in fresh)
        update = PollUpdate(rows=rows, changes=changes, connectivity=self.connectivity,
                            removed=removed, added=added)
        self._stats.updates_sent += 1
        try:
            self._on_update(update)
        except Exception:
            log.exception("on_update callback failed")

    def _rows(self, ids: list[int]) -> list[WatchedConversion]:
        get_many = getattr(self._watchlist, "get_many", None)
        try:
            if get_many is not None:
                found = get_many(ids)
                if isinstance(found, Mapping):
                    return [found[i] for i in ids if found.get(i) is not None]
                return [row for row in found if row is not None]
            return [row for row in map(self._watchlist.get, ids) if row is not None]
        except StoreRefused as error:
            log.warning("could not read back %d watched rows: %s", len(ids), error)
            return []
        except Exception:
            log.exception("could not read back %d watched rows", len(ids))
            return []

