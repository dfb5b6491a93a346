"""UploadOutcome: the views the UI needs, the JSON Lines report, and feeding rejects back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.core.upload.outcome import FileOutcome, FileResult, UploadOutcome, paths_from_report
from tui.core.upload.plan import RejectedFile, UploadItem, plan_upload


def _outcome(tmp_path: Path) -> UploadOutcome:
    for name in ("a.csv", "b.json", "c.csv", "d.csv", "e.csv"):
        (tmp_path / name).write_text("x")
    items = plan_upload([tmp_path]).items
    return UploadOutcome(
        results=[
            FileResult(items[0], FileOutcome.ACCEPTED, conversion_id=48210, batch=1, index=0,
                       warnings=("fileName extension does not look like Csv",)),
            FileResult(items[1], FileOutcome.REJECTED, reasons=("content is empty", "bad"),
                       batch=1, index=1),
            FileResult(items[2], FileOutcome.UNKNOWN, reasons=("connection broke",), batch=2,
                       index=0),
            FileResult(items[3], FileOutcome.FAILED, reasons=("HTTP 400",), batch=3, index=0),
            FileResult(items[4], FileOutcome.NOT_SENT),
        ],
        invalid=[RejectedFile(tmp_path / "empty.csv", "it is empty")],
        reference="T-1",
    )


def test_views_split_the_results_by_outcome(tmp_path: Path) -> None:
    outcome = _outcome(tmp_path)
    names = [r.item.file_name for r in outcome.results]
    assert [(i.file_name, n) for i, n in outcome.accepted] == [("a.csv", 48210)]
    assert [(i.file_name, r) for i, r in outcome.rejected] == [
        ("b.json", ["content is empty", "bad"])]
    assert [i.file_name for i in outcome.unknown] == ["c.csv"]
    assert [(i.file_name, r) for i, r in outcome.failed] == [("d.csv", "HTTP 400")]
    assert [i.file_name for i in outcome.not_sent] == ["e.csv"]
    assert outcome.counts() == {"accepted": 1, "rejected": 1, "unknown": 1, "failed": 1,
                                "not_sent": 1, "invalid": 1}
    assert not outcome.all_accepted
    assert names == ["a.csv", "b.json", "c.csv", "d.csv", "e.csv"]


def test_the_report_lists_every_file_not_accepted(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    outcome = _outcome(tmp_path / "in")
    report = tmp_path / "out" / "report.jsonl"
    assert outcome.save_report(report) == 5
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert [(line["file_name"], line["outcome"]) for line in lines] == [
        ("b.json", "rejected"), ("c.csv", "unknown"), ("d.csv", "failed"),
        ("e.csv", "not_sent"), ("empty.csv", "invalid")]
    rejected = lines[0]
    assert rejected["reasons"] == ["content is empty", "bad"]
    assert (rejected["batch"], rejected["index"]) == (1, 1)
    assert Path(rejected["path"]).is_absolute()
    assert not list(report.parent.glob(".upload-report-*"))  # no temporary file left


def test_a_report_feeds_a_retry_without_the_unknown_ones(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    outcome = _outcome(tmp_path / "in")
    report = tmp_path / "report.jsonl"
    outcome.save_report(report)
    again = paths_from_report(report)
    assert [(p.name, kind) for p, kind in again] == [
        ("b.json", "Json"), ("d.csv", "Csv"), ("e.csv", "Csv"), ("empty.csv", None)]
    report.write_text('{"path": "x"}\n')
    with pytest.raises(ValueError, match="line 1"):
        paths_from_report(report)


def test_retry_plan_checks_the_files_again_and_keeps_their_types(tmp_path: Path) -> None:
    outcome = _outcome(tmp_path)
    changed = outcome.results[1].item
    outcome.results[1] = FileResult(changed.with_type("Xml"), FileOutcome.REJECTED)
    (tmp_path / "d.csv").unlink()  # gone since: reported, not planned
    retry = outcome.retry_plan()
    assert [(i.file_name, i.data_source_type) for i in retry.items] == [
        ("b.json", "Xml"), ("e.csv", "Csv")]
    assert [r.path.name for r in retry.rejected] == ["d.csv"]
    with_unknown = outcome.retry_plan({FileOutcome.UNKNOWN})
    assert [i.file_name for i in with_unknown.items] == ["c.csv"]


def test_the_json_document_has_counts_and_every_file(tmp_path: Path) -> None:
    document = _outcome(tmp_path).as_json()
    json.dumps(document)  # serialisable as it is
    assert document["counts"]["accepted"] == 1
    assert [r["outcome"] for r in document["results"]] == [
        "accepted", "rejected", "unknown", "failed", "not_sent", "invalid"]
    assert document["results"][0]["id"] == 48210
    assert document["reference"] == "T-1"


def test_everything_accepted_is_all_accepted(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x")
    item: UploadItem = plan_upload([tmp_path]).items[0]
    outcome = UploadOutcome(results=[FileResult(item, FileOutcome.ACCEPTED, conversion_id=1)])
    assert outcome.all_accepted
    assert not UploadOutcome().all_accepted
