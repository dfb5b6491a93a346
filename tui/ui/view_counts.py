"""How many rows each view holds, and each status kind: kept per changed row, not recounted.

Recounting six views over 100,000 rows once a second while polls change rows was the
monitor's steadiest cost. :class:`ViewCounts` is told each change instead (the old row
out, the new one in: the table does it, see ``TableRows.watcher``), so a change costs
the same at 100,000 rows as at ten.

Every view but Stuck depends on a few facts of the row alone: rows are counted by those
facts (a few dozen distinct sets), and the views are summed from them when read. Stuck
also depends on the clock, but only one way: an active row past its threshold stays stuck
until it changes, and each one becomes stuck at a moment known when it arrives (when its
time in status passes its status's threshold). Those moments wait in a sorted list (the
rows loaded at once) and a heap (rows changed since); reading the counts takes out the
ones that passed. A clock that went back (the system clock set back) is the one case
that looks at every candidate again.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from tui.core.attention import DELETE_STALLED_AFTER, count_needing_attention, may_need_attention
from tui.core.statuses import StatusKind, awaits_first_answer, read_status
from tui.core.timeinstatus import StuckAfter, time_in_status
from tui.core.unread import is_unread
from tui.core.watchlist import WatchedConversion
from tui.ui.views import VIEWS, Predicate

__all__ = ["ViewCounts"]

_STUCK = "stuck"
# Changed (unread rows) reads more of a row than the facts below (its times, its read
# mark): its rows are kept by id instead.
_CHANGED = "changed"
# Views whose membership is the row's alone (not the clock's), with their tests.
_TIMELESS: list[tuple[str, Predicate]] = [
    (view.key, view.predicate) for view in VIEWS
    if view.predicate is not None and view.key not in (_STUCK, _CHANGED)]
_ACTIVE = "active"  # a row stuck is one active too long

# What the views but Stuck, and the kind, read of a row (see views.py and read_status):
# rows with the same facts count alike, so rows are counted by their facts, and each
# distinct set of facts is classified once. A view reading another field of the row must
# add it here (the hypothesis test in tests/ui/test_view_counts.py compares with a recount).
_Facts = tuple[str | None, bool, bool, bool, bool, bool]


def _facts(row: WatchedConversion) -> _Facts:
    return (row.status, row.not_found, row.deleted_at is None, row.last_checked is None,
            not row.warnings, row.delete_requested_at is None)


@dataclass(frozen=True, slots=True)
class _Class:
    """How rows with one set of facts count: their views, their kind (None: checking)."""

    views: tuple[str, ...]
    kind: StatusKind | None


def _classify(row: WatchedConversion) -> _Class:
    views = tuple(key for key, predicate in _TIMELESS if predicate(row, 0.0, 0.0))
    return _Class(views, None if awaits_first_answer(row) else read_status(row).kind)


class ViewCounts:
    """Rows per view (``counts``) and per status kind (``kinds``, ``checking``), kept up
    to date by :meth:`replace` for each changed row and :meth:`reset` for a new set."""

    def __init__(self, stuck_after: StuckAfter | float) -> None:
        self.stuck_after = stuck_after
        self._by_facts: dict[_Facts, int] = {}
        self._classes: dict[_Facts, _Class] = {}  # how each set of facts held counts
        # Rows that are or will be stuck: id -> the moment they become stuck; those stuck
        # now; the rest by that moment: in one sorted list after a load (until the first
        # reading), else in a heap. Items whose moment is no longer their id's are stale.
        self._due: dict[int, float] = {}
        self._stuck: set[int] = set()
        self._loaded: list[tuple[float, int]] = []
        self._changed_since_load = False
        self._waiting: list[tuple[float, int]] = []
        self._last_now = float("-inf")
        self._thresholds: dict[str | None, float] = {}
        # Rows that may need attention (tui/core/attention.py): the count reads these only.
        self._candidates: dict[int, WatchedConversion] = {}
        self._unread: set[int] = set()

    # -- changing ----------------------------------------------------------------
    def reset(self, rows: Iterable[WatchedConversion]) -> None:
        """Count exactly ``rows`` (at load, or when the thresholds change)."""
        by_facts: dict[_Facts, int] = {}
        classes = self._classes = {}
        self._due = {}
        self._stuck = set()
        self._waiting = []
        self._last_now = float("-inf")
        candidates = self._candidates = {}
        unread = self._unread = set()
        for row in rows:
            if may_need_attention(row):
                candidates[row.id] = row
            if is_unread(row):
                unread.add(row.id)
            facts = _facts(row)
            held = by_facts.get(facts)
            if held is None:
                held = 0
                classes[facts] = _classify(row)
            by_facts[facts] = held + 1
            if _ACTIVE in classes[facts].views:
                self._note_due(row)
        self._by_facts = by_facts
        self._loaded = sorted((due, i) for i, due in self._due.items())
        self._changed_since_load = False

    def replace(self, old: WatchedConversion | None, new: WatchedConversion | None) -> None:
        """One row changed: ``old`` (None: it is new) became ``new`` (None: removed)."""
        by_facts = self._by_facts
        self._changed_since_load = True
        if old is not None:
            self._candidates.pop(old.id, None)
            self._unread.discard(old.id)
            facts = _facts(old)
            by_facts[facts] -= 1
            if self._due.pop(old.id, None) is not None:
                self._stuck.discard(old.id)
        if new is not None:
            if may_need_attention(new):
                self._candidates[new.id] = new
            if is_unread(new):
                self._unread.add(new.id)
            facts = _facts(new)
            held = by_facts.get(facts)
            if held is None:
                held = 0
                self._classes[facts] = _classify(new)
            by_facts[facts] = held + 1
            if _ACTIVE in self._classes[facts].views:
                due = self._note_due(new)
                if due is not None:  # stuck or not: the next reading says
                    heapq.heappush(self._waiting, (due, new.id))
                    if len(self._waiting) > 2 * len(self._due) + 1_000:
                        self._rewait()

    def _note_due(self, row: WatchedConversion) -> float | None:
        """Note when the active ``row`` turns stuck (None: it has no time in status)."""
        reckoned = time_in_status(row)
        if reckoned is None:
            return None
        threshold = self._thresholds.get(row.status)
        if threshold is None:
            rule = self.stuck_after
            threshold = rule.threshold(row.status) if isinstance(rule, StuckAfter) else rule
            if len(self._thresholds) < 256:  # status words are the server's: bounded
                self._thresholds[row.status] = threshold
        # Stuck when now - since > threshold: rounding aside (a millionth of a second at
        # these magnitudes), when now > due.
        due = reckoned.since + threshold
        self._due[row.id] = due
        return due

    def _rewait(self) -> None:
        """Put every moment still current in the heap again (drops stale items)."""
        self._waiting = [(due, i) for i, due in self._due.items() if i not in self._stuck]
        heapq.heapify(self._waiting)
        self._loaded = []

    # -- reading -----------------------------------------------------------------
    def counts(self, now: float) -> dict[str, int]:
        """Rows per view key at ``now`` (unix seconds), in the order of VIEWS."""
        if now < self._last_now:  # the clock went back: who is stuck is decided anew
            self._stuck = {i for i, due in self._due.items() if now > due}
            self._rewait()
        self._last_now = now
        self._take_stuck(now)
        views = dict.fromkeys((view.key for view in VIEWS), 0)
        by_facts, classes = self._by_facts, self._classes
        for facts in [facts for facts, rows in by_facts.items() if not rows]:
            del by_facts[facts], classes[facts]  # no row holds these facts any more
        for facts, rows in by_facts.items():
            views["all"] += rows
            for key in classes[facts].views:
                views[key] += rows
        views[_STUCK] = len(self._stuck)
        if _CHANGED in views:
            views[_CHANGED] = len(self._unread)
        return views

    def _take_stuck(self, now: float) -> None:
        """Move the rows whose moment has passed (by ``now``) into the stuck set."""
        loaded = self._loaded
        if loaded:
            # The first reading after a load: the rows in flight for long are stuck at
            # once (tens of thousands after a day), in one go; none of them stale unless
            # a row changed since the load (its id's moment is then another, or none).
            end = bisect_left(loaded, (now, -math.inf))
            due_by_id = self._due
            if self._changed_since_load:
                self._stuck.update(i for due, i in loaded[:end] if due_by_id.get(i) == due)
            else:
                self._stuck.update(i for _, i in loaded[:end])
            rest = [(due, i) for due, i in loaded[end:] if due_by_id.get(i) == due]
            self._waiting += rest  # the rest wait in the heap: the list goes
            heapq.heapify(self._waiting)
            self._loaded = []
        waiting, due_by_id, stuck = self._waiting, self._due, self._stuck
        while waiting and waiting[0][0] < now:
            due, conversion_id = heapq.heappop(waiting)
            if due_by_id.get(conversion_id) == due:  # else: changed or gone since
                stuck.add(conversion_id)

    def needing_attention(self, now: float,
                          delete_stalled_after: float = DELETE_STALLED_AFTER) -> int:
        """How many rows need attention at ``now`` (failed, stuck, a delete not finishing,
        a row problem; not acknowledged nor snoozed): only the rows that may are read."""
        return count_needing_attention(self._candidates.values(), now, self.stuck_after,
                                       delete_stalled_after)

    @property
    def kinds(self) -> dict[StatusKind, int]:
        """Rows per status kind (rows not answered for yet are in ``checking`` instead)."""
        kinds = dict.fromkeys(StatusKind, 0)
        for facts, rows in self._by_facts.items():
            kind = self._classes[facts].kind
            if kind is not None:
                kinds[kind] += rows
        return kinds

    @property
    def checking(self) -> int:
        """Rows not answered for yet."""
        return sum(rows for facts, rows in self._by_facts.items()
                   if self._classes[facts].kind is None)
