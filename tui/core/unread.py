"""Unread rows: which watched conversions changed since the person last looked at them.

The rule, in one place (the table's mark, the Changed view and its count, the service's
"mark read" all ask :func:`is_unread`):

A row is **unread** when the app saw it *enter* a status that ends or breaks its flight
(Completed, Failed, Deleted, or a word the app does not know) *after* the person last
looked at it: ``read_at`` (cursor resting on it, Inspect, "mark all read"), or, never
looked at, when it was added (``first_seen``).

Not news, so not unread:

- the first answer after adding: it says what the status is, not that it changed. A paste
  of 10,000 IDs, or an upload, does not light up (a row is unread only once the app has
  seen it *change*: ``entered_seen``);
- moves within the flight (Uploaded, Queued, Processing, DeletionPending): every row makes
  them; a row that stays too long is the Stuck view's and the alerts' business;
- Deleted after a delete asked for from this app (``delete_requested_at``): whoever asked
  knows; a delete nobody here asked for is news;
- a failed check (timeout, HTTP 502): the trouble of the server or the network, not of the
  conversion; the Problem column and the health banner show it;
- new errors or warnings without a change of status: the API gives them with the status
  that ends a conversion (Failed, Completed), which is news already.

When a change is seen is the check that saw it (``last_changed``), on the machine's clock,
as ``read_at`` is: a change and a look are compared on one clock.
"""

from __future__ import annotations

from collections.abc import Iterable

from tui.core.statuses import StatusKind, status_kind
from tui.core.watchlist import WatchedConversion

__all__ = ["NEWS_KINDS", "changed_at", "is_unread", "unread_ids"]

NEWS_KINDS = frozenset({StatusKind.COMPLETED, StatusKind.FAILED, StatusKind.DELETED,
                        StatusKind.UNKNOWN})
"""Statuses whose arrival is news: the end of a conversion, or a word nobody expected."""


def changed_at(row: WatchedConversion) -> float | None:
    """When the app saw ``row`` change into its status, if that change is news (see the
    module docstring); None when nothing about the row is news."""
    if not row.entered_seen or row.last_changed is None:
        return None
    kind = status_kind(row.status)
    if kind not in NEWS_KINDS:
        return None
    if kind is StatusKind.DELETED and row.delete_requested_at is not None:
        return None  # the delete this app asked for, confirmed: no news to whoever asked
    return row.last_changed


def is_unread(row: WatchedConversion) -> bool:
    """True when ``row`` changed (news) after the person last looked at it."""
    at = changed_at(row)
    if at is None:
        return False
    looked = row.read_at if row.read_at is not None else row.first_seen
    return at > looked


def unread_ids(rows: Iterable[WatchedConversion]) -> list[int]:
    """The IDs of the unread rows among ``rows``, in their order."""
    return [row.id for row in rows if is_unread(row)]
