"""The audit log follows a delete to its end: the request, then the confirmation the
monitor's polling sees (Deleted, or a 404 after the request), under one user name."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_triage_actions import (
    confirm_single,
    first_poll,
    quick_keys,  # noqa: F401  (autouse: Pilot's idle waits capped)
    status_of,
    table,
)
from tui.sandbox.demo_data import DEMO_PROFILE
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp

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
