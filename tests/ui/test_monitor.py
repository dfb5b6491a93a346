"""The live monitor driven with Pilot against the real sandbox over loopback."""

from __future__ import annotations

from typing import Any

from textual.widgets import Tab, Tabs

from tests.ui.conftest import SessionFactory, wait_for
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.widgets.conversions_table import ConversionsTable
from tui.ui.widgets.monitor_header import MonitorHeader

SIZE = (120, 36)


def monitor(app: ConversionsApp) -> MonitorScreen:
    """The monitor screen (fails if another screen is on top)."""
    screen = app.screen
    assert isinstance(screen, MonitorScreen), f"expected the monitor, got {screen!r}"
    return screen


def table(app: ConversionsApp) -> ConversionsTable:
    """The conversions table of the monitor screen (whatever screen is on top)."""
    screen = next(s for s in app.screen_stack if isinstance(s, MonitorScreen))
    return screen.query_one(ConversionsTable)


def header_text(app: ConversionsApp) -> str:
    """The header line as drawn."""
    screen = next(s for s in app.screen_stack if isinstance(s, MonitorScreen))
    return screen.query_one(MonitorHeader).render().plain


def tab_labels(app: ConversionsApp) -> dict[str, str]:
    """View tab id -> its label text, e.g. {"view-all": "All 3", ...}."""
    screen = next(s for s in app.screen_stack if isinstance(s, MonitorScreen))
    return {str(tab.id): str(tab.label_text)
            for tab in screen.query_one(Tabs).query(Tab)}


def status_of(app: ConversionsApp, conversion_id: int) -> Any:
    """The status the table holds for ``conversion_id`` (None when not there)."""
    row = table(app).rows.get(conversion_id)
    return None if row is None else row.status


async def test_start_shows_watched_ids_user_and_counts(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    processing = state.add_conversion(status="Processing", frozen=True, file_name="a.csv")
    failed = state.add_conversion(status="Failed", errors=["Row 3: bad amount"],
                                  file_name="b.csv")
    done = state.add_conversion(status="Completed", warnings=["Row 1: trimmed"],
                                file_name="c.csv")
    session = monitor_session(ids=[processing, failed, done])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(status_of(app, i) for i in (processing, failed, done)),
                       what="every watched row has a status")
        assert sorted(table(app).rows) == sorted([processing, failed, done])
        assert status_of(app, processing) == "Processing"
        assert status_of(app, failed) == "Failed"
        assert status_of(app, done) == "Completed"
        await wait_for(pilot, lambda: "Dana Whitfield" in header_text(app),
                       what="the header names the key's owner")
        text = header_text(app)
        assert "dana.whitfield@northwind.example" in text
        assert "test" in text
        assert "test-key" not in text  # only the masked form
        assert "key …" in text
        await wait_for(pilot, lambda: tab_labels(app)["view-all"] == "All 3",
                       what="view counts")
        labels = tab_labels(app)
        assert labels["view-active"] == "Active 1"
        assert labels["view-failed"] == "Failed 1"
        assert labels["view-warnings"] == "Warnings 1"
        assert labels["view-deleting"] == "Deleting 0"
