"""Typed rows: decoded by column name, and writes that hand back the rows they wrote."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.core.test_watchlist import answer
from tui.core.watchlist import PollResult, RecordedResults, WatchedConversion, Watchlist
from tui.core.watchlist.decoding import RowDecoder
from tui.core.watchlist.rows import _Marks, held_raw
from tui.core.watchlist.schema import COLUMNS


@pytest.fixture
def watchlist(tmp_path: Path) -> Watchlist:
    store = Watchlist(tmp_path / "watchlist.sqlite3")
    yield store  # type: ignore[misc]
    store.close()


def test_record_results_returns_the_rows_as_stored(watchlist: Watchlist) -> None:
    watchlist.add([1, 2, 3], note="INC-7")
    watchlist.record_results([answer(1, "Queued", 1.0)])
    watchlist.all()  # a snapshot in memory, as the monitor keeps one
    recorded = watchlist.record_results([
        answer(1, "Processing", 2.0, warnings=["row 3: empty"]),
        PollResult(2, 2.0, not_found=True),
        PollResult(3, 2.0, problem="Timed out after 10 s"),
        answer(99, "Queued", 2.0),  # not watched: ignored
    ])
    assert isinstance(recorded, RecordedResults)
    assert [(c.id, c.previous, c.current) for c in recorded] == [(1, "Queued", "Processing")]
    assert set(recorded.rows) == {1, 2, 3}
    with Watchlist(watchlist.path) as other:  # what another reader finds in the file
        assert dict(recorded.rows) == dict(other.get_many([1, 2, 3]))
    first = recorded.rows[1]
    assert (first.status, first.warnings, first.entered_seen, first.note) == (
        "Processing", ("row 3: empty",), True, "INC-7")
    assert recorded.rows[2].not_found and recorded.rows[3].problem_count == 1
    # The snapshot (what the table and the poller read) holds the very same items.
    assert {row.id: row for row in watchlist.all()}[1] is first


def test_an_empty_batch_records_nothing(watchlist: Watchlist) -> None:
    recorded = watchlist.record_results([])
    assert recorded == [] and dict(recorded.rows) == {}


def test_get_many_is_a_mapping_by_id_from_the_file_or_the_snapshot(
        watchlist: Watchlist) -> None:
    watchlist.add([5, 6])
    cold = watchlist.get_many([6, 5, 7])
    watchlist.all()  # the snapshot now answers
    warm = watchlist.get_many([6, 5, 7])
    for found in (cold, warm):
        assert isinstance(found, Mapping) and set(found) == {5, 6}
        assert all(isinstance(row, WatchedConversion) and row.id == key
                   for key, row in found.items())


def test_rows_are_decoded_by_column_name_not_position(watchlist: Watchlist) -> None:
    watchlist.add([4], note="n", at=10.0)
    watchlist.record_results([answer(4, "Failed", 11.0, errors=["bad header"])])
    names = [part.strip() for part in COLUMNS.split(", ", 18)[:18]]
    # The same columns in reverse order, plus one the decoder does not know.
    query = (f"SELECT 'x' AS unrelated, {COLUMNS.split(', ', 18)[18]}, "
             f"{', '.join(reversed(names))} FROM watched")
    connection = sqlite3.connect(watchlist.path)
    try:
        (row,) = RowDecoder().items(connection.execute(query))
    finally:
        connection.close()
    assert row == watchlist.get(4)
    assert (row.status, row.errors, row.note, row.first_seen) == ("Failed", ("bad header",),
                                                                 "n", 10.0)


def test_a_query_that_lacks_a_column_is_refused(watchlist: Watchlist) -> None:
    watchlist.add([4])
    connection = sqlite3.connect(watchlist.path)
    try:
        with pytest.raises(ValueError, match="raw"):
            list(RowDecoder().items(connection.execute(
                f"SELECT {COLUMNS.replace(', raw,', ',')} FROM watched")))
    finally:
        connection.close()


def test_rows_share_texts_many_rows_hold(watchlist: Watchlist) -> None:
    # 100,000 rows: one string per distinct status and type, not one a row.
    watchlist.add([1, 2])
    watchlist.record_results([answer(1, "Completed", 1.0), answer(2, "Completed", 1.0)])
    with Watchlist(watchlist.path) as other:
        first, second = other.all()
    assert first.status is second.status and first.data_source_type is second.data_source_type


def test_rows_read_in_bulk_leave_the_raw_envelope_in_the_file(watchlist: Watchlist) -> None:
    # The envelope is most of a row's memory: 100,000 rows hold none of it, yet each row
    # still gives it when asked (Inspect's Raw tab, the audit of a delete).
    watchlist.add([1, 2])
    recorded = watchlist.record_results([answer(1, "Queued", 1.0), answer(2, "Failed", 1.0)])
    rows = {row.id: row for row in watchlist.all()}
    for row in (*rows.values(), *recorded.rows.values(), *watchlist.head(5)):
        assert held_raw(row) is None
    assert json.loads(rows[1].raw or "")["payload"] == {"id": 1, "status": "Queued"}
    assert rows[1].raw == watchlist.get(1).raw  # type: ignore[union-attr]
    assert rows[2] == watchlist.get(2)  # equal to the eager read, raw included
    watchlist.remove([2])  # set aside: the row handed out earlier still reads its envelope
    assert json.loads(rows[2].raw or "")["payload"]["status"] == "Failed"


# The rarely set fields (note, last problem, acknowledged, snoozed) of rows at their
# defaults are one shared object: 100,000 rows hold them in one place.
_MARKED = {"note": "INC-7", "last_problem": "Timed out", "problem_count": 2,
           "last_problem_at": 7.0, "acknowledged_at": 8.0, "snoozed_until": 9.0}


def test_rows_at_the_defaults_share_their_marks_and_setting_one_touches_no_other(
        watchlist: Watchlist) -> None:
    watchlist.add([1, 2, 3])
    watchlist.record_results([answer(1, "Queued", 1.0), answer(2, "Failed", 1.0)])
    first, second, third = watchlist.all()
    shared = first._marks
    assert second._marks is shared and third._marks is shared
    assert shared == _Marks()
    assert set(_MARKED) == set(_Marks._fields)
    for name, value in _MARKED.items():
        setattr(first, name, value)  # a fresh row of the store's, as apply_result does
        assert getattr(first, name) == value
        assert getattr(second, name) == getattr(_Marks(), name)  # nobody else changed
    assert shared == _Marks() and second._marks is shared  # the shared one never mutated
    assert first == dataclasses.replace(second, id=1, status="Queued", **_MARKED,
                                        raw=first.raw)
    for name in _MARKED:  # every field back at its default: shared again
        setattr(first, name, getattr(_Marks(), name))
    assert first._marks is shared


def test_every_field_is_still_a_field_read_and_written_by_name() -> None:
    # Other code reads the fields by name, in this order (the team store's columns).
    names = [field.name for field in dataclasses.fields(WatchedConversion)]
    assert names == [
        "id", "file_name", "data_source_type", "status", "upload_date", "warnings",
        "errors", "metadata", "first_seen", "last_checked", "last_changed", "note",
        "last_problem", "problem_count", "delete_requested_at", "deleted_at", "not_found",
        "raw", "last_problem_at", "acknowledged_at", "snoozed_until", "read_at",
        "errors_total", "warnings_total", "entered_seen"]
    values = {name: n for n, name in enumerate(names)}
    row = WatchedConversion(**values)  # type: ignore[arg-type]
    assert {name: getattr(row, name) for name in names} == values
    assert repr(row).startswith("WatchedConversion(id=0, file_name=1, ")
    moved = dataclasses.replace(row, note="moved")
    assert moved.note == "moved" and row.note == 11 and moved != row
    assert not hasattr(row, "__dict__")  # slots only


def test_a_row_never_answered_has_no_raw(watchlist: Watchlist) -> None:
    watchlist.add([3])
    (row,) = watchlist.all()
    assert row.raw is None and watchlist.raw_of(3) is None and watchlist.raw_of(4) is None


def test_head_is_the_first_rows_by_id_from_the_file_or_the_snapshot(
        watchlist: Watchlist) -> None:
    watchlist.add([9, 3, 7, 1])
    assert [row.id for row in watchlist.head(3)] == [1, 3, 7]
    watchlist.all()
    watchlist.add([2])  # the snapshot is no longer in ID order
    assert [row.id for row in watchlist.head(3)] == [1, 2, 3]
    assert watchlist.head(0) == [] and len(watchlist.head(99)) == 5


def test_transitions_between_leaves_out_first_answers(watchlist: Watchlist) -> None:
    # The activity strip counts changes; a paste of 100,000 IDs answered within the hour
    # is 100,000 first answers it would read only to skip.
    watchlist.add([1, 2, 3])
    watchlist.record_results([answer(1, "Queued", 10.0), answer(2, "Queued", 11.0)])
    watchlist.record_results([answer(1, "Processing", 20.0), answer(3, "Failed", 21.0)])
    watchlist.record_results([answer(2, "Completed", 30.0), answer(1, "Processing", 31.0)])
    every = watchlist.changes_between(0.0, 100.0)
    assert [(c.id, c.previous) for c in every] == [(1, None), (2, None), (1, "Queued"),
                                                   (3, None), (2, "Queued")]
    assert watchlist.transitions_between(0.0, 100.0) == [c for c in every if c.previous]
    assert watchlist.transitions_between(25.0, 100.0) == [every[-1]]
    watchlist.remove([2])  # unwatched: its changes are no longer shown
    assert [c.id for c in watchlist.transitions_between(0.0, 100.0)] == [1]
