"""ViewCounts: the view and kind counts kept per changed row equal a full recount."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.activity import count_kinds
from tui.core.attention import count_needing_attention
from tui.core.statuses import StatusKind, awaits_first_answer
from tui.core.timeinstatus import StuckAfter
from tui.core.watchlist import WatchedConversion
from tui.ui.view_counts import ViewCounts
from tui.ui.views import count_views
from tui.ui.widgets.table.rows import TableRows

NOW = 1_732_800_000

# Whole seconds: the full recount and the kept one then do the same exact arithmetic.
moments = st.integers(NOW - 7_200, NOW + 7_200).map(float)


def row(conversion_id: int, **fields: Any) -> WatchedConversion:
    values: dict[str, Any] = {
        "id": conversion_id, "file_name": "f.csv", "data_source_type": "Csv",
        "status": "Processing", "upload_date": None, "warnings": (), "errors": (),
        "metadata": {}, "first_seen": NOW - 3600.0, "last_checked": NOW - 2.0,
        "last_changed": NOW - 600.0, "note": None, "last_problem": None, "problem_count": 0,
        "delete_requested_at": None, "deleted_at": None, "not_found": False, "raw": None,
        "entered_seen": False,
    }
    values.update(fields)
    return WatchedConversion(**values)


def rows_with(ids: st.SearchStrategy[int]) -> st.SearchStrategy[WatchedConversion]:
    return st.builds(
        row, ids,
        status=st.sampled_from([None, "Uploaded", "Queued", "Processing", "Completed",
                                "Failed", "Deleted", "DeletionPending", "Odd"]),
        not_found=st.booleans(),
        deleted_at=st.one_of(st.none(), moments),
        delete_requested_at=st.one_of(st.none(), moments),
        last_checked=st.one_of(st.none(), moments),
        last_changed=st.one_of(st.none(), moments),
        first_seen=moments,
        entered_seen=st.booleans(),
        upload_date=st.sampled_from([None, "garbage", "2024-11-28T12:00:00Z",
                                     "2024-11-28T13:10:00Z", "2024-11-28T15:00:00Z"]),
        warnings=st.sampled_from([(), ("w",)]),
        last_problem=st.sampled_from([None, "HTTP 502"]),
        acknowledged_at=st.one_of(st.none(), moments),
        snoozed_until=st.one_of(st.none(), moments),
        read_at=st.one_of(st.none(), moments),
    )


thresholds = st.one_of(
    st.integers(60, 3_600).map(float),
    st.builds(lambda d, q, p: StuckAfter(d, {"Queued": q, "Processing": p}),
              st.integers(60, 3_600), st.integers(60, 3_600), st.integers(60, 3_600)))


def full_recount(rows: list[WatchedConversion], now: float,
                 stuck_after: StuckAfter | float) -> tuple[dict[str, int], dict[Any, int], int]:
    kinds = count_kinds(rows)
    checking = sum(1 for r in rows if awaits_first_answer(r))
    kinds[StatusKind.UNKNOWN] -= checking
    return count_views(rows, now, stuck_after), kinds, checking


@given(start=st.lists(rows_with(st.integers(1, 12)), max_size=12, unique_by=lambda r: r.id),
       steps=st.lists(st.tuples(st.sampled_from(["upsert", "remove", "read"]),
                                rows_with(st.integers(1, 12)), moments), max_size=40),
       stuck_after=thresholds)
@settings(max_examples=300)
def test_kept_counts_equal_a_full_recount_after_any_changes(
        start: list[WatchedConversion], steps: list[tuple[str, WatchedConversion, float]],
        stuck_after: StuckAfter | float) -> None:
    # Through the table, as the monitor uses it: the table tells the counts each change.
    table = TableRows()
    table.set_rows(start)
    counts = ViewCounts(stuck_after)
    table.watcher = counts
    for what, changed, now in steps:  # "now" goes forward and back (a clock set back)
        if what == "upsert":
            table.upsert([changed])
        elif what == "remove":
            table.remove([changed.id])
        rows = [entry.row for entry in table.entries.values()]
        views, kinds, checking = full_recount(rows, now, stuck_after)
        assert counts.counts(now) == views
        assert dict(counts.kinds) == kinds
        assert counts.checking == checking
        # The "need attention" count reads only the rows that may: the same as all rows.
        assert counts.needing_attention(now, 900.0) == count_needing_attention(
            rows, now, stuck_after, 900.0)


def test_a_row_becomes_stuck_as_time_passes_without_changing() -> None:
    counts = ViewCounts(1800.0)
    counts.reset([row(1, status="Processing", last_changed=NOW - 600.0, entered_seen=True),
                  row(2, status="Completed")])
    assert counts.counts(NOW)["stuck"] == 0
    assert counts.counts(NOW + 1_200.0)["stuck"] == 0  # exactly 30 min: not over it
    assert counts.counts(NOW + 1_201.0)["stuck"] == 1
    assert counts.counts(NOW + 9_999.0)["stuck"] == 1
    counts.replace(row(1, status="Processing", last_changed=NOW - 600.0, entered_seen=True),
                   row(1, status="Completed", last_changed=NOW + 9_999.0, entered_seen=True))
    assert counts.counts(NOW + 10_000.0) == {"all": 2, "active": 0, "failed": 0,
                                             "warnings": 0, "stuck": 0, "deleting": 0,
                                             # seen completing: news, unread
                                             "changed": 1, "problems": 0}
    assert counts.counts(NOW)["stuck"] == 0  # a clock set back


def test_kept_counts_follow_big_batches_without_recounting() -> None:
    table = TableRows()
    table.set_rows([row(i, status="Processing" if i % 2 else "Completed")
                    for i in range(1, 10_001)])
    counts = ViewCounts(1800.0)
    table.watcher = counts
    table.upsert([row(i, status="Failed") for i in range(1, 3_001)])
    table.remove(range(9_001, 10_001))
    rows = [entry.row for entry in table.entries.values()]
    assert counts.counts(NOW) == full_recount(rows, NOW, 1800.0)[0]
    assert counts.counts(NOW)["failed"] == 3_000
