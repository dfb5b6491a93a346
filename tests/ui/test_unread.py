"""Unread marks in the running monitor (issue 13, "since you last looked"): a row that
changes gets a bold ID; the cursor resting on it, Enter or M clear it, in the file too;
the Changed view lists exactly the unread rows; a pasted batch does not light up; the
marks survive a restart."""

from __future__ import annotations

import json
import time

import pytest
from textual.widgets import Static

from tests.ui.conftest import SessionFactory, quiet_window, wait_for
from tests.ui.test_monitor import SIZE, header_text, notices, status_of, tab_labels, table
from tui.api.models import StatusEnvelope
from tui.core.alerts.settings import AlertSettings
from tui.core.since import LastLooked
from tui.core.unread import is_unread
from tui.core.watchlist import PollResult, Watchlist
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.flows.unread import REST
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.views import VIEWS

#: The Changed view's key: views are keyed 1..N in their order.
CHANGED_KEY = str(1 + [view.key for view in VIEWS].index("changed"))


def unread_in_table(app: ConversionsApp) -> list[int]:
    """The IDs the table draws as unread (its entries' flag), ascending."""
    entries = table(app)._rows.entries
    return sorted(i for i, entry in entries.items() if entry.unread)


def unread_in_file(app: ConversionsApp) -> list[int]:
    """The unread IDs as the watchlist file holds them now (read from disk)."""
    screen = next(s for s in app.screen_stack if isinstance(s, MonitorScreen))
    watchlist = screen.session.watchlist
    return sorted(i for i in watchlist.ids()
                  if (row := watchlist.get(i)) is not None and is_unread(row))


def seen(app: ConversionsApp) -> str:
    return (f"table unread={unread_in_table(app)} file unread={unread_in_file(app)} "
            f"cursor={table(app).cursor_id} tabs={tab_labels(app)}")


async def test_a_change_is_marked_and_the_cursor_resting_on_it_reads_it(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    first, moving = (state.add_conversion(status="Processing", frozen=True) for _ in range(2))
    app = ConversionsApp(monitor_session(ids=[first, moving]))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, moving) == "Processing", what="first poll")
        assert unread_in_table(app) == [] and tab_labels(app)["view-changed"] == "Changed 0"
        state.set_status(moving, "Failed", frozen=True)
        await wait_for(pilot, lambda: unread_in_table(app) == [moving]
                       and tab_labels(app)["view-changed"] == "Changed 1",
                       what=lambda: f"the failed row marked unread; {seen(app)}")
        assert unread_in_file(app) == [moving]
        assert table(app).cursor_id == first  # the cursor was elsewhere: still unread
        await pilot.press("down")
        await wait_for(pilot, lambda: unread_in_table(app) == [] == unread_in_file(app)
                       and tab_labels(app)["view-changed"] == "Changed 0",
                       what=lambda: f"read once the cursor rested on it; {seen(app)}")


async def test_the_changed_view_lists_the_unread_rows_and_m_reads_them_all(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    ids = [state.add_conversion(status="Processing", frozen=True) for _ in range(4)]
    app = ConversionsApp(monitor_session(ids=ids))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(status_of(app, i) == "Processing" for i in ids),
                       what="first polls")
        state.set_status(ids[1], "Completed", frozen=True)
        state.set_status(ids[2], "Failed", frozen=True)
        state.set_status(ids[3], "Queued", frozen=True)  # within the flight: not news
        await wait_for(pilot, lambda: unread_in_table(app) == [ids[1], ids[2]]
                       and status_of(app, ids[3]) == "Queued",
                       what=lambda: f"two rows unread; {seen(app)}")
        await pilot.press(CHANGED_KEY)
        await wait_for(pilot, lambda: table(app).visible_ids == [ids[1], ids[2]],
                       what=lambda: f"the Changed view; shown {table(app).visible_ids}")
        # Resting on a row of the Changed view leaves it there (a list worked through).
        assert unread_in_file(app) == [ids[1], ids[2]]
        await pilot.press("M")
        await wait_for(pilot, lambda: ("information", "Marked 2 read") in notices(app),
                       what=lambda: f"the toast; toasts: {notices(app)}")
        await wait_for(pilot, lambda: unread_in_file(app) == [] == unread_in_table(app)
                       and table(app).visible_ids == [],
                       what=lambda: f"all read, the view empty; {seen(app)}")
        await pilot.press("M")
        await wait_for(pilot, lambda: ("information", "Nothing unread in this view")
                       in notices(app), what=lambda: f"nothing left; toasts: {notices(app)}")


async def test_enter_reads_the_row_it_opens(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    moving = state.add_conversion(status="Processing", frozen=True)
    app = ConversionsApp(monitor_session(ids=[moving]))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, moving) == "Processing", what="first poll")
        state.set_status(moving, "Completed", frozen=True)
        await wait_for(pilot, lambda: unread_in_table(app) == [moving],
                       what=lambda: f"unread; {seen(app)}")
        await pilot.press(CHANGED_KEY, "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "InspectModal",
                       what="Inspect")
        await wait_for(pilot, lambda: unread_in_file(app) == [] == unread_in_table(app),
                       what=lambda: f"read by Inspect; {seen(app)}")


async def test_a_pasted_batch_does_not_light_up(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    statuses = ("Completed", "Failed", "Processing", "Deleted", "Queued")
    ids = [state.add_conversion(status=statuses[n % len(statuses)], frozen=True)
           for n in range(40)]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    app = ConversionsApp(monitor_session())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AddIdsModal",
                       what="the add modal")
        await pilot.press(*f"{ids[0]}-{ids[-1]}")
        preview = str(app.screen.query_one("#preview", Static).render())
        assert preview.startswith("Will add 40"), preview
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: all(status_of(app, i) is not None for i in ids),
                       what="every pasted row answered")
        await wait_for(pilot, lambda: tab_labels(app)["view-all"] == "All 40",
                       what=lambda: f"counted; tabs {tab_labels(app)}")
        assert unread_in_table(app) == [] == unread_in_file(app), seen(app)
        assert tab_labels(app)["view-changed"] == "Changed 0"


async def test_unread_marks_survive_a_restart(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    ids = [state.add_conversion(status="Processing", frozen=True) for _ in range(3)]
    app = ConversionsApp(monitor_session(ids=ids))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(status_of(app, i) == "Processing" for i in ids),
                       what="first polls")
        for conversion_id in ids[1:]:
            state.set_status(conversion_id, "Failed", frozen=True)
        await wait_for(pilot, lambda: unread_in_table(app) == ids[1:],
                       what=lambda: f"two unread; {seen(app)}")
        await pilot.press("down")  # rests on ids[1]: read
        await wait_for(pilot, lambda: unread_in_file(app) == [ids[2]],
                       what=lambda: f"one read; {seen(app)}")
    again = ConversionsApp(monitor_session())
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(again.screen, MonitorScreen)
                       and len(table(again).rows) == 3
                       and tab_labels(again)["view-changed"] == "Changed 1",
                       what=lambda: f"the rows again; tabs {tab_labels(again)}")
        assert unread_in_table(again) == [ids[2]]


async def test_the_summary_after_a_gap_points_at_the_changed_view(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tui.ui.screens.flows.since.SINCE_AFTER", 0.1)
    state = sandbox.state
    overnight, done = (state.add_conversion(status="Processing", frozen=True)
                       for _ in range(2))
    session = monitor_session(ids=[overnight, done])
    session.watchlist.record_results([
        PollResult(i, time.time() - 5 * 3600, StatusEnvelope.from_wire(json.dumps({
            "payload": {"id": i, "status": "Processing", "fileName": "x.csv"}}).encode()))
        for i in (overnight, done)])
    LastLooked(session.paths.state_dir / "test" / "last_looked.json").write(
        time.time() - 5 * 3600)  # closed five hours ago
    state.set_status(overnight, "Failed", frozen=True)
    state.set_status(done, "Completed", frozen=True)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("Since you last looked" in m
                                          for _s, m in notices(app)),
                       what=lambda: f"the summary; toasts: {notices(app)}")
        [summary] = [m for _s, m in notices(app) if "Since you last looked" in m]
        assert summary.endswith(f". Press {CHANGED_KEY} for the Changed view"), summary
        assert unread_in_table(app) == sorted([overnight, done]), seen(app)
        await pilot.press(CHANGED_KEY)
        await wait_for(pilot, lambda: sorted(table(app).visible_ids) == sorted(
            [overnight, done]), what=lambda: f"the Changed view; {seen(app)}")


async def test_the_header_says_when_alerts_are_off(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    on, off = monitor_session(name="on"), monitor_session(name="off")
    off.profile = off.profile.model_copy(
        update={"alerts": AlertSettings().switched_off()})  # as --no-alerts does
    for session, said in ((on, False), (off, True)):
        app = ConversionsApp(session)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda app=app: isinstance(app.screen, MonitorScreen)
                           and "watched" in header_text(app), what="the header")
            assert ("NO ALERTS" in header_text(app)) is said, header_text(app)


async def test_typing_in_the_filter_is_not_reading_the_row_under_the_cursor(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    moving = state.add_conversion(status="Processing", frozen=True)
    app = ConversionsApp(monitor_session(ids=[moving]))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, moving) == "Processing", what="first poll")
        state.set_status(moving, "Failed", frozen=True)
        await wait_for(pilot, lambda: unread_in_table(app) == [moving],
                       what=lambda: f"unread; {seen(app)}")
        assert table(app).cursor_id == moving
        await pilot.press("slash", *str(moving))
        await quiet_window(pilot, 2 * REST)
        assert unread_in_file(app) == [moving], seen(app)
        await pilot.press("enter")  # back in the table, on the row: read once it rests
        await wait_for(pilot, lambda: unread_in_file(app) == [] == unread_in_table(app),
                       what=lambda: f"read after the filter; {seen(app)}")


async def test_a_row_read_in_another_monitor_is_read_here_too(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    moving = state.add_conversion(status="Processing", frozen=True)
    session = monitor_session(ids=[moving])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, moving) == "Processing", what="first poll")
        state.set_status(moving, "Completed", frozen=True)
        await wait_for(pilot, lambda: unread_in_table(app) == [moving],
                       what=lambda: f"unread; {seen(app)}")
        with Watchlist(session.watchlist.path) as elsewhere:  # the other monitor's look
            assert elsewhere.mark_read([moving], time.time()) == 1
        await wait_for(pilot, lambda: unread_in_table(app) == []
                       and tab_labels(app)["view-changed"] == "Changed 0",
                       timeout=30.0, what=lambda: f"read here too; {seen(app)}")
