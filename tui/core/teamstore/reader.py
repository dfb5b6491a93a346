"""A follower's view of the change feed: LISTEN, then read the rows named in one batch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from tui.core.teamstore.changes import (
    CheckAsk,
    Notice,
    ask_channel_for,
    parse_ask,
    parse_payload,
)
from tui.core.teamstore.store import TeamStore
from tui.core.watchlist.rows import WatchedConversion

__all__ = ["ChangeBatch", "ChangeBell", "ChangeReader", "Heard"]


@dataclass(frozen=True)
class ChangeBatch:
    """What other apps wrote: rows changed (as they are now), IDs no longer watched.
    ``caught_up``: read by the change counter after a reconnection, since notifications
    sent while the connection was down are lost."""

    rows: Mapping[int, WatchedConversion] = field(default_factory=dict)
    removed: frozenset[int] = frozenset()
    caught_up: bool = False
    added: frozenset[int] = frozenset()  # those of ``rows`` (re)added since the last batch

    def __bool__(self) -> bool:
        return bool(self.rows or self.removed)


class ChangeReader:
    """Listens on the store's channel on a dedicated connection (outside the pool).

    :meth:`wait` blocks up to a timeout for the first notification, takes every other
    one already queued, and reads all the rows they name in one query. A lost connection
    is reopened on the next call, and what was missed is read by the change counter.
    Make it before reading the rows at start: every write after that is then notified.
    """

    def __init__(self, store: TeamStore) -> None:
        self._store = store
        self._conn: psycopg.Connection[Any] | None = None
        self.seq = 0
        self._listen()

    def catch_up(self, since: int) -> ChangeBatch:
        """What was written after change number ``since`` (before this reader listened),
        read by the counter; the next :meth:`wait` goes on from there."""
        changes = self._store.changes_since(since)
        # Its number, not the larger: after a reset of the database it is lower.
        self.seq = changes.seq
        return ChangeBatch(rows={row.id: row for row in changes.rows},
                           removed=frozenset(changes.removed), caught_up=True,
                           added=changes.added)

    def __repr__(self) -> str:
        return f"ChangeReader({self._store!r})"

    def _listen(self) -> None:
        conn = self._store.connect_listener()
        with self._store.failing("listen for changes"):
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._store.channel)))
        self._conn = conn
        # Read after LISTEN: any write committed later is notified to us.
        if not self.seq:
            self.seq = self._store.feed_seq()

    def wait(self, timeout: float) -> ChangeBatch:
        """The changes notified within ``timeout`` seconds (an empty batch if none).
        Raises :class:`TeamStoreError` when the database cannot be reached."""
        if self._conn is None or self._conn.closed:
            return self._catch_up()
        notice = Notice(seq=self.seq)
        try:
            for message in self._conn.notifies(timeout=timeout, stop_after=1):
                parse_payload(message.payload, notice)
            for message in self._conn.notifies(timeout=0):
                parse_payload(message.payload, notice)
        except psycopg.Error:
            self.close()
            return self._catch_up()
        named = notice.changed | notice.removed
        rows = self._store.get_many(named) if named else {}
        added = self._store.added_since(rows, self.seq) if rows else set()
        # Every write up to this number has been taken (they are notified in order).
        since, self.seq = self.seq, max(self.seq, notice.seq)
        if named or self.seq > since:
            self._store.remember(rows.values(), named - rows.keys(), since=since,
                                 seq=self.seq)
        return ChangeBatch(rows=rows, removed=frozenset(named - rows.keys()),
                           added=frozenset(added))

    def _catch_up(self) -> ChangeBatch:
        since = self.seq
        self._listen()
        changes = self._store.changes_since(since)
        self.seq = changes.seq  # lower than before after a reset of the database
        return ChangeBatch(rows={row.id: row for row in changes.rows},
                           removed=frozenset(changes.removed), caught_up=True,
                           added=changes.added)

    def close(self) -> None:
        """Stop listening (the connection is closed)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass(frozen=True)
class Heard:
    """What the leader's bell heard: whether another app wrote, and what followers asked
    to check now (see :func:`~tui.core.teamstore.changes.ask_payloads`)."""

    wrote: bool = False
    asked: CheckAsk = field(default_factory=CheckAsk)


class ChangeBell:
    """The leader's ear on the change feed: LISTENs on a dedicated connection and tells
    when *another* app wrote (its own writes' echoes are skipped by their numbers), so
    the poller reads the feed at once; it reads no rows itself (the poller's feed does).
    It also hears the followers' asks to check rows now (the profile's ask channel).
    """

    def __init__(self, store: TeamStore) -> None:
        self._store = store
        self._asks = ask_channel_for(store.base_url)
        self._conn: psycopg.Connection[Any] | None = None
        self._listen()

    def __repr__(self) -> str:
        return f"ChangeBell({self._store!r})"

    def _listen(self) -> None:
        conn = self._store.connect_listener()
        with self._store.failing("listen for changes"):
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._store.channel)))
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._asks)))
        self._conn = conn

    def wait(self, timeout: float) -> bool:
        """Whether another app wrote within ``timeout`` seconds (asks heard meanwhile are
        dropped: the leader uses :meth:`hear`)."""
        return self.hear(timeout).wrote

    def hear(self, timeout: float) -> Heard:
        """What came within ``timeout`` seconds: another app's write, followers' asks.
        After a lost connection it listens again at once and says "wrote" (what was
        missed is for the feed to read; an ask sent meanwhile is lost, and its follower
        checks itself).
        Raises :class:`TeamStoreError` when the database cannot be reached."""
        if self._conn is None or self._conn.closed:
            self._listen()
            return Heard(wrote=True)
        seqs: list[int] = []
        asked = CheckAsk()
        try:
            for message in self._conn.notifies(timeout=timeout, stop_after=1):
                self._take(message, seqs, asked)
            for message in self._conn.notifies(timeout=0):
                self._take(message, seqs, asked)
        except psycopg.Error:
            self.close()
            # Listening again at once, here in the bell's thread: the server gone, that
            # fails at once and the store knows it is away before the poller's feed,
            # on the event loop, would wait for a pooled connection to read what it missed.
            self._listen()
            return Heard(wrote=True, asked=asked)
        # Seq 0: a payload that is not ours to read (any client may notify the channel).
        return Heard(wrote=any(seq and not self._store.wrote(seq) for seq in seqs),
                     asked=asked)

    def _take(self, message: psycopg.Notify, seqs: list[int], asked: CheckAsk) -> None:
        if message.channel == self._asks:
            parse_ask(message.payload, asked)
        else:
            seqs.append(parse_payload(message.payload).seq)

    def close(self) -> None:
        """Stop listening (the connection is closed)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
