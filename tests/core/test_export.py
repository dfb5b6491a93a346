"""Export to CSV and JSON: round trips, no silent overwrite, atomic writes, CSV injection."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tui.core.export import (
    COLUMNS,
    ExportFolderMissing,
    ExportTargetExists,
    UnknownExportFormat,
    export_rows,
    spreadsheet_safe,
)
from tui.core.signatures import Signature, Signatures
from tui.core.watchlist import WatchedConversion

NOW = 1_700_000_600.0


def watched(conversion_id: int, **fields: Any) -> WatchedConversion:
    """A watched row with quiet defaults; ``fields`` override any of them."""
    values: dict[str, Any] = {
        "id": conversion_id, "file_name": None, "data_source_type": None, "status": None,
        "upload_date": None, "warnings": (), "errors": (), "metadata": {},
        "first_seen": 1_700_000_000.0, "last_checked": None, "last_changed": None,
        "note": None, "last_problem": None, "problem_count": 0, "delete_requested_at": None,
        "deleted_at": None, "not_found": False, "raw": None,
    }
    values.update(fields)
    return WatchedConversion(**values)


def sample_rows() -> list[WatchedConversion]:
    return [
        watched(4512, file_name="orders.csv", data_source_type="Csv", status="Failed",
                entered_seen=True,
                upload_date="2023-11-14T22:13:20Z", last_checked=NOW - 5,
                last_changed=NOW - 300, warnings=("empty line 3", "ünïcode ✓"),
                errors=("bad header",), note="ticket 77"),
        watched(4513, file_name="Zürich.xlsx", status="Processing", first_seen=NOW - 42),
    ]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_round_trip(tmp_path: Path) -> None:
    target = tmp_path / "view.csv"
    result = export_rows(sample_rows(), target, now=NOW)
    assert result.count == 2 and result.fmt == "csv" and result.path == target
    assert result.description() == f"Exported 2 rows to {target}"
    with target.open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle)) == list(COLUMNS)
    first, second = read_csv(target)
    assert first == {
        "id": "4512", "file_name": "orders.csv", "data_source_type": "Csv",
        "status": "Failed", "purged": "False", "last_known_status": "Failed",
        "upload_date": "2023-11-14T22:13:20Z",
        "first_seen": "2023-11-14T22:13:20Z", "last_checked": "2023-11-14T22:23:15Z",
        "last_changed": "2023-11-14T22:18:20Z", "time_in_status_s": "300",
        "time_in_status_is_minimum": "False", "time_in_status_from": "seen",
        "warning_count": "2", "warnings": "empty line 3\nünïcode ✓",
        "error_count": "1", "errors": "bad header", "note": "ticket 77",
        "acknowledged_at": "", "snoozed_until": "", "acknowledged_by": "",
    }
    assert second["file_name"] == "Zürich.xlsx"
    assert second["time_in_status_s"] == "42"  # no change seen: since first seen
    assert second["time_in_status_is_minimum"] == "True"
    assert second["time_in_status_from"] == "first_check"  # no upload time to go by
    assert second["last_checked"] == "" and second["warning_count"] == "0"


def test_json_round_trip_keeps_lists_and_exact_text(tmp_path: Path) -> None:
    rows = sample_rows()
    rows[1].warnings = ("=HYPERLINK(\"http://x\")", "tab\there")
    target = tmp_path / "marks.JSON"
    export_rows(rows, target, now=NOW, history_by_id={4513: [("Processing", NOW - 7)]})
    data = json.loads(target.read_text(encoding="utf-8"))
    assert [item["id"] for item in data] == [4512, 4513]
    assert data[0]["warnings"] == ["empty line 3", "ünïcode ✓"]
    assert data[0]["errors"] == ["bad header"] and data[0]["error_count"] == 1
    assert data[1]["warnings"] == ["=HYPERLINK(\"http://x\")", "tab\there"]
    assert data[1]["time_in_status_s"] == 7  # from the recorded history
    assert data[1]["note"] is None and data[1]["last_checked"] is None
    assert set(data[0]) == set(COLUMNS)


def test_acknowledged_and_snoozed_are_exported_while_they_hold(tmp_path: Path) -> None:
    taken, new_since, snoozed, over = (
        watched(1, status="Failed", last_changed=NOW - 60, acknowledged_at=NOW - 30),
        watched(2, status="Failed", last_changed=NOW - 10, acknowledged_at=NOW - 30),
        watched(3, status="Failed", snoozed_until=NOW + 3600),
        watched(4, status="Failed", snoozed_until=NOW - 1))
    target = tmp_path / "marks.json"
    export_rows([taken, new_since, snoozed, over], target, now=NOW)
    data = {item["id"]: item for item in json.loads(target.read_text(encoding="utf-8"))}
    assert data[1]["acknowledged_at"] == "2023-11-14T22:22:50Z"
    assert data[2]["acknowledged_at"] is None  # it failed again after the ack
    assert data[3]["snoozed_until"] == "2023-11-14T23:23:20Z"
    assert data[4]["snoozed_until"] is None and data[3]["acknowledged_at"] is None


def test_who_acknowledged_is_the_last_column_while_the_acknowledgement_holds(
        tmp_path: Path) -> None:
    # The columns of before keep their names and places; the new one comes last.
    assert COLUMNS[:20] == (
        "id", "file_name", "data_source_type", "status", "purged", "last_known_status",
        "upload_date", "first_seen", "last_checked", "last_changed", "time_in_status_s",
        "time_in_status_is_minimum", "time_in_status_from", "warning_count", "warnings",
        "error_count", "errors", "note", "acknowledged_at", "snoozed_until")
    assert COLUMNS[20:] == ("acknowledged_by",)
    taken, new_since, unsigned = (
        watched(1, status="Failed", last_changed=NOW - 60, acknowledged_at=NOW - 30),
        watched(2, status="Failed", last_changed=NOW - 10, acknowledged_at=NOW - 30),
        watched(3, status="Failed", last_changed=NOW - 60, acknowledged_at=NOW - 30))
    signed = {i: Signatures(acknowledged=Signature("=dana", NOW - 30)) for i in (1, 2)}
    target = tmp_path / "marks.csv"
    export_rows([taken, new_since, unsigned], target, now=NOW, signatures=signed)
    rows = {int(r["id"]): r for r in read_csv(target)}
    assert rows[1]["acknowledged_by"] == "'=dana"  # a formula start is made inert
    assert rows[1]["acknowledged_at"] == "2023-11-14T22:22:50Z"
    assert rows[2]["acknowledged_by"] == ""  # it failed again after the ack
    assert rows[3]["acknowledged_by"] == "" and rows[3]["acknowledged_at"]  # who: unknown
    as_json = tmp_path / "marks.json"
    export_rows([taken], as_json, now=NOW, signatures=signed)
    [record] = json.loads(as_json.read_text(encoding="utf-8"))
    assert list(record)[-1] == "acknowledged_by" and record["acknowledged_by"] == "=dana"


def test_explicit_format_wins_over_extension(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    result = export_rows(sample_rows(), target, fmt="json", now=NOW)
    assert result.fmt == "json"
    assert json.loads(target.read_text())[0]["id"] == 4512
    with pytest.raises(UnknownExportFormat, match=r"\.csv or \.json"):
        export_rows(sample_rows(), tmp_path / "out.xlsx", now=NOW)


def test_never_overwrites_without_asking(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "view.csv"
    target.write_text("precious", encoding="utf-8")
    with pytest.raises(ExportTargetExists) as info:
        export_rows(sample_rows(), target, now=NOW)
    assert isinstance(info.value, FileExistsError)
    assert info.value.path == target and str(target) in str(info.value)
    assert target.read_text(encoding="utf-8") == "precious"
    export_rows(sample_rows(), target, overwrite=True, now=NOW)
    assert [row["id"] for row in read_csv(target)] == ["4512", "4513"]
    assert os.listdir(folder) == ["view.csv"]  # no temporary left behind


def test_tilde_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    result = export_rows(sample_rows(), "~/exported.json", now=NOW)
    assert result.path == tmp_path / "exported.json"
    assert result.path.is_file()


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "view.csv"
    with pytest.raises(ExportFolderMissing) as info:
        export_rows(sample_rows(), target, now=NOW)
    assert str(target.parent) in str(info.value)
    assert not (tmp_path / "no").exists()


def test_folder_as_target_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "looks.csv"
    folder.mkdir()
    with pytest.raises(IsADirectoryError):
        export_rows(sample_rows(), folder, now=NOW)


def test_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        export_rows(sample_rows(), folder / "view.csv", now=NOW)
    assert os.listdir(folder) == []


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_injection_is_defused(tmp_path: Path, start: str) -> None:
    hostile = f"{start}cmd|' /C calc'!A0"
    row = watched(1, file_name=hostile, status=hostile, warnings=(hostile, "fine"),
                  note=hostile)
    target = tmp_path / "x.csv"
    export_rows([row], target, now=NOW)
    (record,) = read_csv(target)
    for column in ("file_name", "status", "note"):
        assert record[column].startswith("'"), column
        assert record[column] == spreadsheet_safe(hostile)
    assert record["warnings"].split("\n") == [spreadsheet_safe(hostile), "fine"]
    for line in record["warnings"].split("\n"):
        assert not line.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_spreadsheet_safe_text() -> None:
    assert spreadsheet_safe("=1+1") == "'=1+1"
    assert spreadsheet_safe("plain - text") == "plain - text"
    assert spreadsheet_safe("\tx") == "'␉x"
    assert spreadsheet_safe("ok\x1b[31m") == "ok␛[31m"


def test_csv_has_no_raw_control_characters(tmp_path: Path) -> None:
    row = watched(1, file_name="a\x1b]0;pwned\x07b", errors=("x\x00y",))
    target = tmp_path / "x.csv"
    export_rows([row], target, now=NOW)
    raw = target.read_bytes()
    assert b"\x1b" not in raw and b"\x07" not in raw and b"\x00" not in raw
    (record,) = read_csv(target)
    assert record["file_name"] == "a␛]0;pwned␇b"


def test_file_created_meanwhile_is_not_clobbered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "view.csv"
    real_link = os.link

    def racing_link(source: str, destination: str) -> None:
        # Someone else saves the same name between our check and our rename.
        Path(destination).write_text("theirs", encoding="utf-8")
        real_link(source, destination)

    monkeypatch.setattr(os, "link", racing_link)
    with pytest.raises(ExportTargetExists):
        export_rows(sample_rows(), target, now=NOW)
    assert target.read_text(encoding="utf-8") == "theirs"
    assert os.listdir(folder) == ["view.csv"]
