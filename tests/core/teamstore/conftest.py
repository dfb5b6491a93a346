"""The team store's tests share one real PostgreSQL server per session (no mock database);
each test gets a fresh database, and these helpers open stores on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.fixtures.postgres import PostgresServer, postgres_server, team_database
from tests.waiting import until_sync
from tui.core.teamstore import (
    ChangeBatch,
    ChangeReader,
    StoreAddress,
    TeamStore,
    resolve_store_address,
)
from tui.core.watchlist import WatchedConversion

__all__ = ["collect_changes", "open_store", "postgres_server", "store_url", "team_database"]

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


def collect_changes(reader: ChangeReader, done: Callable[[ChangeBatch], bool]) -> ChangeBatch:
    """Wait (in a loop) until the batches read so far satisfy ``done``; all of them merged."""
    rows: dict[int, WatchedConversion] = {}
    removed: set[int] = set()
    caught_up = False

    def merged() -> ChangeBatch:
        return ChangeBatch(rows=dict(rows), removed=frozenset(removed), caught_up=caught_up)

    def step() -> bool:
        nonlocal caught_up
        batch = reader.wait(0.2)
        rows.update(batch.rows)
        removed.update(batch.removed)
        removed.difference_update(batch.rows)
        caught_up = caught_up or batch.caught_up
        return done(merged())

    until_sync(step, lambda: f"changes read: rows {sorted(rows)}, removed {sorted(removed)}",
               step=0)
    return merged()
