"""What ``conversions-tui team status | init | migrate`` report, read from the database.

Kept in core so the CLI only formats: the schema version, the members connected (each
app's connections are named ``conversions-tui <person>``, see ``pg_stat_activity``), and
per profile (base URL) the rows watched and who polls it (from the advisory lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from tui.core.teamstore.address import APP_NAME_PREFIX, StoreAddress
from tui.core.teamstore.errors import TeamStoreError, first_line
from tui.core.teamstore.leader import HOLDER_QUERY, LEADER_PREFIX, lock_key
from tui.core.teamstore.migrations import SCHEMA_VERSION, migrate, schema_version

__all__ = ["ProfileStatus", "TeamStatus", "migrate_database", "read_status"]


@dataclass(frozen=True)
class ProfileStatus:
    """One profile (base URL) on the team database. Text from the database: show escaped."""

    base_url: str
    watched: int
    leader: str | None


@dataclass(frozen=True)
class TeamStatus:
    """The team database as ``team status`` shows it."""

    address: str
    schema: int
    members: tuple[tuple[str, int], ...]  # connection name (less the prefix), how many
    profiles: tuple[ProfileStatus, ...]


def _connect(address: StoreAddress, purpose: str) -> psycopg.Connection[Any]:
    kwargs = address.connect_kwargs(f"{APP_NAME_PREFIX}-cli {purpose}")
    try:
        return psycopg.connect(address.url, autocommit=True, connect_timeout=10, **kwargs)
    except psycopg.Error as error:
        secret = kwargs.get("password") or address.password_hint()
        raise TeamStoreError(f"The team database {address.display} cannot be reached "
                             f"({first_line(error, secret)}).") from None


def migrate_database(address: StoreAddress) -> tuple[int, int]:
    """Bring the database up to this app's schema: (version before, version after)."""
    with _connect(address, "migrate") as conn:
        try:
            before = schema_version(conn)
            migrate(conn)
        except psycopg.Error as error:
            raise TeamStoreError(f"Could not migrate the team database {address.display} "
                                 f"({first_line(error)}).") from None
    return before, max(before, SCHEMA_VERSION)


def read_status(address: StoreAddress) -> TeamStatus:
    """The team database's schema, members and profiles."""
    with _connect(address, "status") as conn:
        try:
            version = schema_version(conn)
            members = conn.execute(
                "SELECT application_name, count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name LIKE %s "
                "AND pid <> pg_backend_pid() GROUP BY 1 ORDER BY 1",
                (APP_NAME_PREFIX + " %",)).fetchall()
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
            raise TeamStoreError(f"Could not read the team database {address.display} "
                                 f"({first_line(error)}).") from None
    return TeamStatus(
        address=address.display, schema=version,
        members=tuple((str(name).removeprefix(APP_NAME_PREFIX + " "), int(count))
                      for name, count in members),
        profiles=tuple(profiles))
