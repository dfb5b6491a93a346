"""The groups the watchlist file keeps (schema 6, issue 14): each text masked once when
stored, the Problems view seeded from one query, and the same groups as masking every row
in memory, after any polls, unwatching, deleting, and a migration of an older file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.test_watchlist import answer
from tests.core.test_watchlist_messages import make_schema_4
from tui.core.problems import ProblemIndex, ProblemKey, ProblemKind, group_problems
from tui.core.watchlist import PollResult, Watchlist
from tui.core.watchlist.schema import SCHEMA_VERSION

# Messages that often mask alike: digits, quotes, spaces, a word or two.
_MESSAGE = st.text(st.sampled_from(list("ab 12'\"x\t-0")), max_size=10)
_MESSAGES = st.lists(_MESSAGE, max_size=3)
IDS = range(1, 7)

# One step of what happens to the watched rows: a poll answer with messages, a 404, a
# deletion seen, unwatching, watching again.
_STEP = st.one_of(
    st.tuples(st.just("answer"), st.sampled_from(IDS),
              st.sampled_from(["Failed", "Completed", "Processing"]), _MESSAGES, _MESSAGES),
    st.tuples(st.just("not found"), st.sampled_from(IDS)),
    st.tuples(st.just("deleted"), st.sampled_from(IDS)),
    st.tuples(st.just("unwatch"), st.sampled_from(IDS)),
    st.tuples(st.just("watch"), st.sampled_from(IDS)),
)


def apply(watchlist: Watchlist, step: tuple[object, ...], at: float) -> None:
    """Do one step to the file, as the app does."""
    what, conversion_id = step[0], step[1]
    assert isinstance(conversion_id, int)
    if what == "answer":
        _, _, status, errors, warnings = step
        watchlist.record_results([answer(conversion_id, str(status), at, errors=errors,
                                         warnings=warnings)])
    elif what == "not found":
        watchlist.record_results([PollResult(conversion_id, at, not_found=True)])
    elif what == "deleted":
        watchlist.record_results([answer(conversion_id, "Deleted", at, errors=["gone 1"])])
    elif what == "unwatch":
        watchlist.remove([conversion_id], at=at)
    else:
        watchlist.add([conversion_id], at=at)


def memberships(index: ProblemIndex) -> dict[ProblemKey, frozenset[int]]:
    return {group.key: index.ids_of(group.key) for group in index.groups()}


def assert_same_as_masking_every_row(index: ProblemIndex, watchlist: Watchlist) -> None:
    rows = watchlist.all()
    expected = ProblemIndex()
    expected.set_rows(rows)
    assert index.groups() == expected.groups() == group_problems(rows)
    assert memberships(index) == memberships(expected)
    for group in expected.groups():
        assert [row.id for row in rows if index.has(group.key, row)] == sorted(
            expected.ids_of(group.key))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(before=st.lists(_STEP, max_size=12), after=st.lists(_STEP, max_size=8))
def test_the_seeded_index_is_the_one_built_by_masking_every_row(
        tmp_path_factory: pytest.TempPathFactory, before: list[tuple[object, ...]],
        after: list[tuple[object, ...]]) -> None:
    path = tmp_path_factory.mktemp("groups") / "w.sqlite3"
    with Watchlist(path) as watchlist:
        watchlist.add(IDS)
        for at, step in enumerate(before, start=1):
            apply(watchlist, step, float(at))
        index = ProblemIndex()
        index.seed(watchlist.stored_groups())
        assert_same_as_masking_every_row(index, watchlist)
        # Then it follows the changes as the view does: the rows written, the IDs gone.
        for at, step in enumerate(after, start=100):
            watched_before = set(watchlist.ids())
            apply(watchlist, step, float(at))
            now = watchlist.get_many([step[1]])  # type: ignore[list-item]
            index.update(now.values())
            index.remove(watched_before - set(watchlist.ids()))
        assert_same_as_masking_every_row(index, watchlist)
        # Another window opening the file now counts the same.
        with Watchlist(path) as other:
            fresh = ProblemIndex()
            fresh.seed(other.stored_groups())
            assert fresh.groups() == index.groups()


def test_unwatched_deleted_and_not_found_rows_are_in_no_stored_group(
        tmp_path: Path) -> None:
    with Watchlist(tmp_path / "w.sqlite3") as watchlist:
        watchlist.add([1, 2, 3, 4])
        watchlist.record_results([answer(i, "Failed", 1.0, errors=[f"Row {i}: bad"])
                                  for i in (1, 2, 3, 4)])
        watchlist.record_results([answer(2, "Deleted", 2.0, errors=["Row 2: bad"]),
                                  PollResult(3, 2.0, not_found=True)])
        watchlist.remove([4])
        stored = watchlist.stored_groups()
        assert stored.counts == [("error", "Row N: bad", 1)]
        assert stored.members("error", "Row N: bad") == frozenset({1})
        watchlist.add([4])  # watched again: back in its group
        assert watchlist.stored_groups().counts == [("error", "Row N: bad", 2)]


def test_each_new_text_is_masked_once_when_stored(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    with Watchlist(path) as watchlist:
        watchlist.add([1, 2])
        watchlist.record_results([answer(1, "Failed", 1.0, errors=["Row 5: date '1/2'"]),
                                  answer(2, "Failed", 1.0, warnings=["Row 6: date '3/4'"])])
    with sqlite3.connect(path) as conn:
        assert conn.execute(
            "SELECT t.text, k.text FROM message_texts AS t JOIN masked_texts AS k "
            "ON k.id = t.masked_id ORDER BY t.id").fetchall() == [
            ("Row 5: date '1/2'", "Row N: date '…'"), ("Row 6: date '3/4'", "Row N: date '…'")]
        assert conn.execute("SELECT count(*) FROM message_texts WHERE masked_id IS NULL"
                            ).fetchone() == (0,)


def make_schema_5(path: Path) -> None:
    """Today's file taken back to schema 5 (no masks, no stored groups), as the previous
    version left it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TABLE problems")
    conn.execute("DROP TABLE masked_texts")
    conn.execute("DROP INDEX message_texts_by_mask")
    conn.execute("ALTER TABLE message_texts DROP COLUMN masked_id")
    conn.execute("PRAGMA user_version = 5")
    conn.close()


def test_a_schema_5_file_gets_its_masks_and_groups(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    with Watchlist(path) as watchlist:
        watchlist.add([1, 2, 3, 4])
        watchlist.record_results([
            answer(1, "Failed", 1.0, errors=["Row 1: date '1/2'", "Row 9: date '1/3'"],
                   warnings=["Header 'x' twice"]),
            answer(2, "Failed", 1.0, errors=["Row 7: date '5/6'"]),
            answer(3, "Deleted", 1.0, errors=["Row 3: date '1/2'"]),
            answer(4, "Completed", 1.0, warnings=["Header 'y' twice"])])
        watchlist.remove([4])
    make_schema_5(path)
    with Watchlist(path) as watchlist:
        index = ProblemIndex()
        index.seed(watchlist.stored_groups())
        assert_same_as_masking_every_row(index, watchlist)
        assert [group.line() for group in index.groups()] == [
            "2 × Row N: date '…'", "1 × Header '…' twice"]
        watchlist.add([4])  # kept aside: its text was masked by the migration too
        assert ProblemKey(ProblemKind.WARNING, "Header '…' twice") in {
            group.key for group in group_problems(watchlist.all())}
        assert dict(((kind, text), count) for kind, text, count
                    in watchlist.stored_groups().counts)[("warning", "Header '…' twice")] == 2
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (6,)


def test_a_schema_4_file_gets_messages_masks_and_groups_in_one_go(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    make_schema_4(path, {1: (["Row 4: bad 'a'"], ["a NUL \x00 12"]),
                         2: (["Row 5: bad 'b'"], [])})
    with Watchlist(path) as watchlist:
        index = ProblemIndex()
        index.seed(watchlist.stored_groups())
        assert_same_as_masking_every_row(index, watchlist)
        assert index.ids_of(ProblemKey(ProblemKind.ERROR, "Row N: bad '…'")) == {1, 2}
        assert index.ids_of(ProblemKey(ProblemKind.WARNING, "a NUL \x00 N")) == {1}


def test_texts_and_masks_no_row_has_any_more_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    with Watchlist(path) as watchlist:
        watchlist.add([1, 2])
        watchlist.record_results([answer(1, "Failed", 1.0, errors=["Row 1: bad", "Odd one"]),
                                  answer(2, "Failed", 1.0, errors=["Row 2: bad"])])
        watchlist.record_results([answer(1, "Failed", 2.0, errors=["Row 3: bad"])])
    with sqlite3.connect(path) as conn:
        assert sorted(text for (text,) in conn.execute("SELECT text FROM masked_texts")) == [
            "Row N: bad"]  # "Odd one" went with the last text that had it


def test_the_seed_holds_only_the_rows_the_groups_count(tmp_path: Path) -> None:
    # At 100,000 rows, a copy of every row's entry is 5 MB: rows in no group are not kept
    # (and count as they should when they gain a message later).
    with Watchlist(tmp_path / "w.sqlite3") as watchlist:
        watchlist.add([1, 2, 3])
        watchlist.record_results([answer(1, "Failed", 1.0, errors=["Row 1: bad"]),
                                  answer(2, "Completed", 1.0)])
        index = ProblemIndex()
        index.seed(watchlist.stored_groups())
        assert set(index._seeded) == {1}
        watchlist.record_results([answer(2, "Failed", 2.0, errors=["Row 2: bad"])])
        index.update(watchlist.get_many([2]).values())
        assert_same_as_masking_every_row(index, watchlist)
        assert memberships(index) == {ProblemKey(ProblemKind.ERROR, "Row N: bad"):
                                      frozenset({1, 2})}
