"""The wire format and the HTTP client of the Conversions API (no UI, no disk, no keyring)."""

from typing import TYPE_CHECKING, Any

# First: whichever module imports httpx, its command-line client stays unloaded.
from tui.api import httpx_without_cli  # noqa: F401
from tui.api.errors import (
    TRANSPORT_REASONS,
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
    BatchRecordResult,
    BatchResult,
    ConversionRecord,
    ConversionStatus,
    Envelope,
    Profile,
    StatusEnvelope,
)

if TYPE_CHECKING:
    from tui.api.client import ConversionsClient, parse_retry_after


def __getattr__(name: str) -> Any:
    # The client (and httpx under it) is imported at first use, not with the models: the
    # monitor's first screen shows stored rows before any request (issue 12).
    if name in ("ConversionsClient", "parse_retry_after"):
        from tui.api import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "TRANSPORT_REASONS",
    "ApiError",
    "AuthenticationError",
    "BadResponseError",
    "BatchEnvelope",
    "BatchRecordResult",
    "BatchResult",
    "ConflictError",
    "ConversionRecord",
    "ConversionStatus",
    "ConversionsClient",
    "Envelope",
    "GoneError",
    "InvalidRequestError",
    "NotFoundError",
    "PayloadTooLargeError",
    "Profile",
    "RateLimitedError",
    "ServerError",
    "StatusEnvelope",
    "TransportError",
    "body_excerpt",
    "parse_retry_after",
]
