"""What the monitor says on a team profile (issue 15): an unwatch and a note are the
team's, not "local"; the help names the team database and who polls; the offline banner
shows why the database cannot be reached at 120 columns (a real PostgreSQL, the sandbox)."""

from __future__ import annotations

import socket
import time

from rich.console import Console

from tests.fixtures.postgres import PostgresServer, postgres_server, team_database
from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_monitor import SIZE, table
from tests.ui.test_triage_actions import modal_text, notices, on_screen
from tui.core.polling.types import Connectivity, ConnectivityState
from tui.core.teamstore import TeamStore, TeamStoreError, resolve_store_address
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.help import HelpScreen, _paths_table
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.screens.text_prompt import TextPromptModal
from tui.ui.widgets.connectivity_banner import describe_connectivity

__all__ = ["postgres_server", "team_database"]

TIMEOUT = 30.0


def _url(server: PostgresServer, database: str) -> str:
    return server.url(database.rsplit("dbname=", 1)[1].split()[0])


async def test_on_a_team_store_unwatch_and_note_say_the_team_and_help_names_it(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        postgres_server: PostgresServer, team_database: str) -> None:
    url = _url(postgres_server, team_database)
    watched = sandbox.state.add_conversion(status="Processing", frozen=True)
    session = monitor_session(env={"CONVERSIONS_STORE": url})
    session.watchlist.add([watched])
    display = str(resolve_store_address(url, environ={}))
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        grid = table(app)
        await wait_for(pilot, lambda: watched in grid.rows, timeout=TIMEOUT,
                       what="the team's row")
        monitor = app.screen
        assert isinstance(monitor, MonitorScreen)
        await wait_for(pilot, lambda: monitor.watching.scheduler is not None,
                       timeout=TIMEOUT, what="this monitor polling")

        await pilot.press("question_mark")
        help_screen = await on_screen(pilot, HelpScreen, "help")
        assert help_screen.paths is not None
        rows = dict(help_screen.paths.rows())
        assert rows["Team database"] == display and rows["Polled by"] == "this monitor", rows
        assert "Audit log" not in rows and "Audit, offline" in rows  # the log is the team's
        console = Console(width=200, color_system=None)
        with console.capture() as drawn:
            console.print(_paths_table(help_screen.paths))
        assert f"Team database   {display}" in drawn.get(), drawn.get()
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen)

        grid.move_cursor(watched)
        await pilot.press("n")
        prompt = await on_screen(pilot, TextPromptModal, "the note prompt")
        hint = modal_text(prompt)
        assert "A note for the whole team" in hint and "A local note" not in hint, hint
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen)

        await pilot.press("x")
        await wait_for(pilot, lambda: watched not in grid.rows, timeout=TIMEOUT,
                       what="unwatched")
        await wait_for(pilot, lambda: any(m.startswith("Unwatched") for m in notices(app)),
                       timeout=TIMEOUT, what=lambda: f"the unwatch toast; {notices(app)}")
        toast = next(m for m in notices(app) if m.startswith("Unwatched"))
        assert "Unwatched for the whole team: nothing was deleted on the server." in toast
        assert "Local only" not in toast
    entries = session.audit.entries()
    assert ("unwatch", (watched,), "done (team watchlist, not the server)") in [
        (entry.action, entry.ids, entry.outcome) for entry in entries]


def test_the_offline_banner_shows_the_cause_within_120_columns() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = resolve_store_address(
        f"postgresql://dana@127.0.0.1:{port}/conversions", environ={})
    assert address is not None
    try:
        TeamStore(address, "https://api.example.com", "dana")
    except TeamStoreError as error:
        message = str(error)
    else:
        raise AssertionError("a store on a closed port opened")
    now = time.time()
    said = describe_connectivity(
        Connectivity(ConnectivityState.OFFLINE, now - 60, now + 3, message), now)
    shown = (" " + said)[:SIZE[0]]  # the banner is one line, a space first
    assert "cannot be reached (Connection refused)" in shown, shown
