"""The filter language (``tui.core.filters``): each field, negation, OR and AND, quotes,
and that any text gives a filter or one FilterError, never another exception."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tui.core.filters import FilterError, RowFilter, parse_filter, row_text
from tui.core.watchlist import WatchedConversion

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC).timestamp()


def row(conversion_id: int = 1, **fields: Any) -> WatchedConversion:
    values: dict[str, Any] = {
        "id": conversion_id, "file_name": "data.csv", "data_source_type": "Csv",
        "status": "Processing", "upload_date": "2026-12-06T11:50:00Z", "warnings": (),
        "errors": (), "metadata": {}, "first_seen": NOW - 300, "last_checked": NOW - 5,
        "last_changed": NOW - 300, "note": None, "last_problem": None, "problem_count": 0,
        "delete_requested_at": None, "deleted_at": None, "not_found": False, "raw": None,
    }
    values.update(fields)
    return WatchedConversion(**values)


ROWS = [
    row(1, status="Failed", errors=("File is not valid UTF-8 (byte 0x9f)",),
        file_name="payroll_march.csv", note="INC-4412 rerun"),
    row(2, status="processing", data_source_type="Json", file_name="orders.json",
        upload_date="2026-12-06T10:00:00Z", warnings=("Row 3: date '1/2' is ambiguous",)),
    row(3, status="Completed", data_source_type="Excel", file_name="Payroll.XLSX"),
    row(4, status="Deleted", not_found=True),  # purged since
    row(5, status="Processing", not_found=True),  # 404 now: "not found"
    row(6, status=None, last_checked=None),  # never answered: checking
    row(7, status="Frobnicating"),  # a word the app does not know
    row(8, status="DeletionPending", upload_date=None, first_seen=NOW - 7200),
    row(48250, status="Queued", note="inc-4412"),
]


def ids(text: str) -> list[int]:
    compiled = parse_filter(text, clock=lambda: NOW)
    return [r.id for r in ROWS if compiled.matches(r)]


@pytest.mark.parametrize(("text", "expected"), [
    ("", [1, 2, 3, 4, 5, 6, 7, 8, 48250]),
    ("status:failed", [1]),
    ("status:FAILED,Processing", [1, 2]),  # any case; comma = or; a 404 row is not found
    ("status:deleted", [4]),
    ("status:notfound", [5]),
    ("status:checking", [6]),
    ("status:unknown", [7]),
    ("status:deleting", [8]),
    ("-status:deleted", [1, 2, 3, 5, 6, 7, 8, 48250]),
    ("type:csv", [1, 4, 5, 6, 7, 8, 48250]),
    ("type:j*", [2]),
    ("type:ex*,json", [2, 3]),
    ("file:payroll*", [1, 3]),  # a pattern over the whole name, any case
    ("file:march", [1]),  # no *: a part of the name
    ("note:INC-4412", [1, 48250]),
    ("id:48200-48300", [48250]),
    ("id:>7", [8, 48250]),
    ("id:<=2,5", [1, 2, 5]),
    ("id:3", [3]),
    ("warn:>0", [2]),
    ("err:>0", [1]),
    ("err:0 warn:0", [3, 4, 5, 6, 7, 8, 48250]),
    ("age:>30m", [2, 8]),  # upload 2 h ago; 8 has no upload date: first seen 2 h ago
    ("age:<30m", [1, 3, 4, 5, 6, 7, 48250]),
    ("age:1h-3h", [2, 8]),
    ('msg:"not valid utf-8"', [1]),
    ("msg:AMBIGUOUS", [2]),
    ("payroll", [1, 3]),  # free text: as the / box always did
    ("payroll -xlsx", [1]),
    ('"payroll_march"', [1]),
    ("payroll status:completed", [3]),
    ("482", [48250]),
    ("10:30", []),  # not a field name before the colon: plain text
    ('"inc-4412 rerun"', [1]),
])
def test_each_term(text: str, expected: list[int]) -> None:
    assert ids(text) == expected


def test_the_example_of_the_issue_parses_and_ands_every_term() -> None:
    text = ("status:failed,processing type:csv note:INC-4412 id:48200-48300 age:>30m "
            "warn:>0 err:>0 file:payroll* -status:deleted")
    compiled = parse_filter(text)
    assert compiled.fields == {"status", "type", "note", "id", "age", "warn", "err", "file"}
    assert ids(text) == []
    match = row(48201, status="Failed", note="INC-4412", upload_date="2026-12-06T09:00:00Z",
                warnings=("w",), errors=("e",), file_name="payroll-1.csv")
    assert parse_filter(text, clock=lambda: NOW).matches(match)


def test_msg_is_literal_text_not_a_pattern() -> None:
    weird = row(1, errors=("value a*b OR (c) [x] \"q\" NEAR/3 ^$.",))
    for needle in ('a*b', '(c) [x]', '\\"q\\" NEAR/3', '^$.'):
        assert parse_filter(f'msg:"{needle}"').matches(weird), needle
    assert not parse_filter('msg:"a.b"').matches(weird)


def test_quotes_keep_commas_and_spaces_in_one_value() -> None:
    one = row(1, warnings=("a, b",))
    assert parse_filter('msg:"a, b"').matches(one)
    assert parse_filter('msg:"zzz","a, b"').matches(one)
    assert not parse_filter('msg:"a,  b"').matches(one)


def test_field_names_are_any_case_and_have_long_forms() -> None:
    assert ids("STATUS:failed") == ids("status:failed") == [1]
    assert ids("errors:>0") == ids("err:>0")
    assert ids("warnings:>0") == ids("warn:>0")


def test_free_text_searches_id_file_type_status_and_note() -> None:
    assert row_text(ROWS[0]) == "1\npayroll_march.csv\ncsv\nfailed\ninc-4412 rerun"
    assert ids("found not") == [5]  # two words: each must be there, in any order
    assert ids('"found not"') == []  # in quotes: as one text


def test_an_empty_filter_lets_everything_through() -> None:
    compiled = parse_filter("   ")
    assert isinstance(compiled, RowFilter) and compiled.is_empty


def test_age_reads_the_clock_at_each_test() -> None:
    now = [NOW]
    compiled = parse_filter("age:>1h", clock=lambda: now[0])
    young = row(1, upload_date="2026-12-06T11:30:00Z")
    assert not compiled.matches(young)
    now[0] += 3600
    assert compiled.matches(young)


@pytest.mark.parametrize(("text", "span", "says"), [
    ("status:fialed", (0, 13), "'fialed' is not a status; use failed"),
    ("payroll foo:bar", (8, 15), "There is no field 'foo'"),
    ('msg:"never closed', (0, 17), "never closed"),
    ("type:csv -", (9, 10), "A - must come right before"),
    ("age:30m", (0, 7), "Say more or less than 30m"),
    ("age:>soon", (0, 9), "'soon' is not a duration"),
    ("id:48300-48200", (0, 14), "runs backwards; write 48200-48300"),
    ("id:abc", (0, 6), "'abc' is not a whole number"),
    ("id:" + "9" * 40, (0, 43), "too long"),
    ("warn:>x", (0, 7), "not a whole number"),
    ("status:", (0, 7), "Give a value after status:"),
    ("status:failed,", (0, 14), "'' is not a status"),
    ("file:a,,b", (0, 9), "Give a text after the colon"),
    ('msg:""', (0, 6), "Give a text after the colon"),
    ("id:>", (0, 4), "Give a value after the colon"),
])
def test_a_bad_term_names_its_span_with_one_sentence(text: str, span: tuple[int, int],
                                                     says: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    error = caught.value
    assert error.span == span
    assert says in error.message
    assert error.message.count(". ") == 0 and error.message.endswith(".")  # one sentence
    assert error.located(text).startswith(repr(text[span[0]:span[1]]))


_FILTERISH = st.text(alphabet=st.sampled_from(
    [*list('statuypefilnodgewrm:,-"\\*<>=0123456789 hs.'), "\x1b", "é", "\u202e", "\t"]),
    max_size=40)


@given(st.one_of(st.text(max_size=60), _FILTERISH))
@example('msg:"a\\')
@example('"\\')
@example("id:9999999999999999999")
@example("age:>99999999999999999d")
@example("age:1e308s-2e308s")
@example("-\"")
def test_any_text_gives_a_filter_or_one_filter_error(text: str) -> None:
    try:
        compiled = parse_filter(text, clock=lambda: NOW)
    except FilterError as error:
        assert error.message and 0 <= error.start <= error.end <= len(text)
        return
    for one in ROWS:  # and the filter tests any row without raising
        assert compiled.matches(one) in (True, False)


@given(st.lists(st.sampled_from(["pay", "csv", "1", "48", "fail", "found", "inc", "-x",
                                 "ROLL", "é", "processing", "was"]), max_size=3))
def test_free_words_by_field_answer_as_the_joined_text_does(words: list[str]) -> None:
    compiled = parse_filter(" ".join(words))
    for one in ROWS:
        assert compiled.matches(one) == (compiled.text_test is None
                                         or compiled.text_test(row_text(one)))


@pytest.mark.parametrize(("pattern", "name", "expected"), [
    ("pay*", "Payroll.csv", True), ("pay*", "my-payroll.csv", False),
    ("*.CSV", "payroll.csv", True), ("*.csv", "payroll.csv.bak", False),
    ("*roll*", "PAYROLL.csv", True), ("*roll*", "payrol.csv", False),
    ("p*l*.csv", "payroll.csv", True), ("p*l*.csv", "payroll.json", False),
    ("a*a", "a", False), ("a*a", "aa", True), ("*", "", False), ("*", "x", True),
    ("**", "x", True), ("x*y*z", "xyz", True), ("x*y*z", "xzy", False),
])
def test_file_patterns(pattern: str, name: str, expected: bool) -> None:
    assert parse_filter(f"file:{pattern}").matches(row(file_name=name)) is expected
