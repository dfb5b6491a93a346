"""Batch bodies built from disk: valid JSON, exact sizes, budgets kept, changed files named."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tui.core.upload.body import build_body, group_batches, record_size
from tui.core.upload.plan import MAX_FILE_BYTES, UploadItem, plan_upload


def _items(tmp_path: Path, sizes: list[int], suffix: str = ".csv") -> list[UploadItem]:
    for number, size in enumerate(sizes):
        (tmp_path / f"f{number:03d}{suffix}").write_bytes(bytes([65 + number % 26]) * size)
    return plan_upload([str(tmp_path / f"*{suffix}")]).items


@pytest.mark.parametrize("reference", [None, "T-4412", 'quote " and \\ and é'])
def test_the_body_is_the_records_as_json_with_exact_size(tmp_path: Path,
                                                         reference: str | None) -> None:
    items = _items(tmp_path, [1, 2, 3, 1000])
    built = build_body(items, reference)
    records = json.loads(built.body)
    assert [r["fileName"] for r in records] == [i.file_name for i in items]
    assert all(r["dataSourceType"] == "Csv" for r in records)
    assert [base64.b64decode(r["content"]) for r in records] == [
        i.path.read_bytes() for i in items]
    assert all(r.get("externalReference") == reference for r in records)
    assert "externalReference" in records[0] or reference is None
    assert len(built.body) == 2 + (len(items) - 1) + sum(record_size(i, reference)
                                                         for i in items)
    assert built.file_bytes == 1006
    assert built.unreadable == []


def test_batches_keep_the_record_limit(tmp_path: Path) -> None:
    items = _items(tmp_path, [5] * 7)
    batches = group_batches(items, max_records=3, max_bytes=10**9)
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [i for b in batches for i in b] == items


def test_batches_keep_the_byte_budget_exactly(tmp_path: Path) -> None:
    items = _items(tmp_path, [300] * 10)
    one = record_size(items[0], "ref")
    budget = 2 + 3 * one + 2  # room for three records and their two commas, not four
    batches = group_batches(items, max_records=100, max_bytes=budget, reference="ref")
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    for batch in batches:
        assert len(build_body(batch, "ref").body) <= budget
    tighter = group_batches(items, max_records=100, max_bytes=budget - 1, reference="ref")
    assert [len(b) for b in tighter] == [2, 2, 2, 2, 2]


def test_a_record_larger_than_the_budget_goes_alone(tmp_path: Path) -> None:
    items = _items(tmp_path, [10, 5000, 10])
    batches = group_batches(items, max_records=100, max_bytes=1000)
    assert [[i.size for i in b] for b in batches] == [[10], [5000], [10]]
    with pytest.raises(ValueError):
        group_batches(items, max_records=0, max_bytes=1000)


def test_files_changed_since_planning_are_left_out_with_the_reason(tmp_path: Path) -> None:
    items = _items(tmp_path, [4, 4, 4, 4])
    items[0].path.unlink()
    items[1].path.write_bytes(b"")
    with open(items[2].path, "r+b") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    built = build_body(items)
    assert built.items == [items[3]]
    assert json.loads(built.body)[0]["fileName"] == items[3].file_name
    reasons = {item.file_name: why for item, why in built.unreadable}
    assert reasons == {
        items[0].file_name: "it could not be read when sending (No such file or directory)",
        items[1].file_name: "it is empty now (checked when sending)",
        items[2].file_name: "it has grown beyond 10 MiB (checked when sending)",
    }


def test_nothing_readable_gives_an_empty_array(tmp_path: Path) -> None:
    items = _items(tmp_path, [4])
    items[0].path.unlink()
    built = build_body(items)
    assert built.body == b"[]"
    assert built.items == []
