"""What each field of the filter language means, as a test of one row.

Every ``compile_*`` function takes the values of one term (``status:failed,processing``
gives two) and returns a test of a row, or raises :class:`FilterError` with one sentence.
Values in one term are OR-ed; the caller AND-s the terms and applies ``-``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from tui.core.filters.errors import FilterError
from tui.core.filters.messages import MessageIndex, message_test
from tui.core.filters.tokens import Piece, RawTerm
from tui.core.statuses import (
    ACTIVE_STATUSES,
    SETTLED_STATUSES,
    awaits_first_answer,
    is_purged,
)
from tui.core.timeinstatus import parse_duration, parse_instant

__all__ = ["FIELDS", "STATUS_WORDS", "RowTest", "compile_field", "started_at"]

RowTest = Callable[[Any], bool]
"""A test of one watched row (``tui.core.watchlist.WatchedConversion``)."""

# The server's words, as tui.core.statuses knows them (any case).
_KNOWN_SERVER_WORDS = frozenset(word.casefold() for word in ACTIVE_STATUSES | SETTLED_STATUSES)

#: Status values and what they match. Server words match the status the server gave
#: (any case; a row that answers 404 now is "notfound" instead, as the table shows it);
#: ``deleted`` includes rows purged since; the rest are the app's own readings.
STATUS_WORDS: dict[str, str] = {
    **{word: word for word in _KNOWN_SERVER_WORDS},
    "deleting": "deletionpending",
    "notfound": "notfound", "not_found": "notfound", "not-found": "notfound",
    "unknown": "unknown", "checking": "checking",
}
_STATUS_LIST = ("failed, processing, queued, uploaded, completed, deletionpending (or "
                "deleting), deleted, notfound, unknown or checking")
_STATUS_CACHE_LIMIT = 256  # server words are untrusted: keep the cache bounded

_NUMBER = re.compile(r"[0-9]{1,19}")
_COMPARISON = re.compile(r"(>=|<=|>|<|=)?(.*)", re.DOTALL)


def _bad(term: RawTerm, message: str) -> FilterError:
    return FilterError(message, term.start, term.end)


# -- status -----------------------------------------------------------------------------
def _status(term: RawTerm, values: Sequence[Piece]) -> RowTest:
    wanted: set[str] = set()
    for piece in values:
        word = STATUS_WORDS.get(piece.text.strip().casefold().replace(" ", ""))
        if word is None:
            raise _bad(term, f"{piece.text!r} is not a status; use {_STATUS_LIST}.")
        wanted.add(word)
    def answer(status: str) -> bool:
        folded = status.strip().casefold()
        return folded in wanted if folded in _KNOWN_SERVER_WORDS else "unknown" in wanted

    by_word = _Remembered(answer)

    def test(row: Any) -> bool:
        if row.not_found:
            return ("deleted" if is_purged(row) else "notfound") in wanted
        status = row.status
        if status is None:
            if awaits_first_answer(row):
                return "checking" in wanted
            return "unknown" in wanted
        return by_word[status]

    return test


class _Remembered(dict[str, bool]):
    """Answers by text (status words, types repeat on many rows), worked out on first
    sight; bounded, as the texts come from the server."""

    def __init__(self, work_out: Callable[[str], bool]) -> None:
        super().__init__()
        self._work_out = work_out

    def __missing__(self, text: str) -> bool:
        found = self._work_out(text)
        if len(self) >= _STATUS_CACHE_LIMIT:
            self.clear()
        self[text] = found
        return found


# -- text fields ------------------------------------------------------------------------
def glob_test(pattern: str) -> Callable[[str], bool]:
    """A test of case-folded text against ``pattern`` (already case-folded): ``*`` is any
    text, everything else literal, over the whole text. String methods, not a regex:
    a tenth of the time per row."""
    parts = pattern.split("*")
    head, tail, middle = parts[0], parts[-1], parts[1:-1]
    least = len(head) + len(tail) + sum(map(len, middle))

    def test(text: str) -> bool:
        if len(text) < least or not text.startswith(head) or not text.endswith(tail):
            return False
        position, end = len(head), len(text) - len(tail)
        for part in middle:
            found = text.find(part, position, end)
            if found < 0:
                return False
            position = found + len(part)
        return True

    return test


def _text_test(term: RawTerm, values: Sequence[Piece], attribute: str, *,
               exact: bool) -> RowTest:
    """Any of ``values`` in the row's ``attribute``: a glob over the whole text when it
    has ``*``, else the text itself (``exact``) or a part of it, in any case."""
    globs: list[Callable[[str], bool]] = []
    patterns: list[str] = []
    words: list[str] = []
    for piece in values:
        if not piece.text:
            raise _bad(term, f"Give a text after the colon, such as {attribute_hint(attribute)}.")
        if "*" in piece.text:
            patterns.append(piece.text.casefold())
            globs.append(glob_test(patterns[-1]))
        else:
            words.append(piece.text.casefold())
    get = attrgetter(attribute)
    if exact:
        exact_words = frozenset(words)

        def answer(value: str) -> bool:
            folded = value.casefold()
            return folded in exact_words or any(glob(folded) for glob in globs)

        by_text = _Remembered(answer)

        def exactly(row: Any) -> bool:
            value = get(row)
            return bool(value) and by_text[value]

        return exactly
    if not globs and len(words) == 1:
        [word] = words

        def holds(row: Any) -> bool:
            value = get(row)
            return bool(value) and word in value.casefold()

        return holds
    if not words and len(patterns) == 1:
        return _one_pattern(patterns[0], get)

    def test(row: Any) -> bool:
        value = get(row)
        if not value:
            return False
        folded = value.casefold()
        return any(word in folded for word in words) or any(glob(folded) for glob in globs)

    return test


def _one_pattern(pattern: str, get: Callable[[Any], Any]) -> RowTest:
    """The test of one pattern over a text field; the usual shapes (``payroll*``,
    ``*.csv``, ``*march*``) as one string method each, the rest by :func:`glob_test`."""
    parts = pattern.split("*")
    if len(parts) == 2 and not parts[1]:
        head = parts[0]
        return lambda row: bool(value := get(row)) and value.casefold().startswith(head)
    if len(parts) == 2 and not parts[0]:
        tail = parts[1]
        return lambda row: bool(value := get(row)) and value.casefold().endswith(tail)
    if len(parts) == 3 and not parts[0] and not parts[2]:
        middle = parts[1]
        return lambda row: bool(value := get(row)) and middle in value.casefold()
    glob = glob_test(pattern)
    return lambda row: bool(value := get(row)) and glob(value.casefold())


def attribute_hint(attribute: str) -> str:
    """An example term for a text field, for error sentences."""
    return {"file_name": "file:payroll*", "note": "note:INC-4412",
            "data_source_type": "type:csv"}.get(attribute, "msg:\"not valid UTF-8\"")


def _message(index: MessageIndex | None) -> Callable[[RawTerm, Sequence[Piece]], RowTest]:
    def compile_message(term: RawTerm, values: Sequence[Piece]) -> RowTest:
        if any(not piece.text for piece in values):
            raise _bad(term, 'Give a text after the colon, such as msg:"not valid UTF-8".')
        return message_test([piece.text for piece in values], index)
    return compile_message


# -- numbers: id, warn, err -------------------------------------------------------------
Interval = tuple[float, float]


def _number(term: RawTerm, text: str, what: str) -> int:
    if not _NUMBER.fullmatch(text):
        if text.isascii() and text.isdigit():
            raise _bad(term, f"{text[:24]!r}… is too long for {what}.")
        raise _bad(term, f"{text!r} is not a whole number; write {what} as digits, "
                         "like 48200.")
    return int(text)


def _duration(term: RawTerm, text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError:
        raise _bad(term, f"{text!r} is not a duration; write it as 90s, 30m, 2h, 1d or "
                         "1h30m.") from None


def _intervals(term: RawTerm, values: Sequence[Piece], what: str, *,
               durations: bool) -> list[Interval]:
    """Each value as an interval: ``N``, ``>N``, ``>=N``, ``<N``, ``<=N``, ``A-B``."""
    read: Callable[[RawTerm, str], float]
    if durations:
        read = _duration
    else:
        def read(bad: RawTerm, text: str) -> float:
            return _number(bad, text, what)
    step = (lambda x: math.nextafter(x, math.inf)) if durations else (lambda x: x + 1)
    back = (lambda x: math.nextafter(x, -math.inf)) if durations else (lambda x: x - 1)
    intervals: list[Interval] = []
    for piece in values:
        text = piece.text.strip()
        match = _COMPARISON.fullmatch(text)
        assert match is not None  # the pattern matches any text
        operator, rest = match.group(1), match.group(2).strip()
        if not rest:
            raise _bad(term, f"Give a value after the colon, such as {_number_hint(what)}.")
        if operator is None and "-" in rest:
            low_text, _, high_text = rest.partition("-")
            low, high = read(term, low_text.strip()), read(term, high_text.strip())
            if low > high:
                raise _bad(term, f"The range {rest} runs backwards; write "
                                 f"{high_text.strip()}-{low_text.strip()}.")
            intervals.append((low, high))
            continue
        value = read(term, rest)
        if operator is None and durations:
            raise _bad(term, f"Say more or less than {rest}: age:>{rest} or age:<{rest}.")
        intervals.append({
            None: (value, value), "=": (value, value),
            ">": (step(value), math.inf), ">=": (value, math.inf),
            "<": (-math.inf, back(value)), "<=": (-math.inf, value),
        }[operator])
    return intervals


def _number_hint(what: str) -> str:
    return {"an ID": "id:48200-48300", "a duration": "age:>30m"}.get(what, "warn:>0")


def _within(intervals: list[Interval], value_of: Callable[[Any], float]) -> RowTest:
    if len(intervals) == 1:
        [(low, high)] = intervals

        def one(row: Any) -> bool:
            return low <= value_of(row) <= high
        return one

    def test(row: Any) -> bool:
        value = value_of(row)
        return any(low <= value <= high for low, high in intervals)

    return test


def _id(term: RawTerm, values: Sequence[Piece]) -> RowTest:
    intervals = _intervals(term, values, "an ID", durations=False)
    if len(intervals) == 1:
        [(low, high)] = intervals

        def one(row: Any) -> bool:
            return bool(low <= row.id <= high)
        return one
    return _within(intervals, lambda row: row.id)


def _count(attribute: str) -> Callable[[RawTerm, Sequence[Piece]], RowTest]:
    get = attrgetter(attribute)

    def compile_count(term: RawTerm, values: Sequence[Piece]) -> RowTest:
        intervals = _intervals(term, values, "a count", durations=False)
        if len(intervals) == 1:
            [(low, high)] = intervals

            def one(row: Any) -> bool:
                return bool(low <= get(row) <= high)
            return one
        return _within(intervals, get)
    return compile_count


# -- age --------------------------------------------------------------------------------
# Upload dates as unix seconds, by the text the server sent (rows of one upload share it).
_UPLOAD_LIMIT = 65_536
_uploads: dict[str, float | None] = {}


def started_at(row: Any) -> float:
    """When a row's age counts from: its upload time, else when it was first seen."""
    text = row.upload_date
    if text:
        seconds = _uploads.get(text, -1.0)
        if seconds == -1.0:
            seconds = parse_instant(text)
            if len(_uploads) >= _UPLOAD_LIMIT:
                _uploads.clear()
            _uploads[text] = seconds
        if seconds is not None:
            return seconds
    first: float = row.first_seen
    return first


def _age(clock: Callable[[], float]) -> Callable[[RawTerm, Sequence[Piece]], RowTest]:
    def compile_age(term: RawTerm, values: Sequence[Piece]) -> RowTest:
        intervals = _intervals(term, values, "a duration", durations=True)
        if len(intervals) == 1:
            [(low, high)] = intervals

            def one(row: Any) -> bool:
                return low <= clock() - started_at(row) <= high
            return one
        return _within(intervals, lambda row: clock() - started_at(row))
    return compile_age


# -- the table of fields ------------------------------------------------------------------
Compiler = Callable[[RawTerm, Sequence[Piece]], RowTest]

#: Field names (and their other spellings) with their cost rank: cheap tests run first.
FIELDS: dict[str, tuple[str, int]] = {
    "id": ("id", 0), "status": ("status", 1), "warn": ("warn", 1), "warnings": ("warn", 1),
    "warning": ("warn", 1), "err": ("err", 1), "errors": ("err", 1), "error": ("err", 1),
    "type": ("type", 2), "file": ("file", 3), "note": ("note", 3), "age": ("age", 5),
    "msg": ("msg", 8), "message": ("msg", 8), "messages": ("msg", 8),
}
FIELD_NAMES = ("status", "type", "file", "note", "id", "age", "warn", "err", "msg")


def compile_field(name: str, term: RawTerm, values: Sequence[Piece],
                  clock: Callable[[], float], messages: MessageIndex | None = None) -> RowTest:
    """The test of one ``name:values`` term (``name`` as in :data:`FIELDS`); ``msg:``
    asks ``messages`` (the watchlist's index) where it can."""
    compilers: dict[str, Compiler] = {
        "id": _id, "status": _status, "warn": _count("warning_count"),
        "err": _count("error_count"),
        "type": lambda t, v: _text_test(t, v, "data_source_type", exact=True),
        "file": lambda t, v: _text_test(t, v, "file_name", exact=False),
        "note": lambda t, v: _text_test(t, v, "note", exact=False),
        "age": _age(clock), "msg": _message(messages),
    }
    return compilers[name](term, values)
