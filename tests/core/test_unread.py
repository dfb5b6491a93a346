"""Unread rows (tui/core/unread.py): the rule, the store's mark, the service's write."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tests.core.test_since import row
from tests.core.test_watching import Service
from tests.core.test_watchlist import answer
from tui.core.unread import changed_at, is_unread, unread_ids
from tui.core.watchlist import PollResult, Watchlist

NOW = 1_800_000_000.0


# -- the rule ------------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["Completed", "Failed", "Deleted", "Reprocessing"])
def test_a_row_seen_to_end_after_the_last_look_is_unread(status: str) -> None:
    looked = row(1, status, read_at=NOW - 100, last_changed=NOW - 50)
    assert is_unread(looked) and changed_at(looked) == NOW - 50


def test_a_change_before_the_last_look_is_read() -> None:
    assert not is_unread(row(1, "Failed", read_at=NOW - 50, last_changed=NOW - 100))
    # Same instant: the look was taken with the change on screen.
    assert not is_unread(row(1, "Failed", read_at=NOW - 50, last_changed=NOW - 50))


def test_never_looked_at_counts_from_when_it_was_added() -> None:
    assert is_unread(row(1, "Completed", read_at=None, first_seen=NOW - 200,
                         last_changed=NOW - 100))
    assert not is_unread(row(1, "Completed", read_at=None, first_seen=NOW - 100,
                             last_changed=NOW - 200))


def test_the_first_answer_after_adding_is_not_news() -> None:
    # A pasted ID answered "Failed" at once: what it is, not a change the app saw.
    assert not is_unread(row(1, "Failed", read_at=None, first_seen=NOW - 10,
                             last_changed=NOW - 5, entered_seen=False))


@pytest.mark.parametrize("status", ["Uploaded", "Queued", "Processing", "DeletionPending"])
def test_moves_within_the_flight_are_not_news(status: str) -> None:
    assert not is_unread(row(1, status, read_at=NOW - 100, last_changed=NOW - 50))


def test_deleted_is_news_only_when_nobody_here_asked_for_it() -> None:
    assert is_unread(row(1, "Deleted", read_at=NOW - 100, last_changed=NOW - 50))
    assert not is_unread(row(1, "Deleted", read_at=NOW - 100, last_changed=NOW - 50,
                             delete_requested_at=NOW - 60))


def test_a_failed_check_is_not_news() -> None:
    troubled = row(1, "Completed", read_at=NOW - 10, last_changed=NOW - 100,
                   last_problem="HTTP 502, HTML page", problem_count=3,
                   last_problem_at=NOW - 1)
    assert not is_unread(troubled)


def test_unread_ids_keeps_the_order() -> None:
    rows = [row(3, "Failed", read_at=None), row(1, "Queued", read_at=None),
            row(2, "Completed", read_at=None)]
    assert unread_ids(rows) == [3, 2]


# -- the store -----------------------------------------------------------------------------

def settle(store: Watchlist, conversion_id: int, *statuses_at: tuple[str, float]) -> None:
    for status, at in statuses_at:
        store.record_results([answer(conversion_id, status, at)])


def test_a_pasted_batch_does_not_light_up_until_a_row_changes(tmp_path: Path) -> None:
    with Watchlist(tmp_path / "w.sqlite3") as store:
        ids = list(range(1000, 1000 + 10_000))
        store.add(ids, at=NOW)
        store.record_results([answer(i, "Failed" if i % 2 else "Completed", NOW + 1)
                              for i in ids])
        assert unread_ids(store.all()) == []
        # One of them changes while nobody looks: that one is news.
        settle(store, 1000, ("Processing", NOW + 2), ("Failed", NOW + 3))
        assert unread_ids(store.all()) == [1000]


def test_mark_read_is_one_write_seen_elsewhere_and_survives_reopening(
        tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    with Watchlist(path) as store, Watchlist(path) as other:
        store.add([1, 2, 3], at=NOW)
        for conversion_id in (1, 2, 3):
            settle(store, conversion_id, ("Processing", NOW + 1), ("Completed", NOW + 2))
        assert unread_ids(store.all()) == [1, 2, 3]
        seq = other.feed_seq()
        assert store.mark_read([1, 2, 99], NOW + 5) == 2
        # The snapshot follows at once; another monitor on the file sees the rows.
        assert unread_ids(store.all()) == [3]
        seen = other.changes_since(seq)
        assert sorted(r.id for r in seen.rows) == [1, 2]
        assert {r.read_at for r in seen.rows} == {NOW + 5}
        assert other.feed_seq() == seq + 1  # one transaction
        # A look stamped earlier (a slower clock elsewhere) never takes a look back.
        other.mark_read([1], NOW + 4)
        assert store.get(1).read_at == NOW + 5  # type: ignore[union-attr]
    with Watchlist(path) as store:
        assert unread_ids(store.all()) == [3]


def test_poll_results_leave_the_mark_alone_and_a_new_change_lights_it_again(
        tmp_path: Path) -> None:
    with Watchlist(tmp_path / "w.sqlite3") as store:
        store.add([7], at=NOW)
        settle(store, 7, ("Processing", NOW + 1), ("Completed", NOW + 2))
        store.mark_read([7], NOW + 3)
        settle(store, 7, ("Completed", NOW + 4))  # the same answer again
        store.record_results([PollResult(7, NOW + 5, problem="timed out")])
        found = store.get(7)
        assert found is not None and found.read_at == NOW + 3 and not is_unread(found)
        settle(store, 7, ("Deleted", NOW + 6))
        assert is_unread(store.get(7))  # type: ignore[arg-type]


def test_the_mark_goes_aside_with_an_unwatched_row_and_comes_back(tmp_path: Path) -> None:
    with Watchlist(tmp_path / "w.sqlite3") as store:
        store.add([7], at=NOW)
        settle(store, 7, ("Processing", NOW + 1), ("Failed", NOW + 2))
        store.mark_read([7], NOW + 3)
        store.remove([7], at=NOW + 4)
        store.add([7], at=NOW + 5)
        assert store.get(7).read_at == NOW + 3  # type: ignore[union-attr]


def test_an_older_file_is_all_read_after_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    past = time.time() - 3600  # the upgrade happens now, after these changes
    with Watchlist(path) as store:
        store.add([5], at=past)
        settle(store, 5, ("Processing", past + 1), ("Failed", past + 2))
    conn = sqlite3.connect(path)  # as schema 3 left it: no marks at all
    conn.execute("UPDATE watched SET read_at = NULL")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    conn = sqlite3.connect(path)
    for column in ("acknowledged_at", "snoozed_until", "read_at"):
        for table in ("watched", "unwatched"):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.commit()
    conn.close()
    with Watchlist(path) as store:
        found = store.get(5)
        assert found is not None and found.read_at is not None and not is_unread(found)


# -- the service ---------------------------------------------------------------------------

async def test_the_service_stamps_only_unread_rows_and_emits_them(tmp_path: Path) -> None:
    made = Service(tmp_path)
    try:
        store = made.watchlist
        made.service.watch([1, 2])
        for conversion_id in (1, 2):
            settle(store, conversion_id, ("Processing", NOW + 1), ("Failed", NOW + 2))
        store.mark_read([2], NOW + 3)
        made.changes.clear()
        seq = store.feed_seq()
        assert made.service.mark_read([1, 2, 404], at=NOW + 10) == 1
        assert [[r.id for r in c.rows] for c in made.changes] == [[1]]
        assert not is_unread(made.changes[0].rows[0])
        # Nothing unread left: no write at all (the cursor rests on read rows all day).
        assert made.service.mark_read([1, 2], at=NOW + 11) == 0
        assert store.feed_seq() == seq + 1 and len(made.changes) == 1
    finally:
        await made.close()
