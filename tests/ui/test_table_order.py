"""The table's sorted order (blocks of keys, int sort keys) against a plain ``sorted()``."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.core.roworder import sorted_rows
from tui.core.statuses import StatusKind
from tui.core.watchlist import WatchedConversion
from tui.ui.widgets.table import order as table_order
from tui.ui.widgets.table.columns import COLUMN_KEYS
from tui.ui.widgets.table.entries import key_reader, make_entry, reckon_in_status, sort_key
from tui.ui.widgets.table.order import SortedKeys
from tui.ui.widgets.table.rows import TableRows

NOW = 1_732_800_000.0


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 8 keys: a few dozen keys already split, merge and empty blocks."""
    monkeypatch.setattr(table_order, "BLOCK", 8)


def check(keys: SortedKeys, expected: list[Any]) -> None:
    assert keys.blocks_valid()
    assert list(keys) == expected
    assert list(reversed(keys)) == expected[::-1]
    assert len(keys) == len(expected)
    for position, key in enumerate(expected):
        assert keys[position] == key
        assert keys.index(key) == position
        assert key in keys
    if expected:
        assert keys[-1] == expected[-1]
    with pytest.raises(IndexError):
        keys[len(expected)]


# Each step: add a key (if new) or remove one (if held); keys from a small range so that
# removals hit often and blocks fill up, split, shrink and merge.
steps = st.lists(st.tuples(st.booleans(), st.integers(0, 80)), max_size=400)


@given(start=st.sets(st.integers(0, 80), max_size=80), steps=steps)
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_adds_and_removes_keep_the_same_order_as_sorted(
        small_blocks: None, start: set[int], steps: list[tuple[bool, int]]) -> None:
    keys = SortedKeys(start)
    held = set(start)
    check(keys, sorted(held))
    for add, key in steps:
        if add and key not in held:
            keys.add(key)
            held.add(key)
        elif not add and key in held:
            keys.remove(key)
            held.discard(key)
        elif not add:
            with pytest.raises(ValueError):
                keys.remove(key)
            with pytest.raises(ValueError):
                keys.index(key)
            assert key not in keys
    check(keys, sorted(held))


def test_defaults_blocks_hold_a_hundred_thousand_keys_in_order() -> None:
    rng = random.Random(4)
    held = set(rng.sample(range(10**6), 100_000))
    keys = SortedKeys(held)
    for key in rng.sample(sorted(held), 3_000):
        keys.remove(key)
        held.discard(key)
    for key in rng.sample(range(10**6, 2 * 10**6), 3_000):
        keys.add(key)
        held.add(key)
    expected = sorted(held)
    assert keys.blocks_valid() and list(keys) == expected
    assert all(keys[n] == expected[n] for n in range(0, len(expected), 997))


# -- the table's own keys --------------------------------------------------------------

times = st.one_of(st.none(), st.floats(-1e10, 1e10, allow_nan=False),
                  st.sampled_from([0.0, -0.0, NOW, NOW + 1e-6]))


def row(conversion_id: int, **fields: Any) -> WatchedConversion:
    values: dict[str, Any] = {
        "id": conversion_id, "file_name": f"f{conversion_id}.csv", "data_source_type": "Csv",
        "status": "Processing", "upload_date": "2024-11-28T09:00:00Z", "warnings": (),
        "errors": (), "metadata": {}, "first_seen": NOW - 3600, "last_checked": NOW - 2,
        "last_changed": NOW - 600, "note": None, "last_problem": None, "problem_count": 0,
        "delete_requested_at": None, "deleted_at": None, "not_found": False, "raw": None,
        "entered_seen": True,
    }
    values.update(fields)
    return WatchedConversion(**values)


rows_strategy = st.builds(
    row,
    st.integers(1, 2**63 - 1),
    status=st.sampled_from(["Processing", "Failed", "Completed", "Queued", "odd", None]),
    last_checked=times,
    last_changed=times,
    first_seen=st.floats(0, 2e9),
    warnings=st.lists(st.just("w"), max_size=3).map(tuple),
    errors=st.lists(st.just("e"), max_size=3).map(tuple),
    note=st.sampled_from([None, "", "ticket 1", "Ticket 1", "b"]),
    file_name=st.sampled_from(["a.csv", "A.csv", "b.csv", "", None]),
    upload_date=st.sampled_from(["2024-11-28T09:00:00Z", "garbage", None,
                                 "2024-11-28T09:00:00.000001Z"]),
    not_found=st.booleans(),
)


def typed_value(column: str, entry: Any) -> tuple[Any, ...]:
    """The column's value as a plain tuple (what the int keys must order like)."""
    row = entry.row

    def text(value: str) -> tuple[Any, ...]:
        return (0, value.casefold()) if value else (1, "")

    def when(value: float | None, sign: float = 1.0) -> tuple[Any, ...]:
        return (1, 0.0) if value is None else (0, sign * value)

    return {
        "id": lambda: (0,),
        "file": lambda: text(entry.file),
        "type": lambda: text(entry.type),
        "status": lambda: (1, 0, "") if not entry.status_word else (0, 0, ""),
        "uploaded": lambda: when(entry.uploaded),
        "in_status": lambda: when(None if reckon_in_status(entry) is None
                                  else reckon_in_status(entry).since, -1.0),
        "checked": lambda: when(row.last_checked, -1.0),
        "warnings": lambda: (row.warning_count,),
        "errors": lambda: (row.error_count,),
        "note": lambda: text(entry.note),
        "problem": lambda: text(entry.problem),
        "attention": lambda: when(max(row.acknowledged_at or 0.0, row.snoozed_until or 0.0)
                                  or None, -1.0),
    }[column]()


@given(st.lists(rows_strategy, max_size=30, unique_by=lambda r: r.id),
       st.sampled_from([c for c in COLUMN_KEYS if c != "status"]))
@settings(max_examples=200)
def test_sort_keys_order_rows_as_their_typed_values_then_id(
        rows: list[WatchedConversion], column: str) -> None:
    entries = [make_entry(r) for r in rows]
    by_key = sorted(entries, key=lambda e: sort_key(column, e))
    by_value = sorted(entries, key=lambda e: (*typed_value(column, e), e.row.id))
    assert [e.row.id for e in by_key] == [e.row.id for e in by_value]
    assert all(key_reader(column)(sort_key(column, e)) == e.row.id for e in entries)


@given(st.lists(rows_strategy, min_size=1, max_size=40, unique_by=lambda r: r.id),
       st.lists(st.tuples(st.sampled_from(["upsert", "remove"]), st.integers(0, 39),
                          rows_strategy), max_size=30),
       st.sampled_from(COLUMN_KEYS), st.booleans(), st.sampled_from(["", "1", "csv", "ed"]))
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_upserts_and_removals_keep_the_order_of_a_fresh_sort(
        small_blocks: None, start: list[WatchedConversion],
        changes: list[tuple[str, int, WatchedConversion]], column: str, reverse: bool,
        text: str) -> None:
    table = TableRows()
    table.set_rows(start)
    table.sort_by(column, reverse)
    table.set_filter(text)
    ids = [r.id for r in start]
    for what, pick, fresh in changes:
        target = ids[pick % len(ids)]
        if what == "remove":
            table.remove([target])
        else:
            table.upsert([row(target, **{f: getattr(fresh, f) for f in (
                "status", "last_checked", "last_changed", "note", "warnings", "file_name",
                "not_found")})])
    shown = [e for e in table.entries.values() if text in e.haystack]
    expected = [e.row.id for e in sorted(shown, key=lambda e: sort_key(column, e),
                                         reverse=reverse)]
    assert list(table.shown_ids()) == expected
    assert [table.id_at(n) for n in range(len(expected))] == expected
    assert [table.index_of(i) for i in expected] == list(range(len(expected)))


@given(st.lists(rows_strategy, max_size=40, unique_by=lambda r: r.id),
       st.sampled_from([*COLUMN_KEYS, "ref", "profile", "meta:rowsRead"]), st.booleans())
@settings(max_examples=150)
def test_core_row_order_is_the_tables_order(
        rows: list[WatchedConversion], column: str, reverse: bool) -> None:
    """``list --view`` (core, from rows alone) orders rows exactly as the table does."""
    table = TableRows()
    table.set_rows(rows)
    table.sort_by(column, reverse)
    assert [r.id for r in sorted_rows(rows, column, reverse)] == list(table.shown_ids())


def test_emptied_blocks_at_either_end_merge_with_their_neighbour(small_blocks: None) -> None:
    for doomed in (range(0, 7), range(33, 40), range(12, 19)):
        keys = SortedKeys(range(40))
        for key in doomed:
            keys.remove(key)
        check(keys, [k for k in range(40) if k not in doomed])


def test_a_load_costs_no_int_a_row_yet_every_change_is_drawn_anew() -> None:
    # At 100,000 rows an int a row is 3-4 MB: the entries of one load share a version,
    # and sorted by ID a row's key is its own id object.
    table = TableRows()
    table.set_rows([row(7), row(3)])
    first = {i: entry.version for i, entry in table.entries.items()}
    assert first[7] == first[3]
    assert all(entry.key is entry.row.id for entry in table.entries.values())
    assert list(table.shown_ids()) == [3, 7] and table.id_at(1) == 7
    table.upsert([row(3, status="Failed")])
    changed = table.entries[3].version
    assert changed not in first.values()  # a change: drawn again
    table.set_rows([row(7), row(3)])  # a new load: every entry a version not seen before
    assert {entry.version for entry in table.entries.values()}.isdisjoint(
        {*first.values(), changed})
    table.sort_by("id", reverse=True)
    assert list(table.shown_ids()) == [7, 3] and table.index_of(3) == 1


def test_rows_with_the_same_status_facts_share_their_cells() -> None:
    # One object for type and status cells per set of facts, not five fields a row.
    same = [make_entry(row(i, status="Failed")) for i in (1, 2)]
    other = make_entry(row(3, status="Failed", data_source_type="Excel"))
    assert same[0].cells is same[1].cells and other.cells is not same[0].cells
    entry = same[0]
    assert (entry.type, entry.kind, entry.status_word, entry.checking) == (
        "Csv", StatusKind.FAILED, "Failed", False)
    assert entry.status_text.endswith(" Failed") and not entry.deleted
    gone = make_entry(row(4, status="Deleted", deleted_at=NOW))
    assert gone.deleted and gone.uploaded_raw == ""
    unreadable = make_entry(row(5, upload_date="someday"))
    assert unreadable.uploaded is None and unreadable.uploaded_raw == "someday"
