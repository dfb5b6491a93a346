"""The running monitor follows its watchlist file when another process changes it.

A second connection to the file stands for ``conversions-tui watch`` in another terminal
(or the demo's colleague): rows it adds show up and are polled, rows it removes go.
"""

from __future__ import annotations

from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_monitor import SIZE, header_text, status_of, tab_labels, table
from tui.core.watchlist import Watchlist
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp

# The scheduler looks at the file every WATCHLIST_SYNC_INTERVAL (2 s); a loaded machine
# may take a lot longer to get there and poll.
TIMEOUT = 30.0


async def test_rows_another_process_adds_or_removes_come_and_go(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    first = state.add_conversion(status="Completed", file_name="first.csv")
    gone = state.add_conversion(status="Failed", errors=["Row 2: bad"], file_name="gone.csv")
    session = monitor_session(ids=[first, gone])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, first) and status_of(app, gone),
                       what="both rows checked")
        arriving = state.add_conversion(status="Processing", frozen=True,
                                        file_name="arriving.csv")
        with Watchlist(session.watchlist.path) as elsewhere:
            elsewhere.add([arriving], note="INC-4480")
            elsewhere.remove([gone])
        await wait_for(pilot, lambda: status_of(app, arriving) == "Processing"
                       and gone not in table(app).rows, timeout=TIMEOUT,
                       what=f"row {arriving} shown and row {gone} gone")
        row = table(app).rows[arriving]
        assert row.file_name == "arriving.csv" and row.note == "INC-4480"
        assert sorted(table(app).rows) == sorted([first, arriving])
        await wait_for(pilot, lambda: tab_labels(app)["view-all"] == "All 2"
                       and "1 active / 2 watched" in header_text(app), timeout=TIMEOUT,
                       what="the counts follow")
