"""Every stored error and warning, and the SQLite FTS5 index that finds them.

Schema 5. A row keeps the first :data:`MESSAGES_KEPT` errors and the first
:data:`MESSAGES_KEPT` warnings it was sent (in its ``errors``/``warnings`` JSON and, one
row each, in ``messages``), and how many there were (``errors_total``/``warnings_total``
on the row). Messages repeat across rows (one cause, many files), so each distinct text
is stored once, in ``message_texts``, and ``messages`` points at it: the index then holds
each text once, not once a row. Schema 6 gives each text its mask (``masked_id``, see
:mod:`.grouping`), made when the text is first stored.

``message_index`` is a contentless FTS5 table (rowid = ``message_texts.id``) over each
text *case-folded by Python* (``str.casefold``), with the ``trigram`` tokenizer,
case-sensitive: a phrase query of a case-folded needle finds exactly the texts that hold
it as a substring, in any case; the same answer as ``needle.casefold() in
text.casefold()``, the in-memory ``msg:`` test. A needle shorter than three characters
has no trigram: the caller tests such needles in memory.

Unwatched rows keep their messages with them (watching again brings them back); the
messages go when the row itself does (kept aside longer than ``KEEP_UNWATCHED``), and a
text when no message points at it any more.

A Python whose SQLite lacks FTS5 or the trigram tokenizer (SQLite < 3.34) still keeps the
tables; :func:`index_ready` is then False and ``msg:`` searches in memory. A later open
with a SQLite that has it builds the index from ``message_texts``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tui.core.watchlist import grouping

__all__ = ["MESSAGES_KEPT", "NOT_INDEXED", "SHORTEST_NEEDLE", "TextMatches", "bounded", "forget",
           "fts_phrases", "index_ready", "install", "matching", "rewrite"]

_log = logging.getLogger(__name__)

#: Errors kept per row, and warnings: the first ones (the total is kept beside them).
MESSAGES_KEPT = 200
#: The trigram index finds needles of at least this many characters (case-folded).
SHORTEST_NEEDLE = 3
#: Up to this many messages found, a search answers with the IDs of their rows; above
#: it, with the texts found (reading every message that holds a common word costs more
#: than testing each row's few messages against a set in memory).
ID_ANSWER_LIMIT = 20_000

# The one SQL function the index statements use: Python's own case folding, so that the
# index and the in-memory test fold alike (SQLite's folding is simpler).
_FOLD = "tui_casefold"

_TABLES = """
CREATE TABLE IF NOT EXISTS message_texts (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE,
    masked_id INTEGER
);
CREATE TABLE IF NOT EXISTS messages (
    conversion_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('error', 'warning')),
    position INTEGER NOT NULL,
    text_id INTEGER NOT NULL,
    PRIMARY KEY (conversion_id, kind, position)
) WITHOUT ROWID
"""
# Made after a back-fill: sorting once is far quicker than a million inserts out of order.
_TEXT_USERS = "CREATE INDEX IF NOT EXISTS messages_by_text ON messages (text_id, conversion_id)"
_INDEX_TABLE = ("CREATE VIRTUAL TABLE message_index USING fts5(folded, content='', "
                "tokenize='trigram case_sensitive 1')")
#: Columns schema 5 adds to both row tables (0: as many as the row's list holds).
TOTAL_COLUMNS = tuple((table, column) for table in ("watched", "unwatched")
                      for column in ("errors_total", "warnings_total"))

_KINDS = (("error", "errors"), ("warning", "warnings"))
# The rows' stored messages, one row each (the JSON lists hold the first MESSAGES_KEPT).
_FROM_ROWS = " UNION ALL ".join(
    f"SELECT r.id AS conversion_id, '{kind}' AS kind, CAST(e.key AS INTEGER) AS position, "
    f"CAST(e.value AS TEXT) AS text "
    f"FROM {table} AS r, json_each(r.{column}) AS e WHERE e.key < {MESSAGES_KEPT}"
    for table in ("watched", "unwatched") for kind, column in _KINDS)
_IN = "IN (SELECT value FROM json_each(?))"


#: What a NUL is indexed as: FTS5 reads text as C strings and would stop at the NUL. A
#: needle holding either is searched in memory (where it answers exactly).
NUL_STAND_IN = "\uffff"
NOT_INDEXED = frozenset({"\x00", NUL_STAND_IN})


def _casefold(text: object) -> str:
    return str(text).casefold().replace("\x00", NUL_STAND_IN)


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
    grouping.register(conn)
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
    """Inside the caller's transaction: the message tables and their index (when this
    SQLite has FTS5 with trigrams), with ``back_fill`` the stored rows' messages first.
    Returns whether the index is there."""
    conn.create_function(_FOLD, 1, _casefold, deterministic=True)
    for statement in _TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)
    grouping.install(conn)
    if back_fill:
        # A total of 0 means "as many as the list holds" (WatchedConversion.error_count):
        # only rows with more than are kept get theirs, not every row rewritten.
        _truncate_long_lists(conn)
        conn.execute(f"CREATE TEMP TABLE found AS {_FROM_ROWS}")
        conn.execute("INSERT OR IGNORE INTO message_texts (text) SELECT text FROM found")
        conn.execute("INSERT INTO messages (conversion_id, kind, position, text_id) "
                     "SELECT f.conversion_id, f.kind, f.position, t.id FROM found AS f "
                     "JOIN message_texts AS t ON t.text = f.text "
                     "ORDER BY f.conversion_id, f.kind, f.position")
        conn.execute("DROP TABLE temp.found")
    conn.execute(_TEXT_USERS)
    if back_fill:
        _mend_nul_texts(conn)
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
    # In rowid order (FTS5 adds ascending rowids far quicker): without the ORDER BY,
    # SQLite reads the narrower index on the text, in the texts' order.
    conn.execute(f"INSERT INTO message_index (rowid, folded) SELECT id, {_FOLD}(text) "
                 "FROM message_texts ORDER BY id")
    return True


def _mend_nul_texts(conn: sqlite3.Connection) -> None:
    """SQLite's json_each ends a text at a NUL (``\\u0000``): the rare rows with one
    have their messages stored again from Python's reading of their JSON."""
    has_nul = "instr(errors, '\\u0000') OR instr(warnings, '\\u0000')"
    found = conn.execute(f"SELECT id, errors, warnings FROM watched WHERE {has_nul} "
                         f"UNION ALL SELECT id, errors, warnings FROM unwatched WHERE {has_nul}"
                         ).fetchall()
    rewrite(conn, [(value, bounded(json.loads(errors)), bounded(json.loads(warnings)))
                   for value, errors, warnings in found], indexed=False)


def _truncate_long_lists(conn: sqlite3.Connection) -> None:
    """Rows of an older file with more messages than kept keep the first ones and the
    total (rare)."""
    for table in ("watched", "unwatched"):
        for _, column in _KINDS:
            long_rows = conn.execute(
                f"SELECT id, {column} FROM {table} "
                f"WHERE json_array_length({column}) > {MESSAGES_KEPT}").fetchall()
            conn.executemany(
                f"UPDATE {table} SET {column} = ?, {column}_total = ? WHERE id = ?",
                [(json.dumps(list(bounded(json.loads(text))), ensure_ascii=False),
                  len(json.loads(text)), value) for value, text in long_rows])


def rewrite(conn: sqlite3.Connection,
            rows: Iterable[tuple[int, Sequence[str], Sequence[str]]], indexed: bool) -> None:
    """Inside the caller's transaction: replace the stored messages of each
    ``(conversion id, errors, warnings)`` (each list already bounded)."""
    given = list(rows)
    if not given:
        return
    ids = json.dumps([value for value, _, _ in given])
    old = [text_id for (text_id,) in conn.execute(
        f"SELECT DISTINCT text_id FROM messages WHERE conversion_id {_IN}", (ids,))]
    conn.execute(f"DELETE FROM messages WHERE conversion_id {_IN}", (ids,))
    texts = list(dict.fromkeys(text for _, errors, warnings in given
                               for text in (*errors, *warnings)))
    # Through a temporary table, in bulk (the first poll of a pasted range brings
    # thousands of new texts), and bound as parameters: JSON would cut a text at a NUL.
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS batch_texts (text TEXT NOT NULL)")
    conn.executemany("INSERT INTO temp.batch_texts (text) VALUES (?)",
                     [(text,) for text in texts])
    (newest,) = conn.execute("SELECT coalesce(max(id), 0) FROM message_texts").fetchone()
    conn.execute("INSERT OR IGNORE INTO message_texts (text) SELECT text FROM temp.batch_texts")
    grouping.fill_masks(conn, newest)  # each new text masked once, now (schema 6)
    if indexed:  # rowids go up from the largest: the new texts are those above it
        conn.execute(f"INSERT INTO message_index (rowid, folded) SELECT id, {_FOLD}(text) "
                     "FROM message_texts WHERE id > ? ORDER BY id", (newest,))
    known = dict(conn.execute("SELECT b.text, t.id FROM temp.batch_texts AS b "
                              "JOIN message_texts AS t ON t.text = b.text"))
    conn.execute("DELETE FROM temp.batch_texts")
    conn.executemany(
        "INSERT INTO messages (conversion_id, kind, position, text_id) VALUES (?, ?, ?, ?)",
        [(value, kind, position, known[text])
         for value, errors, warnings in given
         for kind, listed in (("error", errors), ("warning", warnings))
         for position, text in enumerate(listed)])
    _drop_unused(conn, old, indexed)


def _drop_unused(conn: sqlite3.Connection, text_ids: list[int], indexed: bool) -> None:
    """Drop the texts among ``text_ids`` no message points at any more."""
    if not text_ids:
        return
    unused = (f"SELECT t.id FROM message_texts AS t WHERE t.id {_IN} AND NOT EXISTS "
              "(SELECT 1 FROM messages AS m WHERE m.text_id = t.id)")
    payload = (json.dumps(text_ids),)
    gone = [text_id for (text_id,) in conn.execute(unused, payload)]
    if not gone:
        return
    gone_payload = (json.dumps(gone),)
    if indexed:
        # A contentless index forgets a text only when told its exact indexed form.
        conn.execute("INSERT INTO message_index (message_index, rowid, folded) "
                     f"SELECT 'delete', id, {_FOLD}(text) FROM message_texts WHERE id {_IN}",
                     gone_payload)
    masks = [masked_id for (masked_id,) in conn.execute(
        f"SELECT DISTINCT masked_id FROM message_texts WHERE id {_IN}", gone_payload)]
    conn.execute(f"DELETE FROM message_texts WHERE id {_IN}", gone_payload)
    grouping.drop_unused_masks(conn, masks)


def forget(conn: sqlite3.Connection, ids_query: str, params: tuple[Any, ...],
           indexed: bool) -> None:
    """Inside the caller's transaction: drop the messages of the IDs ``ids_query``
    selects (rows gone for good), and the texts only they used."""
    where = f"conversion_id IN ({ids_query})"
    old = [text_id for (text_id,) in conn.execute(
        f"SELECT DISTINCT text_id FROM messages WHERE {where}", params)]
    conn.execute(f"DELETE FROM messages WHERE {where}", params)
    _drop_unused(conn, old, indexed)


def fts_phrases(needles: Sequence[str]) -> str:
    """An FTS5 query that finds any of ``needles`` (case-folded) literally: each is one
    phrase string, its double quotes doubled, so ``*``, ``NEAR``, ``AND``/``OR``/``NOT``,
    ``^``, ``:`` and parentheses inside it are text, not syntax."""
    return " OR ".join('"' + needle.replace('"', '""') + '"' for needle in needles)


@dataclass(frozen=True, slots=True)
class TextMatches:
    """What one search found: the IDs of the rows (watched or kept aside) with a message
    that matched, or (when that is many) the matching texts themselves (``ids`` None)."""

    ids: frozenset[int] | None
    texts: frozenset[str]


def matching(conn: sqlite3.Connection, needles: Sequence[str]) -> TextMatches | None:
    """The stored messages that hold one of ``needles`` (already case-folded, each at
    least :data:`SHORTEST_NEEDLE` characters long): one FTS query over the distinct
    texts, then the rows that use them (or, past :data:`ID_ANSWER_LIMIT`, the texts).
    None when more than :data:`ID_ANSWER_LIMIT` distinct texts match: testing the rows'
    messages in memory is then quicker than reading them all from the file."""
    found = [text_id for (text_id,) in conn.execute(
        "SELECT rowid FROM message_index WHERE message_index MATCH ? LIMIT ?",
        (fts_phrases(needles), ID_ANSWER_LIMIT + 1))]
    if len(found) > ID_ANSWER_LIMIT:
        return None  # a word in most of very many distinct texts: the rows are quicker
    text_ids = json.dumps(found)
    users = f"SELECT conversion_id FROM messages WHERE text_id {_IN}"
    # Counted first, in SQLite: making Python rows of 20,000 users only to drop them
    # costs more than walking the index twice for the few.
    (count,) = conn.execute(f"SELECT count(*) FROM ({users} LIMIT ?)",
                            (text_ids, ID_ANSWER_LIMIT + 1)).fetchone()
    if count <= ID_ANSWER_LIMIT:
        return TextMatches(frozenset(value for (value,) in conn.execute(users, (text_ids,))),
                           frozenset())
    texts = frozenset(text for (text,) in conn.execute(
        f"SELECT text FROM message_texts WHERE id {_IN}", (text_ids,)))
    return TextMatches(None, texts)
