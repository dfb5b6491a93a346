"""One row as the conversions table draws it: sanitised once, with its sort key.

Everything shown is prepared when a row arrives (sanitised with :func:`printable`, sort
values), so scrolling and repainting never touch server text again. No Textual here.
The sort key itself is core's (:mod:`tui.core.roworder`): ``list --view`` orders rows
with the same one; a :class:`RowEntry` is its ``Sortable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple

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

__all__ = ["PROBLEM_SYMBOL", "ConversionRow", "RowEntry", "SortKey", "StatusCells", "key_id",
           "key_reader", "make_entry", "new_version", "reckon_in_status", "refill", "sort_key"]


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


class StatusCells(NamedTuple):
    """What the type and status cells of a row show: one object shared by every row with
    the same facts (type, status, not found, checking), a handful at 100,000 rows."""

    type: str
    kind: StatusKind
    status_word: str
    status_text: str
    checking: bool


@dataclass(slots=True, eq=False)
class RowEntry:
    """One row as the table draws it: sanitised text, computed once per change.

    At 100,000 rows every field costs megabytes: texts a row shares with many others
    (type, status) are one shared object (``cells``), the ID's text is made when drawn,
    what only drawing reads (unread, deleted) is read from the row when drawn, and the
    search text is made only once a filter asks for it.
    """

    row: Any
    version: int
    file: str
    cells: StatusCells
    note: str
    problem: str
    """The last check's problem, sanitised, with its symbol ("⚠ HTTP 502, HTML page"),
    or empty when the last check went through."""
    uploaded: float | None
    """The upload date as unix seconds (drawn in the local zone), None when unreadable."""
    key: SortKey = ()
    shown: bool = False
    uploaded_drawn: tuple[int, str] | None = None
    """(the local day, ``uploaded`` as drawn that day: its wording depends on today)."""
    search_text: str | None = None

    # The cells' fields read as the entry's own (in C: they are read for every row when
    # the table measures its columns or sorts by one of them).
    if TYPE_CHECKING:
        @property
        def type(self) -> str:
            """The type, sanitised."""

        @property
        def kind(self) -> StatusKind:
            """The kind of the status (read_status)."""

        @property
        def status_word(self) -> str:
            """The status word, sanitised (empty: none yet)."""

        @property
        def status_text(self) -> str:
            """The status cell: symbol and word."""

        @property
        def checking(self) -> bool:
            """Never answered for: the status cell says "checking…"."""
    else:
        type = property(attrgetter("cells.type"))
        kind = property(attrgetter("cells.kind"))
        status_word = property(attrgetter("cells.status_word"))
        status_text = property(attrgetter("cells.status_text"))
        checking = property(attrgetter("cells.checking"))

    @property
    def uploaded_raw(self) -> str:
        """The upload date as the server sent it, sanitised, when it could not be read
        (empty when it could)."""
        return "" if self.uploaded is not None else _clean(self.row.upload_date)

    @property
    def deleted(self) -> bool:
        """Deleted (or known to be): the row is drawn dimmed."""
        return self.row.deleted_at is not None or self.cells.kind is StatusKind.DELETED

    @property
    def unread(self) -> bool:
        """Changed since the person last looked at it (tui/core/unread.py): the ID is bold."""
        return is_unread(self.row)

    @property
    def id_text(self) -> str:
        """The ID as drawn."""
        return str(self.row.id)

    @property
    def haystack(self) -> str:
        """What the filter searches (ID, file, type, status, note; case-folded)."""
        text = self.search_text
        if text is None:
            cells = self.cells
            text = self.search_text = "\n".join(
                (self.id_text, self.file, cells.type, cells.status_word, self.note)
            ).casefold()
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


# What the type and status cells are, by the facts they are read from: a change of 1,000
# rows carries a handful of distinct statuses, each read, sanitised and worded once.
_status_cells: dict[tuple[str | None, str | None, bool, bool], StatusCells] = {}


def _cells_of(row: ConversionRow, checking: bool) -> StatusCells:
    """The type and status cells of ``row``."""
    facts = (row.data_source_type, row.status, row.not_found, checking)
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
    cells = StatusCells(_share(_clean(row.data_source_type)), kind, word, text, checking)
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
    cells = _cells_of(row, awaits_first_answer(row))
    cause = row.last_problem
    note = row.note
    entry.row = row
    entry.version = next(_versions) if version is None else version
    entry.file = _clean(row.file_name)
    entry.cells = cells
    entry.note = _clean(note) if note else ""
    entry.problem = problem_text(cause)
    entry.uploaded = _uploaded_at(row.upload_date)
    entry.uploaded_drawn = None
    entry.search_text = None
