"""Splitting a filter into terms: words apart by spaces, quotes keep spaces and commas.

A term is ``[-][field:]value``. Inside double quotes spaces and commas are text, and a
backslash takes the next character literally (``msg:"say \\"hi\\""``). Each term keeps
its span in the text as typed, so a bad one can be pointed at.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.filters.errors import FilterError

__all__ = ["Piece", "RawTerm", "split_terms", "split_values", "unquote"]

_FIELD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")


@dataclass(frozen=True, slots=True)
class RawTerm:
    """One term as typed: ``text`` is ``source[start:end]``."""

    text: str
    start: int
    end: int

    @property
    def span(self) -> tuple[int, int]:
        """Where the term is in the filter text (start, end)."""
        return (self.start, self.end)


@dataclass(frozen=True, slots=True)
class Piece:
    """One value of a term (a comma-separated item), unquoted."""

    text: str
    quoted: bool


def split_terms(source: str) -> list[RawTerm]:
    """The terms of ``source``; raises :class:`FilterError` for a quote never closed."""
    terms: list[RawTerm] = []
    index, length = 0, len(source)
    while index < length:
        if source[index].isspace():
            index += 1
            continue
        start = index
        quote_at = -1
        while index < length and (quote_at >= 0 or not source[index].isspace()):
            char = source[index]
            if quote_at >= 0 and char == "\\":
                index += 2
                continue
            if char == '"':
                quote_at = index if quote_at < 0 else -1
            index += 1
        index = min(index, length)
        if quote_at >= 0:
            raise FilterError("This quote is never closed: add a \" at the end of the text.",
                              start, length)
        terms.append(RawTerm(source[start:index], start, index))
    return terms


def field_of(text: str) -> tuple[str | None, str]:
    """(field name, value) of a term without its ``-``; no field when what comes before
    the first colon is not a word (``10:30`` and ``"a:b"`` are plain text)."""
    colon = text.find(":")
    if colon <= 0 or any(char not in _FIELD_CHARS for char in text[:colon]):
        return None, text
    return text[:colon], text[colon + 1:]


def unquote(text: str) -> Piece:
    """``text`` with its double quotes taken away and backslash escapes applied."""
    if '"' not in text:
        return Piece(text, False)
    out: list[str] = []
    inside = False
    index = 0
    while index < len(text):
        char = text[index]
        if inside and char == "\\" and index + 1 < len(text):
            out.append(text[index + 1])
            index += 2
            continue
        if char == '"':
            inside = not inside
        else:
            out.append(char)
        index += 1
    return Piece("".join(out), True)


def split_values(text: str) -> list[Piece]:
    """The comma-separated values of a term (commas inside quotes are text)."""
    pieces: list[Piece] = []
    inside = False
    start = index = 0
    while index < len(text):
        char = text[index]
        if inside and char == "\\":
            index += 2
            continue
        if char == '"':
            inside = not inside
        elif char == "," and not inside:
            pieces.append(unquote(text[start:index]))
            start = index + 1
        index += 1
    pieces.append(unquote(text[start:]))
    return pieces
