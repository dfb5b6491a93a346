"""Failures grouped by cause, kept in the file: each text masked once, when it is stored.

Schema 6. The Problems view groups the watched rows' errors and warnings by their text
with the variable parts masked (:func:`mask_message`: numbers, quoted values). Masking
every message of 100,000 rows at each start took seconds; so each distinct text is masked
once, when it is first stored: ``masked_texts`` holds each distinct masked text once and
``message_texts.masked_id`` points at it. ``problems`` holds, for every watched row that
counts (:func:`in_problems`: not deleted, not gone from the server), one entry per
distinct (kind, masked text) of its stored messages: the groups are then one ``GROUP BY``
over an index (:data:`GROUP_COUNTS`), and a group's rows one range of it.

The store keeps ``problems`` in step: :func:`refresh_problems` for the rows a write
changed (their messages, their status, watched or not), in the write's transaction.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.core.watchlist.rows import WatchedConversion

__all__ = ["GROUP_COUNTS", "GROUP_MEMBERS", "StoredGroups", "back_fill", "drop_unused_masks",
           "fill_masks", "in_problems", "install", "mask_message", "refresh_problems",
           "register"]

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|‘[^’]*’|“[^”]*”")
# A number standing on its own (not part of a word such as "UTF-8", "ISO8601" or "row_2"):
# plain, decimal, dates and times ("2026-12-06", "12:30"), and hex bytes ("0xc3"). The
# look-ahead for a digit comes first: the other tests then run only where a digit is, which
# makes masking a million messages twice as fast (benchmarks/bench_problems.py).
_NUMBER = re.compile(r"(?=\d)\b(?<![^\W\d_]-)(?:0[xX][0-9a-fA-F]+|\d+(?:[.,:/-]\d+)*)")
_SPACES = re.compile(r"\s+")
_UNEVEN_SPACE = re.compile(r"\s\s|[^\S ]")  # anything the space rule would change
_QUOTES = ("'", '"', "‘", "“")


# Remembered for the last texts masked: a poll's new texts are masked by the store as it
# writes them, then again by the view following the rows (benchmarks/bench_problems.py).
@functools.lru_cache(maxsize=1 << 14)
def mask_message(message: str) -> str:
    """``message`` with its variable parts masked, for grouping and for showing.

    Quoted values become ``'…'``, numbers ``N``; runs of white space one space. Never
    raises; the rest of the text is left exactly as it came.
    """
    masked = message
    # Each pass only where it can change something: most messages have no quotes and
    # single spaces.
    if any(quote in masked for quote in _QUOTES):
        masked = _QUOTED.sub("'…'", masked)
    masked = _NUMBER.sub("N", masked)
    if _UNEVEN_SPACE.search(masked):
        masked = _SPACES.sub(" ", masked)
    return masked.strip()


def _mask(text: object) -> str:
    return mask_message(str(text))


#: The SQL function the statements here call: :func:`mask_message` itself.
_MASK = "tui_mask"
DELETED = "Deleted"  # rows.DELETED_STATUS (rows imports this package's messages module)

#: A watched row counts for the groups (the same test as :func:`in_problems`).
_COUNTS = f"w.deleted_at IS NULL AND w.status IS NOT '{DELETED}' AND w.not_found = 0"


def in_problems(row: WatchedConversion) -> bool:
    """Whether ``row`` is in the groups: it has errors or warnings and is still on the
    server (not deleted, not unknown to it): nothing else is left to triage."""
    return (row.deleted_at is None and row.status != DELETED and not row.not_found
            and bool(row.errors or row.warnings))


_TABLES = """
CREATE TABLE IF NOT EXISTS masked_texts (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS problems (
    kind TEXT NOT NULL,
    masked_id INTEGER NOT NULL,
    conversion_id INTEGER NOT NULL,
    PRIMARY KEY (kind, masked_id, conversion_id)
) WITHOUT ROWID
"""
_BY_ROW = "CREATE INDEX IF NOT EXISTS problems_by_row ON problems (conversion_id)"
# Which texts have a mask: a mask no text has any more is dropped (drop_unused_masks).
_BY_MASK = "CREATE INDEX IF NOT EXISTS message_texts_by_mask ON message_texts (masked_id)"
_IN = "IN (SELECT value FROM json_each(?))"

#: Every group: (kind, masked text, how many watched rows), counted over the index.
GROUP_COUNTS = ("SELECT g.kind, k.text, g.count FROM (SELECT kind, masked_id, "
                "count(*) AS count FROM problems GROUP BY kind, masked_id) AS g "
                "JOIN masked_texts AS k ON k.id = g.masked_id")
#: The watched rows of one group, by (kind, masked text).
GROUP_MEMBERS = ("SELECT p.conversion_id FROM masked_texts AS k JOIN problems AS p "
                 "ON p.kind = ? AND p.masked_id = k.id WHERE k.text = ?")


def register(conn: sqlite3.Connection) -> None:
    """Make :func:`mask_message` callable from ``conn``'s SQL (each connection once)."""
    conn.create_function(_MASK, 1, _mask, deterministic=True)


def install(conn: sqlite3.Connection) -> None:
    """Inside the caller's transaction: the tables, and ``message_texts.masked_id`` in a
    file made before schema 6 (filled by :func:`fill_masks`)."""
    register(conn)
    present = {name for (name,) in conn.execute(
        "SELECT name FROM pragma_table_info('message_texts')")}
    if "masked_id" not in present:
        conn.execute("ALTER TABLE message_texts ADD COLUMN masked_id INTEGER")
    for statement in _TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(_BY_ROW)
    conn.execute(_BY_MASK)


def fill_masks(conn: sqlite3.Connection, after: int = 0) -> None:
    """Inside the caller's transaction: mask each text with an id above ``after`` that
    has no mask yet (the texts a write just stored, or all of them in a migration),
    each text once."""
    # Through a temporary table: each text is masked once (a correlated UPDATE calling
    # the function would run it twice a text).
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS batch_masks "
                 "(id INTEGER PRIMARY KEY, masked TEXT NOT NULL)")
    conn.execute(f"INSERT INTO temp.batch_masks (id, masked) SELECT id, {_MASK}(text) "
                 "FROM message_texts WHERE id > ? AND masked_id IS NULL ORDER BY id", (after,))
    conn.execute("INSERT OR IGNORE INTO masked_texts (text) SELECT masked FROM temp.batch_masks")
    conn.execute("UPDATE message_texts SET masked_id = (SELECT k.id FROM temp.batch_masks AS b "
                 "JOIN masked_texts AS k ON k.text = b.masked WHERE b.id = message_texts.id) "
                 "WHERE id IN (SELECT id FROM temp.batch_masks)")
    conn.execute("DELETE FROM temp.batch_masks")


def back_fill(conn: sqlite3.Connection) -> None:
    """Inside the caller's transaction (a file made before schema 6): mask every text
    that has no mask, and make every row's groups."""
    conn.execute("DROP INDEX IF EXISTS message_texts_by_mask")  # made once, after
    fill_masks(conn)
    conn.execute(_BY_MASK)
    refresh_problems(conn, None)


def drop_unused_masks(conn: sqlite3.Connection, masked_ids: list[int | None]) -> None:
    """Inside the caller's transaction: drop the masks among ``masked_ids`` no stored
    text has any more (called once texts are dropped)."""
    if masked_ids:
        conn.execute(f"DELETE FROM masked_texts WHERE id {_IN} AND NOT EXISTS "
                     "(SELECT 1 FROM message_texts AS t WHERE t.masked_id = masked_texts.id)",
                     (json.dumps([value for value in masked_ids if value is not None]),))


def _insert_problems(where: str) -> str:
    return ("INSERT OR IGNORE INTO problems (kind, masked_id, conversion_id) "
            "SELECT m.kind, t.masked_id, m.conversion_id FROM watched AS w "
            "JOIN messages AS m ON m.conversion_id = w.id "
            f"JOIN message_texts AS t ON t.id = m.text_id WHERE {_COUNTS}{where}")


def refresh_problems(conn: sqlite3.Connection, ids: str | None) -> None:
    """Inside the caller's transaction: the group entries of the rows ``ids`` (a JSON
    list) made again from what is stored now (none for a row unwatched, deleted, or
    without messages); ``ids`` None: of every row (a migration)."""
    if ids is None:
        # In the primary key's order, the other index made after: sorting once is far
        # quicker than a million inserts out of order.
        conn.execute("DROP INDEX IF EXISTS problems_by_row")
        conn.execute("DELETE FROM problems")
        conn.execute(_insert_problems("") + " ORDER BY m.kind, t.masked_id, m.conversion_id")
        conn.execute(_BY_ROW)
        return
    conn.execute(f"DELETE FROM problems WHERE conversion_id {_IN}", (ids,))
    conn.execute(_insert_problems(f" AND w.id {_IN}"), (ids,))


@dataclass(frozen=True, slots=True)
class StoredGroups:
    """The groups as the file holds them, read in one snapshot with the rows they count
    (:meth:`tui.core.watchlist.Watchlist.stored_groups`).

    ``counts``: (kind, masked text, how many rows) of every group; ``rows``: every watched
    row as it was then (shared snapshot items: read them only); ``members(kind, text)``:
    the IDs of one group, asked of the file when called (rows changed since the snapshot
    may show their newer groups).
    """

    counts: list[tuple[str, str, int]]
    rows: Mapping[int, WatchedConversion]
    members: Callable[[str, str], frozenset[int]]
