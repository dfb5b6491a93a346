"""Fixtures for driving the installed ``conversions-tui`` in real terminals.

``tmux`` gives a private tmux server (its own ``-L`` socket, killed afterwards) with helpers to
type, read the screen and poll it; ``sandbox_process`` is one ``conversions-tui sandbox``
subprocess for the whole e2e session, with helpers to create conversions and read their status
over HTTP. Tests skip, saying why, when a program they need is not installed (.ci/run installs
them all).
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.waiting import WAIT_BOUND

APP = Path(sys.executable).parent / "conversions-tui"
SANDBOX_KEY = "e2e-sandbox-key-5c1d2a"  # the throwaway sandbox's own key, not a secret
# Bounds against hanging, not limits on speed (the machine is shared: be generous).
STARTUP_TIMEOUT = max(45.0, WAIT_BOUND)
STEP_TIMEOUT = WAIT_BOUND
_OUR_VARIABLES = ("CONVERSIONS_API_KEY", "CONVERSIONS_BASE_URL", "CONVERSIONS_PROFILE",
                  "CONVERSIONS_THEME", "DBUS_SESSION_BUS_ADDRESS")


def require_programs(*names: str) -> None:
    """Skip the test when a program is missing (a dev machine; CI installs them)."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (installed by .ci/run)")
    if not APP.exists():
        pytest.skip(f"the console script {APP} is not installed")


def wait_until(condition: Callable[[], bool], what: str, timeout: float = STEP_TIMEOUT) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


def private_dirs(root: Path) -> dict[str, str]:
    """Fresh XDG folders under ``root``: the app under test sees no one else's data."""
    env = {}
    for name in ("config", "data", "state", "cache", "runtime"):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        variable = "XDG_RUNTIME_DIR" if name == "runtime" else f"XDG_{name.upper()}_HOME"
        env[variable] = str(folder)
    return env


def shell_command(env: Mapping[str, str], *argv: str | Path,
                  unset: Sequence[str] = _OUR_VARIABLES) -> str:
    """``env -u ... K=V ... argv`` as one shell line: ours unset (by default), ``env`` set."""
    parts = ["env"]
    for name in unset:
        parts += ["-u", name]
    parts += [f"{key}={value}" for key, value in env.items()]
    parts += [str(arg) for arg in argv]
    return " ".join(shlex.quote(part) for part in parts)


# -------------------------------------------------------------------------- processes
def _state(pid: int) -> str | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()[0]


def is_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    state = _state(pid)
    return state is not None and state != "Z"


def processes_with(marker: str) -> list[int]:
    """Live processes whose environment holds ``marker`` (a unique folder given to the app)."""
    found = []
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ and is_running(int(entry.name)):
            found.append(int(entry.name))
    return found


def app_processes(marker: str) -> list[int]:
    """The ``conversions-tui`` processes (not shells or ssh) carrying ``marker``."""
    result = []
    for pid in processes_with(marker):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(part.endswith(b"conversions-tui") for part in argv[:2]):
            result.append(pid)
    return result


# ------------------------------------------------------------------------------- tmux
def _tmux_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TMUX", None)  # a developer running pytest inside tmux must not nest into it
    return env


@dataclass
class Tmux:
    """One private tmux server; every method talks to it through its own socket."""

    socket: str
    target: str = "main"
    started: bool = field(default=False, init=False)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a tmux command against this server."""
        result = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                                capture_output=True, text=True, timeout=30, env=_tmux_env(),
                                check=False)
        if check and result.returncode != 0:
            pytest.fail(f"tmux {' '.join(args[:2])} failed: {result.stderr.strip()}")
        return result

    def start(self, command: str, *, width: int = 100, height: int = 30) -> None:
        """A detached session running ``command`` (a shell line) in a width x height window."""
        self.run("new-session", "-d", "-s", self.target, "-x", str(width), "-y", str(height),
                 command)
        self.started = True

    def set(self, option: str, value: str) -> None:
        """Set a global (server) option."""
        self.run("set-option", "-g", option, value)

    def send(self, *keys: str) -> None:
        """Press keys (tmux key names: Enter, Escape, Tab, Down, C-s ...)."""
        self.run("send-keys", "-t", self.target, *keys)

    def type(self, text: str) -> None:
        """Type ``text`` literally."""
        self.run("send-keys", "-t", self.target, "-l", text)

    def screen(self) -> str:
        """What the pane shows now (empty once the session is gone)."""
        result = self.run("capture-pane", "-p", "-t", self.target, check=False)
        return result.stdout if result.returncode == 0 else ""

    def alive(self) -> bool:
        """True while the session exists (its command has not ended)."""
        return self.run("has-session", "-t", self.target, check=False).returncode == 0

    def pane_pid(self) -> int:
        """The pid of the command the pane runs."""
        return int(self.run("display-message", "-p", "-t", self.target,
                            "#{pane_pid}").stdout.strip())

    def wait_for(self, condition: str | Callable[[str], bool], what: str | None = None,
                 timeout: float = STEP_TIMEOUT) -> str:
        """Poll the screen until it shows ``condition`` (text or predicate); return it."""
        check = (lambda screen: condition in screen) if isinstance(condition, str) else condition
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                label = what or repr(condition)
                pytest.fail(f"timed out after {timeout:g} s waiting for {label}; the screen "
                            f"was:\n{screen}")
            time.sleep(0.15)

    def kill(self) -> None:
        """Stop the server and everything running in it."""
        self.run("kill-server", check=False)


@pytest.fixture
def tmux_servers() -> Iterator[Callable[[], Tmux]]:
    """Make private tmux servers; all are killed after the test."""
    require_programs("tmux")
    made: list[Tmux] = []

    def make() -> Tmux:
        server = Tmux(f"cvt-e2e-{os.getpid()}-{secrets.token_hex(4)}")
        made.append(server)
        return server

    yield make
    for server in made:
        server.kill()


@pytest.fixture
def tmux(tmux_servers: Callable[[], Tmux]) -> Tmux:
    """One private tmux server."""
    return tmux_servers()


# ---------------------------------------------------------------------------- sandbox
@dataclass
class SandboxProcess:
    """A ``conversions-tui sandbox`` subprocess on a free loopback port."""

    base_url: str
    api_key: str

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=15, trust_env=False)

    def create(self, file_name: str, status: str = "Completed") -> int:
        """A new conversion through the control plane; returns its ID."""
        with self._client() as client:
            answer = client.post("/_control/conversions",
                                 json={"status": status, "fileName": file_name})
        answer.raise_for_status()
        return int(answer.json()["payload"]["id"])

    def set_status(self, conversion_id: int, status: str) -> None:
        """Put a conversion in ``status`` and hold it there (the control plane)."""
        with self._client() as client:
            answer = client.post(f"/_control/conversions/{conversion_id}/status",
                                 json={"status": status, "frozen": True})
        answer.raise_for_status()

    def status(self, conversion_id: int) -> str:
        """The status the server reports now, through the public API."""
        with self._client() as client:
            answer = client.get(f"/v1/conversions/{conversion_id}/status",
                                headers={"X-API-KEY": self.api_key})
        answer.raise_for_status()
        return str(answer.json()["payload"]["status"])


@pytest.fixture(scope="session")
def sandbox_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """One sandbox subprocess for every e2e test (each test creates its own conversions)."""
    if not APP.exists():
        pytest.skip(f"the console script {APP} is not installed")
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(APP), "sandbox", "--port", "0", "--seed", "0", "--random-seed", "11",
             "--api-key", SANDBOX_KEY],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not (found := re.search(r"serving the Conversions API at (\S+)",
                                      log.read_text(errors="replace"))):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the sandbox did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield SandboxProcess(found.group(1), SANDBOX_KEY)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
