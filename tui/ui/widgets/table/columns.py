"""Columns of the conversions table: what each shows, how wide it may be, how it sorts.

Pure functions (no widget state) so that layout and formatting are testable on
their own and cheap enough to run for every visible row every second.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from rich.cells import cell_len, set_cell_size

__all__ = [
    "CLOCK_STEP",
    "COLUMNS",
    "COLUMN_KEYS",
    "ELLIPSIS",
    "GAP",
    "GUTTER",
    "Column",
    "ColumnSlot",
    "fit_cell",
    "format_age",
    "format_at_least",
    "format_uploaded",
    "layout_columns",
]

Align = Literal["left", "right"]

ELLIPSIS = "…"
GUTTER = 1
"""Cells before the first column: the mark indicator (readable without colour)."""
GAP = 1
"""Cells between two columns."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its key (used by sort_by), title, and how it gives up space.

    ``priority``: lower is kept longer when the table is narrow.
    ``min_width``: below this the column is dropped rather than squeezed.
    ``width``: preferred width, or ``None`` when it follows the content
    (the widest value seen, clamped to ``min_width``..``max_width``).
    ``flex``: takes what is left after the fixed columns (File, Note).
    ``filled_priority``: the priority while some row has text in the column (a Note
    column holding ticket numbers outranks Type; an empty one goes first).
    ``filled_min_width``: the minimum while some row has text in the column (an
    empty Note needs room for its title only, a ticket number more).
    ``only_filled``: shown only while some row has text in it (Problem).
    ``whole``: never cut (an ID with a digit missing is another ID): the minimum
    width is the widest content, up to ``max_width``.
    """

    key: str
    title: str
    priority: int
    min_width: int
    width: int | None
    max_width: int
    align: Align = "left"
    flex: bool = False
    filled_priority: int | None = None
    filled_min_width: int | None = None
    only_filled: bool = False
    whole: bool = False

    def priority_for(self, filled: Collection[str]) -> int:
        """The priority with ``filled`` (keys of columns some row has text in)."""
        if self.filled_priority is not None and self.key in filled:
            return self.filled_priority
        return self.priority


# Display order, left to right. Priorities: ID, Status and File are the last to go; a
# row's problem (why its checks fail) next, while there is one; notes (ticket numbers)
# ahead of Type and the counts, while some row has one. At 80 columns with both
# in use: ID File Status Problem In-status Err Checked Note.
COLUMNS: tuple[Column, ...] = (
    Column("id", "ID", 0, 4, None, 20, "right", whole=True),
    Column("file", "File", 20, 14, None, 60, flex=True),
    Column("type", "Type", 70, 4, None, 12),
    Column("status", "Status", 10, 12, None, 28),  # "? not found (was Processing)"
    # Acknowledged or snoozed (k, K): only while some row is; kept long, it is 3 cells.
    Column("attention", "Ack", 15, 3, 3, 3, only_filled=True),
    Column("problem", "Problem", 25, 12, None, 36, filled_priority=25, only_filled=True),
    Column("uploaded", "Uploaded", 80, 12, 12, 12),
    Column("in_status", "In status", 30, 9, 9, 9, "right"),
    Column("warnings", "Warn", 60, 6, 6, 6, "right"),
    Column("errors", "Err", 50, 5, 5, 5, "right"),
    Column("checked", "Checked", 40, 9, 9, 9, "right"),
    Column("note", "Note", 90, 6, None, 40, flex=True, filled_priority=35,
           filled_min_width=10),
)
COLUMN_KEYS: tuple[str, ...] = tuple(column.key for column in COLUMNS)


@dataclass(frozen=True, slots=True)
class ColumnSlot:
    """Where a column landed for one width: its first cell and its width."""

    column: Column
    x: int
    width: int


def layout_columns(
    width: int, wants: dict[str, int], columns: Sequence[Column] = COLUMNS,
    filled: Collection[str] = (),
) -> tuple[ColumnSlot, ...]:
    """Fit ``columns`` into ``width`` cells.

    ``filled`` names the columns some row has text in: they may rank higher (see
    ``Column.filled_priority``), and ``only_filled`` columns are left out without it.
    Columns are admitted in priority order while their minimum widths fit (the
    first one that does not fit ends it, so lower priorities always go first).
    Fixed columns then grow to their preferred width in priority order, flexible
    ones last (first each to a fair share, then to their preferred width, so a long
    file name does not squeeze the notes to nothing): File shrinks before anything
    is dropped. Space left over goes to the last flexible column shown so the row
    reaches the right edge.
    """
    candidates = [column for column in columns
                  if not column.only_filled or column.key in filled]
    by_priority = sorted(candidates, key=lambda column: column.priority_for(filled))
    def least(column: Column) -> int:
        if column.whole:
            return max(column.min_width, min(wants.get(column.key, 0), column.max_width))
        if column.filled_min_width is not None and column.key in filled:
            return column.filled_min_width
        return column.min_width

    kept: list[Column] = []
    used = GUTTER
    for column in by_priority:
        need = least(column) + (GAP if kept else 0)
        if used + need > width:
            break
        kept.append(column)
        used += need
    widths = {column.key: least(column) for column in kept}
    remaining = width - used

    def preferred(column: Column) -> int:
        if column.width is not None:
            return column.width
        want = max(wants.get(column.key, 0), cell_len(column.title) + 2)
        return max(widths[column.key], min(want, column.max_width))

    def grow_to(column: Column, target: int) -> None:
        nonlocal remaining
        grow = min(max(target - widths[column.key], 0), remaining)
        widths[column.key] += grow
        remaining -= grow

    for column in kept:
        if not column.flex:
            grow_to(column, preferred(column))
    flexing = [column for column in kept if column.flex]
    if flexing:
        share = remaining // len(flexing)
        for column in flexing:
            grow_to(column, min(preferred(column), widths[column.key] + share))
        for column in flexing:
            grow_to(column, preferred(column))
    flexible = [column for column in columns if column in kept and column.flex]
    if flexible and remaining > 0:
        widths[flexible[-1].key] += remaining

    slots: list[ColumnSlot] = []
    x = GUTTER
    for column in columns:
        if column.key in widths:
            slots.append(ColumnSlot(column, x, widths[column.key]))
            x += widths[column.key] + GAP
    return tuple(slots)


def fit_cell(text: str, width: int, align: Align = "left") -> str:
    """``text`` in exactly ``width`` cells: cut with an ellipsis, or padded.

    Works in terminal cells, not characters, so wide characters (CJK, emoji)
    keep the columns aligned.
    """
    length = cell_len(text)
    if length > width:
        if width <= 0:
            return ""
        return set_cell_size(text, width - 1) + ELLIPSIS
    pad = " " * (width - length)
    return pad + text if align == "right" else text + pad


CLOCK_STEP = 5
"""Relative times move in steps of this many seconds, all rows at the same moment.

A monitor gains nothing from ages that tick every second on every row, and each
repaint costs CPU for as long as the app stays open; with aligned steps the
table repaints for the clock at most once per step.
"""


def format_at_least(then: float | None, now: int) -> str:
    """At least the time since ``then``: ``≥0s``, ``≥35s``, ``≥2d 03h``. For the time in
    a status the app did not see the row enter (it counts from the first answer)."""
    age = format_age(then, now)
    if then is None:
        return age
    return "≥0s" if age.startswith("<") else f"≥{age}"


def format_at_most(then: float | None, now: int) -> str:
    """At most the time since ``then``: ``≤35s``, ``≤7h 02m``. For the time in a status
    counted from the upload (the row was in flight then, and in this status since then
    at the earliest)."""
    age = format_age(then, now)
    if then is None:
        return age
    return f"≤{age[1:]}" if age.startswith("<") else f"≤{age}"


def format_age(then: float | None, now: int) -> str:
    """Time since ``then`` at ``now`` (a multiple of CLOCK_STEP): ``<5s``, ``35s``,
    ``42m``, ``3h 05m``, ``2d 03h``; an em dash for never."""
    if then is None:
        return "—"
    seconds = now - int(then)
    if seconds < 60:
        step = max(seconds, 0) // CLOCK_STEP * CLOCK_STEP
        return f"<{CLOCK_STEP}s" if step == 0 else f"{step}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 24:
        return f"{hours}h {minutes % 60:02d}m"
    return f"{hours // 24}d {hours % 24:02d}h"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_uploaded(local: datetime, today: datetime) -> str:
    """Compact local time: ``14:05`` today, ``28 Nov 14:05`` this year, else ``2023-11-28``.

    Month names are fixed English abbreviations, not the locale's, so that the
    column width is known.
    """
    if local.date() == today.date():
        return f"{local:%H:%M}"
    if local.year == today.year:
        return f"{local.day:2d} {_MONTHS[local.month - 1]} {local:%H:%M}"
    return f"{local:%Y-%m-%d}"
