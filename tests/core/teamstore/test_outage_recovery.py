"""What bench_team.py's outage (PostgreSQL stopped for 30 s under app processes) found:

* the database away under a leader's poller logged three TeamStoreError stacks (the
  feed's look, the recording of results, their read-back): one line with the database's
  sentence now;
* the store's pool kept retrying its connections on its own, with a backoff doubling
  without a cap (psycopg_pool's), so after half a minute away its next try could come half
  a minute after the server was back, and every call meanwhile failed: a follower showed
  the banner for 40 s after the restart. The pool now gives its own tries up soon, and
  the next call connects.

Its own server, stopped mid-test, so the session's stays up for the other tests."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Iterator

import pytest

from tests.core.teamstore.conftest import BASE_URL, address_of
from tests.fixtures.postgres import PostgresServer, start_server
from tests.waiting import until, until_sync
from tui.api.models import StatusEnvelope
from tui.core.polling.feed import WatchlistFeed
from tui.core.polling.queue import PollQueue
from tui.core.polling.types import (
    Connectivity,
    ConnectivityState,
    PollSettings,
    PollStats,
    PollUpdate,
)
from tui.core.polling.updates import UpdateBatcher
from tui.core.teamstore import ChangeReader, TeamStore, TeamStoreError
from tui.core.watchlist import PollResult


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


def _answer(conversion: int) -> StatusEnvelope:
    return StatusEnvelope.from_wire(json.dumps({
        "payload": {"id": conversion, "status": "Completed"}, "errors": [], "warnings": [],
        "metadata": {}}))


async def test_the_database_away_is_logged_as_its_sentence_without_a_traceback(
        own_server: PostgresServer, caplog: pytest.LogCaptureFixture) -> None:
    url = own_server.url(own_server.create_database())
    store = TeamStore(address_of(url), BASE_URL, "dana", connect_timeout=3)
    settings = PollSettings()
    sent: list[PollUpdate] = []
    updates = UpdateBatcher(store, settings, sent.append, PollStats(), time.monotonic,
                            Connectivity(ConnectivityState.ONLINE, None))
    feed = WatchlistFeed(store, PollQueue(), updates, settings, clock=time.monotonic,
                         rng=random.Random(1), expect_deletion=lambda _id: None,
                         unwatch=lambda _ids: None, poke=lambda: None)
    caplog.set_level(logging.WARNING, logger="tui.core.polling")
    try:
        store.add([1])
        feed.load(asyncio.get_running_loop())
        own_server.pause()
        try:
            updates.add_result(PollResult(1, time.time(), _answer(1)))
            updates.flush()  # records the result, then reads the row back: both refused
            feed.look_now()  # the leader's look at what others wrote: refused

            def said() -> list[logging.LogRecord]:
                return [r for r in caplog.records if r.name.startswith("tui.core.polling")]

            await until(lambda: len(said()) >= 3,
                        lambda: [r.getMessage() for r in said()])
        finally:
            own_server.resume()
    finally:
        feed.stop()
        store.close()
    records = said()
    assert [r.getMessage().split(":")[0] for r in records] == [
        "could not record 1 poll results", "could not read back 1 watched rows",
        "could not read the watchlist's changes"], [r.getMessage() for r in records]
    for record in records:
        assert record.exc_info is None, record.getMessage()  # no traceback
        assert record.levelno == logging.WARNING
        assert "team database" in record.getMessage()
        assert "cannot be reached" in record.getMessage()
    assert sent and sent[-1].rows == []  # the update still went out, with nothing to show


def test_the_store_connects_again_as_soon_as_the_server_is_back(
        own_server: PostgresServer) -> None:
    url = own_server.url(own_server.create_database())
    store = TeamStore(address_of(url), BASE_URL, "dana", connect_timeout=3)
    reader: ChangeReader | None = None

    def pool() -> dict[str, int]:
        return store._pool.get_stats()  # psycopg_pool's own counters

    def backed_off() -> bool:
        # Each connection the pool is still after has failed five times (its next try
        # is 16 s after the last: the old pool's), or the pool has given them all up.
        # An idle one (dead with the server) is not being tried: it is checked when taken.
        stats = pool()
        chasing = stats["pool_size"] - stats.get("pool_available", 0)
        return chasing == 0 or stats.get("connections_errors", 0) >= 5 * chasing

    try:
        store.add([1])
        own_server.pause()
        try:
            with pytest.raises(TeamStoreError, match="cannot be reached"):
                store.add([2])  # the pool finds its connection gone and tries for more
            until_sync(backed_off, lambda: f"the pool: {pool()}")
        finally:
            own_server.resume()
        # What the follower does when it tries again: a listening connection of its own,
        # then the change counter and the rows through the pool.
        reader = ChangeReader(store)
        assert store.add([2]) == [2], pool()
        assert [row.id for row in store.all()] == [1, 2]
    finally:
        if reader is not None:
            reader.close()
        store.close()
