"""Short, useful problem texts for a row whose status check failed.

A row has one line for its problem, so the text says what happened in a few
words ("HTTP 502, HTML page", "HTTP 500: database unavailable", "timed out",
"no access to this conversion (HTTP 403)", "answer larger than 16 MiB, cut off",
"the server answered about conversion 99") rather than repeating an exception.
Server text is passed through :func:`tui.core.untrusted.printable`.
"""

from __future__ import annotations

from tui.api.errors import (
    AnswerTooLargeError,
    ApiError,
    BadResponseError,
    NotFoundError,
    ServerError,
    TransportError,
    WrongConversionError,
)
from tui.core.untrusted import printable

__all__ = ["describe_problem", "no_access_problem", "transport_cause"]

_LIMIT = 120

_TRANSPORT_TEXT = {
    "timeout": "timed out",
    "refused": "connection refused",
    "reset": "connection dropped",
    "tls": "TLS handshake failed",
    "protocol": "broken HTTP answer",
    "other": "connection failed",
}


def transport_cause(error: TransportError) -> str:
    """A few words on why there was no HTTP answer."""
    reason = getattr(error, "reason", None)
    return _TRANSPORT_TEXT.get(str(reason), "connection failed")


def no_access_problem(error: ApiError) -> str:
    """A 403 about one conversion (the key itself is known): the row's problem, with the
    code the server really sent."""
    code = error.status_code
    return f"no access to this conversion (HTTP {code})" if code else (
        "no access to this conversion")


def _body_kind(error: ApiError) -> str | None:
    """"HTML page" / "non-JSON body" when the answer was not an envelope."""
    content_type = str(getattr(error, "content_type", "") or "").lower()
    excerpt = str(getattr(error, "body_excerpt", "") or "").lstrip().lower()
    if "html" in content_type or excerpt.startswith(("<!doctype html", "<html")):
        return "HTML page"
    if error.envelope is None and (excerpt or content_type) and "json" not in content_type:
        return "non-JSON body"
    return None


def _with_status(error: ApiError, fallback: str) -> str:
    code = error.status_code
    head = f"HTTP {code}" if code is not None else fallback
    kind = _body_kind(error)
    if kind is not None:
        return f"{head}, {kind}"
    if error.errors:
        return f"{head}: {error.errors[0]}"
    return head


def describe_problem(error: BaseException) -> str:
    """The one-line problem text recorded for a row after ``error``."""
    if isinstance(error, TransportError):
        text = transport_cause(error)
    elif isinstance(error, AnswerTooLargeError):
        from tui.api.bounded import describe_size  # with httpx: not before a first check

        limit = getattr(error, "limit", 0)
        text = (f"answer larger than {describe_size(limit)}, cut off" if limit > 0
                else "answer too large, cut off")
    elif isinstance(error, WrongConversionError):
        answered = getattr(error, "answered_id", None)
        text = (f"the server answered about conversion {answered}"
                if answered not in (None, 0) else "the server answered about another conversion")
    elif isinstance(error, BadResponseError):
        kind = _body_kind(error)
        if kind == "HTML page":
            text = _with_status(error, "bad answer")
        else:
            code = error.status_code
            text = "bad JSON from server" if code is None or code < 300 else (
                f"HTTP {code}, bad JSON from server")
    elif isinstance(error, ServerError):
        text = _with_status(error, "server error")
    elif isinstance(error, NotFoundError) and error.envelope is None:
        text = "HTTP 404 without an API answer (wrong base URL, or a proxy?)"
    elif isinstance(error, ApiError):
        text = _with_status(error, error.message or type(error).__name__)
    else:
        # A bug below us, not the server's fault: name it, do not crash the poller.
        text = f"internal error ({type(error).__name__})"
    return printable(text, limit=_LIMIT)
