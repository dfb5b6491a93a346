"""``msg:``: does a row's errors or warnings text hold a piece of text.

The one place that answers it. Given a :class:`MessageIndex` (the watchlist, when the
filter runs over its rows), the answer comes from one SQLite FTS5 query, run when the
first row is tested, and each row is then a set lookup; rows whose messages changed
since, needles the index cannot look for (under three characters) and a SQLite without
FTS5 are tested in memory. Both ways answer alike: the text is taken literally (no
pattern, no FTS operator has a special meaning: ``msg:"a*b OR c"`` looks for exactly
that), in any case (Python's ``casefold``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

__all__ = ["MessageIndex", "MessageRow", "message_test"]

# Messages repeat across rows (one cause, many files): each one's answer is kept, bounded
# (a server could send a different message on every row).
_ANSWERS_LIMIT = 65_536


class MessageRow(Protocol):
    """What a message search reads of a row (``WatchedConversion`` fits)."""

    @property
    def errors(self) -> tuple[str, ...]: ...
    @property
    def warnings(self) -> tuple[str, ...]: ...


class MessageAnswer(Protocol):
    """The answer of one index search (``tui.core.watchlist.MessageMatches`` fits)."""

    def row_test(self, fallback: Callable[[Any], bool]) -> Callable[[Any], bool]:
        """A test of a row by the answer; ``fallback`` for rows it is out of date for."""
        ...


class MessageIndex(Protocol):
    """Where a message search can be answered from (``tui.core.watchlist.Watchlist``)."""

    def message_matches(self, needles: Sequence[str]) -> MessageAnswer | None:
        """The rows holding one of ``needles``; None: test the rows in memory."""
        ...


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


def message_test(needles: Sequence[str],
                 index: MessageIndex | None = None) -> Callable[[Any], bool]:
    """A test: some error or warning of the row holds one of ``needles`` (any case);
    answered by ``index`` where it can (see the module docstring)."""
    answer = _Answers(tuple(needle.casefold() for needle in needles)).__getitem__

    def in_memory(row: MessageRow) -> bool:
        # map() and any() run in C; a message's answer is one dict lookup once seen.
        return any(map(answer, row.errors)) or any(map(answer, row.warnings))

    if index is None:
        return in_memory
    # The search runs on first use, not when parsed (the / box parses on each key).
    chosen: list[Callable[[Any], bool]] = []

    def test(row: Any) -> bool:
        if not chosen:
            matches = index.message_matches(needles)
            chosen.append(in_memory if matches is None else matches.row_test(in_memory))
        return chosen[0](row)

    return test
