"""An ID pasted from a ticket before it existed, then made by an upload (issue 12).

The monitor runs against the real sandbox with its own scheduler: the row reads "not
found" first; once the upload modal's upload has the sandbox make that ID, the row leaves
"not found" at once (not at the settled re-check, ten minutes on) and takes the upload's
note, through the monitor's upload hook.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from tests.ui.conftest import SessionFactory, wait_for
from tui.core.upload.records import reference_note
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.upload import UploadModal
from tui.ui.widgets.table.conversions_table import ConversionsTable

SIZE = (120, 36)


def described(grid: ConversionsTable, conversion_id: int) -> str:
    entry = grid.rows.get(conversion_id)
    if entry is None:
        return f"{conversion_id} is not in the table"
    return f"status={entry.status!r}, not_found={entry.not_found}, note={entry.note!r}"


async def test_an_upload_that_makes_a_not_found_id_shows_it_with_the_note_at_once(
        sandbox: SandboxServer, monitor_session: SessionFactory, tmp_path: Path) -> None:
    # The sandbox hands out IDs in order: the next upload makes the one after the newest.
    future = sandbox.state.add_conversion(status="Processing", frozen=True) + 1
    records = tmp_path / "in" / "records.csv"
    records.parent.mkdir()
    records.write_bytes(b"id,value\n1,2\n")
    session = monitor_session(ids=[future])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        grid = app.screen.query_one(ConversionsTable)
        await wait_for(pilot, lambda: (entry := grid.rows.get(future)) is not None
                       and entry.not_found, timeout=30,
                       what=f"{future} not found first")
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, UploadModal),
                       what="the upload modal")
        modal = app.screen
        assert isinstance(modal, UploadModal)
        modal.query_one("#path", Input).value = str(records)
        await pilot.press("enter")
        modal.query_one("#reference", Input).value = "T-4412"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: modal.stage == "results", timeout=30, what="the results")
        assert modal.outcome is not None and modal.outcome.accepted_ids == [future]
        # Settled rows (not found among them) are re-checked every ten minutes: only the
        # upload hook can bring the row back within this wait.
        try:
            await wait_for(pilot, lambda: (entry := grid.rows.get(future)) is not None
                           and not entry.not_found and entry.status is not None
                           and entry.note == reference_note("T-4412"), timeout=30,
                           what=f"{future} found with the upload's note")
        except AssertionError as error:  # say what the row shows now the wait is over
            raise AssertionError(f"{error}; the row: {described(grid, future)}") from None
