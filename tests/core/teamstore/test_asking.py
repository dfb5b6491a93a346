"""A follower's ``r`` / ``R`` on a team store (a real PostgreSQL, the sandbox): it asks the
leader, whose scheduler checks those rows at once; with nobody leading, or a leader that
does not answer, it checks a few itself within its small budget; bad input is told."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from tests.core.teamstore.conftest import address_of
from tests.core.test_poller import quick
from tests.waiting import WAIT_BOUND, until, until_sync
from tui.api.client import ConversionsClient
from tui.core.audit import AuditLog
from tui.core.polling.asking import HERE_BUDGET, CheckNews, HereBudget
from tui.core.teamstore import LeaderLock, TeamStore
from tui.core.teamstore.asking import send_ask
from tui.core.teamstore.changes import MAX_PAYLOAD, CheckAsk, ask_payloads, parse_ask
from tui.core.teamstore.following import TeamLeadership, team_follower
from tui.core.teamstore.reader import ChangeBell
from tui.core.watching import WatchChange, WatchService
from tui.sandbox.runner import SandboxServer


def requests_for(sandbox: SandboxServer, conversion_id: int) -> int:
    return sandbox.state.stats.by_route[f"GET /v1/conversions/{conversion_id}/status"]


class NeverLeads(TeamLeadership):
    """An app that may not take the lead now (as one does for a while after its session
    was cut): with nobody holding the lock, nobody polls."""

    def try_acquire(self) -> bool:
        return False


class App:
    """One app's watch service on the team store, with what it emitted and was told."""

    def __init__(self, store_url: str, base_url: str, person: str, tmp_path: Path, *,
                 lead: type[TeamLeadership] = TeamLeadership,
                 answer_within: float = WAIT_BOUND) -> None:
        address = address_of(store_url)
        self.store = TeamStore(address, base_url, person)
        self.audit = AuditLog(tmp_path / f"{person}.audit")
        self.lead = lead(LeaderLock(address, base_url, f"{person}@desk"),
                         check_interval=0.05, store=self.store)
        self.changes: list[WatchChange] = []
        self.news: list[CheckNews] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.service = WatchService(
            self.store, self.audit, profile_name="work", user=lambda: person,
            on_change=self.changes.append, settings=quick(), poller_lock=self.lead,
            follow_interval=0.05, spawn=self._spawn, follower=team_follower,
            answer_within=answer_within)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(coro, name=name))

    def start(self, client: ConversionsClient) -> None:
        self.service.load()
        self.service.set_client(client)

    async def ask(self, ids: list[int] | None) -> list[CheckNews]:
        """Run one r (R for None) to its end; what it told."""
        before = len(self.news)
        try:
            await asyncio.wait_for(self.service.ask_check(ids, self.news.append), WAIT_BOUND)
        except TimeoutError:
            raise AssertionError(f"r of {ids} not done after {WAIT_BOUND:g} s: told "
                                 f"{self.news[before:]}; {self.said()}") from None
        return self.news[before:]

    def last(self, conversion_id: int) -> Any:
        rows = [row for c in self.changes for row in c.rows if row.id == conversion_id]
        return rows[-1] if rows else None

    def said(self) -> str:
        return "; ".join(f"rows={[(r.id, r.status, r.last_checked) for r in c.rows]}"
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
async def apps(store_url: str, sandbox: SandboxServer, tmp_path: Path
               ) -> AsyncIterator[Callable[..., App]]:
    made: list[App] = []

    def make(person: str, **options: Any) -> App:
        app = App(store_url, sandbox.base_url, person, tmp_path, **options)
        made.append(app)
        return app

    yield make
    for app in reversed(made):
        await app.close()


def test_asks_are_split_under_the_payload_limit_and_read_back() -> None:
    ids = list(range(10**17, 10**17 + 2000))
    sent = ask_payloads(ids)
    assert len(sent) > 1 and all(len(p.encode()) < MAX_PAYLOAD for p in sent)
    merged = CheckAsk()
    for payload in sent:
        parse_ask(payload, merged)
    assert merged.ids == set(ids) and not merged.everything
    assert ask_payloads([]) == [] and not CheckAsk()
    every = parse_ask(ask_payloads(None)[0])
    assert every.everything and not every.ids
    for junk in ("", "q", "q x,-1,0", "c12 1", "q 99999999999999999999"):
        assert not parse_ask(junk), junk


def test_the_leaders_bell_hears_a_followers_ask(open_store: Callable[..., TeamStore]
                                                ) -> None:
    dana, sam = open_store("dana"), open_store("sam")
    bell = ChangeBell(dana)
    heard = CheckAsk()
    try:
        send_ask(sam, [12, 13])
        send_ask(sam, None)

        def took() -> bool:
            found = bell.hear(0.2)
            assert not found.wrote  # an ask is no write: nothing for the feed to read
            heard.ids |= found.asked.ids
            heard.everything |= found.asked.everything
            return heard.ids == {12, 13} and heard.everything

        until_sync(took, lambda: f"the bell heard {heard}")
    finally:
        bell.close()


async def test_a_followers_r_is_checked_by_the_leader_at_once(
        apps: Callable[..., App], sandbox: SandboxServer, client: ConversionsClient) -> None:
    dana, sam = apps("dana"), apps("sam")
    # Settled: the leader re-checks it every 10 minutes, unless asked.
    conv = sandbox.state.add_conversion(status="Completed", frozen=True)
    dana.store.add([conv])
    dana.start(client)
    sam.start(client)
    assert dana.service.scheduler is not None and sam.service.can_ask
    await until(lambda: (row := sam.last(conv)) is not None and row.status == "Completed",
                sam.said)
    checked = requests_for(sandbox, conv)
    sandbox.state.set_status(conv, "Failed", frozen=True)

    told = await sam.ask([conv])  # returns once the leader's check is on sam's screen

    assert told == [CheckNews(asked="dana@desk", count=1)]
    assert (row := sam.last(conv)) is not None and row.status == "Failed", sam.said()
    assert requests_for(sandbox, conv) > checked
    assert sam.service.scheduler is None  # it polled nothing itself


async def test_a_followers_R_asks_for_every_row_with_one_flag(
        apps: Callable[..., App], sandbox: SandboxServer, client: ConversionsClient) -> None:
    dana, sam = apps("dana"), apps("sam")
    convs = [sandbox.state.add_conversion(status="Completed", frozen=True) for _ in range(3)]
    dana.store.add(convs)
    dana.start(client)
    sam.start(client)
    await until(lambda: all(sam.last(c) is not None and sam.last(c).status == "Completed"
                            for c in convs), sam.said)
    for conv in convs:
        sandbox.state.set_status(conv, "Failed", frozen=True)

    told = await sam.ask(None)

    assert told == [CheckNews(asked="dana@desk", everything=True)]
    await until(lambda: all(sam.last(c).status == "Failed" for c in convs), sam.said)


async def test_with_nobody_leading_a_follower_checks_its_budget_itself(
        apps: Callable[..., App], sandbox: SandboxServer, client: ConversionsClient) -> None:
    sam = apps("sam", lead=NeverLeads)
    convs = [sandbox.state.add_conversion(status="Completed", frozen=True)
             for _ in range(HERE_BUDGET + 5)]
    sam.store.add(convs)
    sam.start(client)
    assert sam.service.following and sam.service.scheduler is None

    told = await sam.ask(convs)

    assert told == [CheckNews(count=len(convs), checked_here=HERE_BUDGET, waiting=5)]
    asked = [c for c in convs if requests_for(sandbox, c)]
    assert asked == convs[:HERE_BUDGET]  # the first ones, in the order given
    stored = sam.store.get_many(convs)
    assert [c for c in convs if stored[c].last_checked is not None] == asked
    assert all(sam.last(c) is not None and sam.last(c).status == "Completed" for c in asked)

    # The budget is spent for this minute: the rest wait for a leader.
    told = await sam.ask(convs[HERE_BUDGET:])
    assert told == [CheckNews(count=5, waiting=5)]
    assert not any(requests_for(sandbox, c) for c in convs[HERE_BUDGET:])


async def test_a_leader_that_does_not_answer_leaves_a_few_to_the_follower(
        apps: Callable[..., App], sandbox: SandboxServer, client: ConversionsClient,
        store_url: str) -> None:
    conv = sandbox.state.add_conversion(status="Completed", frozen=True)
    # Another app holds the lead but polls nothing (hung, or its key refused).
    stuck = LeaderLock(address_of(store_url), sandbox.base_url, "kim@desk-2")
    assert stuck.try_acquire()
    try:
        sam = apps("sam", answer_within=0.2)
        sam.store.add([conv])
        sam.start(client)
        assert sam.service.following

        told = await sam.ask([conv])

        assert told == [CheckNews(asked="kim@desk-2", count=1),
                        CheckNews(asked="kim@desk-2", count=1, unanswered=True,
                                  checked_here=1)]
        assert requests_for(sandbox, conv) == 1
        assert (row := sam.last(conv)) is not None and row.status == "Completed"
    finally:
        stuck.release()


async def test_unwatched_ids_are_left_out_and_said(
        apps: Callable[..., App], sandbox: SandboxServer, client: ConversionsClient) -> None:
    sam = apps("sam", lead=NeverLeads)
    conv = sandbox.state.add_conversion(status="Completed", frozen=True)
    stray = sandbox.state.add_conversion(status="Completed", frozen=True)  # not watched
    sam.store.add([conv])
    sam.start(client)

    assert await sam.ask([stray]) == [CheckNews(not_watched=1)]
    assert await sam.ask([]) == [CheckNews()]
    told = await sam.ask([stray, conv])
    assert told == [CheckNews(count=1, checked_here=1, not_watched=1)]
    assert requests_for(sandbox, stray) == 0 and requests_for(sandbox, conv) == 1


def test_the_budget_here_is_a_few_a_minute() -> None:
    now = [0.0]
    budget = HereBudget(limit=20, window=60.0, clock=lambda: now[0])
    assert budget.take(15) == 15
    assert budget.take(15) == 5  # the rest of this minute's
    assert budget.take(1) == 0
    now[0] = 59.0
    assert budget.take(1) == 0
    now[0] = 60.0  # a minute after the first: all twenty again
    assert budget.take(30) == 20
