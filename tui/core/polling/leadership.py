"""Who polls a store, as the watch service sees it: one leader, the others follow.

A personal SQLite file has its :class:`~tui.core.polling.lock.PollerLock` (a file lock)
and :class:`~tui.core.polling.following.WatchlistFollower` (reads the file's feed); a
team's PostgreSQL store has an advisory lock and a follower that LISTENs
(``tui.core.teamstore.following``). The service takes either through these protocols.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from tui.core.polling.types import PollUpdate
from tui.core.watchstore import WatchStore

__all__ = ["Follower", "FollowerFactory", "Leadership", "LosableLeadership", "PollerHolder",
           "WriteNotices"]


class PollerHolder(Protocol):
    """Who polls (text from a file or a database: show it escaped)."""

    def describe(self) -> str:
        """A few words: "pid 4120 on build-7", "dana@desk-3"."""
        ...


class Leadership(Protocol):
    """The right to poll a store; :meth:`try_acquire` never blocks for long."""

    def try_acquire(self) -> bool:
        """Take it if nobody holds it; True when held (already held: True)."""
        ...

    def holder(self) -> PollerHolder | None:
        """Who holds it now, if known."""
        ...

    def release(self) -> None:
        """Give it up (another may take it at once)."""
        ...


@runtime_checkable
class LosableLeadership(Leadership, Protocol):
    """A leadership that can be lost without being released (a database session that
    was cut): the leader must then stop polling."""

    async def until_lost(self) -> bool:
        """Return when not held any more: True when lost, False when released."""
        ...


@runtime_checkable
class WriteNotices(Leadership, Protocol):
    """A leadership whose store tells when another app wrote (a team store's LISTEN), so
    the leader reads others' notes at once instead of at its next one-second look."""

    async def notify_writes(self, on_write: Callable[[], None],
                            running: Callable[[], bool],
                            on_ask: Callable[[Sequence[int] | None], None] | None = None
                            ) -> None:
        """Call ``on_write`` (on the loop) each time another app writes, and ``on_ask``
        with the IDs a follower asks to check now (None: all), while ``running()``; never
        raises for the store being away (it tries again)."""
        ...


class Follower(Protocol):
    """Passes on what the leader writes, and takes over when it may."""

    @property
    def holder(self) -> PollerHolder | None:
        """Who polls, as last seen."""
        ...

    def stop(self) -> None:
        """Stop following."""
        ...

    async def run(self) -> None:
        """Follow until stopped, or until the lead is taken (then ``on_lead``)."""
        ...


class FollowerFactory(Protocol):
    """Makes the follower of a store (``WatchlistFollower`` for a file)."""

    def __call__(self, watchlist: WatchStore, lock: Leadership, *, since: int,
                 on_update: Callable[[PollUpdate], None], on_lead: Callable[[], None],
                 interval: float) -> Follower:
        ...
