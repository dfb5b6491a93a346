"""The team database away under a leader's poller: one log line with the database's
sentence, not a traceback (bench_team.py's outage found three: the feed's look, the
recording of results and their read-back each logged the whole TeamStoreError stack).

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
from tests.waiting import until
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
from tui.core.teamstore import TeamStore
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
