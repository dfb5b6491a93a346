"""The alert hook with real small scripts: it works, and a hostile one costs nothing."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.waiting import WAIT_BOUND, until
from tui.core.alerts.events import Alert, AlertKind
from tui.core.alerts.hook import OUTPUT_CAP, AlertHook, hook_environment

EVENT = Alert(AlertKind.FAILED, "Conversion 7 failed (a.csv)", at=0.0, ids=(7,)).to_json(
    profile="prod")
ENV = {**os.environ, "CONVERSIONS_API_KEY": "sk-live-secret-1234567890",
       "CONVERSIONS_PROXY_TOKEN": "tok-secret", "CONVERSIONS_PROFILE": "prod"}
GENEROUS = 60.0  # a timeout for hooks that should finish (never a speed limit)


def script(tmp_path: Path, name: str, body: str, *, executable: bool = True) -> Path:
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(0o755 if executable else 0o644)
    return path


async def test_the_hook_gets_the_alert_as_json_and_never_the_key(tmp_path: Path) -> None:
    out = tmp_path / "got.json"
    hook = script(tmp_path, "hook.py", f"""\
import json, os, sys
event = json.load(sys.stdin)
json.dump({{"event": event, "env": dict(os.environ), "args": sys.argv[1:]}},
          open({str(out)!r}, "w"))
print("posted")
""")
    assert await AlertHook((str(hook), "--channel", "ops"), timeout=GENEROUS,
                           env=ENV).run(EVENT) is None
    got = json.loads(out.read_text())
    assert got["event"] == EVENT and got["args"] == ["--channel", "ops"]
    assert got["event"]["kind"] == "failed" and got["event"]["ids"] == [7]
    assert "CONVERSIONS_API_KEY" not in got["env"] and "CONVERSIONS_PROXY_TOKEN" not in got["env"]
    assert got["env"]["CONVERSIONS_PROFILE"] == "prod"
    assert "secret" not in out.read_text()


def test_the_environment_loses_secrets_only() -> None:
    assert hook_environment(ENV) == {
        k: v for k, v in ENV.items() if k not in ("CONVERSIONS_API_KEY",
                                                  "CONVERSIONS_PROXY_TOKEN")}


async def test_a_hook_that_hangs_is_stopped_at_its_timeout(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    # The hang is a grandchild holding the output pipe: the whole group must end.
    hook = script(tmp_path, "hang.py", f"""\
import os, subprocess, sys
child = subprocess.Popen(["sleep", "1000"])
open({str(pids)!r}, "w").write(str(child.pid))
child.wait()
""")
    timeout = 0.5
    while True:  # a loaded machine may need longer to start the sleeper: never a flake
        message = await AlertHook((str(hook),), timeout=timeout, env=ENV).run(EVENT)
        assert message == f"Alert hook hang.py did not finish in {timeout:g} s and was stopped"
        if pids.exists() or timeout > WAIT_BOUND:
            break
        timeout *= 2
    sleeper = int(pids.read_text())

    def gone() -> bool:
        try:
            state = Path(f"/proc/{sleeper}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return True
        return state in ("Z", "X")  # dead, waiting to be reaped by init

    await until(gone, lambda: f"the hook's child {sleeper} still runs")


async def test_a_hook_that_fails_says_its_code_and_last_line(tmp_path: Path) -> None:
    hook = script(tmp_path, "fail.py",
                  "import sys\nprint('posting...')\nsys.stderr.write('chat: 401 \\x1b[31m\\n')\n"
                  "sys.exit(3)\n")
    message = await AlertHook((str(hook),), timeout=GENEROUS, env=ENV).run(EVENT)
    assert message == "Alert hook fail.py exited with code 3: chat: 401 \u241b[31m"


async def test_a_hook_that_prints_megabytes_is_read_only_to_the_cap(tmp_path: Path) -> None:
    hook = script(tmp_path, "loud.py", "import sys\nsys.stdout.write('x' * 8_000_000)\n")
    message = await AlertHook((str(hook),), timeout=GENEROUS, env=ENV).run(EVENT)
    assert message == (f"Alert hook loud.py printed more than {OUTPUT_CAP // 1024} KiB; "
                       "the rest was discarded")


async def test_a_hook_that_is_not_executable_or_missing(tmp_path: Path) -> None:
    plain = script(tmp_path, "plain.py", "print('hi')\n", executable=False)
    message = await AlertHook((str(plain),), timeout=GENEROUS, env=ENV).run(EVENT)
    assert message == f"Alert hook plain.py is not executable ({plain})"
    missing = tmp_path / "nowhere" / "notify"
    message = await AlertHook((str(missing),), timeout=GENEROUS, env=ENV).run(EVENT)
    assert message == f"Alert hook notify was not found ({missing})"


async def test_a_hook_that_ignores_its_input_is_fine(tmp_path: Path) -> None:
    hook = script(tmp_path, "quiet.py", "import os\nos.close(0)\n")
    assert await AlertHook((str(hook),), timeout=GENEROUS, env=ENV).run(EVENT) is None


async def test_the_same_failure_is_said_once_until_the_hook_works(tmp_path: Path) -> None:
    flag = tmp_path / "works"
    hook = AlertHook((str(script(tmp_path, "flaky.py", f"""\
import os, sys
sys.exit(0 if os.path.exists({str(flag)!r}) else 1)
""")),), timeout=GENEROUS, env=ENV)
    said = [await hook.deliver(EVENT) for _ in range(3)]
    assert said == ["Alert hook flaky.py exited with code 1", None, None]
    flag.touch()
    assert await hook.deliver(EVENT) is None
    flag.unlink()
    assert await hook.deliver(EVENT) == "Alert hook flaky.py exited with code 1"


async def test_send_returns_at_once_and_reports_later(tmp_path: Path) -> None:
    hook = AlertHook((str(script(tmp_path, "slow.py", """\
import time
while True:
    time.sleep(0.05)
""")),), timeout=1.0, env=ENV)
    problems: list[str] = []
    hook.send(EVENT, problems.append)  # returns before the hook has even started
    assert problems == []
    await until(lambda: problems, "the hanging hook was never reported")
    assert problems == ["Alert hook slow.py did not finish in 1 s and was stopped"]


async def test_closing_cancels_running_hooks(tmp_path: Path) -> None:
    started = tmp_path / "started"
    hook = AlertHook((str(script(tmp_path, "slow.py", f"""\
import time
open({str(started)!r}, "w").close()
time.sleep(1000)
""")),), timeout=GENEROUS, env=ENV)
    problems: list[str] = []
    hook.send(EVENT, problems.append)
    await until(started.exists, "the hook never started")
    await hook.aclose()
    assert problems == []


def test_a_hook_needs_a_command() -> None:
    with pytest.raises(ValueError, match="command"):
        AlertHook((), timeout=1, env={})
    assert "secret" not in repr(AlertHook(("/bin/true",), timeout=1, env=ENV))


def test_the_alert_json_carries_no_key() -> None:
    assert set(EVENT) == {"kind", "title", "text", "count", "ids", "at", "profile"}
