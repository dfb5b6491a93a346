"""The SSH session drops: ``conversions-tui --demo`` in a real pty must exit at once.

The console script runs in a pseudo-terminal (``pty.fork``: the child is a session
leader with the pty as its controlling terminal, as under sshd). Either it gets SIGHUP,
or the terminal itself goes away (the master is closed, so the kernel hangs up the
session). Both times it must exit through its own handler (exit status 129, not killed
by the signal), leave no process of its session behind, and remove the demo's temporary
folder. It must exit at all: the waits are bounded by ``TEST_WAIT_BOUND``, never by how
fast a (possibly loaded) machine is.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import shutil
import signal
import struct
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.waiting import WAIT_BOUND, until_sync

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")

SCRIPT = Path(sys.executable).with_name("conversions-tui")
START_TIMEOUT = WAIT_BOUND
EXIT_TIMEOUT = WAIT_BOUND


class DemoInPty:
    """The demo app running in a pty; reads its output so it never blocks on writes."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.output = bytearray()
        command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "tui"]
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("CONVERSIONS_")}
        env.update(TERM="xterm-256color", TMPDIR=str(tmp), COLUMNS="100", LINES="30")
        pid, fd = os.forkpty()
        if pid == 0:  # the child: become the app (nothing else may run here)
            try:
                os.execve(command[0], [*command, "--demo"], env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.status: int | None = None

    def read_for(self, seconds: float) -> None:
        """Collect output for ``seconds`` (or until the pty is hung up)."""
        deadline = time.monotonic() + seconds
        while self.fd >= 0 and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.05))
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError as error:
                if error.errno != errno.EIO:  # EIO: the child side is closed
                    raise
                return
            if not chunk:
                return
            self.output += chunk

    def wait_until_drawn(self, text: bytes) -> None:
        """Read until ``text`` appears on the screen."""
        deadline = time.monotonic() + START_TIMEOUT
        while text not in self.output:
            assert self.poll() is None, f"exited early: {self.output[-2000:]!r}"
            assert time.monotonic() < deadline, f"not drawn in time: {self.output[-2000:]!r}"
            self.read_for(0.1)

    def poll(self) -> int | None:
        """The wait status once the child has exited, else None."""
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.status = status
        return self.status

    def wait_exit(self, timeout: float) -> int | None:
        """Wait for the exit while draining output; None if still running."""
        deadline = time.monotonic() + timeout
        while self.poll() is None and time.monotonic() < deadline:
            if self.fd >= 0:
                self.read_for(0.05)
            else:
                time.sleep(0.05)
        return self.status

    def close_master(self) -> None:
        """The terminal goes away."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def kill(self) -> None:
        """Clean up after a failed test: kill the child and anything of its session."""
        for pid in session_members(self.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.poll() is None:
            os.waitpid(self.pid, 0)
        self.close_master()


def session_members(sid: int) -> list[int]:
    """Live processes whose session id is ``sid`` (the child and all it started)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Fields after the ")" of the command name: state ppid pgrp session ...
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoInPty]:
    """The demo app, drawn and polling, in a pty of 100x30."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to find leftover processes")
    app = DemoInPty(tmp_path)
    try:
        app.wait_until_drawn(b"DEMO")
        app.read_for(0.5)  # let the first polls happen
    except BaseException:
        app.kill()
        raise
    yield app
    app.kill()


def assert_clean_exit(app: DemoInPty, status: int | None) -> None:
    assert status is not None, f"still running {EXIT_TIMEOUT} s after the hangup"
    assert not os.WIFSIGNALED(status), (
        f"killed by signal {os.WTERMSIG(status)}: the app's own handler did not run")
    assert os.WEXITSTATUS(status) == 129
    until_sync(lambda: not session_members(app.pid),
               lambda: f"processes left behind: {session_members(app.pid)}")
    assert not list(app.tmp.glob("conversions-tui-demo-*")), "demo folder not removed"


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_signal_exits_promptly(demo: DemoInPty, signum: int) -> None:
    assert list(demo.tmp.glob("conversions-tui-demo-*")), "the demo keeps its data in TMPDIR"
    os.kill(demo.pid, signum)
    status = demo.wait_exit(EXIT_TIMEOUT)
    assert_clean_exit(demo, status)


def test_terminal_gone_exits_promptly(demo: DemoInPty) -> None:
    demo.close_master()  # like sshd when the connection drops: the kernel hangs up
    status = demo.wait_exit(EXIT_TIMEOUT)
    assert_clean_exit(demo, status)


def test_a_hard_exit_still_runs_the_cleanups_first(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    import tui.ui.hangup as hangup

    monkeypatch.setattr(hangup, "_HARD_EXIT_CLEANUPS", [])
    exits: list[int] = []
    monkeypatch.setattr(hangup.os, "_exit", exits.append)
    folder = tmp_path / "conversions-tui-demo-x"
    folder.mkdir()

    def broken() -> None:
        raise OSError("already gone")

    hangup.on_hard_exit(broken)  # one failing does not stop the others
    hangup.on_hard_exit(lambda: shutil.rmtree(folder))
    hangup._exit_hard_after(0, 129)
    assert not folder.exists() and exits == [129]
