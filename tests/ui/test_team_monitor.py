"""The monitor on a team profile (``CONVERSIONS_STORE``, a real PostgreSQL): while another
app holds the base URL's lead it follows, says who polls in the header, shows what the
team writes (LISTEN/NOTIFY); once the lead is free it polls itself."""

from __future__ import annotations

from tests.fixtures.postgres import PostgresServer, postgres_server, team_database
from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_monitor import SIZE, header_text, monitor, status_of, table
from tui.core.teamstore import LeaderLock, TeamStore, resolve_store_address
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp

__all__ = ["postgres_server", "team_database"]

TIMEOUT = 30.0


async def test_a_team_monitor_follows_the_leader_then_takes_over(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        postgres_server: PostgresServer, team_database: str) -> None:
    url = postgres_server.url(team_database.rsplit("dbname=", 1)[1].split()[0])
    address = resolve_store_address(url, environ={})
    assert address is not None
    state = sandbox.state
    watched = state.add_conversion(status="Processing", frozen=True, file_name="a.csv")
    colleague = TeamStore(address, sandbox.base_url, "sam")
    other_app = LeaderLock(address, sandbox.base_url, "sam@desk-7")
    try:
        colleague.add([watched])
        assert other_app.try_acquire()
        session = monitor_session(env={"CONVERSIONS_STORE": url})
        assert isinstance(session.watchlist, TeamStore)
        app = ConversionsApp(session)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "following another monitor (sam@desk-7)"
                           in header_text(app), timeout=TIMEOUT, what="the header")
            requests_before = state.stats.total
            colleague.set_note(watched, "INC-5120")
            await wait_for(pilot, lambda: watched in table(app).rows
                           and table(app).rows[watched].note == "INC-5120",
                           timeout=TIMEOUT, what="the colleague's note shown")
            assert state.stats.total == requests_before, "the follower polled"

            other_app.release()  # the other app quits: this one polls now
            await wait_for(pilot, lambda: "following" not in header_text(app)
                           and status_of(app, watched) == "Processing", timeout=TIMEOUT,
                           what="the takeover and a check of its own")
            assert monitor(app).scheduler is not None
    finally:
        other_app.release()
        colleague.close()


async def test_inspect_says_who_noted_and_asked_to_delete_a_team_row(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        postgres_server: PostgresServer, team_database: str) -> None:
    from datetime import datetime

    from textual.widgets import Static

    from tests.ui.test_triage_actions import on_screen, plain
    from tui.ui.screens.inspect import InspectModal

    url = postgres_server.url(team_database.rsplit("dbname=", 1)[1].split()[0])
    address = resolve_store_address(url, environ={})
    assert address is not None
    watched = sandbox.state.add_conversion(status="Processing", frozen=True)
    dana, sam = TeamStore(address, sandbox.base_url, "dana"), TeamStore(
        address, sandbox.base_url, "sam")
    noted_at = datetime.now().replace(hour=10, minute=42, second=0).timestamp()
    try:
        dana.add([watched])
        dana.set_note(watched, "INC-5120", at=noted_at)
        sam.request_delete([watched], at=noted_at + 120)
        session = monitor_session(env={"CONVERSIONS_STORE": url})
        app = ConversionsApp(session)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: watched in table(app).rows, timeout=TIMEOUT,
                           what="the team's row")
            table(app).move_cursor(watched)
            await pilot.press("enter")
            modal: InspectModal = await on_screen(pilot, InspectModal)
            overview = " ".join(plain(modal.query_one(".overview", Static).content).split())
            assert "note by dana 10:42" in overview, overview
            assert "delete requested by sam 10:44" in overview, overview
    finally:
        dana.close()
        sam.close()
