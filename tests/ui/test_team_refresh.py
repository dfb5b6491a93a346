"""``r`` / ``R`` on a monitor that follows a team store (a real PostgreSQL, the sandbox):
it asks the leader and says so; a leader that does not answer leaves a few rows to it,
checked here and said; an empty selection and the database away are told, not silent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.postgres import PostgresServer, postgres_server, start_server, team_database
from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_monitor import SIZE, header_text, monitor, status_of, table
from tests.waiting import WAIT_BOUND, until
from tui.core.teamstore import LeaderLock, TeamStore, resolve_store_address
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.flows.refresh import NOTHING_SELECTED

__all__ = ["postgres_server", "team_database"]

TIMEOUT = 30.0


def _notices(app: ConversionsApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def _url(server: PostgresServer, database: str) -> str:
    return server.url(database.rsplit("dbname=", 1)[1].split()[0])


@pytest.fixture
def quick_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The leader has half a second to answer (it never does here: it polls nothing)."""
    monkeypatch.setattr("tui.core.polling.asking.MIN_ANSWER_WAIT", 0.5)


async def test_r_on_a_follower_asks_the_leader_then_checks_here_when_it_does_not_answer(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        postgres_server: PostgresServer, team_database: str, quick_answer: None) -> None:
    url = _url(postgres_server, team_database)
    address = resolve_store_address(url, environ={})
    assert address is not None
    state = sandbox.state
    watched = state.add_conversion(status="Processing", frozen=True, file_name="a.csv")
    colleague = TeamStore(address, sandbox.base_url, "sam")
    # Another app holds the lead but polls nothing (hung, or its key refused).
    other_app = LeaderLock(address, sandbox.base_url, "sam@desk-7")
    try:
        colleague.add([watched])
        assert other_app.try_acquire()
        app = ConversionsApp(monitor_session(env={"CONVERSIONS_STORE": url}))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "following another monitor (sam@desk-7)"
                           in header_text(app) and watched in table(app).rows,
                           timeout=TIMEOUT, what="the header and the team's row")
            assert status_of(app, watched) is None  # nobody checked it yet
            table(app).move_cursor(watched)
            await pilot.press("r")
            await wait_for(pilot, lambda: "Asked the monitor of sam@desk-7 to check 1 "
                           "conversion; the results show here." in _notices(app),
                           timeout=TIMEOUT, what=lambda: f"the ask said; {_notices(app)}")
            await wait_for(pilot, lambda: "Checked 1 conversion here (the monitor of "
                           "sam@desk-7 did not answer)." in _notices(app)
                           and status_of(app, watched) == "Processing", timeout=TIMEOUT,
                           what=lambda: f"the check here said and shown; {_notices(app)}")
            assert state.stats.by_route[f"GET /v1/conversions/{watched}/status"] == 1
            assert colleague.get(watched).status == "Processing"  # recorded for the team

            await pilot.press("R")
            await wait_for(pilot, lambda: "Asked the monitor of sam@desk-7 to check every "
                           "watched conversion; the results show here." in _notices(app),
                           timeout=TIMEOUT, what=lambda: f"R's ask said; {_notices(app)}")
    finally:
        other_app.release()
        colleague.close()


async def test_r_on_a_follower_is_checked_by_the_leading_app_and_shown(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        postgres_server: PostgresServer, team_database: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.core.teamstore.test_asking import App
    from tui.api.client import ConversionsClient

    # The follower never checks itself in this test: what it shows is the leader's check.
    monkeypatch.setattr("tui.core.polling.asking.MIN_ANSWER_WAIT", 10 * WAIT_BOUND)
    url = _url(postgres_server, team_database)
    state = sandbox.state
    # Settled: the leader re-checks it every 10 minutes, unless asked.
    watched = state.add_conversion(status="Completed", frozen=True, file_name="a.csv")
    dana = App(url, sandbox.base_url, "dana", tmp_path)
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=10) as client:
        try:
            dana.store.add([watched])
            dana.start(client)
            assert dana.service.scheduler is not None
            await until(lambda: (row := dana.last(watched)) is not None
                        and row.status == "Completed", dana.said)
            app = ConversionsApp(monitor_session(env={"CONVERSIONS_STORE": url}))
            async with app.run_test(size=SIZE) as pilot:
                await wait_for(pilot, lambda: "following another monitor (dana@desk)"
                               in header_text(app) and status_of(app, watched) == "Completed",
                               timeout=TIMEOUT, what="the header and the leader's check")
                state.set_status(watched, "Failed", frozen=True)
                table(app).move_cursor(watched)
                await pilot.press("r")
                await wait_for(pilot, lambda: "Asked the monitor of dana@desk to check 1 "
                               "conversion; the results show here." in _notices(app),
                               timeout=TIMEOUT, what=lambda: f"the ask said; {_notices(app)}")
                await wait_for(pilot, lambda: status_of(app, watched) == "Failed",
                               timeout=TIMEOUT, what=lambda: f"the leader's answer shown: "
                               f"status {status_of(app, watched)}; {_notices(app)}")
                assert not any("here (" in n for n in _notices(app))
        finally:
            await dana.close()


async def test_r_with_nothing_selected_on_a_follower_says_so(
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
            await wait_for(pilot, lambda: "following another monitor" in header_text(app),
                           timeout=TIMEOUT, what="the header")
            requests = sandbox.state.stats.total
            await pilot.press("r")
            await wait_for(pilot, lambda: NOTHING_SELECTED in _notices(app),
                           what=lambda: f"the empty selection said; {_notices(app)}")
            assert not any("Asked" in n for n in _notices(app))
            assert sandbox.state.stats.total == requests
    finally:
        other_app.release()


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


async def test_r_on_a_follower_while_the_database_is_away_is_refused_with_its_sentence(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        own_server: PostgresServer) -> None:
    url = own_server.url(own_server.create_database())
    address = resolve_store_address(url, environ={})
    assert address is not None
    watched = sandbox.state.add_conversion(status="Processing", frozen=True)
    colleague = TeamStore(address, sandbox.base_url, "sam")
    other_app = LeaderLock(address, sandbox.base_url, "sam@desk-7")
    try:
        colleague.add([watched])
        assert other_app.try_acquire()
        app = ConversionsApp(monitor_session(env={"CONVERSIONS_STORE": url}))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "following another monitor" in header_text(app)
                           and watched in table(app).rows, timeout=TIMEOUT,
                           what="the header and the team's row")
            requests = sandbox.state.stats.total
            own_server.pause()
            try:
                table(app).move_cursor(watched)
                await pilot.press("r")

                def refusal() -> list[str]:  # (moving the cursor may say "Not saved" too)
                    return [str(n.message) for n in app._notifications
                            if n.title == "Not checked"]

                await wait_for(pilot, refusal, timeout=TIMEOUT,
                               what=lambda: f"the refusal; toasts: {_notices(app)}")
                message = refusal()[0]
                assert "team database" in message and "cannot be reached" in message, message
                assert message.endswith("Try again when the banner is gone."), message
                assert sandbox.state.stats.total == requests  # nothing checked blind
                assert not any("Background task" in n for n in _notices(app))
            finally:
                own_server.resume()
    finally:
        other_app.release()
        colleague.close()


def test_each_outcome_of_a_followers_r_is_one_plain_sentence() -> None:
    from tui.core.polling.asking import CheckNews
    from tui.ui.screens.flows.refresh import check_news_sentence

    said = {
        CheckNews(asked="dana@host", count=3):
            "Asked the monitor of dana@host to check 3 conversions; the results show here.",
        CheckNews(asked="dana@host", everything=True):
            "Asked the monitor of dana@host to check every watched conversion; the results "
            "show here.",
        CheckNews(asked="dana@host", count=1, not_watched=2):
            "Asked the monitor of dana@host to check 1 conversion (2 conversions not "
            "watched, left out); the results show here.",
        CheckNews(count=3, checked_here=3):
            "Checked 3 conversions here (no monitor polls now).",
        CheckNews(asked="dana@host", count=25, unanswered=True, checked_here=20, waiting=5):
            "Checked 20 conversions here (the monitor of dana@host did not answer); the "
            "other 5 wait for the monitor that polls.",
        CheckNews(count=5, waiting=5):
            "Nothing checked here (no monitor polls now): this monitor checks at most 20 a "
            "minute itself, and that is spent; the rest wait for the monitor that polls.",
        CheckNews(count=2, waiting=2, problem="the server refused the API key (401)"):
            "Nothing checked here (no monitor polls now): the server refused the API key "
            "(401)",
        CheckNews(everything=True):
            "Nothing to check (no monitor polls now): no conversion is watched.",
        CheckNews(not_watched=1):
            "Nothing checked: the 1 conversion asked for is not watched (any more).",
        CheckNews(): NOTHING_SELECTED,
    }
    for news, sentence in said.items():
        assert check_news_sentence(news) == sentence, news
    # A holder's name comes from the database: shown literally, without control characters.
    odd = check_news_sentence(CheckNews(asked="dana\x1b[31m@host[b]", count=1))
    assert "\x1b" not in odd and "[b]" in odd


async def test_r_with_nothing_selected_on_the_polling_monitor_says_so(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    app = ConversionsApp(monitor_session())  # a personal watchlist, empty: it polls
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: monitor(app).watching.scheduler is not None,
                       what="polling started")
        await pilot.press("r")
        await wait_for(pilot, lambda: NOTHING_SELECTED in _notices(app),
                       what=lambda: f"the empty selection said; {_notices(app)}")
        assert not any(n.startswith("Checking") for n in _notices(app))
