"""The command line on a team profile audits where the monitor does: in the team's audit log,
signed by the person (``open_audit``), against a real PostgreSQL and the sandbox. With the
database gone mid-upload, nothing is lost: the entry is kept on this machine, saying so. The
API key the upload used is in no table of the database."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.core.teamstore.conftest import address_of
from tests.fixtures.postgres import PostgresServer, start_server
from tests.waiting import until_sync
from tui.cli import main
from tui.core.audit import AuditEntry, AuditLog
from tui.core.credentials import ApiKey
from tui.core.paths import AppPaths
from tui.core.session import MonitorSession, open_audit
from tui.core.settings import AppConfig, ProfileSettings
from tui.core.signatures import signatures_of
from tui.core.teamstore import TeamStore, TeamStoreError
from tui.core.teamstore.audit import TeamAudit
from tui.core.watchlist import Watchlist
from tui.sandbox.runner import SandboxServer

CANARY = "canary-cli-key-3b8e1f0a"
PERSON = "sam"


@pytest.fixture(autouse=True)
def acting_as_sam(monkeypatch: pytest.MonkeyPatch) -> None:
    """The OS user the store signs with (getpass reads these first)."""
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, PERSON)
    assert getpass.getuser() == PERSON


def _configure(store_url: str, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
               ) -> AppPaths:
    """Profile ``prod`` on the sandbox and the team store; the sandbox takes only the canary."""
    sandbox.api_key = CANARY
    monkeypatch.setenv("CONVERSIONS_API_KEY", CANARY)
    paths = AppPaths.default()
    paths.ensure("prod")
    paths.config_file.write_text(f'default_profile = "prod"\n[profiles.prod]\n'
                                 f'base_url = "{sandbox.base_url}"\nstore = "{store_url}"\n')
    return paths


def _monitor(sandbox: SandboxServer, store_url: str) -> MonitorSession:
    """A colleague's monitor on the same team profile (its own folders do not matter)."""
    profile = ProfileSettings(name="prod", base_url=sandbox.base_url, store=store_url)
    return MonitorSession.open(AppPaths.default(), AppConfig(), profile, env={})


def _local_entries(paths: AppPaths) -> list[AuditEntry]:
    with AuditLog(paths.audit_db("prod")) as local:
        return local.entries()


def _dump(conninfo: str) -> list[str]:
    """Every row of every table of the database, as text."""
    with psycopg.connect(conninfo) as conn:
        tables = [name for (name,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return [text for table in tables for (text,) in conn.execute(
            f"SELECT row_to_json(t)::text FROM {table} AS t")]


def _posts(sandbox: SandboxServer) -> int:
    return sandbox.state.stats.by_route.get("POST /v1/conversions", 0)


def test_open_audit_is_the_teams_on_a_team_store_and_the_file_otherwise(
        store_url: str, tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path)
    profile = ProfileSettings(name="prod", base_url="https://api.example.com")
    store = TeamStore(address_of(store_url), profile.base_url, PERSON)
    own = Watchlist(tmp_path / "own.sqlite3")
    team_audit, own_audit = open_audit(paths, profile, store), open_audit(paths, profile, own)
    try:
        assert isinstance(team_audit, TeamAudit) and team_audit.store is store
        assert isinstance(own_audit, AuditLog)
        assert own_audit.path == paths.audit_db("prod")
    finally:
        for opened in (team_audit, own_audit, store, own):
            opened.close()


def test_upload_is_in_the_team_audit_signed_and_the_key_nowhere_in_the_database(
        store_url: str, team_database: str, sandbox: SandboxServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    paths = _configure(store_url, sandbox, monkeypatch)
    good = tmp_path / "orders.csv"
    good.write_bytes(b"id,value\n1,2\n")
    assert main(["upload", str(good), "--ref", "T-77"]) == 0, capsys.readouterr().err
    # A batch the server refuses: its entry names the files, one of them named after the
    # key (a text that could hold it), which must be masked before it leaves the process.
    sandbox.faults.update({"error_rate": 1.0, "error_status": 400})
    leaky = tmp_path / f"orders-{CANARY}.csv"
    leaky.write_bytes(b"id,value\n3,4\n")
    assert main(["upload", str(leaky)]) == 2
    sandbox.faults.clear()
    assert _posts(sandbox) == 2  # the canary key was really used

    monitor = _monitor(sandbox, store_url)
    try:
        entries = monitor.audit.entries()  # what its audit view (L) lists
        store = monitor.watchlist
        watched = store.all()
        who = signatures_of(store, monitor.audit, watched)
    finally:
        monitor.close()
    assert [(e.action, e.user) for e in entries] == [("upload", PERSON)] * 2
    refused, accepted = entries
    assert accepted.ids == tuple(row.id for row in watched) and len(accepted.ids) == 1
    assert accepted.outcome == "accepted 1 of 1" and accepted.detail == "ref T-77"
    assert refused.outcome.startswith("refused as a whole (HTTP 400)")
    assert refused.detail is not None and ApiKey(CANARY).masked in refused.detail
    assert who[accepted.ids[0]].note is not None  # "note by sam ..." on Inspect's Who line
    assert who[accepted.ids[0]].note.who == PERSON  # type: ignore[union-attr]
    assert _local_entries(paths) == []  # nothing kept on this machine alone

    dumped = _dump(team_database)
    assert any("T-77" in text for text in dumped)  # the dump holds what was written
    assert not [text for text in dumped if CANARY in text]


def test_watch_is_signed_in_the_team_store_and_keeps_no_local_audit(
        store_url: str, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _configure(store_url, sandbox, monkeypatch)
    assert main(["watch", "41", "--note", "TICKET-5"]) == 0
    monitor = _monitor(sandbox, store_url)
    try:
        who = signatures_of(monitor.watchlist, monitor.audit, monitor.watchlist.all())
    finally:
        monitor.close()
    assert who[41].added is not None and who[41].added.who == PERSON
    assert who[41].note is not None and who[41].note.who == PERSON
    assert _local_entries(paths) == []
    assert not paths.watchlist_db("prod").exists()


def test_list_refresh_audits_a_confirmed_delete_in_the_team_log(
        store_url: str, sandbox: SandboxServer, open_store: Callable[..., TeamStore],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    paths = _configure(store_url, sandbox, monkeypatch)
    conversion = sandbox.state.add_conversion(status="Failed", frozen=True)
    dana = open_store("dana", base_url=sandbox.base_url)
    dana.add([conversion], note="TICKET-8")
    dana.mark_delete_requested(conversion, 1_000.0)
    sandbox.state.set_status(conversion, "Deleted")

    assert main(["list", "--refresh", "--json"]) == 0, capsys.readouterr().err
    assert f'"id": {conversion}' in capsys.readouterr().out  # the team's row, listed
    entries = dana.audit_entries(10)
    assert [(e["action"], e["ids"], e["outcome"], e["person"]) for e in entries] == [
        ("delete", str(conversion), "confirmed", PERSON)]
    assert _local_entries(paths) == []


# ------------------------------------------------- the database gone in the middle

@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    """A server of this module's own, so stopping it leaves the session's up."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


def test_upload_with_the_database_gone_mid_run_keeps_the_entry_here(
        own_server: PostgresServer, sandbox: SandboxServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    dbname = own_server.create_database()
    url = own_server.url(dbname)
    paths = _configure(url, sandbox, monkeypatch)
    accept = sandbox.state.accept_upload
    stopped: list[bool] = []

    def accept_then_stop_the_database(**kwargs: Any) -> Any:
        # The server takes the batch; the team database goes away before the app records it.
        if not stopped:
            own_server.pause()
            stopped.append(True)
        return accept(**kwargs)

    monkeypatch.setattr(sandbox.state, "accept_upload", accept_then_stop_the_database)
    data = tmp_path / "orders.csv"
    data.write_bytes(b"id,value\n1,2\n")
    try:
        code = main(["upload", str(data), "--ref", "T-88"])
        said = capsys.readouterr()
        out, err = said.out, said.err
        kept = _local_entries(paths)
    finally:
        own_server.resume()
    assert stopped and _posts(sandbox) == 1
    accepted = [i for i in sandbox.state.ids() if i not in sandbox.state.seeded_ids()]
    assert len(accepted) == 1, accepted
    # Said at once, with the ID the server gave, and kept in this machine's audit file; not
    # exit 0, since a script must not take the ID as watched.
    assert code == 1 and "Traceback" not in out + err
    assert f"New IDs (not all watched, see Stopped): {accepted[0]}" in out, out
    assert "Stopped: The accepted IDs could not be added to the watchlist" in out, out
    assert f"New IDs: {accepted[0]} (in the audit log)" in out, out
    assert [(e.action, e.ids, e.outcome) for e in kept] == [
        ("upload", (accepted[0],), "accepted 1 of 1")]
    assert kept[0].detail is not None
    assert kept[0].detail.startswith("ref T-88; not added to the watchlist: ")
    assert kept[0].detail.endswith("team database unreachable: kept on this machine")
    assert CANARY not in kept[0].detail

    def team_entries() -> list[dict[str, Any]] | None:
        try:
            with TeamStore(address_of(url), sandbox.base_url, "dana", connect_timeout=3) as store:
                return store.audit_entries(10)
        except TeamStoreError:
            return None

    found: list[list[dict[str, Any]] | None] = []
    until_sync(lambda: found.append(team_entries()) or found[-1] is not None,
               lambda: "the team database back")
    assert found[-1] == []  # not written twice: the entry is this machine's


def test_list_on_an_unreachable_team_store_is_one_sentence(
        sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _configure(f"postgresql://sam@127.0.0.1:{port}/team", sandbox, monkeypatch)
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert "cannot be reached" in err and len(err.strip().splitlines()) == 1, err


def test_list_refresh_with_the_database_gone_mid_check_is_one_sentence(
        own_server: PostgresServer, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = own_server.url(own_server.create_database())
    _configure(url, sandbox, monkeypatch)
    conversion = sandbox.state.add_conversion(status="Failed", frozen=True)
    assert main(["watch", str(conversion)]) == 0
    capsys.readouterr()
    get = sandbox.state.get
    stopped: list[bool] = []

    def answer_then_stop_the_database(conversion_id: int) -> Any:
        # The server answers; the team database goes away before the answer is recorded.
        if not stopped:
            own_server.pause()
            stopped.append(True)
        return get(conversion_id)

    monkeypatch.setattr(sandbox.state, "get", answer_then_stop_the_database)
    try:
        code = main(["list", "--refresh"])
        err = capsys.readouterr().err
    finally:
        own_server.resume()
    assert stopped and code == 2
    assert "cannot be reached" in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err


async def test_the_monitors_audit_masks_the_key_its_clients_use(
        sandbox: SandboxServer, store_url: str, team_database: str) -> None:
    monitor = _monitor(sandbox, store_url)
    client = monitor.open_client(ApiKey(CANARY))
    try:
        # An upload in the monitor refused by the server: the entry names the files.
        entry = monitor.audit.append("upload", [], "refused as a whole (HTTP 400)", "prod",
                                     None, detail=f"Files: orders-{CANARY}.csv")
    finally:
        await client.aclose()
        monitor.close()
    assert entry.detail == f"Files: orders-{ApiKey(CANARY).masked}.csv"
    dumped = _dump(team_database)
    assert any("orders-" in text for text in dumped)
    assert not [text for text in dumped if CANARY in text]
