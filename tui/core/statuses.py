"""The status vocabulary, and what the app makes of words it does not know.

The API's status is a free string (SEED); the words below are our reading of
it (ASSUMED). An unknown word is kept exactly as it came and classed
``StatusKind.UNKNOWN``: shown in a neutral style and polled like an active one,
since nothing says it will not change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

__all__ = [
    "ACTIVE_STATUSES",
    "CHECKING_SYMBOL",
    "CHECKING_WORD",
    "NOT_FOUND_WORD",
    "PURGED_LABEL",
    "SETTLED_STATUSES",
    "CheckedRow",
    "StatusFacts",
    "StatusKind",
    "StatusReading",
    "awaits_first_answer",
    "is_purged",
    "is_settled",
    "read_status",
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


# -- what a 404 means ------------------------------------------------------------------
# The server answers 404 both for an ID it never knew and for one it purged some time
# after it was Deleted. The store keeps the facts (``not_found``: the last answer was a
# 404; ``status``: the last status known, "Deleted" once seen or once our own delete
# request was confirmed by a 404); the rule that reads them is here, once, for the
# table, the summary strip, the views, Inspect, copy and export. Since when a row answers
# 404 is not stored (only that its last check did).

NOT_FOUND_WORD = "Not found"
"""The status a 404 row is exported and summarised with (not a server word)."""
PURGED_LABEL = "Deleted, purged"
"""How a Deleted row the server has since purged is shown."""


class StatusFacts(Protocol):
    """What :func:`read_status` reads (``WatchedConversion`` fits)."""

    @property
    def status(self) -> str | None: ...
    @property
    def not_found(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class StatusReading:
    """A row's status as the app reads it from the stored facts."""

    kind: StatusKind
    """How the row is grouped, coloured and counted (a purged row is ``DELETED``)."""
    word: str | None
    """The status to write down: the server's word, "Deleted" when purged, "Not found"
    for any other 404, None when no answer came yet. Untrusted text: sanitise to show."""
    purged: bool = False
    """Deleted on the server, then purged: it answers 404 now."""
    last_known: str | None = None
    """For a 404: the status known before it (None when the ID was not found from the
    first check)."""

    @property
    def not_found(self) -> bool:
        """The server answers 404 for this ID now (purged or never known)."""
        return self.purged or self.kind is StatusKind.NOT_FOUND

    @property
    def timed(self) -> bool:
        """Whether the row's time in its status (since its last change) is a time in this
        reading's status. Not after a 404 (since when is not recorded), unless the row
        was seen Deleted before it was purged: then it is the time since Deleted."""
        if not self.not_found:
            return True
        return self.purged and status_kind(self.last_known) is StatusKind.DELETED

    def label(self, clean: Callable[[str], str] = str) -> str:
        """A short text for people: "Deleted, purged", "not found", "not found (was
        Processing)", else the status word; ``clean`` sanitises the server's words."""
        if self.purged:
            return PURGED_LABEL
        if self.kind is StatusKind.NOT_FOUND:
            return f"not found (was {clean(self.last_known)})" if self.last_known else "not found"
        return clean(self.word) if self.word else ""


# Rows without a 404 read the same for the same word: one shared reading per word.
_PLAIN: dict[str | None, StatusReading] = {}
# A 404 after these is the end of a deletion: the server purged what it had deleted.
_GONE_AFTER = (StatusKind.DELETED, StatusKind.DELETING)


def is_purged(row: StatusFacts) -> bool:
    """True for a row deleted on the server and purged since: it answers 404 now, and the
    last status known is Deleted (seen, or our own delete request confirmed by a 404) or
    DeletionPending (someone's delete request, its Deleted not seen between two checks)."""
    return row.not_found and status_kind(row.status) in _GONE_AFTER


def read_status(row: StatusFacts) -> StatusReading:
    """The one reading of a row's status; see :class:`StatusReading`.

    A 404 after Deleted is "Deleted, purged" (kind ``DELETED``). Any other 404 is
    "not found": from the first check (no status known), or after another status (the
    conversion existed; someone else deleted it, or the server lost it), which stays
    known as ``last_known``.
    """
    status = row.status
    if not row.not_found:
        reading = _PLAIN.get(status)
        if reading is None:
            reading = StatusReading(status_kind(status), status)
            if len(_PLAIN) < 256:  # server words are untrusted: keep the cache bounded
                _PLAIN[status] = reading
        return reading
    if is_purged(row):
        return StatusReading(StatusKind.DELETED, "Deleted", purged=True, last_known=status)
    return StatusReading(StatusKind.NOT_FOUND, NOT_FOUND_WORD, last_known=status or None)
