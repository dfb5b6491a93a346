"""Wire shapes the sandbox cannot produce, through httpx.MockTransport.

Everything the sandbox can answer is tested against it in test_client_sandbox.py.
"""

from __future__ import annotations

import email.utils
import json
import ssl
import traceback
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tui.api import (
    ApiError,
    AuthenticationError,
    BadResponseError,
    ConflictError,
    ConversionRecord,
    ConversionsClient,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    body_excerpt,
    parse_retry_after,
)

CANARY = "canary-KEY-7f3a9c1e5b"
BASE = "https://api.example.test"
SEED = json.loads((Path(__file__).parent / "data" / "seed-status-envelope.json").read_text())

Handler = Callable[[httpx.Request], httpx.Response]


def envelope(payload: Any = None, *, errors: list[Any] | None = None,
             warnings: list[Any] | None = None) -> dict[str, Any]:
    errors = errors or []
    warnings = warnings or []
    return {"profile": SEED["profile"], "payload": payload, "errors": errors,
            "hasErrors": bool(errors), "warnings": warnings, "hasWarnings": bool(warnings),
            "metadata": {}}


class Recorder:
    """A MockTransport handler that answers from a function and remembers the requests."""

    def __init__(self, answer: Handler) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)


MakeClient = Callable[..., tuple[ConversionsClient, Recorder]]


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    """Build clients over a MockTransport; all are closed after the test."""
    made: list[ConversionsClient] = []

    def make(answer: Handler, **kwargs: Any) -> tuple[ConversionsClient, Recorder]:
        recorder = Recorder(answer)
        client = ConversionsClient(BASE, CANARY, transport=httpx.MockTransport(recorder),
                                   **kwargs)
        made.append(client)
        return client, recorder

    yield make
    for client in made:
        await client.aclose()


def assert_no_key(error: BaseException) -> None:
    """The canary key is in no message, repr, or traceback printed with its local variables."""
    assert CANARY not in str(error)
    assert CANARY not in repr(error)
    formatted = "".join(
        traceback.TracebackException.from_exception(error, capture_locals=True).format())
    assert CANARY not in formatted
    if isinstance(error, ApiError):
        assert CANARY not in error.message and CANARY not in error.body_excerpt


# -- what is sent ----------------------------------------------------------------------------

async def test_requests_carry_the_key_header_and_a_timeout(make_client: MakeClient) -> None:
    client, recorder = make_client(
        lambda r: httpx.Response(200, json=envelope({"id": 5, "status": "Queued"})),
        timeout=3.5)
    status = await client.get_status(5)
    assert status.payload is not None and status.payload.status == "Queued"
    request = recorder.requests[0]
    assert request.method == "GET"
    assert str(request.url) == f"{BASE}/v1/conversions/5/status"
    assert request.headers["X-API-KEY"] == CANARY
    assert request.headers["User-Agent"].startswith("conversions-tui/")
    assert request.extensions["timeout"] == {"connect": 3.5, "read": 3.5, "write": 3.5,
                                             "pool": 3.5}


async def test_base_url_with_a_path_prefix_is_kept(make_client: MakeClient) -> None:
    recorder = Recorder(lambda r: httpx.Response(202, json=envelope(
        {"id": 9, "status": "DeletionPending"})))
    async with ConversionsClient(f"{BASE}/api/", CANARY,
                                 transport=httpx.MockTransport(recorder)) as client:
        answer = await client.delete(9)
    assert str(recorder.requests[0].url) == f"{BASE}/api/v1/conversions/9"
    assert recorder.requests[0].method == "DELETE"
    assert answer.http_status == 202


async def test_post_batch_sends_camel_case_json_without_nulls(make_client: MakeClient) -> None:
    body = envelope({"accepted": 1, "rejected": 0, "results": [
        {"index": 0, "accepted": True, "errors": [], "warnings": [],
         "conversion": {"id": 1, "status": "Uploaded"}}]})
    client, recorder = make_client(lambda r: httpx.Response(200, json=body))
    records = [ConversionRecord(file_name="a.csv", data_source_type="Csv", content="YQ==")]
    answer = await client.post_batch(records)
    sent = recorder.requests[0]
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.content) == [
        {"fileName": "a.csv", "dataSourceType": "Csv", "content": "YQ=="}]
    assert answer.payload is not None and answer.payload.accepted == 1


async def test_post_batch_sends_prepared_bytes_as_they_are(make_client: MakeClient) -> None:
    body = envelope({"results": []})
    client, recorder = make_client(lambda r: httpx.Response(200, json=body))
    await client.post_batch(b'[{"fileName":"x"}]')
    assert recorder.requests[0].content == b'[{"fileName":"x"}]'


@pytest.mark.parametrize("failure", [
    lambda r: httpx.Response(503, text="busy"),
    lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("timed out", request=r)),
    lambda r: (_ for _ in ()).throw(httpx.RemoteProtocolError(
        "Server disconnected without sending a response.", request=r)),
])
async def test_a_post_is_never_retried(make_client: MakeClient, failure: Handler) -> None:
    client, recorder = make_client(failure)
    records = [ConversionRecord(file_name="a.csv", data_source_type="Csv", content="YQ==")]
    with pytest.raises(ApiError):
        await client.post_batch(records)
    assert len(recorder.requests) == 1


async def test_arguments_are_checked_without_a_request(make_client: MakeClient) -> None:
    client, recorder = make_client(lambda r: httpx.Response(500))
    with pytest.raises(TypeError):
        await client.get_status("5")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await client.delete(True)
    assert recorder.requests == []
    with pytest.raises(ValueError, match="API key"):
        ConversionsClient(BASE, "bad key\n")
    with pytest.raises(ValueError, match="base URL"):
        ConversionsClient("ftp://example.test", CANARY)


# -- answers the sandbox cannot give ---------------------------------------------------------

async def test_html_502_from_a_proxy_is_a_server_error_with_an_excerpt(
        make_client: MakeClient) -> None:
    page = "<html>\r\n<title>502 Bad Gateway</title>\x1b[31m" + "x" * 500 + "</html>"
    client, _ = make_client(lambda r: httpx.Response(
        502, content=page.encode(), headers={"Content-Type": "text/html"}))
    with pytest.raises(ServerError) as caught:
        await client.get_status(1)
    error = caught.value
    assert error.status_code == 502 and error.envelope is None
    assert error.content_type == "text/html"
    assert error.body_excerpt.startswith("<html>\\x0d\\x0a<title>502 Bad Gateway</title>\\x1b")
    # the first 200 characters of the body, escaped (so a little longer), then a cut mark
    assert error.body_excerpt.endswith("x" * 150 + "…")
    assert len(error.body_excerpt) < 230
    assert "\x1b" not in error.body_excerpt and "\n" not in error.body_excerpt
    assert "502" in str(error)
    assert_no_key(error)


async def test_5xx_with_an_envelope_keeps_its_errors(make_client: MakeClient) -> None:
    client, _ = make_client(lambda r: httpx.Response(
        500, json=envelope(errors=["database on fire", 7], warnings=["w"])))
    with pytest.raises(ServerError) as caught:
        await client.get_status(1)
    assert caught.value.errors == ["database on fire", "7"]
    assert caught.value.warnings == ["w"]
    assert caught.value.envelope is not None and caught.value.body_excerpt == ""


async def test_truncated_200_body_is_a_bad_response(make_client: MakeClient) -> None:
    whole = json.dumps(envelope({"id": 5, "status": "Queued"})).encode()
    client, _ = make_client(lambda r: httpx.Response(
        200, content=whole[: len(whole) // 2], headers={"Content-Type": "application/json"}))
    with pytest.raises(BadResponseError) as caught:
        await client.get_status(5)
    error = caught.value
    assert error.status_code == 200
    assert error.body_excerpt and whole.decode().startswith(error.body_excerpt.rstrip("…"))
    assert error.content_type == "application/json"
    assert_no_key(error)


@pytest.mark.parametrize("body", [
    {"hello": "world"},                                  # an object, but not an envelope
    {"id": 5, "status": "Queued"},                       # a bare status without the envelope
    envelope(None),                                      # an envelope without a payload
    envelope({"status": "Queued"}),                      # a payload without an id
])
async def test_200_that_is_not_a_usable_envelope_is_a_bad_response(
        make_client: MakeClient, body: dict[str, Any]) -> None:
    client, _ = make_client(lambda r: httpx.Response(200, json=body))
    with pytest.raises(BadResponseError) as caught:
        await client.get_status(5)
    assert caught.value.status_code == 200
    assert_no_key(caught.value)


async def test_200_with_a_json_array_is_a_bad_response(make_client: MakeClient) -> None:
    client, _ = make_client(lambda r: httpx.Response(200, content=b"[1, 2, 3]"))
    with pytest.raises(BadResponseError) as caught:
        await client.get_status(5)
    assert caught.value.body_excerpt == "[1, 2, 3]"
    client2, _ = make_client(lambda r: httpx.Response(207, json=[]))
    with pytest.raises(BadResponseError):
        await client2.post_batch(b"[]")


async def test_redirect_is_a_bad_response_not_followed(make_client: MakeClient) -> None:
    client, recorder = make_client(lambda r: httpx.Response(
        302, headers={"Location": "https://login.example.test/"}))
    with pytest.raises(BadResponseError) as caught:
        await client.get_status(5)
    assert caught.value.status_code == 302
    assert len(recorder.requests) == 1


async def test_403_is_an_authentication_error(make_client: MakeClient) -> None:
    client, _ = make_client(lambda r: httpx.Response(
        403, json=envelope(errors=["This key may only read."])))
    with pytest.raises(AuthenticationError) as caught:
        await client.delete(5)
    assert caught.value.status_code == 403
    assert caught.value.errors == ["This key may only read."]
    assert_no_key(caught.value)


async def test_other_4xx_is_an_invalid_request_with_its_code(make_client: MakeClient) -> None:
    client, _ = make_client(lambda r: httpx.Response(405, text="Method Not Allowed"))
    with pytest.raises(InvalidRequestError) as caught:
        await client.delete(5)
    assert caught.value.status_code == 405
    assert caught.value.body_excerpt == "Method Not Allowed"


async def test_404_from_a_proxy_has_no_envelope(make_client: MakeClient) -> None:
    client, _ = make_client(lambda r: httpx.Response(404, text="<h1>Not Found</h1>"))
    with pytest.raises(NotFoundError) as caught:
        await client.get_status(5)
    assert caught.value.envelope is None
    assert caught.value.body_excerpt == "<h1>Not Found</h1>"


async def test_409_with_an_odd_payload_still_is_a_conflict(make_client: MakeClient) -> None:
    client, _ = make_client(lambda r: httpx.Response(
        409, json=envelope({"status": "Processing\x1b[2J", "progress": 3})))
    with pytest.raises(ConflictError) as caught:
        await client.delete(5)
    assert caught.value.current_status == "Processing\\x1b[2J"
    assert caught.value.envelope is not None
    assert "\x1b" not in str(caught.value)


async def test_delete_answered_204_without_a_body(make_client: MakeClient) -> None:
    client, _ = make_client(lambda r: httpx.Response(204))
    answer = await client.delete(5)
    assert answer.http_status == 204 and answer.payload is None


async def test_post_400_without_results_raises_and_with_results_returns(
        make_client: MakeClient) -> None:
    client, _ = make_client(lambda r: httpx.Response(
        400, json=envelope(None, errors=["The body is not a JSON array."])))
    with pytest.raises(InvalidRequestError) as caught:
        await client.post_batch(b"{}")
    assert caught.value.errors == ["The body is not a JSON array."]
    rejected = envelope({"accepted": 0, "rejected": 1, "results": [
        {"index": 0, "accepted": False, "errors": ["bad"], "warnings": []}]},
        errors=["1 of 1 records rejected"])
    client2, _ = make_client(lambda r: httpx.Response(400, json=rejected))
    answer = await client2.post_batch(b"[{}]")
    assert answer.http_status == 400
    assert answer.payload is not None and answer.payload.results[0].errors == ["bad"]


# -- Retry-After -----------------------------------------------------------------------------

async def test_retry_after_as_an_http_date(make_client: MakeClient) -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    header = email.utils.format_datetime(when, usegmt=True)
    client, _ = make_client(lambda r: httpx.Response(
        429, json=envelope(errors=["Slow down."]), headers={"Retry-After": header}))
    with pytest.raises(RateLimitedError) as caught:
        await client.get_status(1)
    assert caught.value.retry_after is not None
    assert 27.0 <= caught.value.retry_after <= 30.5
    assert caught.value.errors == ["Slow down."]
    assert_no_key(caught.value)


async def test_retry_after_in_seconds_and_missing(make_client: MakeClient) -> None:
    client, _ = make_client(lambda r: httpx.Response(429, headers={"Retry-After": "7"}))
    with pytest.raises(RateLimitedError) as caught:
        await client.get_status(1)
    assert caught.value.retry_after == 7.0
    assert "7 s" in str(caught.value)
    client2, _ = make_client(lambda r: httpx.Response(429, text="slow"))
    with pytest.raises(RateLimitedError) as caught2:
        await client2.get_status(1)
    assert caught2.value.retry_after is None


def test_parse_retry_after() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120", now=now) == 120.0
    assert parse_retry_after(" 1.5 ", now=now) == 1.5
    assert parse_retry_after("Wed, 01 Jan 2025 12:01:00 GMT", now=now) == 60.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0  # past: now
    assert parse_retry_after("-5", now=now) == 0.0
    for junk in (None, "", "soon", "nan", "inf", "Wed, 99 Foo 2025"):
        assert parse_retry_after(junk, now=now) is None


# -- transport failures ----------------------------------------------------------------------

def _raiser(make: Callable[[httpx.Request], Exception]) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        raise make(request)
    return answer


def _tls_failure(request: httpx.Request) -> Exception:
    try:
        raise ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] self-signed")
    except ssl.SSLError as cause:
        error = httpx.ConnectError(str(cause), request=request)
        error.__cause__ = cause
        return error


@pytest.mark.parametrize(("make", "reason"), [
    (lambda r: httpx.ConnectError("[Errno 111] Connection refused", request=r), "refused"),
    (lambda r: httpx.ConnectError("[Errno -2] Name or service not known", request=r), "other"),
    (lambda r: httpx.ConnectTimeout("timed out", request=r), "timeout"),
    (lambda r: httpx.ReadTimeout("timed out", request=r), "timeout"),
    (lambda r: httpx.PoolTimeout("no connection", request=r), "timeout"),
    (lambda r: httpx.RemoteProtocolError(
        "Server disconnected without sending a response.", request=r), "reset"),
    (lambda r: httpx.RemoteProtocolError("illegal status line", request=r), "protocol"),
    (lambda r: httpx.ReadError("[Errno 104] Connection reset by peer", request=r), "reset"),
    (_tls_failure, "tls"),
])
async def test_transport_failures(make_client: MakeClient,
                                  make: Callable[[httpx.Request], Exception],
                                  reason: str) -> None:
    client, recorder = make_client(_raiser(make))
    with pytest.raises(TransportError) as caught:
        await client.get_status(1)
    error = caught.value
    assert error.reason == reason
    assert error.status_code is None and error.envelope is None
    assert "api.example.test" in error.message
    # no chained httpx exception: its request (and headers) cannot travel with ours
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    assert len(recorder.requests) == 1
    assert_no_key(error)


# -- the key stays secret --------------------------------------------------------------------

async def test_client_repr_hides_the_key_and_url_credentials() -> None:
    client = ConversionsClient("https://user:hunter2@api.example.test/", CANARY,
                               transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    try:
        shown = repr(client) + str(client) + client.base_url
        assert CANARY not in shown and "hunter2" not in shown
        assert "api.example.test" in shown
        assert CANARY not in repr(vars(client))
    finally:
        await client.aclose()


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 413, 418, 429, 500, 502, 302])
async def test_no_error_class_shows_the_key(make_client: MakeClient, status: int) -> None:
    # A hostile server echoing the key back: it may appear in .errors (the server's own
    # text, shown only after sanitising) but our message, repr and traceback stay ours.
    client, _ = make_client(lambda r: httpx.Response(
        status, json=envelope(None, errors=[r.headers["X-API-KEY"]]),
        headers={"Retry-After": "1"}))
    with pytest.raises(ApiError) as caught:
        await client.post_batch(b"[]") if status == 413 else await client.delete(3)
    assert_no_key(caught.value)


def test_body_excerpt_escapes_and_cuts() -> None:
    assert body_excerpt(b"a\x00b\nc\x9b\xe2\x80\xaed") == "a\\x00b\\x0ac\ufffd\\u202ed"
    assert body_excerpt("\u009b[2J") == "\\x9b[2J"
    assert body_excerpt("x" * 300) == "x" * 200 + "…"
    assert body_excerpt(b"") == ""


async def test_status_urls_are_cached_within_a_bound(make_client: MakeClient,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tui.api.client._URL_CACHE_LIMIT", 3)
    client, recorder = make_client(lambda r: httpx.Response(
        200, json=envelope({"id": int(r.url.path.split("/")[3]), "status": "Queued"})))
    asked = (1, 2, 3, 1, 4, 5, 1)
    for conversion_id in asked:
        answer = await client.get_status(conversion_id)
        assert answer.payload is not None and answer.payload.id == conversion_id
    assert [r.url.path for r in recorder.requests] == [
        f"/v1/conversions/{i}/status" for i in asked]
    # Least recently used out: 1, asked often, stayed; 2 and 3 went for 4 and 5.
    assert list(client._status_urls) == [4, 5, 1]
