"""What the watchlist stores and hands out, typed: rows, status changes, poll results;
and a conversion turned back into the parameters of a write (SQL rows are turned into
conversions by :mod:`.decoding`).

At 100,000 rows the decoded rows are most of the app's memory, so texts many rows share
(a status, a type, the same warnings, no metadata) are one object each, not one a row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from tui.api.models import StatusEnvelope
from tui.core.watchlist.messages import bounded

__all__ = [
    "DELETED_STATUS",
    "MAX_ID",
    "PollResult",
    "RecordedResults",
    "StatusChange",
    "StoredConversion",
    "WatchedConversion",
    "WatchlistChanges",
    "apply_result",
    "checked_ids",
    "fold_results",
    "int_ids",
    "result_params",
]

DELETED_STATUS = "Deleted"
MAX_ID = 2**63 - 1

_NO_METADATA: Mapping[str, Any] = MappingProxyType({})


class _Marks(NamedTuple):
    """The fields of a :class:`WatchedConversion` that most rows hold at their defaults
    (no note, no failed check, not acknowledged nor snoozed), kept together: rows at the
    defaults all share :data:`_NO_MARKS`, one object, instead of a slot each (about 5 MB
    at 100,000 rows). A tuple: never changed in place; setting one of these fields
    replaces the row's ``_marks``. Not here: ``read_at`` and the totals ("mark all read"
    sets the one on every row, every row with a message has the others), and what the
    views and counts read of every row (``not_found``, ``deleted_at``,
    ``delete_requested_at``): a slot reads faster than a mark."""

    note: str | None = None
    last_problem: str | None = None
    problem_count: int = 0
    last_problem_at: float | None = None
    acknowledged_at: float | None = None
    snoozed_until: float | None = None


_NO_MARKS = _Marks()
_MARK_FIELDS = _Marks._fields


def _marks(values: tuple[Any, ...]) -> _Marks:
    """``values`` (in the order of _Marks) as marks: the shared ones when all are defaults."""
    if values == _NO_MARKS:  # one tuple comparison, in C
        return _NO_MARKS
    return _Marks._make(values)


@dataclass(init=False)
class WatchedConversion:
    """One watched conversion as last seen. Times are unix seconds; text is untrusted.

    Items handed out by the watchlist are shared (with its snapshot, the table, the
    poller): read them, do not modify them; a change replaces the item.

    Every field reads and writes as an attribute. The fields of :class:`_Marks` (the
    note, the last check's problem, acknowledged, snoozed) live in one shared object while
    they hold their defaults: 100,000 rows hold them in one place.
    """

    if TYPE_CHECKING:
        # A slot, not a field (the shared defaults of the fields of _Marks). mypy is not
        # shown the slots: it would refuse to set those fields, which are properties.
        _marks: _Marks
    else:
        __slots__ = ("_marks", "data_source_type", "delete_requested_at", "deleted_at",
                     "entered_seen", "errors", "errors_total", "file_name", "first_seen",
                     "id", "last_changed", "last_checked", "metadata", "not_found", "raw",
                     "read_at", "status", "upload_date", "warnings", "warnings_total")

    id: int
    file_name: str | None
    data_source_type: str | None
    status: str | None
    upload_date: str | None
    warnings: tuple[str, ...]
    errors: tuple[str, ...]
    metadata: Mapping[str, Any]
    first_seen: float
    last_checked: float | None
    last_changed: float | None
    note: str | None
    last_problem: str | None
    problem_count: int
    delete_requested_at: float | None
    deleted_at: float | None
    not_found: bool
    raw: str | None  # the last envelope as JSON text
    last_problem_at: float | None
    # The user's attention marks (unix seconds; None: none). Acknowledged ("I have this
    # one") until something new happens to the row; snoozed: no alerts until then; read:
    # when the user last looked at the row.
    acknowledged_at: float | None
    snoozed_until: float | None
    read_at: float | None
    # How many errors and warnings the server sent: the row keeps the first
    # MESSAGES_KEPT of each (0: as many as are kept; see error_count).
    errors_total: int
    warnings_total: int
    # Seen changing into its status (then ``last_changed`` is when); False when the status
    # is the one the first answer gave: the time in it counts from that answer, a bound.
    entered_seen: bool

    def __init__(self, id: int, file_name: str | None, data_source_type: str | None,
                 status: str | None, upload_date: str | None, warnings: tuple[str, ...],
                 errors: tuple[str, ...], metadata: Mapping[str, Any], first_seen: float,
                 last_checked: float | None, last_changed: float | None, note: str | None,
                 last_problem: str | None, problem_count: int,
                 delete_requested_at: float | None, deleted_at: float | None,
                 not_found: bool, raw: str | None, last_problem_at: float | None = None,
                 acknowledged_at: float | None = None, snoozed_until: float | None = None,
                 read_at: float | None = None, errors_total: int = 0,
                 warnings_total: int = 0, entered_seen: bool = False) -> None:
        self.id = id
        self.file_name = file_name
        self.data_source_type = data_source_type
        self.status = status
        self.upload_date = upload_date
        self.warnings = warnings
        self.errors = errors
        self.metadata = metadata
        self.first_seen = first_seen
        self.last_checked = last_checked
        self.last_changed = last_changed
        self.delete_requested_at = delete_requested_at
        self.deleted_at = deleted_at
        self.not_found = not_found
        self.raw = raw
        self.read_at = read_at
        self.errors_total = errors_total
        self.warnings_total = warnings_total
        self.entered_seen = entered_seen
        self._marks = _marks((note, last_problem, problem_count, last_problem_at,
                              acknowledged_at, snoozed_until))

    @property
    def error_count(self) -> int:
        """How many errors the server sent (``errors`` holds the first ones)."""
        return max(self.errors_total, len(self.errors))

    @property
    def warning_count(self) -> int:
        """How many warnings the server sent (``warnings`` holds the first ones)."""
        return max(self.warnings_total, len(self.warnings))


def _mark_property(name: str) -> property:
    """A field of :class:`_Marks` as an attribute of the row: read from its marks (in C),
    written by replacing them (shared again once every field is back at its default)."""
    position = _MARK_FIELDS.index(name)

    def write(row: WatchedConversion, value: Any) -> None:
        marks = row._marks
        if marks[position] is value:
            return
        row._marks = _marks((*marks[:position], value, *marks[position + 1:]))

    return property(attrgetter(f"_marks.{name}"), write,
                    doc=f"``{name}`` (kept in the row's shared marks)")


for _name in _MARK_FIELDS:
    setattr(WatchedConversion, _name, _mark_property(_name))
del _name

_FIELDS = tuple(WatchedConversion.__dataclass_fields__)


class RawSource(Protocol):
    """Where a stored row's raw envelope is read from when asked (the watchlist)."""

    def raw_of(self, conversion_id: int) -> str | None:
        """The last envelope stored for ``conversion_id``, as JSON text."""


_RAW_SLOT = WatchedConversion.__dict__["raw"]  # the slot itself, under the property below


class StoredConversion(WatchedConversion):
    """A :class:`WatchedConversion` read from the watchlist that reads its ``raw`` text
    from the file when asked, not before.

    ``raw`` is the largest field (the whole envelope, a few hundred bytes) and is needed
    only by Inspect and the audit of a confirmed delete: 100,000 rows in memory without
    it take about 30 MB less. It reads the envelope stored *now* (a later poll may have
    replaced it); a row given a raw text (``row.raw = text``) keeps it.
    """

    __slots__ = ("_source",)

    @property
    def raw(self) -> str | None:
        """The last envelope as JSON text (read from the watchlist when not held)."""
        text: str | None = _RAW_SLOT.__get__(self, WatchedConversion)
        source: RawSource | None = getattr(self, "_source", None)
        if text is not None or source is None:
            return text
        return source.raw_of(self.id)

    @raw.setter
    def raw(self, value: str | None) -> None:
        _RAW_SLOT.__set__(self, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WatchedConversion):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _FIELDS)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A status seen to change (``previous`` is None for the first status after adding)."""

    id: int
    previous: str | None
    current: str | None
    at: float


@dataclass(frozen=True, slots=True)
class PollResult:
    """The outcome of one status check, as the poller hands it over.

    Exactly one of: ``envelope`` (an answer), ``not_found`` (404), ``problem``
    (the check failed: a short safe sentence, e.g. a timeout).
    """

    id: int
    checked_at: float
    envelope: StatusEnvelope | None = None
    problem: str | None = None
    not_found: bool = False


class RecordedResults(list[StatusChange]):
    """What :meth:`Watchlist.record_results` wrote: the status changes (this list, oldest
    first) and, in :attr:`rows`, every row it wrote, by ID, as it is stored now (so
    nobody needs to read them back)."""

    def __init__(self, changes: Iterable[StatusChange] = (),
                 rows: Mapping[int, WatchedConversion] | None = None) -> None:
        super().__init__(changes)
        self.rows: Mapping[int, WatchedConversion] = (
            MappingProxyType(rows) if isinstance(rows, dict) else rows or MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class WatchlistChanges:
    """What other connections wrote after a feed number (see :meth:`Watchlist.changes_since`).

    ``rows``: watched rows written since, as they are now (a note, a delete request, a
    poll result, an add); ``added``: those of them (re)added since; ``removed``: IDs
    unwatched since (and not watched again). ``seq``: the number to ask from next time.
    """

    seq: int
    rows: tuple[WatchedConversion, ...] = ()
    added: frozenset[int] = frozenset()
    removed: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rows or self.removed)


def encode_texts(items: Sequence[Any]) -> str:
    """A list of messages as stored."""
    return json.dumps([str(item) for item in items], ensure_ascii=False) if items else "[]"


def encode_mapping(value: Mapping[str, Any]) -> str:
    """Metadata as stored."""
    return json.dumps(dict(value), ensure_ascii=False, default=str) if value else "{}"


def held_raw(row: WatchedConversion) -> str | None:
    """The raw text ``row`` holds in memory (None: none, or left in the file)."""
    text: str | None = _RAW_SLOT.__get__(row, WatchedConversion)
    return text


def result_params(row: WatchedConversion, seq: int) -> dict[str, Any]:
    """The parameters of the statement that stores a poll result's row (by name)."""
    return {
        "id": row.id, "file_name": row.file_name, "data_source_type": row.data_source_type,
        "status": row.status, "upload_date": row.upload_date,
        "warnings": encode_texts(row.warnings), "errors": encode_texts(row.errors),
        "metadata": encode_mapping(row.metadata), "last_checked": row.last_checked,
        "last_changed": row.last_changed, "last_problem": row.last_problem,
        "problem_count": row.problem_count, "deleted_at": row.deleted_at,
        "not_found": int(row.not_found), "raw": held_raw(row),
        "last_problem_at": row.last_problem_at, "errors_total": row.error_count,
        "warnings_total": row.warning_count, "changed_seq": seq,
    }


def _upload_date(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _raw_text(envelope: Any) -> str:
    # The real model keeps the body as received: no need to decode and encode it again.
    text = getattr(envelope, "raw_text", None)
    if isinstance(text, str):
        return text
    return json.dumps(envelope.raw, ensure_ascii=False, default=str)


def checked_ids(ids: Iterable[int]) -> list[int]:
    """``ids`` without repeats, in order; ValueError for anything not a conversion ID."""
    given = list(ids)
    # Checked before removing duplicates: True and 1.0 would hide behind an equal 1.
    for value in given:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
            raise ValueError(f"{value!r} is not a conversion ID (1 to 2**63-1)")
    return list(dict.fromkeys(given))


def int_ids(ids: Iterable[int]) -> list[int]:
    """The integers among ``ids``, without repeats, in order (lookups skip the rest)."""
    return [value for value in dict.fromkeys(ids) if isinstance(value, int)]


def fold_results(rows: Mapping[int, WatchedConversion],
                 results: Sequence[PollResult]) -> list[StatusChange]:
    """Fold ``results`` into ``rows`` (fresh items), in order; the status changes seen.
    Results for IDs not in ``rows`` (no longer watched) are ignored."""
    changes: list[StatusChange] = []
    for result in results:
        row = rows.get(result.id)
        if row is None:
            continue
        before = row.status
        apply_result(row, result)
        if row.status != before:
            row.last_changed = result.checked_at
            row.entered_seen = before is not None
            changes.append(StatusChange(result.id, before, row.status, result.checked_at))
    return changes


def apply_result(row: WatchedConversion, result: PollResult) -> None:
    """Fold one result into ``row`` (in place: a row not handed out to anyone yet)."""
    at = result.checked_at
    if result.problem is not None:
        # A failed check says nothing about the conversion: keep what we knew.
        row.last_problem = result.problem
        row.problem_count += 1
        row.last_problem_at = at
        return
    row.last_checked = at
    row.last_problem = None
    row.problem_count = 0
    row.last_problem_at = None
    if result.not_found:
        if row.delete_requested_at is not None:
            # After our own delete request a 404 is the confirmation (the server purged it).
            row.status = DELETED_STATUS
            row.deleted_at = row.deleted_at or at
        # Kept as the fact it is, with the last status known: statuses.read_status says
        # what it means (after Deleted: "Deleted, purged"; else "not found").
        row.not_found = True
        return
    envelope = result.envelope
    if envelope is None:
        return
    row.not_found = False
    # The first MESSAGES_KEPT of each are kept, with how many came.
    row.warnings = bounded(envelope.warnings)
    row.errors = bounded(envelope.errors)
    row.warnings_total = len(envelope.warnings)
    row.errors_total = len(envelope.errors)
    row.metadata = (MappingProxyType(dict(envelope.metadata)) if envelope.metadata
                    else _NO_METADATA)
    row.raw = _raw_text(envelope)
    payload = envelope.payload
    if payload is None:
        return
    row.file_name = payload.file_name
    row.data_source_type = payload.data_source_type
    row.status = payload.status
    row.upload_date = _upload_date(payload.upload_date)
    if payload.status == DELETED_STATUS and row.deleted_at is None:
        row.deleted_at = at
