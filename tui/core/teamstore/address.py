"""Where the team store lives, and its password, kept apart.

The address comes from ``CONVERSIONS_STORE`` (first) or the profile's ``store =
"postgresql://user@host:5432/db"``. It must not carry a password: the config file is read
by people and copied into tickets, and the environment of a process can be read by others.
The password comes from (in this order) ``PGPASSWORD``, the system keyring (service
:data:`KEYRING_SERVICE`, user name ``user@host:port/dbname``) or libpq's own ``~/.pgpass``
(``PGPASSFILE``). It is looked up at each connection, handed to the driver only, and is in
no repr, log or error of ours.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tui.core.teamstore.errors import TeamStoreError

__all__ = [
    "APP_NAME_PREFIX",
    "ENV_STORE",
    "KEEPALIVES",
    "KEYRING_SERVICE",
    "StoreAddress",
    "resolve_store_address",
]

ENV_STORE = "CONVERSIONS_STORE"

# TCP keepalives: a server that vanished (cable, crash) is noticed in about 25 s at the
# latest, even by an idle connection.
KEEPALIVES: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 10,
                               "keepalives_interval": 5, "keepalives_count": 3}

APP_NAME_PREFIX = "conversions-tui"
"""Every connection's ``application_name`` starts so (``team status`` counts members)."""
KEYRING_SERVICE = "conversions-tui-store"
_SCHEMES = ("postgresql://", "postgres://")
# A keyring that hangs (a locked Secret Service waiting for a prompt) must not hang the app:
# past this, the keyring is skipped and libpq tries ~/.pgpass.
_KEYRING_TIMEOUT = 5.0


@dataclass(frozen=True)
class StoreAddress:
    """A PostgreSQL store's address, without any password; safe to show and log."""

    url: str
    source: str  # where it was given: "CONVERSIONS_STORE" or "the profile's store"
    user: str | None
    host: str
    port: str
    dbname: str

    @property
    def display(self) -> str:
        """``user@host:port/dbname``: what the app shows and the keyring is keyed by."""
        who = f"{self.user}@" if self.user else ""
        return f"{who}{self.host}:{self.port}/{self.dbname}"

    def __str__(self) -> str:
        return self.display

    def connect_kwargs(self, application_name: str,
                       environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """What the driver needs to connect (the password included when the keyring has
        it and ``PGPASSWORD`` is not set); never log or show this mapping."""
        env = os.environ if environ is None else environ
        kwargs: dict[str, Any] = {"application_name": application_name[:63]}
        if not env.get("PGPASSWORD"):
            password = _keyring_password(self.display)
            if password:
                kwargs["password"] = password
        return kwargs

    def password_hint(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The password the driver may have used (for scrubbing messages), if we know it."""
        env = os.environ if environ is None else environ
        return env.get("PGPASSWORD") or None


def _keyring_password(account: str) -> str | None:
    """The keyring's password for ``account``, or None (none, no keyring, or no answer)."""
    found: list[str | None] = []

    def read() -> None:
        try:
            import keyring

            found.append(keyring.get_password(KEYRING_SERVICE, account))
        except Exception:  # no backend, locked, broken: libpq tries ~/.pgpass next
            found.append(None)

    reader = threading.Thread(target=read, name="store-keyring", daemon=True)
    reader.start()
    reader.join(_KEYRING_TIMEOUT)
    return found[0] if found else None


def resolve_store_address(profile_store: str | None,
                          environ: Mapping[str, str] | None = None, *,
                          source: str = "the profile's store") -> StoreAddress | None:
    """The team store's address from ``CONVERSIONS_STORE`` or the profile's ``store``;
    None when neither names one (the SQLite watchlist is used). Raises
    :class:`TeamStoreError` for an address that is not a PostgreSQL URL or that holds a
    password (the message never repeats the address: it might hold the password; it names
    where the address came from: ``CONVERSIONS_STORE``, else ``source``)."""
    env = os.environ if environ is None else environ
    given = (env.get(ENV_STORE) or "").strip()
    if given:
        source = ENV_STORE
    else:
        given = (profile_store or "").strip()
    if not given:
        return None
    if not given.startswith(_SCHEMES):
        raise TeamStoreError(f"{source} is not a PostgreSQL address: write it as "
                             "postgresql://user@host:5432/dbname.")
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(given)
    except Exception:  # the driver's message quotes the text, which may hold a password
        raise TeamStoreError(f"{source} is not a valid PostgreSQL address: write it as "
                             "postgresql://user@host:5432/dbname.") from None
    if parts.get("password") is not None:
        raise TeamStoreError(f"{source} holds a password, which is not used from there: "
                             "remove it and set PGPASSWORD, add it to ~/.pgpass, or store it "
                             f"in the keyring (service {KEYRING_SERVICE}).")
    if not parts.get("dbname"):
        raise TeamStoreError(f"{source} names no database: write it as "
                             "postgresql://user@host:5432/dbname.")
    host = str(parts.get("host") or "localhost")
    port = str(parts.get("port") or "5432")
    user = str(parts["user"]) if parts.get("user") else None
    return StoreAddress(url=given, source=source, user=user, host=host, port=port,
                        dbname=str(parts["dbname"]))
