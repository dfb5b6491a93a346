"""Failures grouped by cause: the Problems view's data.

With hundreds of failures a row-by-row table stops helping; what helps is seeing that 90 of
them are one problem. A *kind* of problem is a message with its variable parts masked
(numbers, quoted values, hex bytes): "Row 12: date '03/04' is ambiguous" and "Row 90: date
'05/06' is ambiguous" are both "Row N: date '…' is ambiguous". Everything else of the
message is kept as the server sent it (untrusted: the UI passes it through
:func:`tui.core.untrusted.printable` before showing it).

:class:`ProblemIndex` keeps the groups of the watched rows up to date as rows change: a
row's messages are masked again only when they changed, so regrouping after a poll costs
the changed rows, not the whole watchlist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from tui.core.watchlist import DELETED_STATUS, WatchedConversion

__all__ = [
    "ProblemGroup",
    "ProblemIndex",
    "ProblemKey",
    "ProblemKind",
    "error_kind",
    "group_problems",
    "mask_message",
    "problem_keys",
]

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|‘[^’]*’|“[^”]*”")
# A number standing on its own (not part of a word such as "UTF-8", "ISO8601" or "row_2"):
# plain, decimal, dates and times ("2026-12-06", "12:30"), and hex bytes ("0xc3"). The
# look-ahead for a digit comes first: the other tests then run only where a digit is, which
# makes masking a million messages twice as fast (benchmarks/bench_problems.py).
_NUMBER = re.compile(r"(?=\d)\b(?<![^\W\d_]-)(?:0[xX][0-9a-fA-F]+|\d+(?:[.,:/-]\d+)*)")
_SPACES = re.compile(r"\s+")
_UNEVEN_SPACE = re.compile(r"\s\s|[^\S ]")  # anything the space rule would change
_QUOTES = ("'", '"', "‘", "“")


def mask_message(message: str) -> str:
    """``message`` with its variable parts masked, for grouping and for showing.

    Quoted values become ``'…'``, numbers ``N``; runs of white space one space. Never
    raises; the rest of the text is left exactly as it came.
    """
    masked = message
    # Each pass only where it can change something: most messages have no quotes and
    # single spaces, and this runs for every message of every watched row at load.
    if any(quote in masked for quote in _QUOTES):
        masked = _QUOTED.sub("'…'", masked)
    masked = _NUMBER.sub("N", masked)
    if _UNEVEN_SPACE.search(masked):
        masked = _SPACES.sub(" ", masked)
    return masked.strip()


def error_kind(message: str) -> str:
    """The kind of an error message, compared without case ("what changed since": new
    kinds of error)."""
    return mask_message(message).casefold()


class ProblemKind(Enum):
    """Whether a message came as one of a conversion's errors or its warnings."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class ProblemKey:
    """One group: the kind of message and its masked text."""

    kind: ProblemKind
    text: str

    def __lt__(self, other: object) -> bool:  # Enum has no order: errors first
        if not isinstance(other, ProblemKey):
            return NotImplemented
        return (self.kind is not ProblemKind.ERROR, self.text) < (
            other.kind is not ProblemKind.ERROR, other.text)


@dataclass(frozen=True, slots=True)
class ProblemGroup:
    """A group of the Problems view: its key and how many watched rows have it."""

    key: ProblemKey
    count: int

    def line(self) -> str:
        """"90 × File is not valid UTF-8 (byte N)" (the text still untrusted)."""
        return f"{self.count:,} × {self.key.text}"


def _has_problems(row: WatchedConversion) -> bool:
    # Gone from the server (deleted, or unknown to it): nothing left to triage.
    return (row.deleted_at is None and row.status != DELETED_STATUS and not row.not_found
            and bool(row.errors or row.warnings))


def problem_keys(row: WatchedConversion,
                 known: dict[tuple[ProblemKind, str], ProblemKey] | None = None,
                 ) -> frozenset[ProblemKey]:
    """The groups ``row`` is in: one per distinct masked error and warning (a row with
    several messages is in several groups); none once it is deleted or not found.

    ``known`` remembers the key of each message text seen (many rows share a text), so
    one text is masked once, and its key is one object however many rows have it.
    """
    if not _has_problems(row):
        return frozenset()
    known = {} if known is None else known
    keys = []
    for kind, messages in ((ProblemKind.ERROR, row.errors),
                           (ProblemKind.WARNING, row.warnings)):
        for message in messages:
            key = known.get((kind, message))
            if key is None:
                made = ProblemKey(kind, mask_message(message))
                # One object per group, not one per row that has it.
                key = known[(kind, message)] = known.setdefault((kind, made.text), made)
            keys.append(key)
    return frozenset(keys)


class ProblemIndex:
    """The groups of a set of watched rows, kept up to date row by row.

    ``update`` and ``remove`` follow the rows as they change; ``groups`` lists the groups,
    largest first. :attr:`generation` changes whenever a group gained or lost a row, so a
    view redraws only then.
    """

    def __init__(self) -> None:
        # Per row: the messages its keys were made from, and the keys.
        self._by_id: dict[int, tuple[tuple[str, ...], tuple[str, ...], bool,
                                     frozenset[ProblemKey]]] = {}
        self._ids_by_key: dict[ProblemKey, set[int]] = {}
        self.generation = 0

    def __len__(self) -> int:
        """How many groups there are."""
        return len(self._ids_by_key)

    def set_rows(self, rows: Iterable[WatchedConversion]) -> None:
        """Forget everything and index ``rows``."""
        self._by_id.clear()
        self._ids_by_key.clear()
        self.generation += 1
        self.update(rows)

    def update(self, rows: Iterable[WatchedConversion]) -> None:
        """Follow rows added or changed (unchanged messages cost a comparison only)."""
        changed = False
        by_id, ids_by_key = self._by_id, self._ids_by_key
        known: dict[tuple[ProblemKind, str], ProblemKey] = {}  # for this batch only
        for row in rows:
            live = _has_problems(row)
            before = by_id.get(row.id)
            if before is not None and before[2] == live and before[0] == row.errors \
                    and before[1] == row.warnings:
                continue
            keys = problem_keys(row, known) if live else frozenset()
            old = before[3] if before is not None else frozenset()
            if keys:
                by_id[row.id] = (row.errors, row.warnings, live, keys)
            elif before is not None:
                del by_id[row.id]
            if keys == old:
                continue
            changed = True
            for key in old - keys:
                members = ids_by_key[key]
                members.discard(row.id)
                if not members:
                    del ids_by_key[key]
            for key in keys - old:
                ids_by_key.setdefault(key, set()).add(row.id)
        if changed:
            self.generation += 1

    def remove(self, ids: Iterable[int]) -> None:
        """Forget rows no longer watched."""
        changed = False
        for conversion_id in ids:
            before = self._by_id.pop(conversion_id, None)
            if before is None:
                continue
            changed = True
            for key in before[3]:
                members = self._ids_by_key[key]
                members.discard(conversion_id)
                if not members:
                    del self._ids_by_key[key]
        if changed:
            self.generation += 1

    def groups(self) -> list[ProblemGroup]:
        """Every group, the largest first (then errors before warnings, then by text)."""
        groups = [ProblemGroup(key, len(ids)) for key, ids in self._ids_by_key.items()]
        groups.sort(key=lambda group: (-group.count, group.key))
        return groups

    def ids_of(self, key: ProblemKey) -> frozenset[int]:
        """The rows in the group ``key`` now (empty when the group is gone)."""
        return frozenset(self._ids_by_key.get(key, ()))

    def keys_of(self, row: WatchedConversion) -> frozenset[ProblemKey]:
        """The groups ``row`` is in, from the index when its messages are the indexed ones."""
        before = self._by_id.get(row.id)
        if before is not None and before[0] == row.errors and before[1] == row.warnings \
                and before[2] == _has_problems(row):
            return before[3]
        return problem_keys(row)


def group_problems(rows: Iterable[WatchedConversion]) -> list[ProblemGroup]:
    """Group every failure and warning of ``rows`` from scratch, the largest group first."""
    index = ProblemIndex()
    index.update(rows)
    return index.groups()
