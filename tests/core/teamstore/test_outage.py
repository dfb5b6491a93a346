"""The database can fail too: a server stopped mid-run and started again (its own server,
so the session's stays up for the other tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.core.teamstore.conftest import BASE_URL, address_of
from tests.core.teamstore.test_team_watching import TeamApp
from tests.fixtures.postgres import PostgresServer, start_server
from tests.waiting import until, until_sync
from tui.api.client import ConversionsClient
from tui.core.audit import AuditLog
from tui.core.polling.types import Connectivity, ConnectivityState
from tui.core.teamstore import ChangeReader, LeaderLock, TeamStore, TeamStoreError
from tui.core.teamstore.audit import TeamAudit
from tui.sandbox.runner import SandboxServer


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
                           r"database cannot be reached \(.+\) at ") as caught:
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


def _banner(app: TeamApp) -> Connectivity | None:
    said = [c.connectivity for c in app.changes if c.connectivity is not None]
    return said[-1] if said else None


async def test_two_apps_ride_out_a_database_outage(
        own_server: PostgresServer, sandbox: SandboxServer, tmp_path: Path) -> None:
    """Stopped mid-run: each app shows one offline banner with the database's sentence,
    keeps its rows, refuses a note in a sentence; started again: the banner goes, one app
    polls, and a note goes through."""
    url = own_server.url(own_server.create_database())
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=10) as client:
        dana = TeamApp(url, sandbox.base_url, "dana", tmp_path)
        sam = TeamApp(url, sandbox.base_url, "sam", tmp_path)
        try:
            for app in (dana, sam):
                app.service.load()
                app.service.set_client(client)
            dana.service.watch([conv])
            await until(lambda: sam.last(conv) is not None, sam.said)
            own_server.pause()
            try:
                def offline(app: TeamApp) -> bool:
                    banner = _banner(app)
                    return (banner is not None and banner.state is ConnectivityState.OFFLINE
                            and "team database" in banner.message)

                await until(lambda: offline(dana) and offline(sam),
                            lambda: f"dana {_banner(dana)}, sam {_banner(sam)}")
                await until(lambda: dana.service.scheduler is None,
                            "the leader stops polling when its lead is gone")
                with pytest.raises(TeamStoreError, match="cannot be reached") as refused:
                    sam.service.set_note([conv], "TICKET-1")
                assert "\n" not in str(refused.value)
                assert not any(c.removed for c in dana.changes + sam.changes)  # rows stay
            finally:
                own_server.resume()

            def online(app: TeamApp) -> bool:
                banner = _banner(app)
                return banner is not None and banner.state is ConnectivityState.ONLINE

            await until(lambda: online(dana) and online(sam),
                        lambda: f"dana {_banner(dana)}, sam {_banner(sam)}")
            await until(lambda: sam.service.scheduler is not None, sam.said)
            assert dana.service.scheduler is None and dana.service.following
            await until(lambda: _works(lambda: sam.service.set_note([conv], "TICKET-2")),
                        "a note is taken again once the database is back")
            await until(lambda: (row := dana.last(conv)) is not None
                        and row.note == "TICKET-2", dana.said)
        finally:
            await sam.close()
            await dana.close()


def test_an_audit_entry_made_while_the_database_is_away_is_kept_here(
        own_server: PostgresServer, tmp_path: Path) -> None:
    url = own_server.url(own_server.create_database())
    store = TeamStore(address_of(url), BASE_URL, "dana", connect_timeout=3)
    audit = TeamAudit(store, AuditLog(tmp_path / "audit.sqlite3"))
    try:
        audit.append("watch", [1], "done", "work", None)
        own_server.pause()
        try:
            until_sync(lambda: _works(lambda: store.feed_seq()) is False,
                       "the store notices the server is gone")
            kept = audit.append("delete", [1], "requested", "work", "dana@example.com",
                                detail="marked for deletion")
            assert kept.detail == ("marked for deletion; team database unreachable: kept on "
                                   "this machine")
            assert [e.action for e in audit.entries()] == ["delete"]  # this machine's
        finally:
            own_server.resume()
        until_sync(lambda: _works(lambda: store.feed_seq()), "the store is back")
        assert [e.action for e in audit.entries()] == ["watch"]  # the team's again
    finally:
        audit.close()
        store.close()
