"""The one error a filter can raise: which term is wrong, and one sentence why."""

from __future__ import annotations

__all__ = ["FilterError"]


class FilterError(ValueError):
    """A filter that cannot be read: ``message`` is one sentence for a person, ``start``
    and ``end`` the span of the bad term in the text as typed (to underline it)."""

    def __init__(self, message: str, start: int, end: int) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end

    @property
    def span(self) -> tuple[int, int]:
        """(start, end) of the bad term in the filter text."""
        return (self.start, self.end)

    def located(self, source: str) -> str:
        """The sentence naming the bad term as typed: ``"status:fialed": ...``."""
        term = source[self.start:self.end]
        return f"{term!r}: {self.message}" if term else self.message
