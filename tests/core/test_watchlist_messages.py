"""Every error and warning stored (bounded) and searched with FTS5 (issue 14): schema 5's
migration and back-fill, FTS syntax taken literally, the same answers as the in-memory
test, rows' messages kept in step by polls, and the fallback without FTS5."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.core.test_watchlist import answer
from tui.core.filters import FilterError, parse_filter
from tui.core.filters.messages import message_test
from tui.core.watchlist import Watchlist
from tui.core.watchlist import messages as stored
from tui.core.watchlist.schema import SCHEMA_VERSION


@pytest.fixture
def watchlist(tmp_path: Path) -> Watchlist:
    opened = Watchlist(tmp_path / "w.sqlite3")
    yield opened  # type: ignore[misc]
    opened.close()


def failed(watchlist: Watchlist, conversion_id: int, at: float = 1.0, **messages: Any) -> None:
    """Record one Failed answer for ``conversion_id`` with ``errors=``/``warnings=``."""
    watchlist.record_results([answer(conversion_id, "Failed", at, **messages)])


def msg(watchlist: Watchlist, text: str) -> list[int]:
    """The watched IDs the filter ``text`` keeps, asking the index."""
    return [row.id for row in parse_filter(text, messages=watchlist).select(watchlist.all())]


def in_memory(watchlist: Watchlist, text: str) -> list[int]:
    return [row.id for row in parse_filter(text).select(watchlist.all())]


def stored_texts(path: Path, conversion_id: int, kind: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [text for (text,) in conn.execute(
            "SELECT t.text FROM messages AS m JOIN message_texts AS t ON t.id = m.text_id "
            "WHERE m.conversion_id = ? AND m.kind = ? ORDER BY m.position",
            (conversion_id, kind))]


# -- a schema 4 file -------------------------------------------------------------------


def make_schema_4(path: Path, rows: dict[int, tuple[list[str], list[str]]]) -> None:
    """A schema 4 file (no message tables, no totals) with ``rows``: (errors, warnings)."""
    Watchlist(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TABLE message_index")
    conn.execute("DROP TABLE messages")
    conn.execute("DROP TABLE message_texts")
    conn.execute("DROP TABLE problems")  # schema 6's
    conn.execute("DROP TABLE masked_texts")
    for table in ("watched", "unwatched"):
        for column in ("errors_total", "warnings_total"):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.executemany(
        "INSERT INTO watched (id, status, errors, warnings, first_seen) "
        "VALUES (?, 'Failed', ?, ?, 1.0)",
        [(value, json.dumps(errors), json.dumps(warnings))
         for value, (errors, warnings) in rows.items()])
    conn.execute("PRAGMA user_version = 4")
    conn.close()


def test_a_schema_4_file_gets_its_messages_back_filled_and_old_rows_are_found(
        tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    many = [f"Row {n}: date is ambiguous" for n in range(250)]
    make_schema_4(path, {
        1: (["File is not valid UTF-8 (byte 0x9f)"], []),
        2: ([], ["Column 'amount' is empty"]),
        3: (many, []),
        4: ([], []),
        5: (["a NUL \x00 then more"], ["a NUL \x00 then more"]),  # json_each stops at NUL
    })
    with Watchlist(path) as watchlist:
        assert watchlist.message_index
        assert msg(watchlist, 'msg:"not valid utf-8"') == [1]
        assert msg(watchlist, "msg:AMOUNT") == [2]
        assert msg(watchlist, 'msg:"row 199:"') == [3]
        assert msg(watchlist, 'msg:"row 200:"') == []  # past the first 200: not kept
        assert msg(watchlist, 'msg:"then more"') == [5]
        long_row = watchlist.get(3)
        assert long_row is not None
        assert (len(long_row.errors), long_row.error_count) == (200, 250)
        assert long_row.errors == tuple(many[:200])
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (6,)
    assert stored_texts(path, 3, "error") == many[:200]
    assert stored_texts(path, 5, "warning") == ["a NUL \x00 then more"]
    with sqlite3.connect(path) as conn:  # nothing cut short at the NUL is left behind
        assert conn.execute("SELECT count(*) FROM message_texts WHERE text = 'a NUL '"
                            ).fetchone() == (0,)


def test_opening_a_schema_5_file_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    with Watchlist(path) as watchlist:
        watchlist.add([1])
        failed(watchlist, 1, errors=["bad byte"])
    with sqlite3.connect(path) as conn:
        before = conn.execute("PRAGMA data_version").fetchone()
        with Watchlist(path) as again:
            assert msg(again, "msg:byte") == [1]
        assert conn.execute("PRAGMA data_version").fetchone() == before


# -- FTS syntax is text ----------------------------------------------------------------

SPECIAL = [
    'say "hi" to the parser',
    "a*b OR c",
    "NEAR(amount total, 2)",
    "col:value ^start",
    "(left AND right) NOT middle",
    "x - y + z",
    "{braces} [brackets]",
    "trailing quote\"",
]


@pytest.mark.parametrize("needle", [
    '"hi"', "a*b or c", "near(amount", "col:value ^", "(left and right) not", "- y +",
    "{braces} [", 'quote"', "OR", "AND", "NOT", "*", '"',
])
def test_fts_special_characters_in_a_search_are_taken_literally(
        watchlist: Watchlist, needle: str) -> None:
    ids = list(range(1, len(SPECIAL) + 1))
    watchlist.add(ids)
    for value, text in zip(ids, SPECIAL, strict=True):
        failed(watchlist, value, errors=[text])
    wanted = [value for value, text in zip(ids, SPECIAL, strict=True)
              if needle.casefold() in text.casefold()]
    quoted = '"' + needle.replace("\\", "\\\\").replace('"', '\\"') + '"'
    assert msg(watchlist, f"msg:{quoted}") == wanted
    assert in_memory(watchlist, f"msg:{quoted}") == wanted


def test_the_fts_query_quotes_each_needle_as_one_phrase() -> None:
    assert stored.fts_phrases(['a "b" OR c', "near(x"]) == '"a ""b"" OR c" OR "near(x"'


# Messages and needles from a small alphabet, so needles are often found; with FTS5's
# operators and quotes, case pairs, and letters whose case folding is longer than they are.
_ALPHABET = st.sampled_from(list('ab AB*"():^-+NEARORNOTANDß SSﬁ İi\u00e9E\u0301,\x00\uffff'))
_MESSAGE = st.text(_ALPHABET, max_size=16)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(st.lists(_MESSAGE, max_size=3), st.lists(_MESSAGE, max_size=3)),
                     min_size=1, max_size=6),
       needles=st.lists(st.text(_ALPHABET, min_size=1, max_size=5), min_size=1, max_size=2))
@example(rows=[(["Straße"], [])], needles=["ASS"])
@example(rows=[(["ﬁle"], [])], needles=["FIL"])
@example(rows=[(['a "b" OR c'], [])], needles=['"b" or'])
@example(rows=[(["ab\x00 NOT"], [])], needles=[" not"])  # FTS5 stops reading at a NUL
@example(rows=[(["ab\x00 NOT"], [])], needles=["b\uffff "])
def test_the_index_answers_as_the_in_memory_test_does(
        tmp_path_factory: pytest.TempPathFactory,
        rows: list[tuple[list[str], list[str]]], needles: list[str]) -> None:
    path = tmp_path_factory.mktemp("fts") / "w.sqlite3"
    with Watchlist(path) as watchlist:
        ids = list(range(1, len(rows) + 1))
        watchlist.add(ids)
        watchlist.record_results([answer(value, "Failed", 1.0, errors=errors, warnings=warnings)
                                  for value, (errors, warnings) in zip(ids, rows, strict=True)])
        held = watchlist.all()
        by_index = message_test(needles, watchlist)
        by_memory = message_test(needles)
        assert [row.id for row in held if by_index(row)] == [
            row.id for row in held if by_memory(row)]
        matches = watchlist.message_matches(needles)
        if all(len(needle.casefold()) >= stored.SHORTEST_NEEDLE
               and stored.NOT_INDEXED.isdisjoint(needle)
               for needle in needles):  # else in memory: no trigram, or NUL ends C text
            assert matches is not None  # the index answered, not the fallback


def test_a_search_that_finds_many_messages_answers_by_text(
        watchlist: Watchlist, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stored, "ID_ANSWER_LIMIT", 2)
    watchlist.add([1, 2, 3, 4])
    for value in (1, 2, 3):  # one text, three rows: too many rows to list
        failed(watchlist, value, errors=["date is ambiguous"])
    failed(watchlist, 4, errors=["fine"])
    matches = watchlist.message_matches(["ambiguous"])
    assert matches is not None and matches.ids is None  # answered by the text found
    assert msg(watchlist, "msg:ambiguous") == [1, 2, 3]


def test_a_search_that_finds_very_many_texts_tests_the_rows_in_memory(
        watchlist: Watchlist, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stored, "ID_ANSWER_LIMIT", 2)
    watchlist.add([1, 2, 3, 4])
    for value in (1, 2, 3):  # three distinct texts match
        failed(watchlist, value, errors=[f"row {value} is ambiguous"])
    failed(watchlist, 4, errors=["fine"])
    assert watchlist.message_matches(["ambiguous"]) is None
    assert msg(watchlist, "msg:ambiguous") == [1, 2, 3]
    assert watchlist.message_matches(["row 2"]) is not None  # one text: the index answers


# -- bounded storage -------------------------------------------------------------------


def test_250_errors_keep_the_first_200_and_the_total(watchlist: Watchlist) -> None:
    errors = [f"error number {n}" for n in range(250)]
    warnings = [f"warning number {n}" for n in range(201)]
    watchlist.add([7])
    failed(watchlist, 7, errors=errors, warnings=warnings)
    row = watchlist.get(7)
    assert row is not None
    assert row.errors == tuple(errors[:200]) and row.error_count == 250
    assert row.warnings == tuple(warnings[:200]) and row.warning_count == 201
    assert stored_texts(watchlist.path, 7, "error") == errors[:200]
    assert stored_texts(watchlist.path, 7, "warning") == warnings[:200]
    assert msg(watchlist, 'msg:"error number 199"') == [7]
    assert msg(watchlist, 'msg:"error number 249"') == []
    # err: counts what the server sent, not what is kept.
    assert [row.id for row in parse_filter("err:250 warn:>200").select(watchlist.all())] == [7]


# -- kept in step ----------------------------------------------------------------------


def test_record_results_rewrites_a_rows_messages_only_when_they_change(
        watchlist: Watchlist) -> None:
    watchlist.add([1, 2])
    failed(watchlist, 1, errors=["File is not valid UTF-8"], warnings=["old warning"])
    failed(watchlist, 2, errors=["File is not valid UTF-8"])
    assert msg(watchlist, "msg:utf-8") == [1, 2]

    statements: list[str] = []
    watchlist._conn.set_trace_callback(statements.append)
    failed(watchlist, 1, at=2.0, errors=["File is not valid UTF-8"], warnings=["old warning"])
    assert not [s for s in statements if "messages" in s], statements  # nothing changed

    failed(watchlist, 1, at=3.0, errors=["Row 3: date is ambiguous"])
    assert msg(watchlist, "msg:utf-8") == [2]
    assert msg(watchlist, "msg:ambiguous") == [1]
    assert msg(watchlist, 'msg:"old warning"') == []
    assert stored_texts(watchlist.path, 1, "warning") == []
    with sqlite3.connect(watchlist.path) as conn:  # the text no row uses went
        assert conn.execute("SELECT count(*) FROM message_texts WHERE text = 'old warning'"
                            ).fetchone() == (0,)


def test_a_filter_searched_before_a_rows_messages_change_answers_for_the_new_ones(
        watchlist: Watchlist) -> None:
    watchlist.add([1, 2])
    failed(watchlist, 1, errors=["quota exceeded"])
    failed(watchlist, 2, errors=["bad header"])
    rows_filter = parse_filter("msg:quota", messages=watchlist)
    assert [row.id for row in rows_filter.select(watchlist.all())] == [1]  # searched now
    failed(watchlist, 2, at=2.0, errors=["quota exceeded"])  # the table keeps the filter
    failed(watchlist, 1, at=2.0, errors=["fixed"])
    assert [row.id for row in rows_filter.select(watchlist.all())] == [2]


def test_unwatched_rows_keep_their_messages_until_they_go_for_good(
        watchlist: Watchlist) -> None:
    watchlist.add([1, 2])
    failed(watchlist, 1, errors=["shared cause"])
    failed(watchlist, 2, errors=["shared cause", "only mine"])
    watchlist.remove([2], at=10.0)
    assert msg(watchlist, "msg:mine") == []  # not watched: not listed
    watchlist.add([2])
    assert msg(watchlist, "msg:mine") == [2]  # back, with its messages
    watchlist.remove([2], at=10.0)
    watchlist.remove([], at=10.0 + 91 * 86400)  # kept aside too long: gone for good
    assert stored_texts(watchlist.path, 2, "error") == []
    with sqlite3.connect(watchlist.path) as conn:
        assert [t for (t,) in conn.execute("SELECT text FROM message_texts")] == [
            "shared cause"]
    assert msg(watchlist, "msg:cause") == [1]


def test_short_needles_are_searched_in_memory(watchlist: Watchlist) -> None:
    watchlist.add([1, 2])
    failed(watchlist, 1, errors=["Row 9: x"])
    failed(watchlist, 2, errors=["Row 10"])
    assert watchlist.message_matches([": "]) is None  # under three characters: no trigram
    assert msg(watchlist, 'msg:": "') == [1]


# -- without FTS5 ----------------------------------------------------------------------


def test_without_fts5_msg_searches_in_memory_says_so_once_and_indexes_later(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "w.sqlite3"
    monkeypatch.setattr(stored, "_INDEX_TABLE", stored._INDEX_TABLE.replace(
        "trigram", "no_such_tokenizer"))
    monkeypatch.setattr(stored, "_said_unavailable", False)
    with caplog.at_level(logging.WARNING, logger=stored.__name__):
        with Watchlist(path) as watchlist:
            assert not watchlist.message_index
            watchlist.add([1, 2])
            failed(watchlist, 1, errors=["File is not valid UTF-8"])
            assert watchlist.message_matches(["utf-8"]) is None
            assert msg(watchlist, 'msg:"not valid"') == [1]
        Watchlist(path).close()
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 1 and "msg: searches the messages in memory" in said[0], said

    monkeypatch.undo()  # this SQLite has it after all: the next open builds the index
    with Watchlist(path) as watchlist:
        assert watchlist.message_index
        matches = watchlist.message_matches(["utf-8"])
        assert matches is not None and matches.ids == frozenset({1})


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=40))
@example(text='msg:"\x00abc"')
@example(text='msg:"a""b" msg:NEAR(x,y)')
@example(text="msg:\\")
def test_any_msg_text_gives_rows_or_one_sentence_never_an_exception(
        watchlist: Watchlist, text: str) -> None:
    if not len(watchlist):
        watchlist.add([1, 2])
        failed(watchlist, 1, errors=['Column "a" NEAR(x, y) * OR ^z:'])
        failed(watchlist, 2, warnings=["nul \x00 inside"])
    try:
        rows_filter = parse_filter("msg:" + text, messages=watchlist)
    except FilterError as error:
        assert error.message
        return
    assert [row.id for row in rows_filter.select(watchlist.all())] == [
        row.id for row in parse_filter("msg:" + text).select(watchlist.all())]
