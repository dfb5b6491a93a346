"""The installed app in a real pty (tmux): start, add, inspect, copy, delete, resize, quit.

Each test runs ``conversions-tui`` (the venv's console script) in a private tmux server,
types keys with send-keys and reads the screen with capture-pane, polling with timeouts.
"""

from __future__ import annotations

import base64
import re
import secrets
import shlex
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    APP,
    STARTUP_TIMEOUT,
    SandboxProcess,
    Tmux,
    app_processes,
    private_dirs,
    shell_command,
    wait_until,
)

pytestmark = pytest.mark.slow


def _app_env(root: Path, sandbox: SandboxProcess, marker: str) -> dict[str, str]:
    return {**private_dirs(root), "CONVERSIONS_BASE_URL": sandbox.base_url,
            "CONVERSIONS_API_KEY": sandbox.api_key, "CVT_E2E_MARKER": marker}


def _run_recording_exit(env: dict[str, str], rc_file: Path, *args: str) -> str:
    """A shell line that runs the app and writes its exit status to ``rc_file``."""
    return f"{shell_command(env, APP, *args)}; echo $? > {shlex.quote(str(rc_file))}"


def _quit_and_check_gone(tmux: Tmux, rc_file: Path, marker: str) -> None:
    tmux.send("q")
    wait_until(lambda: rc_file.exists() and rc_file.read_text().strip() != "",
               "the app to exit after q")
    assert rc_file.read_text().strip() == "0"
    wait_until(lambda: not app_processes(marker), "the app process to be gone")


def _rows_shown(ids: list[int]) -> Callable[[str], bool]:
    return lambda screen: all(re.search(rf"^\s*{i}\s", screen, re.M) for i in ids)


def _fits(width: int, height: int) -> Callable[[str], bool]:
    """The app redrew for width x height: columns in the header, the footer on the last line."""
    def check(screen: str) -> bool:
        lines = screen.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        header = next((line for line in lines if re.search(r"\bID\b", line)), "")
        return (len(lines) == height and max(len(line) for line in lines) <= width
                and all(word in header for word in ("File", "Status"))
                and "Inspect" in lines[-1])
    return check


def test_watch_inspect_copy_delete_resize_and_quit(tmux: Tmux, sandbox_process: SandboxProcess,
                                                   tmp_path: Path) -> None:
    ids = [sandbox_process.create(name) for name in ("alpha.csv", "beta.csv", "gamma.csv")]
    marker = secrets.token_hex(8)
    rc_file, raw = tmp_path / "rc", tmp_path / "pane.raw"
    env = _app_env(tmp_path / "xdg", sandbox_process, marker)

    tmux.start(_run_recording_exit(env, rc_file), width=100, height=30)
    # Everything the app writes to the pty, byte for byte (the OSC 52 sequence included).
    tmux.run("pipe-pane", "-o", "-t", tmux.target, f"cat >> {shlex.quote(str(raw))}")
    tmux.wait_for("press a to add IDs", "the empty watchlist", timeout=STARTUP_TIMEOUT)

    # Add: a, type the IDs, ctrl+s; the rows fill in with what the server says.
    tmux.send("a")
    tmux.wait_for("Add conversions to the watchlist")
    tmux.type(f"{ids[0]}-{ids[2]}")
    tmux.wait_for(f"Will add 3: {ids[0]}, {ids[1]}, {ids[2]}")
    tmux.send("C-s")
    screen = tmux.wait_for(
        lambda s: _rows_shown(ids)(s) and s.count("Completed") >= 3 and "beta.csv" in s,
        "three Completed rows")
    assert "Add conversions" not in screen

    # Note, typed in one write right behind the n (as a fast typist over SSH does): the
    # letters land in the prompt, none fires a monitor key (x would unwatch, e export).
    tmux.type("nticket 4412 x redo")
    screen = tmux.wait_for("ticket 4412 x redo", "the note typed into the prompt")
    assert f"Note for {ids[0]}" in screen
    tmux.send("Enter")
    tmux.wait_for(lambda s: f"Note for {ids[0]}" not in s and _rows_shown(ids)(s),
                  "the monitor again, all three rows watched")

    # Inspect: enter opens the cursor row's details, escape closes them.
    tmux.send("Enter")
    screen = tmux.wait_for(f"Conversion {ids[0]}", "the inspect screen")
    assert "alpha.csv" in screen
    tmux.send("Escape")
    tmux.wait_for(lambda s: f"Conversion {ids[0]}" not in s and _rows_shown(ids)(s),
                  "the monitor again")

    # Copy: mark every row, c; the OSC 52 bytes reach the pty, wrapped for tmux.
    tmux.send("C-a")
    tmux.send("c")
    tmux.wait_for("Copied 3 IDs")
    data = raw.read_bytes()
    found = re.search(rb"\x1bPtmux;\x1b\x1b\]52;c;([A-Za-z0-9+/=]*)\x07\x1b\\", data)
    assert found, "no tmux-wrapped OSC 52 sequence in the pane output"
    assert base64.b64decode(found.group(1)).decode().split("\n") == [str(i) for i in ids]
    tmux.send("Escape")  # clear the marks, so d acts on the cursor row only

    # Delete: d on the second row, tab from Cancel to the Delete button, enter.
    tmux.send("Down")
    tmux.send("d")
    screen = tmux.wait_for("Delete this conversion on the server?", "the confirmation")
    assert re.search(rf"{ids[1]}\s+beta\.csv\s+\(Completed\)", screen), screen
    tmux.send("Tab")
    tmux.send("Enter")
    tmux.wait_for(lambda s: "Delete this conversion" not in s
                  and re.search(rf"{ids[1]}.*Delet", s) is not None, "the row being deleted")
    assert sandbox_process.status(ids[1]) in {"DeletionPending", "Deleted"}
    assert [sandbox_process.status(i) for i in (ids[0], ids[2])] == ["Completed"] * 2

    # Resize: the screen is redrawn for 80x24 with the ID/File/Status columns.
    tmux.run("resize-window", "-t", tmux.target, "-x", "80", "-y", "24")
    screen = tmux.wait_for(lambda s: _fits(80, 24)(s) and _rows_shown(ids)(s),
                           "a redraw at 80x24")

    _quit_and_check_gone(tmux, rc_file, marker)


def test_demo_starts_small_grows_and_quits(tmux: Tmux, tmp_path: Path) -> None:
    marker = secrets.token_hex(8)
    rc_file = tmp_path / "rc"
    env = {**private_dirs(tmp_path / "xdg"), "CVT_E2E_MARKER": marker}
    tmux.start(_run_recording_exit(env, rc_file, "--demo"), width=80, height=24)
    # The demo seeds its own server: rows arrive without any key or config.
    tmux.wait_for(lambda s: _fits(80, 24)(s) and _rows_shown([48210, 48211])(s)
                  and "demo" in s, "the demo at 80x24", timeout=STARTUP_TIMEOUT)
    tmux.run("resize-window", "-t", tmux.target, "-x", "132", "-y", "40")
    tmux.wait_for(lambda s: _fits(132, 40)(s) and _rows_shown([48210])(s), "a redraw at 132x40")
    _quit_and_check_gone(tmux, rc_file, marker)


_VIEW_COUNTS = re.compile(r"\bAll (\d+)\b.*\bStuck (\d+)\b")
DEMO_WATCH = 120.0  # seconds: the test's subject is two minutes of the demo


def _view_counts(screen: str) -> tuple[str, int, int] | None:
    """The view tabs' line ("All 64  Active 9 ... Stuck 1  Deleting 0"), All and Stuck."""
    for line in screen.split("\n"):
        found = _VIEW_COUNTS.search(line)
        if found:
            return " ".join(line.split()), int(found.group(1)), int(found.group(2))
    return None


def test_demo_stays_alive_for_two_minutes_with_a_stuck_row_in_the_first(
        tmux: Tmux, tmp_path: Path) -> None:
    marker = secrets.token_hex(8)
    rc_file = tmp_path / "rc"
    env = {**private_dirs(tmp_path / "xdg"), "CVT_E2E_MARKER": marker}
    tmux.start(_run_recording_exit(env, rc_file, "--demo"), width=120, height=36)
    tmux.wait_for(lambda s: _view_counts(s) is not None and _rows_shown([48210])(s),
                  "the demo's first screen", timeout=STARTUP_TIMEOUT)
    shown_at = time.monotonic()
    # Watch two minutes from the first screen: the view counts once a second.
    seen: list[tuple[float, str, int, int]] = []
    while (elapsed := time.monotonic() - shown_at) < DEMO_WATCH:
        counts = _view_counts(tmux.screen())
        if counts is not None:
            seen.append((elapsed, *counts))
        time.sleep(1.0)  # the sampling interval of the watch, not a wait for something

    changes = [(round(at), line) for index, (at, line, _all, _stuck) in enumerate(seen)
               if index == 0 or line != seen[index - 1][1]]
    story = "\n".join(f"{at:4d} s  {line}" for at, line in changes)
    first_stuck = next((at for at, _line, _all, stuck in seen if stuck > 0), None)
    assert first_stuck is not None and first_stuck <= 60.0, (
        f"no Stuck row in the first minute (first at {first_stuck}); the counts were:\n{story}")
    second_minute = [(at, watched) for at, _line, watched, _stuck in seen if at > 60.0]
    arrivals_and_departures = sum(1 for (_, a), (_, b) in pairwise(second_minute) if a != b)
    assert arrivals_and_departures >= 2, (
        f"the watched count changed {arrivals_and_departures} times in the second minute; "
        f"the counts were:\n{story}")
    _quit_and_check_gone(tmux, rc_file, marker)


def _copy_through_nested_tmux(tmux_servers: Callable[[], Tmux], sandbox: SandboxProcess,
                              tmp_path: Path, inner_options: dict[str, str]) -> tuple[list[int],
                                                                                      str]:
    """The app in an inner tmux, attached from an outer one that keeps OSC 52 in its buffer.

    The outer tmux stands for the user's own terminal: with ``set-clipboard on`` whatever
    clipboard sequence reaches it lands in its paste buffer. Returns the IDs and that buffer.
    """
    ids = [sandbox.create(name) for name in ("one.csv", "two.csv")]
    outer, inner = tmux_servers(), tmux_servers()
    marker = secrets.token_hex(8)
    env = _app_env(tmp_path / "xdg", sandbox, marker)
    inner.start(shell_command(env, APP, *map(str, ids)), width=100, height=30)
    for option, value in inner_options.items():
        inner.set(option, value)
    attach = f"tmux -L {shlex.quote(inner.socket)} -f /dev/null attach -t {inner.target}"
    outer.start(f"env -u TMUX {attach}", width=100, height=30)
    outer.set("set-clipboard", "on")
    outer.wait_for(lambda s: _rows_shown(ids)(s) and s.count("Completed") >= 2,
                   "the rows through both tmux layers", timeout=STARTUP_TIMEOUT)
    outer.send("C-a")
    outer.send("c")
    outer.wait_for("Copied 2 IDs")
    wait_until(lambda: outer.run("show-buffer", check=False).returncode == 0,
               "a paste buffer in the outer tmux")
    return ids, outer.run("show-buffer").stdout


def test_copy_reaches_the_outer_terminal_through_tmux_passthrough(
        tmux_servers: Callable[[], Tmux], sandbox_process: SandboxProcess,
        tmp_path: Path) -> None:
    ids, copied = _copy_through_nested_tmux(tmux_servers, sandbox_process, tmp_path,
                                            {"allow-passthrough": "on"})
    assert copied.split("\n") == [str(i) for i in ids]


def test_copy_reaches_the_outer_terminal_with_tmux_set_clipboard_on(
        tmux_servers: Callable[[], Tmux], sandbox_process: SandboxProcess,
        tmp_path: Path) -> None:
    ids, copied = _copy_through_nested_tmux(tmux_servers, sandbox_process, tmp_path,
                                            {"set-clipboard": "on"})
    assert copied.split("\n") == [str(i) for i in ids]
