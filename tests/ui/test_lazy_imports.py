"""What the monitor's first screen does not need is not imported before it (issue 12).

At 100,000 watched rows the first screen must come within 1.0 s of the spawn, imports
included, and imports are most of it. Modals and the flows behind them are imported when
first opened; httpx's command-line client is never imported. Checked in a fresh
interpreter with the imports ``benchmarks/bench_monitor.py`` times (no timing here: only
which modules came along).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

# Each is imported when its screen or action is first used, never at start.
NOT_AT_START = (
    "tui.ui.screens.add_ids",
    "tui.ui.screens.audit_view",
    "tui.ui.screens.confirm_delete",
    "tui.ui.screens.export_flow",
    "tui.ui.screens.first_run",
    "tui.ui.screens.help",
    "tui.ui.screens.inspect",
    "tui.ui.screens.key_prompt",
    "tui.ui.screens.text_prompt",
    "tui.ui.screens.upload",
    "tui.ui.screens.upload_preview",
    "tui.ui.screenshot",
    "tui.ui.widgets.upload_files",
    "tui.core.export",
    "tui.core.triage",
    "tui.core.upload",
    # The HTTP client: the first screen shows stored rows before any request.
    "httpx",
    "tui.api.client",
    "tui.api.bounded",
    # The keyring: the first screen needs no key (asked on the call's thread).
    "keyring",
    # httpx's CLI and what only it needs
    "click",
    "pygments",
    "rich.progress",
    "rich.syntax",
)

STARTS = """
import sys
import tui.cli, tui.core.session, tui.core.settings, tui.ui.app
cli = sys.modules.get("httpx._main")
print("httpx CLI stand-in" if type(cli).__name__ == "_StandIn" else f"httpx CLI: {cli!r}")
for name in sorted(sys.modules):
    print(name)
"""


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter (this tree's ``tui`` on the path, as in the suite)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=120)


@pytest.fixture(scope="module")
def loaded_at_start() -> list[str]:
    result = run_python(STARTS)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_app_start_leaves_screens_and_flows_for_later(loaded_at_start: list[str]) -> None:
    early = [name for name in loaded_at_start
             if any(name == lazy or name.startswith(lazy + ".") for lazy in NOT_AT_START)
             and name != "httpx._main"]  # the CLI's stand-in, waiting for httpx
    assert early == [], f"imported before the first screen needs them: {early}"


def test_app_start_keeps_httpx_cli_unloaded(loaded_at_start: list[str]) -> None:
    # The stand-in is there before httpx, whenever the client is first imported.
    assert loaded_at_start[0] == "httpx CLI stand-in", loaded_at_start[0]


def test_the_client_comes_with_the_first_one_made() -> None:
    result = run_python(
        "import sys, tui.core.session, tui.api\n"
        "assert 'httpx' not in sys.modules\n"
        "assert tui.api.ConversionsClient.__name__ == 'ConversionsClient'\n"
        "assert 'httpx' in sys.modules and type(sys.modules['httpx._main']).__name__ == "
        "'_StandIn'\n")
    assert result.returncode == 0, result.stderr


def test_httpx_main_still_runs_the_real_cli() -> None:
    # The stand-in loads the real CLI when called: httpx.main behaves as without us.
    result = run_python(
        "import sys, tui.api, httpx\n"
        "assert 'click' not in sys.modules\n"
        "httpx.main(['--help'])\n")
    assert result.returncode == 0, result.stderr
    assert "Usage: httpx" in result.stdout, result.stdout[-2000:]
