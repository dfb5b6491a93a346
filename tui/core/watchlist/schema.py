"""The watchlist file's schema, how older files are brought up to date, and the SQL the
store runs. Statements name every column they read, so rows are decoded by name.

Schema 2 added the ``unwatched`` table (rows set aside, kept for watching them again);
schema 3 the change feed: a counter (table ``feed``) and the numbers stamped on rows
(``changed_seq``, ``added_seq``, ``removed_seq``); schema 4 the user's attention marks
(``acknowledged_at``, ``snoozed_until``, ``read_at``); schema 5 every error and warning
stored one a row, bounded, with an FTS5 index, and each row's totals (``errors_total``,
``warnings_total``; see :mod:`.messages`); schema 6 each stored text masked once
(``message_texts.masked_id``, ``masked_texts``) and the Problems view's groups kept in
``problems`` (see :mod:`.grouping`). A file of an older schema gains what it lacks,
empty or zero (``read_at``: the time of the upgrade: every row seen), the first time it
is opened (schema 5's messages back-filled from the rows' JSON lists, in the same
transaction; schema 6's masks and groups made from the stored texts and rows); opening a
current file writes nothing.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from tui.core.watchlist import grouping, messages

__all__ = ["SCHEMA_VERSION", "WatchlistError", "prepare"]

SCHEMA_VERSION = 6


class WatchlistError(Exception):
    """The watchlist file cannot be used (not a database, or from a newer version)."""


# The columns a watched row stores: the fields of WatchedConversion, less the one
# computed when read (entered_seen).
STORED = ("id, file_name, data_source_type, status, upload_date, warnings, errors, metadata, "
          "first_seen, last_checked, last_changed, note, last_problem, problem_count, "
          "delete_requested_at, deleted_at, not_found, raw, last_problem_at, acknowledged_at, "
          "snoozed_until, read_at, errors_total, warnings_total")

# The stored row's columns after its id, the same in both tables (in STORED's order).
_ROW_COLUMNS = """
    file_name TEXT,
    data_source_type TEXT,
    status TEXT,
    upload_date TEXT,
    warnings TEXT NOT NULL DEFAULT '[]',
    errors TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}',
    first_seen REAL NOT NULL,
    last_checked REAL,
    last_changed REAL,
    note TEXT,
    last_problem TEXT,
    problem_count INTEGER NOT NULL DEFAULT 0,
    delete_requested_at REAL,
    deleted_at REAL,
    not_found INTEGER NOT NULL DEFAULT 0,
    raw TEXT,
    last_problem_at REAL,
    acknowledged_at REAL,
    snoozed_until REAL,
    read_at REAL,
    errors_total INTEGER NOT NULL DEFAULT 0,
    warnings_total INTEGER NOT NULL DEFAULT 0,
"""
# Schema 2: rows unwatched, kept as they were (their history stays in status_history) so
# that watching the ID again brings the note and the history back.
_UNWATCHED_SCHEMA = """
CREATE TABLE IF NOT EXISTS unwatched (
    id INTEGER PRIMARY KEY,""" + _ROW_COLUMNS + """    unwatched_at REAL NOT NULL,
    removed_seq INTEGER NOT NULL DEFAULT 0
);
"""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS watched (
    id INTEGER PRIMARY KEY,""" + _ROW_COLUMNS + """    changed_seq INTEGER NOT NULL DEFAULT 0,
    added_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS status_history (
    id INTEGER NOT NULL,
    status TEXT NOT NULL,
    seen_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS status_history_by_id ON status_history (id, seen_at);
CREATE INDEX IF NOT EXISTS status_history_by_time ON status_history (seen_at);
""" + _UNWATCHED_SCHEMA

# Schema 3: the change feed. Columns an older file lacks, added by ALTER TABLE (zero: older
# than any number the counter hands out), then the counter and the indexes.
_FEED_COLUMNS = (("watched", "changed_seq"), ("watched", "added_seq"),
                 ("unwatched", "removed_seq"))
_ZERO = "INTEGER NOT NULL DEFAULT 0"
# Schema 4: the user's attention marks on a row, in both tables (NULL: none).
_ATTENTION_COLUMNS = tuple((table, column) for table in ("watched", "unwatched")
                           for column in ("acknowledged_at", "snoozed_until", "read_at"))
_FEED_SCHEMA = """
CREATE TABLE IF NOT EXISTS feed (seq INTEGER NOT NULL);
INSERT INTO feed (seq) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM feed);
CREATE INDEX IF NOT EXISTS watched_by_change ON watched (changed_seq);
CREATE INDEX IF NOT EXISTS unwatched_by_removal ON unwatched (removed_seq);
"""

# Every field of a WatchedConversion, by name.
COLUMNS = (STORED + ", "
           # Whether the row was seen entering its status: another status is on record
           # (history gets a row on each change, the first answer's included, and the
           # first answer says what the status is, not since when). Times are not
           # compared: two answers may share one, and the wall clock can step back.
           "EXISTS (SELECT 1 FROM status_history AS h "
           "WHERE h.id = watched.id AND h.status <> watched.status) AS entered_seen")

# Everything a poll result can change is rewritten from the new state, one statement for
# the batch; the note and the delete request belong to the user and are left alone.
UPDATE_RESULT = """
UPDATE watched SET file_name = :file_name, data_source_type = :data_source_type,
    status = :status, upload_date = :upload_date, warnings = :warnings, errors = :errors,
    metadata = :metadata, last_checked = :last_checked, last_changed = :last_changed,
    last_problem = :last_problem, problem_count = :problem_count, deleted_at = :deleted_at,
    not_found = :not_found, raw = coalesce(:raw, raw), last_problem_at = :last_problem_at,
    errors_total = :errors_total, warnings_total = :warnings_total, changed_seq = :changed_seq
WHERE id = :id
"""
# Files made before the per-minute activity view lack this index; it is added on first use.
TIME_INDEX = "CREATE INDEX IF NOT EXISTS status_history_by_time ON status_history (seen_at)"
# The previous status is one seek per change on (id, seen_at); rowid breaks ties of time.
_CHANGES_IN_WINDOW = """
SELECT h.id AS id,
       (SELECT p.status FROM status_history AS p
        WHERE p.id = h.id AND (p.seen_at, p.rowid) < (h.seen_at, h.rowid)
        ORDER BY p.seen_at DESC, p.rowid DESC LIMIT 1) AS previous,
       h.status AS current, h.seen_at AS at, h.rowid AS seq
FROM status_history AS h
WHERE h.seen_at >= ? AND h.seen_at < ? AND h.id IN (SELECT id FROM watched)
"""
CHANGES_BETWEEN = (f"SELECT id, previous, current, at FROM ({_CHANGES_IN_WINDOW}) "
                   "ORDER BY at, seq")
# Only changes from one status to another: a first answer after adding (no previous
# status) is left in SQLite, not made into an object (a paste of 100,000 IDs makes
# 100,000 of those within the hour).
TRANSITIONS_BETWEEN = (f"SELECT id, previous, current, at FROM ({_CHANGES_IN_WINDOW}) "
                       "WHERE previous IS NOT NULL ORDER BY at, seq")
# Rows read in bulk leave the raw envelope in the file (read when asked: StoredConversion).
LAZY_COLUMNS = COLUMNS.replace(", raw,", ", NULL AS raw,")
IN_IDS = "id IN (SELECT value FROM json_each(?))"
SELECT_ALL = f"SELECT {LAZY_COLUMNS} FROM watched ORDER BY id"
SELECT_ONE = f"SELECT {COLUMNS} FROM watched WHERE id = ?"
SELECT_IDS = f"SELECT {LAZY_COLUMNS} FROM watched WHERE {IN_IDS}"
# The raw envelope of a row, watched or set aside.
SELECT_RAW = ("SELECT raw FROM watched WHERE id = :id "
              "UNION ALL SELECT raw FROM unwatched WHERE id = :id LIMIT 1")
# Unwatching moves rows aside; watching again moves them back (the history never moves).
SET_ASIDE = (f"INSERT OR REPLACE INTO unwatched ({STORED}, unwatched_at) "
             f"SELECT {STORED}, ? FROM watched WHERE {IN_IDS}")
BRING_BACK = (f"INSERT INTO watched ({STORED}, changed_seq, added_seq) "
              f"SELECT {STORED}, ?, ? FROM unwatched WHERE {IN_IDS}")
# The feed: rows written after a number (with whether they were (re)added after it too),
# and IDs set aside after it.
CHANGED_SINCE = (f"SELECT {LAZY_COLUMNS}, added_seq > ? AS added FROM watched "
                 "WHERE changed_seq > ?")
REMOVED_SINCE = "SELECT id FROM unwatched WHERE removed_seq > ?"


def prepare(conn: sqlite3.Connection, path: Path) -> bool:
    """Check the file's schema, set WAL, and bring an older file up to date (in one
    transaction). Raises WatchlistError for a file made by a newer version. Returns
    whether the message index is there (see :mod:`.messages`)."""
    if os.name == "posix":
        try:
            os.chmod(path, 0o600)  # the -wal and -shm files take the same mode
        except OSError:
            pass
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise WatchlistError(f"{path}: made by a newer version of conversions-tui "
                             f"(schema {version}); upgrade to open it")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    if version == SCHEMA_VERSION:
        # Opening must not write (that would void other windows' snapshots); only a file
        # made where FTS5 was lacking gets its index now.
        return messages.index_ready(conn)
    # One transaction: two processes opening a new file at once are fine (the second
    # waits, then finds the columns there). Every CREATE is "IF NOT EXISTS", so the same
    # statements bring a schema 1 or 2 file up to date without touching its rows.
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        added = [(table, column, _ZERO) for table, column in _FEED_COLUMNS]
        added += [(table, column, "REAL") for table, column in _ATTENTION_COLUMNS]
        added += [(table, column, _ZERO) for table, column in messages.TOTAL_COLUMNS]
        for table, column, kind in added:
            present = {name for (name,) in conn.execute(
                "SELECT name FROM pragma_table_info(?)", (table,))}
            if column not in present:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                if column == "read_at":
                    # What a file held before unread marks existed has been seen: its
                    # settled rows must not all light up as unread (tui/core/unread.py).
                    conn.execute(f"UPDATE {table} SET read_at = ?", (time.time(),))
        for statement in _FEED_SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        # A file made before schema 5 has its rows' messages back-filled; a new one none.
        indexed = messages.install(conn, back_fill=version < 5)
        # A file made before schema 6 has every text masked and its groups made now.
        grouping.back_fill(conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return indexed
