"""``conversions-tui upload`` run in-process against the real sandbox: exit codes, --json,
reports, retry, keys."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.fixtures.keyring_backend import InMemoryKeyring
from tui import cli_upload
from tui.cli_upload import run_upload
from tui.core.audit import AuditLog
from tui.core.paths import AppPaths
from tui.core.upload import UploadProgress
from tui.core.upload_plan import UploadItem, UploadPlan, plan_upload
from tui.core.watchlist import Watchlist
from tui.sandbox.runner import SandboxServer

POSTS = "POST /v1/conversions"


@pytest.fixture
def env(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    monkeypatch.setenv("CONVERSIONS_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("CONVERSIONS_API_KEY", sandbox.api_key)
    return sandbox


def _files(folder: Path, *names: str, data: bytes = b"id,value\n1,2\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(data)
    return folder


def _watched() -> list[int]:
    with Watchlist(AppPaths.default().watchlist_db("default")) as watchlist:
        return watchlist.ids()


def test_all_accepted_exits_0_and_watches_them(env: SandboxServer, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = _files(tmp_path / "in", "a.csv", "b.json", "c.xml")
    code = run_upload([str(folder / "*"), "--ref", "T-4412"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "3 of 3 files accepted in profile 'default' (ref T-4412)" in out
    assert len(_watched()) == 3
    assert "New IDs (watched): " in out
    for conversion_id in _watched():
        assert str(conversion_id) in out
    assert "batch 1/1: 3/3 files done, 3 accepted" in err  # plain progress: not a terminal
    assert "Report" not in out  # nothing to report
    with AuditLog(AppPaths.default().audit_db("default")) as audit:
        [entry] = audit.entries()
    assert (entry.action, sorted(entry.ids), entry.detail) == ("upload", _watched(), "ref T-4412")


def test_some_left_out_exits_1_with_a_report(env: SandboxServer, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    folder = _files(tmp_path / "in", "a.csv", "b.csv")
    (folder / "empty.csv").write_bytes(b"")
    report = tmp_path / "report.jsonl"
    code = run_upload([str(folder), "--report", str(report)])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "2 of 3 files accepted" in out
    assert "empty.csv: it is empty" in out
    [line] = [json.loads(text) for text in report.read_text().splitlines()]
    assert (line["file_name"], line["outcome"], line["reasons"]) == (
        "empty.csv", "invalid", ["it is empty"])


def _force_plan(monkeypatch: pytest.MonkeyPatch, plan: UploadPlan) -> None:
    monkeypatch.setattr(cli_upload, "plan_upload", lambda files, type_override=None: plan)


def test_server_rejects_are_listed_with_reasons_and_exit_1(
        env: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    plan = plan_upload([_files(tmp_path / "in", "a.csv", "b.csv")])
    bad = plan.items[1]
    # A type the sandbox refuses (the plan would not let it through on its own).
    plan.items[1] = UploadItem(bad.path, bad.file_name, "Word", bad.size)
    _force_plan(monkeypatch, plan)
    code = run_upload(["ignored", "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    document = json.loads(out)
    assert document["exit_code"] == 1
    assert [r["outcome"] for r in document["results"]] == ["accepted", "rejected"]
    assert isinstance(document["results"][0]["id"], int)
    assert "dataSourceType 'Word'" in document["results"][1]["reasons"][0]
    assert document["counts"]["accepted"] == 1
    assert "Rejected by the server:" in err  # the summary goes to stderr with --json
    report = Path(document["report"])  # written to the state folder without --report
    assert report.is_relative_to(AppPaths.default().state_dir)
    assert json.loads(report.read_text())["outcome"] == "rejected"


def test_none_accepted_by_the_server_exits_2(env: SandboxServer, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    plan = plan_upload([_files(tmp_path / "in", "a.csv")])
    plan.items = [UploadItem(i.path, i.file_name, "Word", i.size) for i in plan.items]
    _force_plan(monkeypatch, plan)
    assert run_upload(["ignored"]) == 2
    assert "0 of 1 files accepted" in capsys.readouterr().out
    assert env.state.stats.by_route[POSTS] == 1


def test_nothing_valid_exits_2_without_sending(env: SandboxServer, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = _files(tmp_path / "in", "notes.docx")
    code = run_upload([str(folder / "notes.docx"), str(tmp_path / "missing.csv"), "--json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "nothing to upload" in err
    document = json.loads(out)
    assert [r["outcome"] for r in document["results"]] == ["invalid", "invalid"]
    assert env.state.stats.total == 0


def test_retry_takes_the_files_of_a_report(env: SandboxServer, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    folder = _files(tmp_path / "in", "a.csv")
    (folder / "later.csv").write_bytes(b"")
    report = tmp_path / "report.jsonl"
    assert run_upload([str(folder), "--report", str(report)]) == 1
    (folder / "later.csv").write_bytes(b"fixed,now\n")
    capsys.readouterr()
    assert run_upload(["--retry", str(report), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [r["file_name"] for r in document["results"]] == ["later.csv"]
    assert len(_watched()) == 2


def test_type_override_is_sent(env: SandboxServer, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = _files(tmp_path / "in", "data.txt")
    assert run_upload([str(folder / "data.txt"), "--type", "csv", "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["data_source_type"] == "Csv"
    on_server = env.state.get(result["id"])
    assert on_server is not None and on_server.data_source_type == "Csv"
    assert run_upload([str(folder / "data.txt"), "--type", "Word"]) == 2
    assert "unknown data source type" in capsys.readouterr().err


def test_no_key_exits_2_and_says_how_to_set_one(sandbox: SandboxServer, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONVERSIONS_BASE_URL", sandbox.base_url)
    folder = _files(tmp_path / "in", "a.csv")
    assert run_upload([str(folder)]) == 2
    err = capsys.readouterr().err
    assert "set CONVERSIONS_API_KEY or run `conversions-tui login`" in err
    assert sandbox.state.stats.total == 0


def test_the_key_from_the_keyring_is_used(sandbox: SandboxServer, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          memory_keyring: InMemoryKeyring) -> None:
    monkeypatch.setenv("CONVERSIONS_BASE_URL", sandbox.base_url)
    memory_keyring.store[("conversions-tui", "default")] = sandbox.api_key
    assert run_upload([str(_files(tmp_path / "in", "a.csv"))]) == 0


def test_a_refused_key_stops_exits_2_and_is_never_printed(
        sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    secret = "wrong-key-SECRET-0123456789"
    monkeypatch.setenv("CONVERSIONS_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("CONVERSIONS_API_KEY", secret)
    folder = _files(tmp_path / "in", "a.csv", "b.csv")
    assert run_upload([str(folder), "--batch-records", "1"]) == 2
    out, err = capsys.readouterr()
    assert "An API key is needed" in out
    assert "Not sent:" in out
    assert secret not in out + err
    assert sandbox.state.stats.by_route[POSTS] == 1
    for report in AppPaths.default().state_dir.rglob("*.jsonl"):
        assert secret not in report.read_text()


def test_no_base_url_exits_2_with_an_example(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run_upload([str(_files(tmp_path / "in", "a.csv"))]) == 2
    assert "No base URL" in capsys.readouterr().err


def test_no_files_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_upload([]) == 2
    assert "name the files" in capsys.readouterr().err


def test_a_broken_connection_is_reported_unknown(env: SandboxServer, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    env.faults.update({"drop_connection": 1.0})
    folder = _files(tmp_path / "in", "a.csv")
    assert run_upload([str(folder), "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["results"][0]["outcome"] == "unknown"
    assert env.state.stats.by_route[POSTS] == 1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_redrawn_in_place() -> None:
    stream = _Terminal()
    printer = cli_upload._ProgressPrinter(stream)
    for finished in (0, 5, 10):
        printer(UploadProgress(state="sending", total_records=10, total_bytes=10 * 2**20,
                               finished_records=finished, sent_records=finished,
                               sent_bytes=finished * 2**20, accepted_records=finished,
                               accepted_bytes=finished * 2**20, rejected_records=0,
                               rejected_bytes=0, batches_posted=1, batches_planned=2))
    printer.finish()
    text = stream.getvalue()
    assert text.count("\r[") == 3
    assert "[############............] 5/10 files, 5 accepted" in text
    assert "[########################] 10/10 files" in text
    assert text.endswith("\n")


def test_plain_progress_has_a_line_per_batch(env: SandboxServer, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    folder = _files(tmp_path / "in", "a.csv", "b.csv", "c.csv")
    assert run_upload([str(folder), "--batch-records", "2"]) == 0
    err = capsys.readouterr().err
    assert "batch 1/2: 2/3 files done, 2 accepted, 0 rejected" in err
    assert "batch 2/2: 3/3 files done, 3 accepted, 0 rejected" in err


def test_ctrl_c_stops_after_the_batch_in_flight(env: SandboxServer, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import os
    import signal
    import threading

    # Every post is rate limited for 30 s: the upload sits waiting until Ctrl-C.
    env.faults.update({"storm": True, "retry_after": 30})
    folder = _files(tmp_path / "in", "a.csv", "b.csv")
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        code = run_upload([str(folder), "--json"])
    finally:
        timer.cancel()
    out, err = capsys.readouterr()
    assert code == 2
    assert "Stopping after the batch in flight" in err
    document = json.loads(out)
    assert document["stopped_by"] == "cancel"
    assert [r["outcome"] for r in document["results"]] == ["not_sent", "not_sent"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler removed
