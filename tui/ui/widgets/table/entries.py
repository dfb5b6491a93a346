"""One row as the conversions table draws it: sanitised once, with its sort key.

Everything shown is prepared when a row arrives (sanitised with :func:`printable`, sort
values), so scrolling and repainting never touch server text again. No Textual here.
The sort key itself is core's (:mod:`tui.core.roworder`): ``list --view`` orders rows
with the same one; a :class:`RowEntry` is its ``Sortable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from typing import Any

from tui.core.roworder import (
    PROBLEM_SYMBOL,
    SortKey,
    cell_text,
    key_id,
    key_reader,
    problem_text,
    reckon_in_status,
    sort_key,
)
from tui.core.statuses import (
    CHECKING_SYMBOL,
    CHECKING_WORD,
    StatusKind,
    awaits_first_answer,
    read_status,
    status_symbol,
)
from tui.core.timeinstatus import parse_instant
from tui.core.unread import is_unread
from tui.core.watchlist import WatchedConversion

__all__ = ["PROBLEM_SYMBOL", "ConversionRow", "RowEntry", "SortKey", "key_id", "key_reader",
           "make_entry", "new_version", "reckon_in_status", "refill", "sort_key"]


# What the table reads from a row: the watchlist's own record (duck-typed rows with
# the same attributes work too; nothing checks the type at run time).
ConversionRow = WatchedConversion


_versions = count(1)


def new_version() -> int:
    """A version no entry had yet: what a change of an entry is drawn by (view.py's cache).
    Entries made in one go (``TableRows.set_rows``) may share one: at 100,000 rows, one
    int each is 3 MB, and a version only needs to differ from the conversion's earlier
    ones."""
    return next(_versions)


@dataclass(slots=True, eq=False)
class RowEntry:
    """One row as the table draws it: sanitised text, computed once per change.

    At 100,000 rows every field costs megabytes: texts a row shares with many others
    (type, status) are one shared string, the ID's text is made when drawn, and the
    search text only once a filter asks for it.
    """

    row: Any
    version: int
    file: str
    type: str
    status_word: str
    status_text: str
    kind: StatusKind
    note: str
    problem: str
    """The last check's problem, sanitised, with its symbol ("⚠ HTTP 502, HTML page"),
    or empty when the last check went through."""
    checking: bool
    """Never answered for: the status cell says "checking…"."""
    uploaded: float | None
    """The upload date as unix seconds (drawn in the local zone), None when unreadable."""
    uploaded_raw: str
    deleted: bool
    unread: bool = False
    """Changed since the person last looked at it (tui/core/unread.py): the ID is bold."""
    key: SortKey = ()
    shown: bool = False
    uploaded_text: str = ""
    """``uploaded`` as drawn on ``uploaded_day`` (its wording depends on today)."""
    uploaded_day: int = -1
    search_text: str | None = None

    @property
    def id_text(self) -> str:
        """The ID as drawn."""
        return str(self.row.id)

    @property
    def haystack(self) -> str:
        """What the filter searches (ID, file, type, status, note; case-folded)."""
        text = self.search_text
        if text is None:
            text = self.search_text = "\n".join(
                (self.id_text, self.file, self.type, self.status_word, self.note)).casefold()
        return text


_clean = cell_text


# Texts many rows share (types, status words and cells): one string each, not one a row.
# Bounded: a server could send a different status word on every row.
_SHARED_LIMIT = 4096
_shared: dict[str, str] = {}


def _share(text: str) -> str:
    found = _shared.get(text)
    if found is not None:
        return found
    if len(_shared) < _SHARED_LIMIT:
        _shared[text] = text
    return text


# Upload dates as unix seconds, by the text the server sent: rows of one upload share it.
_upload_seconds: dict[str, float | None] = {}


def _uploaded_at(text: str | None) -> float | None:
    if not text:
        return None
    if text in _upload_seconds:
        return _upload_seconds[text]
    seconds = parse_instant(text)
    if len(_upload_seconds) >= _SHARED_LIMIT:
        _upload_seconds.clear()
    _upload_seconds[text] = seconds
    return seconds


# What the status cells are, by the facts they are read from: a change of 1,000 rows
# carries a handful of distinct statuses, each read, sanitised and worded once.
_StatusCells = tuple[StatusKind, str, str]
_status_cells: dict[tuple[str | None, bool, bool], _StatusCells] = {}


def _status_of(row: ConversionRow, checking: bool) -> _StatusCells:
    """(kind, status word, status cell text) of ``row``."""
    facts = (row.status, row.not_found, checking)
    found = _status_cells.get(facts)
    if found is not None:
        return found
    reading = read_status(row)
    kind = reading.kind
    word = _share(reading.label(_clean))
    if checking:
        text = _share(f"{CHECKING_SYMBOL} {CHECKING_WORD}")
    else:
        text = _share(f"{status_symbol(kind)} {word or '—'}")
    cells = (kind, word, text)
    if len(_status_cells) >= _SHARED_LIMIT:  # server words are untrusted: bounded
        _status_cells.clear()
    _status_cells[facts] = cells
    return cells


def make_entry(row: ConversionRow, version: int | None = None) -> RowEntry:
    """Prepare ``row`` for display: every server string goes through printable().
    ``version``: one from :func:`new_version` (None: a new one)."""
    entry: RowEntry = object.__new__(RowEntry)
    entry.key = ()
    entry.shown = False
    refill(entry, row, version)
    return entry


def refill(entry: RowEntry, row: ConversionRow, version: int | None = None) -> None:
    """Make ``entry`` the entry of ``row`` (the same conversion, changed), in place, with
    ``version`` (one from :func:`new_version`; None: a new one).

    In place, not a new entry: the entry loaded at start stays exempt from the collector
    (tui/core/memory.py), and 1,000 changes leave no 1,000 new objects behind to trigger
    young collections in the middle of a change. ``key`` and ``shown`` are the caller's.
    """
    checking = awaits_first_answer(row)
    kind, word, status_text = _status_of(row, checking)
    uploaded = _uploaded_at(row.upload_date)
    cause = row.last_problem
    note = row.note
    entry.row = row
    entry.version = next(_versions) if version is None else version
    entry.file = _clean(row.file_name)
    entry.type = _share(_clean(row.data_source_type))
    entry.status_word = word
    entry.status_text = status_text
    entry.kind = kind
    entry.note = _clean(note) if note else ""
    entry.problem = problem_text(cause)
    entry.checking = checking
    entry.uploaded = uploaded
    entry.uploaded_raw = "" if uploaded is not None else _clean(row.upload_date)
    entry.deleted = row.deleted_at is not None or kind is StatusKind.DELETED
    entry.uploaded_text = ""
    entry.uploaded_day = -1
    entry.search_text = None
    entry.unread = is_unread(row)
