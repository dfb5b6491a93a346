"""Checking conversions against the API once, now: ``conversions-tui list --refresh`` and
``conversions-tui status``, without the poll scheduler.

Each ID is asked for its status (a few at a time); a 429 holds every request back as long
as the server says (bounded), then they go one at a time, spaced, and ask again. What came
back is a :class:`~tui.core.watchlist.PollResult` per ID, as the poller makes them, so the
watchlist records a CLI check exactly like a poll.
The verdict a command exits with (Failed or stuck) is :func:`needs_attention`, the rule
of the monitor's Failed and Stuck views.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tui.api.errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    RateLimitedError,
    TransportError,
)
from tui.api.models import StatusEnvelope
from tui.core.polling.problems import describe_problem
from tui.core.statuses import StatusKind, awaits_first_answer, is_settled, read_status
from tui.core.timeinstatus import StuckAfter, is_stuck
from tui.core.watchlist import PollResult, WatchedConversion
from tui.core.watchlist.rows import apply_result

__all__ = ["CheckReport", "StatusClient", "check_now", "fresh_row", "is_failed",
           "is_stuck_now", "needs_attention"]

#: Status requests in flight at once: quick for a hundred IDs, gentle on the server.
CONCURRENCY = 8
#: Tries per ID when the server says 429; the longest wait it may ask for each time.
RATE_LIMIT_TRIES = 8
MAX_RATE_LIMIT_WAIT = 30.0
#: After a 429 requests go one at a time, spaced by this much (doubling at each 429 up to
#: the most): all of them retrying together after the wait would be refused together.
FIRST_SPACING, MOST_SPACING = 0.05, 2.0


class _Pacer:
    """Holds every request back while the server asked to wait, and spaces them after."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._spacing = 0.0
        self._next_at = 0.0
        self._slowed_at = float("-inf")
        self._lock = asyncio.Lock()

    def now(self) -> float:
        """The loop's clock (when a request starts: see :meth:`limited`)."""
        return self._loop.time()

    async def turn(self) -> None:
        """Wait for this request's turn (at once until the first 429)."""
        if not self._spacing and self._next_at <= self._loop.time():
            return
        async with self._lock:
            wait = self._next_at - self._loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_at = max(self._next_at, self._loop.time()) + self._spacing

    def limited(self, retry_after: float | None, started: float) -> None:
        """The server said 429 to a request sent at ``started``: wait what it asked for,
        then go slower (once for the requests sent before the last slowing down: they
        were refused for the same crowd)."""
        if started >= self._slowed_at:
            self._spacing = min(max(self._spacing * 2, FIRST_SPACING), MOST_SPACING)
            self._slowed_at = self._loop.time()
        wait = min(retry_after or 1.0, MAX_RATE_LIMIT_WAIT)
        self._next_at = max(self._next_at, self._loop.time() + wait)


class StatusClient(Protocol):
    """What a check needs of the API client (``ConversionsClient`` fits)."""

    async def get_status(self, conversion_id: int) -> StatusEnvelope: ...


@dataclass
class CheckReport:
    """What a check of some IDs found."""

    results: dict[int, PollResult] = field(default_factory=dict)
    """Per ID: its status, a 404 (``not_found``) or the problem that kept it unknown."""
    refused: str | None = None
    """The server refused the key (401): nothing more was asked."""
    unreachable: str | None = None
    """No ID got an answer, each for a transport failure: why (the first one's cause)."""

    @property
    def problems(self) -> dict[int, str]:
        """The IDs whose check failed, with why."""
        return {i: r.problem for i, r in self.results.items() if r.problem is not None}


async def _check_one(client: StatusClient, conversion_id: int, report: CheckReport,
                     clock: Callable[[], float], pacer: _Pacer) -> None:
    for attempt in range(RATE_LIMIT_TRIES):
        await pacer.turn()
        if report.refused is not None:
            return
        started = pacer.now()
        try:
            envelope = await client.get_status(conversion_id)
        except RateLimitedError as error:
            if attempt + 1 == RATE_LIMIT_TRIES:
                report.results[conversion_id] = PollResult(
                    conversion_id, clock(), problem=describe_problem(error))
                return
            pacer.limited(error.retry_after, started)
            continue
        except NotFoundError as error:
            if error.envelope is None:  # not the API's own 404: a wrong URL, a proxy
                report.results[conversion_id] = PollResult(
                    conversion_id, clock(), problem=describe_problem(error))
            else:
                report.results[conversion_id] = PollResult(conversion_id, clock(),
                                                            not_found=True)
            return
        except AuthenticationError as error:
            if error.status_code == 401:
                report.refused = describe_problem(error)
                return
            report.results[conversion_id] = PollResult(
                conversion_id, clock(), problem=describe_problem(error))
            return
        except TransportError:
            raise  # the link's, not the row's: check_now tells "unreachable" from these
        except ApiError as error:
            report.results[conversion_id] = PollResult(
                conversion_id, clock(), problem=describe_problem(error))
            return
        report.results[conversion_id] = PollResult(conversion_id, clock(), envelope=envelope)
        return


async def check_now(client: StatusClient, ids: Sequence[int], *,
                    concurrency: int = CONCURRENCY,
                    clock: Callable[[], float] = time.time) -> CheckReport:
    """Ask the server for each of ``ids`` now; see :class:`CheckReport`."""
    report = CheckReport()
    gate = asyncio.Semaphore(max(1, concurrency))
    pacer = _Pacer()
    transport: list[str] = []

    async def one(conversion_id: int) -> None:
        async with gate:
            try:
                await _check_one(client, conversion_id, report, clock, pacer)
            except TransportError as error:
                transport.append(describe_problem(error))
                report.results[conversion_id] = PollResult(
                    conversion_id, clock(), problem=transport[-1])

    await asyncio.gather(*(one(i) for i in dict.fromkeys(ids)))
    if ids and transport and len(transport) == len(report.results) and report.refused is None:
        report.unreachable = transport[0]
    return report


def fresh_row(conversion_id: int, result: PollResult) -> WatchedConversion:
    """A row for an ID known only from ``result`` (``conversions-tui status`` of an ID
    not watched): first seen now, so its time in status counts from its upload."""
    row = WatchedConversion(
        id=conversion_id, file_name=None, data_source_type=None, status=None,
        upload_date=None, warnings=(), errors=(), metadata={}, first_seen=result.checked_at,
        last_checked=None, last_changed=None, note=None, last_problem=None, problem_count=0,
        delete_requested_at=None, deleted_at=None, not_found=False, raw=None)
    apply_result(row, result)
    if row.status is not None:
        row.last_changed = result.checked_at
    return row


def is_failed(row: WatchedConversion) -> bool:
    """Failed, as the table reads it (a Failed row that answers 404 now is not found)."""
    return read_status(row).kind is StatusKind.FAILED


def is_stuck_now(row: WatchedConversion, now: float, stuck_after: StuckAfter | float) -> bool:
    """Stuck, by the monitor's Stuck view: in flight (not settled, deleted, unknown to the
    server or unanswered) for longer than the profile's threshold for its status."""
    active = (row.deleted_at is None and not row.not_found and not is_settled(row.status)
              and not awaits_first_answer(row))
    return active and is_stuck(row, now, stuck_after)


def needs_attention(row: WatchedConversion, now: float,
                    stuck_after: StuckAfter | float) -> bool:
    """Failed or stuck: what makes ``list`` and ``status`` exit 1."""
    return is_failed(row) or is_stuck_now(row, now, stuck_after)
