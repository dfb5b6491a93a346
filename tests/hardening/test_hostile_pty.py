"""Hostile server text against the installed app in a real pseudo-terminal.

Pilot tests look at what widgets hold; these look at the bytes the app writes to a
terminal. The server's strings carry markup, colour, OSC 8 links, OSC 52 clipboard
writes, a BiDi override, NUL, C1 controls, a 1 MB file name, 100,000 warnings and
200-level metadata; none of it may reach the terminal as a control sequence, and the
app must keep drawing and quit on ``q``.

:class:`AppInTerminal` (also used by ``test_secrets``) runs ``conversions-tui`` on a pty
that is its controlling terminal, with private XDG folders, and records every byte.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.waiting import WAIT_BOUND, until_sync
from tui.sandbox.runner import SandboxServer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")

APP = Path(sys.executable).parent / "conversions-tui"
COLUMNS, LINES = 150, 42

# Makes the pty the controlling terminal of the app, as a login shell would (getpass and
# SIGWINCH need one), then becomes the app: no preexec_fn in a threaded pytest process.
_CONTROLLING_TTY = (
    "import fcntl, os, sys, termios\n"
    "os.setsid()\n"
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)

# Everything Textual itself writes, by pattern (measured on Textual 8): SGR colours,
# cursor positioning, DEC private modes on/off, mode queries, the kitty keyboard protocol
# push/pop, and OSC 22 (mouse pointer shape) with a plain word.
TEXTUAL_SEQUENCES = re.compile(
    rb"\x1b\[[0-9;]*m"            # SGR
    rb"|\x1b\[[0-9]+;[0-9]+H"     # cursor position
    rb"|\x1b\[\?[0-9]+[hl]"       # DEC private mode set/reset
    rb"|\x1b\[\?[0-9]+\$p"        # DECRQM query
    rb"|\x1b\[[<>=][0-9]*u"       # kitty keyboard protocol
    rb"|\x1b\][0-9]+;[a-z-]*\x07"  # OSC 22 pointer shape ("default", "pointer", ...)
)
CSI_ANY = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]")
# What the app writes for an alert (issue 13): the bell, then the desktop notifications
# (OSC 9, OSC 777, kitty's OSC 99). Their text may hold server text, so their bodies must
# hold no ESC and no BEL of the server's: the patterns allow neither.
ALERT_SEQUENCES = re.compile(
    rb"\x07(?=\x1b\](?:9|777|99);)"                         # the bell before them
    rb"|\x1b\]9;[^\x1b\x07]*\x07"                            # OSC 9
    rb"|\x1b\]777;notify;[^\x1b\x07;]*;[^\x1b\x07]*\x07"       # OSC 777
    rb"|\x1b\]99;i=[\w-]+:d=[01]:p=(?:title|body);[^\x1b\x07]*\x1b\\"  # OSC 99
)


def visible_text(output: bytes) -> str:
    """The text a terminal would show, roughly: escape sequences removed, UTF-8 decoded."""
    return CSI_ANY.sub(b"", TEXTUAL_SEQUENCES.sub(b"", output)).decode("utf-8", "replace")


def foreign_sequences(output: bytes) -> list[bytes]:
    """Every escape sequence (or lone ESC) in ``output`` that neither Textual nor the app's
    alerts write."""
    rest = ALERT_SEQUENCES.sub(b"", TEXTUAL_SEQUENCES.sub(b"", output))
    return [rest[i:i + 24] for i in range(len(rest)) if rest[i] == 0x1B]


class AppInTerminal:
    """``conversions-tui`` (or ``python -c``) on a pty of ``COLUMNS`` x ``LINES``."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str]) -> None:
        import fcntl
        import struct
        import termios

        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        self._master = master
        self._output = bytearray()
        self._lock = threading.Lock()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CONTROLLING_TTY, *argv], stdin=slave, stdout=slave,
            stderr=slave, env=dict(env), close_fds=True)
        os.close(slave)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # EIO: the app closed its side
                return
            if not chunk:
                return
            with self._lock:
                self._output.extend(chunk)

    @property
    def output(self) -> bytes:
        """Every byte written so far."""
        with self._lock:
            return bytes(self._output)

    def send(self, keys: bytes) -> None:
        """Type ``keys`` (b"\\r" is enter, b"\\x1b[C" the right arrow)."""
        os.write(self._master, keys)

    def wait_for(self, text: str, *, since: int = 0, timeout: float = WAIT_BOUND) -> int:
        """Wait until ``text`` is on screen in output after byte ``since``; its end offset."""
        deadline = time.monotonic() + timeout
        while True:
            output = self.output
            if text in visible_text(output[since:]):
                return len(output)
            if time.monotonic() > deadline or self.process.poll() is not None:
                tail = visible_text(output[-3000:])
                raise AssertionError(f"{text!r} not shown within {timeout} s "
                                     f"(exit {self.process.poll()}); screen tail: {tail!r}")
            time.sleep(0.1)

    def wait_exit(self, timeout: float = WAIT_BOUND) -> int:
        """The exit code, once the app has ended (fails after ``timeout`` seconds)."""
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def close(self) -> None:
        """Kill the app if it is still running; close the pty."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._reader.join(5)
        try:
            os.close(self._master)
        except OSError:
            pass


def app_environment(xdg_root: Path, *, base_url: str, api_key: str | None,
                    poll_interval: float = 0.5) -> dict[str, str]:
    """An environment for the app on the isolated XDG folders with a fast-polling profile."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("CONVERSIONS_", "PYTEST", "TEXTUAL", "TMUX"))}
    env.update(
        XDG_CONFIG_HOME=str(xdg_root / "config"), XDG_DATA_HOME=str(xdg_root / "data"),
        XDG_STATE_HOME=str(xdg_root / "state"), XDG_CACHE_HOME=str(xdg_root / "cache"),
        XDG_RUNTIME_DIR=str(xdg_root / "runtime"),
        TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8", LC_ALL="C.UTF-8",
        # Never the user's real keyring: the key comes from the environment or a prompt.
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        CONVERSIONS_BASE_URL=base_url,
    )
    if api_key is not None:
        env["CONVERSIONS_API_KEY"] = api_key
    config = xdg_root / "config" / "conversions-tui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('default_profile = "hardening"\n\n[profiles.hardening]\n'
                      f'base_url = "{base_url}"\npoll_interval = {poll_interval}\n',
                      encoding="utf-8")
    return env


# -------------------------------------------------------------------- hostile data
OSC52 = "\x1b]52;c;ZXZpbA==\x07"
OSC8 = "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\"
DISTINCT_SGR = "\x1b[31;1;4;5;7;9;53m"  # an SGR Textual never writes
HOSTILE_NAME = (f"[bold red]x[/][link=http://evil]y[/link]{DISTINCT_SGR}EVIL{OSC8}{OSC52}"
                "\u202e\x00\u009b6n.csv")


SINK_WARNINGS = 2_000


def _nested(depth: int) -> object:
    value: object = f"bottom{OSC52}"
    for _ in range(depth):
        value = {"k": value}
    return value


def hostile_rows(server: SandboxServer) -> dict[str, int]:
    """Conversions whose every string is hostile, made through the sandbox's state."""
    state = server.state
    state.profile = {**(state.profile or {}), "firstName": f"[red]Mal[/]{OSC52}",
                     "lastName": f"\u202eyrolla{DISTINCT_SGR}", "email": f"m@x{OSC8}"}
    return {
        "sink": state.add_conversion(
            status="Completed", frozen=True, file_name=HOSTILE_NAME,
            data_source_type=f"[i]Csv{DISTINCT_SGR}",
            # Many, not 100,000: the bytes are the point here; test_hostile_data times the
            # inspect modal with 100,000.
            warnings=[f"w{i} [/]{OSC52}\u202e" for i in range(SINK_WARNINGS)],
            errors=[f"[link=http://evil]e[/link]{OSC8}\x00"],
            metadata={"deep": _nested(200), f"[b]{OSC52}": f"{OSC8}\u202e"},
            extra_payload={"[link=http://evil]": f"{DISTINCT_SGR}{OSC52}"}),
        "huge": state.add_conversion(status="Completed", frozen=True,
                                     file_name="H" * 1_000_000 + OSC52),
        "numbers": state.add_conversion(
            status="Completed", frozen=True, warnings=[1, {"a": 2}],  # type: ignore[list-item]
            extra_payload={"fileName": 12345, "status": 7}),
        "toast": state.add_conversion(status="Processing", frozen=True,
                                      file_name=f"{OSC52}TOAST[b]{OSC8}\u202e.csv",
                                      errors=[f"{OSC52}row 1"]),
    }


def assert_terminal_safe(output: bytes) -> None:
    """No hostile sequence, and nothing but Textual's own escapes, reached the terminal."""
    for needle in (b"\x1b]52", b"\x1b]8;", b"http://evil\x1b", DISTINCT_SGR.encode(),
                   "\u202e".encode(), b"\x00", "\u009b".encode(), b"\x1b[6n"):
        assert needle not in output, f"{needle!r} reached the terminal"
    foreign = foreign_sequences(output)
    assert not foreign, f"escape sequences Textual does not write: {foreign[:5]}"
    bells = ALERT_SEQUENCES.sub(b"", TEXTUAL_SEQUENCES.sub(b"", output)).count(b"\x07")
    assert bells == 0, "a BEL from the server's text reached the terminal"


@pytest.fixture
def xdg_root(isolated_folders: Path) -> Path:
    """The XDG folders conftest made for this test."""
    return isolated_folders


@pytest.mark.slow
def test_hostile_text_never_reaches_the_terminal_as_control_sequences(
        sandbox: SandboxServer, xdg_root: Path) -> None:
    ids = hostile_rows(sandbox)
    env = app_environment(xdg_root, base_url=sandbox.base_url, api_key=sandbox.api_key)
    app = AppInTerminal([str(APP), *(str(i) for i in ids.values())], env)
    try:
        # The table: the hostile name drawn with its controls made visible.
        seen = app.wait_for("[bold red]x[/][link=http://evil]y[/link]␛[31;1")
        app.wait_for("12345")  # a number where the file name belongs
        app.wait_for("[red]Mal[/]␛]52;c;ZXZpbA==␇")  # the header
        sandbox.state.set_status(ids["toast"], "Failed", frozen=True)
        seen = app.wait_for("TOAST[b]", since=seen)  # the row, then the "failed" toast
        # The failure's alert (gathered for a moment first) reaches the terminal too.
        until_sync(lambda: b"\x1b]9;Conversion failed" in app.output,
                   "the failure's desktop notification")

        # Inspect the first row, then every tab; each key must bring a redraw.
        app.send(b"\r")
        seen = app.wait_for(f"Warnings ({SINK_WARNINGS})", since=seen)
        # The watchlist keeps the first 200 of the 2,000 warnings, and says so.
        for shown in (f"first 200 of {SINK_WARNINGS:,} warnings", "1 error",
                      "Time in status", '"fileName": "[bold'):
            app.send(b"\x1b[C")
            seen = app.wait_for(shown, since=seen)
        app.send(b"\x1b")
        seen = app.wait_for("ID ▲", since=seen)  # back on the table
        app.send(b"q")
        code = app.wait_exit()  # that q quits at all; how fast is not timed here
    finally:
        app.close()
    output = app.output
    text = visible_text(output)
    assert code == 0, text[-2000:]
    # The hostile text did reach the screen, made visible (so the checks below mean something).
    assert "␛]8;;http://evil␛\\click" in text and "<U+202E>" in text and "␀" in text
    assert "w0 [/]␛]52;c;ZXZpbA==␇<U+202E>" in text  # the warnings tab, literally
    # The failure's desktop notification carries the hostile name, made visible too.
    notified = re.search(rb"\x1b\]9;Conversion failed: ([^\x07]*)\x07", output)
    assert notified is not None and "TOAST[b]" in notified.group(1).decode(), output[-3000:]
    assert "␛]52" in notified.group(1).decode()
    assert_terminal_safe(output)
