"""The installed app over a real SSH session to localhost, and what a dropped connection leaves.

A private sshd (throwaway host and client keys, loopback only) serves one login; the test runs
``ssh -tt`` inside tmux so the app gets a real remote pty. There is no D-Bus in that session, so
the app must ask for the key and say why in one sentence. Then the connection is killed: the app
must be gone within 5 s and the watchlist intact.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    APP,
    STARTUP_TIMEOUT,
    SandboxProcess,
    Tmux,
    app_processes,
    private_dirs,
    require_programs,
    shell_command,
    wait_until,
)
from tui.core.paths import AppPaths
from tui.core.watchlist import Watchlist

pytestmark = pytest.mark.slow

_SBIN = os.pathsep.join(("/usr/sbin", "/sbin"))


@dataclass(frozen=True)
class SshServer:
    """A running private sshd and the client key that may log in to it as root."""

    port: int
    client_key: Path

    def command(self, remote: str) -> list[str]:
        """The ssh client command line (with a pty) that runs ``remote`` on the server."""
        return ["ssh", "-tt", "-F", "/dev/null", "-i", str(self.client_key),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-p", str(self.port),
                "root@127.0.0.1", remote]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers_ssh(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            return conn.recv(8).startswith(b"SSH-")
    except OSError:
        return False


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """A throwaway sshd on a free loopback port, accepting one generated key for root."""
    require_programs("tmux", "ssh", "ssh-keygen")
    server = shutil.which("sshd", path=os.pathsep.join((os.environ.get("PATH", ""), _SBIN)))
    if server is None:
        pytest.skip("needs sshd (openssh-server, installed by .ci/run)")
    if os.geteuid() != 0:
        pytest.skip("sshd can only log in as another session of root when run as root (CI is)")
    folder = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)],
                       check=True, timeout=30)
    (folder / "authorized_keys").write_text((folder / "client_key.pub").read_text())
    port = _free_port()
    (folder / "sshd_config").write_text("\n".join([
        f"ListenAddress 127.0.0.1:{port}",
        f"HostKey {folder / 'host_key'}",
        f"AuthorizedKeysFile {folder / 'authorized_keys'}",
        f"PidFile {folder / 'sshd.pid'}",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "PrintMotd no",
        "PrintLastLog no",
        "X11Forwarding no",
        "",
    ]))
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    log = folder / "sshd.log"
    process = subprocess.Popen([server, "-D", "-e", "-f", str(folder / "sshd_config")],
                               stdin=subprocess.DEVNULL, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not _answers_ssh(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"sshd did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield SshServer(port, folder / "client_key")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _plain(screen: str) -> str:
    """The screen's words without the box drawing, so wrapped sentences read as one line."""
    return " ".join(re.sub(r"[\u2580-\u259f\u2500-\u257f]", " ", screen).split())


def _rows(ids: list[int], screen: str) -> bool:
    return all(re.search(rf"^\s*{i}\s.*Completed", screen, re.M) for i in ids)


def test_ssh_session_asks_for_key_and_a_dropped_connection_leaves_no_process(
        tmux: Tmux, sshd: SshServer, sandbox_process: SandboxProcess, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [sandbox_process.create(name) for name in ("north.csv", "south.csv", "east.csv")]
    marker = secrets.token_hex(8)
    env = {**private_dirs(tmp_path / "remote"), "CONVERSIONS_BASE_URL": sandbox_process.base_url,
           "CVT_E2E_MARKER": marker}

    # Two IDs go in with the `watch` subcommand beforehand, as a person would from a ticket.
    watched = subprocess.run([str(APP), "watch", str(ids[0]), str(ids[1])],
                             env={**os.environ, **env}, capture_output=True, text=True,
                             timeout=60, check=False)
    assert watched.returncode == 0, watched.stderr
    assert "Watching 2 more" in watched.stdout

    # No CONVERSIONS_API_KEY and no D-Bus over SSH: the keyring cannot help.
    remote = shell_command(env, APP)
    tmux.start("exec " + " ".join(shlex.quote(part) for part in sshd.command(remote)))
    tmux.set("set-clipboard", "on")  # this tmux is the user's terminal: keep what is copied
    screen = tmux.wait_for("API key for profile 'default'", "the key prompt",
                           timeout=STARTUP_TIMEOUT)
    assert "No keyring backend is available (usual over SSH): the key is kept for this " \
           "session only; set CONVERSIONS_API_KEY" in _plain(screen)

    tmux.type(sandbox_process.api_key)
    tmux.send("Enter")
    screen = tmux.wait_for(lambda s: _rows(ids[:2], s), "the watched rows")
    assert "session only" in screen and sandbox_process.api_key not in screen

    # Drive it: add the third ID, copy all three (plain OSC 52: the remote side has no TMUX).
    tmux.send("a")
    tmux.wait_for("Add conversions to the watchlist")
    tmux.type(str(ids[2]))
    tmux.wait_for(f"Will add 1: {ids[2]}")
    tmux.send("C-s")
    tmux.wait_for(lambda s: _rows(ids, s), "all three rows")
    tmux.send("C-a")
    tmux.send("c")
    tmux.wait_for("Copied 3 IDs")
    wait_until(lambda: tmux.run("show-buffer", check=False).returncode == 0,
               "the copy in the local tmux buffer")
    assert tmux.run("show-buffer").stdout.split("\n") == [str(i) for i in ids]

    # Drop the connection the hard way: the ssh client dies.
    apps = app_processes(marker)
    assert len(apps) == 1, f"expected one app process over SSH, found {apps}"
    client = tmux.pane_pid()
    assert Path(f"/proc/{client}/comm").read_text().strip() == "ssh"
    os.kill(client, signal.SIGKILL)
    wait_until(lambda: not app_processes(marker), "the app to exit after the SSH drop")

    # The watchlist is whole: every ID, the statuses seen, and a sound database.
    for variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(variable, env[variable])
    database = AppPaths.default().watchlist_db("default")
    with Watchlist(database) as watchlist:
        assert watchlist.ids() == ids
        assert {row.status for row in watchlist.all()} == {"Completed"}
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
