"""Unread marks in the team store are each person's ("changed since *you* last looked"):
one person's look reads the rows for them only, and tells nobody else; the shared marks of
schema 2 become everyone's starting point."""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg

from tests.core.teamstore.conftest import BASE_URL, collect_changes
from tui.api.models import StatusEnvelope
from tui.core.teamstore import SCHEMA_VERSION, ChangeReader, TeamStore
from tui.core.teamstore.migrations import migrate
from tui.core.unread import is_unread
from tui.core.watchlist import PollResult, WatchedConversion

Opener = Callable[..., TeamStore]


def _seen(conversion_id: int, at: float, status: str) -> PollResult:
    body = {"profile": None, "payload": {"id": conversion_id, "status": status},
            "errors": [], "hasErrors": False, "warnings": [], "hasWarnings": False,
            "metadata": {}}
    return PollResult(conversion_id, at, StatusEnvelope.from_wire(json.dumps(body)))


def _changed(store: TeamStore, ids: list[int]) -> None:
    """Watch ``ids`` (at 1.0) and see each fail at 20.0: news, unread for everyone."""
    store.add(ids, at=1.0)
    store.record_results([_seen(i, 10.0, "Processing") for i in ids])
    store.record_results([_seen(i, 20.0, "Failed") for i in ids])


def _every_read(store: TeamStore, conversion_id: int) -> list[WatchedConversion | None]:
    """The row as each of the store's reads gives it (one ID, all, head, the feed)."""
    return [store.get(conversion_id),
            next((r for r in store.all() if r.id == conversion_id), None),
            next((r for r in store.head(10) if r.id == conversion_id), None),
            next((r for r in store.changes_since(0).rows if r.id == conversion_id), None)]


def test_a_look_reads_the_row_for_that_person_only(open_store: Opener) -> None:
    dana, sam, nameless = open_store("dana"), open_store("sam"), open_store(None)
    _changed(dana, [1, 2])
    assert all(is_unread(row) for row in (*sam.all(), *dana.all()))

    assert dana.mark_read([1, 99], 30.0) == 1  # 99 is not watched
    assert dana.mark_read([1], 25.0) == 1  # an older look (a slower clock): no step back
    for row in _every_read(dana, 1):
        assert row is not None and row.read_at == 30.0 and not is_unread(row), row
    for row in _every_read(sam, 1):
        assert row is not None and row.read_at is None and is_unread(row), row
    assert is_unread(dana.get_many([2])[2])  # the row dana did not look at

    sam.mark_read([1, 2], 40.0)  # a later look by sam changes nothing for dana
    assert [r.read_at for r in dana.all()] == [30.0, None]
    assert [r.read_at for r in sam.all()] == [40.0, 40.0]
    assert [r.read_at for r in nameless.all()] == [None, None]  # no name: marks of its own
    nameless.mark_read([2], 50.0)
    assert [r.read_at for r in nameless.all()] == [None, 50.0]
    assert [r.read_at for r in dana.all()] == [30.0, None]


def test_a_look_is_no_change_for_the_others(open_store: Opener) -> None:
    dana, sam = open_store("dana"), open_store("sam")
    _changed(dana, [1, 2])
    before = sam.feed_seq()
    reader = ChangeReader(sam)
    try:
        dana.mark_read([1], 30.0)
        assert not sam.changes_since(before), "a look took a change number"
        assert sam.feed_seq() == before
        # Writes are notified in order: once the note's notice is read, a notice of the
        # look before it would have been read too.
        dana.set_note(2, "INC-1")
        batch = collect_changes(reader, lambda b: 2 in b.rows)
        assert 1 not in batch.rows, "sam was told of dana's look"
        assert batch.rows[2].note == "INC-1" and batch.rows[2].read_at is None
    finally:
        reader.close()


def test_a_look_survives_unwatching_and_watching_again(open_store: Opener) -> None:
    dana, sam = open_store("dana"), open_store("sam")
    _changed(dana, [1])
    dana.mark_read([1], 30.0)
    sam.remove([1])
    assert dana.mark_read([1], 35.0) == 0  # not watched: nothing marked
    sam.add([1])
    assert dana.get(1).read_at == 30.0  # type: ignore[union-attr]
    assert sam.get(1).read_at is None  # type: ignore[union-attr]


def test_shared_marks_of_schema_2_stay_everyones_starting_point(
        team_database: str, open_store: Opener) -> None:
    with psycopg.connect(team_database, autocommit=True) as conn:
        assert migrate(conn, "an older app", target=2) == [1, 2]
        # What an app of schema 2 left: one watched row read at 30 by someone (shared),
        # one never read, one unwatched read at 25; each failed at 20.
        conn.execute("INSERT INTO watched (profile, id, status, first_seen, last_changed, "
                     "read_at, note) VALUES (%s, 1, 'Failed', 1.0, 20.0, 30.0, 'INC-1'), "
                     "(%s, 2, 'Failed', 1.0, 20.0, NULL, 'INC-2')", (BASE_URL, BASE_URL))
        conn.execute("INSERT INTO unwatched (profile, id, status, first_seen, last_changed, "
                     "read_at, note, unwatched_at) VALUES (%s, 3, 'Failed', 1.0, 20.0, 25.0, "
                     "'INC-3', 40.0)", (BASE_URL,))
        conn.execute("INSERT INTO status_history (profile, id, status, seen_at) "
                     "SELECT %s, id, s, t FROM (VALUES (1), (2), (3)) AS i(id), "
                     "(VALUES ('Processing', 10.0), ('Failed', 20.0)) AS h(s, t)",
                     (BASE_URL,))

    dana, sam = open_store("dana"), open_store("sam")  # migrates to the current schema
    with psycopg.connect(team_database) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version")]
    assert sorted(versions) == list(range(1, SCHEMA_VERSION + 1))
    for store in (dana, sam):  # nobody can tell whose look it was: it stays everyone's
        rows = {row.id: row for row in store.all()}
        assert {i: (r.note, r.status, r.read_at) for i, r in rows.items()} == {
            1: ("INC-1", "Failed", 30.0), 2: ("INC-2", "Failed", None)}
        assert [is_unread(rows[1]), is_unread(rows[2])] == [False, True]
        assert store.history(1) == [("Processing", 10.0), ("Failed", 20.0)]

    sam.mark_read([1, 2], 50.0)  # from now on, a look is one person's
    assert [r.read_at for r in sam.all()] == [50.0, 50.0]
    assert [r.read_at for r in dana.all()] == [30.0, None]
    dana.mark_read([1], 10.0)  # before the shared look: it still counts
    assert dana.get(1).read_at == 30.0  # type: ignore[union-attr]
    sam.add([3])  # the unwatched row comes back with its shared look
    assert dana.get(3).read_at == sam.get(3).read_at == 25.0  # type: ignore[union-attr]
