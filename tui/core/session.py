"""One run of the monitor, put together: profile, folders, watchlist, key and client.

The CLI builds a :class:`MonitorSession`; the UI only asks it for things. This
keeps the composition (which settings, which folders, which key) out of the
widgets and testable without a screen.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tui.api.errors import ApiError
from tui.api.models import Profile, StatusEnvelope
from tui.core.audit import AuditLog
from tui.core.clientbounds import client_bounds
from tui.core.credentials import ApiKey, CredentialStore, KeySource, ResolvedKey
from tui.core.paths import AppPaths
from tui.core.polling.lock import PollerLock
from tui.core.settings import AppConfig, ProfileSettings
from tui.core.watchlist import Watchlist, WatchlistError

if TYPE_CHECKING:  # the client (httpx) is imported when the first one is made
    from tui.api.client import ConversionsClient

__all__ = ["SESSION_OPEN_ERRORS", "MonitorSession", "ProfileTrackingSource"]

# What MonitorSession.open may raise for a folder or database the user can fix: shown as a
# sentence, never a traceback.
SESSION_OPEN_ERRORS: tuple[type[Exception], ...] = (WatchlistError, OSError, sqlite3.Error)


class ProfileTrackingSource:
    """A status source that remembers whose key it holds (the envelope's profile).

    Every authenticated answer carries the profile, a 404 included, so the header
    can say who the key belongs to without an extra request.
    """

    def __init__(self, client: ConversionsClient, session: MonitorSession) -> None:
        self._client = client
        self._session = session

    @property
    def client(self) -> ConversionsClient:
        """The wrapped client (for delete and upload)."""
        return self._client

    async def get_status(self, conversion_id: int) -> StatusEnvelope:
        """Ask for one status; note the profile of the answer, error answers included."""
        try:
            envelope = await self._client.get_status(conversion_id)
        except ApiError as error:
            if error.envelope is not None and error.envelope.profile is not None:
                self._session.last_profile = error.envelope.profile
            raise
        if envelope.profile is not None:
            self._session.last_profile = envelope.profile
        return envelope

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


@dataclass
class MonitorSession:
    """Everything one run of the app needs; built by the CLI, used by the UI."""

    paths: AppPaths
    config: AppConfig
    profile: ProfileSettings
    watchlist: Watchlist
    audit: AuditLog
    credentials: CredentialStore = field(default_factory=CredentialStore)
    demo: bool = False
    read_only: bool = False
    preset_key: ApiKey | None = None
    initial_ids: list[int] = field(default_factory=list)
    #: The saved view to open first (``--view NAME``; tui.core.savedviews), if any.
    initial_view: str | None = None
    # repr=False: the environment may hold CONVERSIONS_API_KEY.
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ), repr=False)
    last_profile: Profile | None = None
    _poller_lock: PollerLock | None = field(default=None, init=False, repr=False)

    @property
    def poller_lock(self) -> PollerLock:
        """The lock that makes this monitor the one that polls its watchlist file."""
        if self._poller_lock is None:
            self._poller_lock = PollerLock(self.watchlist.path)
        return self._poller_lock

    @classmethod
    def open(cls, paths: AppPaths, config: AppConfig, profile: ProfileSettings, *,
             demo: bool = False, read_only: bool = False, preset_key: ApiKey | None = None,
             initial_ids: list[int] | None = None,
             env: Mapping[str, str] | None = None) -> MonitorSession:
        """Create the profile's folders and open its watchlist and audit log."""
        paths.ensure(profile.name)
        watchlist = Watchlist(paths.watchlist_db(profile.name))
        try:
            audit = AuditLog(paths.audit_db(profile.name))
        except BaseException:
            watchlist.close()
            raise
        return cls(
            paths=paths,
            config=config,
            profile=profile,
            watchlist=watchlist,
            audit=audit,
            demo=demo,
            read_only=read_only or profile.read_only,
            preset_key=preset_key,
            initial_ids=list(initial_ids or []),
            env=dict(os.environ) if env is None else env,
        )

    async def resolve_key(self) -> ResolvedKey:
        """The key to use: the preset (demo), else env, else keyring (off-thread, bounded)."""
        if self.preset_key is not None:
            return ResolvedKey(key=self.preset_key, source=KeySource.ENV, problem=None)
        return await self.credentials.resolve(self.profile.name, self.env)

    def open_client(self, key: ApiKey) -> ProfileTrackingSource:
        """A client for this profile's server with ``key``, wrapped to note the user."""
        verify: bool | str = self.profile.ca_bundle or True
        from tui.api.client import ConversionsClient

        client = ConversionsClient(self.profile.base_url, key.reveal(), verify=verify,
                                   **client_bounds(self.profile))
        return ProfileTrackingSource(client, self)

    def close(self) -> None:
        """Close the databases and let another monitor poll."""
        if self._poller_lock is not None:
            self._poller_lock.release()
        self.watchlist.close()
        self.audit.close()
