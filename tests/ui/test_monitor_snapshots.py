"""Screenshots of the monitor with fixed rows and a frozen clock (pytest-textual-snapshot).

Nothing live may change the picture: the rows are loaded into the watchlist from fixed
poll results with fixed times, the session's client never answers (so no poll lands),
the clock is frozen for the table and the view counts, and the zone is UTC. Update with
``pytest tests/ui/test_monitor_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import wait_for
from tui.api.models import Profile, StatusEnvelope
from tui.core.credentials import ApiKey
from tui.core.paths import AppPaths
from tui.core.session import MonitorSession
from tui.core.settings import AppConfig, ProfileSettings
from tui.core.watchlist import PollResult
from tui.ui.app import ConversionsApp
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.widgets.table.conversions_table import ConversionsTable

NOW = 1_732_800_000.0  # 2024-11-28 13:20:00 UTC
FIRST = 48210
OWNER = Profile(id=7731, email="dana.whitfield@northwind.example", first_name="Dana",
                last_name="Whitfield", company="Northwind Traders")


class SilentSource:
    """A status source that never answers: every poll waits until the app exits."""

    def __init__(self) -> None:
        self.asked = 0

    @property
    def client(self) -> SilentSource:
        """Stands in for the wrapped client too."""
        return self

    async def get_status(self, conversion_id: int) -> StatusEnvelope:
        """Wait forever (cancelled when the app stops)."""
        self.asked += 1
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        """Nothing to close."""


class FrozenSession(MonitorSession):
    """A session whose polls never land, so the screen shows exactly what was loaded."""

    def open_client(self, key: ApiKey) -> Any:
        """A source that never answers."""
        return SilentSource()


def envelope(conversion_id: int, status: str, file_name: str, kind: str, uploaded: str, *,
             warnings: tuple[str, ...] = (), errors: tuple[str, ...] = ()) -> StatusEnvelope:
    """A status envelope as the server would send it."""
    return StatusEnvelope.model_validate({
        "profile": OWNER.model_dump(mode="json"),
        "payload": {"id": conversion_id, "status": status, "fileName": file_name,
                    "dataSourceType": kind, "uploadDate": uploaded},
        "errors": list(errors), "hasErrors": bool(errors),
        "warnings": list(warnings), "hasWarnings": bool(warnings),
    })


# id offset, status, file, type, uploaded, entered the status (s before NOW), extras
ROWS: tuple[tuple[int, str, str, str, str, float, dict[str, Any]], ...] = (
    (0, "Processing", "invoices_2024-11.csv", "Csv", "2024-11-28T12:10:00Z", 3900, {}),
    (1, "Queued", "payroll Q4.xlsx", "Excel", "2024-11-28T13:18:30Z", 60, {}),
    (2, "Completed", "customer_export.json", "Json", "2024-11-27T16:02:00Z", 75000, {}),
    (3, "Completed", "expenses November.xlsx", "Excel", "2024-11-28T11:45:00Z", 4200,
     {"warnings": ("Row 4: currency missing, assumed EUR",
                   "Row 9: trailing spaces trimmed in column 'customer'")}),
    (4, "Failed", "bank_statement_2024-10.pdf", "Pdf", "2024-11-28T12:59:00Z", 900,
     {"errors": ("Row 12: column 'amount' is not a number ('12,5O')",)}),
    (5, "DeletionPending", "receipt_scan_0042.png", "Image", "2024-11-28T09:30:00Z", 20, {}),
    (6, "Deleted", "old_orders_2023.csv", "Csv", "2023-12-01T08:00:00Z", 7200, {}),
    (7, "Processing", "a_very_long_file_name_from_the_supplier_portal_export_final_v7"
        "_really_final.xml", "Xml", "2024-11-28T13:05:00Z", 240, {}),
    (8, "Reprocessing", "請求書_十一月.csv", "Csv", "2024-11-28T13:00:00Z", 600, {}),
    (9, "Queued", "[/]\x1b[31m\u202eevil[b].csv", "Csv", "2024-11-28T13:19:00Z", 30, {}),
)
MISSING = FIRST + 10  # watched, but the server says 404
STALE = FIRST + 2  # last checked long ago
CHECKING = FIRST + 11  # just added: never answered for
TROUBLED = FIRST + 7  # its last checks failed (the Problem column)


def load_rows(session: MonitorSession, read_at: float = NOW) -> None:
    """Put the fixed rows in the watchlist: first seen, status changes, last checks; all
    looked at ``read_at`` (what changed after it is unread: a bold ID)."""
    watchlist = session.watchlist
    watchlist.add([FIRST + row[0] for row in ROWS] + [MISSING], at=NOW - 90000)
    watchlist.add([CHECKING], at=NOW - 4)
    for offset, status, name, kind, uploaded, age, extras in ROWS:
        conversion_id = FIRST + offset
        # Seen first in an earlier status, then the change to the current one.
        watchlist.record_results([PollResult(
            id=conversion_id, checked_at=NOW - 90000,
            envelope=envelope(conversion_id, "Uploaded", name, kind, uploaded))])
        watchlist.record_results([PollResult(
            id=conversion_id, checked_at=NOW - age,
            envelope=envelope(conversion_id, status, name, kind, uploaded, **extras))])
        checked = NOW - 600 if conversion_id == STALE else NOW - 3
        watchlist.record_results([PollResult(
            id=conversion_id, checked_at=checked,
            envelope=envelope(conversion_id, status, name, kind, uploaded, **extras))])
    watchlist.record_results([PollResult(id=MISSING, checked_at=NOW - 8, not_found=True)])
    watchlist.set_note(FIRST + 4, "ticket #4512: customer waiting")
    for _ in range(3):
        watchlist.record_problem(TROUBLED, "HTTP 502, HTML page", NOW - 2)
    watchlist.mark_read(watchlist.ids(), read_at)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """time.time() is NOW and the zone is UTC for the length of the test."""
    old_tz = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    monkeypatch.setattr(time, "time", lambda: NOW)
    try:
        yield
    finally:
        if old_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old_tz
        time.tzset()


@pytest.fixture
def frozen_app(tmp_path: Path, frozen_clock: None) -> Iterator[ConversionsApp]:
    """The monitor on the fixed rows, its client silent, its header knowing the owner."""
    profile = ProfileSettings(name="support-prod", base_url="https://api.northwind.example")
    session = FrozenSession.open(AppPaths.under(tmp_path / "app"), AppConfig(), profile,
                                 preset_key=ApiKey("snapshot-key-7f3a"), env={})
    session.last_profile = OWNER
    load_rows(session)
    try:
        yield ConversionsApp(session)
    finally:
        session.close()


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for the rows, freeze the table's clock and put the cursor on a fixed row."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen) and len(
        app.screen.query_one(ConversionsTable).rows) == len(ROWS) + 2, what="rows loaded")
    grid = app.screen.query_one(ConversionsTable)
    grid.now = lambda: NOW
    grid.move_cursor(FIRST + 4)
    await pilot.pause()


SnapCompare = Callable[..., bool]


def test_monitor_80x24(snap_compare: SnapCompare, frozen_app: ConversionsApp) -> None:
    assert snap_compare(frozen_app, terminal_size=(80, 24), run_before=settle)


def test_monitor_160x48(snap_compare: SnapCompare, frozen_app: ConversionsApp) -> None:
    assert snap_compare(frozen_app, terminal_size=(160, 48), run_before=settle)


def test_monitor_sorted_by_status_and_filtered(snap_compare: SnapCompare,
                                               frozen_app: ConversionsApp) -> None:
    """Sorted by status (triage order), descending, and the filter box open with text."""

    async def sort_and_filter(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        grid = pilot.app.screen.query_one(ConversionsTable)
        grid.sort_by("status")
        await pilot.press("slash", *"csv")

    assert snap_compare(frozen_app, terminal_size=(120, 30), run_before=sort_and_filter)
