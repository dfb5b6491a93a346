"""The wire format and the HTTP client of the Conversions API (no UI, no disk, no keyring)."""

# First: whichever module imports httpx, its command-line client stays unloaded.
from tui.api import httpx_without_cli  # noqa: F401
from tui.api.client import ConversionsClient, parse_retry_after
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
