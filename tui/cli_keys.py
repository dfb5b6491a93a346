"""``conversions-tui login`` and ``logout``: the profile's API key in the OS keyring.

``login`` checks the key with the server before storing it; a keyring that cannot keep
it is said plainly, with how to use the key from the environment instead. The key is
never printed (only its masked form).
"""

from __future__ import annotations

import asyncio
import getpass
import sys

from tui.cli_profile import fail, profile_for

__all__ = ["EXIT_KEY_NOT_STORED", "LOGIN_EXITS", "LOGOUT_EXITS", "login", "logout"]

#: Exit codes, as ``--help`` shows them (the README repeats them).
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

EXIT_KEY_NOT_STORED = 3
_NO_KEYRING_USE_ENV = (
    "To use the key without a keyring, put it in the environment of the shell you run "
    "conversions-tui from: `read -rs CONVERSIONS_API_KEY && export CONVERSIONS_API_KEY` "
    "(paste the key, then Enter; it is not echoed nor kept in the shell history).")


def login(argv: list[str]) -> int:
    """``conversions-tui login``: check a key with the server, store it in the keyring."""
    from tui.api.client import ConversionsClient
    from tui.api.errors import ApiError, AuthenticationError, NotFoundError
    from tui.core.clientbounds import client_bounds
    from tui.core.credentials import ApiKey, CredentialStore

    got = profile_for(argv, "login", lambda p: None, exits=LOGIN_EXITS,
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
        return fail("no key given")
    if not secret.strip():
        return fail("the key is empty")
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
        return fail("the server refused this key (401); nothing was stored", 1)
    except ApiError as error:
        return fail(f"could not check the key: {error}", 1)
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
        fail(f"the key is good, but {problem[0].lower()}{problem[1:]}")
        print(_NO_KEYRING_USE_ENV, file=sys.stderr)
        return EXIT_KEY_NOT_STORED
    print(f"Stored in the OS keyring for profile {profile.name!r} (key {key.masked}).")
    return 0


def logout(argv: list[str]) -> int:
    """``conversions-tui logout``: remove the profile's key from the keyring."""
    from tui.core.credentials import CredentialStore, Removal

    got = profile_for(argv, "logout", lambda p: None, exits=LOGOUT_EXITS,
                       description="Remove the profile's API key from the OS keyring.")
    if isinstance(got, int):
        return got
    _opts, _paths, _config, profile = got
    removal = CredentialStore(then="nothing was removed").remove_sync(profile.name)
    if isinstance(removal, str):
        return fail(removal, 1)
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
