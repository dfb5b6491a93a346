"""The shown rows' sort keys, kept in order in blocks: one change costs a block, not a list.

A plain sorted list of 100,000 keys costs a move of its whole tail per insertion or
removal, or one copy of the list per batch; either way the cost of a change grows with
the rows. Here the keys sit in blocks of about :data:`BLOCK` keys each, in order, with
each block's largest key beside it (the idea of sortedcontainers' ``SortedList``,
kept to what the table needs): a key is found with one binary search over the blocks'
largest keys and one inside a block, and an edit moves at most a block's keys.
No Textual here.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator
from itertools import accumulate, chain, pairwise
from typing import Any

__all__ = ["BLOCK", "SortKey", "SortedKeys"]

SortKey = Any
"""Any keys that compare with each other (the table's are ints or tuples)."""

BLOCK = 1_000
"""Keys a block holds after a rebuild; a block splits at twice this, and merges with a
neighbour below a quarter of it."""


class SortedKeys:
    """Unique, mutually comparable keys in ascending order, by position and by value.

    ``add`` and ``remove`` are O(log n + BLOCK); ``index`` and ``[i]`` are O(log n)
    (after a change, the first positional read adds up the blocks' lengths once).
    """

    __slots__ = ("_blocks", "_len", "_maxes", "_starts")

    def __init__(self, keys: Iterable[SortKey] = ()) -> None:
        self._blocks: list[list[SortKey]] = []
        self._maxes: list[SortKey] = []
        self._starts: list[int] | None = None
        self._len = 0
        self.reset(keys)

    def reset(self, keys: Iterable[SortKey]) -> None:
        """Hold exactly ``keys`` (unique; any order)."""
        ordered = sorted(keys)
        self._blocks = [ordered[start:start + BLOCK] for start in range(0, len(ordered), BLOCK)]
        self._maxes = [block[-1] for block in self._blocks]
        self._len = len(ordered)
        self._starts = None

    # -- reading ---------------------------------------------------------------
    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[SortKey]:
        return chain.from_iterable(self._blocks)

    def __reversed__(self) -> Iterator[SortKey]:
        return chain.from_iterable(reversed(block) for block in reversed(self._blocks))

    def __contains__(self, key: object) -> bool:
        i = bisect_left(self._maxes, key)
        if i == len(self._maxes):
            return False
        block = self._blocks[i]
        j = bisect_left(block, key)
        return bool(block[j] == key)

    def _block_starts(self) -> list[int]:
        starts = self._starts
        if starts is None:
            starts = self._starts = [0, *accumulate(map(len, self._blocks))]
        return starts

    def __getitem__(self, position: int) -> SortKey:
        """The key at ``position`` (0 is the smallest; negative counts from the end)."""
        if position < 0:
            position += self._len
        if not 0 <= position < self._len:
            raise IndexError(position)
        starts = self._block_starts()
        i = bisect_right(starts, position) - 1
        return self._blocks[i][position - starts[i]]

    def index(self, key: SortKey) -> int:
        """The position of ``key``; ValueError when it is not held."""
        i = bisect_left(self._maxes, key)
        if i < len(self._maxes):
            block = self._blocks[i]
            j = bisect_left(block, key)
            if block[j] == key:
                return self._block_starts()[i] + j
        raise ValueError(key)

    # -- changing --------------------------------------------------------------
    def add(self, key: SortKey) -> None:
        """Put ``key`` in its place (it must not be held already)."""
        self._starts = None
        self._len += 1
        maxes = self._maxes
        if not maxes:
            self._blocks.append([key])
            maxes.append(key)
            return
        i = bisect_left(maxes, key)
        if i == len(maxes):  # beyond the largest key: the last block grows
            i -= 1
            self._blocks[i].append(key)
            maxes[i] = key
        else:
            insort(self._blocks[i], key)
        if len(self._blocks[i]) > 2 * BLOCK:
            block = self._blocks[i]
            self._blocks[i:i + 1] = [block[:BLOCK], block[BLOCK:]]
            maxes[i:i + 1] = [block[BLOCK - 1], block[-1]]

    def remove(self, key: SortKey) -> None:
        """Take ``key`` out; ValueError when it is not held."""
        maxes = self._maxes
        i = bisect_left(maxes, key)
        if i == len(maxes):
            raise ValueError(key)
        block = self._blocks[i]
        j = bisect_left(block, key)
        if block[j] != key:
            raise ValueError(key)
        self._starts = None
        self._len -= 1
        del block[j]
        if not block:
            del self._blocks[i], maxes[i]
            return
        maxes[i] = block[-1]
        if len(block) < BLOCK // 4 and len(self._blocks) > 1:
            # Many removals must not leave many tiny blocks (a long search over the
            # maxes): join this one with a neighbour, and split that again if too big.
            left = i - 1 if i else i
            joined = self._blocks[left] + self._blocks[left + 1]
            if len(joined) > 2 * BLOCK:
                half = len(joined) // 2
                self._blocks[left:left + 2] = [joined[:half], joined[half:]]
                maxes[left:left + 2] = [joined[half - 1], joined[-1]]
            else:
                self._blocks[left:left + 2] = [joined]
                maxes[left:left + 2] = [joined[-1]]

    def blocks_valid(self) -> bool:
        """Whether the internal blocks are consistent (for tests)."""
        flat = list(self)
        return (all(self._blocks) and len(flat) == self._len
                and all(a < b for a, b in pairwise(flat))
                and self._maxes == [block[-1] for block in self._blocks])
