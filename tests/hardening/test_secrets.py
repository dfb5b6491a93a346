"""The API key stays secret: never in logs, crash output, screenshots, files or toasts.

A canary key is the only key the sandbox accepts, so every test proves it was really
used (answers came back) before searching for it: in every byte the app wrote to a real
terminal (as is, in hex and in base64, since OSC 52 encodes what it copies), in a DEBUG
log file, in every file under the private XDG folders (watchlist, audit log, config),
in screenshots, exports, the clipboard and the toasts.
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Input

from tests.hardening.test_hostile_pty import (
    APP,
    AppInTerminal,
    app_environment,
    visible_text,
)
from tests.ui.conftest import (  # noqa: F401  (fixtures used by name)
    SessionFactory,
    monitor_session,
    no_cursor_blink,
    wait_for,
)
from tests.waiting import WAIT_BOUND, until_sync
from tui.core.credentials import ApiKey
from tui.core.export import export_rows
from tui.core.paths import AppPaths
from tui.core.session import MonitorSession
from tui.core.settings import AppConfig, ProfileSettings
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.confirm_delete import ConfirmDeleteModal
from tui.ui.screens.inspect import InspectModal
from tui.ui.screens.key_prompt import KeyPromptModal
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.widgets.monitor_header import MonitorHeader
from tui.ui.widgets.table.conversions_table import ConversionsTable

CANARY = "CANARY-9f3c7e1d-KEY"


def secret_forms(secret: str = CANARY) -> list[bytes]:
    """The canary as bytes, hex, and the base64 it makes at each of the three alignments."""
    raw = secret.encode()
    forms = [raw, raw.hex().encode(), raw.hex().upper().encode()]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        first_group = -(-shift // 3)  # the first 3-byte group made of canary bytes only
        last_group = (shift + len(raw)) // 3
        forms.append(encoded[first_group * 4:last_group * 4])
    return forms


def assert_no_secret(data: bytes | str, where: str) -> None:
    """Fail when any form of the canary is in ``data``."""
    blob = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    for form in secret_forms():
        assert form not in blob, f"the API key ({form[:12]!r}…) is in {where}"


def assert_no_secret_in_files(root: Path) -> list[Path]:
    """Search every file under ``root``; returns the files searched."""
    files = [path for path in root.rglob("*") if path.is_file()]
    for path in files:
        assert_no_secret(path.read_bytes(), str(path))
    return files


def test_secret_forms_find_the_key_in_base64_at_any_offset() -> None:
    for prefix in (b"", b"a", b"ab", b"abc"):
        blob = base64.b64encode(prefix + CANARY.encode() + b" tail")
        assert any(form in blob for form in secret_forms()[3:]), prefix
    assert not any(form in base64.b64encode(b"an ordinary text of some length")
                   for form in secret_forms())


@pytest.fixture
def canary_sandbox() -> Iterator[SandboxServer]:
    """A sandbox of its own that accepts only the canary key."""
    with SandboxServer(api_key=CANARY, rng_seed=11) as server:
        yield server


# ------------------------------------------------------------------ a real terminal
# Runs the app with three failures planted, each with the key in a local variable (the
# way a crash report that prints locals would leak it): the first status call raises an
# unexpected error (logged with its traceback), adding the command-line IDs fails in the
# load worker (a toast), and once the test says so, drawing the header raises on the UI
# thread: the app stops and prints its crash report to the terminal.
_PLANTED_FAILURES = """
import logging, os, sys
logging.basicConfig(filename=os.environ["HARDENING_LOG"], level=logging.DEBUG,
                    format="%(asctime)s %(name)s %(levelname)s %(message)s")
from tui.api.client import ConversionsClient
from tui.core.watchlist import Watchlist
from tui.ui.widgets.monitor_header import MonitorHeader

_get_status, _add, _render = ConversionsClient.get_status, Watchlist.add, MonitorHeader.render
_calls = []

async def get_status(self, conversion_id):
    api_key = self._http.headers["X-API-KEY"]
    _calls.append(conversion_id)
    if len(_calls) == 1:
        raise RuntimeError("planted failure in a status call")
    return await _get_status(self, conversion_id)

def add(self, ids):
    api_key = os.environ["CONVERSIONS_API_KEY"]
    raise LookupError("planted failure adding IDs")

def render(self):
    key = self.screen.credentials.key
    revealed = key.reveal() if key is not None else None
    if revealed and os.path.exists(os.environ["HARDENING_CRASH"]):
        raise ValueError("planted failure drawing the header")
    return _render(self)

ConversionsClient.get_status, Watchlist.add, MonitorHeader.render = get_status, add, render
from tui.cli import main
sys.exit(main())
"""


@pytest.mark.slow
def test_key_absent_from_terminal_crash_report_log_and_files(
        canary_sandbox: SandboxServer, isolated_folders: Path) -> None:
    state = canary_sandbox.state
    ids = [state.add_conversion(status="Completed", frozen=True, file_name=f"c{i}.csv")
           for i in range(2)]
    env = app_environment(isolated_folders, base_url=canary_sandbox.base_url, api_key=CANARY)
    log_file = isolated_folders / "state" / "hardening.log"
    crash_flag = isolated_folders / "crash-now"
    env.update(HARDENING_LOG=str(log_file), HARDENING_CRASH=str(crash_flag))
    watch = subprocess.run([str(APP), "watch", *map(str, ids)], env=env, capture_output=True,
                           text=True, timeout=WAIT_BOUND, check=False)
    assert watch.returncode == 0, watch.stderr
    app = AppInTerminal([sys.executable, "-c", _PLANTED_FAILURES, *map(str, ids)], env)
    try:
        app.wait_for("LookupError")  # the toast of the failed worker
        app.wait_for("c1.csv")  # polling goes on: the key works
        app.wait_for("Completed")
        app.send(b"C")  # copy a triage summary: OSC 52 carries it, base64-encoded
        until_sync(lambda: b"\x1b]52;c;" in app.output, "the OSC 52 copy written")
        crash_flag.touch()
        app.send(b"p")  # pausing redraws the header: the planted crash
        code = app.wait_exit()
    finally:
        app.close()
    output = app.output
    text = visible_text(output)
    # The crash report reached the terminal (so searching it means something) ...
    assert code == 1, text[-3000:]
    assert "ValueError" in text and "planted failure drawing the header" in text, text[-3000:]
    assert "Traceback" in text and "render" in text  # the report, without locals
    # ... the copy went out as OSC 52 (the base64 forms are searched for a reason) ...
    copied = output.split(b"\x1b]52;c;", 1)[1].split(b"\x07", 1)[0]
    assert str(ids[0]).encode() in base64.b64decode(copied)
    # ... and the DEBUG log has the unexpected error's traceback and httpx's own lines.
    log = log_file.read_text(encoding="utf-8")
    assert "failed unexpectedly" in log and "planted failure in a status call" in log, log
    assert "worker load failed: LookupError" in log and "HTTP Request: GET" in log
    assert_no_secret(output, "the terminal output")
    assert_no_secret(log, "the log file")
    searched = assert_no_secret_in_files(isolated_folders)
    assert any(path.name.startswith("watchlist") for path in searched), searched
    assert "…-KEY" in text  # the header showed the masked key, never more


@pytest.mark.slow
def test_login_prompt_never_echoes_the_key(canary_sandbox: SandboxServer,
                                           isolated_folders: Path) -> None:
    env = app_environment(isolated_folders, base_url=canary_sandbox.base_url, api_key=None)
    app = AppInTerminal([str(APP), "login"], env)
    try:
        app.wait_for("API key for profile")
        app.send(CANARY.encode() + b"\r")
        code = app.wait_exit()
    finally:
        app.close()
    text = visible_text(app.output)
    assert "the key belongs to Dana Whitfield" in text, text  # the typed key was used
    assert code in (0, 3), text  # 3: the test's null keyring keeps nothing (it says so)
    assert_no_secret(app.output, "the login terminal")
    assert_no_secret_in_files(isolated_folders)


# ------------------------------------------------------------------------- Pilot
def plain(renderable: object) -> str:
    """A Rich renderable as plain text."""
    console = Console(width=300, file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


async def test_key_absent_from_screenshots_toasts_clipboard_exports_and_databases(
        canary_sandbox: SandboxServer, monitor_session: SessionFactory,  # noqa: F811
        tmp_path: Path, isolated_folders: Path) -> None:
    state = canary_sandbox.state
    done = state.add_conversion(status="Completed", frozen=True, file_name="done.csv",
                                warnings=["Row 2: trimmed"])
    failing = state.add_conversion(status="Processing", frozen=True, file_name="bad.csv",
                                   errors=["Row 9: bad date"])
    session = monitor_session(key=None, env={}, ids=[done, failing],
                              base_url=canary_sandbox.base_url)
    app = ConversionsApp(session)
    shots = tmp_path / "shots"
    shots.mkdir()
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, KeyPromptModal), what="the key prompt")
        await pilot.press(*CANARY)
        typed = app.screen.query_one(Input)
        assert typed.value == CANARY and typed.password  # typed, and drawn hidden
        app.save_screenshot(str(shots / "typing.svg"))
        assert_no_secret(app.export_screenshot(), "the screenshot of the key prompt")
        await pilot.press("enter")

        def rows() -> dict[int, object]:
            return dict(next(s for s in app.screen_stack if isinstance(s, MonitorScreen))
                        .query_one(ConversionsTable).rows)

        await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen)
                       and all(getattr(rows().get(i), "status", None) for i in (done, failing)),
                       what="polled with the typed key")
        screen = app.screen
        assert isinstance(screen, MonitorScreen)
        await wait_for(pilot, lambda: "Dana" in screen.query_one(MonitorHeader).render().plain,
                       what="the header names the key's owner")
        state.set_status(failing, "Failed", frozen=True)
        await wait_for(pilot, lambda: any("failed" in str(n.message)
                                          for n in app._notifications), what="the failure toast")
        app.save_screenshot(str(shots / "polling.svg"))
        header = screen.query_one(MonitorHeader).render().plain
        assert "…-KEY" in header and "session only" in header, header
        # Copies (IDs, the triage summary, the inspect modal's overview and raw tabs) go to
        # the terminal as OSC 52: record what the app writes to its (headless) driver.
        driver = app._driver
        assert driver is not None
        written: list[str] = []
        write = driver.write
        driver.write = lambda data: (written.append(data), write(data))[1]  # type: ignore[method-assign]
        await pilot.press("c", "C", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, InspectModal), what="inspect")
        await pilot.press("c", "right", "right", "right", "right", "c")
        await pilot.pause()
        copies = [base64.b64decode(payload).decode("utf-8")
                  for payload in re.findall(r"\x1b\]52;c;([A-Za-z0-9+/=]*)", "".join(written))]
        assert len(copies) == 4, copies
        assert_no_secret("".join(written), "what the app wrote to the terminal")
        assert_no_secret(app.export_screenshot(), "the screenshot of the inspect modal")
        await pilot.press("escape")
        # A delete on the server: the audit log gets an entry (searched below with the rest).
        await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen), what="monitor")
        screen.query_one(ConversionsTable).move_cursor(done)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDeleteModal),
                       what="the confirmation")
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: len(session.audit.entries()) == 1, what="the delete audited")
        toasts = [str(n.message) for n in app._notifications]
        for text in (*copies, *toasts):
            assert_no_secret(text, "a copy or a toast")
        assert any('"payload"' in text for text in copies), copies  # the raw envelope
        assert_no_secret(plain(screen.query_one(MonitorHeader).render()), "the header")
    rows_now = session.watchlist.all()
    history = {row.id: session.watchlist.history(row.id) for row in rows_now}
    export_rows(rows_now, tmp_path / "export.csv", overwrite=True, history_by_id=history)
    export_rows(rows_now, tmp_path / "export.json", overwrite=True, history_by_id=history)
    assert "done.csv" in (tmp_path / "export.csv").read_text(encoding="utf-8-sig")
    assert {path.name for path in shots.iterdir()} == {"typing.svg", "polling.svg"}
    searched = [*assert_no_secret_in_files(tmp_path)]
    names = {path.name.split(".")[0] for path in searched}
    assert {"watchlist", "audit", "export", "typing", "polling"} <= names, names


# --------------------------------------------------------------------- reprs
def test_session_repr_does_not_show_the_key_from_the_environment(tmp_path: Path) -> None:
    session = MonitorSession.open(
        AppPaths.under(tmp_path), AppConfig(),
        ProfileSettings(name="p", base_url="http://127.0.0.1:9"),
        preset_key=ApiKey(CANARY), env={"CONVERSIONS_API_KEY": CANARY})
    try:
        assert "…-KEY" in repr(session.preset_key)
        assert_no_secret(repr(session.open_client(ApiKey(CANARY)).client), "the client's repr")
        assert_no_secret(repr(session), "the session's repr")
    finally:
        session.close()


@pytest.mark.slow
def test_crash_report_ends_with_the_apps_own_sentence(isolated_folders: Path) -> None:
    env = app_environment(isolated_folders, base_url="http://127.0.0.1:9", api_key=CANARY)
    crash_at_once = ("import sys\n"
                     "from tui.ui.widgets.monitor_header import MonitorHeader\n"
                     "def render(self):\n"
                     "    raise ValueError('planted failure drawing the header')\n"
                     "MonitorHeader.render = render\n"
                     "from tui.cli import main\n"
                     "sys.exit(main())\n")
    app = AppInTerminal([sys.executable, "-c", crash_at_once, "1"], env)
    try:
        code = app.wait_exit()
    finally:
        app.close()
    text = visible_text(app.output)
    assert code == 1 and "planted failure drawing the header" in text, text[-2000:]
    assert_no_secret(app.output, "the terminal output")
    assert "1 of 2 errors" not in text
    assert "stopped after an internal error; the watchlist is saved" in text
