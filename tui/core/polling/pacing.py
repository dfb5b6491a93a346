"""Request pacing for the poller: a token bucket, the slow return after a 429, backoff.

Everything here is plain arithmetic on a caller-supplied clock (seconds, monotonic),
so the scheduler can be tested with virtual time and nothing here ever sleeps.
"""

from __future__ import annotations

import math
import random

__all__ = ["ErrorSpell", "RecoveryRamp", "TokenBucket", "backoff_delay", "jittered"]


class TokenBucket:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` saved up.

    ``rate`` may be ``math.inf`` (the budget is lifted): then a token is always there.
    """

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._rate = rate
        self._burst = max(1.0, burst)
        self._tokens = self._burst
        self._stamp = now

    @property
    def rate(self) -> float:
        """Tokens added per second."""
        return self._rate

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            if math.isinf(self._rate):
                self._tokens = self._burst
            else:
                self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        # A clock that went backwards (or a bucket made on another clock) must not
        # starve us until it catches up: count from here.
        self._stamp = now

    def set_rate(self, rate: float, now: float) -> None:
        """Change the rate from ``now`` on (tokens earned so far are kept)."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._refill(now)
        self._rate = rate

    def drain(self, now: float, keep: float = 0.0) -> None:
        """Throw away saved tokens beyond ``keep`` (no burst right after a 429 hold)."""
        self._refill(now)
        self._tokens = min(self._tokens, keep)

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 when one is there now)."""
        self._refill(now)
        # The epsilon absorbs float dust: waking 1e-15 s early must not mean another wait.
        if self._tokens >= 1.0 - 1e-9 or math.isinf(self._rate):
            return 0.0
        return (1.0 - self._tokens) / self._rate

    def take(self, now: float) -> None:
        """Spend one token (callers check :meth:`wait_time` first)."""
        self._refill(now)
        if not math.isinf(self._rate):
            self._tokens -= 1.0


class RecoveryRamp:
    """The request rate after a 429: starts low and doubles every ``period`` seconds.

    The server told us to slow down; coming back at the full budget at once
    would earn the next 429 straight away, so the ceiling grows from ``start``
    until it reaches the budget (or after ``max_doublings``, for a lifted budget).
    """

    def __init__(self, start: float, period: float = 1.0, max_doublings: int = 10) -> None:
        self._start = max(start, 1e-3)
        self._period = period
        self._max_doublings = max_doublings
        self._began: float | None = None

    @property
    def active(self) -> bool:
        """True while the ramp limits the rate."""
        return self._began is not None

    def begin(self, at: float) -> None:
        """Start (or restart) the ramp at ``at`` (the end of the hold)."""
        self._began = at

    def ceiling(self, now: float, budget: float) -> float:
        """The rate allowed at ``now``; ends the ramp once the budget is reached."""
        if self._began is None:
            return budget
        doublings = max(0.0, now - self._began) / self._period
        if doublings >= self._max_doublings:
            self._began = None
            return budget
        ceiling = self._start * math.pow(2.0, doublings)
        if ceiling >= budget:
            self._began = None
            return budget
        return ceiling


class ErrorSpell:
    """Which rows are backing off after errors, and whether that is the server's spell.

    Errors of two or more rows make a spell (the server failing, not one broken ID). It
    is over at the first answer after ``quiet`` seconds without any row error; then the
    rows that backed off during it should be asked again (the scheduler does that and
    marks them *pulled*). Errors of a pulled row are its own: they do not make a spell,
    so an ID that keeps failing while others answer is pulled at most once per spell.
    """

    def __init__(self) -> None:
        self.backed_off: set[int] = set()  # IDs whose last check failed
        self._ids: set[int] = set()  # IDs whose errors make the current spell
        self._last_error = -math.inf

    @property
    def wide(self) -> bool:
        """True while two or more rows' errors make a spell."""
        return len(self._ids) >= 2

    def failed(self, conversion_id: int, now: float, *, pulled: bool) -> None:
        """A check of ``conversion_id`` failed at ``now``."""
        self.backed_off.add(conversion_id)
        self._last_error = now
        if not pulled:
            self._ids.add(conversion_id)

    def answered(self, conversion_id: int, now: float, quiet: float) -> bool:
        """A check of ``conversion_id`` succeeded; True when that ends a spell (once)."""
        self.backed_off.discard(conversion_id)
        if not self.wide or now - self._last_error < quiet:
            return False  # no spell, or errors still come: the failing rows back off
        self._ids.clear()
        return True

    def forget(self, ids: set[int]) -> None:
        """``ids`` are no longer watched."""
        self.backed_off -= ids
        self._ids -= ids


def jittered(delay: float, rng: random.Random, spread: float = 0.2) -> float:
    """``delay`` moved at random by up to ``spread`` (±20 %) so clients do not march in step."""
    return delay * (1.0 + rng.uniform(-spread, spread))


def backoff_delay(base: float, failures: int, cap: float, rng: random.Random) -> float:
    """``base * 2**failures``, capped at ``cap``, with ±20 % jitter."""
    raw = base * math.pow(2.0, min(failures, 60))
    return jittered(min(raw, cap), rng)
