"""The one owner of the watched conversions: :class:`WatchService`.

The UI and the CLI watch, unwatch, note, acknowledge, snooze, mark read, delete and upload
through it, never by writing the store and telling the table and the scheduler one by one.
It holds the session's watchlist store, the audit log and its part in polling
(:class:`~tui.core.polling.role.PollerRole`): the
:class:`~tui.core.poller.PollScheduler` while it polls, or, while another monitor holds the
poller lock (or this one may not poll: no key, a refused key, paused), a
:class:`~tui.core.polling.following.WatchlistFollower`.

Whatever changes the watched rows (a poll result, another process's write, or one of
the service's own writes) reaches the screen as one message type, :class:`WatchChange`,
through one callback: the screen applies it to its table and keeps no list of its own.

The service remembers the IDs unwatched through it in this session, so a poll or
delete answer already on its way for one of them never brings its row back; adding
the ID again (here or in another process) lifts that.

Runs on one event loop (the app's); the CLI uses it without a poller at all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tui.core.audit import AuditTrail, record_confirmed_deletions
from tui.core.deletion import (
    DeleteOutcome,
    DeleteResult,
    DeleteSummary,
    DeletingClient,
    delete_conversions,
)
from tui.core.polling.asking import AskingFollower, CheckNews, FollowerChecks
from tui.core.polling.following import FOLLOW_INTERVAL, WatchlistFollower
from tui.core.polling.leadership import FollowerFactory, Leadership, PollerHolder
from tui.core.polling.role import PollerRole
from tui.core.polling.scheduler import PollScheduler
from tui.core.polling.types import PollSettings, PollUpdate, StatusSource
from tui.core.unread import is_unread
from tui.core.watch_change import Spawn, WatchChange, spawn_task
from tui.core.watchlist import WatchedConversion
from tui.core.watchstore import RefusesWhileAway, WatchStore

if TYPE_CHECKING:
    from tui.core.session import MonitorSession

__all__ = ["Spawn", "WatchChange", "WatchService"]

log = logging.getLogger(__name__)

class _UploadSink:
    """What the uploader writes to: each batch's accepted IDs go through the service."""

    def __init__(self, service: WatchService,
                 on_accepted: Callable[[list[int]], None] | None) -> None:
        self._service = service
        self._on_accepted = on_accepted

    def add(self, ids: Iterable[int], *, note: str | None = None) -> list[int]:
        """Watch one batch's accepted ``ids`` with the upload's ``note``."""
        wanted = list(ids)
        added = self._service.uploaded(wanted, note=note)
        if self._on_accepted is not None:
            self._on_accepted(wanted)
        return added


class WatchService:
    """Owns the watched conversions of one watchlist file (see the module docstring)."""

    def __init__(self, watchlist: WatchStore, audit: AuditTrail, *, profile_name: str,
                 user: Callable[[], str | None] = lambda: None,
                 on_change: Callable[[WatchChange], None] | None = None,
                 poller_lock: Leadership | None = None,
                 settings: PollSettings | None = None,
                 follow_interval: float = FOLLOW_INTERVAL,
                 spawn: Spawn | None = None,
                 follower: FollowerFactory = WatchlistFollower,
                 answer_within: float | None = None) -> None:
        self.watchlist = watchlist
        self.audit = audit
        self._profile_name = profile_name
        self._user = user
        self._on_change = on_change
        settings = settings if settings is not None else PollSettings()
        self._asks = FollowerChecks(answer_within, settings.interval)  # r, following
        # Polls, or follows the monitor that polls (a team store's follows its database).
        self._role = PollerRole(watchlist, poller_lock, settings=settings,
                                follow_interval=follow_interval,
                                spawn=spawn if spawn is not None else spawn_task,
                                follower=follower, since=lambda: self._loaded_seq,
                                on_update=self._polled, emit=self._emit)
        # Unwatched through this service (until added again): late answers are dropped.
        self._unwatched: set[int] = set()
        self._loaded_seq = 0  # the file's change feed number when the rows were read
        # Where an unwatch or a mark applies, for the audit log (a team store's is everyone's).
        self._scope = ("local only" if getattr(watchlist, "address", None) is None
                       else "team watchlist, not the server")

    @classmethod
    def for_session(cls, session: MonitorSession, *,
                    on_change: Callable[[WatchChange], None] | None = None,
                    spawn: Spawn | None = None) -> WatchService:
        """The service of a :class:`~tui.core.session.MonitorSession`: its store, audit
        log, poller lock and poll settings; the key owner (once known) as the user."""

        def user() -> str | None:
            profile = session.last_profile
            return profile.email if profile is not None else None

        profile = session.profile
        return cls(session.watchlist, session.audit, profile_name=profile.name, user=user,
                   on_change=on_change, poller_lock=session.poller_lock,
                   settings=PollSettings.from_profile(profile), spawn=spawn,
                   follower=session.follower,
                   # Takeover within two poll intervals, however short the profile's.
                   follow_interval=max(0.1, min(FOLLOW_INTERVAL, profile.poll_interval)))

    # ------------------------------------------------------------------ state
    @property
    def scheduler(self) -> PollScheduler | None:
        """The :class:`~tui.core.poller.PollScheduler` while this service polls, else None."""
        return self._role.scheduler

    @property
    def following(self) -> bool:
        """True while this service follows the store (another monitor polls, or may)."""
        return self._role.follower is not None

    @property
    def can_ask(self) -> bool:
        """True while following a leader that can be asked to check rows now (a team's)."""
        return isinstance(self._role.follower, AskingFollower)

    @property
    def poller_holder(self) -> PollerHolder | None:
        """Who polls this file while this service follows (as the lock file says)."""
        follower = self._role.follower
        return follower.holder if follower is not None else None

    @property
    def paused(self) -> bool:
        """True while the person paused polling here (leading or following)."""
        return self._role.paused

    @property
    def has_key(self) -> bool:
        """True once a key was given (:meth:`set_client`)."""
        return self._role.client is not None

    @property
    def key_refused(self) -> bool:
        """True while the server refuses the key in use (until a new one is given)."""
        return self._role.key_refused

    @property
    def store_away(self) -> bool:
        """True while following and the store cannot be read: who polls is unknown."""
        return self._role.store_away

    @property
    def unwatched_here(self) -> frozenset[int]:
        """IDs unwatched through this service and not added again since."""
        return frozenset(self._unwatched)

    def load(self, initial_ids: Sequence[int] = (), *,
             first_rows: Callable[[list[WatchedConversion]], None] | None = None,
             first_count: int = 300) -> list[WatchedConversion]:
        """Watch ``initial_ids`` (the command line's), then every stored row: the first
        screen. Emits nothing (safe from a thread); a follower starts after this read.

        A watchlist of ``first_count`` rows or more first hands its first rows by ID to
        ``first_rows`` (to be shown before the long read of every row)."""
        try:
            if initial_ids:
                self.watchlist.add(initial_ids)
        finally:
            # The number first: a follower then misses nothing written while reading.
            self._loaded_seq = self.watchlist.feed_seq()
        if first_rows is not None:
            head = self.watchlist.head(first_count)
            if len(head) == first_count:
                first_rows(head)
        return self.watchlist.all()

    # ----------------------------------------------------------------- writes
    def watch(self, ids: Iterable[int], note: str | None = None) -> list[int]:
        """Watch ``ids`` (a note goes on those without one); returns the newly watched."""
        wanted = list(dict.fromkeys(ids))
        added = self.watchlist.add(wanted, note=note)
        self._unwatched.difference_update(wanted)
        if self._role.scheduler is not None:
            self._role.scheduler.watch(added)
        self._emit(WatchChange(rows=self._read(wanted if note else added),
                               added=tuple(added)))
        return added

    def check_writable(self, action: str) -> bool:
        """True, or the store's StoreRefused sentence when it cannot take writes now (the
        team database away): an upload then stops before it sends anything."""
        if isinstance(self.watchlist, RefusesWhileAway):
            self.watchlist.refuse_while_away(action)
        return True

    def uploaded(self, ids: Iterable[int], note: str | None = None) -> list[int]:
        """``ids`` were accepted by an upload: watched with its ``note`` and checked at
        once, even those an earlier check called "not found". Returns the newly watched."""
        wanted = list(dict.fromkeys(ids))
        added = self.watchlist.add(wanted, note=note)
        self._unwatched.difference_update(wanted)
        if self._role.scheduler is not None:
            self._role.scheduler.uploaded(wanted)
        try:
            self._emit(WatchChange(rows=self._read(wanted), added=tuple(added)))
        except Exception:  # the screen's trouble must not stop an upload half sent
            log.exception("showing %d uploaded IDs failed", len(wanted))
        return added

    def upload_sink(self, on_accepted: Callable[[list[int]], None] | None = None
                    ) -> _UploadSink:
        """What :class:`~tui.core.upload.Uploader` writes accepted IDs to (see
        :meth:`uploaded`); ``on_accepted`` hears each batch's IDs after."""
        return _UploadSink(self, on_accepted)

    def unwatch(self, ids: Iterable[int]) -> int:
        """Stop watching ``ids`` (never on the server; audited); returns how many were watched.

        The store keeps their notes and history: :meth:`undo_unwatch` (or watching them
        again) brings them back.
        """
        wanted = list(dict.fromkeys(ids))
        # The store first: a refusal (the database away) leaves the rows as they were.
        removed = self.watchlist.remove(wanted)
        self._unwatched.update(wanted)
        if self._role.scheduler is not None:
            self._role.scheduler.unwatch(wanted)
        self.audit.append("unwatch", wanted, f"done ({self._scope})", self._profile_name,
                          self._user())
        self._emit(WatchChange(removed=tuple(wanted)))
        return removed

    def undo_unwatch(self, ids: Iterable[int]) -> list[int]:
        """Watch again what an unwatch removed, notes and history included (audited);
        returns those watched again (none: they were added again meanwhile)."""
        wanted = list(dict.fromkeys(ids))
        added = self.watchlist.add(wanted)
        if not added:
            return []
        self._unwatched.difference_update(wanted)
        if self._role.scheduler is not None:
            self._role.scheduler.watch(added)
        self.audit.append("watch", added, f"undo of unwatch ({self._scope})",
                          self._profile_name, self._user())
        self._emit(WatchChange(rows=self._read(added), added=tuple(added)))
        return added

    def set_note(self, ids: Iterable[int], note: str | None) -> None:
        """Put ``note`` on each of ``ids`` (None or empty removes it)."""
        wanted = list(dict.fromkeys(ids))
        for conversion_id in wanted:
            self.watchlist.set_note(conversion_id, note or None)
        self._emit(WatchChange(rows=self._read(wanted)))

    def mark_read(self, ids: Iterable[int], at: float | None = None) -> int:
        """The person looked at ``ids`` (the cursor rested on them, Inspect, "mark all
        read"): those unread (:func:`~tui.core.unread.is_unread`) are stamped read at
        ``at`` (now) and emitted; returns how many. Rows already read cost no write."""
        wanted = list(dict.fromkeys(ids))
        rows = self.watchlist.get_many(wanted)
        unread = [i for i in wanted if i in rows and is_unread(rows[i])]
        if not unread:
            return 0
        self.watchlist.mark_read(unread, time.time() if at is None else at)
        self._emit(WatchChange(rows=self._read(unread)))
        return len(unread)

    def acknowledge(self, ids: Iterable[int], *, at: float | None = None) -> list[int]:
        """Acknowledge ``ids`` ("I have this one": no alerts, out of the "need attention"
        count until something new happens to them; see :mod:`tui.core.attention`).
        Audited; returns those watched."""
        when = time.time() if at is None else at
        done = self.watchlist.acknowledge(list(dict.fromkeys(ids)), when)
        return self._after_mark(done, "acknowledge", f"done ({self._scope})", at=when)

    def unacknowledge(self, ids: Iterable[int]) -> list[int]:
        """Take the acknowledgement off ``ids`` (audited); returns those watched."""
        done = self.watchlist.clear_acknowledged(list(dict.fromkeys(ids)))
        return self._after_mark(done, "unacknowledge", f"done ({self._scope})")

    def snooze(self, ids: Iterable[int], until: float | None) -> list[int]:
        """Snooze ``ids`` until ``until`` (unix seconds; None ends the snooze): no alerts
        and out of the "need attention" count until then. Audited; returns those watched."""
        done = self.watchlist.snooze(list(dict.fromkeys(ids)), until)
        if until is None:
            return self._after_mark(done, "unsnooze", f"done ({self._scope})")
        stamp = datetime.fromtimestamp(until, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return self._after_mark(done, "snooze", f"done ({self._scope})", detail=f"until {stamp}")

    def _after_mark(self, done: list[int], action: str, outcome: str, *,
                    detail: str | None = None, at: float | None = None) -> list[int]:
        """Audit a change of the attention marks of ``done`` and show their rows."""
        if done:
            self.audit.append(action, done, outcome, self._profile_name, self._user(),
                              detail=detail, at=at)
            self._emit(WatchChange(rows=self._read(done)))
        return done

    async def delete(self, client: DeletingClient, ids: Sequence[int], *,
                     on_outcome: Callable[[DeleteResult], None] | None = None
                     ) -> DeleteSummary:
        """Ask the server to delete ``ids`` (audited); a delete it accepts is polled at
        the active rate until Deleted. Each outcome's row is emitted as it comes, then
        handed to ``on_outcome`` (not for IDs unwatched while the delete ran)."""

        def outcome(result: DeleteResult) -> None:
            if result.id in self._unwatched:
                return  # unwatched while the delete ran: nothing to follow or show
            if result.outcome is DeleteOutcome.REQUESTED and self._role.scheduler is not None:
                self._role.scheduler.expect_deletion(result.id)
            self._emit(WatchChange(rows=self._read([result.id])))
            if on_outcome is not None:
                on_outcome(result)

        return await delete_conversions(client, self.watchlist, self.audit, ids,
                                        profile_name=self._profile_name, user=self._user(),
                                        on_outcome=outcome)

    # ---------------------------------------------------------------- polling
    def begin(self) -> None:
        """Follow the store before any key is given (following needs none); the lead is
        tried once a key is (:meth:`set_client`)."""
        self._role.begin()

    def set_client(self, client: StatusSource) -> None:
        """Use ``client`` (a new key) from now on. The first call starts polling, or
        following the store while another monitor holds its poller lock; while following,
        the lead is taken at the follower's next look if nobody holds it."""
        self._role.set_client(client)

    def refresh(self, ids: Iterable[int] | None = None) -> None:
        """Check ``ids`` (every watched one when None) now; nothing while not polling."""
        if self._role.scheduler is not None:
            self._role.scheduler.refresh(ids)

    async def ask_check(self, ids: Sequence[int] | None,
                        on_news: Callable[[CheckNews], None]) -> None:
        """While following (:attr:`can_ask`): ask the leader to check ``ids`` now (None:
        all), else check a few here (:class:`~tui.core.polling.asking.FollowerChecks`)."""
        follower, client = self._role.follower, self._role.client
        if isinstance(follower, AskingFollower) and client is not None:
            await self._asks.run(follower, ids, client, self.watchlist, on_news,
                                 self._polled)

    def pause(self) -> None:
        """Pause automatic polling: a leader lets another monitor poll (see
        :mod:`tui.core.polling.role`); a follower does not take the lead meanwhile."""
        self._role.pause()

    def resume(self) -> None:
        """Resume automatic polling (or try the lead again, while following)."""
        self._role.resume()

    def stop(self) -> None:
        """Stop polling or following; another monitor on the file may poll at once."""
        self._role.stop()

    def _polled(self, update: PollUpdate) -> None:
        """A poll update (the scheduler's or the follower's), as one :class:`WatchChange`."""
        # Added again elsewhere (another window, the CLI): shown and polled once more.
        self._unwatched.difference_update(update.added)
        # Phase two of a delete (Deleted, or 404 after the request) is audited when seen.
        record_confirmed_deletions(self.audit, update.changes, update.rows,
                                   profile=self._profile_name, user=self._user())
        # An answer queued before the row was unwatched here must not bring it back; a
        # follower's feed echoes this service's own unwatches: not news either.
        unwatched = self._unwatched
        self._emit(WatchChange(
            rows=tuple(row for row in update.rows if row.id not in unwatched),
            removed=tuple(i for i in update.removed if i not in unwatched),
            added=tuple(update.added), changes=tuple(update.changes),
            connectivity=update.connectivity, elsewhere=True))

    def _read(self, ids: Sequence[int]) -> tuple[WatchedConversion, ...]:
        found = self.watchlist.get_many(ids)
        return tuple(found[i] for i in ids if i in found)

    def _emit(self, change: WatchChange) -> None:
        if self._on_change is not None:
            self._on_change(change)
