"""Drawing the conversions table's lines as Strips: no markup, exact cell widths.

Text reaches here already sanitised (see :mod:`tui.ui.widgets.table.rows`) and
is only ever put into ``Segment`` objects, never parsed as markup, so a file
named ``[/]`` is three characters on screen. Styles come in resolved from the
widget's component classes; nothing here names a colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui.core.attention import is_acknowledged, is_snoozed
from tui.core.statuses import StatusKind
from tui.core.timeinstatus import StatusStart
from tui.ui.widgets.table.choosable import extra_cell
from tui.ui.widgets.table.columns import (
    GUTTER,
    ColumnSlot,
    fit_cell,
    format_age,
    format_at_least,
    format_at_most,
    format_uploaded,
)
from tui.ui.widgets.table.entries import RowEntry, reckon_in_status

__all__ = [
    "ACCENTS",
    "ACKNOWLEDGED_MARK",
    "CHECKING",
    "PREFIX",
    "PROBLEM",
    "SNOOZED_MARK",
    "STATUS_CLASS",
    "UNREAD",
    "Clock",
    "clock_cells",
    "draw_header",
    "draw_message",
    "draw_row",
]

PREFIX = "conversions-table--"
STATUS_CLASS: dict[StatusKind, str] = {
    kind: f"{PREFIX}status-{kind.value.replace('_', '-')}" for kind in StatusKind
}
STALE = f"{PREFIX}stale"
CHECKING = f"{PREFIX}checking"
PROBLEM = f"{PREFIX}problem"
UNREAD = f"{PREFIX}unread"
ACCENTS: tuple[str, ...] = (*STATUS_CLASS.values(), STALE, CHECKING, PROBLEM, UNREAD)
"""Component classes that colour one cell's text on the row's own background."""
MARK = "●"
_BOLD = Style(bold=True)
ACKNOWLEDGED_MARK = "ack"
"""The Ack cell of a row a person took on (k); plain text: ✔ already means Completed."""
SNOOZED_MARK = "zz"
"""The Ack cell of a snoozed row (K), while the snooze lasts."""
ARROW = {False: "▲", True: "▼"}

Clock = tuple[str, str, bool, str, str]
"""The cells that age: in status for, checked, checked is stale, uploaded, and the Ack
cell (a snooze ends with the clock)."""


# Rows the poller re-checks only slowly: their "Checked" ages against the settled interval.
_SETTLED_KINDS = frozenset({StatusKind.COMPLETED, StatusKind.FAILED, StatusKind.DELETED,
                            StatusKind.NOT_FOUND})


def clock_cells(entry: RowEntry, now: int, today: datetime,
                stale_after: tuple[float, float]) -> Clock:
    """The time-dependent cells of ``entry`` at ``now`` (a multiple of CLOCK_STEP).

    ``stale_after`` is (active, settled): a Completed row re-checked every ten minutes is
    not stale two minutes after its last check, a Processing row polled every 5 s is.
    """
    row = entry.row
    checked: float | None = row.last_checked
    if entry.uploaded is None:
        uploaded = entry.uploaded_raw
    else:
        day = today.toordinal()
        drawn = entry.uploaded_drawn
        if drawn is None or drawn[0] != day:  # "14:05" turns into "28 Nov 14:05" at midnight
            local = datetime.fromtimestamp(entry.uploaded).astimezone()
            drawn = entry.uploaded_drawn = (day, format_uploaded(local, today))
        uploaded = drawn[1]
    limit = stale_after[1] if entry.kind in _SETTLED_KINDS else stale_after[0]
    stale = checked is not None and now - checked > limit
    reckoned = reckon_in_status(entry)  # with the upload time read once per change
    if reckoned is None:
        in_status = format_age(None, now)
    elif reckoned.start is StatusStart.FIRST_CHECK:
        in_status = format_at_least(reckoned.since, now)
    elif reckoned.start is StatusStart.UPLOAD:
        in_status = format_at_most(reckoned.since, now)
    else:
        in_status = format_age(reckoned.since, now)
    return (in_status, format_age(checked, now), stale, uploaded, attention_cell(row, now))


def attention_cell(row: Any, now: float) -> str:
    """The Ack cell: snoozed while it lasts, else acknowledged (tui.core.attention)."""
    if row.snoozed_until is not None and is_snoozed(row, now):
        return SNOOZED_MARK
    if row.acknowledged_at is not None and is_acknowledged(row):
        return ACKNOWLEDGED_MARK
    return ""


def _cell(entry: RowEntry, column: str, clock: Clock) -> tuple[str, str | None]:
    """Text of one cell and the component class that colours it, if any."""
    if column == "id":
        return entry.id_text, UNREAD if entry.unread else None
    if column == "file":
        return entry.file, None
    if column == "type":
        return entry.type, None
    if column == "status":
        return entry.status_text, CHECKING if entry.checking else STATUS_CLASS[entry.kind]
    if column == "problem":
        return entry.problem, PROBLEM
    if column == "attention":
        return clock[4], None
    if column == "uploaded":
        return clock[3], None
    if column == "in_status":
        return clock[0], None
    if column == "warnings":
        return str(entry.row.warning_count or ""), None
    if column == "errors":
        return str(entry.row.error_count or ""), None
    if column == "checked":
        return clock[1], STALE if clock[2] else None
    if column == "note":
        return entry.note, None
    return extra_cell(entry.row, column), None  # a chosen column: reference, metadata


def draw_row(
    entry: RowEntry,
    clock: Clock,
    slots: Sequence[ColumnSlot],
    styles: Mapping[str, Style],
    *,
    cursor: bool,
    marked: bool,
    width: int,
) -> Strip:
    """One row, exactly ``width`` cells: mark gutter, then each column's cell."""
    row_style = styles[f"{PREFIX}deleted-row"] if entry.deleted else styles["base"]
    if marked:
        row_style = row_style + styles[f"{PREFIX}marked"].background_style
    if cursor:  # the cursor's own colours win, so it reads on any status colour
        row_style = styles[f"{PREFIX}cursor"]
    segments = [Segment((MARK if marked else "").ljust(GUTTER), row_style)]
    x = GUTTER
    for slot in slots:
        text, accent = _cell(entry, slot.column.key, clock)
        if accent is None:
            style = row_style
        elif cursor:  # the cursor's colours win; an unread ID stays bold on it
            style = row_style + _BOLD if accent == UNREAD else row_style
        else:
            style = row_style + styles[accent]
        if slot.x > x:
            segments.append(Segment(" " * (slot.x - x), row_style))
        segments.append(Segment(fit_cell(text, slot.width, slot.column.align), style))
        x = slot.x + slot.width
    if x < width:
        segments.append(Segment(" " * (width - x), row_style))
    return Strip(segments, width)


def draw_header(
    slots: Sequence[ColumnSlot], style: Style, sort_column: str, reverse: bool, width: int
) -> Strip:
    """Column titles; the sorted one carries ▲ (ascending) or ▼ (descending)."""
    parts = [" " * GUTTER]
    x = GUTTER
    for slot in slots:
        parts.append(" " * (slot.x - x))
        title = slot.column.title
        if slot.column.key == sort_column:
            # The arrow always shows; the title gives way to it.
            title = fit_cell(title, max(slot.width - 2, 0)).rstrip()
            title = f"{title} {ARROW[reverse]}"
        parts.append(fit_cell(title, slot.width, slot.column.align))
        x = slot.x + slot.width
    return Strip([Segment(fit_cell("".join(parts), width), style)], width)


def draw_message(text: str, style: Style, width: int) -> Strip:
    """A line of our own text (the empty-table hints)."""
    return Strip([Segment(fit_cell(" " * GUTTER + text, width), style)], width)
