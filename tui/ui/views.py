"""The named views of the table (All, Active, Failed, ...): a predicate and a label each."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tui.core.statuses import (
    StatusKind,
    awaits_first_answer,
    is_settled,
    read_status,
)
from tui.core.timeinstatus import StuckAfter, is_stuck
from tui.core.unread import is_unread
from tui.core.watchlist import WatchedConversion

#: A view's test of one row at ``now`` under the profile's stuck thresholds.
Predicate = Callable[[WatchedConversion, float, "StuckAfter | float"], bool]


@dataclass(frozen=True)
class View:
    """A named subset of the watchlist."""

    key: str
    label: str
    predicate: Predicate | None
    empty: str = "Nothing here"  # what the table says when no row is in the view
    #: False: the tab's count is not a count of rows (Problems counts groups; its flow
    #: writes the label, tui/ui/screens/flows/problems.py).
    counts_rows: bool = True
    #: The tab's name on a narrow screen (None: the label), so every tab fits 80 columns.
    short: str | None = None


NARROW_TABS = 100
"""Below this many columns the tabs use their short names."""


def tab_label(view: View, count: str, width: int) -> str:
    """The tab of ``view`` with its ``count``, short when the screen is ``width`` < 100."""
    name = view.short if width < NARROW_TABS and view.short else view.label
    return f"{name} {count}"


def _active(row: WatchedConversion, now: float, stuck_after: StuckAfter | float) -> bool:
    # A row not answered for yet has no status: it is "checking", counted apart.
    return (row.deleted_at is None and not row.not_found and not is_settled(row.status)
            and not awaits_first_answer(row))


def _failed(row: WatchedConversion, now: float, stuck_after: StuckAfter | float) -> bool:
    # As the table and the strip read it: a Failed row that answers 404 now is "not found".
    return read_status(row).kind is StatusKind.FAILED


def _warnings(row: WatchedConversion, now: float, stuck_after: StuckAfter | float) -> bool:
    return bool(row.warnings)


def _stuck(row: WatchedConversion, now: float, stuck_after: StuckAfter | float) -> bool:
    # Time in status from the best fact known: the change seen, else the upload while in
    # flight (tui.core.timeinstatus); the threshold per status.
    return _active(row, now, stuck_after) and is_stuck(row, now, stuck_after)


def _deleting(row: WatchedConversion, now: float, stuck_after: StuckAfter | float) -> bool:
    reading = read_status(row)
    if row.deleted_at is not None or reading.not_found:
        return False  # deleted, purged, or unknown to the server: nothing left to wait for
    return reading.kind is StatusKind.DELETING or row.delete_requested_at is not None


def _changed(row: WatchedConversion, now: float, stuck_after: StuckAfter | float) -> bool:
    # Changed since the person last looked at it (the table's bold IDs): tui/core/unread.py.
    return is_unread(row)


VIEWS: tuple[View, ...] = (
    View("all", "All", None),
    View("active", "Active", _active, "Nothing in flight: every watched conversion has settled"),
    View("failed", "Failed", _failed, "No failed conversions", short="Fail"),
    View("warnings", "Warnings", _warnings, "No conversions with warnings", short="Warn"),
    View("stuck", "Stuck", _stuck, "Nothing stuck"),
    View("deleting", "Deleting", _deleting, "Nothing being deleted", short="Del"),
    View("changed", "Changed", _changed, "Nothing changed since you last looked"),
    # Failures grouped by cause: its tab shows a list of groups, not rows.
    View("problems", "Problems", None, "No failures or warnings", counts_rows=False,
         short="Probs"),
)
VIEWS_BY_KEY = {view.key: view for view in VIEWS}


def count_views(rows: Iterable[WatchedConversion], now: float,
                stuck_after: StuckAfter | float) -> dict[str, int]:
    """How many rows each view holds (one pass over the rows)."""
    counts = dict.fromkeys(VIEWS_BY_KEY, 0)
    checks = [(view.key, view.predicate) for view in VIEWS if view.predicate is not None]
    for row in rows:
        counts["all"] += 1
        for key, predicate in checks:
            if predicate(row, now, stuck_after):
                counts[key] += 1
    return counts
