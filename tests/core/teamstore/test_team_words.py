"""What team mode says (issue 15's newcomer report): who did what, why a login or a role
fails, where rows went, what an import kept. In-process CLI runs against a real PostgreSQL."""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Callable

import pytest

from tests.core.teamstore.conftest import BASE_URL, address_of
from tests.fixtures.postgres import PostgresServer
from tui.cli import main
from tui.cli_team import run_team
from tui.core.paths import AppPaths
from tui.core.session import MonitorSession, person_for
from tui.core.settings import load_config, resolve_profile
from tui.core.teamstore import TeamStore, TeamStoreError
from tui.core.watchlist import Watchlist

PASSWORD = "Canary-pw-15"
_roles = itertools.count(1)


def _run(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = run_team(argv, env=env or {}, out=out)
    return code, out.getvalue()


def _configure(store_url: str, extra: str = "") -> AppPaths:
    paths = AppPaths.default()
    paths.ensure("prod")
    paths.config_file.write_text(f'default_profile = "prod"\n[profiles.prod]\n'
                                 f'base_url = "{BASE_URL}"\nstore = "{store_url}"\n{extra}'
                                 '[profiles.stage]\nbase_url = "https://stage.example.com"\n')
    return paths


def _role(postgres_server: PostgresServer) -> str:
    """A new login role with :data:`PASSWORD` and no rights on any table; its name."""
    role = f"words_{os.getpid()}_{next(_roles)}"
    postgres_server.admin(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
    return role


def _dbname(team_database: str) -> str:
    return team_database.rsplit("dbname=", 1)[1].split()[0]


# C: a refused login, no password and a missing database are told apart from an
# unreachable server.

def test_a_wrong_or_missing_password_says_where_it_is_read_from(
        postgres_server: PostgresServer, team_database: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    url = postgres_server.url(_dbname(team_database), user=_role(postgres_server))
    monkeypatch.setenv("PGPASSFILE", os.devnull)
    monkeypatch.setenv("PGPASSWORD", "not-" + PASSWORD)
    assert _run(["--store", url, "status"])[0] == 1
    wrong = capsys.readouterr().err
    monkeypatch.delenv("PGPASSWORD")
    assert _run(["--store", url, "status"])[0] == 1
    missing = capsys.readouterr().err
    for said in (wrong, missing):
        assert "refused the login" in said and "cannot be reached" not in said, said
        assert "PGPASSWORD" in said and "keyring" in said and "~/.pgpass" in said
        assert len(said.strip().splitlines()) == 1 and PASSWORD not in said
    assert "password authentication failed" in wrong
    assert "no password supplied" in missing


def test_a_database_that_does_not_exist_is_named_so(
        postgres_server: PostgresServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["--store", postgres_server.url("nosuch"), "status"])[0] == 1
    said = capsys.readouterr().err
    assert "does not exist" in said and '"nosuch"' in said, said
    assert "cannot be reached" not in said


@pytest.mark.parametrize(("store", "says"), [
    ("postgresql://dana:pw-77@db.example.com/team", "--store holds a password"),
    ("postgresql://dana@db.example.com:5432/", "--store names no database"),
])
def test_a_bad_store_flag_is_named_as_the_flag(
        store: str, says: str, capsys: pytest.CaptureFixture[str]) -> None:
    _configure("postgresql://dana@db.example.com/team")
    assert _run(["--store", store, "status"])[0] == 2
    said = capsys.readouterr().err
    assert says in said and "profile" not in said and "pw-77" not in said


def test_a_bad_profile_store_names_the_profile(capsys: pytest.CaptureFixture[str]) -> None:
    _configure("postgresql://dana@db.example.com:5432/")
    assert _run(["status"])[0] == 2
    assert "the store of profile 'prod' names no database" in capsys.readouterr().err


def test_a_profile_that_does_not_exist_lists_the_known_ones(
        capsys: pytest.CaptureFixture[str]) -> None:
    _configure("postgresql://dana@db.example.com/team")
    assert _run(["--profile", "nosuch", "status"])[0] == 2
    said = capsys.readouterr().err
    assert "there is no profile 'nosuch'" in said and "'prod', 'stage'" in said, said
    assert "default_profile" not in said and "No base URL" not in said


# B: a role per person.

def test_a_role_without_rights_is_told_to_ask_for_a_grant_and_the_grant_works(
        postgres_server: PostgresServer, team_database: str, store_url: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["--store", store_url, "init"])[0] == 0
    role = _role(postgres_server)
    sams = postgres_server.url(_dbname(team_database), user=role)
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    with pytest.raises(TeamStoreError) as refused:
        TeamStore(address_of(sams), BASE_URL, "sam")
    said = str(refused.value)
    assert "permission denied" in said and "team init --grant ROLE" in said, said
    assert _run(["--store", sams, "status"])[0] == 1
    assert "--grant ROLE" in capsys.readouterr().err

    monkeypatch.delenv("PGPASSWORD")
    code, out = _run(["--store", store_url, "init", "--grant", role])
    assert code == 0 and f"role {role!r} may now read and write" in out, out
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    with TeamStore(address_of(sams), BASE_URL, "sam") as store:
        assert store.add([7], note="T-1") == [7]
        store.acknowledge([7])
        store.audit("unwatch", [7], "done")
        assert store.remove([7]) == 1
        store.add([7])  # back from the rows set aside
    assert _run(["--store", sams, "status"])[0] == 0


def test_a_grant_to_a_role_that_does_not_exist_is_one_sentence(
        store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["--store", store_url, "init", "--grant", "no_such_role"])[0] == 1
    said = capsys.readouterr().err
    assert "no_such_role" in said and len(said.strip().splitlines()) == 1
    assert _run(["--store", store_url, "status", "--grant", "x"])[0] == 2
    assert "--grant goes with init or migrate" in capsys.readouterr().err


# A: who did what.

def test_the_person_is_the_env_then_the_profile_then_the_os_user(
        capsys: pytest.CaptureFixture[str]) -> None:
    paths = _configure("postgresql://dana@db.example.com/team",
                       extra='person = "dana@example.com"\n')
    config = load_config(paths.config_file)
    profile = resolve_profile(config, profile=None, base_url=None, env={})
    assert person_for(profile, {}) == "dana@example.com"
    assert person_for(profile, {"CONVERSIONS_PERSON": " sam "}) == "sam"
    assert person_for(profile, {"CONVERSIONS_PERSON": "bad\x1b[31m"}) == "dana@example.com"
    import getpass

    stage = resolve_profile(config, profile="stage", base_url=None, env={})
    assert person_for(stage, {}) == getpass.getuser()


@pytest.mark.parametrize("value", ['""', '"a\\u001b[2Jb"', "42", '"' + "x" * 81 + '"'])
def test_a_bad_person_is_one_warning_with_file_and_line(value: str) -> None:
    paths = _configure("postgresql://dana@db.example.com/team", extra=f"person = {value}\n")
    config = load_config(paths.config_file)
    warned = [text for text in config.warnings if "person" in text]
    assert len(warned) == 1, config.warnings
    assert f"{paths.config_file}: line 5: person:" in warned[0] and "OS user" in warned[0]
    assert "\x1b" not in warned[0]
    assert config.profiles["prod"].person is None


def test_the_monitor_and_import_sign_with_the_configured_person(
        store_url: str, open_store: Callable[..., TeamStore],
        capsys: pytest.CaptureFixture[str]) -> None:
    paths = _configure(store_url, extra='person = "dana@example.com"\n')
    config = load_config(paths.config_file)
    profile = resolve_profile(config, profile=None, base_url=None, env={})
    session = MonitorSession.open(paths, config, profile, env={})
    try:
        assert getattr(session.watchlist, "person", None) == "dana@example.com"
    finally:
        session.close()
    session = MonitorSession.open(paths, config, profile, env={"CONVERSIONS_PERSON": "sam"})
    try:
        assert getattr(session.watchlist, "person", None) == "sam"
    finally:
        session.close()
    with Watchlist(paths.watchlist_db("prod")) as mine:
        mine.add([5])
    assert _run(["import"])[0] == 0
    assert open_store("x").signatures([5])[5]["added_by"] == "dana@example.com"


# E: team status says who monitors and who polls.

def test_status_names_the_monitors_and_who_polls(
        store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    paths = _configure(store_url, extra='person = "dana"\n')
    config = load_config(paths.config_file)
    profile = resolve_profile(config, profile=None, base_url=None, env={})
    first = MonitorSession.open(paths, config, profile, env={})
    second = MonitorSession.open(paths, config, profile, env={"CONVERSIONS_PERSON": "sam"})
    try:
        assert first.poller_lock.try_acquire()
        assert not second.poller_lock.try_acquire()  # waits: its connection is open
        code, out = _run(["status"])
    finally:
        second.close()
        first.close()
    assert code == 0, out
    monitors = next(line for line in out.splitlines() if line.startswith("monitors "))
    import socket

    host = socket.gethostname()
    assert monitors == f"monitors dana@{host} (polls), sam@{host}", out
    assert "leader" not in out
    connections = next(line for line in out.splitlines() if line.startswith("connections"))
    assert "dana " in connections and "sam " in connections


# F: import says what it kept.

def test_import_says_which_notes_kept_the_teams_and_carries_acknowledgements(
        store_url: str, open_store: Callable[..., TeamStore],
        capsys: pytest.CaptureFixture[str]) -> None:
    paths = _configure(store_url)
    team = open_store("sam")
    team.add(list(range(1, 10)), note="TEAM-1")
    team.add([20])
    with Watchlist(paths.watchlist_db("prod")) as mine:
        mine.add(list(range(1, 8)), note="SOLO-1")
        mine.add([8], note="TEAM-1")  # the same note: nothing to say
        mine.add([20])
        mine.acknowledge([20], at=100.0)
    code, out = _run(["import", "--as", "dana"])
    assert code == 0, out
    assert ("7 of your notes differed from the team's, which was kept: 1, 2, 3, 4, 5 and "
            "2 more") in out, out
    assert "1 acknowledgements or snoozes carried over" in out and ": 20." in out
    assert team.get_many([20])[20].acknowledged_at == 100.0


def test_an_empty_watchlist_is_nothing_to_import_like_a_missing_one(
        store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    paths = _configure(store_url)
    assert _run(["import"])[0] == 2
    assert "nothing to import" in capsys.readouterr().err
    Watchlist(paths.watchlist_db("prod")).close()
    assert _run(["import"])[0] == 2
    assert "watches nothing" in capsys.readouterr().err


# G: watch names the team database.

def test_watch_names_the_team_database(store_url: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    _configure(store_url)
    assert main(["watch", "41", "42"]) == 0
    out = capsys.readouterr().out
    display = address_of(store_url).display
    assert f"Watching 2 more in profile 'prod' in the team database {display}" in out, out
    assert main(["watch", "--profile", "stage", "43"]) == 0
    assert "team database" not in capsys.readouterr().out


def test_init_with_a_grant_points_profiles_at_the_role_not_the_owner(
        postgres_server: PostgresServer, team_database: str, store_url: str) -> None:
    """A newcomer granted two roles, then was told to use the owner's superuser."""
    role = _role(postgres_server)
    code, out = _run(["--store", store_url, "init", "--grant", role])
    assert code == 0, out
    assert f'store = "postgresql://{role}@' in out, out
    assert "each person with their own role" in out, out
