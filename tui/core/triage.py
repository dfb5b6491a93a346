"""Triage helpers: how long a conversion sat in each status, and a ticket summary.

The API only says what a status is *now*; the watchlist records each change it
sees (``Watchlist.history``). From that we derive spans ("Processing for
42 min") and a Markdown summary to paste into a support ticket.

Everything in the summary that came from the server (file names, status words,
warnings, errors) is untrusted: control characters are made visible with
:func:`tui.core.untrusted.printable`, and Markdown syntax is backslash-escaped
so a pasted ticket renders the text literally instead of as tables or links.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from tui.core.attention import is_acknowledged, is_snoozed
from tui.core.statuses import StatusKind, read_status
from tui.core.timeinstatus import StatusStart, time_in_status
from tui.core.untrusted import printable

if TYPE_CHECKING:
    from tui.core.signatures import Signatures

__all__ = [
    "MAX_MESSAGES",
    "StatusSpan",
    "TriageRow",
    "format_duration",
    "markdown_text",
    "problem_summary",
    "status_since",
    "time_in_status_is_minimum",
    "time_in_statuses",
    "triage_markdown",
]

MAX_MESSAGES = 5
"""Warnings/errors quoted per conversion in a summary; the rest are counted."""

_TEXT_LIMIT = 300
# Backslash first in the class so an existing backslash cannot un-escape ours.
_MARKDOWN_SPECIAL = re.compile(r"([\\|`*_\[\]<>#~&])")


class TriageRow(Protocol):
    """What triage reads from a watched conversion (``WatchedConversion`` fits)."""

    @property
    def id(self) -> int: ...
    @property
    def file_name(self) -> str | None: ...
    @property
    def data_source_type(self) -> str | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def upload_date(self) -> str | None: ...
    @property
    def warnings(self) -> Sequence[str]: ...
    @property
    def errors(self) -> Sequence[str]: ...
    @property
    def warning_count(self) -> int: ...
    @property
    def error_count(self) -> int: ...
    @property
    def first_seen(self) -> float: ...
    @property
    def last_checked(self) -> float | None: ...
    @property
    def last_changed(self) -> float | None: ...
    @property
    def note(self) -> str | None: ...
    @property
    def last_problem(self) -> str | None: ...
    @property
    def problem_count(self) -> int: ...
    @property
    def entered_seen(self) -> bool: ...
    @property
    def not_found(self) -> bool: ...
    @property
    def acknowledged_at(self) -> float | None: ...
    @property
    def snoozed_until(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class StatusSpan:
    """One stretch of time in one status; the last span ends ``now``."""

    status: str
    start: float
    end: float
    seconds: float


def time_in_statuses(history: Sequence[tuple[str, float]], now: float) -> list[StatusSpan]:
    """Spans of time per status from the recorded ``(status, seen_at)`` changes.

    Entries are taken in time order; repeats of the same status are merged into
    one span (a re-seen status is not a change). The last span runs until ``now``.
    A clock that went backwards never yields a negative duration.
    """
    ordered = sorted(history, key=lambda entry: entry[1])
    merged: list[tuple[str, float]] = []
    for status, seen_at in ordered:
        if merged and merged[-1][0] == status:
            continue
        merged.append((status, seen_at))
    spans: list[StatusSpan] = []
    for index, (status, start) in enumerate(merged):
        end = merged[index + 1][1] if index + 1 < len(merged) else max(now, start)
        spans.append(StatusSpan(status, start, end, max(0.0, end - start)))
    return spans


def format_duration(seconds: float) -> str:
    """A duration for people: "42 s", "3 min", "1 h 05 min", "2 d 3 h" (rounded down)."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    if whole < 86_400:
        return f"{whole // 3600} h {whole % 3600 // 60:02d} min"
    return f"{whole // 86_400} d {whole % 86_400 // 3600} h"


def time_in_status_is_minimum(row: TriageRow) -> bool:
    """Whether the row's time in its status counts from the first check, a minimum: the
    first answer says what the status is, not since when (it was never seen entering it,
    and no upload time bounds it: see :mod:`tui.core.timeinstatus`)."""
    reckoned = time_in_status(row)
    return reckoned is not None and reckoned.is_minimum


def status_since(row: TriageRow, history: Sequence[tuple[str, float]] = ()) -> float:
    """When ``row`` entered its current status, as far as the app has seen.

    The last recorded change to the current status wins; a row never seen entering its
    status counts from its upload while in flight (see :mod:`tui.core.timeinstatus`);
    else the row's ``last_changed``; else when it was first seen (a lower bound).
    """
    reckoned = time_in_status(row)
    if reckoned is not None and reckoned.start is StatusStart.UPLOAD:
        return reckoned.since
    spans = time_in_statuses(history, now=0.0)
    if spans and spans[-1].status == row.status:
        return spans[-1].start
    if row.last_changed is not None:
        return row.last_changed
    return row.first_seen


def markdown_text(text: str | None, *, limit: int = _TEXT_LIMIT) -> str:
    """Server text made safe for a Markdown ticket: visible controls, escaped syntax."""
    if text is None or text == "":
        return "—"
    return _MARKDOWN_SPECIAL.sub(r"\\\1", printable(text, limit=limit))


def problem_summary(row: TriageRow) -> str | None:
    """The inspect modal's line on failed checks ("last 3 checks: HTTP 502, HTML page").

    None when the last check went through.
    """
    if not row.last_problem or row.problem_count <= 0:
        return None
    problem = printable(row.last_problem, limit=_TEXT_LIMIT)
    if row.problem_count == 1:
        return f"last check: {problem}"
    return f"last {row.problem_count} checks: {problem}"


def _messages(label: str, messages: Sequence[str]) -> list[str]:
    if not messages:
        return [f"- {label}: none"]
    lines = [f"- {label} ({len(messages)}):"]
    lines.extend(f"  - {markdown_text(message)}" for message in messages[:MAX_MESSAGES])
    if len(messages) > MAX_MESSAGES:
        lines.append(f"  - … and {len(messages) - MAX_MESSAGES} more")
    return lines


def _status_line(row: TriageRow, history: Sequence[tuple[str, float]], now: float) -> str:
    reading = read_status(row)
    if reading.kind is StatusKind.NOT_FOUND:
        if reading.last_known:
            return (f"- Status: not found (404 now; it existed: last seen "
                    f"{markdown_text(reading.last_known, limit=60)})")
        return "- Status: not found (404 from the first check: the server does not know it)"
    shown = reading.label(markdown_text) if reading.word else "not checked yet"
    if not reading.timed:  # since when it answers 404 is not recorded
        return f"- Status: {shown} (404 now; last seen {markdown_text(reading.last_known)})"
    since = status_since(row, history)
    # Found in its status at the first check (no other status on record): since when is
    # not known, so the time is a minimum.
    seen_entering = not time_in_status_is_minimum(row) or any(
        status != row.status for status, _ in history)
    return (f"- Status: {shown} ({'for' if seen_entering else 'for at least'}"
            f" {format_duration(now - since)})")


def _row_markdown(row: TriageRow, history: Sequence[tuple[str, float]], now: float) -> list[str]:
    lines = [
        f"### Conversion {row.id}: {markdown_text(row.file_name)}",
        "",
        f"- ID: {row.id}",
        f"- File: {markdown_text(row.file_name)}",
        f"- Type: {markdown_text(row.data_source_type)}",
        _status_line(row, history, now),
        f"- Uploaded: {markdown_text(row.upload_date)}",
    ]
    spans = time_in_statuses(history, now)
    if len(spans) > 1:
        trail = ", ".join(
            f"{markdown_text(span.status, limit=40)} {format_duration(span.seconds)}"
            for span in spans
        )
        lines.append(f"- History: {trail}")
    problem = problem_summary(row)
    if problem is not None:
        lines.append(f"- Checks failing: {markdown_text(problem)}")
    lines.extend(_messages("Errors", row.errors))
    lines.extend(_messages("Warnings", row.warnings))
    if row.note:
        lines.append(f"- Note: {markdown_text(row.note)}")
    lines.extend(_attention_lines(row, now))
    return lines


def _utc(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _attention_lines(row: TriageRow, now: float) -> list[str]:
    """Whether someone has taken the row on (acknowledged) or snoozed it, and till when."""
    lines = []
    if row.acknowledged_at is not None and is_acknowledged(row):
        lines.append(f"- Acknowledged: {_utc(row.acknowledged_at)}")
    if row.snoozed_until is not None and is_snoozed(row, now):
        lines.append(f"- Snoozed until: {_utc(row.snoozed_until)}")
    return lines


def triage_markdown(
    rows: Sequence[TriageRow],
    history_by_id: Mapping[int, Sequence[tuple[str, float]]],
    now: float,
    signatures: Mapping[int, Signatures] | None = None,
) -> str:
    """A Markdown triage summary of ``rows`` for a support ticket, one section per row
    (with who noted, acknowledged or asked to delete it, when ``signatures`` say)."""
    stamp = _utc(now)
    count = f"{len(rows)} conversion" + ("" if len(rows) == 1 else "s")
    lines = [f"## Conversions triage: {count} ({stamp})"]
    for row in rows:
        lines.append("")
        lines.extend(_row_markdown(row, history_by_id.get(row.id, ()), now))
        signed = (signatures or {}).get(row.id)
        who = signed.sentences(now, clock=_utc) if signed else []
        if who:
            lines.append(f"- Who: {markdown_text('; '.join(who))}")
    return "\n".join(lines) + "\n"
