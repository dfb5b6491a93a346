"""``msg:``: does a row's errors or warnings text hold a piece of text.

The one place that answers it, so that a later step can back it with the store's SQLite
FTS5 index without the parser or its callers changing. The text is taken literally: no
pattern, no FTS operator has a special meaning (``msg:"a*b OR c"`` looks for exactly
that, in any case).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

__all__ = ["MessageRow", "message_test"]

# Messages repeat across rows (one cause, many files): each one's answer is kept, bounded
# (a server could send a different message on every row).
_ANSWERS_LIMIT = 65_536


class MessageRow(Protocol):
    """What a message search reads of a row (``WatchedConversion`` fits)."""

    @property
    def errors(self) -> tuple[str, ...]: ...
    @property
    def warnings(self) -> tuple[str, ...]: ...


class _Answers(dict[str, bool]):
    """Whether each message holds a needle, worked out on first sight."""

    def __init__(self, needles: tuple[str, ...]) -> None:
        super().__init__()
        self._needles = needles

    def __missing__(self, message: str) -> bool:
        folded = message.casefold()
        found = any(needle in folded for needle in self._needles)
        if len(self) >= _ANSWERS_LIMIT:
            self.clear()
        self[message] = found
        return found


def message_test(needles: Sequence[str]) -> Callable[[MessageRow], bool]:
    """A test: some error or warning of the row holds one of ``needles`` (any case)."""
    answer = _Answers(tuple(needle.casefold() for needle in needles)).__getitem__

    def test(row: MessageRow) -> bool:
        # map() and any() run in C; a message's answer is one dict lookup once seen.
        return any(map(answer, row.errors)) or any(map(answer, row.warnings))

    return test
