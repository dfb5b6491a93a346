"""What changed since you last looked: the summary a monitor gives after a gap.

Support staff leave the monitor for hours (a night, a meeting). When they come back (the
app started again, or a key pressed after a long quiet), one sentence says what happened
meanwhile: "Since you last looked (18 h ago): 12 completed, 3 failed (2 new kinds of
error), 1 stuck". When they last looked is kept per profile in a small file in the state
folder, written as they use the app.

A *kind* of error is its message with the variable parts masked (numbers, quoted values),
so "Row 12: date '03/04' is ambiguous" and "Row 90: date '05/06' is ambiguous" are one kind;
a kind is new when no row that failed before the gap had it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tui.core.problems import error_kind  # the one masking (Problems view too)
from tui.core.statuses import StatusKind, status_kind
from tui.core.timeinstatus import StuckAfter, is_stuck
from tui.core.watchlist import StatusChange, WatchedConversion

__all__ = ["GAP", "LastLooked", "SinceSummary", "error_kind", "summarize_since"]

GAP = 30 * 60.0
"""Seconds without looking after which the summary is worth giving."""

class LastLooked:
    """When a person last looked at one profile's monitor (unix seconds), in a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> float | None:
        """The time written last; None when never (or the file is unreadable)."""
        try:
            value = json.loads(self.path.read_text(encoding="utf-8")).get("looked_at")
        except (OSError, ValueError, AttributeError):
            return None
        return float(value) if isinstance(value, int | float) else None

    def write(self, at: float) -> None:
        """Note ``at`` (atomically; a failure to write is not worth a word)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".looked.")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"looked_at": at}, out)
            os.replace(temp, self.path)
        except OSError:
            pass


@dataclass(frozen=True, slots=True)
class SinceSummary:
    """What changed between ``since`` and now."""

    since: float
    completed: int = 0
    failed: int = 0
    new_error_kinds: int = 0
    deleted: int = 0
    stuck: int = 0
    changed: tuple[int, ...] = ()  # the conversions that changed status, oldest first

    def sentence(self, now: float) -> str | None:
        """"Since you last looked (18 h ago): 12 completed, 3 failed (2 new kinds of
        error), 1 stuck"; None when nothing happened."""
        parts = []
        if self.completed:
            parts.append(f"{self.completed:,} completed")
        if self.failed:
            kinds = self.new_error_kinds
            new = (f" ({kinds} new kind{'s' if kinds > 1 else ''} of error)" if kinds else "")
            parts.append(f"{self.failed:,} failed{new}")
        if self.deleted:
            parts.append(f"{self.deleted:,} deleted")
        if self.stuck:
            parts.append(f"{self.stuck:,} stuck")
        if not parts:
            return None
        return f"Since you last looked ({_ago(now - self.since)} ago): {', '.join(parts)}"


def _ago(seconds: float) -> str:
    minutes = int(max(seconds, 0) // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} d"


def summarize_since(since: float, now: float, changes: Sequence[StatusChange],
                    rows: Mapping[int, WatchedConversion],
                    stuck_after: StuckAfter) -> SinceSummary:
    """What ``changes`` (status changes seen between ``since`` and ``now``, first
    statuses left out) did to the watched ``rows``; each conversion counted once, by the
    status it ended in."""
    last: dict[int, StatusChange] = {}
    for change in changes:
        if change.id in rows and since <= change.at < now:
            last.pop(change.id, None)
            last[change.id] = change  # the latest wins; order by when it last changed
    ended = {i: status_kind(rows[i].status) for i in last}
    failed_now = [rows[i] for i, kind in ended.items() if kind is StatusKind.FAILED]
    failed_before = (row for i, row in rows.items()
                     if i not in last and status_kind(row.status) is StatusKind.FAILED)
    known = _kinds(failed_before)
    new_kinds = _kinds(failed_now) - known
    stuck = sum(1 for row in rows.values() if row.deleted_at is None and not row.not_found
                and is_stuck(row, now, stuck_after))
    return SinceSummary(
        since=since,
        completed=sum(1 for kind in ended.values() if kind is StatusKind.COMPLETED),
        failed=len(failed_now),
        new_error_kinds=len(new_kinds),
        deleted=sum(1 for kind in ended.values() if kind is StatusKind.DELETED),
        stuck=stuck,
        changed=tuple(last),
    )


def _kinds(rows: Iterable[WatchedConversion]) -> set[str]:
    return {error_kind(message) for row in rows for message in row.errors}
