"""What an HTTP answer of the Conversions API means: an envelope to return, or which
error of :mod:`tui.api.errors` to raise (and why, in one sentence).

:class:`~tui.api.client.ConversionsClient` sends; this module reads what came back: the
envelope of a success, checks that it is about what was asked, maps every other status
(and every failure without an answer) to its place in the error tree. Server text
quoted in a message goes through :func:`~tui.api.errors.body_excerpt`.
"""

from __future__ import annotations

import email.utils
import math
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

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
    WrongConversionError,
    body_excerpt,
)
from tui.api.models import BatchEnvelope, ConversionStatus, Envelope

_E = TypeVar("_E", bound=Envelope)
# A status word quoted in one of our messages is server text: keep it short.
STATUS_WORD_LIMIT = 40


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


@dataclass(frozen=True, slots=True, repr=False)
class Answer:
    """An HTTP answer read in full (within its cap): what the mapping below needs."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    def __repr__(self) -> str:  # never the body: server text (a key echoed back, even)
        return f"<answer HTTP {self.status_code}, {len(self.content)} bytes>"


def success(model: type[_E], answer: Answer, *, need_payload: bool) -> _E:
    status = answer.status_code
    try:
        envelope = model.from_wire(answer.content, http_status=status)
    except ValueError:
        raise bad_response(answer, "it is not a JSON envelope") from None
    if need_payload and envelope.payload is None:
        raise bad_response(answer, "the envelope has no payload", envelope)
    return envelope


def bad_response(answer: Answer, why: str,
                  envelope: Envelope | None = None) -> BadResponseError:
    return BadResponseError(
        f"The server's answer could not be used (HTTP {answer.status_code}): {why}.",
        status_code=answer.status_code,
        envelope=envelope,
        body_excerpt=body_excerpt(answer.content),
        content_type=answer.headers.get("content-type"),
    )


def about_another(envelope: Envelope, asked_id: int,
                   answer: Answer) -> WrongConversionError | None:
    """The error to raise when the payload names another conversion, else None."""
    payload = envelope.payload
    if isinstance(payload, ConversionStatus) and payload.id != asked_id:
        return wrong_conversion(asked_id, payload.id, answer)
    return None


def wrong_conversion(asked_id: int, answered_id: int, answer: Answer) -> WrongConversionError:
    # No envelope attached: its messages are about the other conversion, and nothing in
    # it may be taken for the asked one's. The excerpt (escaped) is there to look at.
    error = WrongConversionError(
        f"The server answered about conversion {answered_id}, not {asked_id}.",
        status_code=answer.status_code,
        body_excerpt=body_excerpt(answer.content),
        content_type=answer.headers.get("content-type"),
    )
    error.asked_id = asked_id
    error.answered_id = answered_id
    return error


def results_not_sent(envelope: BatchEnvelope, sent: int | None,
                      answer: Answer) -> BadResponseError | None:
    """The error to raise when a batch result is not about a record that was sent."""
    if envelope.payload is None:
        return None
    seen: set[int] = set()
    for result in envelope.payload.results:
        index = result.index
        if index in seen:
            why = f"two results are about record {index}"
        elif index < 0 or (sent is not None and index >= sent):
            count = f"{sent} were" if sent is not None else "fewer were"
            why = f"a result is about record {index}, and {count} sent"
        else:
            seen.add(index)
            continue
        return bad_response(answer, why, envelope)
    return None


def error_envelope(model: type[Envelope], answer: Answer) -> Envelope | None:
    """The envelope of an error answer, if it has one; a payload of the wrong shape
    falls back to a plain Envelope rather than hiding the status code's meaning."""
    content = answer.content
    if content.lstrip()[:1] != b"{":
        return None
    for candidate in (model, Envelope):
        try:
            return candidate.from_wire(content, http_status=answer.status_code)
        except ValueError:
            continue
    return None


def failure(model: type[Envelope], answer: Answer, subject: str,
             asked_id: int | None = None) -> ApiError:
    """Map a non-success answer to its error class.

    When ``asked_id`` is given and the error's payload names another conversion (a 409
    carrying "its" current status), that is the error: WrongConversionError.
    """
    status = answer.status_code
    envelope = error_envelope(model, answer)
    if asked_id is not None and envelope is not None:
        payload = envelope.payload
        if isinstance(payload, ConversionStatus) and payload.id != asked_id:
            return wrong_conversion(asked_id, payload.id, answer)
    common: dict[str, Any] = {
        "status_code": status,
        "envelope": envelope,
        "body_excerpt": "" if envelope is not None else body_excerpt(answer.content),
        "content_type": answer.headers.get("content-type"),
    }
    if status in (401, 403):
        words = "rejected the API key" if status == 401 else "does not allow this API key"
        return AuthenticationError(f"The server {words} (HTTP {status}).", **common)
    if status == 404:
        return NotFoundError(f"{subject} was not found (HTTP 404).", **common)
    if status == 409:
        current = current_status(envelope)
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
        wait = parse_retry_after(answer.headers.get("retry-after"))
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


def current_status(envelope: Envelope | None) -> str | None:
    payload = envelope.payload if envelope is not None else None
    if isinstance(payload, ConversionStatus):
        word: object = payload.status
    elif isinstance(payload, dict):
        word = payload.get("status")
    else:
        return None
    return body_excerpt(word, STATUS_WORD_LIMIT) if isinstance(word, str) and word else None


def transport_error(exc: httpx.RequestError, where: str) -> TransportError:
    """Name what went wrong without an HTTP answer, in one short sentence."""
    detail = body_excerpt(str(exc) or type(exc).__name__)
    if isinstance(exc, httpx.TimeoutException):
        phase = {
            httpx.ConnectTimeout: "connecting to",
            httpx.WriteTimeout: "sending to",
            httpx.PoolTimeout: "waiting for a free connection to",
        }.get(type(exc), "waiting for an answer from")
        return TransportError(f"Timed out {phase} {where}.", reason="timeout", detail=detail)
    if caused_by(exc, ssl.SSLError) or "SSL" in str(exc) or "CERTIFICATE" in str(exc):
        return TransportError(f"The secure (TLS) connection to {where} failed: {detail}",
                              reason="tls", detail=detail)
    if isinstance(exc, httpx.ConnectError):
        if caused_by(exc, ConnectionRefusedError) or "refused" in str(exc).lower():
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


def caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
