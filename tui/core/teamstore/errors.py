"""The one error the team store raises: a sentence fit to show as it is.

Every failure of the PostgreSQL store (no address, a password in the address, the server
unreachable, a refused login, a schema made by a newer app, a lost connection) becomes a
:class:`TeamStoreError` whose text says what happened and what to do, in one sentence. It
never holds the database password: messages are built here from safe parts, and any text
that came from the driver is scrubbed of the password first (see :func:`scrubbed`).
"""

from __future__ import annotations

from tui.core.watchstore import StoreRefused

__all__ = ["TeamStoreError", "TeamStoreUnreachable", "scrubbed"]


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
