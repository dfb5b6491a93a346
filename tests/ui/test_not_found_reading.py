"""The table, the summary strip, the views and Inspect say what a 404 means (issue 12).

A Deleted row the server purged since is "⊘ Deleted, purged" and counts as Deleted; an
ID unknown from the first check is "? not found"; one that existed and then answered
404 without Deleted is "? not found (was Processing)". Rows come from the real store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from rich.color import Color
from textual.app import App, ComposeResult
from textual.widgets import Static

from tests.fixtures.not_found_cases import (
    ALL,
    GONE,
    GONE_PROCESSING,
    NEVER_FOUND,
    NOW,
    PURGED_OWN,
    PURGED_PENDING,
    PURGED_SEEN,
    STILL_DELETED,
    record_not_found_cases,
)
from tests.ui.test_conversions_table import TableApp, row_line
from tests.ui.test_summary_strip import StripApp, chip, chip_text
from tests.ui.test_triage_actions import plain
from tui.core.statuses import StatusKind
from tui.core.watchlist import WatchedConversion, Watchlist
from tui.ui.screens.inspect import InspectModal
from tui.ui.views import VIEWS_BY_KEY, count_views
from tui.ui.widgets import STATUS_VARIABLE_DEFAULTS
from tui.ui.widgets.summary_strip import SummaryStrip
from tui.ui.widgets.table.rows import make_entry


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Watchlist]:
    with Watchlist(tmp_path / "watchlist.sqlite3") as watchlist:
        record_not_found_cases(watchlist)
        yield watchlist


@pytest.fixture
def rows(store: Watchlist) -> dict[int, WatchedConversion]:
    return {row.id: row for row in store.all()}


# -- the table's Status cell -----------------------------------------------------------------

def test_status_cell_text_and_kind(rows: dict[int, WatchedConversion]) -> None:
    cells = {i: (make_entry(rows[i]).status_text, make_entry(rows[i]).kind) for i in ALL}
    assert cells == {
        PURGED_SEEN: ("⊘ Deleted, purged", StatusKind.DELETED),
        PURGED_OWN: ("⊘ Deleted, purged", StatusKind.DELETED),
        PURGED_PENDING: ("⊘ Deleted, purged", StatusKind.DELETED),
        NEVER_FOUND: ("? not found", StatusKind.NOT_FOUND),
        GONE_PROCESSING: ("? not found (was Processing)", StatusKind.NOT_FOUND),
        STILL_DELETED: ("⊘ Deleted", StatusKind.DELETED),
    }
    # A purged row is drawn like any deleted row (greyed), and a filter finds it.
    assert make_entry(rows[PURGED_SEEN]).deleted
    assert "purged" in make_entry(rows[PURGED_SEEN]).haystack


async def test_status_cell_as_drawn_in_the_deleted_colour(
        rows: dict[int, WatchedConversion]) -> None:
    app = TableApp()
    async with app.run_test(size=(160, 10)) as pilot:
        table = app.table
        table.set_rows(rows.values())
        table.move_cursor(STILL_DELETED)
        await pilot.pause()
        purged = next(s for s in row_line(table, PURGED_SEEN) if "purged" in s.text)
        assert "⊘ Deleted, purged" in purged.text
        assert purged.style is not None and purged.style.color == Color.parse(
            STATUS_VARIABLE_DEFAULTS["status-deleted"])
        assert "? not found (was Processing)" in row_line(table, GONE_PROCESSING).text
        unknown = row_line(table, NEVER_FOUND).text
        assert "? not found" in unknown and "was" not in unknown


# -- the summary strip and the views -------------------------------------------------------

async def test_strip_counts_purged_rows_as_deleted(rows: dict[int, WatchedConversion]) -> None:
    app = StripApp()
    async with app.run_test(size=(160, 3)) as pilot:
        app.query_one(SummaryStrip).show_rows(list(rows.values()))
        await pilot.pause()
        assert chip_text(app, StatusKind.DELETED) == "⊘ Deleted 4"
        assert chip_text(app, StatusKind.NOT_FOUND) == "? Not found 2"
        assert chip_text(app, StatusKind.PROCESSING) == "◐ Processing 0"
        assert not chip(app, StatusKind.DELETING).display


def test_views_read_404s_as_the_table_does(rows: dict[int, WatchedConversion]) -> None:
    failed_then_gone = WatchedConversion(**{**_fields(rows[GONE_PROCESSING]), "id": 7,
                                            "status": "Failed"})
    every = [*rows.values(), failed_then_gone]
    counts = count_views(every, NOW, stuck_after=3600)
    # "not found (was Failed)" is not in Failed, nor DeletionPending-then-404 in Deleting.
    assert (counts["failed"], counts["deleting"], counts["active"]) == (0, 0, 0)
    deleting = VIEWS_BY_KEY["deleting"].predicate
    assert deleting is not None and not deleting(rows[PURGED_PENDING], NOW, 3600)


def _fields(row: WatchedConversion) -> dict[str, Any]:
    return {field.name: getattr(row, field.name) for field in dataclasses.fields(row)}


# -- Inspect ---------------------------------------------------------------------------------

class InspectApp(App[None]):
    def __init__(self, row: WatchedConversion, history: list[tuple[str, float]]) -> None:
        super().__init__()
        self.row, self.history = row, history

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **STATUS_VARIABLE_DEFAULTS}

    def compose(self) -> ComposeResult:
        yield Static("under the modal")

    def on_mount(self) -> None:
        self.push_screen(InspectModal(self.row, self.history, now=NOW))


async def overview_lines(store: Watchlist, conversion_id: int) -> dict[str, str]:
    """The Overview tab's fields, label to value (spaces collapsed)."""
    row = store.get(conversion_id)
    assert row is not None
    app = InspectApp(row, store.history(conversion_id))
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, InspectModal)
        text = plain(app.screen.query_one(".overview", Static).content)
        copied = app.screen.tab_text()
    fields = {"(copied)": copied}
    for line in text.splitlines():
        label, gap, value = line.partition("  ")  # the grid's padding between columns
        if gap and label.strip():
            fields[label.strip()] = " ".join(value.split())
    return fields


@pytest.mark.parametrize(("conversion_id", "status", "server"), [
    (PURGED_SEEN, "⊘ Deleted, purged",
     "Deleted on the server, then purged (404 at the last check, {gone})"),
    (PURGED_OWN, "⊘ Deleted, purged",
     "Deleted on the server, then purged (404 at the last check, {gone})"),
    (NEVER_FOUND, "? not found",
     "404: the server does not know this ID (not found from the first check)"),
    (GONE_PROCESSING, "? not found (was Processing)",
     "404 at the last check ({gone}): no longer known to the server; last seen Processing "
     "(deleted and purged elsewhere, or lost)"),
])
async def test_inspect_says_what_the_404_means(
        store: Watchlist, conversion_id: int, status: str, server: str) -> None:
    gone = datetime.fromtimestamp(GONE).strftime("%Y-%m-%d %H:%M:%S")
    fields = await overview_lines(store, conversion_id)
    assert fields["Status"] == status, fields
    assert fields["Server"] == server.format(gone=gone), fields
    assert f"Status: {status[2:]}" in fields["(copied)"]


async def test_inspect_of_a_plain_deleted_row_has_no_404_line(store: Watchlist) -> None:
    fields = await overview_lines(store, STILL_DELETED)
    assert fields["Status"] == "⊘ Deleted" and "Server" not in fields
