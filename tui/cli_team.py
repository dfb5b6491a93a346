"""``conversions-tui team``: set up and look at a team's shared PostgreSQL store.

    conversions-tui team [--store URL] init      create the tables in an empty database
    conversions-tui team [--store URL] migrate   bring the tables up to this app's schema
    conversions-tui team [--store URL] status    schema, members connected, rows and poller
                                                 per profile

The store is ``--store``, else ``CONVERSIONS_STORE``, else the ``store`` the caller found in
the profile (``profile_store``). Its password never comes from there: ``PGPASSWORD``,
``~/.pgpass`` or the keyring (see ``tui.core.teamstore.address``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

from tui.cli_help import exit_codes_epilog
from tui.core.untrusted import printable

if TYPE_CHECKING:
    from tui.core.teamstore.status import TeamStatus

__all__ = ["TEAM_EXITS", "run_team"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
TEAM_EXITS = (
    (EXIT_OK, "done"),
    (EXIT_FAILED, "the team database could not be used (the message says why)"),
    (EXIT_USAGE, "no store named, or a bad address"),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conversions-tui team", description="Set up and look at the team's store.",
        epilog=exit_codes_epilog(TEAM_EXITS),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", help="postgresql://user@host:5432/dbname, no password "
                        "(or CONVERSIONS_STORE)")
    parser.add_argument("action", choices=("init", "migrate", "status"))
    return parser


def _say(stream: TextIO, text: str) -> None:
    print(f"conversions-tui team: {text}", file=stream)


def run_team(argv: list[str], *, profile_store: str | None = None,
             env: Mapping[str, str] | None = None, out: TextIO | None = None) -> int:
    """Run ``conversions-tui team`` with ``argv`` (without the word ``team``)."""
    env = os.environ if env is None else env
    stdout = sys.stdout if out is None else out
    opts = _parser().parse_args(argv)
    # Imported here: psycopg loads only when a team command runs.
    from tui.core.teamstore import TeamStoreError, resolve_store_address
    from tui.core.teamstore.migrations import SCHEMA_VERSION
    from tui.core.teamstore.status import migrate_database, read_status

    try:
        address = resolve_store_address(opts.store or profile_store, environ=env)
    except TeamStoreError as error:
        _say(sys.stderr, str(error))
        return EXIT_USAGE
    if address is None:
        _say(sys.stderr, "no team store named: pass --store postgresql://user@host/dbname "
             "or set CONVERSIONS_STORE.")
        return EXIT_USAGE
    try:
        if opts.action == "status":
            _print_status(stdout, read_status(address), SCHEMA_VERSION)
            return EXIT_OK
        before, after = migrate_database(address)
    except TeamStoreError as error:
        _say(sys.stderr, str(error))
        return EXIT_FAILED
    if before == after:
        print(f"{address.display}: already at schema {after}; nothing to do.", file=stdout)
    elif before == 0:
        print(f"{address.display}: tables created (schema {after}). Point a profile at it "
              f'with store = "postgresql://{address.display}" (the password from '
              "PGPASSWORD, ~/.pgpass or the keyring).", file=stdout)
    else:
        print(f"{address.display}: migrated from schema {before} to {after}.", file=stdout)
    return EXIT_OK


def _print_status(out: TextIO, status: TeamStatus, app_schema: int) -> None:
    schema = f"schema {status.schema}"
    if status.schema == 0:
        schema += " (not set up: run conversions-tui team init)"
    elif status.schema < app_schema:
        schema += f" (this app has {app_schema}: run conversions-tui team migrate)"
    elif status.schema > app_schema:
        schema += f" (newer than this app's {app_schema}: upgrade conversions-tui)"
    print(f"store    {status.address}, {schema}", file=out)
    members = ", ".join(f"{printable(name, limit=80)} ({count})"
                        for name, count in status.members) or "none"
    print(f"members  {members}", file=out)
    if not status.profiles:
        print("profiles none", file=out)
    for profile in status.profiles:
        leader = (f"polled by {printable(profile.leader, limit=80)}" if profile.leader
                  else "nobody polls")
        print(f"profile  {printable(profile.base_url, limit=200)}: {profile.watched} watched, "
              f"{leader}", file=out)
