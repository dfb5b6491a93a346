"""Two installed monitors on one profile (one XDG folder): one polls, the other follows.

Each runs in its own private tmux server (a real pty), as tests/e2e/test_tmux_e2e.py
does. The second says in its header that it follows the first; the first is killed with
SIGKILL (no clean-up of its own: the kernel drops its file lock); the second takes over
and checks the rows itself: a status the sandbox changes after the kill shows on it.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
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

# After the kill: the follower tries the lock every second and the new poller checks active
# rows at once; a loaded machine may take much longer than that.
TAKEOVER_TIMEOUT = 60.0


def _control(sandbox: SandboxProcess, path: str, body: dict[str, object]) -> dict[str, object]:
    with httpx.Client(base_url=sandbox.base_url, timeout=15, trust_env=False) as client:
        answer = client.post(path, json=body)
    answer.raise_for_status()
    payload = answer.json()["payload"]
    assert isinstance(payload, dict)
    return payload


def _row_with(conversion_id: int, status: str) -> Callable[[str], bool]:
    return lambda screen: re.search(rf"^\s*{conversion_id}\s.*{status}", screen,
                                    re.M) is not None


def test_the_follower_takes_over_when_the_polling_monitor_is_killed(
        tmux_servers: Callable[[], Tmux], sandbox_process: SandboxProcess,
        tmp_path: Path) -> None:
    conversion = int(_control(sandbox_process, "/_control/conversions",
                              {"status": "Processing", "frozen": True,
                               "fileName": "takeover.csv"})["id"])
    xdg = private_dirs(tmp_path / "xdg")  # one profile, one watchlist file, for both
    base = {**xdg, "CONVERSIONS_BASE_URL": sandbox_process.base_url,
            "CONVERSIONS_API_KEY": sandbox_process.api_key}
    watched = subprocess.run(shell_command(base, APP, "watch", str(conversion)), shell=True,
                             capture_output=True, text=True, timeout=STARTUP_TIMEOUT)
    assert watched.returncode == 0, watched.stderr

    markers = [secrets.token_hex(8), secrets.token_hex(8)]
    first, second = tmux_servers(), tmux_servers()
    first.start(shell_command({**base, "CVT_E2E_MARKER": markers[0]}, APP), width=160,
                height=30)
    first.wait_for(_row_with(conversion, "Processing"), "the first monitor's check",
                   timeout=STARTUP_TIMEOUT)
    wait_until(lambda: len(app_processes(markers[0])) == 1, "the first monitor's process")
    leader = app_processes(markers[0])[0]
    assert "following" not in first.screen()

    second.start(shell_command({**base, "CVT_E2E_MARKER": markers[1]}, APP), width=160,
                 height=30)
    screen = second.wait_for(f"following another monitor (pid {leader} on",
                             "the second monitor to say it follows the first",
                             timeout=STARTUP_TIMEOUT)
    assert _row_with(conversion, "Processing")(screen), screen

    os.kill(leader, signal.SIGKILL)
    wait_until(lambda: not app_processes(markers[0]), "the first monitor to be gone")
    # Only a monitor that polls can learn this now: the first is dead.
    _control(sandbox_process, f"/_control/conversions/{conversion}/status",
             {"status": "Completed", "frozen": True})
    screen = second.wait_for(
        lambda s: "following" not in s and _row_with(conversion, "Completed")(s),
        "the second monitor to take over and check the row", timeout=TAKEOVER_TIMEOUT)

    second.send("q")
    wait_until(lambda: not app_processes(markers[1]), "the second monitor to exit")
