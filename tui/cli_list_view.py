"""``conversions-tui list --view NAME``: a view saved in the monitor, read as the monitor
opens it (its filter, over the Failed or Warnings tab it was saved on) and its rows put in
its sort, by the table's own key (:mod:`tui.core.roworder`). Notes on what no longer
exists go to stderr, one line each; nothing here fails the command.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.core.savedviews import TableLayout

__all__ = ["in_view_order", "saved_view"]


#: The monitor's tabs that the filter language says exactly (a saved view's ``base``).
_BASE_FILTERS = {"failed": "status:failed", "warnings": "warn:>0"}


def saved_view(paths: Any, profile: str, name: str, clock: Callable[[], float]
               ) -> tuple[str, TableLayout] | None:
    """The filter text and the layout (its sort) of the saved view ``name`` (None: no
    such view), as the monitor opens it: terms that no longer mean anything (a status
    word gone) are named in a note here, and left out when the text is parsed
    (``lenient_filter``)."""
    from tui.core.savedviews import lenient_filter, load_layouts

    views = load_layouts(paths.views_file)
    for warning in views.warnings:
        print(f"conversions-tui list: {warning}", file=sys.stderr)
    view = views.layout(profile).view(name)
    if view is None:
        return None
    text = view.filter
    if view.base in _BASE_FILTERS:  # saved on a tab the filter language can say exactly
        text = f"{_BASE_FILTERS[view.base]} {text}"
    elif view.base != "all":
        print(f"conversions-tui list: view {name!r} was saved on the {view.base!r} tab; "
              "list applies its filter only.", file=sys.stderr)
    _, errors = lenient_filter(text, clock=clock)
    for error in errors:
        print(f"conversions-tui list: view {name!r}: {error.located(text)} "
              "(left out: the other terms apply)", file=sys.stderr)
    return text, view.layout


def in_view_order(rows: list[Any], name: str, layout: TableLayout) -> list[Any]:
    """``rows`` in the order the monitor's table shows the view in: its sort column and
    direction, by the table's own key; a column gone sorts by ID, with a note (as the
    monitor does)."""
    from tui.core.roworder import sorted_rows
    from tui.core.untrusted import printable

    try:
        return sorted_rows(rows, layout.sort, layout.reverse)
    except KeyError:
        print(f"conversions-tui list: view {name!r}: sort column "
              f"{printable(layout.sort, limit=40)!r} no longer exists (sorted by ID)",
              file=sys.stderr)
        return sorted(rows, key=lambda row: row.id)
