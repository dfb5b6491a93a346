"""How many rows each view holds, and each status kind: kept per changed row, not recounted.

Recounting six views over 100,000 rows once a second while polls change rows was the
monitor's steadiest cost. :class:`ViewCounts` is told each change instead (the old row
out, the new one in: the table does it, see ``TableRows.watcher``), so a change costs
the same at 100,000 rows as at ten.

Every view but Stuck depends on the row alone. Stuck also depends on the clock, but only
one way: a row in a view's predicate past its threshold stays stuck until it changes, and
each row in flight becomes stuck at a moment known when it arrives (when its time in
status passes its status's threshold). Those moments wait in a heap; reading the counts
takes out the ones that passed. A clock that went back (the system clock set back) is
the one case that looks at every candidate again.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping

from tui.core.statuses import StatusKind, awaits_first_answer, read_status
from tui.core.timeinstatus import StuckAfter, time_in_status
from tui.core.watchlist import WatchedConversion
from tui.ui.views import VIEWS, Predicate

__all__ = ["ViewCounts"]

_STUCK = "stuck"
# Views whose membership is the row's alone (not the clock's), with their tests.
_TIMELESS: list[tuple[str, Predicate]] = [
    (view.key, view.predicate) for view in VIEWS
    if view.predicate is not None and view.key != _STUCK]
_ACTIVE: Predicate = dict(_TIMELESS)["active"]  # a row stuck is one active too long


class ViewCounts:
    """Rows per view (``counts``) and per status kind (``kinds``, ``checking``), kept up
    to date by :meth:`replace` for each changed row and :meth:`reset` for a new set."""

    def __init__(self, stuck_after: StuckAfter | float) -> None:
        self.stuck_after = stuck_after
        self._views: dict[str, int] = {}
        self._kinds: dict[StatusKind, int] = {}
        self._checking = 0
        # Rows that are or will be stuck: id -> (the moment they become stuck, since when
        # in the status, the threshold); those stuck now; the rest in a heap by that
        # moment (stale heap items are skipped: their moment is no longer the id's).
        self._due: dict[int, tuple[float, float, float]] = {}
        self._stuck: set[int] = set()
        self._waiting: list[tuple[float, int]] = []
        self._last_now = float("-inf")
        self.reset(())

    # -- changing ----------------------------------------------------------------
    def reset(self, rows: Iterable[WatchedConversion]) -> None:
        """Count exactly ``rows`` (a full count: at load, or when the thresholds change)."""
        self._views = {view.key: 0 for view in VIEWS if view.key != _STUCK}
        self._kinds = dict.fromkeys(StatusKind, 0)
        self._checking = 0
        self._due = {}
        self._stuck = set()
        self._waiting = []
        self._last_now = float("-inf")
        for row in rows:
            self._count(row, 1)
            self._watch_stuck(row)

    def replace(self, old: WatchedConversion | None, new: WatchedConversion | None) -> None:
        """One row changed: ``old`` (None: it is new) became ``new`` (None: removed)."""
        if old is not None:
            self._count(old, -1)
            self._due.pop(old.id, None)
            self._stuck.discard(old.id)
        if new is not None:
            self._count(new, 1)
            self._watch_stuck(new)

    def _count(self, row: WatchedConversion, step: int) -> None:
        views = self._views
        views["all"] += step
        for key, predicate in _TIMELESS:
            if predicate(row, 0.0, 0.0):
                views[key] += step
        if awaits_first_answer(row):
            self._checking += step
        else:
            self._kinds[read_status(row).kind] += step

    def _watch_stuck(self, row: WatchedConversion) -> None:
        """Note when ``row`` becomes stuck, if it can (in flight, with a time in status)."""
        if not _ACTIVE(row, 0.0, 0.0):
            return
        reckoned = time_in_status(row)
        if reckoned is None:
            return
        rule = self.stuck_after
        threshold = rule.threshold(row.status) if isinstance(rule, StuckAfter) else rule
        since = reckoned.since
        due = since + threshold
        self._due[row.id] = (due, since, threshold)
        heapq.heappush(self._waiting, (due, row.id))  # stuck or not: the next reading says
        if len(self._waiting) > 2 * len(self._due) + 1_000:
            self._rewait()

    def _rewait(self) -> None:
        """Rebuild the heap from the moments still current (drops stale items)."""
        self._waiting = [(due, i) for i, (due, _, _) in self._due.items()
                         if i not in self._stuck]
        heapq.heapify(self._waiting)

    # -- reading -----------------------------------------------------------------
    def counts(self, now: float) -> dict[str, int]:
        """Rows per view key at ``now`` (unix seconds), in the order of VIEWS."""
        if now < self._last_now:  # the clock went back: who is stuck is decided anew
            self._stuck = {i for i, (_, since, threshold) in self._due.items()
                           if now - since > threshold}
            self._rewait()
        self._last_now = now
        waiting, due_by_id, stuck = self._waiting, self._due, self._stuck
        while waiting and waiting[0][0] <= now:
            due, conversion_id = heapq.heappop(waiting)
            facts = due_by_id.get(conversion_id)
            if facts is None or facts[0] != due:
                continue  # the row changed or went since: a stale item
            if now - facts[1] > facts[2]:  # exactly as is_stuck reckons it
                stuck.add(conversion_id)
            else:  # due rounded to now: not yet; nor is anything after it
                heapq.heappush(waiting, (due, conversion_id))
                break
        return {view.key: len(stuck) if view.key == _STUCK else self._views[view.key]
                for view in VIEWS}

    @property
    def kinds(self) -> Mapping[StatusKind, int]:
        """Rows per status kind (rows not answered for yet are in ``checking`` instead)."""
        return self._kinds

    @property
    def checking(self) -> int:
        """Rows not answered for yet."""
        return self._checking
