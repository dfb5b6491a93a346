"""Failures grouped by cause (issue 14): masking and the live index of groups."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tui.core.problems import (
    ProblemIndex,
    ProblemKey,
    ProblemKind,
    error_kind,
    group_problems,
    mask_message,
    problem_keys,
)
from tui.core.watchlist import WatchedConversion

NOW = 1_800_000_000.0
ERROR, WARNING = ProblemKind.ERROR, ProblemKind.WARNING


def row(conversion_id: int, status: str = "Failed", **fields: Any) -> WatchedConversion:
    values: dict[str, Any] = {
        "id": conversion_id, "file_name": f"f{conversion_id}.csv", "data_source_type": "Csv",
        "status": status, "upload_date": None, "warnings": (), "errors": (), "metadata": {},
        "first_seen": NOW, "last_checked": NOW, "last_changed": NOW, "note": None,
        "last_problem": None, "problem_count": 0, "delete_requested_at": None,
        "deleted_at": None, "not_found": False, "raw": None,
    }
    values.update(fields)
    return WatchedConversion(**values)


# ------------------------------------------------------------------ masking
def test_numbers_quoted_values_and_bytes_are_masked() -> None:
    assert mask_message("Row 12: date '03/04' is ambiguous") == "Row N: date '…' is ambiguous"
    assert mask_message("File is not valid UTF-8 (byte 0xc3 at 1,024)") == (
        "File is not valid UTF-8 (byte N at N)")
    assert mask_message('Column "Amount" is empty on 2026-12-06 12:30') == (
        "Column '…' is empty on N N")


def test_numbers_inside_words_stay() -> None:
    # "UTF-8" and "ISO8601" name things; masking them would make "UTF-N" nonsense.
    assert mask_message("not ISO8601, not UTF-8, v2, row_2") == "not ISO8601, not UTF-8, v2, row_2"


def test_server_text_stays_literal() -> None:
    message = "[bold red]boom[/] \x1b[Km <b>x</b> \u202e"
    assert mask_message(message) == message  # markup and escapes are the UI's to neutralise


def test_error_kind_ignores_case() -> None:
    assert error_kind("Row 1: EMPTY") == error_kind("row 2: empty")


_TEMPLATES = ["Row {n}: date {q} is ambiguous", "File is not valid UTF-8 (byte {n})",
              "{q} expected {n} columns, got {n}", "Timeout after {n} s on {q}"]
_numbers = st.integers(min_value=0, max_value=10**12).map(str) | st.floats(
    min_value=0, max_value=1e6, allow_nan=False).map(lambda f: f"{f:.2f}")
_quoted = st.text(st.characters(blacklist_characters="'\"‘’“”", blacklist_categories=("Cs",)),
                  max_size=20).map(lambda t: f"'{t}'")


@given(st.sampled_from(_TEMPLATES), _numbers, _numbers, _quoted, _quoted)
def test_messages_differing_only_in_variable_parts_mask_alike(
        template: str, n1: str, n2: str, q1: str, q2: str) -> None:
    assert mask_message(template.format(n=n1, q=q1)) == mask_message(
        template.format(n=n2, q=q2))


@given(st.text())
def test_masking_never_raises(message: str) -> None:
    masked = mask_message(message)
    assert isinstance(masked, str)
    assert mask_message(masked) == masked  # masking twice changes nothing


_plain = st.text(st.characters(blacklist_characters="0123456789'\"‘’“”",
                               blacklist_categories=("Nd", "Cs")))


@given(_plain)
def test_text_without_variable_parts_is_kept(message: str) -> None:
    assert mask_message(message) == " ".join(message.split())


# ------------------------------------------------------------------ grouping
def test_groups_by_kind_and_masked_text_largest_first() -> None:
    rows = [row(i, errors=(f"Row {i}: date '0{i}/04' is ambiguous",)) for i in range(1, 4)]
    rows += [row(10, errors=("File is not valid UTF-8 (byte 7)",),
                 warnings=("Row 3: date '1' is ambiguous",))]
    groups = group_problems(rows)
    assert [(g.key.kind, g.key.text, g.count) for g in groups] == [
        (ERROR, "Row N: date '…' is ambiguous", 3),
        (ERROR, "File is not valid UTF-8 (byte N)", 1),
        (WARNING, "Row N: date '…' is ambiguous", 1),
    ]
    assert groups[0].line() == "3 × Row N: date '…' is ambiguous"


def test_a_row_with_several_messages_is_in_several_groups_once_each() -> None:
    keys = problem_keys(row(1, errors=("a 1", "a 2", "b"), warnings=("a 3",)))
    assert keys == {ProblemKey(ERROR, "a N"), ProblemKey(ERROR, "b"),
                    ProblemKey(WARNING, "a N")}
    assert [g.count for g in group_problems([row(1, errors=("a 1", "a 2"))])] == [1]


def test_deleted_and_not_found_rows_are_not_problems() -> None:
    rows = [row(1, errors=("x",), deleted_at=NOW), row(2, "Deleted", errors=("x",)),
            row(3, errors=("x",), not_found=True), row(4, "Completed")]
    assert group_problems(rows) == []


def test_the_index_follows_changed_and_removed_rows() -> None:
    index = ProblemIndex()
    index.set_rows([row(1, errors=("bad 1",)), row(2, errors=("bad 2",))])
    key = ProblemKey(ERROR, "bad N")
    assert index.ids_of(key) == {1, 2} and len(index) == 1
    generation = index.generation
    index.update([row(1, errors=("bad 1",))])  # nothing new: no redraw needed
    assert index.generation == generation
    index.update([row(1, "Processing")])  # re-checked, its failure gone
    assert index.ids_of(key) == {2} and index.generation > generation
    index.update([dataclasses.replace(row(2, errors=("bad 2",)), deleted_at=NOW)])
    assert len(index) == 0 and index.groups() == []
    index.update([row(3, warnings=("w",))])
    index.remove([3, 99])
    assert len(index) == 0


def test_keys_of_uses_the_index_or_works_them_out() -> None:
    index = ProblemIndex()
    indexed = row(1, errors=("bad 1",))
    index.update([indexed])
    assert index.keys_of(indexed) == {ProblemKey(ERROR, "bad N")}
    assert index.keys_of(row(1, warnings=("new 5",))) == {ProblemKey(WARNING, "new N")}
