"""Hostile status answers, driven with Pilot: every screen shows them literally, none crashes.

The conversions are made through the sandbox's control plane over HTTP (hostile strings,
numbers where strings belong, extra payload fields, 200-level metadata, a 1 MB file name,
a hostile profile), so they travel the same wire a real server's answer would. Each test
checks what widgets hold (the text made visible) and that a screenshot of the whole
screen carries no control character (the bytes themselves are checked in
``test_hostile_pty``).
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from rich.console import Console
from textual.widgets import Static, TabbedContent, TextArea

from tests.ui.conftest import (  # noqa: F401  (fixtures used by name)
    SessionFactory,
    monitor_session,
    no_cursor_blink,
    wait_for,
)
from tui.core.watchlist.messages import MESSAGES_KEPT
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.confirm_delete import ConfirmDeleteModal
from tui.ui.screens.inspect import InspectModal, MessageList
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.widgets.monitor_header import MonitorHeader
from tui.ui.widgets.table.conversions_table import ConversionsTable

SIZE = (160, 44)
OSC52 = "\x1b]52;c;ZXZpbA==\x07"
OSC8 = "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\"
MARKUP = "[bold red]x[/][link=http://evil]y[/link]"
HOSTILE = f"{MARKUP}\x1b[31mRED{OSC8}{OSC52}\u202eEVIL\x00\u009b"
# What printable() makes of HOSTILE (controls as pictures, the rest as code points).
SHOWN = ("[bold red]x[/][link=http://evil]y[/link]␛[31mRED␛]8;;http://evil␛\\click␛]8;;␛\\"
         "␛]52;c;ZXZpbA==␇<U+202E>EVIL␀<U+009B>")
RAW_CONTROLS = ("\x1b", "\x00", "\x07", "\u202e", "\u009b")


def nested(depth: int) -> object:
    """``{"k": {"k": ... "bottom" ...}}`` ``depth`` levels deep."""
    value: object = f"bottom{OSC52}"
    for _ in range(depth):
        value = {"k": value}
    return value


@pytest.fixture
def control(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """An HTTP client on the sandbox's control plane."""
    with httpx.Client(base_url=f"{sandbox.base_url}/_control", timeout=30) as client:
        yield client


def create(control: httpx.Client, **body: Any) -> int:
    """POST /_control/conversions; the new conversion's id."""
    answer = control.post("/conversions", json=body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["payload"]["id"])


def make_hostile(control: httpx.Client, *, warnings: int = 300) -> dict[str, int]:
    """Hostile conversions and profile, through the control plane."""
    profile = control.get("/profile").json()["payload"]
    answer = control.put("/profile", json={
        **profile, "firstName": f"[red]Mal[/]{OSC52}", "lastName": "\u202eyrolla\x00",
        "email": f"m@{OSC8}x", "company": 42, "created": "not a date", "id": "seven"})
    assert answer.status_code == 200, answer.text
    ids = {
        "sink": create(
            control, status="Completed", frozen=True, fileName=HOSTILE,
            dataSourceType=f"[i]Csv{OSC52}",
            warnings=[f"w{i} {HOSTILE}" for i in range(warnings)],
            errors=[f"[/]{OSC8}", "\x1b[2J\x1b[Hcleared?"],
            metadata={"deep": nested(200), f"[b]{OSC52}": HOSTILE, "n": [1, {"a": None}]},
            extraPayload={"[link=http://evil]": HOSTILE, "nested": nested(50)}),
        "numbers": create(
            control, status="Completed", frozen=True, warnings=[1, {"a": 2}],
            errors=[None, True, 3.5],
            extraPayload={"fileName": 12345, "status": 7, "dataSourceType": ["Csv"],
                          "uploadDate": {"x": 1}}),
        "huge": create(control, status="Completed", frozen=True,
                       fileName="H" * 1_000_000 + OSC52),
        "word": create(control, status="Queued", frozen=True, fileName="word.csv"),
    }
    answer = control.post(f"/conversions/{ids['word']}/status",
                          json={"status": f"[blink]Weird{OSC52}\u202e", "frozen": True})
    assert answer.status_code == 200, answer.text
    return ids


def monitor_of(app: ConversionsApp) -> MonitorScreen:
    """The monitor screen, whatever is on top of it."""
    return next(s for s in app.screen_stack if isinstance(s, MonitorScreen))


def table(app: ConversionsApp) -> ConversionsTable:
    """The watchlist table."""
    return monitor_of(app).query_one(ConversionsTable)


def row_text(app: ConversionsApp, conversion_id: int) -> str:
    """The drawn line of one conversion (scrolled to, so it is on screen)."""
    grid = table(app)
    grid.move_cursor(conversion_id)
    index = grid.visible_ids.index(conversion_id)
    return grid.render_line(index + 1 - grid.scroll_offset.y).text


def notices(app: ConversionsApp) -> list[str]:
    """The text of every toast shown so far."""
    return [str(n.message) for n in app._notifications]


def assert_clean_screen(app: ConversionsApp) -> str:
    """The whole screen as SVG, checked for raw control characters; returned for more checks."""
    svg = app.export_screenshot()
    for char in RAW_CONTROLS:
        assert char not in svg, f"{char!r} drawn raw on {type(app.screen).__name__}"
    return svg


def record_terminal_writes(app: ConversionsApp) -> list[str]:
    """From now on, what the app writes to its (headless) driver: OSC 52 copies go there."""
    driver = app._driver
    assert driver is not None
    written: list[str] = []
    write = driver.write
    driver.write = lambda data: (written.append(data), write(data))[1]  # type: ignore[method-assign]
    return written


def last_copy(written: list[str]) -> str:
    """The text of the last OSC 52 clipboard write."""
    payloads = re.findall(r"\x1b\]52;c;([A-Za-z0-9+/=]*)", "".join(written))
    assert payloads, "nothing was copied"
    return base64.b64decode(payloads[-1]).decode("utf-8")


def polled(app: ConversionsApp, ids: dict[str, int]) -> bool:
    rows = table(app).rows
    return all(i in rows and rows[i].status is not None for i in ids.values())


async def test_table_header_and_toast_show_hostile_text_literally(
        sandbox: SandboxServer, control: httpx.Client,
        monitor_session: SessionFactory) -> None:  # noqa: F811
    ids = make_hostile(control)
    failing = create(control, status="Processing", frozen=True, fileName=HOSTILE,
                     errors=[HOSTILE])
    session = monitor_session(ids=[*ids.values(), failing])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: polled(app, ids), what="every row polled")
        # Before a row fails: then "1 needs attention" takes room from the name and company.
        header = monitor_of(app).query_one(MonitorHeader).render().plain
        assert "[red]Mal[/]␛]52;c;ZXZpbA==␇" in header and "<U+202E>yrolla␀" in header
        assert "42" in header  # the company, a number, as text
        control.post(f"/conversions/{failing}/status", json={"status": "Failed"})
        await wait_for(pilot, lambda: any("failed" in m for m in notices(app)),
                       what=lambda: f"the failure toast (toasts: {notices(app)})")
        await pilot.pause()
        sink = row_text(app, ids["sink"])
        assert "[bold red]x[/][link=http://evil]y[/link]␛[31m" in sink, sink
        assert "[i]Csv␛]52" in sink
        numbers = row_text(app, ids["numbers"])
        assert "12345" in numbers and " 7 " in numbers, numbers  # numbers shown as text
        assert "HHHH" in row_text(app, ids["huge"])
        assert "[blink]Weird␛]52" in row_text(app, ids["word"])  # the status column is narrow
        failed = [m for m in notices(app) if "failed" in m]
        assert failed and str(failing) in failed[0] and SHOWN[:30] in failed[0], failed
        width = table(app).scrollable_content_region.width
        for conversion_id in (*ids.values(), failing):
            line = row_text(app, conversion_id)
            assert not any(char in line for char in RAW_CONTROLS), repr(line)
            assert len(line) == width, "a hostile row broke the column layout"
        for text in (header, *notices(app)):
            assert not any(char in text for char in RAW_CONTROLS), repr(text)
        assert_clean_screen(app)
        # Still alive: sorting, filtering and the views work on the hostile rows.
        await pilot.press("s", "S", "slash", *"EVIL", "enter")
        await wait_for(pilot, lambda: set(table(app).visible_ids) == {ids["sink"], failing},
                       what="the filter finds the hostile rows")
        assert app.is_running


def plain(renderable: object) -> str:
    """A Rich renderable (a Table) as the plain text a wide terminal would show."""
    console = Console(width=2000, file=io.StringIO(), color_system=None, legacy_windows=False)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def tab_texts(modal: InspectModal) -> dict[str, str]:
    """The plain text of every tab of the inspect modal."""
    overview, history = (plain(s.content) for s in modal.query(".overview").results(Static))
    return {
        "overview": overview,
        "warnings": modal.query_one("#warning-list", MessageList).text,
        "errors": modal.query_one("#error-list", MessageList).text,
        "history": history,
        "raw": modal.query_one("#raw", TextArea).text,
    }


async def test_inspect_modal_shows_every_tab_literally(
        sandbox: SandboxServer, control: httpx.Client,
        monitor_session: SessionFactory) -> None:  # noqa: F811
    ids = make_hostile(control)
    session = monitor_session(ids=list(ids.values()))
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: polled(app, ids), what="every row polled")
        for name in ("sink", "numbers", "word"):
            table(app).move_cursor(ids[name])
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, InspectModal),
                           what=f"inspect {name}")
            modal = app.screen
            assert isinstance(modal, InspectModal)
            seen = []
            for _ in range(5):  # every tab, by keys, each drawn clean
                await pilot.pause()
                seen.append(modal.query_one(TabbedContent).active)
                if name == "sink":  # screenshots are slow: the most hostile row only
                    assert_clean_screen(app)
                await pilot.press("right")
            assert seen == ["overview", "warnings", "errors", "history", "raw-tab"], seen
            texts = tab_texts(modal)
            for tab, text in texts.items():
                assert not any(char in text for char in RAW_CONTROLS), (name, tab, text[:300])
            written = record_terminal_writes(app)
            await pilot.press("c")  # copy the Overview tab: the clipboard gets it clean
            await pilot.pause()
            copied = last_copy(written)
            assert copied == modal.tab_text(), copied[:300]
            assert SHOWN[:20] in copied or name != "sink"
            assert not any(char in copied for char in RAW_CONTROLS), repr(copied)
            await pilot.press("left", "c")  # the Raw tab: copied, or refused as too large
            await pilot.pause()
            if len(written) > 1:
                assert last_copy(written) == texts["raw"] == modal.tab_text()
            else:
                assert name == "sink" and "Not copied" in notices(app)[-1], notices(app)
            if name == "sink":
                assert SHOWN in texts["overview"]
                assert '{"k": {"k": {"k":' in texts["overview"]  # 200 levels, shown and cut
                assert "[b]␛]52;c;ZXZpbA==␇" in texts["overview"]  # a hostile metadata key
                assert texts["warnings"].splitlines()[0] == f"w0 {SHOWN}"
                # The first 200 of the 300 sent are kept (the watchlist's bound).
                assert len(texts["warnings"].splitlines()) == MESSAGES_KEPT == 200
                assert "␛[2J␛[Hcleared?" in texts["errors"]
                # The raw JSON: JSON's own escapes for C0, code points for the rest.
                assert '"[link=http://evil]": "[bold red]x[/]' in texts["raw"]
                assert "\\u001b]52;c;ZXZpbA==\\u0007<U+202E>EVIL\\u0000<U+009B>" in texts["raw"]
            elif name == "numbers":
                assert "12345" in texts["overview"] and "Status" in texts["overview"]
                assert texts["warnings"].splitlines() == ["1", '{"a":2}']
                assert texts["errors"].splitlines() == ["null", "true", "3.5"]
                assert '"fileName": 12345' in texts["raw"]
            else:
                assert "[blink]Weird␛]52;c;ZXZpbA==␇<U+202E>" in texts["history"]
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen),
                           what="back on the monitor")
        assert app.is_running


async def test_confirm_delete_names_hostile_rows_literally_and_sends_nothing(
        sandbox: SandboxServer, control: httpx.Client,
        monitor_session: SessionFactory) -> None:  # noqa: F811
    ids = make_hostile(control, warnings=3)
    session = monitor_session(ids=list(ids.values()))
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: polled(app, ids), what="every row polled")
        for one in (True, False):
            if one:
                table(app).move_cursor(ids["sink"])
            else:
                await pilot.press("ctrl+a")
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDeleteModal),
                           what="the confirmation")
            await pilot.pause()
            lines = [str(s.render()) for s in app.screen.query("#targets Static").results(Static)]
            assert len(lines) == (1 if one else len(ids)), lines
            sink = next(line for line in lines if line.startswith(str(ids["sink"])))
            assert SHOWN[:40] in sink, sink
            for line in lines:
                assert not any(char in line for char in RAW_CONTROLS), repr(line)
                assert len(line) < 200, "a 1 MB name must be cut in the confirmation"
            assert_clean_screen(app)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen),
                           what="cancelled")
        assert not any(route.startswith("DELETE") for route in sandbox.state.stats.by_route)


async def _open_inspect(app: ConversionsApp, pilot: Any, conversion_id: int,
                        *, tabs: bool) -> list[str]:
    """Open the inspect modal on one row, visit every tab when ``tabs``, close it again;
    the tabs seen, in order. (How much UI CPU this costs is measured, not tested:
    ``benchmarks/bench_ui_responsiveness.py``.)"""
    table(app).move_cursor(conversion_id)
    await wait_for(pilot, lambda: table(app).cursor_id == conversion_id, what="the cursor")
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, InspectModal), what="the inspect modal")
    modal = app.screen
    assert isinstance(modal, InspectModal)
    tabbed = modal.query_one(TabbedContent)
    seen = [tabbed.active]
    for _ in range(4 if tabs else 0):
        await pilot.press("right")
        await wait_for(pilot, lambda: tabbed.active != seen[-1],
                       what=lambda: f"the next tab after {seen} (still {tabbed.active!r})")
        seen.append(tabbed.active)
    return seen


async def _close_inspect(app: ConversionsApp, pilot: Any) -> None:
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen),
                   what="back on the monitor")


async def test_inspect_of_a_one_megabyte_file_name_shows_every_tab(
        sandbox: SandboxServer, control: httpx.Client,
        monitor_session: SessionFactory) -> None:  # noqa: F811
    huge = create(control, status="Completed", frozen=True, fileName="H" * 1_000_000)
    session = monitor_session(ids=[huge])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: polled(app, {"huge": huge}), what="polled")
        seen = await _open_inspect(app, pilot, huge, tabs=True)
        assert seen == ["overview", "warnings", "errors", "history", "raw-tab"], seen
        modal = app.screen
        assert isinstance(modal, InspectModal)
        assert "H" * 100 in tab_texts(modal)["overview"]
        await _close_inspect(app, pilot)
        assert app.is_running


async def test_inspect_of_100000_warnings_counts_them_all_and_shows_the_first_200(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:  # noqa: F811
    many = sandbox.state.add_conversion(
        status="Completed", frozen=True, warnings=[f"w{i} {HOSTILE}" for i in range(100_000)])
    session = monitor_session(ids=[many])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: polled(app, {"many": many}), what="polled")
        await _open_inspect(app, pilot, many, tabs=False)
        modal = app.screen
        assert isinstance(modal, InspectModal)
        label = modal.query_one(TabbedContent).get_tab("warnings").label
        assert str(label) == "Warnings (100000)", label
        listing = modal.query_one("#warning-list", MessageList)
        lines = listing.text.splitlines()
        assert len(lines) == 200 and lines[-1] == f"w199 {SHOWN}", lines[-1:]
        count = str(listing.query_one("#count", Static).content)
        assert count == "first 200 of 100,000 warnings", count
        await _close_inspect(app, pilot)
        assert app.is_running
