"""Triage actions of the monitor driven with Pilot against the real sandbox over loopback.

Inspect, delete on the server (single, bulk, every refusal), marks, copy over OSC 52,
export, notes, the audit log, read-only profiles and unwatch-versus-delete wording.
Request counters of the sandbox prove what was (not) sent.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import textual.app
import textual.pilot
from rich.console import Console
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Label, Static, TabbedContent, TextArea
from textual.widgets._footer import FooterKey

from tests.ui.conftest import SessionFactory, polls_settled, quiet_window, wait_for
from tui.api.models import StatusEnvelope
from tui.core.statuses import is_purged
from tui.core.watchlist import PollResult, WatchedConversion
from tui.core.watchlist.messages import MESSAGES_KEPT
from tui.sandbox.lifecycle import LifecyclePlan
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.audit_view import AuditScreen
from tui.ui.screens.confirm_delete import ConfirmDeleteModal
from tui.ui.screens.inspect import InspectModal, MessageList
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.screens.text_prompt import QuestionModal, TextPromptModal
from tui.ui.widgets.monitor_header import MonitorHeader
from tui.ui.widgets.table.conversions_table import ConversionsTable

SIZE = (120, 36)

_real_wait_for_idle = textual.pilot.wait_for_idle


@pytest.fixture(autouse=True)
def quick_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cap Pilot's wait for an idle process after each key at 50 ms.

    Pilot decides "idle" by CPU time of the whole process, and the sandbox answering
    polls in a thread of this process keeps it busy, so each key would wait up to a
    second. Pilot still waits for every queued message to be handled (``_wait_for_screen``).
    """

    async def capped(min_sleep: float = 0.0, max_sleep: float = 1.0) -> None:
        await _real_wait_for_idle(min_sleep, min(max_sleep, 0.05))

    monkeypatch.setattr(textual.app, "wait_for_idle", capped)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", capped)


# ------------------------------------------------------------------ helpers
def monitor(app: ConversionsApp) -> MonitorScreen:
    """The monitor screen, whatever is on top of it."""
    return next(s for s in app.screen_stack if isinstance(s, MonitorScreen))


def table(app: ConversionsApp) -> ConversionsTable:
    """The monitor's conversions table."""
    return monitor(app).query_one(ConversionsTable)


def status_of(app: ConversionsApp, conversion_id: int) -> str | None:
    """The status the table holds for ``conversion_id``."""
    row = table(app).rows.get(conversion_id)
    return None if row is None else row.status


def notices(app: ConversionsApp) -> list[str]:
    """The text of every toast shown so far (still listed)."""
    return [n.message for n in app._notifications]


def deletes_of(sandbox: SandboxServer, conversion_id: int) -> int:
    """DELETE requests the sandbox received for ``conversion_id``."""
    return sandbox.state.stats.by_route[f"DELETE /v1/conversions/{conversion_id}"]


def all_deletes(sandbox: SandboxServer) -> int:
    """Every DELETE request the sandbox received."""
    return sum(n for route, n in sandbox.state.stats.by_route.items()
               if route.startswith("DELETE "))


def plain(renderable: Any, width: int = 160) -> str:
    """A Rich renderable as plain text."""
    console = Console(width=width, file=io.StringIO(), color_system=None)
    with console.capture() as captured:
        console.print(renderable)
    return captured.get()


def row_line(app: ConversionsApp, conversion_id: int) -> str:
    """The table line of ``conversion_id`` as drawn (scrolled to the top first)."""
    grid = table(app)
    grid.scroll_to(y=0, animate=False)
    index = grid.visible_ids.index(conversion_id)
    assert index + 1 < grid.size.height, "row is off screen"
    return grid.render_line(index + 1).text


async def on_screen(pilot: Pilot[Any], kind: type[Screen[Any]], what: str = "") -> Any:
    """Wait until a screen of ``kind`` is on top and return it."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind),
                   what=what or f"{kind.__name__} on top")
    await pilot.pause()
    return pilot.app.screen


async def first_poll(pilot: Pilot[Any], app: ConversionsApp, ids: list[int]) -> None:
    """Wait until every one of ``ids`` has a status in the table."""
    await wait_for(pilot, lambda: all(status_of(app, i) for i in ids),
                   what=f"first poll of {ids}")


def envelope(conversion_id: int, status: str, **payload: Any) -> StatusEnvelope:
    """A status answer as the server would give it (for history recorded in the past)."""
    body = {"profile": None, "payload": {"id": conversion_id, "status": status, **payload},
            "errors": [], "hasErrors": False, "warnings": [], "hasWarnings": False,
            "metadata": {}}
    return StatusEnvelope.from_wire(json.dumps(body))


OSC52 = re.compile(rb"\x1b\]52;c;([A-Za-z0-9+/=]*)\x07")


class Terminal:
    """What the app wrote to the terminal (the driver's write, patched)."""

    def __init__(self, app: ConversionsApp) -> None:
        self.chunks: list[str] = []
        driver = app._driver
        assert driver is not None
        driver.write = self.chunks.append  # type: ignore[method-assign]

    @property
    def data(self) -> bytes:
        """Everything written, as bytes."""
        return "".join(self.chunks).encode("utf-8")

    def clipboard_writes(self) -> list[bytes]:
        """Each OSC 52 sequence (tmux-wrapped or not) as written."""
        return [chunk.encode("utf-8") for chunk in self.chunks if "]52;" in chunk]

    def copied(self) -> list[str]:
        """The texts put on the clipboard, decoded."""
        # One copy is one write; inside tmux it holds the sequence twice (plain, then
        # wrapped for passthrough): the first one says what was copied.
        texts = []
        for write in self.clipboard_writes():
            match = OSC52.search(write.replace(b"\x1b\x1b", b"\x1b"))
            if match:
                texts.append(base64.b64decode(match.group(1)).decode("utf-8"))
        return texts


# ------------------------------------------------------------------ inspect
async def test_inspect_shows_fields_tabs_history_and_raw(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    conv = state.add_conversion(
        status="Failed", file_name="ledger-2026.csv", data_source_type="Csv",
        warnings=["Row 4: date guessed as 2026-03-01", "Row 9: trimmed spaces"],
        errors=["Row 12: amount 'x' is not a number"],
        metadata={"rowsRead": 120, "sheet": "Q3"}, extra_payload={"customerRef": "ACME-77"},
        frozen=True)
    other = state.add_conversion(status="Completed", file_name="other.csv")
    session = monitor_session(ids=[conv, other])
    # Seen Queued and Processing in an earlier run, an hour ago.
    now = time.time()
    session.watchlist.record_results([
        PollResult(conv, now - 3700, envelope(conv, "Queued", fileName="ledger-2026.csv")),
        PollResult(conv, now - 3600, envelope(conv, "Processing", fileName="ledger-2026.csv")),
    ])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, conv) == "Failed", what="poll: Failed")
        await first_poll(pilot, app, [other])
        table(app).move_cursor(conv)
        await pilot.press("enter")
        modal: InspectModal = await on_screen(pilot, InspectModal)
        assert modal.row.id == conv
        title = str(modal.query_one("#title", Static).content)
        assert str(conv) in title and "ledger-2026.csv" in title
        overview = plain(modal.query_one(".overview", Static).content)
        snapshot = state.get(conv)
        assert snapshot is not None
        for label, value in (("ID", str(conv)), ("File", "ledger-2026.csv"), ("Type", "Csv"),
                             ("Status", "Failed"), ("Uploaded", snapshot.upload_date[:10]),
                             ("rowsRead", "120"), ("sheet", "Q3"),
                             ("Warnings / errors", "2 / 1")):
            line = next((ln for ln in overview.splitlines() if ln.strip().startswith(label)),
                        None)
            assert line is not None and value in line, (label, value, overview)
        # The why is on the first tab already: errors first, then warnings.
        lines = [" ".join(ln.split()) for ln in overview.splitlines()]
        assert lines.index("Errors Row 12: amount 'x' is not a number") < (
            lines.index("Warnings Row 4: date guessed as 2026-03-01")), overview
        assert "Row 9: trimmed spaces" in lines, overview
        # Seen entering Failed: how long it has been Failed is known, not a lower bound.
        in_status = next(ln for ln in lines if ln.startswith("In status for"))
        assert "at least" not in in_status, in_status
        tabs = modal.query_one(TabbedContent)
        labels = {pane.id: str(tabs.get_tab(pane.id or "").label) for pane in
                  tabs.query("TabPane")}
        assert labels["warnings"] == "Warnings (2)" and labels["errors"] == "Errors (1)"

        tabs.active = "warnings"
        await pilot.pause()
        warnings = modal.query_one("#warning-list", MessageList)
        assert warnings.text.splitlines() == ["Row 4: date guessed as 2026-03-01",
                                              "Row 9: trimmed spaces"]
        await pilot.press("slash", *"trim")
        await wait_for(pilot, lambda: warnings.text == "Row 9: trimmed spaces",
                       what="search narrows the warnings")
        count = str(warnings.query_one("#count", Static).content)
        assert count == "1 of 2 warnings"

        tabs.active = "errors"
        await pilot.pause()
        assert modal.query_one("#error-list", MessageList).text == (
            "Row 12: amount 'x' is not a number")

        tabs.active = "history"
        await pilot.pause()
        history = plain(modal.query(".overview").last().content)
        lines = [ln for ln in history.splitlines() if ln.strip()]
        queued = next(ln for ln in lines if "Queued" in ln)
        processing = next(ln for ln in lines if "Processing" in ln)
        failed = next(ln for ln in lines if "Failed" in ln)
        assert queued.rstrip().endswith("1 min")
        assert processing.rstrip().endswith("1 h 00 min")
        # So far: seconds, or minutes when a loaded machine took that long to get here.
        assert "Failed" in failed and re.search(r"\d+ (s|min)$", failed.rstrip()), failed
        assert [ln.split()[1] for ln in (queued, processing, failed)] == [
            "Queued", "Processing", "Failed"]
        # The first answer said Queued, not since when: its span is marked as a bound.
        assert "≤" in queued and "≥" in queued, queued
        assert "≤" not in processing + failed and "≥" not in processing + failed

        tabs.active = "raw-tab"
        await pilot.pause()
        raw = json.loads(modal.query_one("#raw", TextArea).text)
        assert raw["payload"]["customerRef"] == "ACME-77"  # a field we do not model
        assert raw["payload"]["id"] == conv and raw["errors"] == [
            "Row 12: amount 'x' is not a number"]

        # The search box may still have the focus (Textual brings its tab back): the
        # first escape then ends the search, the next closes the modal.
        if isinstance(app.screen.focused, Input):
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, InspectModal)
            assert not isinstance(app.screen.focused, Input)
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen, "inspect closed")
        assert table(app).has_focus

        # Completed at the first answer and never seen to change: since when is unknown.
        table(app).move_cursor(other)
        await pilot.press("enter")
        modal = await on_screen(pilot, InspectModal)
        assert modal.row.id == other
        overview = plain(modal.query_one(".overview", Static).content)
        in_status = next(" ".join(ln.split()) for ln in overview.splitlines()
                         if ln.strip().startswith("In status for"))
        assert in_status.startswith("In status for at least "), in_status
        assert any(" ".join(ln.split()) == "Last changed — (not seen changing since the first "
                   "check)" for ln in overview.splitlines()), overview


async def test_inspect_stays_responsive_with_ten_thousand_warnings(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    # Long warnings: the 200 the watchlist keeps are far over the OSC 52 cap together.
    padding = " (the value was rounded to two decimal places)" * 12
    warnings = [f"Row {i}: column 'amount' was rounded{padding}" for i in range(10_000)]
    warnings[177] = "Row 177: currency XYZ is unknown"
    conv = sandbox.state.add_conversion(status="Completed", warnings=warnings, frozen=True)
    session = monitor_session(ids=[conv])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: getattr(table(app).rows.get(conv), "warning_count", 0)
                       == 10_000, what="10,000 warnings polled")
        # The first 200 are kept, with the total (tui/core/watchlist/messages.py).
        assert len(table(app).rows[conv].warnings) == MESSAGES_KEPT == 200
        await pilot.press("enter")
        modal: InspectModal = await on_screen(pilot, InspectModal)
        tabs = modal.query_one(TabbedContent)
        assert str(tabs.get_tab("warnings").label) == "Warnings (10000)"
        tabs.active = "warnings"
        await pilot.pause()
        listing = modal.query_one("#warning-list", MessageList)
        assert len(listing.text.splitlines()) == 200
        count = listing.query_one("#count", Static)
        assert "first 200 of 10,000 warnings" in str(count.content), count.content
        await pilot.press("slash", *"XYZ")
        await wait_for(pilot, lambda: listing.text == "Row 177: currency XYZ is unknown",
                       what="search over the kept warnings")
        assert str(count.content).startswith("1 of 200 warnings"), count.content
        terminal = Terminal(app)
        await pilot.press("tab")  # from the search box to the list
        assert isinstance(modal.focused, TextArea)
        await pilot.press("c")  # copies what the search left
        await wait_for(pilot, terminal.copied, what="the narrowed list copied")
        assert terminal.copied() == ["Row 177: currency XYZ is unknown"]
        # Still answering keys: clear the search, all are back.
        await pilot.press("shift+tab", *["backspace"] * 3)
        await wait_for(pilot, lambda: len(listing.text.splitlines()) == 200,
                       what="search cleared")
        # All 200 long ones are over the OSC 52 cap: a toast, and nothing written.
        await pilot.press("tab", "c")
        await wait_for(pilot, lambda: any(m.startswith("Not copied: Too large")
                                          for m in notices(app)), what="too-large toast")
        assert len(terminal.clipboard_writes()) == 1
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen, "inspect closed")


async def test_inspect_c_copies_the_active_tab(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(
        status="Failed", errors=["Row 1: bad date", "Row 2: bad amount"], frozen=True)
    session = monitor_session(ids=[conv])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conv])
        terminal = Terminal(app)
        await pilot.press("enter")
        modal: InspectModal = await on_screen(pilot, InspectModal)
        modal.query_one(TabbedContent).active = "errors"
        await pilot.pause()
        await pilot.press("c")
        await wait_for(pilot, lambda: terminal.copied(), what="an OSC 52 write")
        assert terminal.copied() == ["Row 1: bad date\nRow 2: bad amount"]


# ------------------------------------------------------------------- delete
def modal_text(screen: Screen[Any]) -> str:
    """Every label, static and button text of a modal, one a line."""
    parts: list[str] = []
    for widget in screen.query("Label, Static, Button"):
        if isinstance(widget, Button):
            parts.append(str(widget.label))
        elif isinstance(widget, Static):
            parts.append(str(widget.content))
    return "\n".join(parts)


async def read_confirmation(pilot: Pilot[Any]) -> ConfirmDeleteModal:
    """The confirmation as a person meets it: up, and read before a count is typed (text
    typed blind within the type-ahead window behind d is dropped on purpose)."""
    modal = await on_screen(pilot, ConfirmDeleteModal)
    app = pilot.app
    assert isinstance(app, ConversionsApp)
    await wait_for(pilot, lambda: not app.typeahead.active, what="the type-ahead window closed")
    return modal


async def confirm_single(pilot: Pilot[Any]) -> None:
    """In the single-delete modal: move from Cancel to Delete and press it."""
    modal = await on_screen(pilot, ConfirmDeleteModal)
    await pilot.press("tab")
    assert modal.focused is modal.query_one("#delete", Button)
    await pilot.press("enter")
    await on_screen(pilot, MonitorScreen, "confirm modal closed")


def cell_colour(app: ConversionsApp, conversion_id: int) -> Any:
    """The foreground colour of the row's ID cell as drawn."""
    grid = table(app)
    grid.scroll_to(y=0, animate=False)
    strip = grid.render_line(grid.visible_ids.index(conversion_id) + 1)
    segment = next(s for s in strip if s.text.strip() == str(conversion_id))
    return segment.style.color if segment.style else None


async def test_single_delete_cancel_then_delete_until_deleted_and_purged(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    conv = state.add_conversion(status="Completed", file_name="expenses.xlsx",
                                data_source_type="Excel")
    other = state.add_conversion(status="Completed", file_name="keep.csv")
    session = monitor_session(ids=[conv, other])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conv, other])
        grid = table(app)
        grid.move_cursor(conv)
        await pilot.press("d")
        modal = await on_screen(pilot, ConfirmDeleteModal)
        text = modal_text(modal)
        assert f"{conv}  expenses.xlsx  (Completed)" in text, text
        assert "Delete this conversion on the server?" in text
        assert modal.focused is modal.query_one("#cancel", Button)
        assert not modal.query("#count")  # one conversion: no count to type
        await pilot.press("enter")  # on Cancel
        await on_screen(pilot, MonitorScreen, "cancelled")
        await quiet_window(pilot)
        assert all_deletes(sandbox) == 0
        assert state.get(conv) is not None and state.get(conv).status == "Completed"
        assert session.audit.entries() == []

        await pilot.press("d")
        await confirm_single(pilot)
        await wait_for(pilot, lambda: status_of(app, conv) == "DeletionPending",
                       what="the row shows DeletionPending")
        assert deletes_of(sandbox, conv) == 1 and deletes_of(sandbox, other) == 0
        assert any(m.startswith("1 marked for deletion") for m in notices(app)), notices(app)
        assert state.get(other) is not None and state.get(other).status == "Completed"

        grid.move_cursor(other)  # so the deleted row is drawn without the cursor
        normal = cell_colour(app, other)
        state.advance(6)  # DeletionPending lasts 5 s
        await wait_for(pilot, lambda: status_of(app, conv) == "Deleted",
                       what="a poll sees Deleted")
        await pilot.pause()
        assert "Deleted" in row_line(app, conv)
        greyed = grid.get_component_rich_style("conversions-table--deleted-row").color
        assert cell_colour(app, conv) == greyed and greyed != normal

        state.advance(301)  # past the retention: the server answers 404 now
        assert state.get(conv) is None
        gets = state.stats.by_route[f"GET /v1/conversions/{conv}/status"]
        checked = grid.rows[conv].last_checked
        grid.move_cursor(conv)
        await pilot.press("r")
        await wait_for(pilot, lambda: grid.rows[conv].last_checked != checked,
                       what="the 404 is recorded")
        assert state.stats.by_route[f"GET /v1/conversions/{conv}/status"] > gets
        row = grid.rows[conv]
        assert row.status == "Deleted" and is_purged(row) and row.deleted_at is not None
        grid.move_cursor(other)
        await pilot.pause()
        line = row_line(app, conv)
        assert "Deleted, purged" in line and "not found" not in line
        assert cell_colour(app, conv) == greyed
        assert deletes_of(sandbox, conv) == 1  # never sent again


async def mark(pilot: Pilot[Any], app: ConversionsApp, ids: list[int]) -> None:
    """Put the cursor on each of ``ids`` and press space."""
    for conversion_id in ids:
        assert table(app).move_cursor(conversion_id)
        await pilot.press("space")


async def test_bulk_delete_needs_the_count_and_reports_refusals(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    busy = [state.add_conversion(status="Processing", frozen=True, file_name=f"busy{i}.csv")
            for i in range(2)]
    done = [state.add_conversion(status="Completed", file_name=f"done{i}.csv")
            for i in range(3)]
    ids = busy + done
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, ids)
        await mark(pilot, app, ids)
        assert sorted(table(app).marked_ids) == sorted(ids)
        await pilot.press("d")
        modal = await read_confirmation(pilot)
        text = modal_text(modal)
        assert "Delete these 5 conversions on the server?" in text
        for i in busy:
            assert f"{i}  busy{busy.index(i)}.csv  (Processing)" in text
        delete = modal.query_one("#delete", Button)
        assert delete.disabled and modal.focused is modal.query_one("#cancel", Button)
        assert "2 of them are Processing: the server refuses" in text, text
        await pilot.press("4")  # typed on Cancel, as the placeholder asks: into the count
        count = modal.query_one("#count", Input)
        assert modal.focused is count and count.value == "4"
        assert delete.disabled
        await pilot.press("enter")  # the wrong count does not confirm
        assert app.screen is modal and all_deletes(sandbox) == 0
        await pilot.press("backspace", "5")
        assert not delete.disabled
        await pilot.press("enter")
        await on_screen(pilot, MonitorScreen, "confirmed")
        await wait_for(pilot, lambda: any("marked for deletion" in m for m in notices(app)),
                       what="the summary toast")
        summary = next(m for m in notices(app) if "marked for deletion" in m)
        assert summary.startswith("3 marked for deletion, 2 refused (still Processing)"), summary
        for i in busy:
            assert f"{i} busy{busy.index(i)}.csv: Refused: still Processing" in summary
        assert [deletes_of(sandbox, i) for i in ids] == [1] * 5
        await wait_for(pilot, lambda: all(status_of(app, i) == "DeletionPending" for i in done),
                       what="the accepted ones go")
        assert [status_of(app, i) for i in busy] == ["Processing", "Processing"]
        assert all(state.get(i).status == "Processing" for i in busy)
        outcomes = {e.ids[0]: e.outcome for e in session.audit.entries()}
        assert outcomes == {**dict.fromkeys(busy, "refused"), **dict.fromkeys(done, "requested")}
        await quiet_window(pilot)
        assert all_deletes(sandbox) == 5  # nothing retried


@pytest.mark.parametrize("case", ["410", "404", "401", "429"])
async def test_delete_refused_says_why_and_is_not_retried(
        case: str, sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    if case == "410":
        # Deleted on the server after the app last saw it (rows the app already knows
        # as Deleted are left out of a delete: tests/ui/test_delete_targets.py).
        conv = state.add_conversion(status="Completed", frozen=True,
                                    file_name="delivery_notes_8441.pdf")
    elif case == "404":
        conv = 99_999_999  # never existed
    else:
        conv = state.add_conversion(status="Completed", file_name="invoices.csv")
    session = monitor_session(ids=[conv])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: table(app).rows.get(conv) is not None
                       and table(app).rows[conv].last_checked is not None, what="first poll")
        if case in ("401", "429", "410"):
            await pilot.press("p")  # polls would meet the fault too
            await polls_settled(pilot)
            if case == "410":
                # polls_settled: no check is on its way back with the new status.
                state.set_status(conv, "Deleted")
            elif case == "401":
                sandbox.faults.update({"error_rate": 1.0, "error_status": 401})
            else:
                sandbox.faults.update({"storm": True, "retry_after": 7})
        await pilot.press("delete" if case == "404" else "d")  # both keys delete
        await confirm_single(pilot)
        expected = {
            # Each line names the row as the dialog listed it, and says a thing once.
            "410": f"1 already deleted\n{conv} delivery_notes_8441.pdf: was already deleted "
                   "on the server, not by this request",
            "404": f"1 not found\n{conv}: Not found: the server does not know this ID",
            "401": f"the key was refused\n{conv} invoices.csv: Key refused: the key was "
                   "refused",
            "429": f"1 rate limited (wait 7 s, then press d again)\n{conv} invoices.csv: "
                   "Rate limited: too many requests: wait 7 s",
        }[case]
        await wait_for(pilot, lambda: any(expected in m for m in notices(app)),
                       what=f"a toast saying {expected!r}")
        assert next(n for n in app._notifications if expected in n.message).severity == "error"
        await quiet_window(pilot)
        assert deletes_of(sandbox, conv) == 1  # nothing retried
        entries = session.audit.entries()
        assert [(e.action, e.ids) for e in entries] == [("delete", (conv,))]
        assert entries[0].outcome == {"410": "already_deleted", "404": "not_found",
                                      "401": "auth", "429": "rate_limited"}[case]


# -------------------------------------------------------------------- marks
def drawn_marks(app: ConversionsApp) -> set[int]:
    """IDs whose row is drawn with the mark in its gutter."""
    grid = table(app)
    grid.scroll_to(y=0, animate=False)
    return {i for n, i in enumerate(grid.visible_ids)
            if grid.render_line(n + 1).text.startswith("●")}


async def test_marks_space_ctrl_a_escape_survive_updates_and_sorting(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    # Two will change status (and move when sorted by status) while marked: queued for an
    # hour of the sandbox's clock, so only the test's advance moves them, however slow the
    # machine (3 s queued had them move on their own before the sort was checked).
    moving = [state.add_conversion(status="Queued", file_name=f"m{i}.csv",
                                   plan=LifecyclePlan(queued=3600, processing=1,
                                                      outcome="Failed"))
              for i in range(2)]
    still = [state.add_conversion(status="Processing", frozen=True, file_name="s0.csv"),
             state.add_conversion(status="Completed", file_name="s1.csv")]
    ids = moving + still
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, ids)
        grid = table(app)
        await mark(pilot, app, [moving[1], still[0]])
        assert set(grid.marked_ids) == {moving[1], still[0]}
        assert drawn_marks(app) == {moving[1], still[0]}
        assert grid.cursor_id == still[1]  # space steps down
        await mark(pilot, app, [still[0]])  # again: unmarks it
        assert set(grid.marked_ids) == {moving[1]}
        await pilot.press("ctrl+a")
        assert set(grid.marked_ids) == set(ids) and drawn_marks(app) == set(ids)
        await pilot.press("escape")
        assert grid.marked_ids == () and drawn_marks(app) == set()
        await mark(pilot, app, [moving[1], still[0]])
        grid.sort_by("status")
        assert grid.visible_ids == [still[0], *moving, still[1]]
        state.advance(3700)  # Queued, Processing, then Failed: sorts first now
        await wait_for(pilot, lambda: all(status_of(app, i) == "Failed" for i in moving),
                       what="live updates")
        await pilot.pause()
        assert grid.visible_ids == [*moving, still[0], still[1]]  # they did move
        assert set(grid.marked_ids) == {moving[1], still[0]}
        assert drawn_marks(app) == {moving[1], still[0]}
        await pilot.press("s", "S")  # another column, reversed
        assert grid.sort_reverse
        assert set(grid.marked_ids) == {moving[1], still[0]}
        assert drawn_marks(app) == {moving[1], still[0]}
        assert sorted(grid.targets()) == sorted([moving[1], still[0]])


# --------------------------------------------------------------------- copy
async def test_copy_ids_writes_osc52_outside_tmux(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(3)]
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, ids)
        terminal = Terminal(app)
        await mark(pilot, app, [ids[0], ids[2]])
        await pilot.press("c")
        await wait_for(pilot, terminal.clipboard_writes, what="an OSC 52 write")
        payload = base64.b64encode(f"{ids[0]}\n{ids[2]}".encode())
        assert terminal.clipboard_writes() == [b"\x1b]52;c;" + payload + b"\x07"]
        assert "Copied 2 IDs" in notices(app)


async def test_copy_ids_inside_tmux_is_wrapped(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,4242,0")
    conv = sandbox.state.add_conversion(status="Completed")
    session = monitor_session(ids=[conv])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conv])
        terminal = Terminal(app)
        await pilot.press("c")  # no marks: the cursor's row
        await wait_for(pilot, terminal.clipboard_writes, what="an OSC 52 write")
        payload = base64.b64encode(str(conv).encode())
        assert terminal.clipboard_writes() == [
            b"\x1b]52;c;" + payload + b"\x07"
            + b"\x1bPtmux;\x1b\x1b]52;c;" + payload + b"\x07\x1b\\"]
        assert terminal.copied() == [str(conv)]
        assert "Copied 1 ID" in notices(app)


async def test_copy_summary_is_markdown_with_ids_and_statuses(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    state = sandbox.state
    failed = state.add_conversion(status="Failed", errors=["Row 3: bad *amount*"],
                                  file_name="pay_roll.csv")
    done = state.add_conversion(status="Completed", warnings=["Row 1: trimmed"])
    session = monitor_session(ids=[failed, done])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [failed, done])
        terminal = Terminal(app)
        await mark(pilot, app, [failed, done])
        await pilot.press("C")
        await wait_for(pilot, terminal.copied, what="an OSC 52 write")
        (text,) = terminal.copied()
        assert text.startswith("## Conversions triage: 2 conversions")
        failed_part, done_part = text.split(f"### Conversion {done}")
        assert f"### Conversion {failed}: pay\\_roll.csv" in failed_part
        assert "- Status: Failed (for " in failed_part
        assert "- Errors (1):\n  - Row 3: bad \\*amount\\*" in failed_part
        assert f"- ID: {done}" in done_part and "- Status: Completed (for " in done_part
        assert any(m.startswith("Copied triage summary (") for m in notices(app))


# ------------------------------------------------------------------- export
async def export_to(pilot: Pilot[Any], path: Path) -> None:
    """Press e and give ``path`` in the prompt."""
    await pilot.press("e")
    prompt = await on_screen(pilot, TextPromptModal, "the export path prompt")
    box = prompt.query_one(Input)
    assert prompt.focused is box
    box.value = str(path)
    await pilot.press("enter")


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of an exported CSV."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


async def test_export_csv_asks_before_replacing_and_json(
        sandbox: SandboxServer, monitor_session: SessionFactory, tmp_path: Path) -> None:
    state = sandbox.state
    ids = [state.add_conversion(status="Completed", file_name=f"f{i}.csv") for i in range(3)]
    session = monitor_session(ids=ids)
    session.watchlist.set_note(ids[0], "TICKET-1, urgent")
    session.watchlist.set_note(ids[2], "=HYPERLINK(\"x\")")
    app = ConversionsApp(session)
    target = tmp_path / "triage.csv"
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, ids)
        await pilot.press("e")
        prompt = await on_screen(pilot, TextPromptModal)
        assert prompt.query_one(Input).value.endswith(".csv")  # a default is offered
        await pilot.press("escape")  # cancelled: nothing written
        await on_screen(pilot, MonitorScreen)

        await export_to(pilot, target)
        await wait_for(pilot, target.exists, what="the CSV written")
        await wait_for(pilot, lambda: f"Exported 3 rows to {target}" in notices(app),
                       what="the export toast")
        rows = read_csv(target)
        assert [int(r["id"]) for r in rows] == ids
        assert [r["note"] for r in rows] == ["TICKET-1, urgent", "", "'=HYPERLINK(\"x\")"]
        assert [r["status"] for r in rows] == ["Completed"] * 3
        before = target.read_bytes()

        await export_to(pilot, target)  # exists: asked, and kept
        question = await on_screen(pilot, QuestionModal, "the replace question")
        assert f"{target} exists. Replace it?" in modal_text(question)
        assert question.focused is question.query_one("#no", Button)
        assert str(question.query_one("#no", Button).label) == "Keep it"
        await pilot.press("enter")
        await on_screen(pilot, MonitorScreen)
        await wait_for(pilot, lambda: "Export cancelled; the file was not touched." in
                       notices(app), what="kept toast")
        assert target.read_bytes() == before

        await mark(pilot, app, [ids[1]])  # export only the marked row this time
        await export_to(pilot, target)
        question = await on_screen(pilot, QuestionModal, "the replace question")
        await pilot.press("tab")
        assert question.focused is question.query_one("#yes", Button)
        assert str(question.focused.label) == "Replace"
        await pilot.press("enter")
        await wait_for(pilot, lambda: f"Exported 1 row to {target}" in notices(app),
                       what="replaced toast")
        assert [int(r["id"]) for r in read_csv(target)] == [ids[1]]

        as_json = tmp_path / "triage.json"
        await pilot.press("escape")  # no marks: the whole view again
        await export_to(pilot, as_json)
        await wait_for(pilot, as_json.exists, what="the JSON written")
        records = json.loads(as_json.read_text(encoding="utf-8"))
        assert [(r["id"], r["note"]) for r in records] == [
            (ids[0], "TICKET-1, urgent"), (ids[1], None), (ids[2], "=HYPERLINK(\"x\")")]


# ---------------------------------------------------------------- read-only
async def footer_text(pilot: Pilot[Any], screen: Screen[Any]) -> str:
    """The descriptions of the keys the screen's footer shows."""
    await wait_for(pilot, lambda: screen.query(FooterKey), what="the footer keys")
    return " | ".join(str(key.description) for key in screen.query(FooterKey))


async def test_read_only_hides_delete_and_sends_nothing(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Completed")
    session = monitor_session(ids=[conv])
    session.read_only = True
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conv])
        screen = monitor(app)
        assert screen.check_action("delete_on_server", ()) is False
        shown = {b.binding.action for b in screen.active_bindings.values()}
        assert "delete_on_server" not in shown
        assert {"copy_ids", "export", "remove_from_watchlist"} <= shown  # the others stay
        footer = await footer_text(pilot, screen)
        assert "Delete" not in footer and "Copy IDs" in footer
        assert "READ-ONLY" in screen.query_one(MonitorHeader).render().plain
        await pilot.press("d", "delete")
        await quiet_window(pilot)
        assert isinstance(app.screen, MonitorScreen)  # no confirmation either
        assert all_deletes(sandbox) == 0
        assert sandbox.state.get(conv) is not None
        assert session.audit.entries() == []


async def test_not_read_only_shows_delete_in_the_footer(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    # The other half of the read-only test: the same query finds delete when allowed.
    conv = sandbox.state.add_conversion(status="Completed")
    session = monitor_session(ids=[conv])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conv])
        screen = monitor(app)
        assert "delete_on_server" in {b.binding.action for b in screen.active_bindings.values()}
        footer = await footer_text(pilot, screen)
        assert "Delete on server" in footer
        assert "READ-ONLY" not in screen.query_one(MonitorHeader).render().plain


# -------------------------------------------------------------------- audit
def audit_cells(screen: AuditScreen) -> list[list[str]]:
    """The audit screen's table, as plain text cells."""
    grid = screen.query_one(DataTable)
    return [[str(cell) for cell in grid.get_row_at(n)] for n in range(grid.row_count)]


async def test_audit_log_lists_every_delete_outcome(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    busy = state.add_conversion(status="Processing", frozen=True)
    done = state.add_conversion(status="Completed")
    session = monitor_session(ids=[busy, done])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [busy, done])
        await wait_for(pilot, lambda: session.last_profile is not None, what="the key's owner")
        await pilot.press("L")
        screen = await on_screen(pilot, AuditScreen)
        assert audit_cells(screen) == []
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen)

        await mark(pilot, app, [busy, done])
        await pilot.press("d")
        await read_confirmation(pilot)
        await pilot.press("shift+tab", "2", "enter")
        await wait_for(pilot, lambda: len(session.audit.entries()) == 2, what="two entries")
        await pilot.press("L")
        screen = await on_screen(pilot, AuditScreen)
        cells = audit_cells(screen)
        assert len(cells) == 2
        by_id = {row[3]: row for row in cells}
        assert by_id[str(busy)][1:3] == ["delete", "refused"]
        assert by_id[str(done)][1:3] == ["delete", "requested"]
        assert all(row[4] == "dana.whitfield@northwind.example" for row in cells)
        assert "still Processing" in by_id[str(busy)][5]
        assert "audit log of profile 'test': 2 entries" in str(
            screen.query_one("#title", Label).content).casefold()
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen)


async def test_unwatch_is_audited(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(2)]
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, ids)
        table(app).move_cursor(ids[0])
        await pilot.press("x")
        await wait_for(pilot, lambda: ids[0] not in session.watchlist, what="unwatched")
        entries = session.audit.entries()
        assert [e.ids for e in entries] == [(ids[0],)], entries


CANARY = "canary-key-5f0e9b2c7d41a6e8"


@pytest.fixture
def canary_sandbox() -> Iterator[SandboxServer]:
    """A sandbox of its own that only accepts the canary key."""
    with SandboxServer(api_key=CANARY, rng_seed=7) as server:
        yield server


async def test_the_key_never_reaches_audit_exports_or_toasts(
        canary_sandbox: SandboxServer, monitor_session: SessionFactory,
        tmp_path: Path) -> None:
    state = canary_sandbox.state
    gone = state.add_conversion(status="Completed", file_name="gone.csv")
    refused = state.add_conversion(status="Completed", file_name="refused.csv")
    session = monitor_session(ids=[gone, refused], key=CANARY,
                              base_url=canary_sandbox.base_url)
    app = ConversionsApp(session)
    exports = [tmp_path / "out.csv", tmp_path / "out.json", tmp_path / "audit.csv"]
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [gone, refused])
        table(app).move_cursor(gone)
        await pilot.press("d")
        await confirm_single(pilot)
        await wait_for(pilot, lambda: status_of(app, gone) == "DeletionPending", what="deleting")
        await pilot.press("p")  # a refused key on delete (polls paused so they do not see it)
        await polls_settled(pilot)
        state.faults.update({"error_rate": 1.0, "error_status": 401})
        table(app).move_cursor(refused)
        await pilot.press("d")
        await confirm_single(pilot)
        await wait_for(pilot, lambda: len(session.audit.entries()) == 2, what="audited")
        state.faults.clear()
        await export_to(pilot, exports[0])
        await wait_for(pilot, exports[0].exists, what="CSV export")
        await export_to(pilot, exports[1])
        await wait_for(pilot, exports[1].exists, what="JSON export")
        await pilot.press("L")
        await on_screen(pilot, AuditScreen)
        await export_to(pilot, exports[2])
        await wait_for(pilot, exports[2].exists, what="audit export")
        toasts = notices(app)
        assert any("the key was refused" in m for m in toasts), toasts
        assert str(gone) in exports[0].read_text(encoding="utf-8-sig")
        assert "auth" in exports[2].read_text(encoding="utf-8-sig")
    secret = CANARY.encode()
    stored = [p for p in (tmp_path / "app").rglob("*") if p.is_file()]
    audit_files = [p for p in stored if p.name.startswith("audit")]
    # The audit files hold the entries (so scanning them means something).
    assert any(f"[{refused}]".encode() in p.read_bytes() for p in audit_files), stored
    for path in [*stored, *exports]:
        assert secret not in path.read_bytes(), path
    assert not any(CANARY in m for m in toasts)


# -------------------------------------------------------------------- notes
async def test_note_is_shown_filtered_and_exported(
        sandbox: SandboxServer, monitor_session: SessionFactory, tmp_path: Path) -> None:
    ids = [sandbox.state.add_conversion(status="Completed", file_name=f"n{i}.csv")
           for i in range(3)]
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, ids)
        grid = table(app)
        assert "note" in grid.shown_columns
        grid.move_cursor(ids[1])
        await pilot.press("n")
        prompt = await on_screen(pilot, TextPromptModal, "the note prompt")
        assert f"Note for {ids[1]}" in modal_text(prompt)
        await pilot.press(*"TCK-42", "enter")
        await on_screen(pilot, MonitorScreen)
        await wait_for(pilot, lambda: grid.rows[ids[1]].note == "TCK-42", what="the note")
        assert session.watchlist.get(ids[1]).note == "TCK-42"
        assert "TCK-42" in row_line(app, ids[1])
        assert "TCK-42" not in row_line(app, ids[0])

        await mark(pilot, app, [ids[0], ids[2]])  # one note for two marked rows
        await pilot.press("n")
        prompt = await on_screen(pilot, TextPromptModal)
        assert "Note for 2 marked rows" in modal_text(prompt)
        prompt.query_one(Input).value = "batch B7"
        await pilot.press("enter")
        await wait_for(pilot, lambda: grid.rows[ids[0]].note == "batch B7"
                       and grid.rows[ids[2]].note == "batch B7", what="two notes")
        await pilot.press("escape")  # clear the marks

        await pilot.press("slash", *"tck-4")
        await wait_for(pilot, lambda: grid.visible_ids == [ids[1]], what="filter on the note")
        await pilot.press("enter")
        target = tmp_path / "notes.json"
        await export_to(pilot, target)  # the view: just the filtered row
        await wait_for(pilot, target.exists, what="the export")
        assert [(r["id"], r["note"]) for r in json.loads(target.read_text())] == [
            (ids[1], "TCK-42")]

        await pilot.press("escape")  # filter off
        grid.move_cursor(ids[1])
        await pilot.press("n")
        prompt = await on_screen(pilot, TextPromptModal)
        assert prompt.query_one(Input).value == "TCK-42"  # the current note, to edit
        prompt.query_one(Input).value = ""
        await pilot.press("enter")  # empty removes it
        await wait_for(pilot, lambda: grid.rows[ids[1]].note is None, what="note removed")


# --------------------------------------------------------- unwatch vs delete
async def test_unwatch_and_delete_use_different_words(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(3)]
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, ids)
        await mark(pilot, app, ids[:2])
        await pilot.press("x")
        question = await on_screen(pilot, QuestionModal, "the unwatch question")
        unwatch_text = modal_text(question)
        assert "Stop watching 2 conversions?" in unwatch_text
        assert "nothing is deleted on the server" in unwatch_text
        assert str(question.query_one("#yes", Button).label) == "Unwatch 2"
        assert question.focused is question.query_one("#no", Button)
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen)
        assert set(session.watchlist.ids()) == set(ids)

        await pilot.press("d")
        confirm = await on_screen(pilot, ConfirmDeleteModal)
        delete_text = modal_text(confirm)
        assert "Delete these 2 conversions on the server?" in delete_text
        assert str(confirm.query_one("#delete", Button).label) == "Delete 2 on server"
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen)
        # The two questions name different actions.
        assert "Unwatch" not in delete_text.replace("(To only stop watching", "")
        assert not re.search(r"\bDelete\b", unwatch_text)
        assert "Stop watching" not in delete_text

        await pilot.press("x")
        await on_screen(pilot, QuestionModal)
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: set(session.watchlist.ids()) == {ids[2]},
                       what="unwatched")
        assert any(m.startswith("Unwatched 2 conversions — press z to undo")
                   and "Local only: nothing was deleted on the server." in m
                   for m in notices(app)), notices(app)
        assert not any("marked for deletion" in m for m in notices(app))
        assert all_deletes(sandbox) == 0
        assert all(sandbox.state.get(i) is not None for i in ids)


async def test_history_current_status_runs_until_now(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    session = monitor_session(ids=[conv])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conv])
        await pilot.press("enter")
        modal: InspectModal = await on_screen(pilot, InspectModal)
        history = plain(modal.query(".overview").last().content)
        current = next(ln for ln in history.splitlines() if "Processing" in ln)
        assert " now " in current, current


async def test_the_monitor_shows_through_behind_the_delete_confirmation(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Completed")
    session = monitor_session(ids=[conv])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conv])
        await pilot.press("d")
        modal = await on_screen(pilot, ConfirmDeleteModal)
        assert modal.styles.background.a < 1, modal.styles.background


async def test_pressing_d_again_does_not_cancel_a_running_bulk_delete(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    ids = [state.add_conversion(status="Completed") for _ in range(8)]
    extra = state.add_conversion(status="Completed")
    session = monitor_session(ids=[*ids, extra])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [*ids, extra])
        await pilot.press("p")
        sandbox.faults.update({"latency": 0.4})  # 8 deletes, 4 at a time: about 0.8 s
        await mark(pilot, app, ids)
        await pilot.press("d")
        await read_confirmation(pilot)
        await pilot.press("shift+tab", "8", "enter")
        await on_screen(pilot, MonitorScreen)
        await pilot.press("escape")  # marks off; look at another row
        table(app).move_cursor(extra)
        await pilot.press("d")  # changes their mind at once:
        await on_screen(pilot, ConfirmDeleteModal)
        await pilot.press("escape")  # nothing more to delete
        await wait_for(pilot, lambda: len(session.audit.entries()) == 8,
                       what=lambda: f"every ID audited ({len(session.audit.entries())} of 8)")
        assert [deletes_of(sandbox, i) for i in ids] == [1] * 8
        assert {e.outcome for e in session.audit.entries()} == {"requested"}
        # The summary toast follows the last audit entry (after the batch returns).
        await wait_for(pilot, lambda: any(m.startswith("8 marked for deletion")
                                          for m in notices(app)),
                       what="the summary toast")


def test_the_overview_shows_the_first_three_errors_and_counts_the_rest() -> None:
    messages = tuple(f"Row {n}: [b]bad[/b] \x1b[31mvalue" for n in range(1, 1001))
    row = WatchedConversion(
        id=9, file_name="big.csv", data_source_type="Csv", status="Failed", upload_date=None,
        warnings=(), errors=messages, metadata={}, first_seen=1.0e9, last_checked=None,
        last_changed=None, note=None, last_problem=None, problem_count=0,
        delete_requested_at=None, deleted_at=None, not_found=False, raw=None)
    text = plain(InspectModal(row, [], now=1.0e9 + 60)._overview())
    shown = [" ".join(ln.split()) for ln in text.splitlines() if "Row " in ln or "more" in ln]
    assert shown == [  # literal markup, the escape byte made visible
        "Errors Row 1: [b]bad[/b] \u241b[31mvalue",
        "Row 2: [b]bad[/b] \u241b[31mvalue",
        "Row 3: [b]bad[/b] \u241b[31mvalue",
        "… 997 more in the Errors tab",
    ], text
    assert "Warnings" not in text.replace("Warnings / errors", "")


async def test_a_count_of_two_digits_typed_on_cancel_reads_as_typed(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    ids = [sandbox.state.add_conversion(status="Completed", frozen=True) for _ in range(12)]
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, ids)
        await pilot.press("ctrl+a", "d")
        modal = await read_confirmation(pilot)
        assert modal.focused is modal.query_one("#cancel", Button)
        await pilot.press("1", "2")
        count = modal.query_one("#count", Input)
        assert count.value == "12" and not modal.query_one("#delete", Button).disabled
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen, "cancelled")
        assert all_deletes(sandbox) == 0
