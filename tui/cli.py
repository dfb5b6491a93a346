"""The ``conversions-tui`` command: the monitor, ``--demo``, and its subcommands.

This is the composition root: the only module that may reach every layer (the
sandbox included, for ``--demo``). Messages for the user go to stderr, one clear
sentence each, never a traceback for a mistake the user can fix.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tui import __version__
from tui.cli_help import exit_codes_epilog

if TYPE_CHECKING:  # heavy imports happen only when a command needs them
    from tui.core.credentials import ApiKey
    from tui.core.paths import AppPaths
    from tui.core.settings import AppConfig, ProfileSettings

SUBCOMMANDS = ("sandbox", "login", "logout", "watch", "upload", "list", "status", "team")
DEMO_SEED_COUNT = 60


def _fail(message: str, code: int = 2) -> int:
    print(f"conversions-tui: {message}", file=sys.stderr)
    return code


#: Exit codes, per command, as ``--help`` shows them (the README repeats them).
MONITOR_EXITS = (
    (0, "the monitor was closed normally"),
    (2, "usage or configuration problem: no base URL, an argument with no conversion ID, "
        "a watchlist that cannot be opened"),
    (130, "interrupted (Ctrl-C)"),
)
LOGIN_EXITS = (
    (0, "the key was checked and stored in the OS keyring"),
    (1, "the server refused the key, or could not be asked"),
    (2, "usage or configuration problem, or no key typed"),
    (3, "the key is good but there is no usable keyring to store it in: use "
        "CONVERSIONS_API_KEY instead, as the message says"),
)
LOGOUT_EXITS = (
    (0, "the key was removed, or none was stored (also when there is no keyring at all)"),
    (1, "the keyring could not be asked (locked, not answering)"),
    (2, "usage or configuration problem"),
)
WATCH_EXITS = (
    (0, "every argument gave IDs (added, or already watched)"),
    (1, "some arguments gave no ID (listed on stderr); the IDs of the others were added"),
    (2, "no argument gave an ID (nothing added), or a usage or configuration problem"),
)


EXIT_KEY_NOT_STORED = 3
_NO_KEYRING_USE_ENV = (
    "To use the key without a keyring, put it in the environment of the shell you run "
    "conversions-tui from: `read -rs CONVERSIONS_API_KEY && export CONVERSIONS_API_KEY` "
    "(paste the key, then Enter; it is not echoed nor kept in the shell history).")


def _monitor_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conversions-tui",
        description="Monitor and triage conversions of the Conversions API.",
        epilog=exit_codes_epilog(MONITOR_EXITS, "subcommands: sandbox, login, logout, watch, "
                                 "upload, list, status, team (conversions-tui SUBCOMMAND "
                                 "--help)"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("ids", nargs="*", help="conversion IDs or ranges to add to the watchlist")
    parser.add_argument("--demo", action="store_true",
                        help="run against a built-in sandbox server with demo data")
    parser.add_argument("--profile", help="profile from the config file (or CONVERSIONS_PROFILE)")
    parser.add_argument("--base-url", help="API base URL (or CONVERSIONS_BASE_URL)")
    parser.add_argument("--read-only", action="store_true", help="no deletes, no uploads")
    parser.add_argument("--no-alerts", action="store_true",
                        help="no alerts this run: no bell, no desktop notification, no hook, "
                             "no alert toasts (the profile's [alerts] table is kept)")
    parser.add_argument("--theme", help="colour theme (or CONVERSIONS_THEME)")
    parser.add_argument("--view", metavar="NAME", help="open the saved view NAME (saved with V)")
    parser.add_argument("--allow-insecure-http", action="store_true",
                        help="allow http:// to a host other than this machine")
    parser.add_argument("--version", action="version", version=f"conversions-tui {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        handlers: dict[str, Callable[[list[str]], int]] = {
            "sandbox": _run_sandbox,
            "login": _login,
            "logout": _logout,
            "watch": _watch,
            "upload": _upload,
            "list": _list,
            "status": _status,
            "team": _team,
        }
        return handlers[args[0]](args[1:])
    try:
        return _run_monitor(_monitor_parser().parse_args(args))
    except KeyboardInterrupt:
        return 130


# ------------------------------------------------------------------ monitor
def _parse_ids(texts: Sequence[str]) -> tuple[list[int], list[str]]:
    """The IDs in command-line arguments, and each rejected piece with why.

    Each argument is read on its own: words in ticket text pasted as one argument are
    ignored, but an argument with no ID in it at all (``watch abc``) is rejected, so
    nothing typed disappears silently.
    """
    from tui.core.idlist import parse_id_list
    from tui.core.untrusted import printable

    ids: dict[int, None] = {}
    invalid: list[str] = []
    for text in texts:
        result = parse_id_list(text)
        ids.update(dict.fromkeys(result.ids))
        invalid += result.invalid
        if not result.ids and not result.invalid:
            invalid.append(f"{printable(text, limit=40) or repr(text)} (no conversion ID in it)")
    return list(ids), invalid


def _run_monitor(opts: argparse.Namespace) -> int:
    from tui.core.paths import AppPaths
    from tui.core.settings import (
        ConfigError,
        ProfileNotConfigured,
        check_base_url,
        load_config,
        resolve_profile,
    )

    ids, invalid = _parse_ids(opts.ids)
    if invalid:
        return _fail("not conversion IDs: " + "; ".join(invalid))
    theme = opts.theme or os.environ.get("CONVERSIONS_THEME")
    if opts.demo:
        if opts.view is not None:
            return _fail("--view opens a view saved in a profile; the demo keeps none.")
        return _run_demo(ids, theme=theme, read_only=opts.read_only, alerts=not opts.no_alerts)

    paths = AppPaths.default()
    try:
        config = load_config(paths.config_file)
        profile = resolve_profile(config, profile=opts.profile, base_url=opts.base_url,
                                  env=os.environ, allow_insecure_http=opts.allow_insecure_http)
        check_base_url(profile.base_url, profile.allow_insecure_http)
        if opts.no_alerts:  # this run only: never written back to the config
            profile = profile.model_copy(update={"alerts": profile.alerts.switched_off()})
    except ProfileNotConfigured as error:
        if not sys.stdin.isatty() or not sys.stdout.isatty():
            print(str(error), file=sys.stderr)
            return 2
        return _run_first_run(paths, str(error), theme=theme, read_only=opts.read_only,
                              ids=ids)
    except ConfigError as error:
        return _fail(str(error))
    if opts.view is not None:
        from tui.core.savedviews import load_layouts

        if load_layouts(paths.views_file).layout(profile.name).view(opts.view) is None:
            return _fail(f"no saved view is called {opts.view!r} in profile "
                         f"{profile.name!r}.")
    return _run_app(paths, config, profile, ids=ids, theme=theme, read_only=opts.read_only,
                    view=opts.view)


def _run_app(paths: AppPaths, config: AppConfig, profile: ProfileSettings, *, ids: list[int],
             theme: str | None, read_only: bool, demo: bool = False,
             preset_key: ApiKey | None = None, view: str | None = None) -> int:
    from tui.core.session import SESSION_OPEN_ERRORS, MonitorSession
    from tui.ui.app import ConversionsApp

    try:
        session = MonitorSession.open(paths, config, profile, demo=demo, read_only=read_only,
                                      preset_key=preset_key, initial_ids=ids)
    except SESSION_OPEN_ERRORS as error:
        return _fail(f"cannot open the watchlist of profile {profile.name!r}: {error}")
    session.initial_view = view
    try:
        app = ConversionsApp(session, theme=theme or profile.theme or config.theme)
        app.run()
        return app.return_code or 0
    finally:
        session.close()


def _run_first_run(paths: AppPaths, explanation: str, *, theme: str | None, read_only: bool,
                   ids: list[int]) -> int:
    from tui.core.settings import load_config
    from tui.ui.app import ConversionsApp, SetupNeeded

    app = ConversionsApp(None, theme=theme, setup=SetupNeeded(
        paths=paths, config=load_config(paths.config_file), explanation=explanation,
        read_only=read_only, initial_ids=ids))
    try:
        app.run()
        return app.return_code or 0
    finally:
        if app.session is not None:
            app.session.close()


def _run_demo(ids: list[int], *, theme: str | None, read_only: bool, alerts: bool = True
              ) -> int:
    try:
        from tui.sandbox.runner import SandboxServer
    except ImportError:
        return _fail("the demo needs the sandbox extra: pip install 'conversions-tui[sandbox]'")
    from tui.cli_demo import DemoColleague
    from tui.core.alerts.settings import AlertSettings, ChannelSwitches
    from tui.core.credentials import ApiKey
    from tui.core.paths import AppPaths
    from tui.core.settings import AppConfig, ProfileSettings
    from tui.core.timeinstatus import StuckAfter
    from tui.core.watchlist import Watchlist
    from tui.sandbox.demo_flow import DEMO_STUCK_AFTER, DemoFlow

    # Demo state lives in a throwaway folder: it never mixes with the user's real data.
    with tempfile.TemporaryDirectory(prefix="conversions-tui-demo-") as root:
        from tui.ui.app import on_hard_exit

        # An SSH drop whose orderly exit hangs (the sandbox waiting on a connection, say)
        # is cut short by a hard exit: the folder must not stay behind then either.
        on_hard_exit(lambda: shutil.rmtree(root, ignore_errors=True))
        server = SandboxServer(seed_count=DEMO_SEED_COUNT, speed=1.0, api_key="demo-key")
        server.start()
        try:
            paths = AppPaths.under(Path(root))
            # The demo's time is its own: its conversions finish in seconds, so it calls
            # stuck what hangs for DEMO_STUCK_AFTER (a stuck row shows within a minute).
            # Its alerts are toasts only: a tour must not ring or pop desktop notifications
            # every minute (a real profile's [alerts] table turns them on).
            quiet = AlertSettings(channels=ChannelSwitches(False, False, False, False))
            profile = ProfileSettings(name="demo", base_url=server.base_url,
                                      stuck_after=StuckAfter(DEMO_STUCK_AFTER),
                                      alerts=quiet if alerts else quiet.switched_off())
            paths.ensure(profile.name)
            flow = DemoFlow(server.state)  # a colleague who keeps conversions coming
            watchlist = Watchlist(paths.watchlist_db(profile.name))
            watchlist.add(flow.start())
            watchlist.close()
            colleague = DemoColleague(flow, paths.watchlist_db(profile.name))
            colleague.start()
            try:
                return _run_app(paths, AppConfig(), profile, ids=ids, theme=theme,
                                read_only=read_only, demo=True,
                                preset_key=ApiKey(server.api_key))
            finally:
                colleague.stop()
        finally:
            server.stop()


# --------------------------------------------------------------- subcommands
def _upload(argv: list[str]) -> int:
    from tui.cli_upload import run_upload

    return run_upload(argv)


def _list(argv: list[str]) -> int:
    from tui.cli_list import run_list

    return run_list(argv)


def _status(argv: list[str]) -> int:
    from tui.cli_list import run_status

    return run_status(argv)
def _team(argv: list[str]) -> int:
    from tui.cli_team import run_team

    return run_team(argv)


def _run_sandbox(argv: list[str]) -> int:
    try:
        from tui.sandbox.cli import run_sandbox
    except ImportError:
        return _fail("the sandbox needs its extra: pip install 'conversions-tui[sandbox]'")
    return run_sandbox(argv)


def _profile_for(argv: list[str], prog: str, extra: Callable[[argparse.ArgumentParser], object],
                 *, description: str, exits: Sequence[tuple[int, str]],
                 ) -> tuple[argparse.Namespace, AppPaths, AppConfig, ProfileSettings] | int:
    from tui.core.paths import AppPaths
    from tui.core.settings import ConfigError, load_config, resolve_profile

    parser = argparse.ArgumentParser(prog=f"conversions-tui {prog}", description=description,
                                     epilog=exit_codes_epilog(exits),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", help="profile name (or CONVERSIONS_PROFILE)")
    parser.add_argument("--base-url", help="API base URL (or CONVERSIONS_BASE_URL)")
    parser.add_argument("--allow-insecure-http", action="store_true",
                        help="allow http:// to a host other than this machine")
    extra(parser)
    opts = parser.parse_args(argv)
    paths = AppPaths.default()
    try:
        config = load_config(paths.config_file)
        profile = resolve_profile(config, profile=opts.profile, base_url=opts.base_url,
                                  env=os.environ, allow_insecure_http=opts.allow_insecure_http)
    except ConfigError as error:
        return _fail(str(error))
    for warning in config.warnings:  # a bad value was replaced by its default: say so
        print(f"conversions-tui {prog}: {warning}", file=sys.stderr)
    return opts, paths, config, profile


def _login(argv: list[str]) -> int:
    from tui.api.client import ConversionsClient
    from tui.api.errors import ApiError, AuthenticationError, NotFoundError
    from tui.core.clientbounds import client_bounds
    from tui.core.credentials import ApiKey, CredentialStore

    got = _profile_for(argv, "login", lambda p: None, exits=LOGIN_EXITS,
                       description="Check an API key with the server and store it in the OS "
                                   "keyring for the profile.")
    if isinstance(got, int):
        return got
    _opts, _paths, _config, profile = got
    try:
        if sys.stdin.isatty():
            secret = getpass.getpass(
                f"API key for profile {profile.name!r} ({profile.base_url}): ")
        else:
            # Piped in (`pass show prod | conversions-tui login`): nothing to hide from a
            # screen, and getpass would warn that it cannot turn echo off.
            secret = sys.stdin.readline()
            if not secret:
                raise EOFError
    except (EOFError, KeyboardInterrupt):
        return _fail("no key given")
    if not secret.strip():
        return _fail("the key is empty")
    key = ApiKey(secret.strip())

    async def check() -> str:
        # Any authenticated answer carries the profile, a 404 for ID 1 included.
        async with ConversionsClient(profile.base_url, key.reveal(),
                                     **client_bounds(profile)) as client:
            try:
                envelope = await client.get_status(1)
                who = envelope.profile
            except NotFoundError as error:
                who = error.envelope.profile if error.envelope else None
            except AuthenticationError:
                raise
            except ApiError as error:
                if error.envelope is None or error.envelope.profile is None:
                    raise
                who = error.envelope.profile
        if who is None:
            return "the key was accepted"
        name = " ".join(p for p in (who.first_name, who.last_name) if p)
        return f"the key belongs to {name} <{who.email}> ({who.company})"

    try:
        described = asyncio.run(check())
    except AuthenticationError:
        return _fail("the server refused this key (401); nothing was stored", 1)
    except ApiError as error:
        return _fail(f"could not check the key: {error}", 1)
    from tui.core.untrusted import printable

    print(printable(described, limit=300))
    # A command that exits cannot keep the key "for this session": say it was not stored.
    store = CredentialStore(then="it was not stored")
    problem = store.save_sync(profile.name, key)
    if problem is None:
        # A keyring that takes keys and forgets them (the "null" backend) stores nothing.
        back = store.resolve_sync(profile.name, {})
        if back.key != key:
            problem = back.problem or ("This keyring takes keys without keeping them (a "
                                       "'null' backend?): it was not stored.")
    if problem:
        _fail(f"the key is good, but {problem[0].lower()}{problem[1:]}")
        print(_NO_KEYRING_USE_ENV, file=sys.stderr)
        return EXIT_KEY_NOT_STORED
    print(f"Stored in the OS keyring for profile {profile.name!r} (key {key.masked}).")
    return 0


def _logout(argv: list[str]) -> int:
    from tui.core.credentials import CredentialStore, Removal

    got = _profile_for(argv, "logout", lambda p: None, exits=LOGOUT_EXITS,
                       description="Remove the profile's API key from the OS keyring.")
    if isinstance(got, int):
        return got
    _opts, _paths, _config, profile = got
    removal = CredentialStore(then="nothing was removed").remove_sync(profile.name)
    if isinstance(removal, str):
        return _fail(removal, 1)
    said = {
        Removal.REMOVED: f"Removed the key of profile {profile.name!r} from the OS keyring.",
        Removal.NOTHING_STORED: f"No key was stored for profile {profile.name!r} in the OS "
                                "keyring: nothing to remove.",
        Removal.NO_KEYRING: f"No keyring is available here, so no key can be stored for "
                            f"profile {profile.name!r}: nothing to remove. (A key in "
                            "CONVERSIONS_API_KEY is removed with `unset CONVERSIONS_API_KEY`.)",
    }
    print(said[removal])
    return 0


def _watch(argv: list[str]) -> int:
    from tui.core.audit import AuditLog
    from tui.core.session import SESSION_OPEN_ERRORS, open_watch_store
    from tui.core.watching import WatchService

    def arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("ids", nargs="+", help="IDs, ranges or text")
        parser.add_argument("--note", help="a note (a ticket number) for those without one")

    got = _profile_for(argv, "watch", arguments,
                       exits=WATCH_EXITS,
                       description="Add conversion IDs to the profile's watchlist (the "
                                   "monitor polls them).")
    if isinstance(got, int):
        return got
    opts, paths, _config, profile = got
    ids, invalid = _parse_ids(opts.ids)
    if not ids:
        return _fail("no conversion ID given, nothing added. Not IDs: " + "; ".join(invalid))
    paths.ensure(profile.name)
    try:
        # The team's store when the profile names one: a monitor following it shows them.
        watchlist = open_watch_store(paths, profile)
    except SESSION_OPEN_ERRORS as error:
        return _fail(f"cannot open the watchlist of profile {profile.name!r}: {error}")
    try:
        audit = AuditLog(paths.audit_db(profile.name))
        try:
            # The one way rows are watched; a monitor open on the file shows them.
            note = opts.note.strip() if opts.note and opts.note.strip() else None
            added = WatchService(watchlist, audit, profile_name=profile.name).watch(
                ids, note=note)
        finally:
            audit.close()
    finally:
        watchlist.close()
    print(f"Watching {len(added)} more in profile {profile.name!r}"
          f" ({len(ids) - len(added)} already watched).")
    if invalid:
        print("Not IDs: " + "; ".join(invalid), file=sys.stderr)
        return 1
    return 0
