"""The app's credential code against a real Secret Service: gnome-keyring on a private D-Bus.

Every test runs under its own ``dbus-run-session`` with a bus configuration of ours, so the
only password prompter D-Bus can start is a stand-in: one that fails at once (no display), or
one that never answers (a desktop prompt nobody sees, the usual trap over SSH). Secrets never
reach the test's output: the probe prints hashes and masked forms.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    APP,
    STARTUP_TIMEOUT,
    SandboxProcess,
    Tmux,
    app_processes,
    private_dirs,
    processes_with,
    require_programs,
    shell_command,
    wait_until,
)

pytestmark = pytest.mark.slow

PROFILE = "default"
_NO_KEY = ("CONVERSIONS_API_KEY",)  # the app must look in the keyring (on this D-Bus)
KEYRING_PASSWORD = "e2e-login-keyring-password"

# Runs inside the D-Bus session. Prints one "RESULT {json}" line per call; never a secret.
_PROBE = r'''
import asyncio, hashlib, json, os, sys, time
import keyring, secretstorage
from keyring.backends import SecretService
from tui.core.credentials import ApiKey, CredentialStore

PROFILE = "default"
digest = lambda text: hashlib.sha256(text.encode()).hexdigest()
out = lambda **values: print("RESULT " + json.dumps(values), flush=True)

connection = secretstorage.dbus_init()
deadline = time.monotonic() + 20  # the daemon registers its bus name a moment after starting
while not secretstorage.check_service_availability(connection):
    if time.monotonic() > deadline:
        sys.exit("the Secret Service never appeared on the bus")
    time.sleep(0.05)

mode = sys.argv[1]
if mode == "save":
    store = CredentialStore(timeout=20, backend=SecretService.Keyring())
    out(problem=store.save_sync(PROFILE, ApiKey(os.environ["E2E_SECRET"])))
elif mode == "read":  # what the app does: the default backend choice, then resolve()
    resolved = asyncio.run(CredentialStore(timeout=20).resolve(PROFILE, {}))
    chosen = keyring.get_keyring()
    items = secretstorage.search_items(
        connection, {"service": "conversions-tui", "username": PROFILE})
    out(backend=f"{type(chosen).__module__}.{type(chosen).__name__}",
        source=resolved.source.value, problem=resolved.problem,
        sha256=digest(resolved.key.reveal()) if resolved.key else None,
        masked=resolved.key.masked if resolved.key else None,
        stored=[digest(item.get_secret().decode()) for item in items])
elif mode == "lock":
    collection = secretstorage.get_default_collection(connection)
    collection.lock()
    out(locked=collection.is_locked())
elif mode == "resolve":
    timeout = float(sys.argv[2])
    started = time.monotonic()
    resolved = asyncio.run(CredentialStore(timeout=timeout).resolve(PROFILE, {}))
    out(elapsed=time.monotonic() - started, has_key=resolved.key is not None,
        source=resolved.source.value, problem=resolved.problem)
'''

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir={tmp}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{services}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class KeyringSession:
    """A private home, D-Bus configuration and prompter stand-in for one test."""

    def __init__(self, root: Path, *, prompter: str) -> None:
        self.root = root
        self.marker = secrets.token_hex(8)  # in the environment of everything started here
        services = root / "services"
        services.mkdir(parents=True)
        # "fails": exits at once, like gcr-prompter without a display. "hangs": never answers.
        body = "exit 1" if prompter == "fails" else "exec sleep 3600 </dev/null >/dev/null 2>&1"
        (root / "prompter.sh").write_text(body + "\n")
        (services / "org.gnome.keyring.SystemPrompter.service").write_text(
            "[D-BUS Service]\nName=org.gnome.keyring.SystemPrompter\n"
            f"Exec=/bin/sh {root / 'prompter.sh'}\n")
        (root / "bus.conf").write_text(_BUS_CONFIG.format(tmp=root, services=services))
        (root / "probe.py").write_text(_PROBE)
        self.env = {**private_dirs(root / "home"), "HOME": str(root / "home"),
                    "CVT_E2E_MARKER": self.marker}

    def command(self, body: str) -> list[str]:
        """``dbus-run-session`` running gnome-keyring (unlocked login keyring), then ``body``."""
        start = (f"printf %s {KEYRING_PASSWORD} | gnome-keyring-daemon --unlock "
                 "--components=secrets >/dev/null")
        return ["dbus-run-session", "--config-file", str(self.root / "bus.conf"), "--",
                "sh", "-c", f"{start} && {body}"]

    def probe(self, *args: str) -> str:
        """A shell line running the probe script with this test's Python."""
        return " ".join(shlex.quote(a) for a in (sys.executable, str(self.root / "probe.py"),
                                                 *args))

    def run(self, body: str, extra_env: dict[str, str], timeout: float = 90
            ) -> tuple[list[dict[str, Any]], float]:
        """Run ``body`` in the session; returns the probe's results and the wall time."""
        out, err = self.root / "stdout", self.root / "stderr"
        env = {**os.environ, **self.env, **extra_env}
        for name in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY",
                     "CONVERSIONS_API_KEY"):
            env.pop(name, None)
        started = time.monotonic()
        # Files, not pipes: a stand-in prompter left sleeping must not hold our reads open.
        with out.open("wb") as stdout, err.open("wb") as stderr:
            completed = subprocess.run(self.command(body), env=env, stdin=subprocess.DEVNULL,
                                       stdout=stdout, stderr=stderr, timeout=timeout,
                                       check=False)
        elapsed = time.monotonic() - started
        text = out.read_text(errors="replace")
        assert completed.returncode == 0, f"{text}\n{err.read_text(errors='replace')}"
        return [json.loads(line[7:]) for line in text.splitlines()
                if line.startswith("RESULT ")], elapsed

    def stop_leftovers(self) -> None:
        """End whatever this session started that is still running (daemon, stand-in)."""
        for pid in processes_with(self.marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def keyring_session(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[KeyringSession]:
    """A keyring session whose prompter behaves as the test's parameter says."""
    require_programs("dbus-run-session", "gnome-keyring-daemon")
    session = KeyringSession(tmp_path / "keyring", prompter=getattr(request, "param", "fails"))
    yield session
    session.stop_leftovers()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _files_holding(root: Path, secret: str) -> list[Path]:
    return [path for path in root.rglob("*")
            if path.is_file() and secret.encode() in path.read_bytes()]


def test_key_is_saved_read_back_and_removed_through_secret_service(
        keyring_session: KeyringSession) -> None:
    secret = "e2e-" + secrets.token_hex(12)
    probe = keyring_session.probe
    logout = shell_command({}, APP, "logout", unset=_NO_KEY)
    results, _ = keyring_session.run(
        f"{probe('save')} && {probe('read')} && {logout} && {probe('read')}",
        {"E2E_SECRET": secret, "CONVERSIONS_BASE_URL": "http://127.0.0.1:9"})
    saved, read, after_logout = results

    assert saved == {"problem": None}
    # A new process finds it with the app's own default backend choice: the Secret Service.
    assert "SecretService" in read["backend"]
    assert read["source"] == "keyring" and read["problem"] is None
    assert read["sha256"] == _sha(secret) and read["masked"] == "…" + secret[-4:]
    assert read["stored"] == [_sha(secret)]  # one item, as seen by libsecret's own API
    # `conversions-tui logout` removed it; the keyring works but holds nothing now.
    assert after_logout["source"] == "none" and after_logout["problem"] is None
    assert after_logout["stored"] == []
    # gnome-keyring encrypts its file: the key is in no file under the session's home.
    assert _files_holding(keyring_session.root, secret) == []


def test_locked_keyring_without_a_prompter_is_a_sentence_not_a_wait(
        keyring_session: KeyringSession) -> None:
    probe = keyring_session.probe
    results, _ = keyring_session.run(
        f"{probe('save')} && {probe('lock')} && {probe('resolve', '10')}",
        {"E2E_SECRET": "e2e-" + secrets.token_hex(12)})
    _saved, locked, resolved = results
    assert locked == {"locked": True}
    assert resolved["has_key"] is False and resolved["source"] == "none"
    assert resolved["problem"].startswith("The keyring is locked: the key is kept for this "
                                          "session only")  # said, not the 10 s timeout


@pytest.mark.parametrize("keyring_session", ["hangs"], indirect=True)
def test_locked_keyring_waiting_for_an_unseen_prompt_times_out(
        keyring_session: KeyringSession) -> None:
    probe = keyring_session.probe
    results, _ = keyring_session.run(
        f"{probe('save')} && {probe('lock')} && {probe('resolve', '2')}",
        {"E2E_SECRET": "e2e-" + secrets.token_hex(12)})
    _saved, locked, resolved = results
    assert locked == {"locked": True}
    assert resolved["has_key"] is False
    assert resolved["problem"].startswith("The keyring did not answer within 2 s")
    assert resolved["elapsed"] >= 1.9  # it waited for the timeout (the message says so)
    # The keyring thread is still stuck (the stand-in prompter sleeps an hour), yet the
    # process exited: a daemon thread never holds up the exit (else run() times out).


def _plain(screen: str) -> str:
    return " ".join(re.sub(r"[\u2580-\u259f\u2500-\u257f]", " ", screen).split())


@pytest.mark.parametrize("keyring_session", ["hangs"], indirect=True)
def test_app_asks_for_the_key_when_the_keyring_hangs_and_still_quits(
        keyring_session: KeyringSession, tmux: Tmux, sandbox_process: SandboxProcess,
        tmp_path: Path) -> None:
    ids = [sandbox_process.create(name) for name in ("locked-a.csv", "locked-b.csv")]
    rc_file = tmp_path / "rc"
    probe = keyring_session.probe
    # The right key is in the keyring, but locked behind a prompt nobody will answer.
    app = shell_command({}, APP, *map(str, ids), unset=_NO_KEY)
    # D-Bus logs to stderr: keep it off the screen, but give the app (which draws on
    # stderr) the terminal back.
    body = (f"{probe('save')} >/dev/null && {probe('lock')} >/dev/null && {app} 2>/dev/tty; "
            f"echo $? > {shlex.quote(str(rc_file))}")
    env = {**keyring_session.env, "E2E_SECRET": sandbox_process.api_key,
           "CONVERSIONS_BASE_URL": sandbox_process.base_url}
    command = " ".join(shlex.quote(part) for part in keyring_session.command(body))
    tmux.start(f"{shell_command(env, 'sh', '-c', command)} 2>{shlex.quote(str(tmp_path / 'err'))}")

    screen = tmux.wait_for("API key for profile 'default'", "the key prompt",
                           timeout=STARTUP_TIMEOUT)
    assert "The keyring did not answer within 3 s" in _plain(screen)
    tmux.type(sandbox_process.api_key)
    tmux.send("Enter")
    screen = tmux.wait_for(lambda s: all(re.search(rf"^\s*{i}\s.*Completed", s, re.M)
                                         for i in ids), "the rows")
    assert "session only" in screen

    # q ends the app at once, though its keyring thread is still waiting for the prompt.
    tmux.send("q")
    wait_until(lambda: rc_file.exists() and rc_file.read_text().strip() != "",
               "the app to exit after q")
    assert rc_file.read_text().strip() == "0"
    assert app_processes(keyring_session.marker) == []
