"""The wire models: the seed's example exactly, and tolerance of what a real server may send."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tui.api import (
    BatchEnvelope,
    BatchResult,
    ConversionRecord,
    ConversionStatus,
    Envelope,
    Profile,
    StatusEnvelope,
)

SEED = Path(__file__).parent / "data" / "seed-status-envelope.json"


def seed_bytes() -> bytes:
    return SEED.read_bytes()


def seed_dict() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(seed_bytes())
    return data


def wire(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


# -- the seed example ------------------------------------------------------------------------

def test_seed_example_parses_field_by_field() -> None:
    data = seed_dict()
    envelope = StatusEnvelope.from_wire(seed_bytes(), http_status=200)

    profile = envelope.profile
    assert profile is not None
    source = data["profile"]
    assert profile.id == source["id"]
    assert profile.aad_id == source["aadId"]
    assert profile.email == source["email"]
    assert profile.first_name == source["firstName"]
    assert profile.last_name == source["lastName"]
    assert profile.company == source["company"]
    assert profile.created == datetime(2019, 8, 24, 14, 15, 22, tzinfo=UTC)
    assert profile.should_process_qr_codes is source["shouldProcessQrCodes"]

    payload = envelope.payload
    assert isinstance(payload, ConversionStatus)
    assert payload.id == data["payload"]["id"]
    assert payload.file_name == data["payload"]["fileName"]
    assert payload.data_source_type == data["payload"]["dataSourceType"]
    assert payload.status == data["payload"]["status"]
    assert payload.upload_date == datetime(2019, 8, 24, 14, 15, 22, tzinfo=UTC)

    assert envelope.errors == data["errors"]
    assert envelope.has_errors is data["hasErrors"]
    assert envelope.warnings == data["warnings"]
    assert envelope.has_warnings is data["hasWarnings"]
    assert envelope.metadata == data["metadata"]
    assert envelope.http_status == 200


def test_seed_example_round_trips_by_alias() -> None:
    envelope = StatusEnvelope.from_wire(seed_bytes())
    assert envelope.model_dump(mode="json", by_alias=True) == seed_dict()
    # serialize_by_alias: the default dump is already the wire shape
    assert json.loads(envelope.model_dump_json()) == seed_dict()
    again = StatusEnvelope.from_wire(envelope.model_dump_json().encode())
    assert again.model_dump(mode="json") == seed_dict()


def test_raw_keeps_the_body_as_received_and_is_not_dumped() -> None:
    data = seed_dict()
    data["payload"]["uploadDate"] = "not a date"
    envelope = StatusEnvelope.from_wire(wire(data), http_status=202)
    assert envelope.raw == data
    assert json.loads(envelope.raw_text) == data
    assert envelope.http_status == 202
    dumped = envelope.model_dump(mode="json")
    assert "raw" not in dumped and "_raw_json" not in dumped and "httpStatus" not in dumped


def test_models_built_by_hand_use_snake_case_names_and_dump_camel_case() -> None:
    status = ConversionStatus(id=7, status="Queued", file_name="a.csv", data_source_type="Csv")
    envelope = StatusEnvelope(payload=status, has_errors=False)
    assert envelope.http_status == 200
    dumped = envelope.model_dump(mode="json")
    assert dumped["payload"]["fileName"] == "a.csv"
    assert dumped["hasErrors"] is False
    assert envelope.raw == dumped


def test_profile_display_name() -> None:
    assert Profile(first_name="Ada", last_name="Lovelace").display_name == "Ada Lovelace"
    assert Profile(first_name="Ada").display_name == "Ada"
    assert Profile(email="a@example.com").display_name == "a@example.com"
    assert Profile().display_name == ""


# -- tolerance -------------------------------------------------------------------------------

def test_unknown_status_word_is_kept_as_it_came() -> None:
    data = seed_dict()
    data["payload"]["status"] = "ReticulatingSplines \u202e"
    envelope = StatusEnvelope.from_wire(wire(data))
    assert envelope.payload is not None
    assert envelope.payload.status == "ReticulatingSplines \u202e"


def test_numeric_status_becomes_text() -> None:
    data = seed_dict()
    data["payload"]["status"] = 3
    envelope = StatusEnvelope.from_wire(wire(data))
    assert envelope.payload is not None and envelope.payload.status == "3"


def test_extra_fields_are_kept_at_every_level() -> None:
    data = seed_dict()
    data["traceId"] = "abc"
    data["profile"]["tenant"] = {"region": "eu"}
    data["payload"]["progress"] = 0.5
    envelope = StatusEnvelope.from_wire(wire(data))
    assert envelope.model_extra == {"traceId": "abc"}
    assert envelope.profile is not None and envelope.profile.model_extra == {
        "tenant": {"region": "eu"}}
    assert envelope.payload is not None and envelope.payload.model_extra == {"progress": 0.5}
    assert envelope.model_dump(mode="json") == data


def test_extra_fields_in_batch_results_are_kept() -> None:
    body = {
        "payload": {
            "accepted": 1, "rejected": 0, "batchId": "b-1",
            "results": [{
                "index": 0, "accepted": True, "errors": [], "warnings": [], "score": 9,
                "conversion": {"id": 5, "status": "Uploaded", "checksum": "ff"},
            }],
        },
    }
    envelope = BatchEnvelope.from_wire(wire(body))
    assert envelope.payload is not None
    assert envelope.payload.model_extra == {"batchId": "b-1"}
    result = envelope.payload.results[0]
    assert result.model_extra == {"score": 9}
    assert result.conversion is not None and result.conversion.model_extra == {"checksum": "ff"}


def test_missing_optional_fields_are_none() -> None:
    envelope = StatusEnvelope.from_wire(b'{"payload": {"id": 12, "status": "Queued"}}')
    payload = envelope.payload
    assert payload is not None
    assert (payload.id, payload.status) == (12, "Queued")
    assert payload.file_name is None and payload.data_source_type is None
    assert payload.upload_date is None


def test_missing_envelope_keys_get_defaults() -> None:
    envelope = StatusEnvelope.from_wire(b"{}")
    assert envelope.profile is None and envelope.payload is None
    assert envelope.errors == [] and envelope.warnings == []
    assert envelope.has_errors is False and envelope.has_warnings is False
    assert envelope.metadata == {}


def test_profile_with_missing_fields() -> None:
    envelope = Envelope.from_wire(b'{"profile": {"email": "x@example.com"}}')
    assert envelope.profile is not None
    assert envelope.profile.email == "x@example.com"
    assert envelope.profile.id is None and envelope.profile.created is None


def test_null_payload_on_an_error_answer() -> None:
    data = seed_dict()
    data["payload"] = None
    data["errors"] = ["Conversion 9 was not found."]
    envelope = StatusEnvelope.from_wire(wire(data), http_status=404)
    assert envelope.payload is None
    assert envelope.errors == ["Conversion 9 was not found."]
    assert envelope.http_status == 404


def test_numbers_in_errors_and_warnings_become_text() -> None:
    data = seed_dict()
    data["errors"] = [404, 1.5, "text"]
    data["warnings"] = [7]
    envelope = StatusEnvelope.from_wire(wire(data))
    assert envelope.errors == ["404", "1.5", "text"]
    assert envelope.warnings == ["7"]


def test_other_odd_items_in_errors_become_json_text() -> None:
    data = seed_dict()
    data["errors"] = [None, True, {"code": 5}, ["a"]]
    data["warnings"] = "just one warning"
    envelope = StatusEnvelope.from_wire(wire(data))
    assert envelope.errors == ["null", "true", '{"code":5}', '["a"]']
    assert envelope.warnings == ["just one warning"]
    assert envelope.raw["errors"] == data["errors"]


def test_errors_null_or_scalar() -> None:
    envelope = Envelope.from_wire(b'{"errors": null, "warnings": 42}')
    assert envelope.errors == []
    assert envelope.warnings == ["42"]


def test_optional_fields_of_the_wrong_type_are_dropped_not_fatal() -> None:
    data = seed_dict()
    data["profile"]["id"] = "not a number"
    data["profile"]["created"] = "last Tuesday"
    data["payload"]["uploadDate"] = {"when": "now"}
    data["payload"]["fileName"] = ["a", "b"]
    data["metadata"] = ["not", "an", "object"]
    data["hasErrors"] = "sometimes"
    envelope = StatusEnvelope.from_wire(wire(data))
    assert envelope.profile is not None
    assert envelope.profile.id is None and envelope.profile.created is None
    assert envelope.profile.email == "string"
    assert envelope.payload is not None
    assert envelope.payload.upload_date is None and envelope.payload.file_name is None
    assert envelope.payload.status == "string"
    assert envelope.metadata == {}
    assert envelope.has_errors is True  # derived from the non-empty errors list
    assert envelope.raw == data  # nothing is lost for "show raw"


def test_profile_that_is_not_an_object_becomes_none() -> None:
    envelope = Envelope.from_wire(b'{"profile": "someone", "errors": ["x"]}')
    assert envelope.profile is None
    assert envelope.errors == ["x"]


@pytest.mark.parametrize(
    "payload",
    [
        {"status": "Queued"},              # no id
        {"id": 4},                         # no status
        {"id": "four", "status": "X"},     # id not a number
        {"id": 4, "status": None},         # status null
    ],
)
def test_payload_without_usable_id_or_status_is_rejected(payload: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        StatusEnvelope.from_wire(wire({"payload": payload}))
    # the untyped envelope still reads it (used for error answers)
    assert Envelope.from_wire(wire({"payload": payload})).payload == payload


def test_payload_that_is_not_an_object_becomes_none() -> None:
    envelope = StatusEnvelope.from_wire(b'{"payload": "oops", "errors": ["e"]}')
    assert envelope.payload is None
    assert envelope.raw["payload"] == "oops"


@pytest.mark.parametrize(
    "body",
    [b"<html>502</html>", b'{"payload": {"id": 1', b"[1, 2]", b'"text"', b"", b"\xff\xfe{"],
)
def test_bodies_that_are_not_a_json_object_raise_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        StatusEnvelope.from_wire(body)


def test_deeply_nested_body_raises_value_error_not_recursion_error() -> None:
    body = b'{"metadata": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    with pytest.raises(ValueError):
        StatusEnvelope.from_wire(body)


# How fast these parse is measured by benchmarks/bench_ui_responsiveness.py, not here.
def test_hostile_sizes_parse_whole() -> None:
    data = seed_dict()
    data["payload"]["fileName"] = "n" * 1_000_000
    data["warnings"] = [f"warning {i}" for i in range(100_000)]
    data["errors"] = list(range(100_000))
    envelope = StatusEnvelope.from_wire(wire(data))
    assert envelope.payload is not None and len(envelope.payload.file_name or "") == 1_000_000
    assert len(envelope.warnings) == 100_000 and envelope.errors[-1] == "99999"


def test_hostile_odd_items_still_parse() -> None:
    data = seed_dict()
    data["warnings"] = [None] * 100_000
    envelope = StatusEnvelope.from_wire(wire(data))
    assert envelope.warnings[0] == "null" and len(envelope.warnings) == 100_000


# -- batches ---------------------------------------------------------------------------------

BATCH = {
    "profile": None,
    "payload": {
        "accepted": 1,
        "rejected": 1,
        "results": [
            {"index": 0, "accepted": True, "errors": [], "warnings": ["header row guessed"],
             "conversion": {"id": 48300, "fileName": "a.csv", "dataSourceType": "Csv",
                            "status": "Uploaded", "uploadDate": "2025-01-02T03:04:05Z"}},
            {"index": 1, "accepted": False, "conversion": None,
             "errors": ["fileName is empty", 17], "warnings": []},
        ],
    },
    "errors": ["1 of 2 records rejected"],
    "hasErrors": True,
    "warnings": [],
    "hasWarnings": False,
    "metadata": {},
}


def test_batch_result_parses() -> None:
    envelope = BatchEnvelope.from_wire(wire(BATCH), http_status=207)
    result = envelope.payload
    assert isinstance(result, BatchResult)
    assert (result.accepted, result.rejected) == (1, 1)
    first, second = result.results
    assert first.index == 0 and first.accepted is True
    assert first.conversion is not None and first.conversion.id == 48300
    assert first.conversion.upload_date == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert first.warnings == ["header row guessed"]
    assert second.accepted is False and second.conversion is None
    assert second.errors == ["fileName is empty", "17"]
    assert envelope.http_status == 207
    assert envelope.raw == BATCH


def test_batch_result_items_with_odd_errors_are_coerced() -> None:
    body = json.loads(json.dumps(BATCH))
    body["payload"]["results"][1]["errors"] = [None, {"field": "content"}]
    body["payload"]["accepted"] = "one"
    envelope = BatchEnvelope.from_wire(wire(body))
    assert envelope.payload is not None
    assert envelope.payload.accepted is None
    assert envelope.payload.results[1].errors == ["null", '{"field":"content"}']


def test_batch_without_results_is_rejected() -> None:
    with pytest.raises(ValueError):
        BatchEnvelope.from_wire(b'{"payload": {"results": "none"}}')


def test_conversion_record_dumps_by_alias() -> None:
    record = ConversionRecord(file_name="a.csv", data_source_type="Csv", content="YQ==",
                              external_reference="T-1")
    assert record.model_dump() == {"fileName": "a.csv", "dataSourceType": "Csv",
                                   "content": "YQ==", "externalReference": "T-1"}
    by_alias = ConversionRecord.model_validate(
        {"fileName": "b.csv", "dataSourceType": "Json", "content": ""})
    assert by_alias.file_name == "b.csv" and by_alias.external_reference is None
