"""The change feed against a real PostgreSQL: NOTIFY on every write, one batch per read."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg

from tests.core.teamstore.conftest import BASE_URL, collect_changes
from tests.waiting import until_sync
from tui.core.teamstore import ChangeReader, TeamStore
from tui.core.teamstore.changes import (
    MAX_PAYLOAD,
    Notice,
    parse_payload,
    payloads,
    write_key,
)
from tui.core.teamstore.reader import ChangeBell

Opener = Callable[..., TeamStore]


def test_payloads_stay_under_the_limit_and_name_every_id() -> None:
    changed = list(range(2**62, 2**62 + 5000))  # 19 digits each: several payloads
    removed = [7, 8]
    texts = payloads(123456, changed, removed)
    assert len(texts) > 5
    assert all(len(text.encode()) <= MAX_PAYLOAD for text in texts)
    notice = Notice()
    for text in texts:
        parse_payload(text, notice)
    assert notice.changed == set(changed) and notice.removed == set(removed)
    assert notice.seq == 123456


def test_a_write_without_ids_still_says_its_number() -> None:
    assert parse_payload(payloads(9)[0]).seq == 9


def test_unreadable_payloads_are_ignored() -> None:
    for text in ("", "x1 1,2", "c", "c 1", "cx 1", "c1" + "0" * 30 + " 5",
                 "c5 -1,abc,0,99999999999999999999", "r5 1;DROP"):
        notice = parse_payload(text)
        assert not notice.changed and not notice.removed, text


def test_a_follower_reads_a_colleagues_writes(open_store: Opener) -> None:
    dana, sam = open_store("dana"), open_store("sam")
    reader = ChangeReader(sam)
    try:
        dana.add([1, 2, 3], note="T-9")
        batch = collect_changes(reader, lambda b: set(b.rows) == {1, 2, 3})
        assert {row.note for row in batch.rows.values()} == {"T-9"}
        dana.remove([2])
        dana.set_notes([1], "T-10")
        batch = collect_changes(reader, lambda b: 2 in b.removed and 1 in b.rows)
        assert batch.rows[1].note == "T-10"
    finally:
        reader.close()


def test_a_big_write_arrives_whole_in_chunks(open_store: Opener) -> None:
    dana, sam = open_store("dana"), open_store("sam")
    reader = ChangeReader(sam)
    ids = list(range(10**15, 10**15 + 3000))  # 16 digits: about 51 kB of IDs
    try:
        dana.add(ids)
        batch = collect_changes(reader, lambda b: len(b.rows) == len(ids))
        assert set(batch.rows) == set(ids)
    finally:
        reader.close()


def test_other_profiles_are_not_heard(open_store: Opener) -> None:
    staging = open_store(base_url="https://staging.example.com")
    production = open_store()
    reader = ChangeReader(production)
    try:
        staging.add([1])
        production.add([2])  # written after: once it is read, staging's was delivered
        batch = collect_changes(reader, lambda b: 2 in b.rows)
        assert set(batch.rows) == {2}
    finally:
        reader.close()


def test_a_reader_whose_connection_dies_catches_up(open_store: Opener,
                                                   team_database: str) -> None:
    dana, sam = open_store("dana"), open_store("sam")
    dana.add([1])
    reader = ChangeReader(sam)
    try:
        with psycopg.connect(team_database, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query ILIKE 'LISTEN%%' AND datname = current_database()").fetchall()
        assert killed == [(True,)]
        dana.set_notes([1], "while you were away")  # its notification goes nowhere
        dana.add([4])
        batch = collect_changes(reader, lambda b: b.caught_up and {1, 4} <= set(b.rows))
        assert batch.rows[1].note == "while you were away"
    finally:
        reader.close()


def test_the_feed_number_counts_only_committed_writes(open_store: Opener,
                                                      team_database: str) -> None:
    store = open_store()
    store.add([1])
    before = store.feed_seq()
    assert before > 0
    with psycopg.connect(team_database) as conn:  # a write in flight: numbered, uncommitted
        conn.execute("SELECT nextval('change_seq')")
        assert store.feed_seq() == before


def test_a_profiles_writes_take_turns(open_store: Opener, team_database: str) -> None:
    """Writes commit in the order of their numbers: a second one waits for the first."""
    store = open_store()
    key = write_key(BASE_URL)
    high, low = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    with psycopg.connect(team_database) as first:
        first.execute("SELECT pg_advisory_xact_lock(%s)", (key,))  # a write in flight
        done: list[list[int]] = []
        second = threading.Thread(target=lambda: done.append(store.add([5])))
        second.start()
        try:
            def waiting() -> list[tuple[object, ...]]:
                return first.execute(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND classid = %s::bigint::oid AND objid = %s::bigint::oid",
                    (high, low)).fetchall()
            until_sync(waiting, "a second write waiting for the first's lock")
            assert done == []
        finally:
            first.commit()
            second.join()
    assert done == [[5]]


def test_the_leaders_bell_rings_for_a_colleagues_write_not_for_its_own(
        open_store: Callable[..., TeamStore]) -> None:
    dana, sam = open_store("dana"), open_store("sam")
    bell = ChangeBell(dana)
    try:
        dana.add([1])
        dana.set_note(1, "mine")
        assert bell.wait(0.2) is False  # its own echoes: nothing to read
        sam.set_note(1, "theirs")
        until_sync(lambda: bell.wait(0.2), "the bell ringing for sam's note")
    finally:
        bell.close()
