"""Which row is checked next: the lanes' order and shares.

A row waits in one lane of the :class:`~tui.core.polling.queue.PollQueue`: refresh
(asked for by the user or an upload), active, new (never checked), settled (re-checked
within a small share of the budget) or slow (keeps timing out; a few connections only).
:class:`LanePicker` chooses among the lanes' heads; :func:`home_lane` and
:func:`lane_for` say where a row waits between checks.
"""

from __future__ import annotations

from tui.core.polling.pacing import TokenBucket
from tui.core.polling.queue import Lane, PollQueue, PollSlot
from tui.core.polling.types import PollSettings


def home_lane(slot: PollSlot) -> Lane:
    """Where ``slot`` waits between checks: by what its last answer said."""
    if slot.expect_deletion:
        return Lane.ACTIVE
    if slot.settled:
        return Lane.SETTLED
    return Lane.NEW if slot.new else Lane.ACTIVE


def lane_for(slot: PollSlot, lane: Lane) -> Lane:
    """``lane``, or the slow lane for a slow row (and back home for one that is not)."""
    if slot.slow:
        return Lane.SLOW
    if lane is Lane.SLOW:
        return home_lane(slot)
    return lane


class LanePicker:
    """Chooses the next row to check, keeping each lane within its share."""

    def __init__(self, settings: PollSettings, now: float) -> None:
        self._settings = settings
        self._settled_bucket = TokenBucket(settings.settled_rate, 1.0, now)
        # New IDs' turn while active rows are due too: each active request adds a part,
        # a new one spends a whole (a share of requests, so it holds for any budget and
        # for the connections too; capped at one, so it never saves up a burst).
        self._new_credit = 1.0
        self._new_credit_step = settings.new_share / (1.0 - settings.new_share)

    def took(self, lane: Lane, contended: bool, now: float) -> None:
        """A row of ``lane`` was sent (``contended``: new and active rows were both due)."""
        if lane is Lane.SETTLED:
            self._settled_bucket.take(now)
        elif contended:
            self._new_credit = (self._new_credit - 1.0 if lane is Lane.NEW else
                                min(1.0, self._new_credit + self._new_credit_step))

    def choose(self, queue: PollQueue, now: float, *, paused: bool,
               slow_in_flight: int) -> tuple[PollSlot | None, float | None, bool]:
        """The slot to poll next, or (None, seconds until one is due); the flag says new
        and active rows were both due (the new IDs' share decided which goes)."""
        refresh = queue.head(Lane.REFRESH)
        automatic = not paused
        active = queue.head(Lane.ACTIVE) if automatic else None
        new = queue.head(Lane.NEW) if automatic else None
        settled = queue.head(Lane.SETTLED) if automatic else None
        active_due = active is not None and active.due <= now
        new_due = new is not None and new.due <= now
        # Rows that keep timing out get a few slots of their own and no more.
        slow = queue.head(Lane.SLOW) if (
            slow_in_flight < self._settings.slow_slots) else None
        if slow is not None and not automatic and not slow.refresh_wanted:
            slow = None
        if refresh is not None:
            # A big refresh must not starve active rows for minutes: one that is a
            # whole interval late goes first.
            if active_due and active is not None and (
                    now - active.due > self._settings.interval):
                return active, None, False
            return refresh, None, False
        if slow is not None and slow.due <= now and not (
                active_due and active is not None and active.due < slow.due):
            return slow, None, False
        settled_wait = None if settled is None else max(
            settled.due - now, self._settled_bucket.wait_time(now))
        if active_due and active is not None:
            # Active rows that want the whole budget must not starve settled re-checks:
            # a settled row that has waited longer goes first, within its own share.
            if settled is not None and settled_wait is not None and settled_wait <= 0 and (
                    settled.due < active.due):
                return settled, None, False
            # New IDs (a paste of thousands) keep moving, within their share and no more:
            # the active rows keep the rest, so they are never late by much.
            if new_due and self._new_credit >= 1.0 - 1e-9:
                return new, None, True
            return active, None, new_due
        waits: list[float] = []
        if active is not None:
            waits.append(active.due - now)
        if slow is not None:
            waits.append(max(slow.due - now, 0.0))
        if settled is not None and settled_wait is not None:
            if settled_wait <= 0:
                return settled, None, False  # within its share, even with new IDs waiting
            waits.append(max(settled_wait, 0.0005))
        if new is not None:
            if new_due:
                return new, None, False  # nothing active is due: the whole budget
            waits.append(new.due - now)
        return None, (min(waits) if waits else None), False
