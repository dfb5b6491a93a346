"""One suite, two backends: the SQLite watchlist and the team store (a real PostgreSQL)
behave the same through :class:`tui.core.watchstore.WatchStore`.

Each test gets ``open_store``: it opens a handle on one fresh store (a file, or a fresh
database and profile); a second handle is "another app" on the same store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.postgres import PostgresServer, postgres_server, team_database
from tui.api.models import StatusEnvelope
from tui.core.watchlist import PollResult, StatusChange, Watchlist
from tui.core.watchstore import WatchStore

__all__ = ["postgres_server", "team_database"]

Opener = Callable[[], WatchStore]
BASE_URL = "https://api.example.com"


def _status(conversion_id: int, status: str) -> StatusEnvelope:
    body = {"profile": None, "payload": {"id": conversion_id, "status": status,
                                         "fileName": f"f{conversion_id}.csv"},
            "errors": [], "hasErrors": False, "warnings": ["slow"], "hasWarnings": True,
            "metadata": {"k": "v"}}
    return StatusEnvelope.from_wire(json.dumps(body))


def _seen(conversion_id: int, at: float, status: str) -> PollResult:
    return PollResult(conversion_id, at, _status(conversion_id, status))


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens handles on one fresh store of the backend (closed at the end)."""
    opened: list[WatchStore] = []
    if request.param == "sqlite":
        def opener() -> WatchStore:
            store = Watchlist(tmp_path / "watchlist.sqlite3")
            opened.append(store)
            return store
    else:
        from tui.core.teamstore import TeamStore, resolve_store_address

        server: PostgresServer = request.getfixturevalue("postgres_server")
        conninfo: str = request.getfixturevalue("team_database")
        address = resolve_store_address(
            server.url(conninfo.rsplit("dbname=", 1)[1].split()[0]), environ={})
        assert address is not None

        def opener() -> WatchStore:
            store = TeamStore(address, BASE_URL, "dana")
            opened.append(store)
            return store
    yield opener
    for store in opened:
        store.close()


def test_add_returns_the_new_ids_in_order_and_notes_those_without(open_store: Opener) -> None:
    store = open_store()
    assert store.add([3, 1, 3, 2], at=10.0) == [3, 1, 2]
    assert store.add([2, 4], note="T-1", at=11.0) == [4]
    assert store.add([4, 2], note="T-2") == []
    assert [(row.id, row.note) for row in store.all()] == [
        (1, None), (2, "T-1"), (3, None), (4, "T-1")]
    assert store.get(3) is not None and store.get(3).first_seen == 10.0  # type: ignore[union-attr]
    assert store.get(99) is None
    assert [row.id for row in store.head(2)] == [1, 2]
    assert sorted(store.get_many([4, 1, 99])) == [1, 4]


@pytest.mark.parametrize("bad", [0, -1, 2**63, True, 1.0, "7"])
def test_add_refuses_what_is_not_a_conversion_id(open_store: Opener, bad: object) -> None:
    store = open_store()
    with pytest.raises(ValueError, match="not a conversion ID"):
        store.add([1, bad])  # type: ignore[list-item]
    assert store.all() == []  # nothing half added


def test_remove_keeps_the_row_aside_and_add_brings_it_back(open_store: Opener) -> None:
    store = open_store()
    store.add([5, 6], note="keep")
    store.record_results([_seen(5, 20.0, "Processing"), _seen(5, 30.0, "Failed")])
    assert store.remove([5, 7]) == 1
    assert sorted(store.get_many([5, 6])) == [6]
    assert store.add([5]) == [5]
    row = store.get(5)
    assert row is not None and (row.note, row.status, row.file_name) == (
        "keep", "Failed", "f5.csv")
    assert store.history(5) == [("Processing", 20.0), ("Failed", 30.0)]


def test_poll_results_give_the_changes_and_the_rows(open_store: Opener) -> None:
    store = open_store()
    store.add([1, 2])
    recorded = store.record_results([_seen(1, 10.0, "Queued"), _seen(1, 11.0, "Queued"),
                                     _seen(1, 12.0, "Completed"),
                                     PollResult(2, 13.0, not_found=True),
                                     _seen(9, 14.0, "Failed")])  # 9 is not watched
    assert [(c.id, c.previous, c.current, c.at) for c in recorded] == [
        (1, None, "Queued", 10.0), (1, "Queued", "Completed", 12.0)]
    assert sorted(recorded.rows) == [1, 2]
    one = store.get(1)
    assert one is not None
    assert (one.status, one.warnings, dict(one.metadata), one.last_checked) == (
        "Completed", ("slow",), {"k": "v"}, 12.0)
    assert one.entered_seen is True
    two = store.get(2)
    assert two is not None and two.not_found and two.last_checked == 13.0
    assert store.get(9) is None


def test_changes_and_transitions_in_a_window_of_time(open_store: Opener) -> None:
    store = open_store()
    store.add([1, 2, 3])
    store.record_results([_seen(1, 10.0, "Queued"), _seen(2, 15.0, "Queued")])
    store.record_results([_seen(1, 20.0, "Failed"), _seen(3, 25.0, "Queued")])
    store.record_results([_seen(2, 40.0, "Completed")])
    store.remove([3])
    assert store.changes_between(12.0, 40.0) == [
        StatusChange(2, None, "Queued", 15.0), StatusChange(1, "Queued", "Failed", 20.0)]
    assert store.transitions_between(0.0, 100.0) == [
        StatusChange(1, "Queued", "Failed", 20.0), StatusChange(2, "Queued", "Completed", 40.0)]


def test_notes_delete_requests_and_problems(open_store: Opener) -> None:
    store = open_store()
    store.add([1])
    store.set_note(1, "TICKET-4")
    store.mark_delete_requested(1, 50.0)
    store.record_problem(1, "timed out", 60.0)
    store.record_problem(1, "timed out again", 61.0)
    row = store.get(1)
    assert row is not None
    assert (row.note, row.delete_requested_at, row.last_problem, row.last_problem_at,
            row.problem_count) == ("TICKET-4", 50.0, "timed out again", 61.0, 2)
    store.set_note(1, "")
    store.clear_delete_requested(1)
    row = store.get(1)
    assert row is not None and (row.note, row.delete_requested_at) == (None, None)
    store.set_note(99, "nobody")  # not watched: nothing happens, nothing fails
    assert store.get(99) is None


def test_another_app_reads_only_what_changed_after_its_number(open_store: Opener) -> None:
    mine, theirs = open_store(), open_store()
    mine.add([1, 2, 3])
    seq = theirs.feed_seq()
    assert not theirs.changes_since(seq)
    mine.add([4])
    mine.set_note(1, "T-7")
    mine.remove([2])
    mine.record_results([_seen(3, 10.0, "Processing")])
    changes = theirs.changes_since(seq)
    assert sorted(row.id for row in changes.rows) == [1, 3, 4]
    assert {row.id: row.note for row in changes.rows}[1] == "T-7"
    assert changes.added == frozenset({4}) and changes.removed == (2,)
    assert changes.seq > seq and changes.seq == theirs.feed_seq()
    assert not theirs.changes_since(changes.seq)  # nothing new since


@pytest.mark.parametrize("mark", ["acknowledge", "clear_acknowledged", "snooze", "mark_read"])
def test_attention_marks_take_many_ids(open_store: Opener, mark: str) -> None:
    store = open_store()
    marks = store
    store.add([1, 2])
    if mark == "acknowledge":
        assert marks.acknowledge([2, 9, 1], 30.0) == [2, 1]
        assert [row.acknowledged_at for row in store.all()] == [30.0, 30.0]
    elif mark == "clear_acknowledged":
        marks.acknowledge([1, 2], 30.0)
        assert marks.clear_acknowledged([1, 9]) == [1]
        assert [row.acknowledged_at for row in store.all()] == [None, 30.0]
    elif mark == "snooze":
        assert marks.snooze([1], 500.0) == [1]
        assert marks.snooze([2, 9], None) == [2]
        assert [row.snoozed_until for row in store.all()] == [500.0, None]
    else:
        assert marks.mark_read([1, 2, 9], 40.0) == 2
        marks.mark_read([1], 35.0)  # an older look
        assert [row.read_at for row in store.all()] == [40.0, 40.0]


def test_a_look_is_kept_while_unwatched_and_read_by_another_app(open_store: Opener) -> None:
    mine, theirs = open_store(), open_store()  # two apps of one person
    mine.add([1, 2], at=1.0)
    assert mine.mark_read([1, 2, 9], 40.0) == 2
    assert mine.remove([1]) == 1
    assert mine.mark_read([1], 50.0) == 0  # not watched: no look recorded
    assert mine.add([1]) == [1]
    assert [(row.id, row.read_at) for row in theirs.all()] == [(1, 40.0), (2, 40.0)]
