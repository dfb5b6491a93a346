"""The sandbox's state: conversions, the clock, faults and request counters.

Shared by the server thread and the test thread, so every method takes the lock. Status is
never stored as "current": it is computed from timestamps on each read (see lifecycle.py).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.sandbox.clock import SandboxClock, iso_utc
from tui.sandbox.demo_data import (
    DEMO_PROFILE,
    outcome_messages,
    seed_conversions,
    time_before_status,
)
from tui.sandbox.faults import FaultConfig, FaultDice, TokenBucket
from tui.sandbox.lifecycle import (
    COMPLETED,
    DELETED,
    DELETION_PENDING,
    FAILED,
    PROCESSING,
    PURGED,
    UPLOADED,
    Conversion,
    LifecyclePlan,
)
from tui.sandbox.store import ConversionStore, MemoryStore, SqliteStore

#: Conversion ids start here, so they look like a service that has been running a while.
FIRST_ID = 48210


@dataclass(frozen=True, slots=True)
class ConversionSnapshot:
    """A conversion as the API would show it right now."""

    id: int
    status: str
    file_name: str
    data_source_type: str
    upload_date: str
    warnings: tuple[str, ...]
    errors: tuple[str, ...]
    metadata: dict[str, Any]
    payload: dict[str, Any]
    frozen: bool


@dataclass(frozen=True, slots=True)
class DeletionOutcome:
    """What a delete request did: ``kind`` is accepted, pending, conflict, gone or missing."""

    kind: str
    snapshot: ConversionSnapshot | None = None


@dataclass
class RequestStats:
    """Requests the API side has seen (the control plane is not counted)."""

    total: int = 0
    by_route: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)


class SandboxState:
    """Everything the sandbox server knows, with an in-process handle for tests."""

    def __init__(self, *, seed_count: int = 0, speed: float = 1.0, rng_seed: int | None = None,
                 db_path: Path | None = None, clock: SandboxClock | None = None) -> None:
        self.clock = clock if clock is not None else SandboxClock(speed=speed)
        self.faults = FaultConfig()
        self.fault_dice = FaultDice(rng_seed)
        self.rate_bucket = TokenBucket()
        self.profile: dict[str, Any] | None = dict(DEMO_PROFILE)
        #: The X-API-KEY the API accepts; rotated at run time through the control plane.
        self.api_key = "demo-key"
        self.stats = RequestStats()
        self.seed_count = seed_count
        self._rng_seed = rng_seed
        self._rng = random.Random(rng_seed)
        self._lock = threading.RLock()
        self._store: ConversionStore = SqliteStore(db_path) if db_path else MemoryStore()
        if self._store.get_meta("next_id") is None:  # a new store (a --db reopened keeps its)
            self._seed(seed_count)

    # -- bookkeeping -------------------------------------------------------------------------

    @property
    def request_count(self) -> int:
        """API requests received since the last reset (faulted and dropped ones included)."""
        return self.stats.total

    def count_request(self, method: str, path: str) -> None:
        """Record one API request."""
        with self._lock:
            self.stats.total += 1
            self.stats.by_route[f"{method} {path}"] += 1

    def count_fault(self, name: str) -> None:
        """Record one injected fault."""
        with self._lock:
            self.stats.faults[name] += 1

    def reset_stats(self) -> None:
        """Zero the request counters."""
        with self._lock:
            self.stats = RequestStats()

    def _new_id(self) -> int:
        text = self._store.get_meta("next_id")
        next_id = int(text) if text is not None else FIRST_ID
        self._store.set_meta("next_id", str(next_id + 1))
        return next_id

    def _seed(self, count: int) -> None:
        with self._lock:
            rng = random.Random(self._rng_seed)
            made = seed_conversions(rng, count=count, first_id=FIRST_ID, now=self.clock.now(),
                                    speed=self.clock.speed)
            self._store.put_many(made)
            self._store.set_meta("next_id", str(FIRST_ID + len(made)))
            self._store.set_meta("seeded", ",".join(str(c.id) for c in made))

    def reset(self, *, seed_count: int | None = None) -> None:
        """Back to a fresh start: store reseeded, clock, faults, counters and rng reset."""
        with self._lock:
            if seed_count is not None:
                self.seed_count = seed_count
            self._store.clear()
            self.clock.reset()
            self.faults.clear()
            self.fault_dice = FaultDice(self._rng_seed)
            self.rate_bucket.reset()
            self.profile = dict(DEMO_PROFILE)
            self._rng = random.Random(self._rng_seed)
            self.reset_stats()
            self._seed(self.seed_count)

    def close(self) -> None:
        """Release the store (the SQLite file)."""
        with self._lock:
            self._store.close()

    # -- reading -----------------------------------------------------------------------------

    def _current(self, conversion_id: int) -> tuple[Conversion, str] | None:
        """The conversion and its status now; purges it when its retention is over."""
        conversion = self._store.get(conversion_id)
        if conversion is None:
            return None
        status, _ = conversion.status_at(self.clock.now(), self.clock.speed)
        if status == PURGED:
            self._store.remove(conversion_id)
            return None
        return conversion, status

    def _snapshot(self, conversion: Conversion, status: str) -> ConversionSnapshot:
        warnings, errors = conversion.shown_messages(status)
        upload = iso_utc(conversion.upload_date)
        payload = {
            "id": conversion.id,
            "fileName": conversion.file_name,
            "dataSourceType": conversion.data_source_type,
            "status": status,
            "uploadDate": upload,
            **conversion.extra_payload,
        }
        return ConversionSnapshot(
            id=conversion.id, status=status, file_name=conversion.file_name,
            data_source_type=conversion.data_source_type, upload_date=upload,
            warnings=tuple(warnings), errors=tuple(errors),
            metadata=conversion.shown_metadata(status), payload=payload, frozen=conversion.frozen,
        )

    def get(self, conversion_id: int) -> ConversionSnapshot | None:
        """The conversion as the status endpoint would show it now (None: 404)."""
        with self._lock:
            found = self._current(conversion_id)
            return None if found is None else self._snapshot(*found)

    def seeded_ids(self) -> list[int]:
        """Ids made by the demo seed (purged ones included)."""
        with self._lock:
            text = self._store.get_meta("seeded") or ""
        return [int(part) for part in text.split(",") if part]

    def ids(self) -> list[int]:
        """Every id currently stored."""
        with self._lock:
            return [conversion.id for conversion in self._store.all()]

    def status_of(self, conversion_id: int) -> str | None:
        """Its status now, or None once it is gone (purged, or never was)."""
        with self._lock:
            found = self._current(conversion_id)
            return None if found is None else found[1]

    def counts_by_status(self) -> dict[str, int]:
        """How many conversions are in each status right now."""
        counts: Counter[str] = Counter()
        with self._lock:
            now, speed = self.clock.now(), self.clock.speed
            for conversion in self._store.all():
                status, _ = conversion.status_at(now, speed)
                if status != PURGED:
                    counts[status] += 1
        return dict(counts)

    # -- changing ----------------------------------------------------------------------------

    def add_conversion(
        self, *, status: str = UPLOADED, file_name: str = "x.csv", data_source_type: str = "Csv",
        warnings: Iterable[str] = (), errors: Iterable[str] = (),
        metadata: dict[str, Any] | None = None, extra_payload: dict[str, Any] | None = None,
        age_in_status: float = 0.0, frozen: bool = False, outcome: str | None = None,
        plan: LifecyclePlan | None = None,
    ) -> int:
        """Create a conversion directly (no validation: hostile strings welcome).

        It starts in ``status`` as if it entered it ``age_in_status`` seconds ago (speed-1
        seconds) and follows the lifecycle from there unless ``frozen``. Without ``plan``
        the phases take fixed times (Uploaded 2 s, Queued 3 s, Processing 20 s,
        DeletionPending 5 s) so tests can count on them. ``outcome`` defaults to Failed when
        ``errors`` are given, else Completed. Returns the new id.
        """
        errors = list(errors)
        if plan is None:
            plan = LifecyclePlan(outcome=outcome or (FAILED if errors else COMPLETED))
        elif outcome is not None:
            plan.outcome = outcome
        with self._lock:
            now, speed = self.clock.now(), self.clock.speed
            since = now - age_in_status / speed
            conversion = Conversion(
                id=self._new_id(), file_name=file_name, data_source_type=data_source_type,
                upload_date=since - time_before_status(status, plan, self._rng) / speed,
                status=status, since=since, plan=plan, frozen=frozen,
                warnings=list(warnings), errors=errors, metadata=dict(metadata or {}),
                extra_payload=dict(extra_payload or {}),
            )
            self._store.put(conversion)
            return conversion.id

    def admit(self, build: Callable[[int, float], Conversion]) -> int:
        """Store the conversion ``build(new_id, now)`` makes; returns its id.

        For callers that draw a whole conversion themselves (the demo's flow): the id and
        the clock reading come from here, under the lock, so ids stay unique and in order.
        """
        with self._lock:
            conversion = build(self._new_id(), self.clock.now())
            self._store.put(conversion)
            return conversion.id

    def accept_upload(self, *, file_name: str, data_source_type: str,
                      metadata: dict[str, Any], failure: str | None = None) -> ConversionSnapshot:
        """A record the batch endpoint accepted: Uploaded now, with a drawn lifecycle.

        ``failure`` (a reason found in the content, e.g. not UTF-8) makes it end Failed.
        """
        with self._lock:
            plan = LifecyclePlan.draw(self._rng, outcome=FAILED if failure else None)
            warnings, errors, outcome_meta = outcome_messages(self._rng, plan.outcome)
            if failure:
                errors = [failure]
            now = self.clock.now()
            conversion = Conversion(
                id=self._new_id(), file_name=file_name, data_source_type=data_source_type,
                upload_date=now, status=UPLOADED, since=now, plan=plan,
                outcome_warnings=warnings, outcome_errors=errors, metadata=metadata,
                outcome_metadata=outcome_meta,
            )
            self._store.put(conversion)
            return self._snapshot(conversion, UPLOADED)

    def request_deletion(self, conversion_id: int) -> DeletionOutcome:
        """What DELETE does: mark for deletion unless Processing (conflict) or Deleted."""
        with self._lock:
            found = self._current(conversion_id)
            if found is None:
                return DeletionOutcome("missing")
            conversion, status = found
            if status == PROCESSING:
                return DeletionOutcome("conflict", self._snapshot(conversion, status))
            if status == DELETED:
                return DeletionOutcome("gone", self._snapshot(conversion, status))
            if status == DELETION_PENDING:
                return DeletionOutcome("pending", self._snapshot(conversion, status))
            conversion.status, conversion.since = DELETION_PENDING, self.clock.now()
            self._store.put(conversion)
            return DeletionOutcome("accepted", self._snapshot(conversion, DELETION_PENDING))

    def _change(self, conversion_id: int, *, status: str | None = None,
                frozen: bool | None = None) -> None:
        with self._lock:
            found = self._current(conversion_id)
            if found is None:
                raise KeyError(conversion_id)
            conversion, _ = found
            now, speed = self.clock.now(), self.clock.speed
            if status is not None:
                conversion.status, conversion.since = status, now
            elif frozen and not conversion.frozen:
                # Pin where it is now, not where it was last put.
                conversion.status, conversion.since = conversion.status_at(now, speed)
            elif frozen is False and conversion.frozen:
                conversion.since = now  # thaw: carry on from now, not catch up at once
            if frozen is not None:
                conversion.frozen = frozen
            self._store.put(conversion)

    def freeze(self, conversion_id: int) -> None:
        """Pin a conversion in its current status (KeyError when unknown)."""
        self._change(conversion_id, frozen=True)

    def unfreeze(self, conversion_id: int) -> None:
        """Let a pinned conversion carry on from its status."""
        self._change(conversion_id, frozen=False)

    def set_status(self, conversion_id: int, status: str, *, frozen: bool | None = None) -> None:
        """Put a conversion in ``status`` now (any word); it carries on from there."""
        self._change(conversion_id, status=status, frozen=frozen)

    def advance(self, seconds: float) -> None:
        """Fast-forward the clock by ``seconds``."""
        self.clock.advance(seconds)

    def __repr__(self) -> str:
        return f"SandboxState(conversions={self._store.count()}, speed={self.clock.speed})"
