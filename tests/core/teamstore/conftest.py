"""The team store's tests share one real PostgreSQL server per session (no mock database);
each test gets a fresh database, and these helpers open stores on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.fixtures.postgres import PostgresServer, postgres_server, team_database
from tui.core.teamstore import StoreAddress, TeamStore, resolve_store_address

__all__ = ["open_store", "postgres_server", "store_url", "team_database"]

BASE_URL = "https://api.example.com"


@pytest.fixture
def store_url(postgres_server: PostgresServer, team_database: str) -> str:
    """The fresh database's address as a profile's ``store`` gives it."""
    dbname = team_database.rsplit("dbname=", 1)[1].split()[0]
    return postgres_server.url(dbname)


def address_of(url: str) -> StoreAddress:
    """The resolved address of ``url`` (given as a profile's ``store``)."""
    address = resolve_store_address(url, environ={})
    assert address is not None
    return address


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[..., TeamStore]]:
    """Opens stores on the test's database (closed at the end of the test)."""
    opened: list[TeamStore] = []

    def opener(person: str = "dana", base_url: str = BASE_URL) -> TeamStore:
        store = TeamStore(address_of(store_url), base_url, person)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()
