"""A team action while the team database is away: one clear toast with the store's
sentence ("Not saved: … try again when the banner is gone"), the rows as they were, no
crash and not the generic "Background task … failed" (a server of its own, stopped and
started again, so the session's server stays up for the other tests)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.fixtures.postgres import PostgresServer, start_server
from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_monitor import SIZE, table
from tests.ui.test_triage_actions import on_screen
from tui.core.teamstore import TeamStore, TeamStoreError, resolve_store_address
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.screens.text_prompt import TextPromptModal

TIMEOUT = 30.0


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


def refusals(app: ConversionsApp) -> list[tuple[str, str]]:
    return [(n.title, n.message) for n in app._notifications if n.title]


def generic_failures(app: ConversionsApp) -> list[str]:
    return [n.message for n in app._notifications if "Background task" in n.message]


def store_answers(store: object, conversion_id: int) -> bool:
    assert isinstance(store, TeamStore)
    try:
        store.get(conversion_id)
    except TeamStoreError:
        return False
    return True


async def refused(pilot: Pilot[Any], app: ConversionsApp, count: int) -> tuple[str, str]:
    await wait_for(pilot, lambda: len(refusals(app)) >= count, timeout=TIMEOUT,
                   what=lambda: f"refusal toast {count}; toasts: "
                                f"{[n.message for n in app._notifications]}")
    return refusals(app)[count - 1]


async def refused_saying(pilot: Pilot[Any], app: ConversionsApp, words: str
                        ) -> tuple[str, str]:
    """The first refusal toast whose message holds ``words`` (a resting cursor's "mark
    read" may be refused before it, the database being away: a toast of its own)."""
    def found() -> list[tuple[str, str]]:
        return [(title, message) for title, message in refusals(app) if words in message]

    await wait_for(pilot, found, timeout=TIMEOUT,
                   what=lambda: f"a refusal saying {words!r}; toasts: "
                                f"{[n.message for n in app._notifications]}")
    return found()[0]


async def test_a_refused_team_write_is_one_clear_toast_and_changes_nothing(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        own_server: PostgresServer) -> None:
    url = own_server.url(own_server.create_database())
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
        await wait_for(pilot, lambda: watched in grid.rows, timeout=TIMEOUT,
                       what="the team's row")
        own_server.pause()
        try:
            grid.move_cursor(watched)
            await pilot.press("n")
            prompt = await on_screen(pilot, TextPromptModal, "the note prompt")
            await pilot.press(*"INC-7", "enter")
            # Refused: said in the dialog, which stays open with the text; esc closes it
            # and the toast gives the text back.
            await wait_for(pilot, lambda: prompt.query_one("#problem").has_class("-shown"),
                           timeout=TIMEOUT, what="the refusal in the note dialog")
            await pilot.press("escape")
            await on_screen(pilot, MonitorScreen)
            title, message = await refused_saying(pilot, app, "save the note")
            assert title == "Not saved"
            assert "team database" in message and "cannot be reached" in message, message
            # The note typed is given back, so it need not be remembered.
            assert message.endswith("Try again when the banner is gone. Your text: INC-7"), \
                message
            assert "\n" not in message and "Traceback" not in message
            assert grid.rows[watched].note is None  # nothing shown that was not saved

            await pilot.press("k")  # acknowledge: refused the same way
            title, message = await refused_saying(pilot, app, "acknowledge")
            assert title == "Not saved" and "cannot be reached" in message, message
            assert grid.rows[watched].acknowledged_at is None
            assert generic_failures(app) == []
            assert app.is_running
        finally:
            own_server.resume()
        # Back (the app reconnects by itself): the same action is saved.
        await wait_for(pilot, lambda: store_answers(session.watchlist, watched),
                       timeout=TIMEOUT, what="the team store answering again")
        grid.move_cursor(watched)
        await pilot.press("n")
        await on_screen(pilot, TextPromptModal, "the note prompt")
        await pilot.press(*"INC-7", "enter")
        await wait_for(pilot, lambda: grid.rows[watched].note == "INC-7", timeout=TIMEOUT,
                       what=lambda: f"the note saved; toasts: {refusals(app)}")
        assert generic_failures(app) == []


async def test_a_start_while_the_team_database_is_down_shows_the_saved_rows_read_only(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        own_server: PostgresServer) -> None:
    """Down at start: the monitor opens on the rows saved on this machine, one banner says
    so, a note is refused with the text given back; back: the banner goes, a colleague's
    note made meanwhile shows, and notes are saved."""
    from tui.ui.widgets.connectivity_banner import ConnectivityBanner

    url = own_server.url(own_server.create_database())
    address = resolve_store_address(url, environ={})
    assert address is not None
    watched = sandbox.state.add_conversion(status="Processing", frozen=True)
    with TeamStore(address, sandbox.base_url, "sam") as colleague:
        colleague.add([watched], note="INC-1")
    earlier = monitor_session(env={"CONVERSIONS_STORE": url})  # an earlier run's copy
    assert isinstance(earlier.watchlist, TeamStore) and earlier.watchlist.mirror is not None
    earlier.watchlist.all()
    earlier.watchlist.mirror.close()  # saved, and the next session may write it
    with TeamStore(address, sandbox.base_url, "sam") as colleague:
        colleague.set_note(watched, "INC-2")  # written while this machine is away

    own_server.pause()
    resumed = False
    try:
        session = monitor_session(env={"CONVERSIONS_STORE": url})
        session.initial_ids = [watched + 1]  # given on the command line
        app = ConversionsApp(session)
        async with app.run_test(size=SIZE) as pilot:
            grid = table(app)
            await wait_for(pilot, lambda: watched in grid.rows, timeout=TIMEOUT,
                           what="the saved row")
            title, message = await refused(pilot, app, 1)  # the command line's IDs
            assert title == "Not watched" and message.endswith(f"Your text: {watched + 1}")
            assert grid.rows[watched].note == "INC-1"
            banner = app.screen.query_one(ConnectivityBanner)
            await wait_for(pilot, lambda: banner.has_class("-shown"), timeout=TIMEOUT,
                           what="the banner")
            said = str(banner.render())
            assert "team database cannot be reached" in said, said
            assert "rows as saved on this machine at" in said, said
            grid.move_cursor(watched)
            await pilot.press("n")
            prompt = await on_screen(pilot, TextPromptModal, "the note prompt")
            await pilot.press("ctrl+u", *"INC-7", "enter")
            # Refused in the dialog, which stays open with the text; esc gives it back.
            await wait_for(pilot, lambda: prompt.query_one("#problem").has_class("-shown"),
                           timeout=TIMEOUT, what="the refusal in the note dialog")
            await pilot.press("escape")
            await on_screen(pilot, MonitorScreen)
            title, message = await refused(pilot, app, 2)
            assert title == "Not saved" and "cannot be reached" in message, message
            assert message.endswith("Your text: INC-7"), message
            assert grid.rows[watched].note == "INC-1"
            assert generic_failures(app) == [] and app.is_running

            own_server.resume()
            resumed = True
            await wait_for(pilot, lambda: not banner.has_class("-shown"), timeout=TIMEOUT,
                           what=lambda: f"the banner gone: {banner.render()}")
            await wait_for(pilot, lambda: grid.rows[watched].note == "INC-2",
                           timeout=TIMEOUT, what="the colleague's note made meanwhile")
            await wait_for(pilot, lambda: store_answers(session.watchlist, watched),
                           timeout=TIMEOUT, what="the team store answering")
            grid.move_cursor(watched)
            await pilot.press("n")
            await on_screen(pilot, TextPromptModal, "the note prompt")
            await pilot.press("ctrl+u", *"INC-7", "enter")
            await wait_for(pilot, lambda: grid.rows[watched].note == "INC-7",
                           timeout=TIMEOUT, what=lambda: f"the note saved: {refusals(app)}")
            assert generic_failures(app) == []
    finally:
        if not resumed:
            own_server.resume()
