"""The team database away mid-run, as a person meets it (issue 15): every action is refused
with one clear sentence and nothing typed is lost; what the app reads by itself stays quiet.

- delete: "Not deleted …" before the confirmation once the store is known away, nothing
  sent; and never the generic "Background task … failed: ExceptionGroup";
- the note, the snooze and add IDs: a refused save keeps the dialog open with the sentence
  in it and the text as typed; esc then gives the whole text back in a toast;
- the cursor resting on a row (a read mark the app writes by itself): no toast;
- Inspect: the row as on screen, with one line saying its history cannot be read now;
- the summary strip's activity read: no generic toast.

A PostgreSQL server of this module's own is stopped and started again, so the session's
server stays up for the other tests.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

from tests.fixtures.postgres import PostgresServer, start_server
from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_monitor import SIZE, table
from tests.ui.test_triage_actions import on_screen
from tui.core.teamstore import TeamStore, resolve_store_address
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.add_ids import AddIdsModal
from tui.ui.screens.confirm_delete import ConfirmDeleteModal
from tui.ui.screens.inspect import InspectModal
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.screens.text_prompt import TextPromptModal
from tui.ui.widgets.summary_strip import SummaryStrip

TIMEOUT = 30.0


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


def toasts(app: ConversionsApp) -> list[tuple[str, str]]:
    return [(n.title, n.message) for n in app._notifications]


def generic_failures(app: ConversionsApp) -> list[str]:
    return [n.message for n in app._notifications if "Background task" in n.message]


def titled(app: ConversionsApp, title: str) -> list[str]:
    return [n.message for n in app._notifications if n.title == title]


def monitor(app: ConversionsApp) -> MonitorScreen:
    (screen,) = [s for s in app.screen_stack if isinstance(s, MonitorScreen)]
    return screen


def store_of(app: ConversionsApp) -> TeamStore:
    store = monitor(app).session.watchlist
    assert isinstance(store, TeamStore)
    return store


@asynccontextmanager
async def team_monitor(sandbox: SandboxServer, monitor_session: SessionFactory,
                       server: PostgresServer, *, away: bool = True,
                       ) -> AsyncIterator[tuple[ConversionsApp, Pilot[Any], int]]:
    """A monitor on a fresh team database watching one frozen row; ``away``: the server
    stopped once the row is on screen, and the store known away (the banner's case).
    The server is started again at the end."""
    url = server.url(server.create_database())
    address = resolve_store_address(url, environ={})
    assert address is not None
    watched = sandbox.state.add_conversion(status="Processing", frozen=True)
    colleague = TeamStore(address, sandbox.base_url, "sam")
    try:
        colleague.add([watched])
    finally:
        colleague.close()
    session = monitor_session(env={"CONVERSIONS_STORE": url})
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        grid = table(app)
        await wait_for(pilot, lambda: watched in grid.rows and grid.rows[watched].status,
                       timeout=TIMEOUT, what="the team's row, checked")
        grid.move_cursor(watched)
        if not away:
            yield app, pilot, watched
            return
        server.pause()
        try:
            store = store_of(app)
            await wait_for(pilot, lambda: store.away_since is not None, timeout=TIMEOUT,
                           what="the team store known away")
            yield app, pilot, watched
        finally:
            server.resume()


async def test_delete_while_the_store_is_known_away_is_refused_before_asking(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        own_server: PostgresServer) -> None:
    async with team_monitor(sandbox, monitor_session, own_server) as (app, pilot, watched):
        await pilot.press("d")
        await wait_for(pilot, lambda: titled(app, "Not deleted"), timeout=TIMEOUT,
                       what=lambda: f"the refusal; toasts {toasts(app)}")
        assert not isinstance(app.screen, ConfirmDeleteModal)
        (message,) = titled(app, "Not deleted")
        assert "team database" in message and "cannot be reached" in message, message
        assert "Nothing was sent to the server." in message, message
        assert message.endswith("Try again when the banner is gone."), message
        assert "\n" not in message
        assert sandbox.state.status_of(watched) == "Processing"  # nothing sent
        assert generic_failures(app) == []


async def test_delete_refused_after_the_confirmation_is_the_same_sentence(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        own_server: PostgresServer) -> None:
    """The store not known away yet when asked: the delete, refused, says so plainly
    (the old code: "Background task delete failed: ExceptionGroup …")."""
    async with team_monitor(sandbox, monitor_session, own_server, away=False) as (
            app, pilot, watched):
        await pilot.press("d")
        modal = await on_screen(pilot, ConfirmDeleteModal, "the delete's question")
        own_server.pause()
        try:
            modal.dismiss(True)
            await wait_for(pilot, lambda: titled(app, "Not deleted") or generic_failures(app),
                           timeout=TIMEOUT, what=lambda: f"the refusal; toasts {toasts(app)}")
            assert generic_failures(app) == []
            (message,) = titled(app, "Not deleted")
            assert "cannot be reached" in message and "Nothing was sent" in message, message
            assert "couldn't get a connection" not in message, message
            assert sandbox.state.status_of(watched) == "Processing"
        finally:
            own_server.resume()


async def test_a_refused_note_stays_in_its_dialog_and_comes_back_whole(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        own_server: PostgresServer) -> None:
    async with team_monitor(sandbox, monitor_session, own_server) as (app, pilot, watched):
        before = len(toasts(app))
        await pilot.press("n")
        prompt = await on_screen(pilot, TextPromptModal, "the note prompt")
        # Opened from the row in memory: nothing was read, nothing refused yet.
        assert toasts(app)[before:] == []
        text = "INC-6001 " + "x" * 180
        box = prompt.query_one(Input)
        box.value = text
        await pilot.press("enter")
        problem = prompt.query_one("#problem", Static)
        await wait_for(pilot, lambda: problem.has_class("-shown"), timeout=TIMEOUT,
                       what=lambda: f"the refusal in the dialog; toasts {toasts(app)}")
        assert app.screen is prompt  # still open, the text as typed
        assert box.value == text
        said = str(problem.render())
        assert "cannot be reached" in said and "Try again when the banner is gone" in said
        assert monitor(app).table.rows[watched].note is None
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen)
        await wait_for(pilot, lambda: titled(app, "Not saved"), what="the toast")
        (message,) = titled(app, "Not saved")
        assert message.endswith(f"Your text: {text}"), message  # whole, not cut
        assert generic_failures(app) == []


async def test_refused_snooze_and_add_ids_stay_in_their_dialogs(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        own_server: PostgresServer) -> None:
    async with team_monitor(sandbox, monitor_session, own_server) as (app, pilot, watched):
        await pilot.press("K")
        prompt = await on_screen(pilot, TextPromptModal, "the snooze prompt")
        await pilot.press(*"2h", "enter")
        problem = prompt.query_one("#problem", Static)
        await wait_for(pilot, lambda: problem.has_class("-shown"), timeout=TIMEOUT,
                       what=lambda: f"the snooze refused in its dialog; toasts {toasts(app)}")
        assert app.screen is prompt and prompt.query_one(Input).value == "2h"
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen)
        assert monitor(app).table.rows[watched].snoozed_until is None

        await pilot.press("a")
        modal = await on_screen(pilot, AddIdsModal, "the add IDs dialog")
        pasted = "Ticket INC-6002: please watch 4512 and 4513-4515"
        modal.query_one(TextArea).load_text(pasted)
        await pilot.press("ctrl+s")
        problem = modal.query_one("#problem", Static)
        await wait_for(pilot, lambda: problem.has_class("-shown"), timeout=TIMEOUT,
                       what=lambda: f"the add refused in its dialog; toasts {toasts(app)}")
        assert app.screen is modal and modal.query_one(TextArea).text == pasted
        assert "cannot be reached" in str(problem.render())
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen)
        await wait_for(pilot, lambda: titled(app, "Not added"), what="the toast")
        assert titled(app, "Not added")[0].endswith(f"Your text: {pasted}")
        assert 4512 not in monitor(app).table.rows
        assert generic_failures(app) == []


async def test_inspect_opens_from_the_row_on_screen_while_the_store_is_away(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        own_server: PostgresServer) -> None:
    async with team_monitor(sandbox, monitor_session, own_server) as (app, pilot, watched):
        await pilot.press("enter")
        modal = await on_screen(pilot, InspectModal, "Inspect")
        assert modal.row.id == watched and modal.row.status == "Processing"
        notice = str(modal.query_one("#notice", Static).render())
        assert "history and who did what cannot be read while the team database is away" \
            in notice, notice
        assert titled(app, "Not shown") == [] and generic_failures(app) == []


async def test_what_the_app_reads_or_marks_by_itself_stays_quiet(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        own_server: PostgresServer) -> None:
    """The cursor resting on a row (a read mark) and the summary strip's activity read:
    refused by the store, no toast at all (the banner says it)."""
    async with team_monitor(sandbox, monitor_session, own_server) as (app, pilot, _):
        screen = monitor(app)
        strip = screen.query_one(SummaryStrip)
        reads = strip.reads
        strip._read_activity()
        await wait_for(pilot, lambda: strip.reads > reads and not [
            w for w in app.workers if w.group == "activity" and w.is_running],
            what="the activity read done")
        await pilot.pause()  # a failure's report, if any, is shown
        pressed = time.monotonic()
        await pilot.press("down")  # a key: the row under the cursor is read once it rests
        unread = screen.unread
        await wait_for(pilot, lambda: unread._timer is None
                       and time.monotonic() - pressed > 1.5, what="the cursor rested")
        assert titled(app, "Not saved") == []
        assert generic_failures(app) == [], generic_failures(app)
