"""What the subcommands that act on one profile share: finding the profile from the
arguments, the environment and the config file, and saying a failure in one sentence."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tui.cli_help import exit_codes_epilog

if TYPE_CHECKING:  # heavy imports happen only when a command needs them
    from tui.core.paths import AppPaths
    from tui.core.settings import AppConfig, ProfileSettings

__all__ = ["fail", "profile_for"]


def fail(message: str, code: int = 2) -> int:
    """Say ``message`` on stderr as the command's one sentence; return the exit ``code``."""
    print(f"conversions-tui: {message}", file=sys.stderr)
    return code


def profile_for(argv: list[str], prog: str, extra: Callable[[argparse.ArgumentParser], object],
                 *, description: str, exits: Sequence[tuple[int, str]],
                 ) -> tuple[argparse.Namespace, AppPaths, AppConfig, ProfileSettings] | int:
    """Parse a subcommand's arguments (``--profile``, ``--base-url``,
    ``--allow-insecure-http`` and what ``extra`` adds) and find its profile; or the exit
    code after saying what is wrong."""
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
        return fail(str(error))
    for warning in config.warnings:  # a bad value was replaced by its default: say so
        print(f"conversions-tui {prog}: {warning}", file=sys.stderr)
    return opts, paths, config, profile
