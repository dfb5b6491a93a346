"""The scheduler follows the stored watchlist: rows another process adds or removes.

A second connection to the same file stands for the other process (``conversions-tui
watch`` in another terminal, the demo's colleague). Virtual time, as in test_poller_unit
(whose ``test_idle_scheduler_sleeps_until_the_next_due_time`` also holds with the look).
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


async def test_rows_added_by_another_process_are_polled_and_shown(tmp_path: Path) -> None:
    source = FakeSource(default="Processing")
    async with Harness(tmp_path, source, fast(), known={1: "Processing"}) as h:
        with Watchlist(h.watchlist.path) as elsewhere:
            elsewhere.add([7, 8], note="INC-4480")
        added_at = h.now()
        await asyncio.sleep(3 * WATCHLIST_SYNC_INTERVAL)
    first = {i: min(h.source.starts(i)) for i in (7, 8) if h.source.starts(i)}
    assert set(first) == {7, 8}, f"polled: {sorted({i for i, _ in source.calls})}"
    assert all(at - added_at <= WATCHLIST_SYNC_INTERVAL + 1.0 for at in first.values()), first
    shown = {row.id for update in h.updates for row in update.rows}
    assert {7, 8} <= shown
    assert sorted(h.scheduler.watched_ids()) == [1, 7, 8]


async def test_rows_removed_by_another_process_stop_and_are_named(tmp_path: Path) -> None:
    source = FakeSource(default="Processing")
    async with Harness(tmp_path, source, fast(), known={1: "Processing", 2: "Processing"}) as h:
        await asyncio.sleep(2.0)
        with Watchlist(h.watchlist.path) as elsewhere:
            elsewhere.remove([2])
        removed_at = h.now()
        await asyncio.sleep(3 * WATCHLIST_SYNC_INTERVAL + 5)
    assert h.scheduler.watched_ids() == [1]
    assert [i for update in h.updates for i in update.removed] == [2]
    late = h.source.starts(2, after=removed_at + WATCHLIST_SYNC_INTERVAL + 1.0)
    assert late == [], "row 2 was still polled after it left the watchlist"
    assert h.source.starts(1, after=removed_at + WATCHLIST_SYNC_INTERVAL + 1.0)


async def test_an_id_unwatched_here_but_still_stored_is_not_brought_back(
        tmp_path: Path) -> None:
    source = FakeSource(default="Processing")
    async with Harness(tmp_path, source, fast(), known={1: "Processing", 2: "Processing"}) as h:
        await asyncio.sleep(1.0)
        h.scheduler.unwatch([2])
        with Watchlist(h.watchlist.path) as elsewhere:
            elsewhere.add([9])  # another process writes: the scheduler looks again
        await asyncio.sleep(3 * WATCHLIST_SYNC_INTERVAL)
    assert sorted(h.scheduler.watched_ids()) == [1, 9]
    assert not any(update.removed for update in h.updates)

