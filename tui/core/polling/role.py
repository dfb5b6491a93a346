"""Whether this monitor polls its store (it leads) or follows the one that does.

Only a monitor that polls may hold the lead (the poller lock: a file lock beside a
personal watchlist, a team store's advisory lock). A monitor without a key, whose key the
server refused, or that its person paused, does not poll: it lets the lead go (after its
scheduler's last results are written) and follows like any other, and while it stays so
its follower does not take the lead (:class:`LeadGate`). Entering a good key or resuming
lets it try again: its follower takes the lead at its next look if nobody holds it.

A monitor on a store with a lock follows from the start, key or not (:meth:`begin`):
following needs no key. Without a lock (the CLI; no ``fcntl``) the old rules hold: the
scheduler pauses in place and waits for a new key.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from tui.core.polling.leadership import (
    Follower,
    FollowerFactory,
    Leadership,
    LosableLeadership,
    PollerHolder,
    WriteNotices,
)
from tui.core.polling.scheduler import PollScheduler
from tui.core.polling.types import (
    Connectivity,
    ConnectivityState,
    PollSettings,
    PollUpdate,
    StatusSource,
)
from tui.core.watch_change import Spawn, WatchChange
from tui.core.watchstore import StoreRefused, WatchStore

__all__ = ["LeadGate", "PollerRole"]

log = logging.getLogger(__name__)

_LANDING_LOOK = 0.05  # seconds between looks at the checks still on the wire, stepping down


class LeadGate:
    """The lock as a follower sees it: not taken while its monitor may not poll."""

    def __init__(self, lock: Leadership, may_lead: Callable[[], bool]) -> None:
        self.lock = lock
        self._may_lead = may_lead

    def __repr__(self) -> str:
        return f"LeadGate({self.lock!r})"

    def try_acquire(self) -> bool:
        """Take the lead if this monitor may poll and nobody holds it."""
        return self._may_lead() and self.lock.try_acquire()

    def holder(self) -> PollerHolder | None:
        """Who holds the lead now, if known."""
        return self.lock.holder()

    def release(self) -> None:
        """Give the lead up."""
        self.lock.release()


class PollerRole:
    """This monitor's part in polling a store (see the module docstring): the scheduler
    while it leads, the follower while another leads (or while it may not poll)."""

    def __init__(self, watchlist: WatchStore, lock: Leadership | None, *,
                 settings: PollSettings, follow_interval: float, spawn: Spawn,
                 follower: FollowerFactory, since: Callable[[], int],
                 on_update: Callable[[PollUpdate], None],
                 emit: Callable[[WatchChange], None]) -> None:
        self._watchlist = watchlist
        self._lock = lock
        self._gate = LeadGate(lock, self.may_lead) if lock is not None else None
        self._settings = settings
        self._follow_interval = follow_interval
        self._spawn = spawn
        self._make_follower = follower
        self._since = since  # the feed number the rows on screen were read at
        self._on_update = on_update
        self._emit = emit
        self.client: StatusSource | None = None
        self.scheduler: PollScheduler | None = None
        self.follower: Follower | None = None
        self._paused = False
        self._refused: Connectivity | None = None  # the server refused the key
        self._store_away = False  # the follower's last word: the store cannot be read
        self._ends: dict[PollScheduler, asyncio.Event] = {}  # set when a run has ended
        self._leaving: PollScheduler | None = None  # stepping down: its last checks land

    # ------------------------------------------------------------------ state
    @property
    def paused(self) -> bool:
        """True while the person paused polling (leading or not)."""
        return self._paused

    @property
    def key_refused(self) -> bool:
        """True while the server refuses the key in use (until a new one is given)."""
        if self._refused is not None:
            return True
        return bool(self.scheduler is not None
                    and self.scheduler.connectivity.state is ConnectivityState.AUTH_FAILED)

    @property
    def store_away(self) -> bool:
        """True while following and the store cannot be read (who leads is unknown)."""
        return self.follower is not None and self._store_away

    def may_lead(self) -> bool:
        """Whether this monitor may poll: a key the server did not refuse, not paused."""
        return self.client is not None and self._refused is None and not self._paused

    # ---------------------------------------------------------------- changes
    def begin(self) -> None:
        """Follow the store now, before any key (a store without a lock: nothing)."""
        if self._lock is not None and self.scheduler is None and self.follower is None:
            self._follow()

    def set_client(self, client: StatusSource) -> None:
        """Use ``client`` (a new key). Not following yet: poll now if the lead is free,
        else follow; following: the follower takes the lead at its next look if free."""
        self.client = client
        if self._refused is not None:
            # Refused no more, until the server says so of this key: the banner goes.
            self._refused = None
            self._emit(WatchChange(connectivity=Connectivity(ConnectivityState.ONLINE, None)))
        if self.scheduler is not None:
            self.scheduler.set_client(client)
        elif self.follower is None:
            if self._lock is None or (not self._paused and self._lock.try_acquire()):
                self._start_scheduler(client)
            else:
                self._follow()

    def pause(self) -> None:
        """Stop polling: a leader lets the lead go (another monitor may poll) and follows."""
        self._paused = True
        if self.scheduler is None:
            return
        if self._lock is None:
            self.scheduler.pause()
        else:
            self._step_down(self.scheduler)

    def resume(self) -> None:
        """Poll again: in place without a lock, else the follower tries the lead."""
        self._paused = False
        if self.scheduler is not None:
            self.scheduler.resume()

    def stop(self) -> None:
        """Stop polling or following; another monitor may poll at once."""
        leaving, self._leaving = self._leaving, None
        if leaving is not None:
            leaving.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        if (self.scheduler is not None or leaving is not None) and self._lock is not None:
            self._lock.release()
        if self.follower is not None:
            self.follower.stop()

    # --------------------------------------------------------------- internal
    def _start_scheduler(self, client: StatusSource) -> None:
        scheduler = PollScheduler(client, self._watchlist, self._settings,
                                  on_update=lambda update: self._from_scheduler(
                                      scheduler, update))
        self.scheduler = scheduler
        if self._paused:
            scheduler.pause()  # no lock to hand over: paused in place
        ended = asyncio.Event()
        self._ends[scheduler] = ended
        self._spawn(self._poll(scheduler, ended), "poller")
        if isinstance(self._lock, LosableLeadership):
            self._spawn(self._keep_lead(self._lock, scheduler), "leadership")
        if isinstance(self._lock, WriteNotices):
            self._spawn(self._lock.notify_writes(scheduler.look_at_store,
                                                 lambda: self.scheduler is scheduler
                                                 and not scheduler.stopped,
                                                 on_ask=scheduler.refresh),
                        "write notices")

    async def _poll(self, scheduler: PollScheduler, ended: asyncio.Event) -> None:
        try:
            await scheduler.run()
        except StoreRefused as error:
            # The store went away just as polling started (its rows could not be read):
            # nothing was sent. The lead goes back and this monitor follows; the follower
            # tries again with backoff and leads once the store answers.
            log.warning("polling could not start, the store refused: %s", error)
            if self.scheduler is scheduler:
                self.scheduler = None
                scheduler.stop()
                if self._lock is not None:
                    self._lock.release()
                self._follow()
                self._emit(WatchChange())
        finally:
            ended.set()
            self._ends.pop(scheduler, None)

    def _from_scheduler(self, scheduler: PollScheduler, update: PollUpdate) -> None:
        """What a scheduler says, on its way to the service."""
        if (update.connectivity.state is ConnectivityState.AUTH_FAILED
                and scheduler is self.scheduler and self._lock is not None
                and self._refused is None):
            # A refused key polls nothing: the lead goes to a monitor that can poll.
            self._refused = update.connectivity
            log.warning("the server refused the key: letting the poller's lead go")
            self._step_down(scheduler)
        self._on_update(update)

    def _from_follower(self, update: PollUpdate) -> None:
        """What the follower says (the leader's rows, the store away or back)."""
        state = update.connectivity.state
        self._store_away = state is ConnectivityState.OFFLINE
        if state is ConnectivityState.ONLINE and self._refused is not None:
            # The leader's world is online; this monitor's key is still refused.
            update = dataclasses.replace(update, connectivity=self._refused)
        self._on_update(update)

    def _step_down(self, scheduler: PollScheduler) -> None:
        """Stop sending; once the checks on the wire are in and the last results written,
        let the lead go and follow."""
        self.scheduler = None
        self._leaving = scheduler
        scheduler.pause()  # nothing new is sent; what is on the wire still lands
        self._spawn(self._hand_over(scheduler), "handover")

    async def _hand_over(self, scheduler: PollScheduler) -> None:
        # Only once the scheduler's run has ended (its last results written) may another
        # monitor poll: no answer is written twice, none is lost. Each request has its
        # deadline, so the wait for those on the wire ends.
        while scheduler.stats.in_flight and not scheduler.stopped:
            await asyncio.sleep(_LANDING_LOOK)
        scheduler.stop()
        ended = self._ends.get(scheduler)
        if ended is not None:
            await ended.wait()
        if self._leaving is not scheduler:
            return  # stopped meanwhile (the lock went with it)
        self._leaving = None
        if self.scheduler is not None or self.follower is not None:
            return
        assert self._lock is not None
        self._lock.release()
        self._follow()
        self._emit(WatchChange())  # the header: following now

    async def _keep_lead(self, lock: LosableLeadership, scheduler: PollScheduler) -> None:
        """A lead lost without being released (the team database cut the session): stop
        polling at once (another app polls now) and follow."""
        if not await lock.until_lost() or self.scheduler is not scheduler:
            return
        scheduler.stop()
        self.scheduler = None
        log.warning("lost the poller's lead: following from now on")
        self._follow()
        self._emit(WatchChange())

    def _follow(self) -> None:
        """Another monitor polls (or may: this one does not): pass on what it writes; take
        the lead when it goes, if this one may poll then."""
        assert self._gate is not None
        self._store_away = False
        self.follower = self._make_follower(
            self._watchlist, self._gate, since=self._since(), on_update=self._from_follower,
            on_lead=self._take_over, interval=self._follow_interval)
        self._spawn(self.follower.run(), "follower")

    def _take_over(self) -> None:
        follower, self.follower = self.follower, None
        previous = follower.holder if follower is not None else None
        if self.client is None or not self.may_lead():
            # Paused (or the key went) between the follower's try and now: give it back.
            assert self._lock is not None
            self._lock.release()
            self._follow()
            return
        self._start_scheduler(self.client)
        self._emit(WatchChange(took_over=True,
                               took_over_from=previous.describe() if previous else ""))
