"""The delete dialog says what marks from other views it holds, by status, and what it left out.

Issue 16: "two Completed rows marked in All, then Failed view, ctrl+a, `d`: 'Delete these
13 conversions…', starting with a Completed one." Also: a wrong typed count and Enter
says why. Driven with Pilot against the real sandbox.
"""

from __future__ import annotations

from textual.app import App
from textual.widgets import Input, Static

from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_triage_actions import (
    SIZE,
    all_deletes,
    deletes_of,
    first_poll,
    mark,
    modal_text,
    notices,
    on_screen,
    quick_keys,  # noqa: F401  (autouse: quick Pilot key presses)
    read_confirmation,
    table,
)
from tui.core.watchlist import WatchedConversion
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.confirm_delete import ConfirmDeleteModal, DeleteTargets
from tui.ui.screens.monitor import MonitorScreen


async def test_marks_from_another_view_are_counted_broken_down_and_deleted_rows_left_out(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    completed = [state.add_conversion(status="Completed", file_name=f"done{i}.csv")
                 for i in range(2)]
    failed = [state.add_conversion(status="Failed", errors=["bad row"], frozen=True,
                                   file_name=f"bad{i}.csv") for i in range(3)]
    gone = state.add_conversion(status="Deleted", frozen=True, file_name="gone.csv")
    ids = completed + failed + [gone]
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, ids)
        await wait_for(pilot, lambda: table(app).rows[gone].status == "Deleted",
                       what="the Deleted row polled")
        await mark(pilot, app, [*completed, gone])  # in All
        await pilot.press("3")  # the Failed view
        await wait_for(pilot, lambda: set(table(app).visible_ids) == set(failed),
                       what="the Failed view")
        await pilot.press("ctrl+a", "d")
        modal = await read_confirmation(pilot)
        text = modal_text(modal)
        assert "Delete these 5 conversions on the server?" in text, text
        assert "By status: 3 Failed, 2 Completed" in text, text
        outside = str(modal.query_one("#outside", Static).content)
        assert outside.startswith("2 of them are not in the current view (Failed)"), outside
        left_out = str(modal.query_one("#left-out", Static).content)
        assert left_out == f"1 already Deleted is left out ({gone})."
        listed = [str(s.content) for s in modal.query("#targets Static")]
        # What the user sees first is what the view showed; the others are said apart.
        assert [line.split()[0] for line in listed[:3]] == [str(i) for i in sorted(failed)]
        assert all("(Failed)" in line and "not in this view" not in line
                   for line in listed[:3]), listed
        assert all("(Completed)" in line and line.endswith("— not in this view")
                   for line in listed[3:]), listed
        assert not any(str(gone) in line for line in listed)
        assert str(modal.query_one("#delete").label) == "Delete 5 on server"

        await pilot.press("shift+tab", "5", "enter")
        await on_screen(pilot, MonitorScreen, "confirmed")
        await wait_for(pilot, lambda: all_deletes(sandbox) == 5, what="five deletes sent")
        assert deletes_of(sandbox, gone) == 0


async def test_only_deleted_rows_marked_says_there_is_nothing_to_delete(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    gone = sandbox.state.add_conversion(status="Deleted", frozen=True)
    session = monitor_session(ids=[gone])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [gone])
        await pilot.press("d")
        await wait_for(pilot, lambda: any(m.startswith("Nothing to delete: 1 already Deleted")
                                          for m in notices(app)), what="the toast")
        assert isinstance(app.screen, MonitorScreen) and all_deletes(sandbox) == 0


async def test_a_wrong_count_and_enter_says_why(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(3)]
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, ids)
        await mark(pilot, app, ids)
        await pilot.press("d")
        modal = await read_confirmation(pilot)
        problem = modal.query_one("#count-problem", Static)
        assert str(problem.content) == ""
        await pilot.press("shift+tab", "enter")  # nothing typed
        await wait_for(pilot, lambda: str(problem.content), what="the empty count explained")
        assert str(problem.content).startswith("Type 3 (how many will be deleted)")
        await pilot.press("2", "enter")
        await wait_for(pilot, lambda: str(problem.content).startswith("'2' is not 3"),
                       what="the wrong count explained")
        assert any(m.startswith("'2' is not 3") for m in notices(app)), notices(app)
        assert app.screen is modal and all_deletes(sandbox) == 0
        await pilot.press("backspace", "3")
        assert str(problem.content) == ""  # typing again clears the complaint
        assert modal.query_one("#count", Input).value == "3"
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen)
        assert all_deletes(sandbox) == 0


def row(conversion_id: int, status: str | None) -> WatchedConversion:
    """A watched row with only what the dialog reads."""
    return WatchedConversion(conversion_id, "f.csv", "Csv", status, None, (), (), {}, 0.0,
                             None, None, None, None, 0, None, None, False, None)


def test_targets_sentences() -> None:
    targets = DeleteTargets.of([row(1, "Completed"), row(2, "Failed"), row(3, None),
                                row(4, "Deleted"), row(5, "Deleted")], shown={2},
                               view_label="Failed")
    assert [r.id for r in targets.rows] == [2, 1, 3]
    assert targets.outside == {1, 3}
    assert targets.breakdown() == "1 Failed, 1 Completed, 1 status unknown"  # ties: as listed
    assert targets.outside_sentence().startswith(
        "2 of them are not in the current view (Failed)")
    assert targets.left_out_sentence() == "2 already Deleted are left out (4, 5)."
    alone = DeleteTargets.of([row(1, "Completed")], shown=set(), view_label="Failed")
    assert alone.outside_sentence().startswith("It is not in the current view (Failed)")
    seen = DeleteTargets.of([row(1, "Completed")], shown={1})
    assert seen.outside_sentence() == "" and seen.left_out_sentence() == ""
    assert isinstance(ConfirmDeleteModal([row(1, "Failed")]).targets, DeleteTargets)


async def test_a_long_list_says_how_many_of_the_unlisted_are_off_view() -> None:
    rows = [row(i, "Failed") for i in range(1, 13)] + [row(13, "Completed"),
                                                        row(14, "Completed")]
    targets = DeleteTargets.of(rows, shown=set(range(1, 13)), view_label="Failed")
    app: App[None] = App()
    async with app.run_test(size=(100, 40)) as pilot:
        app.push_screen(ConfirmDeleteModal(targets))
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDeleteModal)
                       and app.screen.query("#targets Static"), what="the dialog")
        listed = [str(s.content) for s in app.screen.query("#targets Static")]
        assert listed[-1] == "… and 2 more (2 of them not in this view)", listed
        assert "(listed last)" in str(app.screen.query_one("#outside", Static).content)
