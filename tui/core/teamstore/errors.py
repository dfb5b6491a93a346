"""The one error the team store raises: a sentence fit to show as it is.

Every failure of the PostgreSQL store (no address, a password in the address, the server
unreachable, a refused login, a schema made by a newer app, a lost connection) becomes a
:class:`TeamStoreError` whose text says what happened and what to do, in one sentence. It
never holds the database password: messages are built here from safe parts, and any text
that came from the driver is scrubbed of the password first (see :func:`scrubbed`).
"""

from __future__ import annotations

import re

import psycopg

from tui.core.watchstore import StoreRefused

__all__ = ["GRANT_HINT", "ServerGone", "TeamStoreError", "TeamStoreUnreachable", "cause",
           "connect_failure", "query_failure", "scrubbed", "unreachable"]


class TeamStoreError(StoreRefused):
    """The team store cannot do what was asked; ``str(error)`` is one sentence for the user."""


class TeamStoreUnreachable(TeamStoreError):
    """No connection to the team database could be made (the server down or unreachable)."""


def scrubbed(text: str, *secrets: str | None) -> str:
    """``text`` with each non-empty secret replaced by ``***`` (driver messages can quote
    the connection parameters)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def first_line(error: BaseException, *secrets: str | None) -> str:
    """The first line of a driver error's text, scrubbed, without a trailing period."""
    text = scrubbed(str(error), *secrets).strip().splitlines()
    return (text[0].rstrip(".") if text else type(error).__name__)


# libpq's own lead-in before the server's reason, and the server's severity word: the
# reason is what the person needs, so it comes first and alone.
_LEAD_INS = re.compile(r'^(connection failed: )?(connection to server (at|on) .*?'
                       r'(, port \d+)? failed: )?(FATAL: +|ERROR: +)?')
_PASSWORD_SOURCES = ("PGPASSWORD, else the keyring (service conversions-tui-store, user "
                     "{display}), else ~/.pgpass")
GRANT_HINT = ("ask the database owner to run conversions-tui team init --grant ROLE "
              "(README: A team on one PostgreSQL database)")
"""What to do when the role lacks rights on the app's tables."""


def cause(error: BaseException, *secrets: str | None) -> str:
    """The driver error's reason alone (``connection refused``, ``password authentication
    failed for user "dana"``), scrubbed, without libpq's lead-in."""
    return _LEAD_INS.sub("", first_line(error, *secrets), count=1).strip() or (
        type(error).__name__)


def connect_failure(display: str, error: BaseException, *secrets: str | None) -> str:
    """One sentence for a connection that failed: the login refused (and where the password
    is read from), no such database, or the server not reached; the reason comes first,
    so a narrow banner still shows it."""
    reason = cause(error, *secrets)
    lowered = reason.lower()
    if "password" in lowered or "authentication failed" in lowered or (
            re.search(r'role ".*" does not exist', reason)):
        sources = _PASSWORD_SOURCES.format(display=display)
        return (f"The team database refused the login ({reason}) at {display}: the password "
                f"is read from {sources}.")
    if re.search(r'database ".*" does not exist', reason):
        return (f"The team database does not exist ({reason}) at {display}: check the "
                "database name in the address, or ask the DBA to create it.")
    return (f"The team database cannot be reached ({reason}) at {display}: check the "
            "address and that the server is up.")


def query_failure(action: str, display: str, error: BaseException,
                  *secrets: str | None) -> str:
    """One sentence for a statement the database refused while doing ``action``; a role
    without rights on the app's tables is told how to get them."""
    reason = cause(error, *secrets)
    if "permission denied" in reason.lower():
        return (f"Could not {action} in the team database {display} ({reason}): this role "
                f"has no rights on the app's tables; {GRANT_HINT}.")
    return f"Could not {action} in the team database {display} ({reason})."


# A server that answered but cannot take us *now*: it comes back by itself.
_PASSING = ("starting up", "shutting down", "in recovery mode", "too many clients",
            "connection slots are reserved", "not yet accepting connections")


def unreachable(error: psycopg.Error) -> bool:
    """Whether a failed connection means the server cannot be reached now (refused,
    timed out, not resolved, restarting, full), not that it refused us (a wrong password,
    no password found, an unknown role or database): the driver gives no SQLSTATE for a
    failed connection, so its text tells."""
    if not isinstance(error, psycopg.OperationalError):
        return False
    text = str(error)
    if "fe_sendauth" in text:  # no password found for a server that asks for one
        return False
    if "FATAL:" in text:  # the server answered: only a passing state is "away"
        return any(words in text for words in _PASSING)
    return True


class ServerGone(BaseException):
    """Raised by the pool's check when a dead connection cannot be replaced now: not an
    ``Exception``, so the pool gives it back at once rather than waiting for another
    (see :meth:`TeamConnection._check_pooled`); :meth:`TeamConnection._failing` makes it
    the usual sentence."""

    def __init__(self, error: psycopg.Error) -> None:
        super().__init__(str(error))
        self.error = error
