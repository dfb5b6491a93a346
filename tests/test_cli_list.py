"""``conversions-tui list`` and ``status`` run in-process against the real sandbox: the
filter language, --refresh, --json/--csv, and the exit codes (0 well, 1 Failed or stuck
or not found, 2 errors)."""

from __future__ import annotations

import csv
import io
import json
import socket
import time

import pytest

from tui.cli import main
from tui.core.audit import AuditLog
from tui.core.paths import AppPaths
from tui.core.watchlist import Watchlist
from tui.sandbox.runner import SandboxServer

HOSTILE = "pay\x1b[31mroll\u202e.csv"


@pytest.fixture
def env(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    monkeypatch.setenv("CONVERSIONS_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("CONVERSIONS_API_KEY", sandbox.api_key)
    return sandbox


def watch(*ids: int, note: str | None = None) -> None:
    paths = AppPaths.default()
    paths.ensure("default")
    with Watchlist(paths.watchlist_db("default")) as watchlist:
        watchlist.add(ids, note=note)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def three(env: SandboxServer) -> dict[str, int]:
    """A Completed, a Failed and a Completed with a hostile name, watched (not checked)."""
    state = env.state
    ids = {
        "done": state.add_conversion(status="Completed", file_name="payroll-march.csv",
                                     frozen=True),
        "failed": state.add_conversion(status="Failed", file_name="stock.json",
                                       data_source_type="Json",
                                       errors=["File is not valid UTF-8 (byte 0x9f)"],
                                       frozen=True),
        "hostile": state.add_conversion(status="Completed", file_name=HOSTILE, frozen=True),
    }
    watch(*ids.values(), note="INC-4412")
    return ids


def test_list_refresh_checks_records_and_exits_1_for_a_failed_row(
        three: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "list", "--refresh")
    assert code == 1, out + err
    assert "1 of 3 listed need attention" in err
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "IN", "STATUS", "TYPE", "W", "E", "FILE", "NOTE"]
    failed_line = next(line for line in lines if line.startswith(str(three["failed"])))
    assert "Failed" in failed_line and "stock.json" in failed_line and "INC-4412" in failed_line
    assert "\x1b" not in out and "\u202e" not in out
    assert "pay␛[31mroll<U+202E>.csv" in out
    with Watchlist(AppPaths.default().watchlist_db("default")) as watchlist:  # recorded
        assert watchlist.get(three["failed"]).status == "Failed"  # type: ignore[union-attr]


def test_list_filters_with_the_monitors_language_and_exits_0_when_all_is_well(
        three: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "list", "--refresh")[0] == 1
    code, out, err = run(capsys, "list", "--filter", "status:completed file:payroll*", "--json")
    assert code == 0, err
    [record] = json.loads(out)
    assert (record["id"], record["status"], record["note"], record["stuck"]) == (
        three["done"], "Completed", "INC-4412", False)
    code, out, _ = run(capsys, "list", "--filter", 'msg:"not valid utf-8"', "--json")
    assert code == 1 and [r["id"] for r in json.loads(out)] == [three["failed"]]
    code, out, _ = run(capsys, "list", "--filter", "-status:failed type:csv", "--json")
    assert code == 0 and {r["id"] for r in json.loads(out)} == {three["done"], three["hostile"]}
    code, out, err = run(capsys, "list", "--filter", "id:1-2")
    assert (code, out.splitlines(), err) == (0, ["ID  STATUS  IN STATUS  TYPE  W  E  FILE  NOTE"],
                                             "")


def test_json_and_csv_write_server_text_literally_with_controls_made_visible(
        three: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "list", "--refresh")
    code, out, _ = run(capsys, "list", "--filter", f"id:{three['hostile']}", "--json")
    [record] = json.loads(out)
    assert record["file_name"] == "pay␛[31mroll<U+202E>.csv"
    code, out, _ = run(capsys, "list", "--filter", f"id:{three['failed']}", "--csv")
    assert code == 1
    [header, row] = list(csv.reader(io.StringIO(out)))
    cells = dict(zip(header, row, strict=True))
    assert cells["errors"] == "File is not valid UTF-8 (byte 0x9f)"
    assert (cells["status"], cells["stuck"], cells["note"]) == ("Failed", "false", "INC-4412")


def test_a_bad_filter_exits_2_naming_the_term_with_one_sentence(
        three: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "list", "--filter", "type:csv status:fialed")
    assert code == 2 and out == ""
    assert err.startswith("conversions-tui list: bad filter: 'status:fialed': 'fialed' is "
                          "not a status; use failed"), err
    assert err.count("\n") == 1
    code, _, err = run(capsys, "list", "--filter", 'msg:"open')
    assert code == 2 and "This quote is never closed" in err


def test_refresh_without_a_key_or_a_server_exits_2_with_a_clear_sentence(
        three: dict[str, int], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONVERSIONS_API_KEY")
    code, out, err = run(capsys, "list", "--refresh")
    assert code == 2 and out == ""
    assert "no API key for profile 'default': set CONVERSIONS_API_KEY" in err
    monkeypatch.setenv("CONVERSIONS_API_KEY", "wrong-key")
    code, _, err = run(capsys, "list", "--refresh")
    assert code == 2 and "the server refused the key of profile 'default'" in err, err
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CONVERSIONS_API_KEY", "test-key")
    code, out, err = run(capsys, "list", "--refresh", "--base-url", f"http://127.0.0.1:{port}")
    assert code == 2 and out == ""
    assert f"cannot reach the server at http://127.0.0.1:{port}" in err, err


def test_status_asks_the_server_now_and_exits_by_what_it_says(
        env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    state = env.state
    done = state.add_conversion(status="Completed", frozen=True)
    failed = state.add_conversion(status="Failed", errors=["bad row"], frozen=True)
    hung = state.add_conversion(status="Processing", age_in_status=7200, frozen=True)
    code, out, err = run(capsys, "status", str(done))
    assert code == 0, err
    assert "Completed" in out.splitlines()[1]
    code, out, _ = run(capsys, "status", str(done), str(failed), "--json")
    assert code == 1
    assert [(r["id"], r["status"]) for r in json.loads(out)] == [(done, "Completed"),
                                                                 (failed, "Failed")]
    code, out, _ = run(capsys, "status", str(hung))
    assert code == 1 and "Processing (stuck)" in out
    code, out, _ = run(capsys, "status", "987654")
    assert code == 1 and "Not found" in out
    with Watchlist(AppPaths.default().watchlist_db("default")) as watchlist:
        assert watchlist.ids() == []  # status adds nothing to the watchlist
    code, out, err = run(capsys, "status", "abc")
    assert code == 2 and out == "" and "not conversion IDs" in err


def test_help_documents_the_filter_terms_and_exit_codes(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["list", "--help"])
    out, _ = capsys.readouterr()
    assert done.value.code == 0
    for text in ("--filter EXPR", "--refresh", "--json", "--csv", "id:48200-48300",
                 "age:>30m", "exit codes:", "stuck"):
        assert text in out, text
    with pytest.raises(SystemExit):
        main(["status", "--help"])
    out, _ = capsys.readouterr()
    assert "not found (404)" in out and "--json" in out


def test_refresh_audits_a_delete_asked_for_earlier_and_now_seen_done(
        env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    from tui.core.audit import AuditLog

    gone = env.state.add_conversion(status="Deleted", frozen=True)
    watch(gone)
    with Watchlist(AppPaths.default().watchlist_db("default")) as watchlist:
        watchlist.mark_delete_requested(gone, 1.0)
    code, out, err = run(capsys, "list", "--refresh")
    assert code == 0, out + err
    with AuditLog(AppPaths.default().audit_db("default")) as audit:
        [entry] = audit.entries()
    assert (entry.action, entry.ids, entry.outcome) == ("delete", (gone,), "confirmed")


def test_status_waits_out_rate_limits_and_names_an_id_it_could_not_check(
        env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    ids = [env.state.add_conversion(status="Completed", frozen=True) for _ in range(12)]
    env.faults.update({"rate_limit": 6.0, "rate_limit_burst": 2.0})
    code, out, err = run(capsys, "status", *map(str, ids), "--json")
    assert code == 0, err
    assert [r["status"] for r in json.loads(out)] == ["Completed"] * 12
    env.faults.clear()
    env.faults.update({"forbidden_ids": [ids[0]]})
    code, out, err = run(capsys, "status", str(ids[0]), str(ids[1]))
    assert code == 2
    assert f"could not check 1 of 2 conversions (the first, {ids[0]}: HTTP 403" in err, err
    assert str(ids[1]) in out and "Completed" in out


@pytest.mark.parametrize("argv", [["list"], ["list", "--json"], ["status", "--json"]])
def test_a_reader_that_stops_reading_ends_the_command_quietly(
        three: dict[str, int], argv: list[str]) -> None:
    """``list | head`` and ``status ... | true``: the pipe closes before the output is
    written; the command ends with the shell's SIGPIPE code and no traceback."""
    import os
    import subprocess
    import sys

    if argv[0] == "status":
        argv = [*argv, *map(str, three.values())]
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody reads: the first write fails with EPIPE
    try:
        done = subprocess.run([sys.executable, "-m", "tui", *argv], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, check=False)
    finally:
        os.close(write_end)
    assert done.returncode == 141, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


def test_list_says_who_acknowledged_in_the_last_column(
        three: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "list", "--refresh")
    paths = AppPaths.default()
    with Watchlist(paths.watchlist_db("default")) as watchlist:
        watchlist.acknowledge([three["failed"]], time.time())
    with AuditLog(paths.audit_db("default")) as audit:
        audit.append("acknowledge", [three["failed"]], "ok", "default", "dana@example.com")
    code, out, _ = run(capsys, "list", "--csv")
    assert code == 1  # Failed, acknowledged or not
    [header, *rows] = list(csv.reader(io.StringIO(out)))
    # The export's columns of before, list's own two, then what the export gained since.
    assert header[-5:] == ["acknowledged_at", "snoozed_until", "stuck", "problem",
                           "acknowledged_by"]
    by_id = {int(row[0]): dict(zip(header, row, strict=True)) for row in rows}
    assert by_id[three["failed"]]["acknowledged_by"] == "dana@example.com"
    assert by_id[three["done"]]["acknowledged_by"] == ""
    code, out, _ = run(capsys, "list", "--json", "--filter", f"id:{three['failed']}")
    [record] = json.loads(out)
    assert record["acknowledged_by"] == "dana@example.com" and record["acknowledged_at"]
