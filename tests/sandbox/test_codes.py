"""Every answer is the envelope with the right code, errors and framework errors included."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.conftest import assert_envelope
from tui.sandbox.runner import SandboxServer

STATUS = "/v1/conversions/{}/status"


def test_status_of_a_conversion(api: httpx.Client, sandbox: SandboxServer) -> None:
    new_id = sandbox.state.add_conversion(file_name="invoices_2026-11.csv")
    body = assert_envelope(api.get(STATUS.format(new_id)), 200)
    payload = body["payload"]
    assert payload["id"] == new_id
    assert payload["fileName"] == "invoices_2026-11.csv"
    assert payload["dataSourceType"] == "Csv"
    assert payload["status"] == "Uploaded"
    assert payload["uploadDate"].endswith("Z")
    assert body["profile"]["email"] == "dana.whitfield@northwind.example"


@pytest.mark.parametrize("headers", [{}, {"X-API-KEY": "wrong"}, {"X-API-KEY": ""}])
@pytest.mark.parametrize(("method", "path"), [
    ("GET", STATUS.format(48210)), ("GET", STATUS.format("abc")),
    ("DELETE", "/v1/conversions/48210"), ("POST", "/v1/conversions"),
    ("GET", "/v1/nowhere"),
])
def test_key_is_checked_first(sandbox: SandboxServer, headers: dict[str, str], method: str,
                              path: str) -> None:
    answer = httpx.request(method, sandbox.base_url + path, headers=headers, content=b"[]")
    body = assert_envelope(answer, 401)
    assert body["profile"] is None
    assert body["errors"]


@pytest.mark.parametrize("bad", ["abc", "0", "-1", str(2**63), "1.5", "１２"])
def test_bad_ids_are_400_on_status_and_delete(api: httpx.Client, bad: str) -> None:
    for answer in (api.get(STATUS.format(bad)), api.delete(f"/v1/conversions/{bad}")):
        body = assert_envelope(answer, 400)
        assert body["profile"] is not None
        assert body["payload"] is None


def test_largest_id_is_valid_and_unknown(api: httpx.Client) -> None:
    body = assert_envelope(api.get(STATUS.format(2**63 - 1)), 404)
    assert body["profile"]["company"] == "Northwind Traders"  # profile on a 404 too


def test_unknown_route_is_404_envelope(api: httpx.Client) -> None:
    body = assert_envelope(api.get("/v1/conversions/5/history"), 404)
    assert body["profile"] is not None


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("PUT", "/v1/conversions/5/status", "GET"),
    ("GET", "/v1/conversions/5", "DELETE"),
    ("GET", "/v1/conversions", "POST"),
])
def test_wrong_method_is_405_envelope(api: httpx.Client, method: str, path: str,
                                      allow: str) -> None:
    answer = api.request(method, path)
    assert_envelope(answer, 405)
    assert allow in answer.headers["allow"]


def test_delete_codes(api: httpx.Client, sandbox: SandboxServer) -> None:
    state = sandbox.state
    completed = state.add_conversion(status="Completed")
    processing = state.add_conversion(status="Processing", frozen=True)
    deleted = state.add_conversion(status="Deleted")

    first = assert_envelope(api.delete(f"/v1/conversions/{completed}"), 202)
    assert first["payload"]["status"] == "DeletionPending"
    again = assert_envelope(api.delete(f"/v1/conversions/{completed}"), 202)
    assert again["payload"]["status"] == "DeletionPending"

    conflict = assert_envelope(api.delete(f"/v1/conversions/{processing}"), 409)
    assert conflict["payload"]["status"] == "Processing"
    assert conflict["hasErrors"] is True

    gone = assert_envelope(api.delete(f"/v1/conversions/{deleted}"), 410)
    assert gone["profile"] is not None
    assert_envelope(api.delete("/v1/conversions/999999"), 404)


def test_an_exception_in_a_route_is_a_500_envelope(api: httpx.Client,
                                                   sandbox: SandboxServer) -> None:
    # A payload value JSON cannot encode makes the route itself fail.
    broken = sandbox.state.add_conversion(extra_payload={"oops": object()})
    body = assert_envelope(api.get(STATUS.format(broken)), 500)
    assert body["errors"]
    assert_envelope(api.get(STATUS.format(sandbox.state.add_conversion())), 200)


def test_errors_and_warnings_flags_follow_the_lists(api: httpx.Client,
                                                    sandbox: SandboxServer) -> None:
    warned = sandbox.state.add_conversion(status="Completed", warnings=["Row 14: odd date"])
    failed = sandbox.state.add_conversion(status="Failed", errors=["Row 3: not a number"])
    warned_body = assert_envelope(api.get(STATUS.format(warned)), 200)
    assert warned_body["warnings"] == ["Row 14: odd date"] and not warned_body["hasErrors"]
    failed_body = assert_envelope(api.get(STATUS.format(failed)), 200)
    assert failed_body["errors"] == ["Row 3: not a number"] and not failed_body["hasWarnings"]
