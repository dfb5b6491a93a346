"""Retry history in an upload report: what a second retry takes, and what it leaves out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.core.upload.outcome import FileOutcome, FileResult, UploadOutcome
from tui.core.upload.plan import RejectedFile, UploadItem
from tui.core.upload.retry import SENDING, plan_retry


def _report(tmp_path: Path, *outcomes: str) -> Path:
    report = tmp_path / "report.jsonl"
    lines = [{"path": str(tmp_path / f"f{n}.csv"), "file_name": f"f{n}.csv",
              "data_source_type": "Csv", "outcome": outcome, "id": None, "reasons": ["why"]}
             for n, outcome in enumerate(outcomes)]
    report.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return report


def _item(tmp_path: Path, n: int) -> UploadItem:
    return UploadItem(tmp_path / f"f{n}.csv", f"f{n}.csv", "Csv", 4)


def _lines(report: Path) -> list[dict[str, object]]:
    return [json.loads(text) for text in report.read_text().splitlines()]


def test_a_fresh_report_gives_its_retryable_lines_only(tmp_path: Path) -> None:
    report = _report(tmp_path, "rejected", "unknown", "failed", "not_sent", "invalid",
                     "accepted")
    plan = plan_retry(report)
    assert [path.name for path, _ in plan.files] == ["f0.csv", "f2.csv", "f3.csv", "f4.csv"]
    assert all(kind == "Csv" for _, kind in plan.files)
    assert plan.already == []


def test_results_are_recorded_and_settle_what_was_accepted(tmp_path: Path) -> None:
    report = _report(tmp_path, "rejected", "failed", "failed", "failed")
    plan = plan_retry(report)
    plan.mark_sending([path for path, _ in plan.files], at=1_800_000_000.0)
    assert all(line["retries"][0]["outcome"] == SENDING  # type: ignore[index]
               for line in _lines(report))
    outcome = UploadOutcome(results=[
        FileResult(_item(tmp_path, 0), FileOutcome.ACCEPTED, conversion_id=48256),
        FileResult(_item(tmp_path, 1), FileOutcome.REJECTED, reasons=("bad header",)),
        FileResult(_item(tmp_path, 2), FileOutcome.UNKNOWN, reasons=("dropped",)),
    ], invalid=[RejectedFile(tmp_path / "f3.csv", "it is empty")])
    assert plan.record(outcome, 1_800_000_009.0, tmp_path / "next.jsonl") == 4
    entries = [line["retries"] for line in _lines(report)]
    assert [len(e) for e in entries] == [1, 1, 1, 1]  # "sending" replaced, not added to
    first = entries[0][0]  # type: ignore[index]
    assert first == {"at": "2027-01-15T08:00:00Z", "run": plan.run, "outcome": "accepted",
                     "id": 48256, "reasons": [], "finished": "2027-01-15T08:00:09Z",
                     "report": str(tmp_path / "next.jsonl")}
    assert entries[1][0]["reasons"] == ["bad header"]  # type: ignore[index]
    assert entries[3][0]["outcome"] == "invalid"  # type: ignore[index]

    again = plan_retry(report)
    assert [path.name for path, _ in again.files] == ["f1.csv", "f3.csv"]  # rejected, invalid
    assert [(done.path.name, done.outcome, done.conversion_id) for done in again.already] == [
        ("f0.csv", "accepted", 48256), ("f2.csv", "unknown", None)]
    assert again.already[0].describe() == (
        "accepted as 48256 by the retry of 2027-01-15T08:00:00Z")
    assert "may have been created" in again.already[1].describe()
    forced = plan_retry(report, force=True)
    assert [path.name for path, _ in forced.files] == ["f0.csv", "f1.csv", "f2.csv", "f3.csv"]


def test_two_retries_of_one_report_keep_each_others_entries(tmp_path: Path) -> None:
    report = _report(tmp_path, "failed", "failed")
    one, other = plan_retry(report), plan_retry(report)
    one.mark_sending([tmp_path / "f0.csv"], at=1.0)
    other.mark_sending([tmp_path / "f1.csv"], at=2.0)
    one.record(UploadOutcome(results=[
        FileResult(_item(tmp_path, 0), FileOutcome.ACCEPTED, conversion_id=7)]), 3.0, None)
    lines = _lines(report)
    assert [r["outcome"] for r in lines[0]["retries"]] == ["accepted"]  # type: ignore[index]
    assert [r["outcome"] for r in lines[1]["retries"]] == [SENDING]  # type: ignore[index]
    # The unfinished one is not sent again without force.
    assert [done.outcome for done in plan_retry(report).already] == ["accepted", SENDING]


def test_a_line_that_is_not_a_report_line_is_named(tmp_path: Path) -> None:
    report = _report(tmp_path, "failed")
    report.write_text(report.read_text() + "{\"no\": \"path\"}\n")
    with pytest.raises(ValueError, match="line 2 is not an upload report line"):
        plan_retry(report)
