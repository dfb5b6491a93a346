"""One conversion's record and the state machine that moves it, evaluated lazily.

Nothing runs in the background: a conversion stores the status it was put in, when, and
the plan drawn for it at creation (how long each phase lasts, how it ends). Its status at
any moment is computed from those on read, so ten thousand idle conversions cost nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

UPLOADED = "Uploaded"
QUEUED = "Queued"
PROCESSING = "Processing"
COMPLETED = "Completed"
FAILED = "Failed"
DELETION_PENDING = "DeletionPending"
DELETED = "Deleted"
#: Not a status anyone sees: the record is gone and the API answers 404.
PURGED = "<purged>"

STATUSES = (UPLOADED, QUEUED, PROCESSING, COMPLETED, FAILED, DELETION_PENDING, DELETED)
IN_FLIGHT = frozenset({UPLOADED, QUEUED, PROCESSING})
#: How long a Deleted conversion stays visible before it is purged (seconds at speed 1).
DELETED_RETENTION = 300.0


@dataclass(slots=True)
class LifecyclePlan:
    """Durations (seconds at speed 1) drawn once, when the conversion is created."""

    uploaded: float = 2.0
    queued: float = 3.0
    processing: float = 20.0
    deletion: float = 5.0
    outcome: str = COMPLETED

    @classmethod
    def draw(cls, rng: random.Random, *, outcome: str | None = None,
             failure_rate: float = 0.15) -> LifecyclePlan:
        """A plan with the spec's timings: a few seconds queued, 5-60 s processing."""
        if outcome is None:
            outcome = FAILED if rng.random() < failure_rate else COMPLETED
        return cls(
            uploaded=rng.uniform(1.0, 4.0),
            queued=rng.uniform(1.0, 6.0),
            processing=rng.uniform(5.0, 60.0),
            deletion=rng.uniform(3.0, 10.0),
            outcome=outcome,
        )


@dataclass(slots=True)
class Conversion:
    """What the sandbox knows about one conversion.

    ``status``/``since`` are where it was last put (by creation, a delete, or a test);
    the lifecycle carries it on from there unless ``frozen``. ``warnings``/``errors`` are
    always shown; ``outcome_warnings``/``outcome_errors`` appear once it has finished.
    """

    id: int
    file_name: str
    data_source_type: str
    upload_date: float
    status: str
    since: float
    plan: LifecyclePlan = field(default_factory=LifecyclePlan)
    frozen: bool = False
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outcome_warnings: list[str] = field(default_factory=list)
    outcome_errors: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    outcome_metadata: dict[str, Any] = field(default_factory=dict)
    extra_payload: dict[str, Any] = field(default_factory=dict)
    seeded: bool = False

    def _duration(self, status: str) -> float | None:
        durations = {
            UPLOADED: self.plan.uploaded,
            QUEUED: self.plan.queued,
            PROCESSING: self.plan.processing,
            DELETION_PENDING: self.plan.deletion,
            DELETED: DELETED_RETENTION,
        }
        return durations.get(status)

    def _successor(self, status: str) -> str:
        return {
            UPLOADED: QUEUED,
            QUEUED: PROCESSING,
            PROCESSING: self.plan.outcome,
            DELETION_PENDING: DELETED,
            DELETED: PURGED,
        }[status]

    def status_at(self, now: float, speed: float) -> tuple[str, float]:
        """The status at sandbox time ``now`` and when it was entered."""
        status, entered = self.status, self.since
        if self.frozen:
            return status, entered
        while True:
            duration = self._duration(status)
            if duration is None:  # settled, or a word outside the vocabulary: stays put
                return status, entered
            ends = entered + duration / speed
            if now < ends:
                return status, entered
            status, entered = self._successor(status), ends
            if status == PURGED:
                return status, entered

    def shown_messages(self, status: str) -> tuple[list[str], list[str]]:
        """Warnings and errors a status answer carries in ``status``."""
        if status in IN_FLIGHT:
            return list(self.warnings), list(self.errors)
        return (list(self.warnings) + list(self.outcome_warnings),
                list(self.errors) + list(self.outcome_errors))

    def shown_metadata(self, status: str) -> dict[str, Any]:
        """Metadata a status answer carries in ``status``."""
        if status in IN_FLIGHT:
            return dict(self.metadata)
        return {**self.metadata, **self.outcome_metadata}
