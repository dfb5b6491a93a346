"""Per-minute activity buckets and kind counts, and the watchlist query that feeds them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.core.test_watchlist import answer
from tui.core.activity import (
    MINUTE,
    activity_window,
    count_kinds,
    minute_buckets,
    row_kind,
)
from tui.core.statuses import StatusKind
from tui.core.watchlist import StatusChange, Watchlist

# 2023-11-14 22:13:20 UTC; NOW is 42.5 s into the minute that starts at BASE + 13 min.
BASE = 1_700_000_000.0 - 1_700_000_000.0 % 60
NOW = BASE + 13 * MINUTE + 42.5


def went(conversion_id: int, status: str, at: float, previous: str = "Processing") -> StatusChange:
    """A recorded change from ``previous`` to ``status``."""
    return StatusChange(conversion_id, previous, status, at)


@dataclass
class Row:
    status: str | None
    not_found: bool = False


def test_window_ends_with_the_minute_now_is_in() -> None:
    start, end = activity_window(NOW)
    assert end == BASE + 14 * MINUTE
    assert start == end - 60 * MINUTE
    assert activity_window(BASE, minutes=2) == (BASE - MINUTE, BASE + MINUTE)


def test_empty_history_gives_zero_buckets() -> None:
    activity = minute_buckets([], NOW)
    assert activity.minutes == 60
    assert activity.completed == (0,) * 60
    assert activity.failed == (0,) * 60
    assert activity.start == BASE + 14 * MINUTE - 3600


def test_changes_land_in_their_minute() -> None:
    changes = [
        went(1, "Completed", NOW - 1),            # this minute
        went(2, "Completed", NOW - 2),
        went(3, "Failed", NOW - 5 * MINUTE),      # five minutes ago
        went(4, "Completed", NOW - 59 * MINUTE),  # the oldest bucket
    ]
    activity = minute_buckets(changes, NOW)
    completed, failed = list(activity.completed), list(activity.failed)
    assert completed[-1] == 2
    assert completed[0] == 1
    assert sum(completed) == 3
    assert failed[-6] == 1
    assert sum(failed) == 1


def test_a_change_exactly_on_a_minute_boundary_counts_in_the_minute_it_starts() -> None:
    boundary = BASE + 13 * MINUTE  # the start of NOW's minute
    changes = [went(1, "Completed", boundary), went(2, "Failed", boundary - 0.001)]
    activity = minute_buckets(changes, NOW)
    assert activity.completed[-1] == 1
    assert activity.completed[-2] == 0
    assert activity.failed[-2] == 1
    assert activity.failed[-1] == 0


def test_the_window_edges_exactly() -> None:
    start, end = activity_window(NOW)
    changes = [went(1, "Completed", start), went(2, "Completed", start - 0.001),
               went(3, "Completed", end), went(4, "Completed", end - 0.001)]
    activity = minute_buckets(changes, NOW)
    assert activity.completed[0] == 1     # the window's first instant is in
    assert activity.completed[-1] == 1    # the last instant before the end is in
    assert sum(activity.completed) == 2   # before the start and at the end are out


def test_changes_older_than_an_hour_are_ignored() -> None:
    changes = [went(1, "Failed", NOW - 61 * MINUTE), went(2, "Failed", NOW - 2 * 3600),
               went(3, "Failed", 0.0)]
    assert sum(minute_buckets(changes, NOW).failed) == 0


def test_unknown_words_are_neither_completions_nor_failures() -> None:
    changes = [went(1, "Complete", NOW), went(2, "FAILED ", NOW), went(3, "[red]Failed[/]", NOW),
               went(4, "\x1b[31mCompleted", NOW), went(5, "", NOW), went(6, "completed", NOW)]
    activity = minute_buckets(changes, NOW)
    # Case and surrounding blanks are forgiven (status_kind's rule); anything else is unknown.
    assert activity.completed[-1] == 1
    assert activity.failed[-1] == 1
    assert activity.of(StatusKind.UNKNOWN)[-1] == 4


def test_first_sightings_are_not_changes() -> None:
    changes = [StatusChange(1, None, "Completed", NOW), StatusChange(2, None, "Failed", NOW),
               went(3, "Completed", NOW, previous="Queued")]
    activity = minute_buckets(changes, NOW)
    assert sum(activity.completed) == 1
    assert sum(activity.failed) == 0


def test_other_kinds_are_counted_too_and_a_kind_never_seen_is_zeros() -> None:
    changes = [went(1, "Queued", NOW), went(1, "Processing", NOW), went(1, "DeletionPending", NOW)]
    activity = minute_buckets(changes, NOW, minutes=3)
    assert activity.of(StatusKind.QUEUED) == (0, 0, 1)
    assert activity.of(StatusKind.DELETING) == (0, 0, 1)
    assert activity.of(StatusKind.DELETED) == (0, 0, 0)


def test_minutes_must_be_positive() -> None:
    with pytest.raises(ValueError):
        minute_buckets([], NOW, minutes=0)


def test_count_kinds_gives_every_kind_and_a_404_wins() -> None:
    rows = [Row("Completed"), Row("Completed"), Row("Failed"), Row("Processing"),
            Row("Queued"), Row("Uploaded"), Row(None), Row("Banana"),
            Row("Completed", not_found=True), Row("DeletionPending"), Row("Deleted")]
    counts = count_kinds(rows)
    assert set(counts) == set(StatusKind)
    assert counts[StatusKind.COMPLETED] == 2
    assert counts[StatusKind.FAILED] == 1
    assert counts[StatusKind.PROCESSING] == 1
    assert counts[StatusKind.QUEUED] == 2
    assert counts[StatusKind.UNKNOWN] == 2
    assert counts[StatusKind.NOT_FOUND] == 1
    assert counts[StatusKind.DELETING] == 1
    assert counts[StatusKind.DELETED] == 1
    assert sum(counts.values()) == len(rows)
    assert row_kind(Row("Failed", not_found=True)) is StatusKind.NOT_FOUND


# -- the watchlist query ------------------------------------------------------------------

def test_changes_between_reads_every_id_in_the_window_oldest_first(tmp_path: Path) -> None:
    with Watchlist(tmp_path / "w.db") as store:
        store.add([1, 2, 3], at=BASE)
        store.record_results([answer(1, "Queued", BASE + 10), answer(2, "Queued", BASE + 20)])
        store.record_results([answer(1, "Completed", BASE + 60), answer(2, "Failed", BASE + 61),
                              answer(3, "Processing", BASE + 120)])
        store.record_results([answer(1, "Completed", BASE + 130)])  # no change: no history
        # The previous status is found even when it lies before the window.
        assert store.changes_between(BASE + 20, BASE + 120) == [
            StatusChange(2, None, "Queued", BASE + 20),
            StatusChange(1, "Queued", "Completed", BASE + 60),
            StatusChange(2, "Queued", "Failed", BASE + 61)]
        assert store.changes_between(BASE + 500, BASE + 600) == []
        # The activity of a window is what the buckets make of exactly that query;
        # first sightings (Queued, and 3's Processing) say what was, not what changed.
        start, end = activity_window(BASE + 130, minutes=3)
        activity = minute_buckets(store.changes_between(start, end), BASE + 130, minutes=3)
        assert activity.completed == (0, 1, 0)
        assert activity.failed == (0, 1, 0)
        assert activity.of(StatusKind.QUEUED) == (0, 0, 0)
        assert activity.of(StatusKind.PROCESSING) == (0, 0, 0)


def test_same_time_changes_keep_their_recorded_order(tmp_path: Path) -> None:
    with Watchlist(tmp_path / "w.db") as store:
        store.add([1], at=BASE)
        # One batch with two answers for one ID at one instant: they apply in order.
        store.record_results([answer(1, "Processing", BASE + 1), answer(1, "Failed", BASE + 1)])
        assert store.changes_between(BASE, BASE + 60) == [
            StatusChange(1, None, "Processing", BASE + 1),
            StatusChange(1, "Processing", "Failed", BASE + 1)]


def test_changes_between_adds_the_time_index_to_an_older_file(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    with Watchlist(path) as store:
        store.add([1], at=BASE)
        store.record_results([answer(1, "Failed", BASE + 5)])
    with sqlite3.connect(path) as conn:  # as a file made before the index existed
        conn.execute("DROP INDEX status_history_by_time")
    with Watchlist(path) as store:
        before = store.all()
        assert store.changes_between(BASE, BASE + 60) == [
            StatusChange(1, None, "Failed", BASE + 5)]
        # Adding the index is not a data change: the snapshot stays right.
        assert store.all() == before
    with sqlite3.connect(path) as conn:
        plan = " ".join(str(row) for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM status_history WHERE seen_at >= 1 AND seen_at < 2"))
    assert "status_history_by_time" in plan


def test_changes_between_does_not_disturb_the_snapshot_of_all(tmp_path: Path) -> None:
    with Watchlist(tmp_path / "w.db") as store:
        store.add([1, 2], at=BASE)
        store.record_results([answer(1, "Processing", BASE + 1)])
        first = store.all()
        store.changes_between(BASE, BASE + 60)
        store.record_results([answer(2, "Completed", BASE + 2)])
        after = {row.id: row.status for row in store.all()}
        assert after == {1: "Processing", 2: "Completed"}
        assert [row.status for row in first] == ["Processing", None]
