"""Every way a call to the Conversions API can fail, as one tree.

The client raises only these (plus ``TypeError``/``ValueError`` for a wrong
argument, and ``asyncio.CancelledError`` which is never swallowed)::

    ApiError                      anything below; .status_code, .errors, .warnings,
    │                             .envelope, .body_excerpt, .content_type, .message
    ├── AuthenticationError       401 or 403: the key is wrong, expired or not allowed
    ├── NotFoundError             404: unknown or purged conversion (or a wrong base URL:
    │                             then .envelope is None)
    ├── ConflictError             409: not now (a delete while Processing);
    │                             .current_status is the status the server reported
    ├── GoneError                 410: already gone (a delete of a Deleted conversion)
    ├── InvalidRequestError       400, and any other unexpected 4xx (.status_code says)
    │   └── PayloadTooLargeError  413: too many records or too many bytes
    ├── RateLimitedError          429; .retry_after in seconds (the Retry-After header
    │                             as seconds or as an HTTP date), None when absent
    ├── ServerError               5xx, with an envelope or any other body (a proxy's
    │                             HTML page: see .body_excerpt)
    ├── BadResponseError          an answer the client cannot use: not JSON, not an
    │                             envelope, a success without the payload it needs,
    │                             an unexpected status (a redirect)
    │   ├── AnswerTooLargeError   the body (decompressed) passed the size cap: cut off;
    │   │                         .limit in bytes
    │   └── WrongConversionError  the payload is about another conversion than the one
    │                             asked for; .asked_id, .answered_id (never stored)
    └── TransportError            no HTTP answer at all; .reason is one of "refused",
                                  "reset", "timeout", "tls", "protocol", "other"
                                  ("timeout": a phase timed out, or the whole request
                                  passed its total deadline, e.g. a trickling answer)

Every error with an envelope carries that envelope's ``errors`` and ``warnings``.
``str(error)`` is ``error.message``: one short sentence in our own words, safe to
show and to log. Server text is never in it except as an escaped, cut excerpt; the
API key is never in it, nor in ``repr``. Transport errors are raised without a
chained cause, so a traceback printed with local variables cannot reach the
request headers inside httpx.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from tui.api.models import Envelope

__all__ = [
    "TRANSPORT_REASONS",
    "AnswerTooLargeError",
    "ApiError",
    "AuthenticationError",
    "BadResponseError",
    "ConflictError",
    "GoneError",
    "InvalidRequestError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "ServerError",
    "TransportError",
    "WrongConversionError",
    "body_excerpt",
]

EXCERPT_LIMIT: Final = 200
TRANSPORT_REASONS: Final = frozenset({"refused", "reset", "timeout", "tls", "protocol", "other"})

# Everything that could move the cursor, change colours or reorder text on a
# terminal: C0 and C1 controls, DEL, BiDi marks and overrides, line separators,
# a BOM and lone surrogates. Escaped repr-style so the excerpt stays one line.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ufeff\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def body_excerpt(content: bytes | str, limit: int = EXCERPT_LIMIT) -> str:
    """The first ``limit`` characters of a body, on one line, control characters escaped."""
    if isinstance(content, bytes):
        # Decode only a little more than needed: a hostile body may be huge.
        content = content[: limit * 4].decode("utf-8", "replace")
    text = content[:limit]
    cut = len(content) > limit
    text = _UNSAFE.sub(_escape, text)
    return text + "…" if cut else text


class ApiError(Exception):
    """Base of every error the client raises; ``str()`` is the short ``message``."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        envelope: Envelope | None = None,
        body_excerpt: str = "",
        content_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.envelope = envelope
        self.errors: list[str] = list(envelope.errors) if envelope is not None else []
        self.warnings: list[str] = list(envelope.warnings) if envelope is not None else []
        self.body_excerpt = body_excerpt
        self.content_type = content_type

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"


class AuthenticationError(ApiError):
    """401 or 403: the server does not accept the API key for this call."""


class NotFoundError(ApiError):
    """404: no such conversion (unknown, or purged after deletion)."""


class ConflictError(ApiError):
    """409: the conversion's current status forbids the call (delete while Processing)."""

    current_status: str | None = None
    """The status word the server gave with the refusal (None when it gave none)."""


class GoneError(ApiError):
    """410: the conversion is already Deleted."""


class InvalidRequestError(ApiError):
    """400 (or another unexpected 4xx): the server rejected what was sent."""


class PayloadTooLargeError(InvalidRequestError):
    """413: more than 100 records or too many bytes; nothing was processed."""


class RateLimitedError(ApiError):
    """429: slow down; ``retry_after`` is the wait the server asked for, in seconds."""

    retry_after: float | None = None
    """Seconds to wait before the next call, from the Retry-After header."""


class ServerError(ApiError):
    """5xx: the server or a proxy in front of it failed."""


class BadResponseError(ApiError):
    """An answer the client cannot use (not JSON, wrong shape, unexpected status)."""


class AnswerTooLargeError(BadResponseError):
    """The answer's body passed the size cap (counted after decompression) and was cut off.

    ``limit`` is the cap in bytes. Raised before reading when Content-Length is above it.
    """

    limit: int = 0


class WrongConversionError(BadResponseError):
    """The answer's payload names another conversion than the one asked about.

    ``asked_id`` is the ID in the request, ``answered_id`` the ID in the payload. Such an
    answer is never stored as the asked conversion.
    """

    asked_id: int = 0
    answered_id: int = 0


class TransportError(ApiError):
    """No HTTP answer: refused, reset, timed out, TLS failure or a broken protocol."""

    def __init__(self, message: str, *, reason: str = "other", detail: str = "") -> None:
        super().__init__(message)
        self.reason = reason if reason in TRANSPORT_REASONS else "other"
        self.detail = detail

    def __repr__(self) -> str:
        return f"TransportError({self.message!r}, reason={self.reason!r})"
