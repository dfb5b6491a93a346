"""What the watchlist is doing: rows per status kind, and status changes per minute.

The monitor's summary strip shows both. Counting kinds is a pass over the rows
the table already holds; the per-minute activity comes from the recorded
status history (``Watchlist.changes_between``: one query over the last hour),
bucketed here so the UI only draws numbers.

Buckets are wall-clock minutes, half-open ``[start, start + 60)``: a change at
exactly 12:05:00 counts in the 12:05 minute. The newest bucket is the minute
``now`` falls in (still filling up); changes before the window or after that
minute are ignored. Status words are classified with
:func:`tui.core.statuses.status_kind`, so an unknown word counts as
``StatusKind.UNKNOWN``, never as a completion or a failure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tui.core.statuses import StatusFacts, StatusKind, read_status, status_kind
from tui.core.watchlist import StatusChange

__all__ = [
    "MINUTE",
    "WINDOW_MINUTES",
    "MinuteActivity",
    "StatusRow",
    "activity_window",
    "count_kinds",
    "minute_buckets",
    "row_kind",
]

MINUTE = 60.0
WINDOW_MINUTES = 60
"""The summary strip looks back one hour."""


StatusRow = StatusFacts
"""What kind counting reads from a row (``WatchedConversion`` fits)."""


def row_kind(row: StatusRow) -> StatusKind:
    """The kind a row is shown as (as in the table): a 404 is Not found, unless it
    follows Deleted (then the row was purged, and counts as Deleted)."""
    return read_status(row).kind


def count_kinds(rows: Iterable[StatusRow]) -> dict[StatusKind, int]:
    """How many rows are of each kind (every kind present, zeros included)."""
    counts = dict.fromkeys(StatusKind, 0)
    # Status words repeat a lot: classify each distinct word once.
    kinds: dict[str | None, StatusKind] = {}
    for row in rows:
        if row.not_found:
            counts[read_status(row).kind] += 1
            continue
        status = row.status
        kind = kinds.get(status)
        if kind is None:
            kind = kinds[status] = status_kind(status)
        counts[kind] += 1
    return counts


def activity_window(now: float, minutes: int = WINDOW_MINUTES) -> tuple[float, float]:
    """``(start, end)`` of the buckets for ``now``: ``minutes`` whole minutes ending with
    the one ``now`` is in. Ask the history for changes with ``start <= seen_at < end``."""
    end = math.floor(now / MINUTE) * MINUTE + MINUTE
    return end - minutes * MINUTE, end


@dataclass(frozen=True, slots=True)
class MinuteActivity:
    """Status changes per minute, by kind; each tuple is oldest minute first."""

    start: float
    """Unix time where the oldest bucket begins (a whole minute)."""
    minutes: int
    counts: Mapping[StatusKind, tuple[int, ...]] = field(default_factory=dict)

    def of(self, kind: StatusKind) -> tuple[int, ...]:
        """Changes into ``kind`` per minute (zeros when none)."""
        return self.counts.get(kind, (0,) * self.minutes)

    @property
    def completed(self) -> tuple[int, ...]:
        """Completions per minute."""
        return self.of(StatusKind.COMPLETED)

    @property
    def failed(self) -> tuple[int, ...]:
        """Failures per minute."""
        return self.of(StatusKind.FAILED)


def minute_buckets(changes: Iterable[StatusChange], now: float,
                   minutes: int = WINDOW_MINUTES) -> MinuteActivity:
    """Bucket recorded changes (``Watchlist.changes_between``) into the minutes up to ``now``,
    by the kind of status each change went to."""
    if minutes < 1:
        raise ValueError("minutes must be at least 1")
    start, end = activity_window(now, minutes)
    buckets: dict[StatusKind, list[int]] = {}
    kinds: dict[str | None, StatusKind] = {}
    for change in changes:
        seen_at, status = change.at, change.current
        if change.previous is None or not start <= seen_at < end:
            continue
        kind = kinds.get(status)
        if kind is None:
            kind = kinds[status] = status_kind(status)
        row = buckets.get(kind)
        if row is None:
            row = buckets[kind] = [0] * minutes
        # min(): float rounding must not push a change just under `end` past the last bucket.
        row[min(int((seen_at - start) // MINUTE), minutes - 1)] += 1
    return MinuteActivity(start, minutes, {kind: tuple(row) for kind, row in buckets.items()})
