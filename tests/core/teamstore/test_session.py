"""A profile with ``store = "postgresql://..."``: the monitor's session opens the team store,
polls when it leads and follows (saying who polls) when another app does."""

from __future__ import annotations

import asyncio
import getpass
import socket
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest

from tests.waiting import WAIT_BOUND, until
from tui.core.credentials import ApiKey
from tui.core.paths import AppPaths
from tui.core.session import MonitorSession
from tui.core.settings import AppConfig, ProfileSettings
from tui.core.teamstore import TeamStore
from tui.core.teamstore.audit import TeamAudit
from tui.core.watching import WatchChange, WatchService
from tui.core.watchlist import Watchlist, WatchlistError
from tui.sandbox.runner import SandboxServer


def _session(base_url: str, store: str | None, env: dict[str, str] | None = None
             ) -> MonitorSession:
    profile = ProfileSettings(name="prod", base_url=base_url, store=store)
    return MonitorSession.open(AppPaths.default(), AppConfig(), profile, env=env or {})


class Running:
    """A session and its watch service, as the monitor makes them."""

    def __init__(self, session: MonitorSession) -> None:
        self.session = session
        self.changes: list[WatchChange] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.service = WatchService.for_session(session, on_change=self.changes.append,
                                                spawn=self._spawn)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(coro, name=name))

    async def close(self) -> None:
        self.service.stop()
        if self.tasks:
            await asyncio.wait_for(asyncio.gather(*self.tasks), WAIT_BOUND)
        self.session.close()


@pytest.fixture
async def two(sandbox: SandboxServer, store_url: str) -> AsyncIterator[list[Running]]:
    made: list[Running] = []
    try:
        for _ in range(2):
            made.append(Running(_session(sandbox.base_url, store_url)))
        yield made
    finally:
        for running in reversed(made):
            await running.close()


async def test_two_monitors_on_a_team_profile_one_polls_one_follows(
        two: list[Running], sandbox: SandboxServer) -> None:
    first, second = two
    assert isinstance(first.session.watchlist, TeamStore)
    assert first.session.team_store is not None and "@127.0.0.1:" in first.session.team_store
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    client = first.session.open_client(ApiKey(sandbox.api_key))
    try:
        first.service.load()
        first.service.set_client(client)
        second.service.load()
        second.service.set_client(client)
        assert first.service.scheduler is not None and second.service.following
        await until(lambda: second.service.poller_holder is not None, "who polls")
        holder = second.service.poller_holder
        assert holder is not None
        assert holder.describe() == f"{getpass.getuser()}@{socket.gethostname()}"
        first.service.watch([conv])
        await until(lambda: any(row.id == conv and row.status == "Processing"
                                for c in second.changes for row in c.rows),
                    lambda: f"second saw {[c.rows for c in second.changes[-5:]]}")
    finally:
        await client.aclose()


def test_without_a_store_the_session_keeps_the_sqlite_watchlist(
        sandbox: SandboxServer) -> None:
    session = _session(sandbox.base_url, None)
    try:
        assert isinstance(session.watchlist, Watchlist) and session.team_store is None
    finally:
        session.close()


def test_an_unreachable_team_store_opens_away(sandbox: SandboxServer) -> None:
    """The monitor opens on a store it cannot reach (tests/core/teamstore/test_start_away.py
    follows it); a bad name for the server is no reason to stay away, as is a bad URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session = _session(sandbox.base_url, None,
                       env={"CONVERSIONS_STORE": f"postgresql://dana@127.0.0.1:{port}/team"})
    try:
        store = session.watchlist
        assert isinstance(store, TeamStore) and not store.opened
    finally:
        session.close()
    with pytest.raises(WatchlistError) as caught:
        _session(sandbox.base_url, None, env={"CONVERSIONS_STORE": "postgresql://"})
    assert "\n" not in str(caught.value)


API_CANARY = "canary-api-key-5e1d0b"


async def test_the_api_key_is_nowhere_in_the_team_database(
        sandbox: SandboxServer, store_url: str, team_database: str) -> None:
    """A monitor polls, notes and deletes with a canary key: no table, and no connection's
    name, holds it."""
    import psycopg

    sandbox.api_key = API_CANARY
    conv, gone = (sandbox.state.add_conversion(status="Failed", frozen=True) for _ in range(2))
    running = Running(_session(sandbox.base_url, store_url))
    client = running.session.open_client(ApiKey(API_CANARY))
    try:
        running.service.load()
        running.service.set_client(client)
        running.service.watch([conv, gone], note="TICKET-3")
        await until(lambda: all((row := running.session.watchlist.get(i)) is not None
                                and row.status == "Failed" for i in (conv, gone)),
                    "both rows checked")
        summary = await running.service.delete(client.client, [gone])
        assert [result.id for result in summary.requested] == [gone], summary
        deleting = running.session.watchlist.get(gone)
        assert deleting is None or deleting.delete_requested_at is not None
        with psycopg.connect(team_database) as conn:
            tables = [name for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            dumped = [text for table in tables for (text,) in conn.execute(
                f"SELECT row_to_json(t)::text FROM {table} AS t")]
            names = [name for (name,) in conn.execute(
                "SELECT application_name FROM pg_stat_activity")]
        assert any("TICKET-3" in text for text in dumped)  # the dump holds what was written
        assert not [text for text in dumped if API_CANARY in text]
        assert not [name for name in names if API_CANARY in name]
    finally:
        await client.aclose()
        await running.close()
    # Nor this machine's copy of the rows (written from what the monitor read).
    copies = sorted(AppPaths.default().data_dir.rglob("team-copy-*"))
    assert copies, "no copy of the team rows on this machine"
    assert any(b"TICKET-3" in path.read_bytes() for path in copies)
    assert not [path for path in copies if API_CANARY.encode() in path.read_bytes()]


def test_the_audit_log_of_a_team_profile_is_the_teams(
        sandbox: SandboxServer, store_url: str) -> None:
    mine, theirs = (_session(sandbox.base_url, store_url) for _ in range(2))
    try:
        service = WatchService.for_session(mine)
        service.watch([71, 72])
        service.unwatch([72])
        entries = theirs.audit.entries()
        assert [(e.action, e.ids, e.outcome) for e in entries] == [
            ("unwatch", (72,), "done (team watchlist, not the server)")]
        assert entries[0].user == getpass.getuser()
        assert isinstance(mine.audit, TeamAudit)
        assert mine.audit.fallback.entries() == []  # nothing kept on this machine
    finally:
        theirs.close()
        mine.close()


def test_the_team_audit_names_who_acknowledged_a_row(
        sandbox: SandboxServer, store_url: str) -> None:
    session = _session(sandbox.base_url, store_url)
    try:
        audit = session.audit
        assert isinstance(audit, TeamAudit)
        audit.append("acknowledge", [5, 15], "done", "prod", None)
        audit.append("acknowledge", [51], "done", "prod", None)
        audit.append("unwatch", [5], "done (local only)", "prod", None)
        found = audit.last_for("acknowledge", 5)
        assert found is not None and found.ids == (5, 15)
        assert found.user == getpass.getuser()
        assert audit.last_for("acknowledge", 1) is None  # 15 and 51 do not name 1 or 5
        assert audit.last_for("snooze", 5) is None
    finally:
        session.close()
