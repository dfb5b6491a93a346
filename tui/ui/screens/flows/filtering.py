"""Narrowing the table: the filter box (``/``, ``esc``) and the view tabs (``1``-``6``)."""

from __future__ import annotations

import time

from textual.widgets import Input

from tui.ui.screens.flows.host import MonitorHost
from tui.ui.views import VIEWS_BY_KEY


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
