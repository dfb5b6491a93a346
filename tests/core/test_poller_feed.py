"""The scheduler passes on what other processes write to rows it polls (the change feed).

A second connection to the file stands for another process: a note, a delete request
(from a monitor that follows this one), an ID unwatched and watched again elsewhere.
Virtual time, as in test_poller_unit.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.core.test_poller_unit import (  # noqa: F401  (the fixture is used by name)
    FakeSource,
    Harness,
    _close_watchlists,
    fast,
)
from tui.core.polling.feed import WATCHLIST_SYNC_INTERVAL
from tui.core.watchlist import Watchlist


async def test_a_note_written_elsewhere_is_in_the_next_update(tmp_path: Path) -> None:
    source = FakeSource(default="Completed")
    async with Harness(tmp_path, source, fast(), known={1: "Completed", 2: "Completed"}) as h:
        await asyncio.sleep(1.0)
        with Watchlist(h.watchlist.path) as elsewhere:
            elsewhere.set_note(2, "INC-4480")
        written_at = h.now()
        await asyncio.sleep(3 * WATCHLIST_SYNC_INTERVAL)
    noted = [at for at, update in zip(h.update_times, h.updates, strict=True)
             if any(row.id == 2 and row.note == "INC-4480" for row in update.rows)]
    assert noted, "no update carried the note"
    assert noted[0] - written_at <= WATCHLIST_SYNC_INTERVAL + 0.5, noted


async def test_a_delete_requested_elsewhere_is_followed_at_the_active_rate(
        tmp_path: Path) -> None:
    source = FakeSource(default="Completed")
    async with Harness(tmp_path, source, fast(), known={1: "Completed"}) as h:
        await asyncio.sleep(1.0)
        with Watchlist(h.watchlist.path) as elsewhere:
            elsewhere.mark_delete_requested(1, 0.0)
        asked_at = h.now()
        source.by_id[1] = "Deleted"
        await asyncio.sleep(3 * WATCHLIST_SYNC_INTERVAL)
    # Settled rows wait 60 s here; followed as a deletion, it is asked within the look.
    assert source.starts(1, after=asked_at), "the row was not checked after the request"
    row = h.watchlist.get(1)
    assert row is not None and row.status == "Deleted"


async def test_an_id_unwatched_here_and_added_again_elsewhere_is_polled_and_named(
        tmp_path: Path) -> None:
    source = FakeSource(default="Processing")
    async with Harness(tmp_path, source, fast(), known={1: "Processing", 2: "Processing"}) as h:
        await asyncio.sleep(1.0)
        h.watchlist.remove([2])  # what the screen does on x: the store, then the scheduler
        h.scheduler.unwatch([2])
        with Watchlist(h.watchlist.path) as elsewhere:
            elsewhere.add([2])
        added_at = h.now()
        await asyncio.sleep(3 * WATCHLIST_SYNC_INTERVAL)
    assert sorted(h.scheduler.watched_ids()) == [1, 2]
    assert [i for update in h.updates for i in update.added] == [2]
    assert source.starts(2, after=added_at)
