"""The team store against a real PostgreSQL: migrations, rows by profile, who did what."""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg
import pytest

from tests.core.teamstore.conftest import BASE_URL, address_of
from tui.api.models import StatusEnvelope
from tui.core.teamstore import SCHEMA_VERSION, TeamStore, TeamStoreError
from tui.core.watchlist import PollResult

Opener = Callable[..., TeamStore]


def _status(conversion_id: int, status: str) -> StatusEnvelope:
    body = {"profile": None, "payload": {"id": conversion_id, "status": status},
            "errors": [], "hasErrors": False, "warnings": ["slow"], "hasWarnings": True,
            "metadata": {"k": "v"}}
    return StatusEnvelope.from_wire(json.dumps(body))


def _versions(conninfo: str) -> list[int]:
    with psycopg.connect(conninfo) as conn:
        return [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY 1")]


def test_a_new_database_is_migrated_once(open_store: Opener, team_database: str) -> None:
    open_store()
    open_store("sam")  # a second app finds it current and applies nothing
    assert _versions(team_database) == list(range(1, SCHEMA_VERSION + 1))


def test_a_newer_schema_is_one_sentence(open_store: Opener, team_database: str,
                                        store_url: str) -> None:
    open_store()
    with psycopg.connect(team_database) as conn:
        conn.execute("INSERT INTO schema_version (version, app) VALUES (99, 'future')")
    with pytest.raises(TeamStoreError) as caught:
        TeamStore(address_of(store_url), BASE_URL, "dana")
    message = str(caught.value)
    assert "schema 99" in message and "upgrade conversions-tui" in message
    assert "\n" not in message and "Traceback" not in message


def test_an_older_schema_without_migrating_says_to_migrate(open_store: Opener,
                                                           team_database: str,
                                                           store_url: str) -> None:
    with pytest.raises(TeamStoreError, match="team migrate"):
        TeamStore(address_of(store_url), BASE_URL, "dana", migrate_schema=False)
    open_store()
    TeamStore(address_of(store_url), BASE_URL, "dana", migrate_schema=False).close()


def test_rows_are_scoped_by_profile_base_url(open_store: Opener) -> None:
    production = open_store(base_url=BASE_URL)
    staging = open_store(base_url="https://staging.example.com")
    assert production.add([1, 2, 3]) == [1, 2, 3]
    assert staging.add([3, 4]) == [3, 4]
    assert [row.id for row in production.all()] == [1, 2, 3]
    assert [row.id for row in staging.all()] == [3, 4]
    staging.remove([3])
    assert 3 in production.get_many([3])


def test_notes_acknowledgements_and_adds_are_signed(open_store: Opener) -> None:
    dana, sam = open_store("dana"), open_store("sam")
    dana.add([10, 11], note="TICKET-1", at=100.0)
    sam.set_notes([11], "TICKET-2", at=200.0)
    sam.acknowledge([10], at=300.0)
    signed = dana.signatures([10, 11])
    assert signed[10] == {"added_by": "dana", "note_by": "dana", "note_at": 100.0,
                          "acknowledged_by": "sam", "delete_requested_by": None}
    assert signed[11]["note_by"] == "sam"
    rows = dana.get_many([10, 11])
    assert rows[10].acknowledged_at == 300.0 and rows[11].note == "TICKET-2"


def test_a_delete_a_colleague_requested_is_refused_with_their_name(open_store: Opener) -> None:
    dana, sam = open_store("dana"), open_store("sam")
    dana.add([1, 2])
    first = sam.request_delete([1], at=1000.0)
    assert set(first.accepted) == {1} and not first.refused
    second = dana.request_delete([1, 2], at=2000.0)
    assert second.refused == {1: ("sam", 1000.0)}
    assert set(second.accepted) == {2}
    assert sam.request_delete([1]).refused == {}  # asking again for one's own is fine
    assert dana.get_many([1])[1].delete_requested_at == 1000.0


def test_unwatched_rows_come_back_with_note_and_history(open_store: Opener) -> None:
    store = open_store()
    store.add([5], note="keep")
    store.record_results([PollResult(5, 10.0, _status(5, "Queued"))])
    store.record_results([PollResult(5, 20.0, _status(5, "Completed"))])
    assert store.remove([5, 6]) == 1
    assert store.all() == []
    assert store.add([5]) == [5]
    row = store.get_many([5])[5]
    assert (row.note, row.status, row.warnings) == ("keep", "Completed", ("slow",))
    assert row.entered_seen is True
    assert store.history(5) == [("Queued", 10.0), ("Completed", 20.0)]


def test_poll_results_fold_as_in_the_sqlite_watchlist(open_store: Opener) -> None:
    store = open_store()
    store.add([1, 2, 3])
    recorded = store.record_results([
        PollResult(1, 10.0, _status(1, "Processing")),
        PollResult(2, 10.0, not_found=True),
        PollResult(3, 10.0, problem="timed out"),
        PollResult(4, 10.0, _status(4, "Queued")),  # not watched: ignored
    ])
    assert [(c.id, c.previous, c.current) for c in recorded] == [(1, None, "Processing")]
    rows = store.get_many([1, 2, 3])
    assert rows[1].status == "Processing" and rows[1].metadata == {"k": "v"}
    assert rows[2].not_found is True
    assert (rows[3].last_problem, rows[3].problem_count) == ("timed out", 1)
    assert store.get_many([4]) == {}


def test_audit_entries_name_the_person(open_store: Opener) -> None:
    store = open_store("sam")
    seq = store.audit("delete", [4, 5], "requested", at=50.0)
    assert store.audit_entries() == [{"seq": seq, "at": 50.0, "person": "sam",
                                      "action": "delete", "ids": "4,5", "outcome": "requested",
                                      "detail": None}]


def test_bad_ids_are_refused_before_the_database(open_store: Opener) -> None:
    store = open_store()
    with pytest.raises(ValueError, match="not a conversion ID"):
        store.add([0])
    assert store.all() == []
