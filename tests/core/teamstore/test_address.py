"""The store's address and password: from the environment, the keyring or ~/.pgpass, never
from the config file, and never in a repr, a log line or an error (a canary proves it)."""

from __future__ import annotations

import itertools
import logging
import os
from pathlib import Path

import pytest

from tests.fixtures.keyring_backend import InMemoryKeyring
from tests.fixtures.postgres import PostgresServer
from tui.core.teamstore import (
    ChangeReader,
    LeaderLock,
    TeamStore,
    TeamStoreError,
    resolve_store_address,
)
from tui.core.teamstore.address import KEYRING_SERVICE

CANARY = "canary-Pw-7f3a9c"
_roles = itertools.count(1)


def test_the_environment_wins_over_the_profile() -> None:
    address = resolve_store_address("postgresql://a@profile-host/db1",
                                    environ={"CONVERSIONS_STORE": "postgresql://b@env-host:6000/db2"})
    assert address is not None
    assert (address.display, address.source) == ("b@env-host:6000/db2", "CONVERSIONS_STORE")
    address = resolve_store_address("postgresql://a@profile-host/db1", environ={})
    assert address is not None and address.display == "a@profile-host:5432/db1"


def test_no_store_named_means_the_sqlite_watchlist() -> None:
    assert resolve_store_address(None, environ={}) is None
    assert resolve_store_address("  ", environ={"CONVERSIONS_STORE": ""}) is None


@pytest.mark.parametrize(("given", "says"), [
    ("sqlite:///tmp/x", "is not a PostgreSQL address"),
    ("mysql://u@h/db", "is not a PostgreSQL address"),
    ("postgresql://u@h:notaport/db?x=%zz", "not a valid PostgreSQL address"),
    ("postgresql://u@h:5432/", "names no database"),
])
def test_a_bad_address_is_one_sentence(given: str, says: str) -> None:
    with pytest.raises(TeamStoreError, match=says) as caught:
        resolve_store_address(given, environ={})
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("given", [
    f"postgresql://team:{CANARY}@db.example.com/team",
    f"postgresql://team@db.example.com/team?password={CANARY}",
])
@pytest.mark.parametrize("from_env", [False, True])
def test_a_password_in_the_address_is_refused_unrepeated(given: str, from_env: bool) -> None:
    environ = {"CONVERSIONS_STORE": given} if from_env else {}
    with pytest.raises(TeamStoreError, match="holds a password") as caught:
        resolve_store_address(None if from_env else given, environ=environ)
    assert CANARY not in str(caught.value) and CANARY not in repr(caught.value)


@pytest.fixture
def canary_role(postgres_server: PostgresServer, team_database: str) -> str:
    """A role whose password is the canary, owning the test's database; its address."""
    role = f"team_role_{os.getpid()}_{next(_roles)}"
    dbname = team_database.rsplit("dbname=", 1)[1].split()[0]
    postgres_server.admin(f"CREATE ROLE {role} LOGIN PASSWORD '{CANARY}'")
    postgres_server.admin(f"ALTER DATABASE {dbname} OWNER TO {role}")
    postgres_server.admin(f"GRANT CREATE ON SCHEMA public TO {role}")
    return postgres_server.url(dbname, user=role)


def _everything_said(store: TeamStore, caplog: pytest.LogCaptureFixture) -> str:
    reader = ChangeReader(store)
    lock = LeaderLock(store.address, store.base_url, "dana@desk")
    try:
        lock.try_acquire()
        return " ".join([str(store), repr(store), repr(store.address), str(store.address),
                         repr(reader), repr(lock), str(lock.holder()), caplog.text])
    finally:
        reader.close()
        lock.release()


def test_the_password_from_pgpassword_is_used_and_never_shown(
        canary_role: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("PGPASSWORD", CANARY)
    address = resolve_store_address(canary_role)
    assert address is not None
    with TeamStore(address, "https://api.example.com", "dana") as store:
        store.add([1])
        said = _everything_said(store, caplog)
    assert CANARY not in said


def test_the_password_from_the_keyring_is_used(canary_role: str,
                                               monkeypatch: pytest.MonkeyPatch,
                                               memory_keyring: InMemoryKeyring) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", os.devnull)
    address = resolve_store_address(canary_role)
    assert address is not None
    memory_keyring.set_password(KEYRING_SERVICE, address.display, CANARY)
    with TeamStore(address, "https://api.example.com", "dana") as store:
        assert store.add([2]) == [2]
        assert CANARY not in repr(store) + str(store.address)


def test_the_password_from_pgpass_is_used(canary_role: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"*:*:*:*:{CANARY}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    address = resolve_store_address(canary_role)
    assert address is not None
    with TeamStore(address, "https://api.example.com", "dana") as store:
        assert store.add([3]) == [3]


def test_a_wrong_password_is_one_sentence_without_it(
        canary_role: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = CANARY + "-wrong"
    monkeypatch.setenv("PGPASSWORD", wrong)
    address = resolve_store_address(canary_role)
    assert address is not None
    with pytest.raises(TeamStoreError, match="refused the login") as caught:
        TeamStore(address, "https://api.example.com", "dana")
    with pytest.raises(TeamStoreError) as caught_lock:
        LeaderLock(address, "https://api.example.com", "dana@desk").try_acquire()
    said = " ".join([str(caught.value), repr(caught.value), str(caught_lock.value),
                     repr(caught_lock.value), caplog.text])
    assert CANARY not in said
    assert "password authentication failed" in str(caught.value)
    assert "password authentication failed" in str(caught_lock.value)
    assert "\n" not in str(caught.value)
    # Where the password was read from, so the person knows what to fix.
    assert "PGPASSWORD" in str(caught.value) and "~/.pgpass" in str(caught.value)
    assert "keyring" in str(caught.value)


def test_a_server_that_is_not_there_is_one_sentence(postgres_server: PostgresServer) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = resolve_store_address(f"postgresql://postgres@127.0.0.1:{port}/nowhere",
                                    environ={})
    assert address is not None
    with pytest.raises(TeamStoreError, match="cannot be reached") as caught:
        TeamStore(address, "https://api.example.com", "dana")
    assert "\n" not in str(caught.value)
    # The reason first (a narrow banner shows the start), without libpq's lead-in.
    assert str(caught.value).startswith(
        "The team database cannot be reached (Connection refused) at postgres@127.0.0.1:")
