"""The team database's schema, as ordered migrations, and how a database is brought up to it.

Each migration is a numbered list of SQL statements, applied once, in order, with a row in
``schema_version`` recording it; the pending ones run in one transaction. Two apps starting at once
on a new database are fine: the migrating transaction holds an advisory lock, so the second
waits, then finds nothing left to do. A database migrated by a newer app (a version above
:data:`SCHEMA_VERSION`) is refused with one sentence: an older app must not write rows
whose meaning it does not know.

The tables mirror the SQLite watchlist (``tui/core/watchlist/schema.py``, schema 4), each
row scoped by ``profile`` (the profile's base URL), plus who did what: the ``*_by``
columns and the ``audit`` table name the person (profile e-mail or OS user). Unread marks
are each person's, not the team's (schema 3, ``read_marks``): "changed since *you* last
looked".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from tui.core.teamstore.errors import TeamStoreError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate", "schema_version"]

# The columns of a stored row after (profile, id), as in the SQLite watchlist; times are
# unix seconds (double precision), as there, so rows decode the same way. As migration 1
# made them: later steps change them (read_at is shared_read_at since 3).
_ROW_COLUMNS = """
    file_name text,
    data_source_type text,
    status text,
    upload_date text,
    warnings text NOT NULL DEFAULT '[]',
    errors text NOT NULL DEFAULT '[]',
    metadata text NOT NULL DEFAULT '{}',
    first_seen double precision NOT NULL,
    last_checked double precision,
    last_changed double precision,
    note text,
    last_problem text,
    problem_count integer NOT NULL DEFAULT 0,
    delete_requested_at double precision,
    deleted_at double precision,
    not_found boolean NOT NULL DEFAULT false,
    raw text,
    last_problem_at double precision,
    acknowledged_at double precision,
    snoozed_until double precision,
    read_at double precision,
    added_by text,
    note_by text,
    note_at double precision,
    acknowledged_by text,
    delete_requested_by text,
"""

MIGRATIONS: Sequence[Sequence[str]] = (
    # 1: the watched rows, rows set aside, status history, audit, the change counter.
    (
        "CREATE SEQUENCE change_seq",
        "CREATE TABLE watched (profile text NOT NULL, id bigint NOT NULL," + _ROW_COLUMNS
        + " changed_seq bigint NOT NULL DEFAULT 0, added_seq bigint NOT NULL DEFAULT 0,"
        " PRIMARY KEY (profile, id))",
        "CREATE INDEX watched_by_change ON watched (profile, changed_seq)",
        "CREATE TABLE unwatched (profile text NOT NULL, id bigint NOT NULL," + _ROW_COLUMNS
        + " unwatched_at double precision NOT NULL, unwatched_by text,"
        " removed_seq bigint NOT NULL DEFAULT 0, PRIMARY KEY (profile, id))",
        "CREATE INDEX unwatched_by_removal ON unwatched (profile, removed_seq)",
        "CREATE TABLE status_history (seq bigserial PRIMARY KEY, profile text NOT NULL,"
        " id bigint NOT NULL, status text NOT NULL, seen_at double precision NOT NULL)",
        "CREATE INDEX status_history_by_id ON status_history (profile, id, seen_at)",
        "CREATE INDEX status_history_by_time ON status_history (profile, seen_at)",
        "CREATE TABLE audit (seq bigserial PRIMARY KEY, profile text NOT NULL,"
        " at double precision NOT NULL, person text, action text NOT NULL,"
        " ids text NOT NULL, outcome text NOT NULL, detail text)",
        "CREATE INDEX audit_by_time ON audit (profile, at)",
    ),
    # 2: how many errors and warnings the server sent (a row keeps the first ones).
    (
        "ALTER TABLE watched ADD COLUMN errors_total integer NOT NULL DEFAULT 0,"
        " ADD COLUMN warnings_total integer NOT NULL DEFAULT 0",
        "ALTER TABLE unwatched ADD COLUMN errors_total integer NOT NULL DEFAULT 0,"
        " ADD COLUMN warnings_total integer NOT NULL DEFAULT 0",
    ),
    # 3: read marks are each person's: one person scrolling must not read the rows for
    # the whole team. The shared read_at of before is kept as shared_read_at, never
    # written again: the last look of anyone before the upgrade (nobody can tell whose),
    # everyone's starting point, so the upgrade lights up no old change (as schema 4 of
    # the SQLite watchlist). A row's read_at is then the later of it and the person's mark.
    (
        "CREATE TABLE read_marks (profile text NOT NULL, person text NOT NULL,"
        " id bigint NOT NULL, read_at double precision NOT NULL,"
        " PRIMARY KEY (profile, person, id))",
        "ALTER TABLE watched RENAME COLUMN read_at TO shared_read_at",
        "ALTER TABLE unwatched RENAME COLUMN read_at TO shared_read_at",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
"""The schema this app writes: the number of the last migration."""

_VERSION_TABLE = ("CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY,"
                  " applied_at timestamptz NOT NULL DEFAULT now(), app text)")
# Serialises migrations between apps (a constant key of our own, in this database).
_MIGRATION_LOCK = 0x636F6E765F6D6967  # "conv_mig"


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The database's schema version (0: a database the app never set up)."""
    exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def newer_schema_message(version: int) -> str:
    """The sentence for a database set up by a newer app."""
    return (f"The team database has schema {version}, newer than this app's "
            f"{SCHEMA_VERSION}: upgrade conversions-tui to use it.")


def migrate(conn: psycopg.Connection[Any], app: str = "conversions-tui", *,
            target: int = SCHEMA_VERSION) -> list[int]:
    """Bring the database up to ``target`` (:data:`SCHEMA_VERSION`; an older one lets a
    test make the database an older app left); the versions applied (none when it was
    current). ``conn`` must not be in a transaction. Raises :class:`TeamStoreError` for a
    newer schema."""
    applied: list[int] = []
    # A current database needs no DDL (not even CREATE ... IF NOT EXISTS, which asks for the
    # right to create): a role that may only read and write rows (team init --grant) opens it.
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise TeamStoreError(newer_schema_message(current))
    if current == SCHEMA_VERSION:
        return applied
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(_VERSION_TABLE)
        current = schema_version(conn)
        if current > SCHEMA_VERSION:
            raise TeamStoreError(newer_schema_message(current))
        # One transaction for all (PostgreSQL's DDL is transactional): a failing step
        # leaves the database as it was, never half migrated.
        for number, steps in enumerate(MIGRATIONS[current:target], start=current + 1):
            for statement in steps:
                conn.execute(statement.encode())
            conn.execute("INSERT INTO schema_version (version, app) VALUES (%s, %s)",
                         (number, app))
            applied.append(number)
    return applied
