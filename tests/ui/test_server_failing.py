"""A server that answers errors to everything shows on the first screen (issue 13).

Before, a sandbox answering 503 and then HTML 502 pages to every request showed only as
amber Checked cells; the reason sat in Inspect. Now one banner says the server is failing,
with the count and the cause, each row keeps its problem in the Problem column, and both
go when the server answers again.
"""

from __future__ import annotations

from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_monitor import SIZE, banner_text, key_prompt_shown, row_text
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.widgets.table.conversions_table import ConversionsTable


async def test_the_server_failing_is_one_banner_and_each_rows_problem(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    ids = [state.add_conversion(status="Processing", frozen=True, file_name=f"f{n}.csv")
           for n in range(4)]
    app = ConversionsApp(monitor_session(ids=ids))
    async with app.run_test(size=SIZE) as pilot:
        table = next(s for s in app.screen_stack
                     if isinstance(s, MonitorScreen)).query_one(ConversionsTable)

        def checked_all() -> bool:
            rows = table.rows
            return all(i in rows and rows[i].last_checked is not None for i in ids)

        await wait_for(pilot, checked_all, what="every row checked")
        assert banner_text(app) == ""
        state.faults.update({"error_rate": 1.0, "error_status": 503})
        try:
            await wait_for(pilot, lambda: "Server failing" in banner_text(app),
                           what="the server-failing banner")
            text = banner_text(app)
            assert "checks in the last 30 s failed: HTTP 503" in text, text
            assert "Rows keep their last known data" in text
            await wait_for(pilot, lambda: all(
                (table.rows[i].last_problem or "").startswith("HTTP 503") for i in ids),
                what="each row's problem")
            # The cause changes (a proxy's HTML page): the banner follows it.
            state.faults.clear()
            state.faults.update({"html_error": 1.0})
            await wait_for(pilot, lambda: "HTTP 502, HTML page" in banner_text(app),
                           what="the banner naming the new cause")
            # In the table's Problem column, on the first screen (not only in Inspect).
            await wait_for(pilot, lambda: "HTTP 502" in row_text(app, ids[0]),
                           what="the problem in the row as drawn")
            assert all(table.rows[i].file_name == f"f{n}.csv" for n, i in enumerate(ids))
            assert not key_prompt_shown(app)
        finally:
            state.faults.clear()
        await wait_for(pilot, lambda: banner_text(app) == "", what="the banner goes")
        await wait_for(pilot, lambda: all(table.rows[i].last_problem is None for i in ids),
                       what="the rows' problems go")
