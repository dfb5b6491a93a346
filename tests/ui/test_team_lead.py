"""Who polls a team store, as the monitor says it (real PostgreSQL, the sandbox): the
leader's header says it polls for the team; taking over is one calm toast naming who
stopped; a paused monitor lets a colleague poll and says it follows; a monitor without a
key follows from the start; the database away is said as such, never as "following
another monitor" with a name that may not be true."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.teamstore.test_asking import App
from tests.fixtures.postgres import PostgresServer, postgres_server, start_server, team_database
from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_monitor import SIZE, header_text, key_prompt_shown, monitor, status_of, table
from tui.api.client import ConversionsClient
from tui.core.teamstore import LeaderLock, resolve_store_address
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp

__all__ = ["postgres_server", "team_database"]

TIMEOUT = 30.0


def _url(server: PostgresServer, database: str) -> str:
    return server.url(database.rsplit("dbname=", 1)[1].split()[0])


def notices(app: ConversionsApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


async def test_the_monitor_that_takes_over_says_so_once_and_polls_for_the_team(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        postgres_server: PostgresServer, team_database: str) -> None:
    url = _url(postgres_server, team_database)
    address = resolve_store_address(url, environ={})
    assert address is not None
    other_app = LeaderLock(address, sandbox.base_url, "sam@desk-7")
    try:
        assert other_app.try_acquire()
        app = ConversionsApp(monitor_session(env={"CONVERSIONS_STORE": url}))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "following another monitor (sam@desk-7)"
                           in header_text(app), timeout=TIMEOUT, what="the header")
            assert "polling for the team" not in header_text(app)
            other_app.release()
            await wait_for(pilot, lambda: "polling for the team" in header_text(app),
                           timeout=TIMEOUT, what=lambda: f"the takeover: {header_text(app)}")
            assert "following" not in header_text(app)
            said = [n for n in notices(app) if "polls for the team" in n]
            assert said == ["This monitor polls for the team now (sam@desk-7 stopped "
                            "polling)."], notices(app)
    finally:
        other_app.release()


async def test_a_paused_team_monitor_lets_a_colleague_poll_and_follows_it(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        postgres_server: PostgresServer, team_database: str, tmp_path: Path) -> None:
    url = _url(postgres_server, team_database)
    state = sandbox.state
    watched = state.add_conversion(status="Processing", frozen=True)
    dana = App(url, sandbox.base_url, "dana", tmp_path)
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=10) as client:
        try:
            dana.store.add([watched])
            app = ConversionsApp(monitor_session(env={"CONVERSIONS_STORE": url}))
            async with app.run_test(size=SIZE) as pilot:
                await wait_for(pilot, lambda: "polling for the team" in header_text(app)
                               and status_of(app, watched) == "Processing",
                               timeout=TIMEOUT, what="this monitor polls")
                dana.start(client)  # a colleague's monitor: it follows
                assert dana.service.following
                await pilot.press("p")
                await wait_for(pilot, lambda: any(c.took_over for c in dana.changes),
                               timeout=TIMEOUT, what=dana.said)
                await wait_for(pilot, lambda: "following another monitor (dana@desk)"
                               in header_text(app), timeout=TIMEOUT,
                               what=lambda: f"the header: {header_text(app)}")
                assert "PAUSED" in header_text(app)
                assert "polling for the team" not in header_text(app)
                assert monitor(app).scheduler is None
                # dana polls; this monitor shows what dana sees.
                state.set_status(watched, "Completed", frozen=True)
                await wait_for(pilot, lambda: status_of(app, watched) == "Completed",
                               timeout=TIMEOUT, what="dana's check shown here")
        finally:
            await dana.close()


async def test_a_team_monitor_without_a_key_follows_the_leader_from_the_start(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        postgres_server: PostgresServer, team_database: str, tmp_path: Path) -> None:
    url = _url(postgres_server, team_database)
    state = sandbox.state
    watched = state.add_conversion(status="Processing", frozen=True)
    dana = App(url, sandbox.base_url, "dana", tmp_path)
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=10) as client:
        try:
            dana.store.add([watched])
            dana.start(client)
            assert dana.service.scheduler is not None
            app = ConversionsApp(monitor_session(key=None, env={"CONVERSIONS_STORE": url}))
            async with app.run_test(size=SIZE) as pilot:
                await wait_for(pilot, lambda: key_prompt_shown(app), what="the key prompt")
                await wait_for(pilot, lambda: "no API key · following another monitor "
                               "(dana@desk)" in header_text(app), timeout=TIMEOUT,
                               what=lambda: f"the header: {header_text(app)}")
                # The leader writes; the rows here follow, the key prompt still up.
                state.set_status(watched, "Failed", frozen=True)
                await wait_for(pilot, lambda: status_of(app, watched) == "Failed",
                               timeout=TIMEOUT, what="the leader's check shown here")
                assert key_prompt_shown(app)
                dana.service.set_note([watched], "INC-9")
                await wait_for(pilot, lambda: table(app).rows[watched].note == "INC-9",
                               timeout=TIMEOUT, what="a colleague's note shown here")
        finally:
            await dana.close()


async def test_the_header_says_the_team_database_is_away_not_whom_it_follows(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        own_server: PostgresServer) -> None:
    url = own_server.url(own_server.create_database())
    watched = sandbox.state.add_conversion(status="Processing", frozen=True)
    app = ConversionsApp(monitor_session(env={"CONVERSIONS_STORE": url}))
    async with app.run_test(size=SIZE) as pilot:
        monitor(app).watching.watch([watched])
        await wait_for(pilot, lambda: "polling for the team" in header_text(app)
                       and status_of(app, watched) == "Processing", timeout=TIMEOUT,
                       what="this monitor polls")
        own_server.pause()
        try:
            await wait_for(pilot, lambda: "not polling: team database away"
                           in header_text(app), timeout=TIMEOUT,
                           what=lambda: f"the header: {header_text(app)}")
            assert "following" not in header_text(app)
            assert "polling for the team" not in header_text(app)
        finally:
            own_server.resume()
        await wait_for(pilot, lambda: "polling for the team" in header_text(app),
                       timeout=2 * TIMEOUT, what=lambda: f"the lead again: {header_text(app)}")


async def test_a_team_monitor_whose_key_is_refused_lets_a_colleague_poll(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        postgres_server: PostgresServer, team_database: str, tmp_path: Path) -> None:
    url = _url(postgres_server, team_database)
    state = sandbox.state
    watched = state.add_conversion(status="Processing", frozen=True)
    dana = App(url, sandbox.base_url, "dana", tmp_path)
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=10) as client:
        try:
            dana.store.add([watched])
            app = ConversionsApp(monitor_session(key="not-the-key",
                                                 env={"CONVERSIONS_STORE": url}))
            async with app.run_test(size=SIZE) as pilot:
                await wait_for(pilot, lambda: key_prompt_shown(app), timeout=TIMEOUT,
                               what="the key prompt after the refusal")
                dana.start(client)  # a colleague with a good key: it polls now
                await wait_for(pilot, lambda: dana.service.scheduler is not None,
                               timeout=TIMEOUT, what=dana.said)
                await wait_for(pilot, lambda: "key refused · following another monitor "
                               "(dana@desk)" in header_text(app), timeout=TIMEOUT,
                               what=lambda: f"the header: {header_text(app)}")
                state.set_status(watched, "Completed", frozen=True)
                await wait_for(pilot, lambda: status_of(app, watched) == "Completed",
                               timeout=TIMEOUT, what="dana's check shown here")
        finally:
            await dana.close()


def test_the_takeover_toast_names_who_stopped_literally() -> None:
    from tui.ui.screens.flows.header import took_over_sentence

    said = took_over_sentence("[b]sam[/b]\x1b[31m@desk-7\x07", team=True)
    assert said.startswith("This monitor polls for the team now ([b]sam[/b]"), said
    assert "\x1b" not in said and "\x07" not in said
    assert took_over_sentence("", team=False) == "This monitor polls this watchlist now."
