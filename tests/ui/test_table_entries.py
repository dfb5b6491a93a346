"""A changed row's entry, built from the entry it replaces, equals one built from scratch.

make_entry takes the texts whose server value did not change from the previous entry
instead of sanitising them again (the upsert of 1,000 changes at 100,000 rows, issue 12);
whatever changed, the result must be what a first sight of the row gives.
"""

from __future__ import annotations

from dataclasses import fields, replace

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ui.test_conversions_table import NOW, conversion
from tui.core.watchlist import WatchedConversion
from tui.ui.widgets.table_entries import RowEntry, make_entry
from tui.ui.widgets.table_rows import TableRows

# Server text with what printable() must change: controls, BiDi overrides, long runs.
_TEXT = st.one_of(st.none(), st.sampled_from(["a.csv", "b.csv", "x\x1b[31m", "\u202eevil",
                                               "é" * 400, "", "Csv", "Excel"]))
_STATUS = st.one_of(st.none(), st.sampled_from(
    ["Processing", "Completed", "Failed", "Queued", "DeletionPending", "Deleted",
     "weird\x07word", "processing"]))
_UPLOAD = st.one_of(st.none(), st.sampled_from(
    ["2024-11-28T09:00:00Z", "2024-11-27T23:59:00Z", "not a date", "\x1bbad"]))


@st.composite
def row_states(draw: st.DrawFn, conversion_id: int = 7) -> WatchedConversion:
    """One state of a watched conversion, the fields the table shows all varied."""
    return conversion(
        conversion_id,
        file_name=draw(_TEXT),
        data_source_type=draw(_TEXT),
        status=draw(_STATUS),
        upload_date=draw(_UPLOAD),
        note=draw(_TEXT),
        last_problem=draw(_TEXT),
        not_found=draw(st.booleans()),
        deleted_at=draw(st.sampled_from([None, NOW - 5])),
        last_checked=draw(st.sampled_from([None, NOW - 2])),
        entered_seen=draw(st.booleans()),
    )


# Fields that depend on when and where the entry was made or drawn, not on the row.
_NOT_COMPARED = {"version", "uploaded_text", "uploaded_day", "key", "shown", "search_text"}


def same_entry(left: RowEntry, right: RowEntry) -> list[str]:
    """Names of the fields where two entries of the same row differ."""
    return [f.name for f in fields(RowEntry)
            if f.name not in _NOT_COMPARED and getattr(left, f.name) != getattr(right, f.name)]


@settings(max_examples=300, deadline=None)
@given(before=row_states(), after=row_states())
def test_an_entry_built_from_the_previous_one_equals_a_fresh_one(
        before: WatchedConversion, after: WatchedConversion) -> None:
    previous = make_entry(before)
    previous.uploaded_text, previous.uploaded_day = "drawn before", 738_000
    reused, fresh = make_entry(after, previous), make_entry(after)
    assert same_entry(reused, fresh) == [], (before, after)
    assert reused.version != previous.version  # drawn again
    if after.upload_date == before.upload_date:
        assert (reused.uploaded_text, reused.uploaded_day) == ("drawn before", 738_000)
    else:  # a new upload date is worded again when drawn
        assert reused.uploaded_day == -1


@settings(max_examples=100, deadline=None)
@given(states=st.lists(row_states(), min_size=1, max_size=6))
def test_a_row_upserted_many_times_reads_as_if_set_at_once(
        states: list[WatchedConversion]) -> None:
    table = TableRows()
    table.set_rows([conversion(1), states[0]])
    for state in states[1:]:
        table.upsert([replace(state, last_changed=NOW - 1)])
    last = replace(states[-1], last_changed=NOW - 1) if len(states) > 1 else states[0]
    fresh = TableRows()
    fresh.set_rows([conversion(1), last])
    assert same_entry(table.entries[7], fresh.entries[7]) == []
    assert table.filled == fresh.filled
