"""The status vocabulary, and what the app makes of words it does not know.

The API's status is a free string (SEED); the words below are our reading of
it (ASSUMED). An unknown word is kept exactly as it came and classed
``StatusKind.UNKNOWN``: shown in a neutral style and polled like an active one,
since nothing says it will not change.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACTIVE_STATUSES",
    "SETTLED_STATUSES",
    "StatusKind",
    "is_settled",
    "status_kind",
    "status_symbol",
]


class StatusKind(StrEnum):
    """How the UI groups a status word (and which theme colour it takes)."""

    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    DELETING = "deleting"
    DELETED = "deleted"
    NOT_FOUND = "not_found"
    UNKNOWN = "unknown"


_KIND_BY_WORD: dict[str, StatusKind] = {
    "uploaded": StatusKind.QUEUED,
    "queued": StatusKind.QUEUED,
    "processing": StatusKind.PROCESSING,
    "completed": StatusKind.COMPLETED,
    "failed": StatusKind.FAILED,
    "deletionpending": StatusKind.DELETING,
    "deleted": StatusKind.DELETED,
}

# Symbols make the status readable without colour (NO_COLOR, 16-colour terminals).
_SYMBOLS: dict[StatusKind, str] = {
    StatusKind.QUEUED: "◌",
    StatusKind.PROCESSING: "◐",
    StatusKind.COMPLETED: "✔",
    StatusKind.FAILED: "✘",
    StatusKind.DELETING: "⌫",
    StatusKind.DELETED: "⊘",
    StatusKind.NOT_FOUND: "?",
    StatusKind.UNKNOWN: "•",
}

ACTIVE_STATUSES = frozenset({"Uploaded", "Queued", "Processing", "DeletionPending"})
SETTLED_STATUSES = frozenset({"Completed", "Failed", "Deleted"})


def status_kind(status: str | None) -> StatusKind:
    """Classify a status word; unknown and missing words are ``UNKNOWN``."""
    if not status:
        return StatusKind.UNKNOWN
    return _KIND_BY_WORD.get(status.strip().lower(), StatusKind.UNKNOWN)


def status_symbol(kind: StatusKind) -> str:
    """A one-cell symbol for ``kind``."""
    return _SYMBOLS[kind]


def is_settled(status: str | None) -> bool:
    """True for statuses that do not change without an action (re-checked slowly)."""
    return status_kind(status) in (StatusKind.COMPLETED, StatusKind.FAILED, StatusKind.DELETED)
