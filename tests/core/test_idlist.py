"""parse_id_list: each rule by example, and properties over any text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.idlist import MAX_ID, IdListResult, parse_id_list


def ids(text: str, **kwargs: int) -> list[int]:
    result = parse_id_list(text, **kwargs)
    return result.ids


@pytest.mark.parametrize(("text", "expected"), [
    ("42", [42]),
    ("  42\n", [42]),
    ("1 2 3", [1, 2, 3]),
    ("1,2;3", [1, 2, 3]),
    ("1, 2 ;\t3 | 4", [1, 2, 3, 4]),
    ("3 1 2", [3, 1, 2]),  # order given
    ("5 5 4 5", [5, 4]),  # unique, first seen first
    ("120-123", [120, 121, 122, 123]),
    ("120..123", [120, 121, 122, 123]),
    ("120–122", [120, 121, 122]),  # en dash from a word processor
    ("120 - 122", [120, 121, 122]),
    ("7-7", [7]),
    ("1-3 2-4", [1, 2, 3, 4]),
    ("0042", [42]),
    ("#7", [7]),
    ("id=9 ID:10 ids=11 conversion#12", [9, 10, 11, 12]),
    ("(4512), [4513]. '4514'!", [4512, 4513, 4514]),
    (str(MAX_ID), [MAX_ID]),
    ("", []),
    ("no numbers here at all", []),
])
def test_accepted_forms(text: str, expected: list[int]) -> None:
    result = parse_id_list(text)
    assert result.ids == expected
    assert result.invalid == []


def test_pasted_ticket_paragraph() -> None:
    ticket = (
        "Hi team,\n\nConversions #4512, 4513 and id=4520 failed overnight (see also 4530..4532).\n"
        "Customer re-ran 4513 this morning; ref INC0012345 — please check.\n"
        "Thanks!"
    )
    result = parse_id_list(ticket)
    assert result.ids == [4512, 4513, 4520, 4530, 4531, 4532]
    assert result.invalid == ["INC0012345 (not an ID)"]


@pytest.mark.parametrize(("text", "reason"), [
    ("0", "0 (IDs start at 1)"),
    ("-5", "-5 (negative numbers are not IDs)"),
    (str(MAX_ID + 1), f"{MAX_ID + 1} (too large: IDs fit in 64 bits)"),
    ("130-120", "130-120 (range runs backwards)"),
    ("130..120", "130..120 (range runs backwards)"),
    ("0-5", "0-5 (IDs start at 1)"),
    ("1-20001", "1-20001 (range of 20,001 IDs is over the limit of 10,000)"),
    ("abc123", "abc123 (not an ID)"),
    ("12abc", "12abc (not an ID)"),
    ("1.5", "1.5 (not an ID)"),
    ("2024-01-05", "2024-01-05 (not an ID)"),
    ("10:30", "10:30 (not an ID)"),
])
def test_each_invalid_piece_is_named_with_why(text: str, reason: str) -> None:
    result = parse_id_list(f"7 {text} 8")
    assert result.ids == [7, 8]
    assert result.invalid == [reason]


def test_max_range_is_configurable() -> None:
    assert len(ids("1-10000")) == 10_000
    assert ids("1-11", max_range=10) == []
    assert parse_id_list("1-11", max_range=10).invalid == [
        "1-11 (range of 11 IDs is over the limit of 10)"]


def test_huge_digit_strings_are_refused_quickly() -> None:
    result = parse_id_list("9" * 50_000 + " 3")
    assert result.ids == [3]
    assert len(result.invalid) == 1 and "too large" in result.invalid[0]
    assert len(result.invalid[0]) < 80  # the shown token is cut


def test_invalid_tokens_are_shown_safely() -> None:
    result = parse_id_list("\x1b[31m12\x1b[0m")
    assert result.ids == []
    assert len(result.invalid) == 1
    assert "\x1b" not in result.invalid[0]


def test_result_type() -> None:
    assert isinstance(parse_id_list("1"), IdListResult)


@settings(max_examples=300)
@given(st.text())
def test_any_text_gives_valid_unique_ids(text: str) -> None:
    result = parse_id_list(text, max_range=50)
    assert len(result.ids) == len(set(result.ids))
    assert all(isinstance(i, int) and 1 <= i <= MAX_ID for i in result.ids)
    assert all(isinstance(item, str) and item for item in result.invalid)


_piece = st.one_of(
    st.integers(-5, 2**64).map(str),
    st.tuples(st.integers(0, 300), st.integers(0, 300)).map(lambda t: f"{t[0]}-{t[1]}"),
    st.sampled_from(["#", "id=", "and", "failed", ",", ";", "..", "-", "x1", "(", ")"]),
)


@settings(max_examples=300)
@given(st.lists(_piece, max_size=20), st.sampled_from([" ", ", ", ";", "\n"]))
def test_id_like_text_gives_valid_unique_ids(pieces: list[str], glue: str) -> None:
    result = parse_id_list(glue.join(pieces), max_range=100)
    assert len(result.ids) == len(set(result.ids))
    assert all(1 <= i <= MAX_ID for i in result.ids)


@given(st.lists(st.integers(1, MAX_ID), max_size=30))
def test_plain_lists_come_back_exactly(values: list[int]) -> None:
    result = parse_id_list(" ".join(map(str, values)))
    assert result.ids == list(dict.fromkeys(values))
    assert result.invalid == []
