"""What the poll scheduler takes and gives: settings, connectivity, updates, counters.

Apart from :mod:`tui.core.polling.scheduler` so the UI can name these types without
the scheduler's machinery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from tui.api.models import StatusEnvelope
from tui.core.watchlist import PollResult, StatusChange, WatchedConversion, WatchlistChanges

__all__ = [
    "Connectivity",
    "ConnectivityState",
    "PollSettings",
    "PollStats",
    "PollUpdate",
    "RowPollState",
    "StatusSource",
    "WatchlistStore",
]


class StatusSource(Protocol):
    """Anything that can fetch one conversion's status (``ConversionsClient`` does)."""

    async def get_status(self, conversion_id: int) -> StatusEnvelope:
        """The status envelope of ``conversion_id``; raises ``tui.api.errors.ApiError``."""
        ...


class WatchlistStore(Protocol):
    """The part of ``tui.core.watchlist.Watchlist`` the scheduler uses."""

    def all(self) -> list[WatchedConversion]:
        """Every watched conversion."""
        ...

    def get(self, conversion_id: int) -> WatchedConversion | None:
        """One watched conversion, or None."""
        ...

    def record_results(self, results: Sequence[PollResult]) -> list[StatusChange]:
        """Store a batch of results in one transaction; return the status changes."""
        ...

    def feed_seq(self) -> int:
        """The change feed's number now."""
        ...

    def changes_since(self, seq: int) -> WatchlistChanges:
        """What other processes wrote after feed number ``seq``."""
        ...


@dataclass(slots=True)
class PollSettings:
    """How often and how hard to poll (per profile; see :meth:`from_profile`)."""

    interval: float = 5.0  # seconds between checks of an active conversion
    settled_interval: float = 600.0  # seconds between re-checks of a settled one
    concurrency: int = 8  # requests in flight at most
    request_budget: float = 20.0  # requests per second at most (math.inf: no limit)
    settled_share: float = 0.1  # share of the budget settled re-checks may use (>= 1 req/s)
    # Share of the requests new, never-checked IDs may take while active rows are due (a
    # paste of 10,000 must not starve them); with no active row due they may use them all.
    new_share: float = 0.25
    max_backoff: float = 300.0  # longest wait after repeated errors of one ID
    # Longest wait between probes while offline; the poll interval caps it too, so
    # recovery after an outage never waits longer than one interval for the next probe.
    offline_probe_max: float = 30.0
    flush_interval: float = 0.2  # seconds between batched updates at most
    offline_probe_min: float = 1.0  # first wait before probing after losing the connection
    rate_limit_hold: float = 5.0  # hold after a 429 that gave no Retry-After
    flush_batch: int = 200  # flush at once when this many results are waiting
    # Rows whose checks time out this many times in a row (while others answer) move to
    # the slow lane, which may hold at most ``slow_slots`` of the ``concurrency`` slots:
    # a trickling server must not stop every other row from being checked.
    slow_after: int = 2
    slow_share: float = 0.25
    # Refusals (403 naming a known key) of this many different rows for an interval with
    # no answer between mean the key itself is refused; fewer are those rows' problem.
    key_refusal_rows: int = 3

    def __post_init__(self) -> None:
        for name in ("interval", "settled_interval", "request_budget", "max_backoff",
                     "offline_probe_max", "offline_probe_min", "rate_limit_hold"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"{name} must be positive, not {value!r}")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not 0 < self.settled_share <= 1:
            raise ValueError("settled_share must be in (0, 1]")
        if not 0 < self.new_share < 1:
            raise ValueError("new_share must be in (0, 1)")
        if self.flush_interval < 0 or self.flush_batch < 1:
            raise ValueError("flush_interval must be >= 0 and flush_batch >= 1")
        if self.slow_after < 1 or not 0 < self.slow_share <= 1:
            raise ValueError("slow_after must be >= 1 and slow_share in (0, 1]")
        if self.key_refusal_rows < 2:
            raise ValueError("key_refusal_rows must be at least 2")

    @classmethod
    def from_profile(cls, profile: object, **overrides: Any) -> PollSettings:
        """Settings from a ``ProfileSettings`` (poll_interval, settled_interval,
        concurrency, request_budget, read by name; missing ones keep their default)."""
        defaults = cls()
        values: dict[str, Any] = {
            "interval": getattr(profile, "poll_interval", defaults.interval),
            "settled_interval": getattr(profile, "settled_interval", defaults.settled_interval),
            "concurrency": getattr(profile, "concurrency", defaults.concurrency),
            "request_budget": getattr(profile, "request_budget", defaults.request_budget),
        }
        values.update(overrides)
        return cls(**values)

    @property
    def slow_slots(self) -> int:
        """Requests rows in the slow lane may have in flight at once (at least one)."""
        return max(1, int(self.concurrency * self.slow_share))

    @property
    def spare_slots(self) -> int:
        """Requests that may go out beyond ``concurrency`` while others are stuck (out for
        longer than an interval): half the concurrency, at least one."""
        return max(1, self.concurrency // 2)

    @property
    def settled_rate(self) -> float:
        """Requests per second settled re-checks may use: a share, at least 1/s."""
        return min(self.request_budget, max(1.0, self.request_budget * self.settled_share))


class ConnectivityState(Enum):
    """The one banner state of the poller."""

    ONLINE = "online"
    OFFLINE = "offline"  # no HTTP answer: one ID is probed with backoff
    RATE_LIMITED = "rate_limited"  # 429: everyone holds until retry_at
    AUTH_FAILED = "auth_failed"  # the key is refused: nothing is polled until set_client()
    PAUSED = "paused"  # the user paused automatic polling
    SERVER_FAILING = "server_failing"  # answers come, but most recent checks fail


@dataclass(frozen=True, slots=True)
class Connectivity:
    """Where polling stands. Times are wall-clock (unix seconds); the UI formats them."""

    state: ConnectivityState
    since: float | None = None
    retry_at: float | None = None
    message: str = ""  # the cause, e.g. "connection refused"; never contains the key
    #: The team's store is away, not the API: the banner says it, no "server" alert.
    store: bool = False


@dataclass(slots=True)
class PollUpdate:
    """One batched update for the UI."""

    rows: list[WatchedConversion]
    changes: list[StatusChange]
    connectivity: Connectivity
    #: IDs someone else removed from the stored watchlist (no longer polled).
    removed: list[int] = field(default_factory=list)
    #: IDs someone else (re)added to the stored watchlist (their rows are in ``rows``).
    added: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RowPollState:
    """Where the scheduler stands with one row (for diagnostics and the fault matrix)."""

    in_flight: bool
    due_in: float | None  # seconds until its next check (None: in flight or not queued)
    failures: int  # checks failed in a row (its backoff doubles with each)
    slow: bool  # in the slow lane (its checks keep timing out)


@dataclass(slots=True)
class PollStats:
    """Counters for the status bar and benchmarks."""

    requests_sent: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    answers: int = 0  # requests that got an HTTP answer of any kind
    errors: int = 0  # requests that did not end in a status
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    results_recorded: int = 0
    updates_sent: int = 0

    def count_error(self, kind: str) -> None:
        """Count one failed request of ``kind``."""
        self.errors += 1
        self.errors_by_kind[kind] = self.errors_by_kind.get(kind, 0) + 1
