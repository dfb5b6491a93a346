"""A follower asks the leader to check rows now (``r`` / ``R`` on a team profile).

The ask is a notification on the profile's ask channel (``q 12,13``, or ``q *`` for every
watched row; :func:`~tui.core.teamstore.changes.ask_payloads`), which the leader's
:class:`~tui.core.teamstore.reader.ChangeBell` hears and hands to its scheduler. The
leader answers as it answers everything: it records the checks, and the change feed
brings the rows. :class:`SentAsk` is answered once the feed brings one of the rows asked
for with a check time later than any of them had when the ask was sent (the leader's
own clock on both sides, so a colleague's clock does not matter).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from tui.core.polling.leadership import PollerHolder
from tui.core.teamstore.changes import ask_channel_for, ask_payloads
from tui.core.teamstore.store import TeamStore
from tui.core.watchlist.rows import WatchedConversion, int_ids

__all__ = ["SentAsk", "read_asked", "send_ask"]

ACTION = "ask the monitor that polls to check conversions"


def read_asked(store: TeamStore, ids: Sequence[int] | None
               ) -> tuple[list[int] | None, float | None]:
    """The watched ones of ``ids`` in their order (None for every row) and the latest
    check time among them (None: none checked yet). Raises the store's sentence while
    the database is away."""
    with store.failing(ACTION), store.connection() as conn:
        if ids is None:
            found = conn.execute("SELECT max(last_checked) FROM watched WHERE profile = %s",
                                 (store.base_url,)).fetchone()
            return None, (found[0] if found else None)
        checked = dict(conn.execute(
            "SELECT id, last_checked FROM watched WHERE profile = %s AND id = ANY(%s)",
            (store.base_url, int_ids(ids))).fetchall())
    watched = [value for value in dict.fromkeys(ids) if value in checked]
    times = [at for at in checked.values() if at is not None]
    return watched, (max(times) if times else None)


def send_ask(store: TeamStore, ids: Sequence[int] | None) -> None:
    """Notify the leader to check ``ids`` (None: every watched row) now."""
    channel = ask_channel_for(store.base_url)
    with store.failing(ACTION), store.connection() as conn, conn.transaction():
        for payload in ask_payloads(ids):
            conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))


class SentAsk:
    """An ask sent to ``holder`` (None: nobody leads, nothing was sent), answered once the
    feed brings a row of it checked after ``baseline`` (see the module docstring)."""

    def __init__(self, holder: PollerHolder | None, watched: list[int] | None,
                 baseline: float | None, forget: Callable[[SentAsk], None]) -> None:
        self.holder = holder
        self.watched = watched
        self._wanted = None if watched is None else set(watched)
        self._baseline = baseline
        self._forget = forget
        self._answer = asyncio.Event()

    def __repr__(self) -> str:
        asked = "every row" if self.watched is None else f"{len(self.watched)} rows"
        return f"SentAsk({asked}, answered={self._answer.is_set()})"

    def see(self, rows: Iterable[WatchedConversion]) -> None:
        """Rows the feed brought: is one of them the leader's answer?"""
        for row in rows:
            if self._wanted is not None and row.id not in self._wanted:
                continue
            if row.last_checked is not None and (
                    self._baseline is None or row.last_checked > self._baseline):
                self._answer.set()
                return

    async def answered(self, within: float) -> bool:
        """Whether the leader answered within ``within`` seconds (never, when nobody was
        asked)."""
        try:
            if self.holder is None:
                return False
            await asyncio.wait_for(self._answer.wait(), within)
            return True
        except TimeoutError:
            return self._answer.is_set()
        finally:
            self._forget(self)


if TYPE_CHECKING:
    from tui.core.polling.asking import AskingFollower, LeaderAsk
    from tui.core.teamstore.following import TeamFollower

    def _is_a_leader_ask(ask: SentAsk) -> LeaderAsk:
        return ask  # mypy checks that the watch service can wait for its answer

    def _asks_the_leader(follower: TeamFollower) -> AskingFollower:
        return follower  # ... and that a team follower asks the leader
