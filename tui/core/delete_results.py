"""What a delete came to: one :class:`DeleteResult` per ID (its :class:`DeleteOutcome`,
a reason safe to show), the row's short message (:func:`describe`), and the bulk's
:class:`DeleteSummary` with its sentence for the toast. Sending the deletes is
:mod:`tui.core.deletion`'s."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["DeleteOutcome", "DeleteResult", "DeleteSummary", "describe"]


class DeleteOutcome(StrEnum):
    """What one delete request came to; the value is the audit log's outcome word."""

    REQUESTED = "requested"
    REFUSED = "refused"
    ALREADY_DELETED = "already_deleted"
    NOT_FOUND = "not_found"
    AUTH = "auth"
    SKIPPED = "skipped"
    RATE_LIMITED = "rate_limited"
    FAILED = "failed"


_LABELS: dict[DeleteOutcome, str] = {
    DeleteOutcome.REQUESTED: "Deletion requested",
    DeleteOutcome.REFUSED: "Refused",
    DeleteOutcome.ALREADY_DELETED: "Already deleted",
    DeleteOutcome.NOT_FOUND: "Not found",
    DeleteOutcome.AUTH: "Key refused",
    DeleteOutcome.SKIPPED: "Not sent",
    DeleteOutcome.RATE_LIMITED: "Rate limited",
    DeleteOutcome.FAILED: "Delete failed",
}


@dataclass(frozen=True, slots=True)
class DeleteResult:
    """The outcome of deleting one conversion.

    ``reason`` is one short sentence, safe to show (server text made printable);
    ``status`` is the status the server reported with a refusal; ``retry_after``
    the wait a 429 asked for, in seconds.
    """

    id: int
    outcome: DeleteOutcome
    reason: str
    at: float
    status: str | None = None
    retry_after: float | None = None


def describe(result: DeleteResult) -> str:
    """A short message for the row: "Refused: still Processing: wait until ...".

    An already-deleted answer's reason says it all ("was already deleted on the
    server"): a label in front would only repeat it."""
    if result.outcome is DeleteOutcome.ALREADY_DELETED:
        return result.reason
    return f"{_LABELS[result.outcome]}: {result.reason}"


@dataclass(slots=True)
class DeleteSummary:
    """Every ID's result, in the order the IDs were given, and a sentence for the toast."""

    results: list[DeleteResult] = field(default_factory=list)

    def of(self, *outcomes: DeleteOutcome) -> list[DeleteResult]:
        """The results with one of ``outcomes``."""
        return [result for result in self.results if result.outcome in outcomes]

    @property
    def requested(self) -> list[DeleteResult]:
        """Marked for deletion (the poller follows them to Deleted)."""
        return self.of(DeleteOutcome.REQUESTED)

    @property
    def refused(self) -> list[DeleteResult]:
        """Refused by the server in their current status (409)."""
        return self.of(DeleteOutcome.REFUSED)

    @property
    def failed(self) -> list[DeleteResult]:
        """Not done for another reason: key, rate limit, network, server, not sent."""
        return self.of(DeleteOutcome.FAILED, DeleteOutcome.AUTH, DeleteOutcome.RATE_LIMITED,
                       DeleteOutcome.SKIPPED)

    @property
    def stopped_by_auth(self) -> bool:
        """True when a refused key stopped the bulk delete."""
        return any(result.outcome is DeleteOutcome.AUTH for result in self.results)

    def sentence(self) -> str:
        """One line for a toast: "3 marked for deletion, 2 refused (still Processing), 1 failed"."""
        if not self.results:
            return "Nothing to delete"
        parts: list[str] = []
        if requested := self.requested:
            parts.append(f"{len(requested)} marked for deletion")
        if refused := self.refused:
            statuses = sorted({result.status or "not deletable now" for result in refused})
            shown = "still Processing" if statuses == ["Processing"] else ", ".join(statuses)
            parts.append(f"{len(refused)} refused ({shown})")
        if gone := self.of(DeleteOutcome.ALREADY_DELETED):
            parts.append(f"{len(gone)} already deleted")
        if missing := self.of(DeleteOutcome.NOT_FOUND):
            parts.append(f"{len(missing)} not found")
        if limited := self.of(DeleteOutcome.RATE_LIMITED):
            waits = [r.retry_after for r in limited if r.retry_after is not None]
            hint = f"wait {math.ceil(max(waits))} s, then press d again" if waits else (
                "wait a moment, then press d again")
            parts.append(f"{len(limited)} rate limited ({hint})")
        if failed := self.of(DeleteOutcome.FAILED):
            parts.append(f"{len(failed)} failed")
        if self.stopped_by_auth:
            skipped = len(self.of(DeleteOutcome.SKIPPED))
            parts.append("the key was refused" + (f"; {skipped} not sent" if skipped else ""))
        return ", ".join(parts)
