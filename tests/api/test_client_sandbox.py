"""The client against the real sandbox over loopback: every call, every error it can produce."""

from __future__ import annotations

import base64
import socket
import traceback
from collections.abc import AsyncIterator

import httpx
import pytest

from tui.api import (
    ApiError,
    AuthenticationError,
    BadResponseError,
    BatchEnvelope,
    ConflictError,
    ConversionRecord,
    ConversionsClient,
    ConversionStatus,
    GoneError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    ServerError,
    StatusEnvelope,
    TransportError,
)
from tui.sandbox.runner import SandboxServer

WRONG_KEY = "canary-WRONG-91c2e7"


@pytest.fixture
async def client(sandbox: SandboxServer) -> AsyncIterator[ConversionsClient]:
    """A client with the sandbox's key, closed after the test."""
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=5.0) as made:
        yield made


def record(name: str = "a.csv", text: str = "id,name\n1,Ada\n", kind: str = "Csv",
           reference: str | None = None) -> ConversionRecord:
    return ConversionRecord(file_name=name, data_source_type=kind,
                            content=base64.b64encode(text.encode()).decode(),
                            external_reference=reference)


def assert_key_hidden(error: BaseException, key: str) -> None:
    assert key not in str(error) and key not in repr(error)
    formatted = "".join(
        traceback.TracebackException.from_exception(error, capture_locals=True).format())
    assert key not in formatted


# -- status ----------------------------------------------------------------------------------

async def test_get_status(sandbox: SandboxServer, client: ConversionsClient) -> None:
    conversion_id = sandbox.state.add_conversion(
        status="Processing", file_name="orders.csv", warnings=["slow"],
        extra_payload={"progress": 40}, frozen=True)
    envelope = await client.get_status(conversion_id)
    assert isinstance(envelope, StatusEnvelope)
    assert envelope.http_status == 200
    payload = envelope.payload
    assert isinstance(payload, ConversionStatus)
    assert (payload.id, payload.status, payload.file_name) == (
        conversion_id, "Processing", "orders.csv")
    assert payload.data_source_type == "Csv" and payload.upload_date is not None
    assert payload.model_extra == {"progress": 40}
    assert envelope.profile is not None and envelope.profile.display_name
    assert envelope.raw["payload"]["id"] == conversion_id


async def test_unknown_status_word_from_the_server_is_kept(
        sandbox: SandboxServer, client: ConversionsClient) -> None:
    conversion_id = sandbox.state.add_conversion(status="Quarantined", frozen=True)
    envelope = await client.get_status(conversion_id)
    assert envelope.payload is not None and envelope.payload.status == "Quarantined"


async def test_many_calls_share_one_connection(sandbox: SandboxServer,
                                               client: ConversionsClient) -> None:
    conversion_id = sandbox.state.add_conversion(frozen=True)
    for _ in range(20):
        await client.get_status(conversion_id)
    pool = client._http._transport._pool  # type: ignore[attr-defined]
    assert len(pool.connections) == 1


async def test_wrong_key_is_an_authentication_error(sandbox: SandboxServer) -> None:
    async with ConversionsClient(sandbox.base_url, WRONG_KEY) as wrong:
        for call in (wrong.get_status(1), wrong.delete(1), wrong.post_batch([record()])):
            with pytest.raises(AuthenticationError) as caught:
                await call
            assert caught.value.status_code == 401
            assert caught.value.errors  # the envelope's reason
            assert caught.value.envelope is not None and caught.value.envelope.profile is None
            assert_key_hidden(caught.value, WRONG_KEY)


@pytest.mark.parametrize("bad_id", [0, -3, 2**63, 10**30])
async def test_bad_id_is_an_invalid_request(client: ConversionsClient, bad_id: int) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await client.get_status(bad_id)
    assert caught.value.status_code == 400
    assert caught.value.errors and "not a valid conversion id" in caught.value.errors[0]
    with pytest.raises(InvalidRequestError):
        await client.delete(bad_id)


async def test_unknown_id_is_not_found(client: ConversionsClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.get_status(999_999)
    assert caught.value.status_code == 404
    assert caught.value.envelope is not None and caught.value.envelope.profile is not None
    assert caught.value.errors == ["Conversion 999999 not found"]
    assert "999999" in str(caught.value)


# -- delete ----------------------------------------------------------------------------------

async def test_delete_while_processing_is_a_conflict(sandbox: SandboxServer,
                                                     client: ConversionsClient) -> None:
    conversion_id = sandbox.state.add_conversion(status="Processing", frozen=True)
    with pytest.raises(ConflictError) as caught:
        await client.delete(conversion_id)
    assert caught.value.status_code == 409
    assert caught.value.current_status == "Processing"
    assert caught.value.errors


async def test_delete_of_a_deleted_one_is_gone(sandbox: SandboxServer,
                                               client: ConversionsClient) -> None:
    conversion_id = sandbox.state.add_conversion(status="Deleted")
    with pytest.raises(GoneError) as caught:
        await client.delete(conversion_id)
    assert caught.value.status_code == 410
    assert caught.value.envelope is not None


async def test_delete_of_an_unknown_one_is_not_found(client: ConversionsClient) -> None:
    with pytest.raises(NotFoundError):
        await client.delete(777_777)


async def test_two_phase_delete(sandbox: SandboxServer, client: ConversionsClient) -> None:
    conversion_id = sandbox.state.add_conversion(status="Completed")
    answer = await client.delete(conversion_id)
    assert answer.http_status == 202
    assert answer.payload is not None and answer.payload.status == "DeletionPending"

    again = await client.delete(conversion_id)  # repeating is harmless
    assert again.http_status == 202 and again.warnings

    status = await client.get_status(conversion_id)
    assert status.payload is not None and status.payload.status == "DeletionPending"

    sandbox.state.advance(30)
    status = await client.get_status(conversion_id)
    assert status.payload is not None and status.payload.status == "Deleted"

    sandbox.state.advance(400)  # past the retention of Deleted conversions
    with pytest.raises(NotFoundError):
        await client.get_status(conversion_id)


# -- batch -----------------------------------------------------------------------------------

async def test_batch_all_accepted(sandbox: SandboxServer, client: ConversionsClient) -> None:
    answer = await client.post_batch([record("a.csv", reference="T-1"), record("b.csv")])
    assert isinstance(answer, BatchEnvelope)
    assert answer.http_status == 200 and not answer.has_errors
    result = answer.payload
    assert result is not None and (result.accepted, result.rejected) == (2, 0)
    ids = [r.conversion.id for r in result.results if r.conversion is not None]
    assert len(ids) == 2
    for conversion_id in ids:
        status = await client.get_status(conversion_id)
        assert status.payload is not None and status.payload.status == "Uploaded"


async def test_batch_partly_accepted_is_207(client: ConversionsClient) -> None:
    bad = ConversionRecord(file_name="", data_source_type="Csv", content="not base64!")
    answer = await client.post_batch([record(), bad, record("c.json", '{"a": 1}', "json")])
    assert answer.http_status == 207 and answer.has_errors
    result = answer.payload
    assert result is not None and (result.accepted, result.rejected) == (2, 1)
    assert [r.index for r in result.results] == [0, 1, 2]
    assert [r.accepted for r in result.results] == [True, False, True]
    assert result.results[1].conversion is None and result.results[1].errors
    assert result.results[2].conversion is not None
    assert result.results[2].conversion.data_source_type == "Json"


async def test_batch_all_rejected_returns_the_results(client: ConversionsClient) -> None:
    bad = ConversionRecord(file_name="a/b.csv", data_source_type="Nope", content="")
    answer = await client.post_batch([bad, bad])
    assert answer.http_status == 400
    assert answer.payload is not None and answer.payload.accepted == 0
    assert all(not r.accepted and r.errors for r in answer.payload.results)


@pytest.mark.parametrize("body", [b"not json", b"{}", b"[]"])
async def test_batch_body_unusable_is_an_invalid_request(client: ConversionsClient,
                                                         body: bytes) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await client.post_batch(body)
    assert type(caught.value) is InvalidRequestError
    assert caught.value.status_code == 400 and caught.value.errors
    assert caught.value.envelope is not None and caught.value.envelope.payload is None


async def test_batch_of_101_records_is_too_large(sandbox: SandboxServer,
                                                 client: ConversionsClient) -> None:
    before = len(sandbox.state.ids())
    with pytest.raises(PayloadTooLargeError) as caught:
        await client.post_batch([record(f"{i}.csv") for i in range(101)])
    assert caught.value.status_code == 413 and caught.value.errors
    assert isinstance(caught.value, InvalidRequestError)
    assert len(sandbox.state.ids()) == before  # nothing processed


# -- faults ----------------------------------------------------------------------------------

async def test_rate_limited_with_retry_after(sandbox: SandboxServer,
                                             client: ConversionsClient) -> None:
    sandbox.faults.update({"storm": True, "retry_after": 4})
    with pytest.raises(RateLimitedError) as caught:
        await client.get_status(1)
    assert caught.value.status_code == 429 and caught.value.retry_after == 4.0


async def test_server_error_envelope(sandbox: SandboxServer, client: ConversionsClient) -> None:
    conversion_id = sandbox.state.add_conversion(frozen=True)
    sandbox.faults.update({"error_rate": 1.0, "error_status": 500})
    with pytest.raises(ServerError) as caught:
        await client.get_status(conversion_id)
    assert caught.value.status_code == 500
    assert caught.value.envelope is not None and caught.value.errors


async def test_proxy_html_502(sandbox: SandboxServer, client: ConversionsClient) -> None:
    sandbox.faults.update({"html_error": 1.0})
    with pytest.raises(ServerError) as caught:
        await client.delete(5)
    error = caught.value
    assert error.status_code == 502 and error.envelope is None
    assert "502 Bad Gateway" in error.body_excerpt and "\r" not in error.body_excerpt
    assert (error.content_type or "").startswith("text/html")


async def test_truncated_json(sandbox: SandboxServer, client: ConversionsClient) -> None:
    conversion_id = sandbox.state.add_conversion(frozen=True)
    sandbox.faults.update({"truncated_json": 1.0})
    with pytest.raises(BadResponseError) as caught:
        await client.get_status(conversion_id)
    assert caught.value.status_code == 200 and caught.value.body_excerpt.startswith("{")


async def test_malformed_json(sandbox: SandboxServer, client: ConversionsClient) -> None:
    conversion_id = sandbox.state.add_conversion(frozen=True)
    sandbox.faults.update({"malformed_json": 1.0})
    with pytest.raises(BadResponseError) as caught:
        await client.get_status(conversion_id)
    assert caught.value.status_code == 200 and caught.value.body_excerpt


async def test_dropped_connection_is_a_transport_error(sandbox: SandboxServer,
                                                       client: ConversionsClient) -> None:
    conversion_id = sandbox.state.add_conversion(frozen=True)
    sandbox.faults.update({"drop_connection": 1.0})
    with pytest.raises(TransportError) as caught:
        await client.get_status(conversion_id)
    assert caught.value.reason in ("reset", "protocol")
    assert_key_hidden(caught.value, sandbox.api_key)
    # the client recovers once the fault is gone (a new connection, no retry needed)
    sandbox.faults.clear()
    envelope = await client.get_status(conversion_id)
    assert envelope.payload is not None


async def test_a_dropped_post_is_sent_once(sandbox: SandboxServer,
                                           client: ConversionsClient) -> None:
    sandbox.faults.update({"drop_connection": 1.0})
    sandbox.state.reset_stats()
    with pytest.raises(TransportError):
        await client.post_batch([record()])
    assert sandbox.state.request_count == 1


async def test_refused_connection(sandbox: SandboxServer) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with ConversionsClient(f"http://127.0.0.1:{port}", sandbox.api_key) as dead:
        with pytest.raises(TransportError) as caught:
            await dead.get_status(1)
    assert caught.value.reason == "refused"
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert_key_hidden(caught.value, sandbox.api_key)


async def test_timeout(sandbox: SandboxServer) -> None:
    sandbox.faults.update({"latency": 1.0})
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=0.2) as impatient:
        with pytest.raises(TransportError) as caught:
            await impatient.get_status(1)
    assert caught.value.reason == "timeout"


async def test_httpx_own_exceptions_do_not_show_the_key(sandbox: SandboxServer) -> None:
    """What the client wraps: httpx's messages and request reprs carry no header values."""
    sandbox.faults.update({"drop_connection": 1.0})
    secret = sandbox.api_key
    async with httpx.AsyncClient(headers={"X-API-KEY": secret}) as bare:
        with pytest.raises(httpx.TransportError) as caught:
            await bare.get(f"{sandbox.base_url}/v1/conversions/1/status")
    assert secret not in str(caught.value) and secret not in repr(caught.value)
    assert secret not in repr(caught.value.request)


async def test_every_error_class_keeps_the_key_out(sandbox: SandboxServer) -> None:
    # No local variable holds the key: the traceback check below prints every local.
    processing = sandbox.state.add_conversion(status="Processing", frozen=True)
    deleted = sandbox.state.add_conversion(status="Deleted", frozen=True)
    seen: list[ApiError] = []
    async with ConversionsClient(sandbox.base_url, sandbox.api_key) as good:
        calls = [
            lambda: good.get_status(0), lambda: good.get_status(424242),
            lambda: good.delete(processing), lambda: good.delete(deleted),
            lambda: good.post_batch(b"[]"),
            lambda: good.post_batch([record(str(i)) for i in range(101)]),
        ]
        for call in calls:
            with pytest.raises(ApiError) as caught:
                await call()
            seen.append(caught.value)
        for fault in ({"storm": True}, {"error_rate": 1.0}, {"html_error": 1.0},
                      {"truncated_json": 1.0}, {"drop_connection": 1.0}):
            sandbox.faults.clear()
            sandbox.faults.update(fault)
            with pytest.raises(ApiError) as caught:
                await good.get_status(processing)
            seen.append(caught.value)
        assert sandbox.api_key not in repr(good)
    kinds = {type(error).__name__ for error in seen}
    assert kinds >= {"InvalidRequestError", "NotFoundError", "ConflictError", "GoneError",
                     "PayloadTooLargeError", "RateLimitedError", "ServerError",
                     "BadResponseError", "TransportError"}
    for error in seen:
        assert_key_hidden(error, sandbox.api_key)
