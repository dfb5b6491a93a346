"""The poller's one scheduling structure: every watched ID, and when it is next due.

Each ID has a :class:`PollSlot`. A slot waits in one of five lanes, each a heap
ordered by due time: explicit refreshes first, then active conversions, then new
IDs never checked yet (due when they were added, so oldest first; the scheduler
gives them a bounded share of the budget while active rows are due), then settled
ones (background), and the slow lane: rows whose checks keep timing out, which
the scheduler lets hold only a small share of its connections.
Rescheduling pushes a fresh heap entry and bumps the slot's generation, so stale
entries are skipped when they surface instead of being searched for and removed
(O(log n) per change, never O(n)).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

__all__ = ["Lane", "PollQueue", "PollSlot"]


class Lane(IntEnum):
    """Priority lanes, most urgent first."""

    REFRESH = 0
    ACTIVE = 1
    NEW = 2  # never answered yet (a paste of thousands): oldest first, a share of the budget
    SETTLED = 3
    SLOW = 4  # checks keep timing out: a small share of the concurrency, whatever the status


_FLAGS = ("queued", "in_flight", "pulled", "settled", "expect_deletion", "slow",
          "refresh_wanted", "new", "ask_again")


@dataclass(init=False, eq=False)
class PollSlot:
    """What the scheduler knows about one watched ID.

    The yes/no fields are bits of one int (``_flags``), read and written as attributes:
    at 100,000 watched IDs a slot each is 7 MB.
    """

    if TYPE_CHECKING:
        # mypy is not shown the slots: it would refuse to set the flags (properties).
        _flags: int
    else:
        __slots__ = ("_flags", "due", "failures", "generation", "id", "lane", "timeouts")

    id: int
    lane: Lane
    due: float
    generation: int
    queued: bool
    in_flight: bool
    failures: int  # consecutive errors, for backoff
    pulled: bool  # brought back early after an error spell; cleared by an answer
    settled: bool  # last answer was a settled status (or not found)
    expect_deletion: bool  # a delete was requested: poll at the active rate
    timeouts: int  # consecutive checks that timed out while others answered
    slow: bool  # in the slow lane until its next HTTP answer
    refresh_wanted: bool  # a slow row asked for by refresh(): served while paused
    new: bool  # no answer about it yet: it waits in the new lane
    ask_again: bool  # an answer in flight may be stale (an upload made it): ask again

    def __init__(self, id: int, lane: Lane = Lane.ACTIVE, due: float = 0.0,
                 generation: int = 0, queued: bool = False, in_flight: bool = False,
                 failures: int = 0, pulled: bool = False, settled: bool = False,
                 expect_deletion: bool = False, timeouts: int = 0, slow: bool = False,
                 refresh_wanted: bool = False, new: bool = False,
                 ask_again: bool = False) -> None:
        self.id = id
        self.lane = lane
        self.due = due
        self.generation = generation
        self.failures = failures
        self.timeouts = timeouts
        given = (queued, in_flight, pulled, settled, expect_deletion, slow, refresh_wanted,
                 new, ask_again)
        self._flags = sum(1 << bit for bit, value in enumerate(given) if value)


def _flag_property(bit: int) -> property:
    """Bit ``bit`` of a slot's ``_flags`` as a bool attribute."""
    mask = 1 << bit

    def read(slot: PollSlot) -> bool:
        return bool(slot._flags & mask)

    def write(slot: PollSlot, value: bool) -> None:
        slot._flags = slot._flags | mask if value else slot._flags & ~mask

    return property(read, write)


for _bit, _name in enumerate(_FLAGS):
    setattr(PollSlot, _name, _flag_property(_bit))
del _bit, _name


# (due, sequence, slot, generation); the sequence keeps equal due times in FIFO order
# and means slots themselves are never compared.
_Entry = tuple[float, int, PollSlot, int]


class PollQueue:
    """Watched IDs in five due-time heaps (see the module docstring)."""

    def __init__(self) -> None:
        self._slots: dict[int, PollSlot] = {}
        self._heaps: tuple[list[_Entry], ...] = tuple([] for _lane in Lane)
        self._sequence = itertools.count()

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, conversion_id: object) -> bool:
        return conversion_id in self._slots

    def __iter__(self) -> Iterator[PollSlot]:
        return iter(self._slots.values())

    def get(self, conversion_id: int) -> PollSlot | None:
        """The slot of ``conversion_id``, or None when it is not watched."""
        return self._slots.get(conversion_id)

    def add(self, conversion_id: int) -> PollSlot:
        """Start tracking ``conversion_id`` (not scheduled yet); returns its slot."""
        slot = self._slots.get(conversion_id)
        if slot is None:
            slot = PollSlot(conversion_id)
            self._slots[conversion_id] = slot
        return slot

    def remove(self, conversion_id: int) -> PollSlot | None:
        """Stop tracking ``conversion_id``; its heap entries die lazily."""
        slot = self._slots.pop(conversion_id, None)
        if slot is not None:
            slot.generation += 1
            slot.queued = False
        return slot

    def schedule(self, slot: PollSlot, lane: Lane, due: float) -> None:
        """(Re)schedule ``slot`` in ``lane`` at ``due``, replacing any earlier entry."""
        slot.generation += 1
        slot.lane = lane
        slot.due = due
        slot.queued = True
        heap = self._heaps[lane]
        heapq.heappush(heap, (due, next(self._sequence), slot, slot.generation))
        # Lazy deletion leaves dead entries behind; rebuild before they dominate.
        if len(heap) > 2 * len(self._slots) + 64:
            self._compact(lane)

    def unschedule(self, slot: PollSlot) -> None:
        """Take ``slot`` out of its lane (it is about to be polled)."""
        slot.generation += 1
        slot.queued = False

    def head(self, lane: Lane) -> PollSlot | None:
        """The earliest live slot of ``lane`` (not removed from it)."""
        heap = self._heaps[lane]
        while heap:
            _due, _seq, slot, generation = heap[0]
            if generation == slot.generation and slot.queued and slot.id in self._slots:
                return slot
            heapq.heappop(heap)
        return None

    def queued_count(self, lane: Lane) -> int:
        """Live entries in ``lane`` (O(n): for tests and stats, not the hot path)."""
        return sum(1 for _d, _s, slot, gen in self._heaps[lane]
                   if gen == slot.generation and slot.queued and slot.id in self._slots)

    def _compact(self, lane: Lane) -> None:
        heap = [entry for entry in self._heaps[lane]
                if entry[3] == entry[2].generation and entry[2].queued
                and entry[2].id in self._slots]
        heapq.heapify(heap)
        self._heaps[lane][:] = heap
