"""The status vocabulary, and what the app makes of words it does not know.

The API's status is a free string (SEED); the words below are our reading of
it (ASSUMED). An unknown word is kept exactly as it came and classed
``StatusKind.UNKNOWN``: shown in a neutral style and polled like an active one,
since nothing says it will not change.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

__all__ = [
    "ACTIVE_STATUSES",
    "CHECKING_SYMBOL",
    "CHECKING_WORD",
    "SETTLED_STATUSES",
    "CheckedRow",
    "StatusKind",
    "awaits_first_answer",
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


CHECKING_SYMBOL = "↻"
"""Shown for a row the server has not answered about yet (not a status: there is none)."""
CHECKING_WORD = "checking…"


class CheckedRow(Protocol):
    """What :func:`awaits_first_answer` reads (``WatchedConversion`` fits)."""

    @property
    def status(self) -> str | None: ...
    @property
    def last_checked(self) -> float | None: ...
    @property
    def not_found(self) -> bool: ...


def awaits_first_answer(row: CheckedRow) -> bool:
    """True for a row never answered for (just added, or every check failed so far).

    Its status is not known at all: it is shown as "checking…" and counted apart, not as
    an unknown status word nor as active.
    """
    return row.status is None and row.last_checked is None and not row.not_found
