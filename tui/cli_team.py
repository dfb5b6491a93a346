"""``conversions-tui team``: set up and look at a team's shared PostgreSQL store.

    conversions-tui team [--store URL] [--profile P] init     create the tables in an empty
                                                            database
    conversions-tui team [--store URL] [--profile P] migrate  bring the tables up to this
                                                            app's schema
    conversions-tui team [--store URL] [--profile P] status   schema, monitors connected
                                                            (who polls), rows per profile
    conversions-tui team [--store URL] [--profile P] import   copy the profile's own SQLite
                                                            watchlist into the team store

The store is ``--store``, else ``CONVERSIONS_STORE``, else the profile's ``store`` (the
profile: ``--profile``, ``CONVERSIONS_PROFILE``, or the config's default). Its password
never comes from there: ``PGPASSWORD``, ``~/.pgpass`` or the keyring (see
``tui.core.teamstore.address``).
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
    from tui.core.paths import AppPaths
    from tui.core.settings import ProfileSettings
    from tui.core.teamstore.address import StoreAddress
    from tui.core.teamstore.status import TeamStatus

__all__ = ["TEAM_EXITS", "run_team"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
TEAM_EXITS = (
    (EXIT_OK, "done"),
    (EXIT_FAILED, "the team database could not be used (the message says why)"),
    (EXIT_USAGE, "no store named, a bad address, a config problem, or nothing to import"),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conversions-tui team", description="Set up and look at the team's store.",
        epilog=exit_codes_epilog(TEAM_EXITS),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", help="postgresql://user@host:5432/dbname, no password "
                        "(or CONVERSIONS_STORE, or the profile's store)")
    parser.add_argument("--profile", help="profile name (or CONVERSIONS_PROFILE): its store, "
                        "and for import its watchlist and base URL")
    parser.add_argument("--as", dest="person", help="import: who the rows are signed by "
                        "(default: CONVERSIONS_PERSON, the profile's person, the OS user)")
    parser.add_argument("--grant", action="append", default=[], metavar="ROLE",
                        help="init, migrate: let ROLE (a person's role) read and write the "
                        "app's tables and sequences (repeatable)")
    parser.add_argument("action", choices=("init", "migrate", "status", "import"))
    return parser


def _say(stream: TextIO, text: str) -> None:
    print(f"conversions-tui team: {text}", file=stream)


def _profile(name: str | None, env: Mapping[str, str], paths: AppPaths,
             ) -> ProfileSettings | None:
    """The profile named (or the default one), None when none is configured; raises
    ``ConfigError`` for a config that cannot be used."""
    from tui.core.settings import ConfigError, ProfileNotConfigured, load_config, resolve_profile

    config = load_config(paths.config_file)
    try:
        return resolve_profile(config, profile=name, base_url=None, env=env)
    except ProfileNotConfigured:
        if name:  # asked for by name (--profile): say it is not there, and what is
            known = ", ".join(repr(each) for each in sorted(config.profiles))
            where = config.path or "the config file"
            raise ConfigError(
                f"there is no profile {name!r} in {where}"
                + (f"; the profiles there: {known}." if known else ": it has no profiles."),
                path=config.path) from None
        return None


def run_team(argv: list[str], *, env: Mapping[str, str] | None = None,
             out: TextIO | None = None, paths: AppPaths | None = None) -> int:
    """Run ``conversions-tui team`` with ``argv`` (without the word ``team``); ``paths``:
    where the config and the watchlists are (the user's folders by default)."""
    from tui.core.paths import AppPaths
    from tui.core.settings import ConfigError

    env = os.environ if env is None else env
    stdout = sys.stdout if out is None else out
    opts = _parser().parse_args(argv)
    paths = AppPaths.default() if paths is None else paths
    if opts.grant and opts.action not in ("init", "migrate"):
        _say(sys.stderr, "--grant goes with init or migrate.")
        return EXIT_USAGE
    try:
        profile = _profile(opts.profile, env, paths)
    except ConfigError as error:
        _say(sys.stderr, str(error))
        return EXIT_USAGE
    # Imported here: psycopg loads only when a team command runs.
    from tui.core.session import person_for
    from tui.core.teamstore import TeamStoreError, resolve_store_address
    from tui.core.teamstore.migrations import SCHEMA_VERSION
    from tui.core.teamstore.status import migrate_database, read_status

    try:
        if opts.store:  # the flag wins over CONVERSIONS_STORE and the profile
            address = resolve_store_address(opts.store, environ={}, source="--store")
        else:
            address = resolve_store_address(
                profile.store if profile else None, environ=env,
                source=f"the store of profile {profile.name!r}" if profile else "the store")
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
        if opts.action == "import":
            if profile is None:
                _say(sys.stderr, "import needs a profile (--profile, CONVERSIONS_PROFILE or "
                     "default_profile): its watchlist is what is copied.")
                return EXIT_USAGE
            return _import(stdout, address, profile, paths,
                           opts.person or person_for(profile, env))
        before, after = migrate_database(address, opts.grant)
    except TeamStoreError as error:
        _say(sys.stderr, str(error))
        return EXIT_FAILED
    if before == after:
        print(f"{address.display}: already at schema {after}; nothing to do.", file=stdout)
    elif before == 0:
        # With roles granted, each person's profile names their own role, not the owner's.
        who = (f"{printable(opts.grant[0], limit=80)}@{address.host}:{address.port}/"
               f"{address.dbname}" if opts.grant else address.display)
        each = " (each person with their own role)" if opts.grant else ""
        print(f"{address.display}: tables created (schema {after}). Point a profile at it "
              f'with store = "postgresql://{who}"{each}; the password comes from '
              "PGPASSWORD, ~/.pgpass or the keyring.", file=stdout)
    else:
        print(f"{address.display}: migrated from schema {before} to {after}.", file=stdout)
    for role in opts.grant:
        print(f"{address.display}: role {printable(role, limit=80)!r} may now read and "
              "write the app's tables (run this again after a migrate).", file=stdout)
    return EXIT_OK


def _import(out: TextIO, address: StoreAddress, profile: ProfileSettings, paths: AppPaths,
            person: str | None) -> int:
    """Copy the profile's own watchlist into the team store (``TeamStoreError`` passes)."""
    from tui.core.teamstore import TeamStore
    from tui.core.teamstore.importing import import_watchlist
    from tui.core.watchlist import Watchlist, WatchlistError

    source = paths.watchlist_db(profile.name)
    if not source.exists():  # opening it would create an empty one
        _say(sys.stderr, f"profile {profile.name!r} has no watchlist at {source}: nothing "
             "to import.")
        return EXIT_USAGE
    try:
        watchlist = Watchlist(source)
    except WatchlistError as error:
        _say(sys.stderr, f"cannot open the watchlist of profile {profile.name!r}: {error}")
        return EXIT_FAILED
    try:
        if not watchlist.all():  # as a missing one: most likely the wrong profile
            _say(sys.stderr, f"profile {profile.name!r} watches nothing ({source}): "
                 "nothing to import.")
            return EXIT_USAGE
        with TeamStore(address, profile.base_url, person) as store:
            report = import_watchlist(store, watchlist)
    finally:
        watchlist.close()
    print(f"{address.display}: imported profile {profile.name!r} "
          f"({printable(profile.base_url, limit=200)}): {report.added} rows added, "
          f"{report.already} already watched by the team, {report.notes} notes filled in, "
          f"{report.history} history entries.", file=out)
    if report.notes_kept_the_teams:
        kept = report.notes_kept_the_teams
        print(f"{len(kept)} of your notes differed from the team's, which was kept: "
              f"{_some(kept)} (your notes stay in your own watchlist).", file=out)
    if report.marks_carried:
        print(f"{len(report.marks_carried)} acknowledgements or snoozes carried over to "
              f"rows the team had without one: {_some(report.marks_carried)}.", file=out)
    return EXIT_OK


def _some(ids: tuple[int, ...], shown: int = 5) -> str:
    """The first few IDs, and how many more."""
    head = ", ".join(str(value) for value in ids[:shown])
    return head + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


def _print_status(out: TextIO, status: TeamStatus, app_schema: int) -> None:
    schema = f"schema {status.schema}"
    if status.schema == 0:
        schema += " (not set up: run conversions-tui team init)"
    elif status.schema < app_schema:
        schema += f" (this app has {app_schema}: run conversions-tui team migrate)"
    elif status.schema > app_schema:
        schema += f" (newer than this app's {app_schema}: upgrade conversions-tui)"
    print(f"store    {status.address}, {schema}", file=out)
    monitors = ", ".join(printable(monitor.who, limit=80)
                         + (" (polls)" if monitor.polls else "")
                         for monitor in status.monitors) or "none"
    print(f"monitors {monitors}", file=out)
    if status.connections:
        total = sum(count for _, count in status.connections)
        each = ", ".join(f"{printable(person, limit=80)} {count}"
                         for person, count in status.connections)
        print(f"connections {total} ({each})", file=out)
    if not status.profiles:
        print("profiles none", file=out)
    for profile in status.profiles:
        leader = (f"polled by {printable(profile.leader, limit=80)}" if profile.leader
                  else "nobody polls")
        print(f"profile  {printable(profile.base_url, limit=200)}: {profile.watched} watched, "
              f"{leader}", file=out)
