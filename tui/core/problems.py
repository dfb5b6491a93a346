"""Failures grouped by cause: the Problems view's data.

With hundreds of failures a row-by-row table stops helping; what helps is seeing that 90 of
them are one problem. A *kind* of problem is a message with its variable parts masked
(numbers, quoted values, hex bytes): "Row 12: date '03/04' is ambiguous" and "Row 90: date
'05/06' is ambiguous" are both "Row N: date '…' is ambiguous". Everything else of the
message is kept as the server sent it (untrusted: the UI passes it through
:func:`tui.core.untrusted.printable` before showing it).

:class:`ProblemIndex` keeps the groups of the watched rows up to date as rows change: a
row's messages are masked again only when they changed, so regrouping after a poll costs
the changed rows, not the whole watchlist. At load it is seeded from the groups the
watchlist file keeps (:mod:`tui.core.watchlist.grouping`: each message text is masked once,
when it is stored), so the first grouping of 100,000 rows is one query, not seconds of
masking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from tui.core.watchlist import WatchedConversion
from tui.core.watchlist.grouping import StoredGroups, in_problems, mask_message

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


_has_problems = in_problems  # the file's groups count the same rows


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

    Built either from rows in memory (:meth:`set_rows`: every message masked), or seeded
    from the groups the watchlist file keeps (:meth:`seed`: each text was masked when it
    was stored, so this costs one query, not seconds). ``update`` and ``remove`` follow
    the rows as they change; ``groups`` lists the groups, largest first.
    :attr:`generation` changes whenever a group gained or lost a row, so a view redraws
    only then.

    A seeded row stays counted by the seed until it changes: its keys are worked out
    (from the row as seeded) only then, so following a poll costs the changed rows.
    """

    def __init__(self) -> None:
        # Per row indexed here: the messages its keys were made from, and the keys.
        self._by_id: dict[int, tuple[tuple[str, ...], tuple[str, ...], bool,
                                     frozenset[ProblemKey]]] = {}
        self._ids_by_key: dict[ProblemKey, set[int]] = {}  # of the rows in _by_id
        # Rows still counted as seeded (unchanged since), and how to ask for the seeded
        # members of a group (asked once a group).
        self._seeded: dict[int, WatchedConversion] = {}
        self._seed_members: Callable[[str, str], frozenset[int]] | None = None
        self._seed_cache: dict[ProblemKey, frozenset[int]] = {}
        self._counts: dict[ProblemKey, int] = {}  # every row, seeded or indexed here
        self.generation = 0

    def __len__(self) -> int:
        """How many groups there are."""
        return len(self._counts)

    def _clear(self) -> None:
        self._by_id.clear()
        self._ids_by_key.clear()
        self._seeded = {}
        self._seed_members = None
        self._seed_cache.clear()
        self._counts.clear()
        self.generation += 1

    def set_rows(self, rows: Iterable[WatchedConversion]) -> None:
        """Forget everything and index ``rows`` (each of their messages masked)."""
        self._clear()
        self.update(rows)

    def seed(self, stored: StoredGroups) -> None:
        """Forget everything and take the groups the watchlist file keeps, with the rows
        they were counted from (:meth:`tui.core.watchlist.Watchlist.stored_groups`)."""
        self._clear()
        for kind, text, count in stored.counts:
            self._counts[ProblemKey(ProblemKind(kind), text)] = count
        # Only rows the groups count: a row with no group counts nowhere as seeded or not,
        # and at 100,000 rows a dict of all of them is 5 MB.
        self._seeded = {conversion_id: row for conversion_id, row in stored.rows.items()
                        if _has_problems(row)}
        self._seed_members = stored.members

    def _unseed(self, row_id: int, known: dict[tuple[ProblemKind, str], ProblemKey]
                ) -> tuple[WatchedConversion, frozenset[ProblemKey]] | None:
        """Take a seeded row out of the seed's counts: the row as seeded and its keys."""
        seeded = self._seeded.pop(row_id, None)
        if seeded is None:
            return None
        keys = problem_keys(seeded, known)
        self._count(keys, -1)
        return seeded, keys

    def _count(self, keys: Iterable[ProblemKey], step: int) -> None:
        counts = self._counts
        for key in keys:
            count = counts.get(key, 0) + step
            if count > 0:
                counts[key] = count
            else:
                counts.pop(key, None)

    def update(self, rows: Iterable[WatchedConversion]) -> None:
        """Follow rows added or changed (unchanged messages cost a comparison only)."""
        changed = False
        by_id, ids_by_key, seeded = self._by_id, self._ids_by_key, self._seeded
        known: dict[tuple[ProblemKind, str], ProblemKey] = {}  # for this batch only
        for row in rows:
            live = _has_problems(row)
            before = by_id.get(row.id)
            if before is not None:
                if before[2] == live and before[0] == row.errors \
                        and before[1] == row.warnings:
                    continue
                old = before[3]
            else:
                as_seeded = seeded.get(row.id)
                if as_seeded is not None and (as_seeded is row or (
                        as_seeded.errors == row.errors and as_seeded.warnings == row.warnings
                        and _has_problems(as_seeded) == live)):
                    continue
                # Counted by the seed until now: counted here from now on.
                taken = self._unseed(row.id, known) if as_seeded is not None else None
                if taken is not None:
                    self._count(taken[1], +1)  # back, as this row's (adjusted below)
                    for key in taken[1]:
                        ids_by_key.setdefault(key, set()).add(row.id)
                old = taken[1] if taken is not None else frozenset()
            keys = problem_keys(row, known) if live else frozenset()
            if keys:
                by_id[row.id] = (row.errors, row.warnings, live, keys)
            elif row.id in by_id:
                del by_id[row.id]
            if keys == old:
                continue
            changed = True
            for key in old - keys:
                members = ids_by_key[key]
                members.discard(row.id)
                if not members:
                    del ids_by_key[key]
            self._count(old - keys, -1)
            for key in keys - old:
                ids_by_key.setdefault(key, set()).add(row.id)
            self._count(keys - old, +1)
        if changed:
            self.generation += 1

    def remove(self, ids: Iterable[int]) -> None:
        """Forget rows no longer watched."""
        changed = False
        for conversion_id in ids:
            taken = self._unseed(conversion_id, {})
            if taken is not None:
                changed |= bool(taken[1])
                continue
            before = self._by_id.pop(conversion_id, None)
            if before is None:
                continue
            changed = True
            for key in before[3]:
                members = self._ids_by_key[key]
                members.discard(conversion_id)
                if not members:
                    del self._ids_by_key[key]
            self._count(before[3], -1)
        if changed:
            self.generation += 1

    def groups(self) -> list[ProblemGroup]:
        """Every group, the largest first (then errors before warnings, then by text)."""
        groups = [ProblemGroup(key, count) for key, count in self._counts.items()]
        groups.sort(key=lambda group: (-group.count, group.key))
        return groups

    def _seeded_in(self, key: ProblemKey) -> frozenset[int]:
        """The seed's members of ``key`` (asked of the file once a group)."""
        if self._seed_members is None or key not in self._counts:
            return frozenset()
        found = self._seed_cache.get(key)
        if found is None:
            found = self._seed_cache[key] = self._seed_members(key.kind.value, key.text)
        return found

    def ids_of(self, key: ProblemKey) -> frozenset[int]:
        """The rows in the group ``key`` now (empty when the group is gone)."""
        seeded = self._seeded
        return frozenset(self._ids_by_key.get(key, ())).union(
            i for i in self._seeded_in(key) if i in seeded)

    def has(self, key: ProblemKey, row: WatchedConversion) -> bool:
        """Whether ``row`` (as it is now) is in the group ``key``: from the index while
        its messages are the indexed ones (what a table's filter asks of every row)."""
        as_seeded = self._seeded.get(row.id)
        if as_seeded is None and not (row.errors or row.warnings):
            return False  # no message, no group (most rows: the seed keeps none of them)
        if as_seeded is not None and (as_seeded is row or (
                as_seeded.errors == row.errors and as_seeded.warnings == row.warnings
                and _has_problems(as_seeded) == _has_problems(row))):
            return row.id in self._seeded_in(key)
        return key in self.keys_of(row)

    def keys_of(self, row: WatchedConversion) -> frozenset[ProblemKey]:
        """The groups ``row`` is in, from the index when its messages are the indexed
        ones (a seeded row's are worked out: :meth:`has` asks the seed instead)."""
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
