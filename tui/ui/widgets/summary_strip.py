"""The summary strip above the monitor's table: rows per status kind, activity per minute.

One line: a count per status kind ("✘ Failed 12"; a click on one opens the view
that holds those rows), rows not answered for yet apart ("↻ Checking 12": they have no
status, so they are neither Unknown nor active), then sparklines of completions and
failures per minute over the last hour, from the recorded history. Symbols and counts say it all
without colour; colours come from the theme's ``$status-*`` variables.

The activity is read in a thread (one indexed query, see
``Watchlist.transitions_between``) at most once per :attr:`SummaryStrip.min_interval`
however many poll updates arrive, and again each half minute so the window
moves with the clock. When the line is too narrow the labels shorten, then the
sparklines go: see :func:`choose_layout`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Label, Sparkline

from tui.core.activity import (
    MINUTE,
    WINDOW_MINUTES,
    MinuteActivity,
    activity_window,
    count_kinds,
    minute_buckets,
)
from tui.core.statuses import (
    CHECKING_SYMBOL,
    CheckedRow,
    StatusKind,
    awaits_first_answer,
    status_symbol,
)
from tui.core.watchlist import StatusChange
from tui.core.watchstore import StoreRefused
from tui.ui.workers import reported

_log = logging.getLogger(__name__)

__all__ = ["KIND_VIEWS", "CheckingCount", "KindCount", "StripLayout", "SummaryStrip",
           "checking_text", "choose_layout", "count_text"]

ChangeSource = Callable[[float, float], list[StatusChange]]
"""Reads recorded changes with ``start <= at < end`` (``Watchlist.transitions_between``)."""

_LABELS: dict[StatusKind, str] = {
    StatusKind.QUEUED: "Queued",
    StatusKind.PROCESSING: "Processing",
    StatusKind.COMPLETED: "Completed",
    StatusKind.FAILED: "Failed",
    StatusKind.DELETING: "Deleting",
    StatusKind.DELETED: "Deleted",
    StatusKind.NOT_FOUND: "Not found",
    StatusKind.UNKNOWN: "Unknown",
}
# Always shown, zero or not; the rarer kinds appear only when some row has them.
_ALWAYS = (StatusKind.QUEUED, StatusKind.PROCESSING, StatusKind.COMPLETED, StatusKind.FAILED)

KIND_VIEWS: dict[StatusKind, str] = {
    StatusKind.QUEUED: "active",
    StatusKind.PROCESSING: "active",
    StatusKind.UNKNOWN: "active",
    StatusKind.FAILED: "failed",
    StatusKind.DELETING: "deleting",
}
"""The view a click on a kind's count opens (kinds without a narrower view have none)."""

_SPARK_KINDS = (StatusKind.COMPLETED, StatusKind.FAILED)
_CHIP_GAP = 2
_SPARK_MIN = 10  # below this many cells an hour of minutes is mush: drop the sparklines


def _css_name(kind: StatusKind) -> str:
    return kind.value.replace("_", "-")


def count_text(kind: StatusKind, count: int, *, compact: bool) -> str:
    """A kind's count as shown: "✘ Failed 12", or "✘ 12" when compact."""
    symbol = status_symbol(kind)
    return f"{symbol} {count}" if compact else f"{symbol} {_LABELS[kind]} {count}"


def checking_text(count: int, *, compact: bool) -> str:
    """The count of rows not answered for yet: "↻ Checking 12", or "↻ 12" when compact."""
    return f"{CHECKING_SYMBOL} {count}" if compact else f"{CHECKING_SYMBOL} Checking {count}"


def spark_label(kind: StatusKind, *, short: bool) -> str:
    """The label before a sparkline: "✔ completed/min", or "✔/min" when short."""
    symbol = status_symbol(kind)
    return f"{symbol}/min" if short else f"{symbol} {_LABELS[kind].lower()}/min"


@dataclass(frozen=True)
class StripLayout:
    """How much the strip shows at a width."""

    compact_counts: bool
    sparklines: bool
    short_labels: bool


def shown_kinds(counts: Mapping[StatusKind, int]) -> list[StatusKind]:
    """Kinds with a count on the strip, in order: the main four, then rarer ones present."""
    return [kind for kind in StatusKind if kind in _ALWAYS or counts.get(kind, 0)]


def choose_layout(width: int, counts: Mapping[StatusKind, int],
                  checking: int = 0) -> StripLayout:
    """The richest layout that fits ``width`` cells: full counts and labelled sparklines,
    then short sparkline labels, then compact counts, then no sparklines.
    ``checking``: rows not answered for yet (their count shows when there are any)."""

    def counts_width(compact: bool) -> int:
        chips = sum(cell_len(count_text(kind, counts.get(kind, 0), compact=compact))
                    + _CHIP_GAP for kind in shown_kinds(counts))
        if checking:
            chips += cell_len(checking_text(checking, compact=compact)) + _CHIP_GAP
        return chips

    def sparks_width(short: bool) -> int:
        return sum(cell_len(spark_label(kind, short=short)) + 1 + _SPARK_MIN + _CHIP_GAP
                   for kind in _SPARK_KINDS)

    for compact, short in ((False, False), (False, True), (True, True)):
        if counts_width(compact) + sparks_width(short) <= width:
            return StripLayout(compact, True, short)
    return StripLayout(counts_width(False) > width, False, True)


class _Count(Widget):
    """A count in the strip: redrawn only when the number or the compactness changes."""

    count = 0
    compact = False

    def show(self, count: int, *, compact: bool) -> None:
        """Show ``count`` (compact: symbol and number only)."""
        if (count, compact) == (self.count, self.compact):
            return
        self.count, self.compact = count, compact
        self.set_class(count == 0, "-zero")
        self.refresh(layout=True)


class CheckingCount(_Count):
    """How many rows await their first answer; shown only while there are some."""

    DEFAULT_CSS = """
    CheckingCount { width: auto; height: 1; margin-right: 2; color: $status-unknown;
                    text-style: italic; }
    CheckingCount.-zero { display: none; }
    """

    def __init__(self) -> None:
        super().__init__(id="count-checking", classes="-zero")
        self.tooltip = "Checking: rows the server has not answered about yet"

    def render(self) -> Text:
        """The symbol, the word (unless compact) and the count, as plain text."""
        return Text(checking_text(self.count, compact=self.compact), no_wrap=True)


class KindCount(_Count):
    """One kind's count; clicking it asks for the kind's view (when it has one)."""

    DEFAULT_CSS = """
    KindCount { width: auto; height: 1; margin-right: 2; }
    KindCount.-zero { color: $text-muted; }
    KindCount.-optional.-zero { display: none; }
    KindCount.-link:hover { text-style: underline; background: $boost; }
    """

    def __init__(self, kind: StatusKind) -> None:
        super().__init__(id=f"count-{_css_name(kind)}",
                         classes=f"-{_css_name(kind)}" + ("" if kind in _ALWAYS
                                                          else " -optional"))
        self.kind = kind
        self.view = KIND_VIEWS.get(kind)
        self.set_class(self.view is not None, "-link")
        self.set_class(True, "-zero")
        self.tooltip = (f"{_LABELS[kind]}: click for the {self.view.title()} view"
                        if self.view else f"{_LABELS[kind]}: rows in this status")

    def render(self) -> Text:
        """The symbol, the kind (unless compact) and the count, as plain text."""
        return Text(count_text(self.kind, self.count, compact=self.compact), no_wrap=True)

    def on_click(self, event: events.Click) -> None:
        """Ask the screen for this kind's view."""
        if self.view is not None:
            event.stop()
            self.post_message(SummaryStrip.ViewChosen(self.view, self.kind))


class SummaryStrip(Horizontal):
    """Counts per status kind and sparklines of completions/failures per minute."""

    DEFAULT_CSS = """
    SummaryStrip { height: 1; width: 1fr; padding: 0 1; background: $panel; }
    SummaryStrip KindCount.-queued { color: $status-queued; }
    SummaryStrip KindCount.-processing { color: $status-processing; }
    SummaryStrip KindCount.-completed { color: $status-completed; }
    SummaryStrip KindCount.-failed { color: $status-failed; }
    SummaryStrip KindCount.-failed.-zero { color: $text-muted; }
    SummaryStrip KindCount.-deleting { color: $status-deleting; }
    SummaryStrip KindCount.-deleted { color: $status-deleted; }
    SummaryStrip KindCount.-not-found { color: $status-not-found; }
    SummaryStrip KindCount.-unknown { color: $status-unknown; }
    SummaryStrip .spark-label { width: auto; margin-right: 1; }
    SummaryStrip Sparkline { width: 1fr; max-width: 60; margin-right: 2; }
    SummaryStrip #spark-label-completed { color: $status-completed; }
    SummaryStrip #spark-label-failed { color: $status-failed; }
    SummaryStrip #spark-completed > .sparkline--max-color { color: $status-completed; }
    SummaryStrip #spark-completed > .sparkline--min-color { color: $status-completed 30%; }
    SummaryStrip #spark-failed > .sparkline--max-color { color: $status-failed; }
    SummaryStrip #spark-failed > .sparkline--min-color { color: $status-failed 30%; }
    SummaryStrip.-no-sparks .spark { display: none; }
    """

    @staticmethod
    def clock() -> float:
        """Where "now" comes from (unix seconds; a test may pin it)."""
        return time.time()

    min_interval: ClassVar[float] = 5.0
    """Seconds: the activity is read at most once per this, however many updates come."""

    class ViewChosen(Message):
        """A count was clicked: show the view holding that kind's rows."""

        def __init__(self, view: str, kind: StatusKind) -> None:
            super().__init__()
            self.view = view
            self.kind = kind

    class ActivityRead(Message):
        """The worker's answer (posted from its thread)."""

        def __init__(self, activity: MinuteActivity) -> None:
            super().__init__()
            self.activity = activity

    def __init__(self, changes: ChangeSource | None = None, *, id: str | None = None) -> None:
        """``changes`` reads the recorded history; None leaves the sparklines flat."""
        super().__init__(id=id)
        self._changes = changes
        self._counts: dict[StatusKind, int] = dict.fromkeys(StatusKind, 0)
        self._checking = 0
        self._layout = StripLayout(False, True, False)
        self._arranged = False
        self._activity = MinuteActivity(activity_window(self.clock())[0], WINDOW_MINUTES)
        self._last_read = float("-inf")
        self._read_timer: Timer | None = None
        self.reads = 0
        """How many times the history was read (the throttle's witness in tests)."""

    def compose(self) -> ComposeResult:
        for kind in StatusKind:
            yield KindCount(kind)
        yield CheckingCount()
        for kind in _SPARK_KINDS:
            name = _css_name(kind)
            yield Label(spark_label(kind, short=False), id=f"spark-label-{name}",
                        classes="spark spark-label", markup=False)
            yield Sparkline([0] * WINDOW_MINUTES, id=f"spark-{name}", classes="spark")

    def on_mount(self) -> None:
        self._arrange()
        self.activity_changed()
        # Minutes pass without any change: move the window along with the clock.
        self.set_interval(MINUTE / 2, self.activity_changed)

    # -- counts --------------------------------------------------------------------------
    @property
    def counts(self) -> dict[StatusKind, int]:
        """Rows per status kind, as shown."""
        return dict(self._counts)

    @property
    def checking(self) -> int:
        """Rows not answered for yet, as shown (not counted in any kind)."""
        return self._checking

    @property
    def layout_now(self) -> StripLayout:
        """What the strip shows at its current width."""
        return self._layout

    def show_rows(self, rows: Iterable[CheckedRow]) -> None:
        """Count ``rows`` by kind and show the counts; rows not answered for yet are
        counted apart (``count_kinds`` would call them Unknown)."""
        rows = list(rows)
        counts = count_kinds(rows)
        checking = sum(1 for row in rows if awaits_first_answer(row))
        counts[StatusKind.UNKNOWN] -= checking
        self.show_counts(counts, checking=checking)

    def show_counts(self, counts: Mapping[StatusKind, int], *, checking: int = 0) -> None:
        """Show these counts per kind (missing kinds are zero), and ``checking``: rows
        not answered for yet."""
        self._counts = {kind: counts.get(kind, 0) for kind in StatusKind}
        self._checking = checking
        self._arrange()

    def on_resize(self) -> None:
        self._arrange()

    def _arrange(self) -> None:
        if not self.is_mounted:
            return
        layout = choose_layout(self.content_region.width, self._counts, self._checking)
        for chip in self.query(KindCount):
            chip.show(self._counts[chip.kind], compact=layout.compact_counts)
        self.query_one(CheckingCount).show(self._checking, compact=layout.compact_counts)
        # Polls call this often: touch the labels only when the layout changes.
        if layout == self._layout and self._arranged:
            return
        self._layout, self._arranged = layout, True
        self.set_class(not layout.sparklines, "-no-sparks")
        for kind in _SPARK_KINDS:
            label = self.query_one(f"#spark-label-{_css_name(kind)}", Label)
            label.update(spark_label(kind, short=layout.short_labels))

    # -- activity ------------------------------------------------------------------------
    @property
    def activity(self) -> MinuteActivity:
        """The per-minute activity the sparklines show."""
        return self._activity

    def activity_changed(self) -> None:
        """New changes may have been recorded: read them soon (throttled, trailing)."""
        if self._changes is None or self._read_timer is not None:
            return
        wait = self._last_read + self.min_interval - time.monotonic()
        if wait <= 0:
            self._read_activity()
        else:
            self._read_timer = self.set_timer(wait, self._read_activity)

    def _read_activity(self) -> None:
        self._read_timer = None
        self._last_read = time.monotonic()
        self.run_worker(reported(self._read_in_thread), thread=True, group="activity",
                        exclusive=True, exit_on_error=False)

    def _read_in_thread(self) -> None:
        source = self._changes
        if source is None:
            return
        now = self.clock()
        start, end = activity_window(now)
        self.reads += 1
        try:
            changes = source(start, end)
        except StoreRefused as error:
            # The team database away: the banner says so; the sparklines keep what they
            # showed, and the next change read after it is back brings them up to date.
            _log.info("the activity cannot be read now: %s", error)
            return
        self.post_message(self.ActivityRead(minute_buckets(changes, now)))

    def on_summary_strip_activity_read(self, message: SummaryStrip.ActivityRead) -> None:
        message.stop()
        self.show_activity(message.activity)

    def show_activity(self, activity: MinuteActivity) -> None:
        """Draw ``activity`` in the sparklines."""
        self._activity = activity
        for kind in _SPARK_KINDS:
            spark = self.query_one(f"#spark-{_css_name(kind)}", Sparkline)
            spark.data = list(activity.of(kind))
            hour = sum(activity.of(kind))
            spark.tooltip = f"{_LABELS[kind]} per minute, last hour: {hour} in all"
