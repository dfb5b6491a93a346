"""The audit log follows a delete to its end: the request, then the confirmation the
monitor's polling sees (Deleted, or a 404 after the request), under one user name."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.ui.conftest import SessionFactory, polls_settled, wait_for
from tests.ui.test_triage_actions import (
    confirm_single,
    first_poll,
    monitor,
    quick_keys,  # noqa: F401  (autouse: Pilot's idle waits capped)
    status_of,
    table,
)
from tui.sandbox.demo_data import DEMO_PROFILE
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.flows.changes import ANNOUNCE_EVERY

SIZE = (120, 36)
OWNER = str(DEMO_PROFILE["email"])


async def delete_row(pilot: Pilot[Any], app: ConversionsApp, conversion_id: int) -> None:
    """Delete ``conversion_id`` with ``d`` and wait until the row shows DeletionPending."""
    table(app).move_cursor(conversion_id)
    await pilot.press("d")
    await confirm_single(pilot)
    await wait_for(pilot, lambda: status_of(app, conversion_id) == "DeletionPending",
                   timeout=60, what=f"{conversion_id} shows DeletionPending")


async def test_a_delete_is_audited_when_asked_and_when_confirmed(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    shown = state.add_conversion(status="Completed", file_name="shown.csv")
    purged = state.add_conversion(status="Completed", file_name="purged.csv")
    session = monitor_session(ids=[shown, purged])
    app = ConversionsApp(session)

    def confirmed() -> dict[int, str | None]:
        return {e.ids[0]: e.detail for e in session.audit.entries()
                if e.action == "delete" and e.outcome == "confirmed"}

    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [shown, purged])
        await delete_row(pilot, app, shown)
        state.advance(6)  # past DeletionPending (5 s): a poll sees Deleted
        await wait_for(pilot, lambda: shown in confirmed(), timeout=60,
                       what="the confirmation of the first delete")

        await delete_row(pilot, app, purged)
        state.advance(6 + 301)  # Deleted and purged before any poll: the poll gets a 404
        await wait_for(pilot, lambda: purged in confirmed(), timeout=60,
                       what="the confirmation of the second delete")
        await pilot.pause()
    entries = list(reversed(session.audit.entries()))
    assert [(e.ids[0], e.outcome) for e in entries] == [
        (shown, "requested"), (shown, "confirmed"), (purged, "requested"),
        (purged, "confirmed")], entries
    assert {e.user for e in entries} == {OWNER}  # one name for asking and confirming
    assert confirmed() == {
        shown: "deletion confirmed: the server reports it Deleted",
        purged: "deletion confirmed: the server no longer has it (404 after the delete "
                "request)"}


async def test_a_delete_someone_else_did_first_is_told_once_as_already_deleted(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    """The demo's colleague deletes a finished conversion just before our delete is sent:
    the server answers 410. That is one story, "already deleted", in the toast and the
    audit log; the poll that then sees Deleted must not add "deleted (confirmed by the
    server)" nor an audit "confirmed". Our own accepted delete is still confirmed once."""
    state = sandbox.state
    gone = state.add_conversion(status="Completed", frozen=True,
                                file_name="delivery_notes_8441.pdf")
    ours = state.add_conversion(status="Completed", file_name="invoices_2026-08.csv")
    session = monitor_session(ids=[gone, ours])
    app = ConversionsApp(session)

    seen: list[str] = []  # every toast, also those that timed out already
    notify = app.notify

    def keep(message: str, *args: Any, **options: Any) -> None:
        seen.append(message)
        notify(message, *args, **options)

    app.notify = keep  # type: ignore[method-assign]

    def toasts() -> list[str]:
        return list(seen)

    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [gone, ours])
        screen = monitor(app)
        await pilot.press("p")  # no poll may see Deleted before the delete is sent
        await polls_settled(pilot)
        state.set_status(gone, "Deleted")  # the colleague's delete
        table(app).move_cursor(gone)
        await pilot.press("d")
        await confirm_single(pilot)
        told = (f"1 already deleted\n{gone} delivery_notes_8441.pdf: was already deleted on "
                "the server, not by this request")
        await wait_for(pilot, lambda: any(told in m for m in toasts()),
                       what=lambda: f"a toast saying {told!r}; shown: {toasts()}")
        checked = table(app).rows[gone].last_checked

        await pilot.press("p")  # polling again; and a check of the deleted row now
        await delete_row(pilot, app, ours)
        table(app).move_cursor(gone)
        await pilot.press("r")
        await wait_for(pilot, lambda: table(app).rows[gone].last_checked != checked,
                       timeout=60, what=f"a poll of {gone} after its 410")
        state.advance(6)  # past DeletionPending: a poll sees ours Deleted
        mine = f"{ours} invoices_2026-08.csv"
        await wait_for(pilot, lambda: any(mine in m and "confirmed by the server" in m
                                          for m in toasts()), timeout=60,
                       what=lambda: f"a toast saying {mine!r}; shown: {toasts()}")
        await wait_for(pilot, lambda: not screen.changes.pending, timeout=60,
                       what="every status change announced")
        await pilot.pause()
        shown = toasts()
    assert not [m for m in shown if "confirmed" in m and str(gone) in m], shown
    assert f"{mine} deleted (confirmed by the server)" in shown, shown
    entries = list(reversed(session.audit.entries()))
    assert [(e.ids[0], e.outcome) for e in entries] == [
        (gone, "already_deleted"), (ours, "requested"), (ours, "confirmed")], entries
    assert entries[0].detail == "was already deleted on the server, not by this request"


async def test_a_confirmation_waits_for_the_outcome_toast_of_its_delete(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    """A bulk delete's outcome toast comes when every answer is in; a poll may see one of
    its rows Deleted before that. Its "deleted (confirmed)" toast is told after."""
    state = sandbox.state
    conv = state.add_conversion(status="Completed", file_name="early.csv")
    session = monitor_session(ids=[conv])
    app = ConversionsApp(session)
    seen: list[str] = []
    notify = app.notify

    def keep(message: str, *args: Any, **options: Any) -> None:
        seen.append(message)
        notify(message, *args, **options)

    app.notify = keep  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conv])
        await delete_row(pilot, app, conv)
        screen = monitor(app)
        screen.deleting.add(conv)  # as while the rest of a bulk delete is still sent
        state.advance(6)
        await wait_for(pilot, lambda: status_of(app, conv) == "Deleted", timeout=60,
                       what="a poll sees Deleted")
        ticks = screen.changes.ticks
        await wait_for(pilot, lambda: screen.changes.ticks >= ticks + 2 * ANNOUNCE_EVERY,
                       timeout=60, what="two announcements' worth of ticks")
        assert not [m for m in seen if "confirmed" in m], seen
        screen.deleting.discard(conv)  # the delete's outcome toast is out
        await wait_for(pilot, lambda: any("confirmed" in m for m in seen), timeout=60,
                       what=lambda: f"the confirmation toast; shown: {seen}")
    assert f"{conv} early.csv deleted (confirmed by the server)" in seen, seen
    assert [e.outcome for e in reversed(session.audit.entries())] == [
        "requested", "confirmed"]
