"""Make the README's screenshots: the app against the sandbox, fixed data, a frozen clock.

    .venv/bin/python screenshots/make_screenshots.py [--out screenshots] [--only main ...]

Every run writes the same SVGs (run it twice and diff). What keeps them still:

* the watchlist is filled from fixed poll results at fixed times (a support engineer's
  morning at 09:42 UTC), and the sandbox holds the same conversions, frozen in their status;
* the monitor's status source never answers, so no poll changes a row while the picture is
  taken; uploads, deletes and the like go to the sandbox for real;
* ``time.time`` is frozen, the table's clock too, and local time is UTC;
* the cursor does not blink, the theme is the shipped default ("dark"), and the help screen
  shows the folders of a made-up user (the real ones are a temporary folder).

Each shot gets a fresh sandbox and fresh app folders, so one shot alone (``--only``) comes
out the same as in a full run. No key and no temporary path ends up in an SVG.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import contextlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a file from the repository, not installed
    sys.path.insert(0, str(ROOT))

from textual.pilot import Pilot  # noqa: E402
from textual.widgets import Button, Input, Tab, TabbedContent, TextArea  # noqa: E402

import tui.sandbox.records as sandbox_records  # noqa: E402
from tui.api.client import ConversionsClient  # noqa: E402
from tui.api.models import Profile, StatusEnvelope  # noqa: E402
from tui.core.credentials import ApiKey  # noqa: E402
from tui.core.paths import AppPaths, safe_profile_name  # noqa: E402
from tui.core.session import MonitorSession  # noqa: E402
from tui.core.settings import AppConfig, ProfileSettings  # noqa: E402
from tui.core.since import LastLooked  # noqa: E402
from tui.core.watchlist import PollResult  # noqa: E402
from tui.sandbox.demo_data import DEMO_PROFILE  # noqa: E402
from tui.sandbox.runner import SandboxServer  # noqa: E402
from tui.sandbox.state import FIRST_ID  # noqa: E402
from tui.ui.app import ConversionsApp  # noqa: E402
from tui.ui.screens.confirm_delete import ConfirmDeleteModal  # noqa: E402
from tui.ui.screens.help import HelpPaths, HelpScreen  # noqa: E402
from tui.ui.screens.inspect import InspectModal  # noqa: E402
from tui.ui.screens.monitor import MonitorScreen  # noqa: E402
from tui.ui.screens.upload import UploadModal  # noqa: E402
from tui.ui.screens.upload_preview import UploadPreviewTable  # noqa: E402
from tui.ui.screens.upload_results import UploadResultsTable  # noqa: E402
from tui.ui.widgets.connectivity_banner import ConnectivityBanner  # noqa: E402
from tui.ui.widgets.table.conversions_table import ConversionsTable  # noqa: E402
from tui.ui.widgets.upload_files import UploadFileTree  # noqa: E402

SIZE = (120, 36)
NOW = float(calendar.timegm((2025, 11, 18, 9, 42, 0)))  # a Tuesday morning, UTC
MINUTE = 60.0
THEME = "dark"
SANDBOX_KEY = "sandbox-screenshots-key-7f3a"  # the header shows its last four characters
PROFILE = ProfileSettings(name="support-prod", base_url="https://conversions.example.com")
OWNER = Profile.model_validate(DEMO_PROFILE)  # whose key it is: the sandbox's made-up user
# Where a Linux user's files would be (the run's own folders are temporary).
SHOWN_PATHS = AppPaths(
    config_dir=Path("/home/dana/.config/conversions-tui"),
    data_dir=Path("/home/dana/.local/share/conversions-tui"),
    state_dir=Path("/home/dana/.local/state/conversions-tui"),
    cache_dir=Path("/home/dana/.cache/conversions-tui"),
    log_dir=Path("/home/dana/.local/state/conversions-tui/log"),
)
TICKET = "INC-20417"


# ------------------------------------------------------------------------------- the data
@dataclass(frozen=True)
class Watched:
    """One watched conversion: its statuses over the morning and what the server said."""

    id: int
    file_name: str
    kind: str
    # (status, minutes before NOW it was first seen), oldest first; the last is current.
    steps: tuple[tuple[str, float], ...]
    checked: float = 3.0  # seconds before NOW of the last check
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    note: str | None = None

    @property
    def status(self) -> str:
        """The current status."""
        return self.steps[-1][0]


FAILED_PAYROLL, STUCK_CATALOGUE = 48221, 48216
MARKED_FOR_DELETE = (48225, 48229, 48231)  # scans the customer will send again
MISTYPED = 48912  # an ID copied wrongly from a ticket: the server does not know it

# In upload order (IDs grow with it); yesterday's two are on their way out.
ROWS: tuple[Watched, ...] = (
    Watched(48211, "old_orders_2024.csv", "Csv",
            (("Completed", 1112), ("DeletionPending", 0.4)), 2, note="INC-20398 dup"),
    Watched(48213, "test_upload.csv", "Csv",
            (("Completed", 1050), ("DeletionPending", 121), ("Deleted", 120)), 9),
    Watched(STUCK_CATALOGUE, "supplier_catalogue.xml", "Xml",
            (("Queued", 157), ("Processing", 133)), 2, note="INC-20433"),
    Watched(48219, "acme_invoices_2025-11.csv", "Csv",
            (("Uploaded", 97), ("Queued", 97), ("Processing", 96), ("Completed", 93)), 4),
    Watched(FAILED_PAYROLL, "northwind_payroll_oct.xlsx", "Excel",
            (("Uploaded", 90), ("Queued", 90), ("Processing", 88), ("Failed", 71)), 2,
            warnings=("Row 4: date '03/04' read as 3 April",
                      "Row 9: trailing spaces trimmed in column 'employee'"),
            errors=("Row 12: column 'amount' is not a number ('12,5O')",
                    "Row 40: currency 'EUD' is unknown (did you mean EUR?)",
                    "Row 57: employee ID 'N-0193' appears twice",
                    "Sheet 'Notes' was ignored: it has no header row"),
            metadata={"rowsRead": 1184, "sheet": "October", "durationMs": 1021000},
            note=TICKET),
    Watched(48222, "expenses_q3.xlsx", "Excel",
            (("Queued", 84), ("Processing", 80), ("Completed", 62)), 6,
            warnings=("Row 7: currency missing, assumed EUR",
                      "Row 31: cost centre '4410 ' trimmed")),
    Watched(48225, "scan_0042.png", "Image",
            (("Uploaded", 55), ("Queued", 55), ("Processing", 54), ("Failed", 52)), 5,
            errors=("Image is 72 dpi: too low to read text (200 dpi or more)",)),
    Watched(48226, "customer_export.json", "Json",
            (("Queued", 48), ("Processing", 47), ("Completed", 45)), 8),
    Watched(48228, "timesheets_week46.csv", "Csv",
            (("Uploaded", 38), ("Queued", 38), ("Processing", 37), ("Completed", 36)), 7,
            warnings=("Row 18: hours '7,5' read as 7.5",)),
    Watched(48229, "contract_scan.pdf", "Pdf",
            (("Uploaded", 31), ("Queued", 31), ("Processing", 30), ("Failed", 29)), 4,
            errors=("The PDF is password-protected: no text could be read",)),
    Watched(48231, "scan_0042_retry.png", "Image",
            (("Uploaded", 26), ("Queued", 26), ("Processing", 25), ("Failed", 24)), 6,
            errors=("Image is 72 dpi: too low to read text (200 dpi or more)",)),
    Watched(48234, "vendors_2025.csv", "Csv",
            (("Uploaded", 14), ("Queued", 14), ("Processing", 13), ("Completed", 12)), 3),
    Watched(48236, "bank_statement_2025-10.pdf", "Pdf",
            (("Uploaded", 9), ("Queued", 9), ("Processing", 5)), 1),
    Watched(48238, "ledger_2025.json", "Json",
            (("Uploaded", 3), ("Queued", 3), ("Processing", 1)), 2),
    Watched(48239, "receipts_batch_17.json", "Json",
            (("Uploaded", 1.5), ("Queued", 1)), 3),
    Watched(48240, "payroll_nov.xlsx", "Excel",
            (("Uploaded", 0.5), ("Queued", 0.3)), 1),
)

# The upload: a ticket's folder as a customer sent it.
UPLOAD_FILES: dict[str, bytes] = {
    "expenses_nov.csv": b"date,amount,currency\n2025-11-03,12.50,EUR\n2025-11-04,7.25,EUR\n",
    "invoices_nov.xlsx": b"PK\x03\x04" + b"\x00" * 18_400,
    "receipts_nov.json": b'{"receipts": [{"id": 1, "total": 19.75}]}\n',
    "bank_statement_nov.pdf": b"%PDF-1.7\n" + b"0" * 245_000,
    "scan_0043.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 91_000,
    "timesheets_week47.csv": b"",
    "call_notes.docx": b"PK\x03\x04" + b"\x00" * 9_000,
    "resent/expenses_nov.csv": b"date,amount,currency\n2025-11-03,12.50,EUR\n",
}
# The server of these pictures does not take images: its refusal is a real answer.
SERVER_TYPES = {key: name for key, name in sandbox_records.DATA_SOURCE_TYPES.items()
                if name != "Image"}


def envelope(row: Watched, status: str) -> StatusEnvelope:
    """The answer the server gives for ``row`` in ``status``."""
    settled = status == row.status
    uploaded = NOW - row.steps[0][1] * MINUTE
    return StatusEnvelope.from_wire(json.dumps({
        "profile": DEMO_PROFILE,
        "payload": {"id": row.id, "status": status, "fileName": row.file_name,
                    "dataSourceType": row.kind,
                    "uploadDate": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(uploaded))},
        "errors": list(row.errors) if settled else [], "hasErrors": settled and bool(row.errors),
        "warnings": list(row.warnings) if settled else [],
        "hasWarnings": settled and bool(row.warnings),
        "metadata": row.metadata if settled else {},
    }))


def fill_watchlist(session: MonitorSession, read_at: float = NOW) -> None:
    """The morning so far: each status seen when it began, then a last check a moment ago;
    every row looked at ``read_at`` (what changed after it is unread: a bold ID)."""
    watchlist = session.watchlist
    for row in ROWS:
        watchlist.add([row.id], at=NOW - row.steps[0][1] * MINUTE)
        watchlist.record_results([PollResult(row.id, NOW - minutes * MINUTE, envelope(row, status))
                                  for status, minutes in row.steps])
        watchlist.record_results([PollResult(row.id, NOW - row.checked,
                                             envelope(row, row.status))])
        if row.note:
            watchlist.set_note(row.id, row.note)
        if row.status == "DeletionPending":  # asked for from this app, a moment ago
            watchlist.mark_delete_requested(row.id, NOW - row.steps[-1][1] * MINUTE)
    watchlist.add([MISTYPED], at=NOW - 25 * MINUTE, note="INC-20440 typo?")
    watchlist.record_results([PollResult(MISTYPED, NOW - 5, not_found=True)])
    watchlist.mark_read(watchlist.ids(), read_at)


def fill_sandbox(sandbox: SandboxServer) -> None:
    """The same conversions on the server (frozen), among other customers' ones."""
    by_id = {row.id: row for row in ROWS}
    last = max(by_id)
    for conversion_id in range(FIRST_ID, last + 1):
        row = by_id.get(conversion_id)
        if row is None:
            made = sandbox.state.add_conversion(status="Completed", file_name="other.csv",
                                                frozen=True)
        else:
            made = sandbox.state.add_conversion(
                status=row.status, file_name=row.file_name, data_source_type=row.kind,
                warnings=row.warnings, errors=row.errors, metadata=row.metadata,
                age_in_status=row.steps[-1][1] * MINUTE, frozen=True)
        if made != conversion_id:
            raise RuntimeError(f"the sandbox gave id {made}, expected {conversion_id}")


# ---------------------------------------------------------------------------- the session
class QuietSource:
    """Status checks that never answer (the rows stay as loaded); the client is real."""

    def __init__(self, client: ConversionsClient) -> None:
        self.client = client

    async def get_status(self, conversion_id: int) -> StatusEnvelope:
        """Wait until the app stops (the poll is cancelled then)."""
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        """Close the sandbox client."""
        await self.client.aclose()


class ScreenshotSession(MonitorSession):
    """The profile says conversions.example.com; requests go to the local sandbox."""

    sandbox_url = ""
    live = False  # polls the sandbox for real (its faults show), instead of keeping still

    def open_client(self, key: ApiKey) -> Any:
        """A quiet status source around a real client of the sandbox (or the client)."""
        client = ConversionsClient(self.sandbox_url, key.reveal(), timeout=10)
        return client if self.live else QuietSource(client)


# ------------------------------------------------------------------------ keeping it still
@contextlib.contextmanager
def patched(target: Any, name: str, value: Any) -> Iterator[None]:
    """Set ``target.name`` to ``value`` for the length of the block."""
    old = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, old)


@contextlib.contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, with None, remove) environment variables for the length of the block."""
    old = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        time.tzset()
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        time.tzset()


@contextlib.contextmanager
def working_folder(folder: Path) -> Iterator[None]:
    """Run the block in ``folder`` (the upload modal browses from there)."""
    old = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


def shown_help_paths(cls: type[HelpPaths], paths: AppPaths, profile: str | None, *,
                     demo: bool = False, themes_dir: str | None = None) -> HelpPaths:
    """The help screen's folders as a user's would read, not the run's temporary ones."""
    return HelpPaths(profile=profile, config_file=str(SHOWN_PATHS.config_file),
                     themes_dir=str(SHOWN_PATHS.themes_dir),
                     data_dir=str(SHOWN_PATHS.profile_data_dir(profile)) if profile else None,
                     audit_db=str(SHOWN_PATHS.audit_db(profile)) if profile else None,
                     demo=demo)


@contextlib.contextmanager
def still_world(home: Path) -> Iterator[None]:
    """Frozen clock, UTC, no blinking, fixed help paths, the refusing server, ``~`` = home."""
    table_defaults = {**(ConversionsTable.__init__.__kwdefaults__ or {}), "now": lambda: NOW}
    with contextlib.ExitStack() as stack:
        stack.enter_context(environment(TZ="UTC", HOME=str(home), NO_COLOR=None,
                                        CONVERSIONS_THEME=None))
        stack.enter_context(patched(time, "time", lambda: NOW))
        stack.enter_context(patched(ConversionsTable.__init__, "__kwdefaults__",
                                    table_defaults))
        stack.enter_context(patched(Input, "_toggle_cursor", lambda self: None))
        stack.enter_context(patched(TextArea, "_toggle_cursor_blink_visible",
                                    lambda self: None))
        stack.enter_context(patched(HelpPaths, "of", classmethod(shown_help_paths)))
        stack.enter_context(patched(sandbox_records, "DATA_SOURCE_TYPES", SERVER_TYPES))
        yield


# ------------------------------------------------------------------------------ the shots
async def wait_for(pilot: Pilot[Any], condition: Callable[[], object], what: str,
                   timeout: float = 15.0) -> None:
    """Let the app run until ``condition()`` holds (RuntimeError after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def settled(pilot: Pilot[Any]) -> None:
    """Let layout, animations and pending messages finish."""
    await pilot.pause(0.1)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def monitor(pilot: Pilot[Any]) -> ConversionsTable:
    """The monitor with every row shown and the cursor on the failed payroll."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen) and len(
        app.screen.query_one(ConversionsTable).rows) == len(ROWS) + 1, "the rows")
    table = app.screen.query_one(ConversionsTable)
    await wait_for(pilot, lambda: app.screen.query_one("#view-all", Tab).label_text != "All 0",
                   "the view counts")
    table.move_cursor(FAILED_PAYROLL)
    return table


async def shot_main(pilot: Pilot[Any]) -> None:
    """The monitor: every row of the morning."""
    await monitor(pilot)


async def open_inspect(pilot: Pilot[Any], conversion_id: int, tab: str) -> None:
    """Inspect one conversion, at one tab."""
    table = await monitor(pilot)
    table.move_cursor(conversion_id)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, InspectModal), "inspect")
    pilot.app.screen.query_one(TabbedContent).active = tab


async def shot_inspect_errors(pilot: Pilot[Any]) -> None:
    """The failed payroll's errors."""
    await open_inspect(pilot, FAILED_PAYROLL, "errors")


async def shot_inspect_history(pilot: Pilot[Any]) -> None:
    """The stuck catalogue's history: two hours in Processing."""
    await open_inspect(pilot, STUCK_CATALOGUE, "history")


async def shot_confirm_delete(pilot: Pilot[Any]) -> None:
    """Three failed image and PDF scans marked, then d."""
    table = await monitor(pilot)
    for conversion_id in MARKED_FOR_DELETE:
        table.move_cursor(conversion_id)
        await pilot.press("space")
    await pilot.press("d")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmDeleteModal),
                   "the confirmation")
    await pilot.press("shift+tab")  # to the count box: its placeholder says what to type


async def open_upload(pilot: Pilot[Any]) -> UploadModal:
    """u, then the ticket's folder and the file sent again from a subfolder."""
    await monitor(pilot)
    await pilot.press("u")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, UploadModal), "the upload")
    modal = pilot.app.screen
    assert isinstance(modal, UploadModal)
    tree = modal.query_one(UploadFileTree)
    await wait_for(pilot, lambda: len(tree.root.children) == len(
        {name.split("/")[0] for name in UPLOAD_FILES}), "the folder read")
    path = modal.query_one("#path", Input)
    path.value = "*"  # the folder "resent" too, with the file sent again
    await pilot.press("enter")
    modal.query_one("#reference", Input).value = TICKET
    return modal


async def shot_upload_preview(pilot: Pilot[Any]) -> None:
    """The check before sending: what goes, what is left out and why."""
    modal = await open_upload(pilot)
    table = modal.query_one(UploadPreviewTable)
    table.focus()  # on the file sent twice: the line below the table gives the whole reason
    table.move_cursor(row=table.get_row_index(os.path.abspath("resent/expenses_nov.csv")),
                      animate=False)


async def shot_upload_results(pilot: Pilot[Any]) -> None:
    """After sending: the new IDs, and the file the server refused with its reason."""
    modal = await open_upload(pilot)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: modal.stage == "results", "the results")
    table = modal.query_one(UploadResultsTable)
    rejected = next(i for i, row in enumerate(table.details)
                    if row[0].name == "scan_0043.png")
    table.focus()
    table.move_cursor(row=rejected, animate=False)
    modal.query_one("#done", Button).focus()


async def shot_server_failing(pilot: Pilot[Any]) -> None:
    """A proxy answering HTML 502 pages to every check: one banner, each row's problem."""
    await monitor(pilot)
    banner = pilot.app.screen.query_one(ConnectivityBanner)
    await wait_for(pilot, lambda: banner.has_class("-shown") and re.search(
        r"Server failing: ([5-9]|\d\d) of", banner.render().plain), "the server-failing banner")
    table = pilot.app.screen.query_one(ConversionsTable)
    await wait_for(pilot, lambda: sum(1 for row in table.rows.values()
                                      if row.last_problem) >= 4, "the rows' problems")


async def shot_unread(pilot: Pilot[Any]) -> None:
    """Back after 40 minutes: what changed meanwhile has bold IDs, and the summary says it."""
    await monitor(pilot)
    app = pilot.app
    # The summary waits for the first checks (two poll intervals) after the start.
    await wait_for(pilot, lambda: any("Since you last looked" in str(n.message)
                                      for n in app._notifications), "the summary", timeout=40)


async def shot_help(pilot: Pilot[Any]) -> None:
    """? on the monitor: its keys, the status legend and where files live."""
    await monitor(pilot)
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), "help")


Shot = Callable[[Pilot[Any]], Awaitable[None]]
SHOTS: dict[str, Shot] = {
    "main": shot_main,
    "inspect-errors": shot_inspect_errors,
    "inspect-history": shot_inspect_history,
    "confirm-delete": shot_confirm_delete,
    "upload-preview": shot_upload_preview,
    "upload-results": shot_upload_results,
    "help": shot_help,
    "server-failing": shot_server_failing,
    "unread": shot_unread,
}
#: The unread shot: the person last looked this many minutes before NOW.
AWAY = 40.0


async def take(name: str, work: Path) -> str:
    """One screenshot as SVG text, from a fresh sandbox and fresh app folders."""
    with SandboxServer(api_key=SANDBOX_KEY, rng_seed=7) as sandbox:
        sandbox.state.profile = dict(DEMO_PROFILE)
        fill_sandbox(sandbox)
        session = ScreenshotSession.open(AppPaths.under(work / name), AppConfig(), PROFILE,
                                         preset_key=ApiKey(SANDBOX_KEY), env={})
        assert isinstance(session, ScreenshotSession)
        session.sandbox_url = sandbox.base_url
        session.last_profile = OWNER
        if name == "server-failing":
            session.live = True
            sandbox.faults.update({"html_error": 1.0})
        try:
            if name == "unread":
                fill_watchlist(session, read_at=NOW - AWAY * MINUTE)
                LastLooked(session.paths.state_dir / safe_profile_name(PROFILE.name)
                           / "last_looked.json").write(NOW - AWAY * MINUTE)
            else:
                fill_watchlist(session)
            app = ConversionsApp(session, theme=THEME)
            # Toasts only where one is the point (the headless driver hides them).
            async with app.run_test(size=SIZE, notifications=name == "unread") as pilot:
                await SHOTS[name](pilot)
                await settled(pilot)
                svg = app.export_screenshot(title="conversions-tui")
        finally:
            session.close()
    return svg


def check_clean(svg: str, name: str, forbidden: list[str]) -> None:
    """Refuse to write a picture holding the key or a path of this run."""
    for text in forbidden:
        if text and text in svg:
            raise RuntimeError(f"{name}: the picture contains {text!r}")


async def make(out: Path, names: list[str]) -> list[Path]:
    """Take the ``names`` shots and write them as ``out/<name>.svg``."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="conversions-shots-") as temp:
        work = Path(temp)
        home = work / "home"
        ticket = home / "tickets" / TICKET
        for relative, content in UPLOAD_FILES.items():
            target = ticket / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        forbidden = [SANDBOX_KEY, str(work), os.path.realpath(work), tempfile.gettempdir(),
                     "127.0.0.1", os.environ.get("USER", ""), str(Path.home())]
        with still_world(home), working_folder(ticket):
            for name in names:
                svg = await take(name, work)
                check_clean(svg, name, [text for text in forbidden if len(text) >= 3])
                target = out / f"{name}.svg"
                target.write_text(svg, encoding="utf-8")
                written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--out`` folder, ``--only`` some shots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots",
                        help="folder for the SVGs (default: screenshots/)")
    parser.add_argument("--only", nargs="+", choices=sorted(SHOTS), metavar="SHOT",
                        help=f"just these shots: {', '.join(SHOTS)}")
    args = parser.parse_args(argv)
    for path in asyncio.run(make(args.out, args.only or list(SHOTS))):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
