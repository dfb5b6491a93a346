"""The control plane: loopback only, and what tests use it for."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.conftest import assert_envelope
from tui.sandbox.control import is_loopback
from tui.sandbox.runner import SandboxServer
from tui.sandbox.server import create_app
from tui.sandbox.state import FIRST_ID, SandboxState


@pytest.mark.parametrize(("host", "expected"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("10.0.0.1", False), ("192.168.1.20", False), ("::ffff:10.0.0.1", False),
    ("2001:db8::1", False), ("localhost", False), ("testclient", False), ("", False),
    (None, False),
])
def test_is_loopback(host: str | None, expected: bool) -> None:
    assert is_loopback(host) is expected


async def test_remote_clients_are_refused_403() -> None:
    app = create_app(SandboxState(), api_key="k")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        for method, path in [("GET", "/_control/faults"), ("POST", "/_control/reset"),
                             ("POST", "/_control/clock/advance")]:
            answer = await client.request(method, path, json={"seconds": 1})
            body = assert_envelope(answer, 403)
            assert body["profile"] is None
        # The API itself serves remote clients (only the control plane is loopback-only).
        assert (await client.get("/v1/conversions/1/status",
                                 headers={"X-API-KEY": "k"})).status_code == 404


def test_create_conversion_with_hostile_strings(control: httpx.Client,
                                                api: httpx.Client) -> None:
    hostile = "[bold red]x[/]\x1b[2J\u202eevil\x00.csv"
    body = assert_envelope(control.post("/conversions", json={
        "status": "Failed", "fileName": hostile, "dataSourceType": "Spreadsheet\n",
        "errors": ["Row 3: column 'amount' is not a number", "[link=x]y[/link]"],
        "warnings": ["\x07bell"], "metadata": {"rows": "many"},
        "extraPayload": {"owner": "ops", "status2": 5}, "frozen": True,
    }), 201)
    new_id = body["payload"]["id"]
    assert new_id == FIRST_ID
    status = assert_envelope(api.get(f"/v1/conversions/{new_id}/status"), 200)
    assert status["payload"]["fileName"] == hostile
    assert status["payload"]["dataSourceType"] == "Spreadsheet\n"
    assert status["payload"]["owner"] == "ops"
    assert status["errors"][1] == "[link=x]y[/link]"
    assert status["warnings"] == ["\x07bell"]
    assert status["metadata"] == {"rows": "many"}


def test_create_refuses_unknown_fields(control: httpx.Client) -> None:
    assert_envelope(control.post("/conversions", json={"colour": "red"}), 400)
    assert_envelope(control.post("/conversions", json={"plan": {"nope": 1}}), 400)
    assert_envelope(control.post("/conversions", content=b"[1]"), 400)


def test_clock_advance_and_status_changes(control: httpx.Client, api: httpx.Client,
                                          sandbox: SandboxServer) -> None:
    new_id = sandbox.state.add_conversion()
    body = assert_envelope(control.post("/clock/advance", json={"seconds": 30}), 200)
    assert body["payload"]["offset"] == 30
    assert api.get(f"/v1/conversions/{new_id}/status").json()["payload"]["status"] == \
        "Completed"
    assert_envelope(control.post("/clock/advance", json={"seconds": -5}), 400)
    assert_envelope(control.post(f"/conversions/{new_id}/status",
                                 json={"status": "Processing", "frozen": True}), 200)
    control.post("/clock/advance", json={"seconds": 3600})
    snapshot = sandbox.state.get(new_id)
    assert snapshot is not None and snapshot.status == "Processing"
    assert_envelope(control.post(f"/conversions/{new_id}/unfreeze"), 200)
    assert_envelope(control.post("/conversions/1/freeze"), 404)


def test_reset_with_a_seed_count(control: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.state.advance(100)
    body = assert_envelope(control.post("/reset", json={"seed_count": 12}), 200)
    assert body["payload"] == {"conversions": 12, "seeded": 12}
    listing = control.get("/conversions").json()["payload"]
    assert listing["ids"] == list(range(FIRST_ID, FIRST_ID + 12))
    assert sum(listing["byStatus"].values()) == 12
    assert sandbox.state.clock.offset == 0
    control.post("/reset", json={"seed_count": 0})


def test_profile_can_be_replaced_or_removed(control: httpx.Client, api: httpx.Client) -> None:
    assert_envelope(control.put("/profile", json={"firstName": "Zoë", "id": "not-a-number"}),
                    200)
    assert api.get("/v1/conversions/1/status").json()["profile"]["firstName"] == "Zoë"
    assert_envelope(control.put("/profile", content=b"null"), 200)
    assert api.get("/v1/conversions/1/status").json()["profile"] is None


def test_stats_count_api_requests_only(control: httpx.Client, api: httpx.Client) -> None:
    api.get("/v1/conversions/5/status")
    api.delete("/v1/conversions/5")
    control.get("/faults")
    stats = control.get("/stats").json()["payload"]
    assert stats["requests"] == 2
    assert stats["byRoute"] == {"GET /v1/conversions/5/status": 1,
                                "DELETE /v1/conversions/5": 1}
    assert control.delete("/stats").json()["payload"]["requests"] == 0


def test_unknown_control_route_is_a_404_envelope(control: httpx.Client) -> None:
    body = assert_envelope(control.get("/nothing-here"), 404)
    assert body["profile"] is None


def test_api_key_rotation_takes_effect_on_the_next_request(
        control: httpx.Client, api: httpx.Client, sandbox: SandboxServer) -> None:
    new_id = sandbox.state.add_conversion(status="Queued", frozen=True)
    assert_envelope(api.get(f"/v1/conversions/{new_id}/status"), 200)
    new_key = "rotated-Key_0001"
    answer = control.put("/api-key", json={"key": new_key})
    body = assert_envelope(answer, 200)
    assert body["payload"] == {"rotated": True, "keyLength": len(new_key)}
    assert new_key not in answer.text  # never echoed
    # The old key (on a kept-alive connection, as a polling client has) is refused now.
    refused = assert_envelope(api.get(f"/v1/conversions/{new_id}/status"), 401)
    assert refused["errors"] == ["Invalid API key"] and refused["profile"] is None
    fresh = api.get(f"/v1/conversions/{new_id}/status", headers={"X-API-KEY": new_key})
    assert assert_envelope(fresh, 200)["payload"]["status"] == "Queued"
    assert sandbox.api_key == new_key and sandbox.is_running  # no restart was needed


@pytest.mark.parametrize(("body", "message"), [
    ({}, '{"key"'), ({"key": ""}, '{"key"'), ({"key": 42}, '{"key"'),
    ({"key": "has space"}, "visible ASCII"), ({"key": "new\nline"}, "visible ASCII"),
    ({"key": "clé"}, "visible ASCII"), ({"key": "k" * 513}, "longer than 512"),
])
def test_api_key_rotation_refuses_unusable_keys(control: httpx.Client, api: httpx.Client,
                                               body: dict[str, object], message: str) -> None:
    answer = assert_envelope(control.put("/api-key", json=body), 400)
    assert message in answer["errors"][0]
    # Nothing changed: the old key still works.
    assert api.get("/v1/conversions/1/status").status_code == 404


async def test_api_key_rotation_is_loopback_only() -> None:
    state = SandboxState()
    app = create_app(state, api_key="k")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        answer = await client.put("/_control/api-key", json={"key": "taken-over"})
        assert_envelope(answer, 403)
    assert state.api_key == "k"
