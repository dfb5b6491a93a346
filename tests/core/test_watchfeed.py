"""The watchlist's change feed: what other connections wrote after a number, and only that.

A second ``Watchlist`` on the same file stands for another process (``conversions-tui
watch``, a second monitor); the feed is read through the first.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.core.test_poller_unit import envelope as _envelope
from tests.core.test_watchlist import _SCHEMA_1
from tui.core.watchlist import PollResult, Watchlist, WatchlistChanges
from tui.core.watchlist.schema import SCHEMA_VERSION


def _ids(changes: WatchlistChanges) -> list[int]:
    return sorted(row.id for row in changes.rows)


def test_a_note_a_result_an_add_and_an_unwatch_from_elsewhere_come_exactly(
        tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    with Watchlist(path) as here, Watchlist(path) as elsewhere:
        here.add([1, 2, 3, 4, 5])
        start = here.feed_seq()
        assert not here.changes_since(start)

        elsewhere.set_note(2, "INC-4480")
        elsewhere.record_results([PollResult(3, 100.0, _envelope(3, "Failed"))])
        elsewhere.add([9])
        elsewhere.remove([4])
        changes = here.changes_since(start)

        assert _ids(changes) == [2, 3, 9]
        rows = {row.id: row for row in changes.rows}
        assert rows[2].note == "INC-4480"
        assert rows[3].status == "Failed" and rows[3].last_checked == 100.0
        assert changes.added == {9}
        assert changes.removed == (4,)
        assert changes.seq > start

        # Read: nothing more until someone writes again.
        assert not here.changes_since(changes.seq)
        elsewhere.mark_delete_requested(5, 200.0)
        later = here.changes_since(changes.seq)
        assert _ids(later) == [5] and later.rows[0].delete_requested_at == 200.0
        assert not later.added and not later.removed


def test_own_writes_alone_are_no_news(tmp_path: Path) -> None:
    with Watchlist(tmp_path / "w.sqlite3") as here:
        here.add([1])
        seq = here.feed_seq()
        here.set_note(1, "mine")
        here.add([2])
        changes = here.changes_since(seq)
        assert not changes
        assert changes.seq > seq  # and asking from there misses nothing that comes later


def test_unwatched_then_watched_again_elsewhere_is_an_add_not_a_removal(
        tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    with Watchlist(path) as here, Watchlist(path) as elsewhere:
        here.add([1, 2])
        here.set_note(2, "kept")
        seq = here.feed_seq()
        elsewhere.remove([2])
        elsewhere.add([2])
        changes = here.changes_since(seq)
        assert _ids(changes) == [2] and changes.added == {2} and changes.removed == ()
        assert changes.rows[0].note == "kept"


def test_added_then_unwatched_elsewhere_is_only_a_removal(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    with Watchlist(path) as here, Watchlist(path) as elsewhere:
        seq = here.feed_seq()
        elsewhere.add([7])
        elsewhere.remove([7])
        changes = here.changes_since(seq)
        assert changes.rows == () and changes.removed == (7,)


def test_an_older_file_gains_the_feed_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(_SCHEMA_1)
    conn.execute("INSERT INTO watched (id, first_seen, note) VALUES (48211, 5.0, 'INC-1')")
    conn.commit()
    conn.close()
    with Watchlist(path) as here, Watchlist(path) as elsewhere:
        seq = here.feed_seq()
        assert [row.note for row in here.all()] == ["INC-1"]
        elsewhere.set_note(48211, "INC-2")
        changes = here.changes_since(seq)
        assert [(row.id, row.note) for row in changes.rows] == [(48211, "INC-2")]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    conn.close()
