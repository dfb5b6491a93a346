"""One run of the monitor, put together: profile, folders, watchlist, key and client.

The CLI builds a :class:`MonitorSession`; the UI only asks it for things. This
keeps the composition (which settings, which folders, which key) out of the
widgets and testable without a screen.
"""

from __future__ import annotations

import getpass
import os
import socket
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tui.api.errors import ApiError
from tui.api.models import Profile, StatusEnvelope
from tui.core.audit import AuditLog, AuditTrail
from tui.core.clientbounds import client_bounds
from tui.core.credentials import ApiKey, CredentialStore, KeySource, ResolvedKey
from tui.core.paths import AppPaths
from tui.core.polling.following import WatchlistFollower
from tui.core.polling.leadership import FollowerFactory, Leadership
from tui.core.polling.lock import PollerLock
from tui.core.settings import AppConfig, ProfileSettings
from tui.core.watchlist import Watchlist, WatchlistError
from tui.core.watchstore import WatchStore

if TYPE_CHECKING:  # the client (httpx) is imported when the first one is made
    from tui.api.client import ConversionsClient

__all__ = ["ENV_PERSON", "SESSION_OPEN_ERRORS", "MonitorSession", "ProfileTrackingSource",
           "open_audit", "open_watch_store", "person_for"]

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


ENV_PERSON = "CONVERSIONS_PERSON"


def person_for(profile: ProfileSettings | None, env: Mapping[str, str]) -> str | None:
    """Who this app acts for in a team store: ``CONVERSIONS_PERSON``, else the profile's
    ``person``, else the OS user (on a shared jump host everyone is the same OS user, so
    the first two say who is who). A bad ``CONVERSIONS_PERSON`` is passed over."""
    from tui.core.settings import person_problem

    given = env.get(ENV_PERSON)
    if given is not None and person_problem(given) is None:
        return given.strip()
    if profile is not None and profile.person:
        return profile.person
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return None


@dataclass(frozen=True)
class _TeamParts:
    """A team store and what goes with it: its leader lock, its follower, and its shared
    audit log (around this machine's file, kept for when the database is away)."""

    store: WatchStore
    lead: Leadership
    follower: FollowerFactory
    audit: Callable[[AuditLog], AuditTrail]


def _open_team_store(profile: ProfileSettings, env: Mapping[str, str],
                     paths: AppPaths | None = None) -> _TeamParts | None:
    """The team store the profile (or ``CONVERSIONS_STORE``) names, with its leader lock,
    follower and audit log; None for the SQLite watchlist. Its failures come as a
    WatchlistError, one sentence (psycopg loads only here, for a profile that uses it).

    With ``paths`` (the monitor) the store keeps this machine's copy of the rows in the
    profile's data folder, and a server that cannot be reached at start is no failure:
    the store starts away, showing that copy, and reconnects by itself."""
    if not (profile.store or env.get("CONVERSIONS_STORE")):
        return None
    from tui.core.teamstore import LeaderLock, TeamStore, TeamStoreError, resolve_store_address
    from tui.core.teamstore.audit import TeamAudit
    from tui.core.teamstore.following import TeamLeadership, team_follower
    from tui.core.teamstore.mirror import TeamMirror, mirror_path

    try:
        address = resolve_store_address(profile.store, environ=env,
                                        source=f"the store of profile {profile.name!r}")
        if address is None:
            return None
        person = person_for(profile, env)
        mirror = None if paths is None else TeamMirror(
            mirror_path(paths.profile_data_dir(profile.name), address.display,
                        profile.base_url),
            store=address.display, base_url=profile.base_url)
        store = TeamStore(address, profile.base_url, person, start_away=paths is not None,
                          mirror=mirror)
    except TeamStoreError as error:
        raise WatchlistError(str(error)) from None
    lead = TeamLeadership(LeaderLock(address, profile.base_url,
                                     f"{person or '?'}@{socket.gethostname()}"), store=store)
    return _TeamParts(store, lead, team_follower, lambda local: TeamAudit(store, local))


def open_watch_store(paths: AppPaths, profile: ProfileSettings,
                     env: Mapping[str, str] | None = None) -> WatchStore:
    """The profile's store for a command without a poller (``watch``): the team's when
    the profile or ``CONVERSIONS_STORE`` names one, else its own SQLite watchlist.
    Raises WatchlistError (one sentence) when it cannot be opened."""
    team = _open_team_store(profile, dict(os.environ) if env is None else env)
    if team is not None:
        return team.store
    paths.ensure(profile.name)
    return Watchlist(paths.watchlist_db(profile.name))


def open_audit(paths: AppPaths, profile: ProfileSettings, store: WatchStore) -> AuditTrail:
    """The audit trail of a command that acts on ``store`` (``watch``, ``upload``, ``list
    --refresh``): the team's shared log, signed by its person, when ``store`` is a team
    store (this machine's file kept under it for while the database is away), else the
    profile's own file. The caller closes it (the store stays the caller's)."""
    paths.ensure(profile.name)
    local = AuditLog(paths.audit_db(profile.name))
    if isinstance(store, Watchlist):
        return local
    from tui.core.teamstore import TeamStore
    from tui.core.teamstore.audit import TeamAudit

    return TeamAudit(store, local) if isinstance(store, TeamStore) else local


@dataclass
class MonitorSession:
    """Everything one run of the app needs; built by the CLI, used by the UI."""

    paths: AppPaths
    config: AppConfig
    profile: ProfileSettings
    watchlist: WatchStore
    audit: AuditTrail
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
    # A team store's: its advisory lock and the follower that LISTENs (open() sets them).
    follower: FollowerFactory = field(default=WatchlistFollower, repr=False)
    _poller_lock: Leadership | None = field(default=None, init=False, repr=False)

    @property
    def poller_lock(self) -> Leadership:
        """What makes this monitor the one that polls its store: a lock file beside the
        watchlist file, or a team store's advisory lock."""
        if self._poller_lock is None:
            assert isinstance(self.watchlist, Watchlist)
            self._poller_lock = PollerLock(self.watchlist.path)
        return self._poller_lock

    @property
    def team_store(self) -> str | None:
        """``user@host:port/db`` of the team store this session uses, or None (SQLite)."""
        return None if isinstance(self.watchlist, Watchlist) else str(
            getattr(self.watchlist, "address", "?"))

    @classmethod
    def open(cls, paths: AppPaths, config: AppConfig, profile: ProfileSettings, *,
             demo: bool = False, read_only: bool = False, preset_key: ApiKey | None = None,
             initial_ids: list[int] | None = None,
             env: Mapping[str, str] | None = None) -> MonitorSession:
        """Create the profile's folders and open its store (the SQLite watchlist, or the
        team's PostgreSQL store the profile or ``CONVERSIONS_STORE`` names: one that
        cannot be reached now opens away, showing this machine's copy) and audit log."""
        paths.ensure(profile.name)
        env = dict(os.environ) if env is None else env
        team = _open_team_store(profile, env, paths)
        watchlist: WatchStore = (team.store if team is not None
                                 else Watchlist(paths.watchlist_db(profile.name)))
        try:
            local = AuditLog(paths.audit_db(profile.name))
        except BaseException:
            watchlist.close()
            raise
        audit = team.audit(local) if team is not None else local
        session = cls(
            paths=paths,
            config=config,
            profile=profile,
            watchlist=watchlist,
            audit=audit,
            demo=demo,
            read_only=read_only or profile.read_only,
            preset_key=preset_key,
            initial_ids=list(initial_ids or []),
            env=env,
        )
        if team is not None:
            session._poller_lock, session.follower = team.lead, team.follower
        return session

    async def resolve_key(self) -> ResolvedKey:
        """The key to use: the preset (demo), else env, else keyring (off-thread, bounded)."""
        if self.preset_key is not None:
            return ResolvedKey(key=self.preset_key, source=KeySource.ENV, problem=None)
        return await self.credentials.resolve(self.profile.name, self.env)

    def open_client(self, key: ApiKey) -> ProfileTrackingSource:
        """A client for this profile's server with ``key``, wrapped to note the user (the
        audit log masks ``key`` from now on: the team's database never holds it)."""
        self.audit.redact(key)
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
