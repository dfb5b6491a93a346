"""POST /v1/conversions: per-record validation, 200/207/400/413, and the body cap."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import assert_envelope
from tui.sandbox.records import MAX_BODY_BYTES, MAX_CONTENT_BYTES
from tui.sandbox.runner import SandboxServer


def record(name: str = "invoices_2026-11.csv", kind: str = "Csv",
           data: bytes = b"date,amount\n2026-11-01,12.50\n", **extra: Any) -> dict[str, Any]:
    return {"fileName": name, "dataSourceType": kind,
            "content": base64.b64encode(data).decode(), **extra}


def test_all_valid_is_200_with_new_uploaded_conversions(api: httpx.Client,
                                                        sandbox: SandboxServer) -> None:
    body = assert_envelope(api.post("/v1/conversions", json=[
        record(), record("payroll Q3.xlsx", "excel", b"PK\x03\x04", externalReference="T-1")]),
        200)
    payload = body["payload"]
    assert (payload["accepted"], payload["rejected"]) == (2, 0)
    assert [r["index"] for r in payload["results"]] == [0, 1]
    second = payload["results"][1]["conversion"]
    assert second["dataSourceType"] == "Excel"  # canonical spelling
    assert second["status"] == "Uploaded"
    assert sandbox.state.get(second["id"]) is not None
    status = api.get(f"/v1/conversions/{second['id']}/status").json()
    assert status["metadata"]["externalReference"] == "T-1"


def test_some_invalid_is_207_with_reasons_in_order(api: httpx.Client) -> None:
    body = assert_envelope(api.post("/v1/conversions", json=[
        record(), record(name="../etc/passwd"), record(kind="Word")]), 207)
    results = body["payload"]["results"]
    assert [r["accepted"] for r in results] == [True, False, False]
    assert results[1]["conversion"] is None and results[1]["errors"]
    assert "Word" in results[2]["errors"][0]
    assert body["errors"] == ["2 of 3 records rejected"]


BAD_RECORDS = [
    pytest.param({"dataSourceType": "Csv", "content": "YQ=="}, id="no-name"),
    pytest.param(record(name=""), id="empty-name"),
    pytest.param(record(name="x" * 256), id="long-name"),
    pytest.param(record(name="a\\b.csv"), id="backslash"),
    pytest.param(record(name="bad\x07.csv"), id="control-char"),
    pytest.param(record(kind="csv ") | {"dataSourceType": 5}, id="type-not-string"),
    pytest.param(record() | {"content": ""}, id="empty-content"),
    pytest.param(record() | {"content": "YWJj"[:3]}, id="no-padding"),
    pytest.param(record() | {"content": "YW Jj"}, id="space"),
    pytest.param(record() | {"content": "YWJj\n"}, id="line-break"),
    pytest.param(record() | {"content": "YW-j"}, id="urlsafe"),
    pytest.param(record(externalReference="r" * 201), id="long-reference"),
    pytest.param("not an object", id="not-object"),
]


@pytest.mark.parametrize("bad", BAD_RECORDS)
def test_each_rule_rejects_a_record(api: httpx.Client, bad: Any) -> None:
    body = assert_envelope(api.post("/v1/conversions", json=[record(), bad]), 207)
    assert body["payload"]["results"][1]["accepted"] is False
    assert body["payload"]["results"][1]["errors"]


def test_none_valid_is_400_with_results(api: httpx.Client) -> None:
    body = assert_envelope(api.post("/v1/conversions", json=[record(kind="Word")]), 400)
    assert body["payload"]["results"][0]["errors"]
    assert body["errors"] == ["1 of 1 records rejected"]


@pytest.mark.parametrize("content", [b"{not json", b'{"a": 1}', b"[]", b"", b"\xff\xfe"])
def test_unusable_body_is_400_with_null_payload(api: httpx.Client, content: bytes) -> None:
    answer = api.post("/v1/conversions", content=content,
                      headers={"content-type": "application/json"})
    body = assert_envelope(answer, 400)
    assert body["payload"] is None
    assert body["errors"]


def test_more_than_100_records_is_413_and_nothing_made(api: httpx.Client,
                                                      sandbox: SandboxServer) -> None:
    body = assert_envelope(api.post("/v1/conversions", json=[record()] * 101), 413)
    assert body["payload"] is None
    assert sandbox.state.ids() == []
    assert_envelope(api.post("/v1/conversions", json=[record()] * 100), 200)


def test_body_over_25_mib_is_413(api: httpx.Client, sandbox: SandboxServer) -> None:
    big = json.dumps([record()]).encode() + b" " * (MAX_BODY_BYTES + 10)
    assert_envelope(api.post("/v1/conversions", content=big), 413)

    def chunks() -> Any:  # no content-length: the cap must hold while streaming
        yield json.dumps([record()]).encode()
        for _ in range(26):
            yield b" " * (1024 * 1024)

    assert_envelope(api.post("/v1/conversions", content=chunks()), 413)
    assert sandbox.state.ids() == []


def test_record_over_10_mib_is_rejected_alone(api: httpx.Client) -> None:
    huge = record(data=b"a" * (MAX_CONTENT_BYTES + 1))
    body = assert_envelope(api.post("/v1/conversions", json=[record(), huge]), 207)
    assert "10 MiB" in body["payload"]["results"][1]["errors"][0]


def test_unknown_field_and_odd_extension_warn(api: httpx.Client) -> None:
    body = assert_envelope(api.post("/v1/conversions", json=[
        record(name="scan.png", colour="blue")]), 200)
    warnings = body["payload"]["results"][0]["warnings"]
    assert any("colour" in w for w in warnings)
    assert any("extension" in w for w in warnings)
    assert body["hasWarnings"] is True


def test_content_that_is_not_utf8_fails_later(api: httpx.Client, sandbox: SandboxServer) -> None:
    body = assert_envelope(api.post("/v1/conversions", json=[record(data=b"caf\xe9")]), 200)
    new_id = body["payload"]["results"][0]["conversion"]["id"]
    sandbox.state.advance(200)
    status = assert_envelope(api.get(f"/v1/conversions/{new_id}/status"), 200)
    assert status["payload"]["status"] == "Failed"
    assert "UTF-8" in status["errors"][0]
