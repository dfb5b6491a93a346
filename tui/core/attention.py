"""Which rows need a person, and which a person has taken on: the one place for the rules.

A row is **in trouble** when it failed, is stuck, its delete does not finish, or its own
checks fail (a row problem). It **needs attention** while in trouble and neither
acknowledged nor snoozed.

**Acknowledged** ("I have this one", key ``k``): the row carries ``acknowledged_at``, and
nothing new happened to it after that moment:

* its status did not change after it (``last_changed <= acknowledged_at``): a row that
  fails again, or moves on and comes back, is news;
* it has no problem that began after it. A problem began after the acknowledgement when a
  check went through after it (``last_checked > acknowledged_at``) and checks fail now:
  the problem the person saw, still going on, stays acknowledged.

Being stuck longer, or a delete taking longer, in the same status is not news: the
person took the row on in that status. The mark stays stored; the rule above is read
each time, so another monitor on the same file reads the same answer.

**Snoozed** (key ``K``): ``now < snoozed_until``. No alerts and out of the count until
then, whatever happens; afterwards the row is judged as if never snoozed.

Pure functions over rows (no clock of their own, no I/O).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from tui.core.statuses import StatusFacts, StatusKind, status_kind
from tui.core.timeinstatus import StuckAfter, is_stuck, parse_duration

__all__ = [
    "DELETE_STALLED_AFTER",
    "MAX_SNOOZE",
    "AttentionRow",
    "MarkFacts",
    "count_needing_attention",
    "in_trouble",
    "is_acknowledged",
    "is_snoozed",
    "may_need_attention",
    "needs_attention",
    "quiet_ids",
    "snooze_until",
]

_SETTLED = frozenset({StatusKind.COMPLETED, StatusKind.DELETED})
_KINDS: dict[str | None, StatusKind] = {}

DELETE_STALLED_AFTER = 600.0
"""Seconds after a delete request with the row not gone: the delete does not finish (the
alert rules' default)."""


class MarkFacts(Protocol):
    """What :func:`is_acknowledged` and :func:`is_snoozed` read of a row."""

    @property
    def last_checked(self) -> float | None: ...
    @property
    def last_changed(self) -> float | None: ...
    @property
    def last_problem(self) -> str | None: ...
    @property
    def acknowledged_at(self) -> float | None: ...
    @property
    def snoozed_until(self) -> float | None: ...


class AttentionRow(MarkFacts, StatusFacts, Protocol):
    """What the rules read of a watched conversion (a ``WatchedConversion``)."""

    @property
    def id(self) -> int: ...
    @property
    def upload_date(self) -> str | None: ...
    @property
    def first_seen(self) -> float: ...
    @property
    def entered_seen(self) -> bool: ...
    @property
    def delete_requested_at(self) -> float | None: ...
    @property
    def deleted_at(self) -> float | None: ...


def is_acknowledged(row: MarkFacts) -> bool:
    """Whether ``row`` is acknowledged and nothing new happened to it since (see the
    module docstring)."""
    at = row.acknowledged_at
    if at is None:
        return False
    if row.last_changed is not None and row.last_changed > at:
        return False  # its status changed after it was taken on
    return not (row.last_problem is not None and row.last_checked is not None
                and row.last_checked > at)


def is_snoozed(row: MarkFacts, now: float) -> bool:
    """Whether ``row`` is snoozed at ``now`` (unix seconds)."""
    return row.snoozed_until is not None and now < row.snoozed_until


def in_trouble(row: AttentionRow, now: float, stuck_after: StuckAfter | float,
               delete_stalled_after: float = DELETE_STALLED_AFTER) -> bool:
    """Failed, stuck, a delete not finishing, or its checks failing: what calls a person."""
    if row.last_problem is not None:
        return True
    if row.not_found or row.deleted_at is not None:
        return False  # gone (deleted, purged, or unknown to the server): nothing to wait for
    # Read as read_status does for a row that answers (run for every row once a second
    # on 100,000 rows: the cheap tests first).
    kind = _KINDS.get(row.status)
    if kind is None:
        kind = status_kind(row.status)
        if len(_KINDS) < 256:  # server words are untrusted: the cache stays bounded
            _KINDS[row.status] = kind
    if kind is StatusKind.FAILED:
        return True
    if row.delete_requested_at is not None:
        return (kind is not StatusKind.DELETED
                and now - row.delete_requested_at > delete_stalled_after)
    if kind in _SETTLED or row.status is None:
        return False
    return is_stuck(row, now, stuck_after)


def may_need_attention(row: AttentionRow) -> bool:
    """Whether ``row`` can be in trouble at some time without changing (:func:`in_trouble`
    is True for some ``now``): the rows worth keeping for the "need attention" count. At
    100,000 rows mostly settled, the count then looks at a few, not every row."""
    if row.last_problem is not None:
        return True
    if row.not_found or row.deleted_at is not None:
        return False
    kind = status_kind(row.status)
    if kind is StatusKind.FAILED:
        return True
    if row.delete_requested_at is not None:
        return kind is not StatusKind.DELETED
    return row.status is not None and kind not in _SETTLED


def needs_attention(row: AttentionRow, now: float, stuck_after: StuckAfter | float,
                    delete_stalled_after: float = DELETE_STALLED_AFTER) -> bool:
    """In trouble, and neither acknowledged nor snoozed: what the "need attention" count
    counts."""
    return (in_trouble(row, now, stuck_after, delete_stalled_after)
            and not is_acknowledged(row) and not is_snoozed(row, now))


def count_needing_attention(rows: Iterable[AttentionRow], now: float,
                            stuck_after: StuckAfter | float,
                            delete_stalled_after: float = DELETE_STALLED_AFTER) -> int:
    """How many of ``rows`` need attention at ``now``."""
    return sum(1 for row in rows
               if needs_attention(row, now, stuck_after, delete_stalled_after))


def quiet_ids(rows: Iterable[AttentionRow], now: float) -> set[int]:
    """IDs of ``rows`` that must not alert at ``now``: acknowledged or snoozed."""
    return {row.id for row in rows
            if (row.acknowledged_at is not None or row.snoozed_until is not None)
            and (is_acknowledged(row) or is_snoozed(row, now))}


MAX_SNOOZE = 30 * 86400.0
"""The longest snooze: a row silenced for longer is better unwatched."""


def snooze_until(answer: str, now: float) -> float:
    """When a snooze of ``answer`` ("30m", "2h", "1d", "1h30m") given at ``now`` ends.
    Raises ValueError with one sentence a person can act on."""
    seconds = parse_duration(answer.strip())
    if seconds > MAX_SNOOZE:
        raise ValueError(f"{answer.strip()!r} is too long: a snooze lasts 30 days at most")
    return now + seconds
