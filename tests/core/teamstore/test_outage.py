"""The database can fail too: a server stopped mid-run and started again (its own server,
so the session's stays up for the other tests)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.core.teamstore.conftest import BASE_URL, address_of
from tests.fixtures.postgres import PostgresServer, start_server
from tests.waiting import until_sync
from tui.core.teamstore import ChangeReader, LeaderLock, TeamStore, TeamStoreError


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


def _works(action: object) -> bool:
    try:
        assert callable(action)
        action()
    except TeamStoreError:
        return False
    return True


def test_a_stopped_server_is_a_sentence_and_the_store_comes_back(
        own_server: PostgresServer) -> None:
    url = own_server.url(own_server.create_database())
    store = TeamStore(address_of(url), BASE_URL, "dana", connect_timeout=3)
    reader = ChangeReader(store)
    lock = LeaderLock(address_of(url), BASE_URL, "dana@desk1", connect_timeout=3)
    try:
        store.add([1])
        assert lock.try_acquire()
        own_server.pause()

        with pytest.raises(TeamStoreError, match=r"Could not watch conversions: the team "
                           r"database .* cannot be reached") as caught:
            store.add([2])
        message = str(caught.value)
        assert "\n" not in message and "Traceback" not in message
        assert own_server.url("x").split("/")[2].split("@")[1] in message  # says which server
        assert lock.still_held() is False
        with pytest.raises(TeamStoreError, match="cannot be reached"):
            reader.wait(0)

        own_server.resume()
        until_sync(lambda: _works(lambda: store.add([2])),
                   "the store writing again after the server came back")
        assert [row.id for row in store.all()] == [1, 2]
        until_sync(lock.try_acquire, lambda: f"the lock's holder: {lock.holder()}")
        batch = reader.wait(0)  # reconnects and catches up by the change number
        assert batch.caught_up and 2 in batch.rows
    finally:
        reader.close()
        lock.release()
        store.close()


def test_a_terminated_pool_connection_is_replaced(own_server: PostgresServer) -> None:
    dbname = own_server.create_database()
    store = TeamStore(address_of(own_server.url(dbname)), BASE_URL, "dana")
    try:
        store.add([1])
        with psycopg.connect(own_server.conninfo(dbname), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        assert store.add([2]) == [2]  # the pool checks a connection before lending it
    finally:
        store.close()
