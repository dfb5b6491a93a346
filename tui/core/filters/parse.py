"""Reading a filter: ``status:failed,processing type:csv -status:deleted payroll``.

Terms are apart by spaces and all must hold (AND); values after one field's colon are
apart by commas and one must hold (OR); ``-`` before a term leaves out what it matches.
A term without a field is free text, matched as the monitor's ``/`` box always did: a
part of the row's ID, file name, type, status or note, in any case. The fields are in
:data:`FILTER_TERMS` (what Help, the README and ``--help`` show).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tui.core.filters.errors import FilterError
from tui.core.filters.messages import MessageIndex
from tui.core.filters.terms import FIELD_NAMES, FIELDS, RowTest, compile_field
from tui.core.filters.tokens import field_of, split_terms, split_values, unquote
from tui.core.statuses import read_status

__all__ = ["FILTER_TERMS", "RowFilter", "TextTest", "parse_filter", "row_text"]

TextTest = Callable[[str], bool]
"""A test of a row's searchable text (see :func:`row_text`)."""

FILTER_TERMS: tuple[tuple[str, str], ...] = (
    ("payroll", "free text: a part of the ID, file, type, status or note"),
    ('"march run"', "text with spaces, in quotes"),
    ("status:failed,processing", "status (any case; a comma means or): uploaded, queued, "
                                 "processing, completed, failed, deletionpending, deleted, "
                                 "notfound, unknown, checking"),
    ("type:csv", "data source type (* is a wildcard)"),
    ("file:payroll*", "file name: a part of it, or a pattern with *"),
    ("note:INC-4412", "a part of the note"),
    ("id:48200-48300", "ID, a range, or >48200, <=48300; commas for several"),
    ("age:>30m", "time since upload (since first seen when the upload time is not "
                 "known): >, <, >=, <= or a range, in s, m, h, d"),
    ("warn:>0  err:0", "number of warnings, errors: a number, >, <, or a range"),
    ('msg:"not valid UTF-8"', "a part of an error or warning message (literal, any case)"),
    ("-status:deleted", "a - before a term leaves out what it matches"),
)
"""(example, meaning) of each kind of term, in the order Help lists them."""


@dataclass(frozen=True, slots=True)
class RowFilter:
    """A parsed filter: ``row_test`` for the field terms, ``text_test`` for the free
    text (each None when there is none). Use :meth:`matches`, or both parts when the
    row's searchable text is at hand already (the table keeps it per row)."""

    text: str
    row_test: RowTest | None = None
    text_test: TextTest | None = None
    fields: frozenset[str] = field(default=frozenset())
    words_test: RowTest = field(default=lambda row: True)
    """The free words as a test of a row itself (what :meth:`matches` uses): the same
    answer as ``text_test(row_text(row))``, field by field, without building the text."""

    @property
    def is_empty(self) -> bool:
        """True when the filter lets every row through."""
        return self.row_test is None and self.text_test is None

    def matches(self, row: Any) -> bool:
        """Whether ``row`` (a ``WatchedConversion``) passes every term."""
        if self.row_test is not None and not self.row_test(row):
            return False
        return self.text_test is None or self.words_test(row)

    def select(self, rows: Iterable[Any]) -> list[Any]:
        """The rows of ``rows`` that pass, in their order (faster than :meth:`matches`
        one by one: the loop runs in C)."""
        row_test, text_test = self.row_test, self.text_test
        if text_test is None:
            return list(rows) if row_test is None else list(filter(row_test, rows))
        passed = rows if row_test is None else filter(row_test, rows)
        return list(filter(self.words_test, passed))


def row_text(row: Any) -> str:
    """What free text is searched in: ID, file, type, status (as shown), note, case-folded."""
    # The status as shown is the server's word unless the row answers 404 now.
    status = read_status(row).label() if row.not_found else row.status or ""
    return (f"{row.id}\n{row.file_name or ''}\n{row.data_source_type or ''}\n{status}\n"
            f"{row.note or ''}").casefold()


def _negated(test: RowTest) -> RowTest:
    return lambda row: not test(row)


def _both(first: RowTest, second: RowTest) -> RowTest:
    return lambda row: first(row) and second(row)


def _all_of(tests: list[RowTest]) -> RowTest | None:
    """Every test, first to last, stopping at the first that fails. Nested pairs, not a
    loop: a row the first test rejects costs two calls (a loop cost four times that)."""
    if not tests:
        return None
    combined = tests[-1]
    for test in reversed(tests[:-1]):
        combined = _both(test, combined)
    return combined


def _text_test(words: list[tuple[str, bool]]) -> TextTest | None:
    if not words:
        return None
    wanted = tuple(word for word, negated in words if not negated)
    unwanted = tuple(word for word, negated in words if negated)

    def test(text: str) -> bool:
        for word in wanted:
            if word not in text:
                return False
        return all(word not in text for word in unwanted)

    return test


class _FieldTexts:
    """Folded texts of the fields free words search, each worked out once per distinct
    value where values repeat (types, statuses)."""

    def __init__(self) -> None:
        self.types: dict[str, str] = {}
        self.statuses: dict[str, str] = {}

    def type_of(self, row: Any) -> str:
        value = row.data_source_type
        if not value:
            return ""
        folded = self.types.get(value)
        if folded is None:
            folded = value.casefold()
            if len(self.types) < _SHARED_LIMIT:
                self.types[value] = folded
        return folded

    def status_of(self, row: Any) -> str:
        if row.not_found:
            return read_status(row).label().casefold()
        value = row.status
        if not value:
            return ""
        folded = self.statuses.get(value)
        if folded is None:
            folded = value.casefold()
            if len(self.statuses) < _SHARED_LIMIT:
                self.statuses[value] = folded
        return folded


_SHARED_LIMIT = 256  # server words are untrusted: keep the memo bounded


def _holds(word: str, texts: _FieldTexts) -> RowTest:
    """A test: ``word`` is a part of one of the row's searched fields."""
    if "\n" in word:  # only the joined text can hold a line break
        return lambda row: word in row_text(row)
    digits = any(char.isdigit() for char in word)

    def test(row: Any) -> bool:
        if digits and word in str(row.id):
            return True
        file_name = row.file_name
        if file_name and word in file_name.casefold():
            return True
        if word in texts.type_of(row) or word in texts.status_of(row):
            return True
        note = row.note
        return bool(note) and word in note.casefold()

    return test


def _words_test(words: list[tuple[str, bool]]) -> RowTest:
    texts = _FieldTexts()
    tests = [(_holds(word, texts), negated) for word, negated in words]
    if len(tests) == 1:
        [(one, negated)] = tests
        return (lambda row: not one(row)) if negated else one

    def test(row: Any) -> bool:
        return all(one(row) != negated for one, negated in tests)

    return test


def parse_filter(source: str, *, clock: Callable[[], float] = time.time,
                 messages: MessageIndex | None = None) -> RowFilter:
    """Read ``source``; raises :class:`FilterError` (the first bad term) and nothing else.

    ``clock`` gives "now" for ``age:`` (read as each row is tested, so a filter kept
    open all day stays right). ``messages``: the watchlist whose rows the filter runs
    over; ``msg:`` then asks its FTS5 index (one query, on the first row tested).
    """
    tests: list[tuple[int, RowTest]] = []
    words: list[tuple[str, bool]] = []
    used: set[str] = set()
    for term in split_terms(source):
        text = term.text
        negated = text.startswith("-")
        if negated:
            text = text[1:]
            if not text:
                raise FilterError("A - must come right before the term to leave out, such "
                                  "as -status:deleted.", term.start, term.end)
        name, value = field_of(text)
        if name is None:
            word = unquote(text).text.casefold()
            if word:
                words.append((word, negated))
            continue
        known = FIELDS.get(name.casefold())
        if known is None:
            raise FilterError(f"There is no field {name!r}; use {', '.join(FIELD_NAMES)} "
                              "(put text with a colon in quotes).", term.start, term.end)
        field_name, cost = known
        if not value:
            raise FilterError(f"Give a value after {name}:, such as "
                              f"{_EXAMPLES[field_name]}.", term.start, term.end)
        test = compile_field(field_name, term, split_values(value), clock, messages)
        tests.append((cost, _negated(test) if negated else test))
        used.add(field_name)
    tests.sort(key=lambda item: item[0])  # cheap tests first: most rows stop there
    return RowFilter(source, _all_of([test for _, test in tests]), _text_test(words),
                     frozenset(used), _words_test(words) if words else _everything)


def _everything(row: Any) -> bool:
    return True


_EXAMPLES = {"status": "status:failed", "type": "type:csv", "file": "file:payroll*",
             "note": "note:INC-4412", "id": "id:48200-48300", "age": "age:>30m",
             "warn": "warn:>0", "err": "err:>0", "msg": 'msg:"not valid UTF-8"'}
