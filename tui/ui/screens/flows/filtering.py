"""Narrowing the table: the filter box (``/``, ``esc``) and the view tabs (``1``-``8``), with
the count of each view.

The box takes the filter language of :mod:`tui.core.filters`. A bad term is underlined
in the box and named with one sentence under it, and left out while the other terms
apply: typing a term half way never empties the view, and nothing fails silently.
"""

from __future__ import annotations

import time

from rich.highlighter import Highlighter
from rich.text import Text
from textual.widgets import Input, Static, Tab, Tabs

from tui.core.filters import FilterError, RowFilter
from tui.core.filters.messages import MessageIndex
from tui.core.savedviews import lenient_filter
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.view_counts import ViewCounts
from tui.ui.views import VIEWS, VIEWS_BY_KEY, tab_label
from tui.ui.widgets.summary_strip import SummaryStrip

#: The line under the filter box that names a bad term (a Static, markup off).
PROBLEM_ID = "filter-problem"
#: How the bad term is shown, in the box and in the line under it.
BAD_TERM_STYLE = "bold underline"
FILTER_PLACEHOLDER = ("filter: words, or status:failed type:csv id:1-9 age:>30m -status:deleted "
                      "(? for all terms; enter keeps, esc clears)")


class FilterHighlighter(Highlighter):
    """Underlines the bad term of the filter box's text (its span, or nothing)."""

    def __init__(self) -> None:
        self.span: tuple[int, int] | None = None

    def highlight(self, text: Text) -> None:
        """Style the bad term's span; the user's text itself is never read as markup."""
        if self.span is not None:
            start, end = self.span
            text.stylize(BAD_TERM_STYLE, start, max(end, start + 1))


def problem_text(source: str, error: FilterError) -> Text:
    """The line under the box: the bad term as typed (underlined, literal) and why."""
    term = source[error.start:error.end] or source[error.start:] or " "
    return Text.assemble("✘ ", (term, BAD_TERM_STYLE), f": {error.message}",
                         (" (left out: the other terms apply)", "dim"))


def without_bad_terms(source: str, messages: MessageIndex | None = None,
                      ) -> tuple[RowFilter, FilterError | None]:
    """The filter of ``source`` with each bad term left out, and the first bad term.

    Half a term while typing must not blank the table nor leave it showing some earlier
    text: the good terms apply, the bad one is named. Blanking a span keeps the others'
    positions, so the error's span still points into the text as typed.
    """
    rows_filter, errors = lenient_filter(source, messages=messages)
    return rows_filter, (errors[0] if errors else None)


def apply_filter(host: MonitorHost, box: Input) -> None:
    """Filter the table by the box's text; a bad term is underlined and named with one
    sentence under the box, and left out (the other terms apply)."""
    problem = host.screen.query_one(f"#{PROBLEM_ID}", Static)
    highlighter = box.highlighter if isinstance(box.highlighter, FilterHighlighter) else None
    # msg: asks the watchlist's FTS5 index (the table shows the watchlist's rows).
    rows_filter, error = without_bad_terms(box.value, host.watching.watchlist)
    if error is not None:
        problem.update(problem_text(box.value, error))
    problem.set_class(error is not None, "-shown")
    span = None if error is None else error.span
    if highlighter is not None and highlighter.span != span:
        highlighter.span = span
        box.refresh()
    host.table.set_filter(rows_filter)


def open_filter(host: MonitorHost, box: Input) -> None:
    """Show the filter box and type into it."""
    box.add_class("-shown")
    # Focus now, not on the next tick: keys typed right after "/" (a paste, a fast
    # typist over SSH) must land in the filter, not on the table.
    host.screen.set_focus(box)


def clear(host: MonitorHost, box: Input) -> None:
    """Esc: close and empty the filter if it is open or set, else clear the marks."""
    table = host.table
    if box.has_class("-shown") or box.value:
        box.value = ""
        box.remove_class("-shown")
        host.screen.query_one(f"#{PROBLEM_ID}", Static).remove_class("-shown")
        if isinstance(box.highlighter, FilterHighlighter):
            box.highlighter.span = None
        table.set_filter("")
        host.screen.set_focus(table)
        return
    table.clear_marks()


def show_view(host: MonitorHost, key: str) -> bool:
    """Show the view ``key`` in the table (False: no such view)."""
    view = VIEWS_BY_KEY.get(key)
    if view is None:
        return False
    table = host.table
    predicate = view.predicate
    stuck_after = host.session.profile.stuck_after
    if predicate is None:
        table.set_view(None)
    else:
        table.set_view(lambda row: predicate(row, time.time(), stuck_after),
                       empty_message=view.empty)
    # To the table, unless the person is typing in the filter: the first tab's activation
    # comes late on a busy machine, and must not take the keys typed after "/" away.
    if not isinstance(host.screen.focused, Input):
        table.focus()
    return True


def view_counts(host: MonitorHost) -> ViewCounts:
    """The table's counts per view and kind, kept per changed row (made at first use, and
    made again when the profile's stuck thresholds change)."""
    table = host.table
    stuck_after = host.session.profile.stuck_after
    counts = table.rows_watcher
    if not isinstance(counts, ViewCounts) or counts.stuck_after != stuck_after:
        counts = ViewCounts(stuck_after)
        table.rows_watcher = counts  # counts the rows held now
    return counts


def show_counts(host: MonitorHost) -> None:
    """Show the views' counts: the tab labels, the summary strip, the header's counts."""
    screen = host.screen
    kept = view_counts(host)
    now = time.time()
    counts = kept.counts(now)
    screen.query_one(SummaryStrip).show_counts(kept.kinds, checking=kept.checking)
    tabs = screen.query_one(Tabs)
    width = screen.size.width
    for view in VIEWS:
        tab = tabs.query_one(f"#view-{view.key}", Tab)
        if view.counts_rows:
            label = tab_label(view, str(counts[view.key]), width)
        else:  # its own flow writes its count; its name follows the width here
            label = tab_label(view, tab.label_text.rpartition(" ")[2], width)
        # Setting a label restarts the tab bar's underline animation: only on change.
        if tab.label_text != label:
            tab.label = label
    profile = host.session.profile
    attention = kept.needing_attention(now, profile.alerts.delete_stalled_after)
    host.update_header(watched=counts["all"], active=counts["active"], attention=attention)
