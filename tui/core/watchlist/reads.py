"""Reads that go past the rows themselves: the change feed another process follows, and
the status history (changes in a window of time). Each takes the store's connection, with
the store's lock held by the caller."""

from __future__ import annotations

import sqlite3
from itertools import starmap

from tui.core.watchlist import schema as sql
from tui.core.watchlist.decoding import RowDecoder
from tui.core.watchlist.rows import (
    RawSource,
    StatusChange,
    WatchedConversion,
    WatchlistChanges,
)

__all__ = ["data_version", "read_feed", "status_changes"]

_CHANGE_FIELDS = tuple(StatusChange.__dataclass_fields__)


def data_version(conn: sqlite3.Connection) -> int:
    """SQLite's ``data_version``: it changes only when *another* connection commits."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def read_feed(conn: sqlite3.Connection, seq: int | None,
              source: RawSource) -> tuple[WatchlistChanges, int]:
    """The feed's counter (and with ``seq``, what was written after it), read in one
    snapshot of the file; with the ``data_version`` of that snapshot."""
    conn.execute("BEGIN")
    try:
        (now,) = conn.execute("SELECT seq FROM feed").fetchone()
        version = data_version(conn)  # of this snapshot: the read has begun
        if seq is None or seq >= now:
            return WatchlistChanges(now), version
        rows: list[WatchedConversion] = []
        added: set[int] = set()
        cursor = conn.execute(sql.CHANGED_SINCE, (seq, seq))
        flag = RowDecoder.column(cursor, "added")
        for item, row in RowDecoder(source).decode(cursor):
            rows.append(item)
            if row[flag]:
                added.add(item.id)
        removed = tuple(value for (value,) in conn.execute(sql.REMOVED_SINCE, (seq,)))
        return WatchlistChanges(now, tuple(rows), frozenset(added), removed), version
    finally:
        conn.execute("COMMIT")


def status_changes(conn: sqlite3.Connection, query: str, start: float,
                   end: float) -> list[StatusChange]:
    """The status changes ``query`` (CHANGES_BETWEEN or TRANSITIONS_BETWEEN) finds with
    ``start <= at < end``, oldest first."""
    cursor = conn.execute(query, (start, end))
    # The query names its columns after StatusChange's fields, in their order.
    names = tuple(column[0] for column in cursor.description)
    if names != _CHANGE_FIELDS:
        raise AssertionError(f"the query selects {names}")
    return list(starmap(StatusChange, cursor))
