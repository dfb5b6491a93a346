"""The PostgreSQL fixture itself: a real server, a fresh database per test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.fixtures import postgres as postgres_fixture
from tests.fixtures.postgres import PostgresServer
from tests.waiting import until_sync


def test_each_test_gets_an_empty_database(postgres_server: PostgresServer,
                                          team_database: str) -> None:
    with psycopg.connect(team_database) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)
        version = conn.execute("SHOW server_version_num").fetchone()
        assert version is not None and int(version[0]) >= 120000
    assert str(postgres_server.port) in team_database


_HOLDER = """
import sys
from tests.fixtures.postgres import start_server
server = start_server()
pid = (server.data / "postmaster.pid").read_text().split()[0]
print(pid, server.folder, flush=True)
sys.stdin.read()  # until killed
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_no_server_outlives_a_killed_test_run(postgres_server: PostgresServer) -> None:
    """pytest killed with SIGKILL runs no teardown: the watchdog still stops the server."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    run = subprocess.Popen([sys.executable, "-c", _HOLDER], env=env, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    line = run.stdout.readline().split()
    try:
        assert len(line) == 2, f"the server did not start: {line}"
        pid, folder = int(line[0]), Path(line[1])
        assert _alive(pid)
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        until_sync(lambda: not _alive(pid) and not folder.exists(),
                   lambda: f"postmaster {pid} alive: {_alive(pid)}; "
                           f"{folder} exists: {folder.exists()}")
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()


def test_without_postgresql_the_tests_skip_saying_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres_fixture, "find_bin_dir", lambda: None)
    with pytest.raises(pytest.skip.Exception, match=r"needs PostgreSQL .*installed by \.ci/run"):
        postgres_fixture.start_server()


def test_postgresql_is_found_under_the_debian_folder(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # not on PATH: the versioned folder is found
    found = postgres_fixture.find_bin_dir()
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        pytest.skip("no /usr/lib/postgresql/*/bin/initdb on this machine")
    assert found is not None and found.parent.parent == Path("/usr/lib/postgresql")
