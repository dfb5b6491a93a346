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
from tui.core.upload.plan import UploadItem, UploadPlan, plan_upload
from tui.core.upload.run import UploadProgress
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


def test_no_keyring_and_no_key_never_speaks_of_a_session(
        sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    keyring.set_keyring(FailKeyring())  # the conftest puts the in-memory one back
    monkeypatch.setenv("CONVERSIONS_BASE_URL", sandbox.base_url)
    assert run_upload([str(_files(tmp_path / "in", "a.csv"))]) == 2
    err = capsys.readouterr().err
    assert "No keyring backend is available (usual over SSH): no key can be read from it" in err
    assert "session" not in err
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
    printer = cli_upload.ProgressPrinter(stream)
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


# ------------------------------------------------------------ sizes people read
def test_small_files_show_bytes_not_zero_mib(env: SandboxServer, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    folder = _files(tmp_path / "in", "a.csv", data=b"id,value\n1,2\n")  # 13 bytes
    assert run_upload([str(folder)]) == 0
    err = capsys.readouterr().err
    assert "(13 B of 13 B sent)" in err, err
    assert "0.0 MiB" not in err


@pytest.mark.parametrize(("size", "shown"), [
    (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
    (2**20 - 1, "1024.0 KiB"), (2**20, "1.0 MiB"), (10 * 2**20, "10.0 MiB")])
def test_one_size_format_for_cli_and_app(size: int, shown: str) -> None:
    from tui.core.upload.plan import file_size
    from tui.ui.screens.upload_preview import file_size as shown_in_the_app

    assert file_size(size) == shown
    assert shown_in_the_app is file_size


def test_the_terminal_bar_shows_small_sizes_in_bytes() -> None:
    stream = _Terminal()
    cli_upload.ProgressPrinter(stream)(UploadProgress(
        state="sent", total_records=1, total_bytes=13, finished_records=1, sent_records=1,
        sent_bytes=13, accepted_records=1, accepted_bytes=13, rejected_records=0,
        rejected_bytes=0, batches_posted=1, batches_planned=1))
    assert "13 B/13 B" in stream.getvalue()


# ------------------------------------------------------------ retrying a report
REFUSE_EVERY_POST = {"error_rate": 1.0, "error_status": 400}


def _received(sandbox: SandboxServer) -> list[str]:
    """The file names of every record the sandbox created, one per record."""
    names = []
    for conversion_id in sandbox.state.ids():
        snapshot = sandbox.state.get(conversion_id)
        assert snapshot is not None
        names.append(snapshot.file_name)
    return sorted(names)


def _report_lines(report: Path) -> list[dict[str, object]]:
    return [json.loads(text) for text in report.read_text().splitlines()]


def _refused_upload(env: SandboxServer, folder: Path, report: Path) -> None:
    """An upload whose one batch the server refuses as a whole (HTTP 400)."""
    env.faults.update(REFUSE_EVERY_POST)
    assert run_upload([str(folder), "--report", str(report)]) == 2
    env.faults.clear()
    assert [line["outcome"] for line in _report_lines(report)] == ["failed", "failed"]
    assert _received(env) == []


def test_a_second_retry_refuses_what_the_first_got_accepted(
        env: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _files(tmp_path / "in", "a.csv", "b.csv")
    report = tmp_path / "report.jsonl"
    _refused_upload(env, folder, report)
    assert env.state.stats.by_route[POSTS] == 1
    capsys.readouterr()

    assert run_upload(["--retry", str(report), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    ids = {r["file_name"]: r["id"] for r in first["results"]}
    assert _received(env) == ["a.csv", "b.csv"]
    # The report now says what was retried, when, and with what result.
    for line in _report_lines(report):
        [retry] = line["retries"]  # type: ignore[misc]
        assert retry["outcome"] == "accepted" and retry["id"] == ids[line["file_name"]]
        assert str(retry["at"]).endswith("Z") and retry["reasons"] == []

    # Again: nothing is sent, the message names --force and the IDs, exit 3.
    code = run_upload(["--retry", str(report)])
    out, err = capsys.readouterr()
    assert code == cli_upload.EXIT_ALREADY_RETRIED == 3, out + err
    assert "add --force to send again" in err
    assert f"accepted as {ids['a.csv']} by the retry of " in err
    assert f"accepted as {ids['b.csv']} by the retry of " in err
    assert env.state.stats.by_route[POSTS] == 2
    assert _received(env) == ["a.csv", "b.csv"]  # nothing sent twice
    assert run_upload(["--retry", str(report), "--json"]) == 3
    document = json.loads(capsys.readouterr().out)
    assert (document["exit_code"], document["results"]) == (3, [])
    assert sorted(done["id"] for done in document["already_retried"]) == sorted(ids.values())
    assert env.state.stats.by_route[POSTS] == 2

    # --force sends them again, on purpose, and the report records that retry too.
    assert run_upload(["--retry", str(report), "--force"]) == 0
    assert env.state.stats.by_route[POSTS] == 3
    assert _received(env) == ["a.csv", "a.csv", "b.csv", "b.csv"]
    assert all(len(line["retries"]) == 2 for line in _report_lines(report))  # type: ignore[arg-type]


def test_a_retry_that_was_refused_can_be_retried_again(
        env: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _files(tmp_path / "in", "a.csv", "b.csv")
    report = tmp_path / "report.jsonl"
    _refused_upload(env, folder, report)

    env.faults.update(REFUSE_EVERY_POST)  # the retry is refused too
    assert run_upload(["--retry", str(report)]) == 2
    env.faults.clear()
    retries = [line["retries"] for line in _report_lines(report)]
    assert [[r["outcome"] for r in entries] for entries in retries] == [  # type: ignore[attr-defined]
        ["failed"], ["failed"]]
    assert all("HTTP 400" in entries[0]["reasons"][0] for entries in retries)  # type: ignore[index]
    assert _received(env) == []

    capsys.readouterr()
    assert run_upload(["--retry", str(report)]) == 0  # no --force needed
    assert _received(env) == ["a.csv", "b.csv"]
    assert "--force" not in capsys.readouterr().err


def test_only_the_files_already_accepted_are_left_out(
        env: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _files(tmp_path / "in", "a.csv")
    (folder / "later.csv").write_bytes(b"")
    report = tmp_path / "report.jsonl"
    _refused_upload(env, _files(tmp_path / "other", "b.csv", "c.csv"), report)
    # b.csv is fixed and accepted by a first retry; c.csv is then emptied: invalid.
    (tmp_path / "other" / "c.csv").write_bytes(b"")
    assert run_upload(["--retry", str(report)]) == 1
    (tmp_path / "other" / "c.csv").write_bytes(b"x,y\n")
    capsys.readouterr()
    # The second retry sends c.csv (its retry was "invalid") and leaves b.csv out: exit 0.
    assert run_upload(["--retry", str(report), "--json"]) == 0
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert [r["file_name"] for r in document["results"]] == ["c.csv"]
    [left_out] = document["already_retried"]
    assert left_out["path"].endswith("b.csv") and left_out["outcome"] == "accepted"
    assert "--force" in err
    assert _received(env) == ["b.csv", "c.csv"]


def test_a_retry_that_never_finished_is_not_sent_again_without_force(
        env: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import time

    from tui.core.upload.retry import plan_retry

    folder = _files(tmp_path / "in", "a.csv", "b.csv")
    report = tmp_path / "report.jsonl"
    _refused_upload(env, folder, report)
    # A retry marks its files before sending; one that died then leaves "sending".
    dead = plan_retry(report)
    dead.mark_sending([path for path, _ in dead.files], time.time())
    capsys.readouterr()
    assert run_upload(["--retry", str(report)]) == 3
    err = capsys.readouterr().err
    assert "did not finish: it may have been created" in err and "--force" in err
    assert env.state.stats.by_route[POSTS] == 1


def test_the_retried_report_cannot_be_the_new_report(
        env: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _files(tmp_path / "in", "a.csv", "b.csv")
    report = tmp_path / "report.jsonl"
    _refused_upload(env, folder, report)
    before = report.read_text()
    assert run_upload(["--retry", str(report), "--report", str(report)]) == 2
    assert "--report must be another file" in capsys.readouterr().err
    assert report.read_text() == before and env.state.stats.by_route[POSTS] == 1
    assert run_upload([str(folder), "--force"]) == 2
    assert "--force goes with --retry" in capsys.readouterr().err


# ------------------------------------------------------------ the audit log
def _audit() -> list[AuditLog.entries]:  # type: ignore[valid-type]
    with AuditLog(AppPaths.default().audit_db("default")) as audit:
        return list(reversed(audit.entries()))


OWNER = "dana.whitfield@northwind.example"  # whose key the sandbox says it is


def test_a_batch_refused_as_a_whole_is_audited(
        env: SandboxServer, tmp_path: Path) -> None:
    folder = _files(tmp_path / "in", "a.csv", "b.csv")
    env.faults.update(REFUSE_EVERY_POST)
    assert run_upload([str(folder), "--ref", "T-9"]) == 2
    [entry] = _audit()
    assert entry.action == "upload" and entry.ids == ()
    assert entry.outcome == "refused as a whole (HTTP 400): accepted 0 of 2"
    assert entry.detail is not None
    assert entry.detail.startswith("ref T-9; ") and "Files: a.csv, b.csv" in entry.detail
    assert "Injected fault" in entry.detail
    assert entry.user == OWNER  # the refusal's envelope said whose key it is


def test_an_upload_with_files_left_out_counts_them_in_the_audit(
        env: SandboxServer, tmp_path: Path) -> None:
    folder = _files(tmp_path / "in", *(f"ok{n}.csv" for n in range(9)))
    for n in range(5):
        (folder / f"empty{n}.csv").write_bytes(b"")
    assert run_upload([str(folder)]) == 1
    [entry] = _audit()
    assert entry.outcome == "accepted 9 of 14 (5 left out before sending)"
    assert len(entry.ids) == 9


def test_several_batches_each_name_their_batch_and_the_upload(
        env: SandboxServer, tmp_path: Path) -> None:
    folder = _files(tmp_path / "in", "a.csv", "b.csv", "c.csv")
    (folder / "empty.csv").write_bytes(b"")
    assert run_upload([str(folder), "--batch-records", "2"]) == 1
    assert [entry.outcome for entry in _audit()] == [
        "batch 1 of 2: accepted 2 of 2 (upload of 4 files, 1 left out before sending)",
        "batch 2 of 2: accepted 1 of 1 (upload of 4 files, 1 left out before sending)"]


def test_the_cli_names_the_same_user_as_the_app(env: SandboxServer, tmp_path: Path) -> None:
    # The app names the key owner's e-mail from the server's answers; so does the CLI
    # (it used to name the OS user, "root").
    assert run_upload([str(_files(tmp_path / "in", "a.csv"))]) == 0
    assert [entry.user for entry in _audit()] == [OWNER]
