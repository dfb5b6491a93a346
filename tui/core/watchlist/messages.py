"""Every stored error and warning, one row each, and the SQLite FTS5 index that finds them.

Schema 5. A row keeps the first :data:`MESSAGES_KEPT` errors and the first
:data:`MESSAGES_KEPT` warnings it was sent (in its ``errors``/``warnings`` JSON and here,
one ``messages`` row each), and how many there were (``errors_total``/``warnings_total``
on the row). ``message_index`` is a contentless FTS5 table (rowid = ``messages.id``) over
each message's text *case-folded by Python* (``str.casefold``), with the ``trigram``
tokenizer, case-sensitive: a phrase query of a case-folded needle then finds exactly the
messages that hold the needle as a substring, in any case, the same answer as
``needle.casefold() in text.casefold()`` (what the in-memory ``msg:`` test does). A needle
shorter than three characters has no trigram: the caller tests such needles in memory.

Unwatched rows keep their messages with them (watching again brings them back); the
messages go when the row itself does (kept aside longer than ``KEEP_UNWATCHED``).

A Python whose SQLite lacks FTS5 or the trigram tokenizer (SQLite < 3.34) still keeps the
``messages`` table; :func:`index_ready` is then False and ``msg:`` searches in memory.
A later open with a SQLite that has it builds the index from ``messages``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["MESSAGES_KEPT", "SHORTEST_NEEDLE", "bounded", "fts_phrases", "index_ready",
           "install", "matching_ids", "rewrite"]

_log = logging.getLogger(__name__)

#: Errors kept per row, and warnings: the first ones (the total is kept beside them).
MESSAGES_KEPT = 200
#: The trigram index finds needles of at least this many characters (case-folded).
SHORTEST_NEEDLE = 3

# The one SQL function the index statements use: Python's own case folding, so that the
# index and the in-memory test fold alike (SQLite's folding is ASCII-only or simpler).
_FOLD = "tui_casefold"

MESSAGES_TABLE = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    conversion_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('error', 'warning')),
    position INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversion ON messages (conversion_id);
"""
_INDEX_TABLE = ("CREATE VIRTUAL TABLE message_index USING fts5(folded, content='', "
                "tokenize='trigram case_sensitive 1')")
#: Columns schema 5 adds to both row tables (0 on old rows until back-filled).
TOTAL_COLUMNS = tuple((table, column) for table in ("watched", "unwatched")
                      for column in ("errors_total", "warnings_total"))

_KINDS = (("error", "errors"), ("warning", "warnings"))
# The rows' stored messages, one row each (the JSON lists hold the first MESSAGES_KEPT).
_FROM_ROWS = " UNION ALL ".join(
    f"SELECT r.id, '{kind}', CAST(e.key AS INTEGER), CAST(e.value AS TEXT) "
    f"FROM {table} AS r, json_each(r.{column}) AS e WHERE e.key < {MESSAGES_KEPT}"
    for table in ("watched", "unwatched") for kind, column in _KINDS)
_IN_IDS = "conversion_id IN (SELECT value FROM json_each(?))"
_UNINDEX = (f"INSERT INTO message_index (message_index, rowid, folded) "
            f"SELECT 'delete', id, {_FOLD}(text) FROM messages WHERE {_IN_IDS}")
_INDEX = (f"INSERT INTO message_index (rowid, folded) "
          f"SELECT id, {_FOLD}(text) FROM messages WHERE {_IN_IDS}")


def _casefold(text: object) -> str:
    return str(text).casefold()


def bounded(messages: Iterable[Any]) -> tuple[str, ...]:
    """The first :data:`MESSAGES_KEPT` of ``messages``, as text (what a row keeps)."""
    kept: list[str] = []
    for item in messages:
        if len(kept) >= MESSAGES_KEPT:
            break
        kept.append(str(item))
    return tuple(kept)


def _has_index(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'message_index'"
                        ).fetchone() is not None


_said_unavailable = False


def _say_unavailable(error: sqlite3.Error) -> None:
    global _said_unavailable
    if not _said_unavailable:
        _said_unavailable = True
        _log.warning("SQLite %s here has no FTS5 trigram index (%s): msg: searches the "
                     "messages in memory", sqlite3.sqlite_version, error)


def index_ready(conn: sqlite3.Connection) -> bool:
    """Register the folding function on ``conn``; True when the file's index is there.
    An index missing from a schema 5 file (made where FTS5 was lacking) is built now,
    when this SQLite can (one transaction); opening a file that has it writes nothing."""
    conn.create_function(_FOLD, 1, _casefold, deterministic=True)
    if _has_index(conn):
        return True
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return False  # read-only or busy: search in memory this time
    try:
        built = install(conn, back_fill=False)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return built


def install(conn: sqlite3.Connection, *, back_fill: bool) -> bool:
    """Inside the caller's transaction: the messages table and its index (when this
    SQLite has FTS5 with trigrams), with ``back_fill`` the stored rows' messages first.
    Returns whether the index is there."""
    conn.create_function(_FOLD, 1, _casefold, deterministic=True)
    for statement in MESSAGES_TABLE.split(";"):
        if statement.strip():
            conn.execute(statement)
    if back_fill:
        for table, column in TOTAL_COLUMNS:
            conn.execute(f"UPDATE {table} SET {column} = "
                         f"json_array_length({column.removesuffix('_total')})")
        _truncate_long_lists(conn)
        conn.execute("INSERT INTO messages (conversion_id, kind, position, text) " + _FROM_ROWS)
    if _has_index(conn):
        return True
    try:
        conn.execute("SAVEPOINT message_index")
        conn.execute(_INDEX_TABLE)
    except sqlite3.OperationalError as error:  # no fts5, or no trigram tokenizer
        conn.execute("ROLLBACK TO message_index")
        conn.execute("RELEASE message_index")
        _say_unavailable(error)
        return False
    conn.execute("RELEASE message_index")
    conn.execute(f"INSERT INTO message_index (rowid, folded) SELECT id, {_FOLD}(text) "
                 "FROM messages")
    return True


def _truncate_long_lists(conn: sqlite3.Connection) -> None:
    """Rows of an older file with more messages than kept keep the first ones (rare)."""
    for table in ("watched", "unwatched"):
        for _, column in _KINDS:
            long_rows = conn.execute(
                f"SELECT id, {column} FROM {table} "
                f"WHERE json_array_length({column}) > {MESSAGES_KEPT}").fetchall()
            conn.executemany(
                f"UPDATE {table} SET {column} = ? WHERE id = ?",
                [(json.dumps(list(bounded(json.loads(text))), ensure_ascii=False), value)
                 for value, text in long_rows])


def rewrite(conn: sqlite3.Connection, rows: Iterable[tuple[int, Sequence[str],
                                                            Sequence[str]]],
            indexed: bool) -> None:
    """Inside the caller's transaction: replace the stored messages of each
    ``(conversion id, errors, warnings)`` (each list already bounded)."""
    given = list(rows)
    if not given:
        return
    ids = json.dumps([value for value, _, _ in given])
    if indexed:
        # A contentless index forgets a row only when told its exact indexed text.
        conn.execute(_UNINDEX, (ids,))
    conn.execute(f"DELETE FROM messages WHERE {_IN_IDS}", (ids,))
    conn.executemany(
        "INSERT INTO messages (conversion_id, kind, position, text) VALUES (?, ?, ?, ?)",
        [(value, kind, position, text)
         for value, errors, warnings in given
         for kind, texts in (("error", errors), ("warning", warnings))
         for position, text in enumerate(texts)])
    if indexed:
        conn.execute(_INDEX, (ids,))


def forget(conn: sqlite3.Connection, ids_query: str, params: tuple[Any, ...],
           indexed: bool) -> None:
    """Inside the caller's transaction: drop the messages of the IDs ``ids_query``
    selects (rows gone for good)."""
    where = f"conversion_id IN ({ids_query})"
    if indexed:
        conn.execute("INSERT INTO message_index (message_index, rowid, folded) "
                     f"SELECT 'delete', id, {_FOLD}(text) FROM messages WHERE {where}",
                     params)
    conn.execute(f"DELETE FROM messages WHERE {where}", params)


def fts_phrases(needles: Sequence[str]) -> str:
    """An FTS5 query that finds any of ``needles`` (case-folded) literally: each is one
    phrase string, its double quotes doubled, so ``*``, ``NEAR``, ``AND``/``OR``/``NOT``,
    ``^``, ``:`` and parentheses inside it are text, not syntax."""
    return " OR ".join('"' + needle.replace('"', '""') + '"' for needle in needles)


def matching_ids(conn: sqlite3.Connection, needles: Sequence[str]) -> set[int]:
    """IDs (watched or kept aside) with a stored message that holds one of ``needles``
    (already case-folded, each at least :data:`SHORTEST_NEEDLE` characters long): one
    FTS query."""
    query = ("SELECT DISTINCT m.conversion_id FROM message_index "
             "JOIN messages AS m ON m.id = message_index.rowid "
             "WHERE message_index MATCH ?")
    return {value for (value,) in conn.execute(query, (fts_phrases(needles),))}
