"""The threaded runner, --db persistence and the ``sandbox`` command."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests.sandbox.conftest import assert_envelope
from tests.waiting import WAIT_BOUND, until_sync
from tui.sandbox.cli import run_sandbox
from tui.sandbox.runner import SandboxServer

ROOT = Path(__file__).resolve().parents[2]


def test_start_answers_at_once_and_stop_start_keeps_the_port() -> None:
    # start() returns once the server listens (how fast it starts is not timed here).
    server = SandboxServer(api_key="k")
    server.start()
    try:
        port = server.port
        assert port != 0
        headers = {"X-API-KEY": "k"}
        with httpx.Client(base_url=server.base_url, headers=headers) as client:
            assert_envelope(client.get("/v1/conversions/1/status"), 404)
            server.stop()
            assert not server.is_running
            with pytest.raises(httpx.ConnectError):
                client.get("/v1/conversions/1/status")
            server.start()
            assert server.port == port
            assert_envelope(client.get("/v1/conversions/1/status"), 404)
    finally:
        server.close()


def test_repr_never_shows_the_key() -> None:
    server = SandboxServer(api_key="s3cret-key-value")
    assert "s3cret" not in repr(server) and "s3cret" not in repr(server.state)


def test_db_keeps_conversions_across_restart(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite3"
    with SandboxServer(api_key="k", seed_count=5, rng_seed=1, db_path=db) as first:
        added = first.state.add_conversion(status="Completed", file_name="kept.csv")
        first.state.freeze(added)
        assert_envelope(httpx.delete(f"{first.base_url}/v1/conversions/{added}",
                                     headers={"X-API-KEY": "k"}), 202)
        seeded = first.state.seeded_ids()
    with SandboxServer(api_key="k", seed_count=5, rng_seed=1, db_path=db) as second:
        body = assert_envelope(httpx.get(f"{second.base_url}/v1/conversions/{added}/status",
                                         headers={"X-API-KEY": "k"}), 200)
        assert body["payload"]["fileName"] == "kept.csv"
        assert body["payload"]["status"] == "DeletionPending"  # frozen, so still pending
        assert second.state.seeded_ids() == seeded  # not seeded a second time
        assert second.state.add_conversion() == added + 1  # numbering carries on


def test_memory_state_is_gone_after_restart() -> None:
    with SandboxServer(api_key="k") as first:
        first.state.add_conversion()
        assert first.state.ids()
    with SandboxServer(api_key="k") as second:
        assert second.state.ids() == []


def test_run_sandbox_in_a_thread_prints_url_and_key(capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(
        run_sandbox(["--port", "0", "--api-key", "abc", "--seed", "3"], stop=stop)))
    thread.start()
    printed = ""
    try:
        def read() -> bool:
            nonlocal printed
            printed += capsys.readouterr().out
            return "API key" in printed

        until_sync(read, lambda: f"the API key printed ({printed!r})", step=0.02)
    finally:
        stop.set()
        thread.join(timeout=WAIT_BOUND)
    assert "API key: abc" in printed
    base_url = printed.split(" at ")[1].split()[0]
    assert base_url.startswith("http://127.0.0.1:")
    assert "Sandbox stopped." in capsys.readouterr().out
    assert result == [0]


# Started by a shell without job control (a CI script, `cmd &`), a process inherits
# SIGINT ignored: Python then never raises KeyboardInterrupt, so Ctrl-C must be handled.
_WITH_SIGINT_IGNORED = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                        "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])")


@pytest.mark.parametrize("sigint", ["default", "inherited ignored"])
def test_sandbox_command_serves_until_interrupted(tmp_path: Path, sigint: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    errors = tmp_path / "stderr.txt"
    launcher = [] if sigint == "default" else ["-c", _WITH_SIGINT_IGNORED]
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, *launcher, "-m", "tui.sandbox.cli", "--port", "0", "--seed",
             "8", "--random-seed", "3", "--db", str(tmp_path / "s.db")],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        second = process.stdout.readline()
        assert "http://127.0.0.1:" in first
        assert second.strip() == "API key: demo-key"
        base_url = first.split(" at ")[1].strip()
        body = assert_envelope(httpx.get(f"{base_url}/v1/conversions/48210/status",
                                         headers={"X-API-KEY": "demo-key"}), 200)
        assert body["profile"]["lastName"] == "Whitfield"
        process.send_signal(signal.SIGINT)
        try:
            # The tests' one generous bound: on a loaded machine the shutdown took over 10 s.
            code = process.wait(timeout=WAIT_BOUND)
        except subprocess.TimeoutExpired:
            # Where it hangs: the sandbox prints every thread's stack on SIGUSR1.
            process.send_signal(signal.SIGUSR1)
            with contextlib.suppress(AssertionError):
                until_sync(lambda: "File " in errors.read_text(), "the stacks", bound=10)
            pytest.fail(f"the sandbox did not stop within {WAIT_BOUND} s of SIGINT; "
                        f"its threads:\n{errors.read_text()[-6000:]}")
        assert code == 0, errors.read_text()[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_sandbox(["--speed", "0"]) == 2
    assert "--speed" in capsys.readouterr().err
