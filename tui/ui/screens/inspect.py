"""The inspect modal (`enter`): everything known about one conversion, literally.

Warnings and errors can number in the tens of thousands, so they live in a
:class:`~tui.ui.widgets.message_list.MessageList`: a read-only TextArea (it renders only
what is visible) with a search box that narrows the lines; every server string has been
made printable first.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static, TabbedContent, TabPane, Tabs, TextArea

from tui.core.attention import is_acknowledged, is_snoozed
from tui.core.clipboard import ClipboardCopy
from tui.core.clockskew import describe_clock_skew, server_clock_ahead
from tui.core.signatures import Signatures
from tui.core.statuses import StatusReading, read_status, status_kind, status_symbol
from tui.core.timeinstatus import StatusStart, StuckAfter, is_stuck, time_in_status
from tui.core.triage import (
    format_duration,
    problem_summary,
    time_in_status_is_minimum,
    time_in_statuses,
)
from tui.core.untrusted import printable
from tui.core.watchlist import WatchedConversion
from tui.ui.clipboard import copy_to_terminal_clipboard
from tui.ui.widgets.message_list import MessageList
from tui.ui.widgets.timeline_bar import TimelineBar


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "—"
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S")


def attention_fields(row: WatchedConversion, now: float,
                     by: str | None) -> list[tuple[str, str]]:
    """The Acknowledged and Snoozed lines (none while neither mark is on)."""
    fields = []
    if row.acknowledged_at is not None:
        who = f" (by {printable(by, limit=120)})" if by else ""
        ended = "" if is_acknowledged(row) else (
            "; something new happened since (a status change or a new problem): it "
            "alerts again")
        fields.append(("Acknowledged", f"{_when(row.acknowledged_at)}{who}{ended}"))
    if row.snoozed_until is not None and is_snoozed(row, now):
        fields.append(("Snoozed", f"until {_when(row.snoozed_until)}"))
    return fields


def _upload_date(text: str | None) -> str:
    """The server's ISO date in local time like the other times; as it came if unreadable."""
    if not text:
        return "—"
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return printable(text, limit=100)
    if stamp.tzinfo is None:
        return printable(text, limit=100)
    return stamp.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _status_label(reading: StatusReading) -> str:
    return reading.label(lambda word: printable(word, limit=200)) or "—"


def server_404_line(reading: StatusReading, last_checked: float | None) -> str:
    """What the server's 404 means for this row (the Overview's "Server" line)."""
    checked = _when(last_checked)
    if reading.purged:
        return f"Deleted on the server, then purged (404 at the last check, {checked})"
    if reading.last_known:
        was = printable(reading.last_known, limit=200)
        return (f"404 at the last check ({checked}): no longer known to the server; last "
                f"seen {was} (deleted and purged elsewhere, or lost)")
    return "404: the server does not know this ID (not found from the first check)"


RAW_LIMIT = 200_000
#: Errors (then warnings) shown on the Overview tab; the rest are one tab away.
OVERVIEW_MESSAGES = 3


def pretty_raw(raw: str | None, *, limit: int = RAW_LIMIT) -> str:
    """The last envelope as indented JSON, made printable and cut at ``limit`` characters."""
    if not raw:
        return "(no answer recorded yet)"
    try:
        text = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        text = raw
    if len(text) > limit:
        text = text[:limit] + f"\n… (cut: {len(text):,} characters in all; export the row for all)"
    return printable(text, limit=None, multiline=True)


class InspectModal(ModalScreen[None]):
    """Payload fields, warnings, errors, metadata, status history and the raw envelope."""

    DEFAULT_CSS = """
    InspectModal { align: center middle; }
    InspectModal > Vertical {
        width: 95%; height: 90%; border: thick $primary; background: $surface;
    }
    InspectModal #title { height: 1; text-style: bold; padding: 0 1; }
    InspectModal TabbedContent { height: 1fr; }
    InspectModal .overview { height: auto; }
    InspectModal #raw { height: 1fr; }
    InspectModal #keys { height: 1; color: $text-muted; padding: 0 1; }
    InspectModal #notice { height: auto; color: $warning; padding: 0 1; }
    InspectModal #timeline { margin: 0 0 1 0; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close", id="inspect.close"),
        Binding("c", "copy", "Copy this tab", id="inspect.copy"),
        Binding("slash", "search", "Search", id="inspect.search"),
    ]

    #: The hint line; while the search box has the focus, keys type into it instead.
    KEYS = "esc close · c copy this tab · / search warnings or errors · ←/→ tabs"
    SEARCH_KEYS = "typing searches · enter keep the search · esc clear it"

    def __init__(self, row: WatchedConversion, history: Sequence[tuple[str, float]], *,
                 now: float | None = None, stuck_after: StuckAfter | None = None,
                 acknowledged_by: str | None = None,
                 signatures: Signatures | None = None, notice: str | None = None) -> None:
        super().__init__()
        self.row = row
        #: One line under the title: what could not be read (the team database away).
        self.notice = notice
        #: Who noted, acknowledged, asked to delete and added it (team store, audit log).
        self.signatures = signatures
        self._acknowledged_by = acknowledged_by
        self._stuck_after = stuck_after
        self.history = list(history)
        self._now = time.time() if now is None else now
        self._raw_filled = False

    def compose(self) -> ComposeResult:
        row = self.row
        name = printable(row.file_name or "(no file name)", limit=120)
        with Vertical():
            yield Label(f"Conversion {row.id} · {name}", id="title", markup=False)
            if self.notice:
                yield Static(self.notice, id="notice", markup=False)
            with TabbedContent(id="tabs"):
                with TabPane("Overview", id="overview"):
                    yield Static(self._overview(), classes="overview")
                with TabPane(f"Warnings ({row.warning_count})", id="warnings"):
                    yield MessageList(row.warnings, what="warnings", one="warning",
                                      id="warning-list", total=row.warning_count)
                with TabPane(f"Errors ({row.error_count})", id="errors"):
                    yield MessageList(row.errors, what="errors", one="error", id="error-list",
                                      total=row.error_count)
                with TabPane("History", id="history"):
                    yield TimelineBar(time_in_statuses(self.history, self._now), id="timeline")
                    yield Static(self._history_table(), classes="overview")
                with TabPane("Raw", id="raw-tab"):
                    # Filled when first shown: pretty-printing a huge answer is not free.
                    yield TextArea("", read_only=True, id="raw", soft_wrap=False)
            yield Static(self.KEYS, id="keys", markup=False)

    # ------------------------------------------------------------ contents
    def _time_in_status(self, timed: bool) -> str:
        """How long in the status, which fact that counts from, and whether it is stuck."""
        row = self.row
        reckoned = time_in_status(row)
        if not timed:
            return "— (404 now; since when is not recorded)"
        if reckoned is None:
            return "—"
        spent = format_duration(reckoned.seconds(self._now))
        if reckoned.start is StatusStart.FIRST_CHECK:
            text = f"at least {spent} (it had this status when first checked)"
        elif reckoned.start is StatusStart.UPLOAD:
            status = printable(row.status or "", limit=40)
            text = (f"at most {spent}, counted from its upload: in flight since then, and "
                    f"already {status} at the first check")
        else:
            text = spent
        rule = self._stuck_after
        if rule is not None and is_stuck(row, self._now, rule):
            status = printable(row.status or "", limit=40)
            text += f"; stuck: over the {format_duration(rule.threshold(row.status))} " \
                    f"limit for {status}"
        return text

    def _overview(self) -> Table:
        row = self.row
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        reading = read_status(row)
        minimum = time_in_status_is_minimum(row)
        in_status = self._time_in_status(reading.timed)
        fields: list[tuple[str, str]] = [
            ("ID", str(row.id)),
            ("File", printable(row.file_name or "—", limit=2000)),
            ("Type", printable(row.data_source_type or "—", limit=200)),
            ("Status", f"{status_symbol(reading.kind)} {_status_label(reading)}"),
            ("In status for", in_status),
            ("Uploaded", _upload_date(row.upload_date)),
            *self._clock_skew(),
            ("First seen", _when(row.first_seen)),
            ("Last checked", _when(row.last_checked)),
            ("Last changed", "— (not seen changing since the first check)" if minimum
             else _when(row.last_changed)),
            ("Warnings / errors", f"{row.warning_count} / {row.error_count}"),
            ("Note", printable(row.note or "—", limit=500)),
            *attention_fields(row, self._now, self._acknowledged_by),
        ]
        who = self.signatures.sentences(self._now) if self.signatures else []
        if who:
            fields.append(("Who", " · ".join(who)))
        if row.delete_requested_at:
            fields.append(("Delete requested", _when(row.delete_requested_at)))
        if row.deleted_at:
            fields.append(("Deleted", _when(row.deleted_at)))
        if reading.not_found:
            fields.append(("Server", server_404_line(reading, row.last_checked)))
        problem = problem_summary(row)
        if problem:
            fields.append(("Last poll problem", printable(problem, limit=500)))
        for key, value in fields:
            table.add_row(Text(key), Text(value))
        # The why, without a tab change: the first few errors, then warnings.
        for label, messages, tab in (("Errors", row.errors, "Errors"),
                                     ("Warnings", row.warnings, "Warnings")):
            if not messages:
                continue
            table.add_row(Text(""), Text(""))
            for index, message in enumerate(messages[:OVERVIEW_MESSAGES]):
                table.add_row(Text(label if index == 0 else ""),
                              Text(printable(message, limit=300)))
            if len(messages) > OVERVIEW_MESSAGES:
                table.add_row(Text(""), Text(f"… {len(messages) - OVERVIEW_MESSAGES:,} more in "
                                             f"the {tab} tab", style="italic"))
        if row.metadata:
            table.add_row(Text(""), Text(""))
            table.add_row(Text("Metadata"), Text(""))
            for key, value in list(row.metadata.items())[:200]:
                shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                                       default=str)
                table.add_row(Text("  " + printable(str(key), limit=80)),
                              Text(printable(shown, limit=1000)))
        return table

    def _clock_skew(self) -> list[tuple[str, str]]:
        """A line when the upload time is later than the answer that carried it."""
        ahead = server_clock_ahead(self.row.upload_date, self.row.last_checked)
        if ahead is None:
            return []
        return [("Server clock", f"{describe_clock_skew(ahead)} (the upload time above is "
                                 "later than when its answer arrived)")]

    def _history_table(self) -> Table:
        table = Table(box=None, padding=(0, 2), show_edge=False)
        table.add_column("Status")
        table.add_column("From")
        table.add_column("Until")
        table.add_column("Time in status", justify="right")
        spans = time_in_statuses(self.history, self._now)
        if not spans:
            table.add_row(Text("(no status recorded yet)"), Text(""), Text(""), Text(""))
        for number, span in enumerate(spans, start=1):
            kind = status_kind(span.status)
            # The last span is the current status: it lasts until now, not until a time.
            until = "now" if number == len(spans) else _when(span.end)
            since, lasted = _when(span.start), format_duration(span.seconds)
            if number == 1:  # the first answer: the row already had it, since some time
                since, lasted = f"≤ {since}", f"≥ {lasted}"
            table.add_row(Text(f"{status_symbol(kind)} {printable(span.status, limit=60)}"),
                          Text(since), Text(until), Text(lasted))
        if spans:
            table.caption = "≤ ≥  the first status was already current when first checked"
        return table

    @on(TabbedContent.TabActivated)
    def _fill_raw(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "raw-tab" and not self._raw_filled:
            self._raw_filled = True
            self.query_one("#raw", TextArea).load_text(pretty_raw(self.row.raw))

    def tab_text(self) -> str:
        """The plain text of the active tab (what `c` copies)."""
        active = self.query_one(TabbedContent).active
        row = self.row
        if active == "warnings":
            return self.query_one("#warning-list", MessageList).text
        if active == "errors":
            return self.query_one("#error-list", MessageList).text
        if active == "raw-tab":
            return pretty_raw(self.row.raw)
        if active == "history":
            return "\n".join(f"{s.status}\t{_when(s.start)}\t{format_duration(s.seconds)}"
                             for s in time_in_statuses(self.history, self._now))
        return "\n".join([
            f"ID: {row.id}", f"File: {printable(row.file_name or '')}",
            f"Type: {printable(row.data_source_type or '')}",
            f"Status: {read_status(row).label(printable)}",
            f"Warnings: {row.warning_count}", f"Errors: {row.error_count}",
        ])

    # -------------------------------------------------------------- actions
    def action_close(self) -> None:
        # Escape in a search box ends the search (cleared) and gives the keys back to the
        # tabs; escape anywhere else closes.
        listing = self._searching()
        if listing is not None:
            listing.clear_search()
            self._focus_tabs()
            return
        self.dismiss(None)

    def _searching(self) -> MessageList | None:
        """The message list whose search box has the focus, if any."""
        focused = self.focused
        if isinstance(focused, Input) and isinstance(focused.parent, MessageList):
            return focused.parent
        return None

    def _focus_tabs(self) -> None:
        # The tab strip: there every key of the hint line works (a list would take ←/→).
        self.query_one(TabbedContent).query_one(Tabs).focus()

    @on(Input.Submitted, ".search")
    def _keep_search(self) -> None:
        """Enter: keep the narrowed list (for `c`) and give the keys back to the tabs."""
        self._focus_tabs()

    def watch_focused(self) -> None:
        # Screen.focused is reactive: the hint line follows the focus in and out of a search.
        keys = self.SEARCH_KEYS if self._searching() is not None else self.KEYS
        for hint in self.query("#keys").results(Static):
            hint.update(keys)

    def action_copy(self) -> None:
        text = self.tab_text()
        if copy_to_terminal_clipboard(self.app, text):
            self.notify(ClipboardCopy(text, "this tab").description(), timeout=3)

    def action_search(self) -> None:
        active = self.query_one(TabbedContent).active
        if active == "warnings":
            self.query_one("#warning-list", MessageList).focus_search()
        elif active == "errors":
            self.query_one("#error-list", MessageList).focus_search()
