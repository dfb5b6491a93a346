"""What changed since you last looked (issue 13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tui.core.since import LastLooked, error_kind, summarize_since
from tui.core.timeinstatus import StuckAfter
from tui.core.watchlist import StatusChange, WatchedConversion

NOW = 1_800_000_000.0
HOUR = 3600.0


def row(conversion_id: int, status: str, **fields: Any) -> WatchedConversion:
    values: dict[str, Any] = {
        "id": conversion_id, "file_name": f"f{conversion_id}.csv", "data_source_type": "Csv",
        "status": status, "upload_date": None, "warnings": (), "errors": (), "metadata": {},
        "first_seen": NOW - 20 * HOUR, "last_checked": NOW, "last_changed": NOW - HOUR,
        "note": None, "last_problem": None, "problem_count": 0, "delete_requested_at": None,
        "deleted_at": None, "not_found": False, "raw": None, "entered_seen": True,
    }
    values.update(fields)
    return WatchedConversion(**values)


def test_the_summary_after_a_night_away() -> None:
    since = NOW - 18 * HOUR
    rows = {
        1: row(1, "Completed"), 2: row(2, "Completed"),
        3: row(3, "Failed", errors=("Row 12: date '03/04' is ambiguous",)),
        4: row(4, "Failed", errors=("File is not valid UTF-8 (byte 0xff at 1024)",)),
        5: row(5, "Failed", errors=("Row 90: date '05/06' is ambiguous",)),  # before: known
        6: row(6, "Processing", entered_seen=True, last_changed=NOW - 2 * HOUR),  # stuck
        7: row(7, "Deleted"),
    }
    changes = [
        StatusChange(1, "Processing", "Completed", NOW - 10 * HOUR),
        StatusChange(2, "Processing", "Completed", NOW - 9 * HOUR),
        StatusChange(3, "Processing", "Failed", NOW - 8 * HOUR),
        StatusChange(4, "Processing", "Failed", NOW - 7 * HOUR),
        StatusChange(7, "DeletionPending", "Deleted", NOW - 6 * HOUR),
        StatusChange(1, "Queued", "Processing", NOW - 11 * HOUR),  # older: the later wins
        StatusChange(9, "Queued", "Failed", NOW - 5 * HOUR),  # not watched any more
        StatusChange(5, "Processing", "Failed", NOW - 19 * HOUR),  # before the gap
    ]
    summary = summarize_since(since, NOW, changes, rows, StuckAfter(1800.0))
    assert summary.sentence(NOW) == ("Since you last looked (18 h ago): 2 completed, "
                                     "2 failed (1 new kind of error), 1 deleted, 1 stuck")
    assert set(summary.changed) == {1, 2, 3, 4, 7}


def test_nothing_happened_is_no_sentence() -> None:
    summary = summarize_since(NOW - HOUR, NOW, [], {1: row(1, "Completed")}, StuckAfter())
    assert summary.sentence(NOW) is None


def test_error_kinds_mask_numbers_and_quoted_values() -> None:
    assert error_kind("Row 12: date '03/04' is ambiguous") == error_kind(
        'Row 900: date "2024-05-06" is ambiguous')
    assert error_kind("File is not valid UTF-8") != error_kind("Row 1: empty")


@given(st.text(max_size=200))
def test_any_message_has_a_kind(message: str) -> None:
    assert isinstance(error_kind(message), str)


def test_last_looked_survives_a_restart_and_a_broken_file(tmp_path: Path) -> None:
    looked = LastLooked(tmp_path / "state" / "prod" / "last_looked.json")
    assert looked.read() is None
    looked.write(NOW)
    assert LastLooked(looked.path).read() == NOW
    looked.path.write_text("{not json", encoding="utf-8")
    assert looked.read() is None  # unreadable: as if never, no crash
    looked.path.write_text('["a list"]', encoding="utf-8")
    assert looked.read() is None
