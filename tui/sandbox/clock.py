"""The sandbox's clock: wall time plus an offset tests can move, and a speed factor."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class SandboxClock:
    """Time as the sandbox sees it.

    ``now()`` is the wall clock plus an offset; ``advance(seconds)`` moves the offset so a
    test can jump ahead deterministically instead of sleeping. ``speed`` does not bend time
    itself (upload dates stay close to the real date); it shrinks every lifecycle duration,
    so at speed 10 a conversion that would process for 30 s does so in 3 s.
    """

    def __init__(self, *, speed: float = 1.0, wall: Callable[[], float] = time.time) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._wall = wall
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        """Seconds the clock has been moved ahead of the wall clock."""
        return self._offset

    def now(self) -> float:
        """Current sandbox time, in unix seconds."""
        return self._wall() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock ahead by ``seconds`` (not backwards) and return the new offset."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
            return self._offset

    def reset(self) -> None:
        """Forget every advance: back to the wall clock."""
        with self._lock:
            self._offset = 0.0

    def lifecycle_seconds(self, seconds: float) -> float:
        """How long ``seconds`` of lifecycle (at speed 1) last on this clock."""
        return seconds / self.speed


def iso_utc(timestamp: float) -> str:
    """Render a unix timestamp the way the API does: ISO 8601 in UTC with a Z."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
