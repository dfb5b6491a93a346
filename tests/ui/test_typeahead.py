"""Keys typed in one burst behind a key that opens a prompt (tui/ui/typeahead.py).

Each burst is posted at once, as one pty read delivers it: every key is queued at the
table before the first one's binding has opened anything. The window's clock is the
test's (:class:`ManualClock`): on a loaded machine a modal may take longer to mount than
the window lasts, and what these tests check must not depend on that.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from textual import events
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Tabs

from tests.ui.conftest import SessionFactory, quiet_window, wait_for
from tui.core.session import MonitorSession
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.add_ids import AddIdsModal
from tui.ui.screens.confirm_delete import ConfirmDeleteModal
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.screens.text_prompt import TextPromptModal
from tui.ui.screens.upload import UploadModal
from tui.ui.typeahead import WINDOW, TypeAhead
from tui.ui.widgets.table.conversions_table import ConversionsTable

NAMES = {" ": "space", "/": "slash", "-": "minus", ".": "full_stop", "*": "asterisk"}


def burst(app: ConversionsApp, text: str) -> None:
    """Post every key of ``text`` at once (letters, digits and a few symbols)."""
    for char in text:
        app.post_message(events.Key(NAMES.get(char, char), char))


class ManualClock:
    """A clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@asynccontextmanager
async def quiet_monitor(session: MonitorSession, rows: int,
                        clock: ManualClock | None = None) -> AsyncIterator[
        tuple[ConversionsApp, Pilot[None], ConversionsTable]]:
    """The app on ``session``, its ``rows`` shown, polling paused (nothing moves), its
    type-ahead window timed by ``clock`` (a fresh :class:`ManualClock` by default)."""
    app = ConversionsApp(session)
    app.typeahead = TypeAhead(app, clock=clock or ManualClock())
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.screen.query_one(ConversionsTable)
        await wait_for(pilot, lambda: table.visible_count == rows, what="rows")
        await pilot.press("p")
        yield app, pilot, table


async def modal_with(pilot: Pilot[None], kind: type[Screen[Any]], selector: str) -> Any:
    """Wait for a ``kind`` modal whose ``selector`` widget is mounted; return that widget."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, kind) and app.screen.query(selector),
                   what=f"{kind.__name__} with {selector}")
    return app.screen.query_one(selector)


async def closed(pilot: Pilot[None]) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MonitorScreen), what="closed")


async def test_ids_typed_right_after_a_go_into_the_add_box(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    known = sandbox.state.add_conversion(status="Completed", frozen=True)
    async with quiet_monitor(monitor_session(ids=[known]), 1) as (app, pilot, table):
        # "2" and "3" are view keys on the monitor: they must not switch views.
        burst(app, "a123 2 3")
        box = await modal_with(pilot, AddIdsModal, "#ids")
        await wait_for(pilot, lambda: box.text == "123 2 3",
                       what=lambda: f"the ids typed ({box.text!r})")
        await pilot.press("escape")
        await closed(pilot)
        assert app.screen.query_one("#views", Tabs).active == "view-all"
        assert table.visible_count == 1


async def test_a_note_typed_right_after_n_is_not_a_string_of_bindings(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    first = sandbox.state.add_conversion(status="Completed", frozen=True)
    second = sandbox.state.add_conversion(status="Failed", frozen=True)
    async with quiet_monitor(monitor_session(ids=[first, second]), 2) as (app, pilot, table):
        # x would unwatch, e export, a add, r refresh, s sort, d delete, space mark...
        burst(app, "nfix sent, redo xlsx dear")
        box = await modal_with(pilot, TextPromptModal, "Input")
        await wait_for(pilot, lambda: box.value == "fix sent, redo xlsx dear",
                       what=lambda: f"the note typed ({box.value!r})")
        await pilot.press("enter")
        await closed(pilot)
        assert set(table.rows) == {first, second}  # nothing unwatched
        assert not table.marked_ids
        noted = [row.note for row in table.rows.values() if row.note]
        assert noted == ["fix sent, redo xlsx dear"]


async def test_backspace_in_the_burst_edits_and_enter_is_not_replayed(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    row = sandbox.state.add_conversion(status="Completed", frozen=True)
    async with quiet_monitor(monitor_session(ids=[row]), 1) as (app, pilot, _table):
        burst(app, "nabc")
        app.post_message(events.Key("backspace", None))
        app.post_message(events.Key("enter", "\r"))  # typed blind: must not save the note
        box = await modal_with(pilot, TextPromptModal, "Input")
        await wait_for(pilot, lambda: box.value == "ab", what=lambda: f"edited ({box.value!r})")
        await pilot.pause()  # the Enter, behind the edits, dealt with too
        assert isinstance(app.screen, TextPromptModal)  # still open, waiting for the user
        await pilot.press("escape")
        await closed(pilot)


async def test_a_backspace_in_the_burst_acts_before_the_letters_behind_it(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    # "n", then "abc", a backspace and "z" in one read: the note is "abz". A backspace
    # handed to the box as a key bubbled up to the app and ran last, deleting the "z".
    row = sandbox.state.add_conversion(status="Completed", frozen=True)
    async with quiet_monitor(monitor_session(ids=[row]), 1) as (app, pilot, _table):
        burst(app, "nabc")
        app.post_message(events.Key("backspace", None))
        burst(app, "z")
        box = await modal_with(pilot, TextPromptModal, "Input")
        await wait_for(pilot, lambda: box.value == "abz", what=lambda: f"edited ({box.value!r})")
        await quiet_window(pilot)  # nothing left over edits it afterwards
        assert box.value == "abz"
        await pilot.press("escape")
        await closed(pilot)


async def test_a_path_typed_right_after_u_goes_into_the_path_box(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    row = sandbox.state.add_conversion(status="Completed", frozen=True)
    async with quiet_monitor(monitor_session(ids=[row]), 1) as (app, pilot, _table):
        burst(app, "u/tmp/x.csv")
        box = await modal_with(pilot, UploadModal, "#path")
        await wait_for(pilot, lambda: box.value == "/tmp/x.csv",
                       what=lambda: f"path ({box.value!r})")
        # Closed before the test ends: an app torn down while the modal still mounts its
        # widgets is not what this is about.
        await pilot.pause()
        await pilot.press("escape")
        await closed(pilot)


async def test_keys_behind_d_neither_fire_bindings_nor_reach_the_confirmation(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    first = sandbox.state.add_conversion(status="Completed", frozen=True)
    second = sandbox.state.add_conversion(status="Completed", frozen=True)
    async with quiet_monitor(monitor_session(ids=[first, second]), 2) as (app, pilot, table):
        before = sandbox.state.request_count
        burst(app, "dx y")
        app.post_message(events.Key("enter", "\r"))
        await modal_with(pilot, ConfirmDeleteModal, "#cancel")
        await pilot.pause()  # whatever the burst does, it has done
        assert isinstance(app.screen, ConfirmDeleteModal)  # not confirmed blind
        assert set(table.rows) == {first, second}  # x did not unwatch
        assert sandbox.state.request_count == before  # nothing deleted
        await pilot.press("escape")
        await closed(pilot)


async def test_without_a_prompt_the_held_keys_are_dropped_and_keys_work_after(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    row = sandbox.state.add_conversion(status="Completed", frozen=True)
    session = monitor_session(ids=[row])
    session.read_only = True  # u opens nothing here
    clock = ManualClock()
    async with quiet_monitor(session, 1, clock) as (app, pilot, table):
        burst(app, "ux")  # the x behind it would unwatch the row
        await pilot.pause()  # the burst dealt with
        assert app.typeahead.active  # the window is open...
        assert isinstance(app.screen, MonitorScreen)
        assert set(table.rows) == {row}
        clock.advance(WINDOW)  # ...and now it has passed
        await wait_for(pilot, lambda: not app.typeahead.active, what="the window closed")
        assert set(table.rows) == {row}
        await pilot.press("x")  # keys work again once the window has passed
        await wait_for(pilot, lambda: not table.rows, what="x unwatches")


async def test_a_count_typed_blind_behind_d_is_dropped_and_enter_lands_on_cancel(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    ids = [sandbox.state.add_conversion(status="Completed", frozen=True) for _ in range(2)]
    async with quiet_monitor(monitor_session(ids=ids), 2) as (app, pilot, table):
        await pilot.press("ctrl+a")  # mark both: the confirmation asks for the count
        before = sandbox.state.request_count
        app.post_message(events.Key("d", "d"))
        # The rest of the burst arrives once the confirmation is up, inside the window:
        # the count is dropped, so the Enter cannot confirm; it presses Cancel.
        count = await modal_with(pilot, ConfirmDeleteModal, "#count")
        burst(app, "2")
        await pilot.pause()
        assert count.value == ""
        app.post_message(events.Key("enter", "\r"))
        await closed(pilot)
        assert sandbox.state.request_count == before  # nothing deleted
        # Escape is never held: d, then Escape at once, closes the confirmation.
        app.post_message(events.Key("d", "d"))
        await modal_with(pilot, ConfirmDeleteModal, "#count")
        app.post_message(events.Key("escape", None))
        await closed(pilot)
        assert set(table.rows) == set(ids) and sandbox.state.request_count == before
