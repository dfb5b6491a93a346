"""Only a monitor that polls holds the team's lead (tui/core/polling/role.py): a paused
leader, or one whose key the server refuses, lets it go and follows; a follower that is
paused or has no usable key does not take it; a monitor without a key follows from the
start. Two watch services on one real PostgreSQL, polling the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.core.teamstore.test_team_watching import TeamApp, client, two
from tests.waiting import until
from tui.api.client import ConversionsClient
from tui.core.polling.types import ConnectivityState
from tui.core.watching import WatchChange
from tui.sandbox.runner import SandboxServer

__all__ = ["client", "two"]


@pytest.fixture
async def wrong_key(sandbox: SandboxServer) -> AsyncIterator[ConversionsClient]:
    async with ConversionsClient(sandbox.base_url, "not-the-key", timeout=10) as api:
        yield api


def took_over(app: TeamApp) -> list[WatchChange]:
    return [c for c in app.changes if c.took_over]


def role(app: TeamApp) -> str:
    service = app.service
    holder = service.poller_holder
    return (f"{app.store.person}: scheduler={service.scheduler is not None} "
            f"following={service.following} holder={holder and holder.describe()} "
            f"paused={service.paused} refused={service.key_refused}; {app.said()}")


async def looks_pass(app: TeamApp, count: int = 3) -> None:
    """Wait until ``app``'s follower has looked at the store ``count`` more times."""
    start = app.lead.looks
    await until(lambda: app.lead.looks >= start + count, lambda: role(app))


async def test_a_paused_leader_lets_the_follower_poll_without_a_gap_or_a_double(
        two: tuple[TeamApp, TeamApp], sandbox: SandboxServer,
        client: ConversionsClient) -> None:
    dana, sam = two
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    dana.service.load()
    dana.service.set_client(client)
    sam.service.load()
    sam.service.set_client(client)
    dana.service.watch([conv])
    await until(lambda: (row := sam.last(conv)) is not None and row.status == "Processing"
                and (h := sam.service.poller_holder) is not None
                and h.describe() == "dana@desk", lambda: role(sam))
    old = dana.service.scheduler
    assert old is not None
    # When sam takes over, dana's poller has stopped and has nothing on the wire.
    at_takeover: list[tuple[bool, int]] = []
    sam.hooks.append(lambda c: at_takeover.append((old.stopped, old.stats.in_flight))
                     if c.took_over else None)

    dana.service.pause()
    await until(lambda: took_over(sam), lambda: role(sam))
    assert took_over(sam)[0].took_over_from == "dana@desk"
    assert at_takeover == [(True, 0)]
    await until(lambda: dana.service.following and (h := dana.service.poller_holder)
                is not None and h.describe() == "sam@desk", lambda: role(dana))
    assert dana.service.scheduler is None and dana.service.paused

    # Polling goes on from sam; dana, paused, still shows what the team sees.
    sandbox.state.set_status(conv, "Completed")
    await until(lambda: (row := dana.last(conv)) is not None and row.status == "Completed",
                dana.said)
    assert [s for s, _ in sam.store.history(conv)] == ["Processing", "Completed"]

    # Resumed while sam polls: dana follows on, and leads again once sam stops.
    dana.service.resume()
    await looks_pass(dana)
    assert dana.service.following and not took_over(dana)
    sam.service.stop()
    await until(lambda: took_over(dana), lambda: role(dana))
    assert took_over(dana)[0].took_over_from == "sam@desk"
    assert dana.service.scheduler is not None


async def test_a_paused_follower_does_not_take_the_lead_until_resumed(
        two: tuple[TeamApp, TeamApp], sandbox: SandboxServer,
        client: ConversionsClient) -> None:
    dana, sam = two
    dana.service.load()
    dana.service.set_client(client)
    sam.service.load()
    sam.service.set_client(client)
    assert sam.service.following
    sam.service.pause()
    dana.service.stop()  # the leader quits: nobody polls now
    await until(lambda: dana.lead.lock.holder() is None, "dana's lead gone")
    await looks_pass(sam)
    assert sam.service.following and not took_over(sam), role(sam)
    sam.service.resume()
    await until(lambda: took_over(sam), lambda: role(sam))
    assert sam.service.scheduler is not None and not sam.service.paused


async def test_a_leader_whose_key_is_refused_lets_a_colleague_with_a_good_key_poll(
        two: tuple[TeamApp, TeamApp], sandbox: SandboxServer,
        client: ConversionsClient, wrong_key: ConversionsClient) -> None:
    dana, sam = two
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    dana.service.load()
    dana.service.set_client(wrong_key)  # first: dana takes the lead
    sam.service.load()
    sam.service.set_client(client)
    assert dana.service.scheduler is not None and sam.service.following
    await until(lambda: (h := sam.service.poller_holder) is not None
                and h.describe() == "dana@desk", lambda: role(sam))
    dana.service.watch([conv])  # dana's first check: its key is refused

    await until(lambda: took_over(sam), lambda: role(sam))
    assert took_over(sam)[0].took_over_from == "dana@desk"
    await until(lambda: (row := sam.last(conv)) is not None and row.status == "Processing",
                sam.said)
    assert dana.service.following and dana.service.key_refused, role(dana)
    # dana's screen keeps saying the key is refused, whatever the followed feed says.
    sandbox.state.set_status(conv, "Completed")
    await until(lambda: (row := dana.last(conv)) is not None and row.status == "Completed",
                dana.said)
    last = [c.connectivity for c in dana.changes if c.connectivity is not None][-1]
    assert last.state is ConnectivityState.AUTH_FAILED, last

    # A good key: dana clears the refusal, and still follows while sam polls.
    dana.service.set_client(client)
    assert not dana.service.key_refused
    await looks_pass(dana)
    assert dana.service.following and not took_over(dana), role(dana)


async def test_a_monitor_without_a_key_follows_the_team_from_the_start(
        two: tuple[TeamApp, TeamApp], sandbox: SandboxServer,
        client: ConversionsClient) -> None:
    dana, sam = two
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    dana.service.watch([conv])
    dana.service.load()
    dana.service.set_client(client)
    sam.service.load()
    sam.service.begin()  # no key (yet)
    assert sam.service.following and not sam.service.has_key
    await until(lambda: (row := sam.last(conv)) is not None and row.status == "Processing",
                sam.said)
    sandbox.state.set_status(conv, "Completed")
    await until(lambda: (row := sam.last(conv)) is not None and row.status == "Completed",
                sam.said)

    dana.service.stop()  # nobody polls; sam has no key: it does not take the lead
    await until(lambda: dana.lead.lock.holder() is None, "dana's lead gone")
    await looks_pass(sam)
    assert sam.service.following and not took_over(sam), role(sam)
    sam.service.set_client(client)  # a key: it leads at its next look
    await until(lambda: took_over(sam), lambda: role(sam))
    assert sam.service.scheduler is not None
