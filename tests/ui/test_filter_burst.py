"""Keys typed straight after `/` (a paste, or a fast typist over SSH) land in the filter."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from tests.ui.conftest import SessionFactory, wait_for
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.widgets.table.conversions_table import ConversionsTable


async def test_keys_typed_right_after_slash_go_to_the_filter(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    pdf = sandbox.state.add_conversion(status="Completed", file_name="notes.pdf", frozen=True)
    csv = sandbox.state.add_conversion(status="Completed", file_name="rows.csv", frozen=True)
    app = ConversionsApp(monitor_session(ids=[pdf, csv]))
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.screen.query_one(ConversionsTable)
        await wait_for(pilot, lambda: table.visible_count == 2, what="rows")
        await pilot.press("p")  # quiet: no polls while typing
        # One burst, as a pty read delivers a paste: all four queued before any is handled.
        for key, char in (("slash", "/"), ("p", "p"), ("d", "d"), ("f", "f")):
            app.post_message(events.Key(key, char))
        await pilot.pause()
        await pilot.pause()
        assert app.screen.query_one("#filter", Input).value == "pdf"
        assert table.visible_ids == [pdf]
        assert not app.screen.query_one(ConversionsTable).marked_ids
