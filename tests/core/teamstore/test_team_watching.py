"""Two watch services on one team database, polling the sandbox: one polls, the other
follows by LISTEN/NOTIFY; notes go both ways; a leader whose session is cut steps down and
the other takes over."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.core.teamstore.conftest import address_of
from tests.core.test_poller import quick
from tests.waiting import WAIT_BOUND, until
from tui.api.client import ConversionsClient
from tui.core.audit import AuditLog
from tui.core.polling.leadership import PollerHolder
from tui.core.teamstore import LeaderLock, TeamStore
from tui.core.teamstore.following import TeamLeadership, team_follower
from tui.core.watching import WatchChange, WatchService
from tui.sandbox.runner import SandboxServer


class CountedLeadership(TeamLeadership):
    """A team's leadership that counts who-holds-it questions: a follower asks once per
    look, so a test can wait for looks to pass (a thread asks: a rough count is enough)."""

    looks = 0

    def holder(self) -> PollerHolder | None:
        self.looks += 1
        return super().holder()


class TeamApp:
    """One app's watch service on the team store, with what it emitted."""

    def __init__(self, store_url: str, base_url: str, person: str, tmp_path: Path) -> None:
        address = address_of(store_url)
        self.store = TeamStore(address, base_url, person)
        self.audit = AuditLog(tmp_path / f"{person}.audit")
        # A leader that lost its session waits out the test before it may lead again: the
        # other app is the one to take over.
        self.lead = CountedLeadership(LeaderLock(address, base_url, f"{person}@desk"),
                                      check_interval=0.05, yield_after_loss=WAIT_BOUND,
                                      store=self.store)
        self.changes: list[WatchChange] = []
        #: Called with each change as it is emitted (what else stood so then).
        self.hooks: list[Callable[[WatchChange], None]] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.service = WatchService(
            self.store, self.audit, profile_name="work", user=lambda: person,
            on_change=self._changed, settings=quick(), poller_lock=self.lead,
            follow_interval=0.05, spawn=self._spawn, follower=team_follower)

    def _changed(self, change: WatchChange) -> None:
        self.changes.append(change)
        for hook in self.hooks:
            hook(change)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(coro, name=name))

    def last(self, conversion_id: int) -> Any:
        rows = [row for c in self.changes for row in c.rows if row.id == conversion_id]
        return rows[-1] if rows else None

    def said(self) -> str:
        return "; ".join(f"rows={[(r.id, r.status, r.note) for r in c.rows]} "
                         f"removed={c.removed} took_over={c.took_over}"
                         for c in self.changes[-8:]) or "nothing emitted"

    async def close(self) -> None:
        self.service.stop()
        if self.tasks:
            await asyncio.wait_for(asyncio.gather(*self.tasks), WAIT_BOUND)
        self.store.close()
        self.audit.close()


@pytest.fixture
async def client(sandbox: SandboxServer) -> AsyncIterator[ConversionsClient]:
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=10) as api:
        yield api


@pytest.fixture
async def two(store_url: str, sandbox: SandboxServer, tmp_path: Path,
              client: ConversionsClient
              ) -> AsyncIterator[tuple[TeamApp, TeamApp]]:
    dana = TeamApp(store_url, sandbox.base_url, "dana", tmp_path)
    sam = TeamApp(store_url, sandbox.base_url, "sam", tmp_path)
    try:
        yield dana, sam
    finally:
        await sam.close()
        await dana.close()


async def test_one_polls_the_other_follows_and_notes_go_both_ways(
        two: tuple[TeamApp, TeamApp], sandbox: SandboxServer,
        client: ConversionsClient) -> None:
    dana, sam = two
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    dana.service.load()
    dana.service.set_client(client)
    sam.service.load()
    sam.service.set_client(client)
    assert dana.service.scheduler is not None and not dana.service.following
    assert sam.service.following and sam.service.scheduler is None
    await until(lambda: sam.service.poller_holder is not None,
                "the follower names who polls")
    holder = sam.service.poller_holder
    assert holder is not None and holder.describe() == "dana@desk"

    dana.service.watch([conv])  # polled by dana, seen by sam through the feed
    await until(lambda: (row := sam.last(conv)) is not None and row.status == "Processing",
                sam.said)
    sam.service.set_note([conv], "TICKET-12")  # the follower writes; the leader sees it
    await until(lambda: (row := dana.last(conv)) is not None and row.note == "TICKET-12",
                dana.said)
    dana.service.set_note([conv], "TICKET-13")
    await until(lambda: (row := sam.last(conv)) is not None and row.note == "TICKET-13",
                sam.said)
    assert sam.service.scheduler is None  # it never polled
    assert sam.store.signatures([conv])[conv]["note_by"] == "dana"


async def test_a_leader_whose_session_is_cut_steps_down_and_the_other_takes_over(
        two: tuple[TeamApp, TeamApp], sandbox: SandboxServer, client: ConversionsClient,
        team_database: str) -> None:
    dana, sam = two
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    dana.service.load()
    dana.service.set_client(client)
    sam.service.load()
    sam.service.set_client(client)
    assert dana.service.scheduler is not None and sam.service.following
    dana.service.watch([conv])
    await until(lambda: sam.last(conv) is not None, sam.said)

    with psycopg.connect(team_database, autocommit=True) as admin:
        cut = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = 'conversions-tui leader dana@desk'"
                            ).fetchall()
    assert cut == [(True,)]
    await until(lambda: any(c.took_over for c in sam.changes), sam.said)
    assert sam.service.scheduler is not None and not sam.service.following
    await until(lambda: dana.service.following and dana.service.scheduler is None,
                "dana stops polling once its lead is gone")
    holder = dana.service.poller_holder
    await until(lambda: (h := dana.service.poller_holder) is not None
                and h.describe() == "sam@desk",
                lambda: f"dana follows {holder and holder.describe()}")
    # Polling goes on, from sam: a change on the server reaches both.
    sandbox.state.set_status(conv, "Completed")
    await until(lambda: (row := dana.last(conv)) is not None and row.status == "Completed",
                dana.said)


async def test_the_leader_hears_a_colleagues_note_by_listen_not_by_its_next_look(
        two: tuple[TeamApp, TeamApp], sandbox: SandboxServer, client: ConversionsClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The feed's fallback look an hour away: only the notification can bring the note.
    monkeypatch.setattr("tui.core.polling.feed.WATCHLIST_SYNC_INTERVAL", 3600.0)
    dana, sam = two
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    dana.service.watch([conv])
    dana.service.load()
    dana.service.set_client(client)
    sam.service.load()
    sam.service.set_client(client)
    assert dana.service.scheduler is not None and sam.service.following
    await until(lambda: (row := dana.last(conv)) is not None and row.status == "Processing",
                dana.said)
    sam.service.set_note([conv], "TICKET-77")
    await until(lambda: (row := dana.last(conv)) is not None and row.note == "TICKET-77",
                dana.said)
