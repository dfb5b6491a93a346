"""What ``conversions-tui team status | init | migrate`` report, read from the database.

Kept in core so the CLI only formats: the schema version, the monitors connected (each
holds one poll-lock connection named ``conversions-tui leader <person@host>``; its other
connections are named ``conversions-tui <person>``, see ``pg_stat_activity``), and per
profile (base URL) the rows watched and who polls it (from the advisory lock).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from tui.core.teamstore.address import APP_NAME_PREFIX, StoreAddress
from tui.core.teamstore.errors import TeamStoreError, connect_failure, query_failure
from tui.core.teamstore.leader import HOLDER_QUERY, LEADER_PREFIX, lock_key
from tui.core.teamstore.migrations import SCHEMA_VERSION, migrate, schema_version

__all__ = ["Monitor", "ProfileStatus", "TeamStatus", "migrate_database", "read_status"]


@dataclass(frozen=True)
class ProfileStatus:
    """One profile (base URL) on the team database. Text from the database: show escaped."""

    base_url: str
    watched: int
    leader: str | None


@dataclass(frozen=True)
class Monitor:
    """One monitor connected (its poll-lock connection names it ``person@host``); whether
    it polls a profile now. Text from the database: show escaped."""

    who: str
    polls: bool


@dataclass(frozen=True)
class TeamStatus:
    """The team database as ``team status`` shows it."""

    address: str
    schema: int
    monitors: tuple[Monitor, ...]
    connections: tuple[tuple[str, int], ...]  # person (or "?"), connections of the app
    profiles: tuple[ProfileStatus, ...]


def _connect(address: StoreAddress, purpose: str) -> psycopg.Connection[Any]:
    kwargs = address.connect_kwargs(f"{APP_NAME_PREFIX}-cli {purpose}")
    try:
        return psycopg.connect(address.url, autocommit=True, connect_timeout=10, **kwargs)
    except psycopg.Error as error:
        secret = kwargs.get("password") or address.password_hint()
        raise TeamStoreError(connect_failure(address.display, error, secret)) from None


def migrate_database(address: StoreAddress, grant: Sequence[str] = ()) -> tuple[int, int]:
    """Bring the database up to this app's schema: (version before, version after); then
    give each role in ``grant`` what a monitor needs on the app's tables and sequences."""
    with _connect(address, "migrate") as conn:
        try:
            before = schema_version(conn)
            migrate(conn)
        except psycopg.Error as error:
            raise TeamStoreError(query_failure("migrate", address.display, error)) from None
        for role in grant:
            _grant(conn, address, role)
    return before, max(before, SCHEMA_VERSION)


def _grant(conn: psycopg.Connection[Any], address: StoreAddress, role: str) -> None:
    """Rows and change numbers of every table and sequence in the app's schema (the
    database is the team's: everything in it is the app's); no right to change tables."""
    target = sql.Identifier(role)
    try:
        with conn.transaction():
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(target))
            conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN "
                                 "SCHEMA public TO {}").format(target))
            conn.execute(sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "
                                 "public TO {}").format(target))
    except psycopg.Error as error:
        raise TeamStoreError(query_failure(f"grant the app's tables to {role!r}",
                                           address.display, error)) from None


def read_status(address: StoreAddress) -> TeamStatus:
    """The team database's schema, members and profiles."""
    with _connect(address, "status") as conn:
        try:
            version = schema_version(conn)
            connected = conn.execute(_CONNECTED, (APP_NAME_PREFIX + " %",)).fetchall()
            counts: list[tuple[str, int]] = []
            if version >= 1:
                counts = conn.execute("SELECT profile, count(*) FROM watched "
                                      "GROUP BY 1 ORDER BY 1").fetchall()
            profiles = []
            for base_url, watched in counts:
                key = lock_key(base_url)
                held = conn.execute(HOLDER_QUERY, ((key >> 32) & 0xFFFFFFFF,
                                              key & 0xFFFFFFFF)).fetchone()
                leader = None
                if held is not None:
                    name = str(held[1])
                    leader = name.removeprefix(LEADER_PREFIX) or "?"
                profiles.append(ProfileStatus(base_url, int(watched), leader))
        except psycopg.Error as error:
            raise TeamStoreError(query_failure("read the status", address.display, error)
                                 ) from None
    monitors, connections = _who_is_connected([(str(name), bool(polls))
                                               for name, polls in connected])
    return TeamStatus(address=address.display, schema=version, monitors=monitors,
                      connections=connections, profiles=tuple(profiles))


# The app's connections, and whether each holds a session advisory lock (a poll lock; the
# write turn is a transaction's lock, held by connections not named as a leader's).
_CONNECTED = """
SELECT a.application_name, EXISTS (
    SELECT 1 FROM pg_locks AS l WHERE l.pid = a.pid AND l.locktype = 'advisory'
    AND l.granted AND l.objsubid = 1)
FROM pg_stat_activity AS a
WHERE a.datname = current_database() AND a.application_name LIKE %s
  AND a.pid <> pg_backend_pid()
"""


def _who_is_connected(connected: list[tuple[str, bool]],
                      ) -> tuple[tuple[Monitor, ...], tuple[tuple[str, int], ...]]:
    """The monitors (one poll-lock connection each: a follower's waits for the lock) and
    the connections per person. A lock connection is named ``leader person@host``, the
    others ``person``."""
    monitors: dict[str, bool] = {}
    counts: Counter[str] = Counter()
    for name, polls in connected:
        rest = name.removeprefix(APP_NAME_PREFIX + " ")
        if name.startswith(LEADER_PREFIX):
            who = name.removeprefix(LEADER_PREFIX) or "?"
            monitors[who] = monitors.get(who, False) or polls
            person = who.rpartition("@")[0] or who
        else:
            person = rest or "?"
        counts[person] += 1
    return (tuple(Monitor(who, polls) for who, polls in sorted(monitors.items())),
            tuple(sorted(counts.items())))
