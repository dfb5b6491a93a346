"""The async client of the Conversions API: three calls, one connection pool.

Design choices, each for a reason:

* One ``httpx.AsyncClient`` for the life of the client: a poller calls
  :meth:`ConversionsClient.get_status` thousands of times, so connections are
  reused and the fixed headers (the key among them) are set once.
* A timeout on every call (connect, read, write and waiting for the pool).
* No retries anywhere: a batch post must never be sent twice behind the user's
  back, and whether a GET or DELETE is repeated is the caller's decision
  (the transport is built with ``retries=0``).
* Bodies are parsed with ``model_validate_json`` on the response bytes (see
  :mod:`tui.api.models`), the cheapest path pydantic offers.
* Failures become the documented tree in :mod:`tui.api.errors`; transport
  errors are raised without their httpx cause so the request headers never
  travel with them.
"""

from __future__ import annotations

import email.utils
import math
import ssl
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import TypeAdapter

from tui import __version__
from tui.api.errors import (
    ApiError,
    AuthenticationError,
    BadResponseError,
    ConflictError,
    GoneError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    ServerError,
    TransportError,
    body_excerpt,
)
from tui.api.models import (
    BatchEnvelope,
    ConversionRecord,
    ConversionStatus,
    Envelope,
    StatusEnvelope,
)

__all__ = ["ConversionsClient", "parse_retry_after"]

_E = TypeVar("_E", bound=Envelope)
_RECORDS = TypeAdapter(list[ConversionRecord])
_JSON_HEADERS = {"Content-Type": "application/json"}
# A status word quoted in one of our messages is server text: keep it short.
_STATUS_WORD_LIMIT = 40
# Parsed status URLs kept per id: parsing a URL is a sizeable share of httpx's own
# per-request CPU, and a poller asks for the same *active* ids every few seconds.
# Least recently used out, about 470 bytes each: the ids polled often stay, settled
# ones asked once a minute or less cost a parse, and ids that come and go all day do
# not grow it (a 12-simulated-hour soak filled a 12,000 bound by 3 MB).
_URL_CACHE_LIMIT = 2_000


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date).

    None when absent or unreadable; never negative (a date in the past means now).
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


class ConversionsClient:
    """Calls the Conversions API with one API key. Use as ``async with`` or ``aclose()``.

    ``transport`` replaces the network (tests use ``httpx.MockTransport``); ``verify``
    is True, False or the path of a CA bundle. The key is only ever in the request
    header: not in this object's ``repr``, nor in any error it raises.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        verify: bool | str = True,
        max_connections: int = 16,
        user_agent: str = f"conversions-tui/{__version__}",
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("The base URL must start with http:// or https:// and name a host.")
        key = api_key.strip()
        if not key or not all("\x21" <= char <= "\x7e" for char in key):
            # Checked here so httpx never raises an encoding error holding the key.
            raise ValueError("The API key is empty or has characters a header cannot carry.")
        # Userinfo in a URL is a credential too: keep it out of repr and messages.
        self._base_url = str(url.copy_with(username=None, password=None)).rstrip("/")
        self._where = url.host if url.port is None else f"{url.host}:{url.port}"
        if transport is None:
            transport = httpx.AsyncHTTPTransport(
                verify=_ssl_context(verify),
                retries=0,
                limits=httpx.Limits(max_connections=max_connections,
                                    max_keepalive_connections=max_connections),
            )
        # Absolute URLs, not httpx's base_url: merging a relative URL costs more CPU per
        # call than the envelope parse does.
        self._root = str(url).rstrip("/")
        self._status_urls: OrderedDict[int, httpx.URL] = OrderedDict()
        self._http = httpx.AsyncClient(
            headers={"X-API-KEY": key, "User-Agent": user_agent, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )

    @property
    def base_url(self) -> str:
        """The server's base URL (without any user name or password)."""
        return self._base_url

    def __repr__(self) -> str:
        return f"ConversionsClient(base_url={self._base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def get_status(self, conversion_id: int) -> StatusEnvelope:
        """The current status of one conversion (the envelope's payload is never None)."""
        urls = self._status_urls
        url = urls.get(_checked_id(conversion_id))
        if url is None:
            url = self._status_url(conversion_id)
        else:
            urls.move_to_end(conversion_id)
        response = await self._send("GET", url)
        if 200 <= response.status_code < 300:
            return _success(StatusEnvelope, response, need_payload=True)
        raise _failure(StatusEnvelope, response, f"Conversion {conversion_id}")

    def _status_url(self, conversion_id: int) -> httpx.URL:
        url = httpx.URL(f"{self._root}/v1/conversions/{conversion_id}/status")
        urls = self._status_urls
        while len(urls) >= _URL_CACHE_LIMIT:
            urls.popitem(last=False)  # the least recently used
        urls[conversion_id] = url
        return url

    async def delete(self, conversion_id: int) -> StatusEnvelope:
        """Ask for a conversion's deletion (202); poll :meth:`get_status` to see it done.

        The payload may be None when a server answers a success without one.
        """
        subject = f"Conversion {_checked_id(conversion_id)}"
        response = await self._send("DELETE", f"{self._root}/v1/conversions/{conversion_id}")
        if 200 <= response.status_code < 300:
            if not response.content.strip():
                envelope = StatusEnvelope()
                envelope.http_status = response.status_code
                return envelope
            return _success(StatusEnvelope, response, need_payload=False)
        raise _failure(StatusEnvelope, response, subject)

    async def post_batch(self, records: Sequence[ConversionRecord] | bytes) -> BatchEnvelope:
        """Post records (or an already serialised JSON array). Never retried.

        200 and 207 return the envelope; so does a 400 whose payload has per-record
        results (all rejected). A 400 without them raises InvalidRequestError, a 413
        PayloadTooLargeError.
        """
        if isinstance(records, bytes | bytearray | memoryview):
            body = bytes(records)
        else:
            body = _RECORDS.dump_json(list(records), by_alias=True, exclude_none=True)
        response = await self._send("POST", f"{self._root}/v1/conversions", body)
        status = response.status_code
        if 200 <= status < 300:
            return _success(BatchEnvelope, response, need_payload=True)
        if status == 400:
            envelope = _error_envelope(BatchEnvelope, response)
            if isinstance(envelope, BatchEnvelope) and envelope.payload is not None:
                return envelope
        raise _failure(BatchEnvelope, response, "The batch")

    async def _send(self, method: str, url: httpx.URL | str,
                    content: bytes | None = None) -> httpx.Response:
        try:
            if content is None:
                return await self._http.request(method, url)
            return await self._http.request(method, url, content=content,
                                            headers=_JSON_HEADERS)
        except httpx.RequestError as exc:
            error = _transport_error(exc, self._where)
        # Raised outside the except block: no __context__ pointing into httpx frames.
        raise error


def _checked_id(conversion_id: int) -> int:
    if not isinstance(conversion_id, int) or isinstance(conversion_id, bool):
        raise TypeError("A conversion ID must be an int.")
    return conversion_id


def _ssl_context(verify: bool | str) -> ssl.SSLContext | bool:
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify


def _success(model: type[_E], response: httpx.Response, *, need_payload: bool) -> _E:
    status = response.status_code
    try:
        envelope = model.from_wire(response.content, http_status=status)
    except ValueError:
        raise _bad_response(response, "it is not a JSON envelope") from None
    if need_payload and envelope.payload is None:
        raise _bad_response(response, "the envelope has no payload", envelope)
    return envelope


def _bad_response(response: httpx.Response, why: str,
                  envelope: Envelope | None = None) -> BadResponseError:
    return BadResponseError(
        f"The server's answer could not be used (HTTP {response.status_code}): {why}.",
        status_code=response.status_code,
        envelope=envelope,
        body_excerpt=body_excerpt(response.content),
        content_type=response.headers.get("content-type"),
    )


def _error_envelope(model: type[Envelope], response: httpx.Response) -> Envelope | None:
    """The envelope of an error answer, if it has one; a payload of the wrong shape
    falls back to a plain Envelope rather than hiding the status code's meaning."""
    content = response.content
    if content.lstrip()[:1] != b"{":
        return None
    for candidate in (model, Envelope):
        try:
            return candidate.from_wire(content, http_status=response.status_code)
        except ValueError:
            continue
    return None


def _failure(model: type[Envelope], response: httpx.Response, subject: str) -> ApiError:
    """Map a non-success answer to its error class."""
    status = response.status_code
    envelope = _error_envelope(model, response)
    common: dict[str, Any] = {
        "status_code": status,
        "envelope": envelope,
        "body_excerpt": "" if envelope is not None else body_excerpt(response.content),
        "content_type": response.headers.get("content-type"),
    }
    if status in (401, 403):
        words = "rejected the API key" if status == 401 else "does not allow this API key"
        return AuthenticationError(f"The server {words} (HTTP {status}).", **common)
    if status == 404:
        return NotFoundError(f"{subject} was not found (HTTP 404).", **common)
    if status == 409:
        current = _current_status(envelope)
        now = f"while it is {current}" if current else "in its current status"
        conflict = ConflictError(f"{subject} cannot be changed {now} (HTTP 409).", **common)
        conflict.current_status = current
        return conflict
    if status == 410:
        return GoneError(f"{subject} is already deleted (HTTP 410).", **common)
    if status == 413:
        return PayloadTooLargeError(f"{subject} is too large for the server (HTTP 413).",
                                    **common)
    if status == 429:
        wait = parse_retry_after(response.headers.get("retry-after"))
        hint = f"; retry in {math.ceil(wait)} s" if wait is not None else ""
        limited = RateLimitedError(f"Too many requests{hint} (HTTP 429).", **common)
        limited.retry_after = wait
        return limited
    if 400 <= status < 500:
        return InvalidRequestError(f"The server rejected the request (HTTP {status}).",
                                   **common)
    if status >= 500:
        return ServerError(f"The server failed (HTTP {status}).", **common)
    why = "a redirect, not an envelope" if 300 <= status < 400 else "an unexpected status"
    return BadResponseError(f"The server's answer could not be used (HTTP {status}): {why}.",
                            **common)


def _current_status(envelope: Envelope | None) -> str | None:
    payload = envelope.payload if envelope is not None else None
    if isinstance(payload, ConversionStatus):
        word: object = payload.status
    elif isinstance(payload, dict):
        word = payload.get("status")
    else:
        return None
    return body_excerpt(word, _STATUS_WORD_LIMIT) if isinstance(word, str) and word else None


def _transport_error(exc: httpx.RequestError, where: str) -> TransportError:
    """Name what went wrong without an HTTP answer, in one short sentence."""
    detail = body_excerpt(str(exc) or type(exc).__name__)
    if isinstance(exc, httpx.TimeoutException):
        phase = {
            httpx.ConnectTimeout: "connecting to",
            httpx.WriteTimeout: "sending to",
            httpx.PoolTimeout: "waiting for a free connection to",
        }.get(type(exc), "waiting for an answer from")
        return TransportError(f"Timed out {phase} {where}.", reason="timeout", detail=detail)
    if _caused_by(exc, ssl.SSLError) or "SSL" in str(exc) or "CERTIFICATE" in str(exc):
        return TransportError(f"The secure (TLS) connection to {where} failed: {detail}",
                              reason="tls", detail=detail)
    if isinstance(exc, httpx.ConnectError):
        if _caused_by(exc, ConnectionRefusedError) or "refused" in str(exc).lower():
            return TransportError(f"{where} refused the connection.", reason="refused",
                                  detail=detail)
        return TransportError(f"Could not connect to {where}: {detail}", reason="other",
                              detail=detail)
    if isinstance(exc, httpx.RemoteProtocolError) and "disconnect" in str(exc).lower():
        return TransportError(f"{where} closed the connection without answering.",
                              reason="reset", detail=detail)
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.CloseError):
        return TransportError(f"The connection to {where} broke: {detail}", reason="reset",
                              detail=detail)
    if isinstance(exc, httpx.ProtocolError | httpx.DecodingError):
        return TransportError(f"{where} answered with something that is not valid HTTP.",
                              reason="protocol", detail=detail)
    return TransportError(f"The request to {where} failed: {detail}", reason="other",
                          detail=detail)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
