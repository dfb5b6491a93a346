"""A follower's ``r`` / ``R``: ask the leader to check rows now, else check a few here.

Only the leader polls; a follower that wants rows checked now asks it
(:class:`AskingFollower`: a team store's follower sends the IDs on the profile's ask
channel, and the leader's scheduler checks them at once within its own request budget;
the results come back as every change does). When nobody leads, or the leader does not
answer in time (no new check of those rows), the follower checks a few of them itself
with its own key, within :class:`HereBudget` (a small number a minute), and the rest wait
for the leader. What happened is told as :class:`CheckNews`, for the screen to say.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from tui.core.checknow import StatusClient, check_now
from tui.core.polling.leadership import Follower, PollerHolder
from tui.core.polling.types import Connectivity, ConnectivityState, PollUpdate
from tui.core.statuses import is_settled
from tui.core.watchlist.rows import RecordedResults, WatchedConversion
from tui.core.watchstore import WatchStore

__all__ = ["ANSWER_INTERVALS", "HERE_BUDGET", "HERE_WINDOW", "MIN_ANSWER_WAIT",
           "AskingFollower", "CheckNews", "FollowerChecks", "HereBudget", "HereCheck",
           "LeaderAsk", "check_here"]

HERE_BUDGET = 20
"""IDs a follower checks itself per :data:`HERE_WINDOW` at most (the leader has the budget)."""
HERE_WINDOW = 60.0
ANSWER_INTERVALS = 3
"""Poll intervals a follower waits for the leader's first check of the rows it asked for."""
MIN_ANSWER_WAIT = 5.0
"""Seconds it waits at least (a short interval must not make a busy leader look gone)."""


class LeaderAsk(Protocol):
    """An ask sent to the leader: who was asked, which of the IDs are watched."""

    @property
    def holder(self) -> PollerHolder | None:
        """The leader asked (None: nobody leads, nothing was sent)."""
        ...

    @property
    def watched(self) -> Sequence[int] | None:
        """The IDs asked for that are watched (None: every watched row was asked for)."""
        ...

    async def answered(self, within: float) -> bool:
        """Whether the leader checked one of the rows asked for within ``within`` seconds
        (a new check time on a row the feed brings)."""
        ...


@runtime_checkable
class AskingFollower(Follower, Protocol):
    """A follower that can ask the leader to check rows now (a team store's)."""

    async def ask_leader(self, ids: Sequence[int] | None) -> LeaderAsk:
        """Ask the leader to check the watched ones of ``ids`` (None: every watched row);
        raises the store's :class:`~tui.core.watchstore.StoreRefused` while it is away."""
        ...


@dataclass(frozen=True)
class CheckNews:
    """What a follower's ``r`` / ``R`` did, for the screen to say.

    ``asked``: the leader asked (its description), with ``count`` watched IDs (0 and
    ``everything`` for ``R``). Then, if it did not answer (``unanswered``) or nobody leads
    (``asked`` None), what was checked here: ``checked_here`` of them, ``waiting`` left for
    the leader, ``problem`` when the check here failed as a whole (the key refused, the
    server unreachable), ``budget`` the most checked here a minute. ``not_watched``: IDs
    given that are not watched (never checked or asked for).
    """

    asked: str | None = None
    count: int = 0
    everything: bool = False
    unanswered: bool = False
    checked_here: int = 0
    waiting: int = 0
    problem: str | None = None
    not_watched: int = 0
    budget: int = HERE_BUDGET


class HereBudget:
    """How many IDs a follower may check itself: ``limit`` per ``window`` seconds."""

    def __init__(self, limit: int = HERE_BUDGET, window: float = HERE_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._window = window
        self._clock = clock
        self._spent: list[float] = []  # when each check here was taken

    def take(self, wanted: int) -> int:
        """Take up to ``wanted`` checks now; how many may be made."""
        now = self._clock()
        self._spent = [at for at in self._spent if now - at < self._window]
        granted = max(0, min(wanted, self.limit - len(self._spent)))
        self._spent.extend([now] * granted)
        return granted


@dataclass(frozen=True)
class HereCheck:
    """What :func:`check_here` did: ``checked`` IDs recorded (``recorded``), ``waiting``
    left for the leader, ``problem`` when nothing could be checked (key, network)."""

    checked: int = 0
    waiting: int = 0
    problem: str | None = None
    recorded: RecordedResults | None = None


def _check_first(row: WatchedConversion) -> tuple[bool, float]:
    """Rows in flight before settled ones, then the least recently checked."""
    settled = row.deleted_at is not None or row.not_found or is_settled(row.status)
    return settled, row.last_checked if row.last_checked is not None else float("-inf")


async def check_here(client: StatusClient, store: WatchStore, ids: Sequence[int] | None,
                     budget: HereBudget) -> HereCheck:
    """Check what ``budget`` allows of ``ids`` (watched; None: every watched row, those
    in flight and least recently checked first) with this app's key, and record the
    answers in ``store``, as the leader would; the rest wait for the leader."""
    if ids is None:
        rows = await asyncio.to_thread(store.all)
        ids = [row.id for row in sorted(rows, key=_check_first)]
    chosen = list(ids[:budget.take(len(ids))])
    if not chosen:
        return HereCheck(waiting=len(ids))
    report = await check_now(client, chosen)
    problem = report.refused or report.unreachable
    if problem is not None:
        return HereCheck(waiting=len(ids), problem=problem)
    results = [report.results[i] for i in chosen if i in report.results]
    recorded = await asyncio.to_thread(store.record_results, results)
    return HereCheck(checked=len(results), waiting=len(ids) - len(results),
                     recorded=recorded)


class FollowerChecks:
    """A follower's ``r`` / ``R``, from the ask to the check here (the watch service's).

    ``answer_within``: seconds the leader has to answer (None: :data:`ANSWER_INTERVALS`
    times the poll ``interval``, at least :data:`MIN_ANSWER_WAIT`).
    """

    def __init__(self, answer_within: float | None, interval: float) -> None:
        self.answer_within = answer_within if answer_within is not None else max(
            MIN_ANSWER_WAIT, ANSWER_INTERVALS * interval)
        self.budget = HereBudget()

    async def run(self, follower: AskingFollower, ids: Sequence[int] | None,
                  client: StatusClient, store: WatchStore,
                  on_news: Callable[[CheckNews], None],
                  on_checked: Callable[[PollUpdate], None]) -> None:
        """Ask the leader to check ``ids`` (None: every watched row); if nobody leads, or
        it does not answer in time, check what :attr:`budget` allows here. ``on_news``
        hears what was done (once asked, once checked here), after ``on_checked`` got
        what was recorded here (to show). Raises the store's ``StoreRefused`` while it
        is away."""
        given = None if ids is None else list(dict.fromkeys(ids))
        ask = await follower.ask_leader(given)
        watched = ask.watched
        news = CheckNews(count=0 if watched is None else len(watched),
                         everything=watched is None, budget=self.budget.limit,
                         not_watched=0 if given is None or watched is None
                         else len(given) - len(watched))
        if watched == []:
            on_news(news)
            return
        if ask.holder is not None:
            news = replace(news, asked=ask.holder.describe())
            on_news(news)
            if await ask.answered(self.answer_within):
                return
        here = await check_here(client, store, watched, self.budget)
        if here.recorded:
            # Its changes are toasted and a confirmed delete audited here, as a leader's.
            on_checked(PollUpdate(rows=list(here.recorded.rows.values()),
                                  changes=list(here.recorded),
                                  connectivity=Connectivity(ConnectivityState.ONLINE, None)))
        on_news(replace(news, unanswered=ask.holder is not None, checked_here=here.checked,
                        waiting=here.waiting, problem=here.problem))
