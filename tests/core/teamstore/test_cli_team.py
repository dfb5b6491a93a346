"""``conversions-tui team init | migrate | status | import`` against a real PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tests.core.teamstore.conftest import BASE_URL, address_of
from tui.cli import main
from tui.cli_team import run_team
from tui.core.paths import AppPaths
from tui.core.teamstore import SCHEMA_VERSION, LeaderLock, TeamStore
from tui.core.watchlist import Watchlist
from tui.sandbox.runner import SandboxServer


def _run(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = run_team(argv, env=env or {}, out=out)
    return code, out.getvalue()


def test_init_creates_the_tables_once(store_url: str) -> None:
    code, said = _run(["--store", store_url, "init"])
    assert code == 0 and f"tables created (schema {SCHEMA_VERSION})" in said
    code, said = _run(["init"], env={"CONVERSIONS_STORE": store_url})
    assert code == 0 and "nothing to do" in said
    code, said = _run(["--store", store_url, "migrate"])
    assert code == 0 and "nothing to do" in said


def test_status_names_members_rows_and_the_poller(
        store_url: str, open_store: Callable[..., TeamStore]) -> None:
    code, said = _run(["--store", store_url, "status"])
    assert code == 0 and "not set up: run conversions-tui team init" in said
    dana = open_store("dana")
    dana.add([1, 2, 3])
    open_store("sam", base_url="https://staging.example.com").add([9])
    lock = LeaderLock(address_of(store_url), BASE_URL, "dana@desk1")
    try:
        assert lock.try_acquire()
        code, said = _run(["--store", store_url, "status"])
    finally:
        lock.release()
    assert code == 0, said
    lines = said.splitlines()
    assert lines[0].endswith(f"schema {SCHEMA_VERSION}")
    # One monitor (its lock connection), marked as the one polling; connections apart.
    assert lines[1] == "monitors dana@desk1 (polls)", said
    assert lines[2].startswith("connections ") and "dana " in lines[2] and "sam " in lines[2]
    assert f"profile  {BASE_URL}: 3 watched, polled by dana@desk1" in lines
    assert "profile  https://staging.example.com: 1 watched, nobody polls" in lines


def test_a_newer_schema_is_refused_in_one_sentence(
        store_url: str, team_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["--store", store_url, "init"])[0] == 0
    with psycopg.connect(team_database) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    code, _ = _run(["--store", store_url, "migrate"])
    err = capsys.readouterr().err
    assert code == 1 and "newer than this app's" in err and "Traceback" not in err
    code, said = _run(["--store", store_url, "status"])
    assert code == 0 and "upgrade conversions-tui" in said


def test_no_store_or_a_password_in_it_is_a_usage_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["status"])[0] == 2
    assert "no team store named" in capsys.readouterr().err
    assert _run(["--store", "postgresql://u:Canary-991@h/db", "status"])[0] == 2
    err = capsys.readouterr().err
    assert "holds a password" in err and "Canary-991" not in err


def test_an_unreachable_server_is_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, _ = _run(["--store", f"postgresql://u@127.0.0.1:{port}/db", "status"])
    err = capsys.readouterr().err
    assert code == 1 and "cannot be reached" in err and len(err.strip().splitlines()) == 1


def _configure(store_url: str, base_url: str = BASE_URL) -> AppPaths:
    """A config whose default profile ``prod`` names the team store."""
    paths = AppPaths.default()
    paths.ensure("prod")
    paths.config_file.write_text(f'default_profile = "prod"\n[profiles.prod]\n'
                                 f'base_url = "{base_url}"\nstore = "{store_url}"\n')
    return paths


def test_the_profiles_store_is_used_and_team_is_a_subcommand(
        store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _configure(store_url)
    assert main(["team", "init"]) == 0
    assert f"tables created (schema {SCHEMA_VERSION})" in capsys.readouterr().out
    assert main(["team", "--profile", "prod", "status"]) == 0
    assert "profiles none" in capsys.readouterr().out
    assert main(["team", "--profile", "nope", "status"]) == 2
    assert "nope" in capsys.readouterr().err


def test_import_copies_the_profiles_watchlist_once(
        store_url: str, open_store: Callable[..., TeamStore],
        capsys: pytest.CaptureFixture[str]) -> None:
    paths = _configure(store_url)
    assert main(["team", "import"]) == 2  # no watchlist yet: nothing made, nothing copied
    assert "nothing to import" in capsys.readouterr().err
    assert not paths.watchlist_db("prod").exists()
    with Watchlist(paths.watchlist_db("prod")) as mine:
        mine.add([5, 6], note="TICKET-9")
    assert main(["team", "import", "--as", "dana"]) == 0
    assert "2 rows added, 0 already watched" in capsys.readouterr().out
    assert main(["team", "import", "--as", "dana"]) == 0
    assert "0 rows added, 2 already watched" in capsys.readouterr().out
    team = open_store("sam")
    assert [(row.id, row.note) for row in team.all()] == [(5, "TICKET-9"), (6, "TICKET-9")]
    assert team.signatures([5])[5]["added_by"] == "dana"


def test_watch_on_a_team_profile_adds_to_the_team_store(
        store_url: str, open_store: Callable[..., TeamStore],
        capsys: pytest.CaptureFixture[str]) -> None:
    paths = _configure(store_url)
    assert main(["watch", "41", "42", "--note", "TICKET-5"]) == 0
    assert "Watching 2 more in profile 'prod'" in capsys.readouterr().out
    assert [(row.id, row.note) for row in open_store("sam").all()] == [
        (41, "TICKET-5"), (42, "TICKET-5")]
    assert not paths.watchlist_db("prod").exists()  # not this machine's own file


def test_watch_on_an_unreachable_team_store_is_one_sentence(
        capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _configure(f"postgresql://dana@127.0.0.1:{port}/team")
    assert main(["watch", "41"]) == 2
    err = capsys.readouterr().err
    assert "cannot be reached" in err and len(err.strip().splitlines()) == 1


def test_upload_on_a_team_profile_watches_the_accepted_in_the_team_store(
        store_url: str, sandbox: SandboxServer, open_store: Callable[..., TeamStore],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVERSIONS_STORE", store_url)
    monkeypatch.setenv("CONVERSIONS_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("CONVERSIONS_API_KEY", sandbox.api_key)
    data = tmp_path / "orders.csv"
    data.write_bytes(b"id,value\n1,2\n")
    assert main(["upload", str(data), "--ref", "T-77"]) == 0
    rows = open_store("sam", base_url=sandbox.base_url).all()
    assert len(rows) == 1 and rows[0].note == "T-77 (uploaded)"


def test_upload_on_an_unreachable_team_store_sends_nothing(
        sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CONVERSIONS_STORE", f"postgresql://dana@127.0.0.1:{port}/team")
    monkeypatch.setenv("CONVERSIONS_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("CONVERSIONS_API_KEY", sandbox.api_key)
    data = tmp_path / "orders.csv"
    data.write_bytes(b"id,value\n1,2\n")
    posts_before = sandbox.state.stats.by_route.get("POST /v1/conversions", 0)
    assert main(["upload", str(data)]) == 2
    err = capsys.readouterr().err
    assert "cannot be reached" in err and "nothing was sent" in err
    assert sandbox.state.stats.by_route.get("POST /v1/conversions", 0) == posts_before
