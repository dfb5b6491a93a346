"""The ``conversions-tui`` command: the monitor, ``--demo``, and its subcommands.

This is the composition root: the only module that may reach every layer (the
sandbox included, for ``--demo``). Messages for the user go to stderr, one clear
sentence each, never a traceback for a mistake the user can fix.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tui import __version__
from tui.cli_help import exit_codes_epilog
from tui.cli_keys import EXIT_KEY_NOT_STORED as EXIT_KEY_NOT_STORED  # tests and docs name it here
from tui.cli_keys import login, logout
from tui.cli_profile import fail, profile_for

if TYPE_CHECKING:  # heavy imports happen only when a command needs them
    from tui.core.credentials import ApiKey
    from tui.core.paths import AppPaths
    from tui.core.settings import AppConfig, ProfileSettings

SUBCOMMANDS = ("sandbox", "login", "logout", "watch", "upload", "list", "status", "team")
DEMO_SEED_COUNT = 60


#: Exit codes, per command, as ``--help`` shows them (the README repeats them).
MONITOR_EXITS = (
    (0, "the monitor was closed normally"),
    (2, "usage or configuration problem: no base URL, an argument with no conversion ID, "
        "a watchlist that cannot be opened"),
    (130, "interrupted (Ctrl-C)"),
)
WATCH_EXITS = (
    (0, "every argument gave IDs (added, or already watched)"),
    (1, "some arguments gave no ID (listed on stderr); the IDs of the others were added"),
    (2, "no argument gave an ID (nothing added), or a usage or configuration problem"),
)


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
            "login": login,
            "logout": logout,
            "watch": _watch,
            "upload": _upload,
            "list": _list,
            "status": _status,
            "team": _team,
        }
        try:
            return handlers[args[0]](args[1:])
        except BrokenPipeError:
            return _reader_went_away()
    try:
        return _run_monitor(_monitor_parser().parse_args(args))
    except KeyboardInterrupt:
        return 130


def _reader_went_away() -> int:
    """The command's output was piped into something that stopped reading (``| head``):
    end quietly, as other command-line tools do, with the shell's code for SIGPIPE."""
    try:
        # What is still buffered must not fail again when Python flushes at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no file (in-process callers)
        pass
    return 141


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
        return fail("not conversion IDs: " + "; ".join(invalid))
    theme = opts.theme or os.environ.get("CONVERSIONS_THEME")
    if opts.demo:
        if opts.view is not None:
            return fail("--view opens a view saved in a profile; the demo keeps none.")
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
        return fail(str(error))
    if opts.view is not None:
        from tui.core.savedviews import load_layouts

        if load_layouts(paths.views_file).layout(profile.name).view(opts.view) is None:
            return fail(f"no saved view is called {opts.view!r} in profile "
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
        return fail(f"cannot open the watchlist of profile {profile.name!r}: {error}")
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
        return fail("the demo needs the sandbox extra: pip install 'conversions-tui[sandbox]'")
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
        return fail("the sandbox needs its extra: pip install 'conversions-tui[sandbox]'")
    return run_sandbox(argv)


def _watch(argv: list[str]) -> int:
    from tui.core.session import SESSION_OPEN_ERRORS, open_audit, open_watch_store
    from tui.core.untrusted import printable
    from tui.core.watching import WatchService
    from tui.core.watchstore import StoreRefused

    def arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("ids", nargs="+", help="IDs, ranges or text")
        parser.add_argument("--note", help="a note (a ticket number) for those without one")

    got = profile_for(argv, "watch", arguments,
                       exits=WATCH_EXITS,
                       description="Add conversion IDs to the profile's watchlist (the "
                                   "monitor polls them).")
    if isinstance(got, int):
        return got
    opts, paths, _config, profile = got
    ids, invalid = _parse_ids(opts.ids)
    if not ids:
        return fail("no conversion ID given, nothing added. Not IDs: " + "; ".join(invalid))
    paths.ensure(profile.name)
    try:
        # The team's store when the profile names one: a monitor following it shows them.
        watchlist = open_watch_store(paths, profile)
    except SESSION_OPEN_ERRORS as error:
        return fail(f"cannot open the watchlist of profile {profile.name!r}: {error}")
    try:
        # The team's audit log on a team profile, as the monitor's.
        audit = open_audit(paths, profile, watchlist)
        try:
            # The one way rows are watched; a monitor open on the file shows them.
            note = opts.note.strip() if opts.note and opts.note.strip() else None
            added = WatchService(watchlist, audit, profile_name=profile.name).watch(
                ids, note=note)
        finally:
            audit.close()
    except StoreRefused as error:  # the team's database gone since it was opened
        return fail(str(error))
    finally:
        watchlist.close()
    # Where they went: on a team profile, the team's database (its address, no password).
    team = getattr(watchlist, "address", None)
    where = f" in the team database {printable(str(team), limit=200)}" if team else ""
    print(f"Watching {len(added)} more in profile {profile.name!r}{where}"
          f" ({len(ids) - len(added)} already watched).")
    if invalid:
        print("Not IDs: " + "; ".join(invalid), file=sys.stderr)
        return 1
    return 0
