"""The answer of one message search of a watchlist (:class:`MessageMatches`), made into a
test of a row that stays right while the searched rows' messages change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tui.core.watchlist import messages as stored_messages


class MessageMatches:
    """The answer of one message search (:meth:`Watchlist.message_matches`), made into a
    test of a row by :meth:`row_test`. A row whose messages this watchlist saw change
    after the search is tested in memory instead."""

    __slots__ = ("_at", "_count", "_found", "_rewritten")

    def __init__(self, found: stored_messages.TextMatches, rewritten: Mapping[int, int],
                 count: list[int]) -> None:
        self._found = found
        # The watchlist's own, live: rewrites after the search show in them.
        self._rewritten = rewritten
        self._count = count
        self._at = count[0]

    @property
    def ids(self) -> frozenset[int] | None:
        """The rows found, by ID (None: too many to list; :meth:`answer` tests texts)."""
        return self._found.ids

    def row_test(self, fallback: Callable[[Any], bool]) -> Callable[[Any], bool]:
        """The answer as one test of a row, ``fallback`` (the in-memory test) for rows
        whose messages changed since the search: what a filter calls 100,000 times, so
        one function with everything it reads bound locally."""
        marks, at, count = self._rewritten.get, self._at, self._count
        ids = self._found.ids
        if ids is not None:
            def by_id(row: Any) -> bool:
                if count[0] != at:  # something was rewritten since: this row?
                    mark = marks(row.id)
                    if mark is not None and mark > at:
                        return fallback(row)
                return row.id in ids
            return by_id
        # Many rows: each of the row's few messages is looked up among the texts found,
        # in C (isdisjoint walks the tuple).
        unmatched = self._found.texts.isdisjoint

        def by_text(row: Any) -> bool:
            if count[0] != at:
                mark = marks(row.id)
                if mark is not None and mark > at:
                    return fallback(row)
            return not (unmatched(row.errors) and unmatched(row.warnings))
        return by_text
