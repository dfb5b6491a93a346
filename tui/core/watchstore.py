"""One store interface, two backends: :class:`WatchStore`.

The watched rows live either in a person's own SQLite file
(:class:`tui.core.watchlist.Watchlist`, the default) or in a team's PostgreSQL database
(:class:`tui.core.teamstore.TeamStore`). The watch service, the poll scheduler, the
deleter and the follower use only what this protocol names, so either backend serves them
with the same behaviour (``tests/core/test_store_conformance.py`` runs one suite on both).

What differs stays outside it: the team store signs writes with a person and refuses a
delete a colleague already asked for (:meth:`TeamStore.request_delete`); the SQLite file
keeps unwatched rows for :data:`tui.core.watchlist.KEEP_UNWATCHED` only.

The attention marks (``acknowledge``, ``clear_acknowledged``, ``snooze``, ``mark_read``)
take many IDs at once, on both backends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from tui.core.filters.messages import MessageAnswer
from tui.core.watchlist.rows import (
    PollResult,
    RecordedResults,
    StatusChange,
    WatchedConversion,
    WatchlistChanges,
)

__all__ = ["RefusesWhileAway", "StoreRefused", "WatchStore"]


class StoreRefused(Exception):
    """A store refused a read or a write it could not do now (the team database away, a
    lost connection): ``str(error)`` is one sentence for the user, and nothing was changed.

    The team store's :class:`~tui.core.teamstore.TeamStoreError` is one; the UI catches this
    base so it need not import the team store's package (which loads psycopg).
    """


@runtime_checkable
class RefusesWhileAway(Protocol):
    """A store that knows when it cannot be reached (the team store): the watch service
    asks it before an action that must not start then (an upload)."""

    def refuse_while_away(self, action: str) -> None:
        """Raise :class:`StoreRefused` (a sentence naming ``action``) while away."""
        ...


class WatchStore(Protocol):
    """The watched conversions of one profile, wherever they are stored.

    Every write takes the next number of the store's change feed, so another app (or
    window) reads only what changed after a number it holds (:meth:`changes_since`).
    A failure of the store itself raises the backend's one error type, whose text is a
    sentence for the user (``WatchlistError`` / ``TeamStoreError``).
    """

    # -- membership
    def add(self, ids: Iterable[int], *, note: str | None = None,
            at: float | None = None) -> list[int]:
        """Watch ``ids``; those not watched yet, in order. An ID unwatched before comes
        back with its note and history; ``note`` goes on every row of ``ids`` without one.
        ValueError for anything not a conversion ID."""
        ...

    def remove(self, ids: Iterable[int], *, at: float | None = None) -> int:
        """Stop watching ``ids`` (kept aside with their history); how many were watched."""
        ...

    # -- reading
    def get(self, conversion_id: int) -> WatchedConversion | None:
        """One watched conversion, or None."""
        ...

    def get_many(self, ids: Iterable[int]) -> Mapping[int, WatchedConversion]:
        """The watched conversions among ``ids``, by ID (those not watched left out)."""
        ...

    def head(self, count: int) -> list[WatchedConversion]:
        """The first ``count`` watched conversions by ID."""
        ...

    def all(self) -> list[WatchedConversion]:
        """Every watched conversion, by ID (do not modify the items)."""
        ...

    def history(self, conversion_id: int) -> list[tuple[str, float]]:
        """The statuses seen for one conversion with their times, oldest first."""
        ...

    def changes_between(self, start: float, end: float) -> list[StatusChange]:
        """Recorded status changes of watched rows with ``start <= at < end``, oldest
        first (``previous`` None: the first status seen after adding)."""
        ...

    def transitions_between(self, start: float, end: float) -> list[StatusChange]:
        """As :meth:`changes_between`, only changes from one status to another."""
        ...

    # -- the change feed
    def feed_seq(self) -> int:
        """The feed's number now."""
        ...

    def changes_since(self, seq: int) -> WatchlistChanges:
        """Rows written, IDs (re)added and IDs removed after feed number ``seq``."""
        ...

    # -- the person's actions
    def set_note(self, conversion_id: int, note: str | None) -> None:
        """Attach a note (None or "" removes it)."""
        ...

    def mark_delete_requested(self, conversion_id: int, at: float) -> None:
        """The server accepted a delete; a later 404 then means "Deleted"."""
        ...

    def clear_delete_requested(self, conversion_id: int) -> None:
        """Forget a delete request (the server refused it)."""
        ...

    def acknowledge(self, ids: Iterable[int], at: float) -> list[int]:
        """Mark ``ids`` acknowledged at ``at``; those watched."""
        ...

    def clear_acknowledged(self, ids: Iterable[int]) -> list[int]:
        """Take the acknowledgement off ``ids``; those watched."""
        ...

    def snooze(self, ids: Iterable[int], until: float | None) -> list[int]:
        """Snooze ``ids`` until ``until`` (None: end it); those watched."""
        ...

    def mark_read(self, ids: Iterable[int], at: float) -> int:
        """Stamp ``ids`` read at ``at`` (never backwards); how many were watched."""
        ...

    # -- the filter's msg: terms
    def message_matches(self, needles: Sequence[str]) -> MessageAnswer | None:
        """The rows whose messages hold one of ``needles``, from an index; None: test
        the rows in memory (the team store has no index)."""
        ...

    # -- polling
    def record_results(self, results: Sequence[PollResult]) -> RecordedResults:
        """Store a batch of poll results in one transaction: the status changes, and the
        rows written as stored now. Results for IDs no longer watched are ignored."""
        ...

    def record_problem(self, conversion_id: int, message: str, at: float) -> None:
        """Count a failed check; the last known data stays."""
        ...

    def close(self) -> None:
        """Let go of the store (further calls fail)."""
        ...


if TYPE_CHECKING:
    from tui.core.watchlist.store import Watchlist

    def _sqlite_is_a_watch_store(store: Watchlist) -> WatchStore:
        return store  # mypy checks it (the team store's check is beside TeamStore)
