"""Narrowing the table: the filter box (``/``, ``esc``) and the view tabs (``1``-``6``), with
the count of each view."""

from __future__ import annotations

import time

from textual.widgets import Input, Tab, Tabs

from tui.ui.screens.flows.host import MonitorHost
from tui.ui.view_counts import ViewCounts
from tui.ui.views import VIEWS, VIEWS_BY_KEY
from tui.ui.widgets.summary_strip import SummaryStrip


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
    counts = kept.counts(time.time())
    screen.query_one(SummaryStrip).show_counts(kept.kinds, checking=kept.checking)
    tabs = screen.query_one(Tabs)
    for view in VIEWS:
        label = f"{view.label} {counts[view.key]}"
        tab = tabs.query_one(f"#view-{view.key}", Tab)
        # Setting a label restarts the tab bar's underline animation: only on change.
        if tab.label_text != label:
            tab.label = label
    host.update_header(watched=counts["all"], active=counts["active"])
