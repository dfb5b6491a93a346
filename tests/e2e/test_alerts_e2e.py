"""An alert as the terminal gets it: the installed app in tmux, a conversion fails, and
the bell and the desktop notifications (OSC 9, 777, 99) reach the pty, wrapped for tmux's
passthrough, with the toast on screen (issue 13)."""

from __future__ import annotations

import re
import secrets
import shlex
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    APP,
    STARTUP_TIMEOUT,
    SandboxProcess,
    Tmux,
    private_dirs,
    shell_command,
    wait_until,
)

pytestmark = pytest.mark.slow


def test_a_failure_rings_and_notifies_through_tmux(tmux: Tmux, sandbox_process: SandboxProcess,
                                                   tmp_path: Path) -> None:
    conversion = sandbox_process.create("payroll.csv", status="Processing")
    sandbox_process.set_status(conversion, "Processing")  # held there until we say
    raw = tmp_path / "pane.raw"
    env = {**private_dirs(tmp_path / "xdg"), "CONVERSIONS_BASE_URL": sandbox_process.base_url,
           "CONVERSIONS_API_KEY": sandbox_process.api_key,
           "CVT_E2E_MARKER": secrets.token_hex(8)}
    tmux.start(shell_command(env, APP, str(conversion)), width=120, height=30)
    # Everything the app writes to the pty, byte for byte.
    tmux.run("pipe-pane", "-o", "-t", tmux.target, f"cat >> {shlex.quote(str(raw))}")
    tmux.wait_for(lambda s: re.search(rf"{conversion}\s+payroll\.csv.*Processing", s)
                  is not None, "the row, Processing", timeout=STARTUP_TIMEOUT)

    sandbox_process.set_status(conversion, "Failed")
    said = f"Conversion {conversion} failed (payroll.csv)"
    tmux.wait_for(said, "the failure's toast")

    def sent() -> bytes:
        return raw.read_bytes() if raw.exists() else b""

    # Inside tmux each OSC is wrapped in its DCS passthrough (every ESC doubled).
    osc9 = b"\x1bPtmux;\x1b\x1b]9;Conversion failed: " + said.encode() + b"\x07\x1b\\"
    wait_until(lambda: osc9 in sent(), "the OSC 9 notification in the pane's bytes")
    data = sent()
    assert b"\x07" + b"\x1bPtmux;" in data  # the bell, right before the notifications
    assert (b"\x1bPtmux;\x1b\x1b]777;notify;Conversion failed;" + said.encode()
            + b"\x07\x1b\\") in data
    # kitty's OSC 99: the title, then the body, in one passthrough.
    assert re.search(rb"\x1bPtmux;\x1b\x1b\]99;i=([\w-]+):d=0:p=title;Conversion failed"
                     rb"\x1b\x1b\\\x1b\x1b\]99;i=\1:d=1:p=body;"
                     + re.escape(said.encode()) + rb"\x1b\x1b\\\x1b\\", data), data[-3000:]
    assert data.count(b"]9;Conversion failed") == 1  # once, not once per poll
    tmux.send("q")
