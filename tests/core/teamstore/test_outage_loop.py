"""The database gone mid-run, as the event loop meets it (issue 15): a call on the app's
event loop never waits for a pooled connection while the store is known away (a thread
tries for it), the leader's bell tells the store at once that the server went, and the
sentence says the database cannot be reached without the pool's own wording. A server
of this module's own, stopped and started again."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.core.teamstore.conftest import BASE_URL, address_of
from tests.fixtures.postgres import PostgresServer, start_server
from tests.waiting import until, until_sync
from tui.core.teamstore import TeamStore, TeamStoreError
from tui.core.teamstore.reader import ChangeBell


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


def _refusal(action: Any) -> str | None:
    """The sentence ``action()`` is refused with (None: it worked)."""
    try:
        action()
    except TeamStoreError as error:
        return str(error)
    return None


def test_the_pools_timeout_is_said_in_plain_words(own_server: PostgresServer) -> None:
    url = own_server.url(own_server.create_database())
    store = TeamStore(address_of(url), BASE_URL, "dana", max_connections=1,
                      connect_timeout=1)
    try:
        with store.connection():  # the pool's one connection busy: the next call waits
            said = _refusal(store.feed_seq)
        assert said is not None
        assert "cannot be reached (no connection within 1 s)" in said, said
        assert "couldn't get a connection" not in said and "sec)" not in said, said
    finally:
        store.close()


async def test_a_dead_pooled_connection_fails_the_call_at_once_when_the_server_is_gone(
        own_server: PostgresServer) -> None:
    """The first call after the server went, on the event loop, before anything noticed:
    the pool finds its connection dead and would wait for a new one up to its timeout;
    a new connection refused at once says the server is gone, and the call fails now."""
    url = own_server.url(own_server.create_database())
    store = TeamStore(address_of(url), BASE_URL, "dana", connect_timeout=3)
    try:
        store.add([1])
        own_server.pause()
        try:
            assert store.away_since is None  # nothing noticed yet
            said = _refusal(store.feed_seq)
        finally:
            own_server.resume()
        assert said is not None and "cannot be reached" in said, said
        assert "no connection within" not in said, said  # not the pool's wait
        assert store.away_since is not None
    finally:
        store.close()


def test_the_leaders_bell_tells_the_store_at_once_that_the_server_went(
        own_server: PostgresServer) -> None:
    """The bell's LISTEN connection breaks the moment the server goes: it listens again
    at once, in its thread, so the store knows before the poller's feed (on the event
    loop) would wait for a pooled connection to read "what was missed"."""
    url = own_server.url(own_server.create_database())
    store = TeamStore(address_of(url), BASE_URL, "dana", connect_timeout=3)
    bell = ChangeBell(store)
    heard: list[object] = []
    try:
        own_server.pause()
        try:
            def refused() -> bool:
                said = _refusal(lambda: heard.append(bell.hear(0.05)))
                return said is not None

            until_sync(refused, lambda: f"the bell refused; heard {heard}", step=0.01)
            assert store.away_since is not None
            assert not [h for h in heard if getattr(h, "wrote", False)], heard
        finally:
            own_server.resume()
    finally:
        bell.close()
        store.close()


async def test_a_call_on_the_event_loop_never_waits_for_the_pool_while_away(
        own_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> None:
    url = own_server.url(own_server.create_database())
    store = TeamStore(address_of(url), BASE_URL, "dana", connect_timeout=3)
    loop_thread = threading.get_ident()
    asked_on_loop: list[float] = []
    pool_connection = store._pool.connection

    def connection(*args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() == loop_thread and store.away_since is not None:
            asked_on_loop.append(time.monotonic())
        return pool_connection(*args, **kwargs)

    try:
        store.add([1])
        monkeypatch.setattr(store._pool, "connection", connection)
        own_server.pause()
        try:
            # Known away: a worker thread's call failed (it may wait for the pool there).
            assert await asyncio.to_thread(_refusal, store.feed_seq) is not None
            assert store.away_since is not None
            # Once the store's own refusal window is over, a call may try again: on the
            # event loop it must not (the screen would wait with it).
            await until(lambda: time.monotonic() >= store._try_at,
                        "the refusal window over")
            said = _refusal(store.feed_seq)
            assert said is not None and "cannot be reached" in said, said
            assert asked_on_loop == []
            await until(lambda: not store._probing, "the probe's try done")
            assert store.away_since is not None  # still away: the probe failed
        finally:
            own_server.resume()
        # Back: the probe a loop call starts finds it; then calls on the loop go through.
        await until(lambda: _refusal(store.feed_seq) is None,
                    lambda: f"the store answering on the loop; {_refusal(store.feed_seq)}")
        assert store.away_since is None
    finally:
        store.close()
