"""The watch service on a team store: one leader per base URL, the others LISTEN.

:class:`TeamLeadership` is the service's ``poller_lock`` for a team profile: the
:class:`~tui.core.teamstore.leader.LeaderLock` (an advisory lock on a session connection),
and a guard that tells the leader when its session is gone (the server restarted, the
connection was terminated): it must stop polling then, since another app may poll already.

:class:`TeamFollower` is the service's follower for a team profile (pass
:func:`team_follower` as ``follower``): it tries the lock each interval and, meanwhile,
passes on what the leader and the others write, as the change feed notifies it
(:class:`~tui.core.teamstore.reader.ChangeReader`: notifications carry IDs, the rows are
read in one batch). Database calls run in a worker thread, so a slow or unreachable server
never holds the event loop; while the database cannot be reached it says so once (an
offline :class:`~tui.core.polling.types.Connectivity`: the banner, with the database's
sentence), keeps the rows on screen as they were, and tries again with backoff; back, it
clears the banner and reads what it missed by the change counter.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from tui.core.polling.leadership import Follower, Leadership, PollerHolder
from tui.core.polling.types import Connectivity, ConnectivityState, PollUpdate
from tui.core.teamstore.asking import SentAsk, read_asked, send_ask
from tui.core.teamstore.errors import TeamStoreError, TeamStoreUnreachable
from tui.core.teamstore.leader import LeaderInfo, LeaderLock
from tui.core.teamstore.reader import ChangeBatch, ChangeBell, ChangeReader
from tui.core.teamstore.store import TeamStore
from tui.core.watchstore import WatchStore

__all__ = ["LEAD_CHECK_INTERVAL", "TeamFollower", "TeamLeadership", "team_follower"]

log = logging.getLogger(__name__)

LEAD_CHECK_INTERVAL = 1.0
"""Seconds between the leader's checks that its session (and so the lock) is alive."""
_RETRY_MAX = 30.0  # longest wait between tries while the database cannot be reached


def away_from_start(store: TeamStore) -> str:
    """The banner's cause while the database has not been reached in this run: the rows
    shown are this machine's copy (when it was saved), and nothing can be changed."""
    saved = store.copy_saved_at()
    if saved is None:
        rows = "no rows saved on this machine yet"
    else:
        stamp = time.localtime(saved)
        same_day = stamp[:3] == time.localtime()[:3]
        when = time.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M", stamp)
        rows = f"rows as saved on this machine at {when}"
    return f"the team database cannot be reached; {rows}, read-only until it is back"


class TeamLeadership:
    """The right to poll one base URL of a team database (see the module docstring).

    ``try_acquire`` and ``holder`` block for one round trip; the service calls them from
    the event loop only at start (the follower calls them in a thread).
    """

    def __init__(self, lock: LeaderLock, *, check_interval: float = LEAD_CHECK_INTERVAL,
                 yield_after_loss: float = 2 * LEAD_CHECK_INTERVAL,
                 clock: Callable[[], float] = time.monotonic,
                 store: TeamStore | None = None) -> None:
        self.lock = lock
        # The store whose change feed the leader LISTENs to (None: the one-second look only).
        self._store = store
        self._interval = check_interval
        self._released = asyncio.Event()
        # A leader whose session was cut most likely has the network trouble: the others
        # get the first chance to take over (this long) before it tries again.
        self._yield = yield_after_loss
        self._clock = clock
        self._lost_at: float | None = None

    def __repr__(self) -> str:
        return f"TeamLeadership({self.lock!r})"

    def try_acquire(self) -> bool:
        """Take the lead if nobody has it; a database that cannot be reached: False."""
        if self._lost_at is not None and self._clock() - self._lost_at < self._yield:
            return False
        if self._store is not None and not self._store.opened:
            return False  # started away: the follower's connection reaches it first
        try:
            taken = self.lock.try_acquire()
        except TeamStoreError as error:
            log.warning("%s", error)
            return False
        if taken and self._released.is_set():
            self._released = asyncio.Event()
        return taken

    def holder(self) -> PollerHolder | None:
        """Who polls now (None: nobody, or the database cannot be asked)."""
        try:
            found: LeaderInfo | None = self.lock.holder()
        except TeamStoreError:
            return None
        return found

    def release(self) -> None:
        """Give the lead up (the session closes: another app may take it at once)."""
        self._released.set()
        self.lock.release()

    async def notify_writes(self, on_write: Callable[[], None],
                            running: Callable[[], bool],
                            on_ask: Callable[[Sequence[int] | None], None] | None = None
                            ) -> None:
        """While leading: call ``on_write`` as soon as another app writes (a note, an
        acknowledgement, an unwatch), so it is polled and shown at once rather than at
        the feed's next one-second look; ``on_ask`` with the IDs a follower asks to check
        now (None: every watched row). The database away: try again with backoff (the
        one-second look goes on meanwhile, failing quietly too)."""
        if self._store is None:
            return
        bell: ChangeBell | None = None
        retry = self._interval
        try:
            while running():
                try:
                    if bell is None:
                        bell = await asyncio.to_thread(ChangeBell, self._store)
                    heard = await asyncio.to_thread(bell.hear, self._interval)
                    if heard.wrote and running():
                        on_write()
                    if heard.asked and on_ask is not None and running():
                        on_ask(None if heard.asked.everything else sorted(heard.asked.ids))
                    retry = self._interval
                except TeamStoreError as error:
                    log.info("the leader cannot listen for changes now: %s", error)
                    if bell is not None:
                        bell.close()
                        bell = None
                    # In steps: a leader that stops meanwhile ends this at once.
                    waited = 0.0
                    while waited < retry and running():
                        await asyncio.sleep(self._interval)
                        waited += self._interval
                    retry = min(retry * 2, _RETRY_MAX)
        finally:
            if bell is not None:
                bell.close()

    async def until_lost(self) -> bool:
        """Check every interval that the lead is still held; True once it is lost, False
        once released."""
        released = self._released
        while True:
            try:
                await asyncio.wait_for(released.wait(), self._interval)
                return False
            except TimeoutError:
                pass
            if not await asyncio.to_thread(self.lock.still_held):
                if released.is_set():
                    return False
                self._lost_at = self._clock()
                return True


class TeamFollower:
    """Follows a team store while another app polls (see the module docstring)."""

    def __init__(self, store: TeamStore, lock: Leadership, *, since: int,
                 on_update: Callable[[PollUpdate], None], on_lead: Callable[[], None],
                 interval: float) -> None:
        self._store = store
        self._lock = lock
        self._since = since
        self._on_update = on_update
        self._on_lead = on_lead
        self._interval = interval
        self._stopped = asyncio.Event()
        self._reader: ChangeReader | None = None
        self.holder: PollerHolder | None = None
        self.problem: str | None = None  # why the database cannot be followed now
        self._away_since: float | None = None
        self._asks: list[SentAsk] = []  # sent to the leader, awaiting its first check

    def __repr__(self) -> str:
        return f"TeamFollower({self._store!r})"

    def stop(self) -> None:
        """Stop following (the lock is not tried again)."""
        self._stopped.set()

    async def run(self) -> None:
        """Follow until :meth:`stop`, or until the lead is ours (then ``on_lead``)."""
        retry = self._interval
        if not self._store.opened:  # away since the start: the banner at once
            self._away_since = self._store.away_since or time.time()
            self.problem = away_from_start(self._store)
            self._tell(Connectivity(ConnectivityState.OFFLINE, self._away_since, None,
                                    self.problem, store=True))
        try:
            while not self._stopped.is_set():
                try:
                    if await self._step():
                        self._on_lead()
                        return
                    retry = self._interval
                except TeamStoreError as error:
                    # The database is away: what is on screen stays (one banner says so);
                    # try again, slower.
                    if self.problem is None:
                        log.warning("following the team store: %s", error)
                        self._away_since = time.time()
                    unreached = (isinstance(error, TeamStoreUnreachable)
                                 and not self._store.opened)
                    self.problem = away_from_start(self._store) if unreached else str(error)
                    self._close_reader()
                    self._tell(Connectivity(ConnectivityState.OFFLINE, self._away_since,
                                            time.time() + retry, self.problem, store=True))
                    await self._pause(retry)
                    retry = min(retry * 2, _RETRY_MAX)
        finally:
            self._close_reader()

    async def _step(self) -> bool:
        """One look: True when the lead is ours now (what the last leader wrote is passed
        on first); else pass on what was written within one interval."""
        if self._reader is None:
            # Listening first: after an outage the store answers again before the lead is
            # taken (a poller that started while the store still refused would stop).
            self._reader = await asyncio.to_thread(ChangeReader, self._store)
            # Written after the rows on screen were read and before LISTEN: by number.
            self._pass_on(await asyncio.to_thread(self._reader.catch_up, self._since))
        if await asyncio.to_thread(self._lock.try_acquire):
            self._pass_on(await asyncio.to_thread(self._reader.wait, 0))
            if self.problem is not None:  # the poller says how it stands from now on
                self._tell(Connectivity(ConnectivityState.ONLINE, None))
            return True
        self.holder = await asyncio.to_thread(self._lock.holder) or self.holder
        batch = await asyncio.to_thread(self._reader.wait, self._interval)
        self._since = self._reader.seq
        if self.problem is not None:  # back: the banner goes
            self.problem = None
            self._tell(Connectivity(ConnectivityState.ONLINE, None))
        self._pass_on(batch)
        return False

    async def ask_leader(self, ids: Sequence[int] | None) -> SentAsk:
        """Ask the leader to check the watched ones of ``ids`` now (None: every row); see
        :mod:`~tui.core.teamstore.asking`. Nobody leading: nothing is sent (the ask's
        ``holder`` is None). Raises :class:`TeamStoreError` while the database is away."""
        watched, baseline = await asyncio.to_thread(read_asked, self._store, ids)
        holder = await asyncio.to_thread(self._lock.holder)
        if holder is None or watched == []:  # nobody to ask, or nothing watched to ask for
            return SentAsk(None, watched, baseline, lambda ask: None)
        # Listening for the answer before asking: it may come back before the send returns.
        sent = SentAsk(holder, watched, baseline, self._asks.remove)
        self._asks.append(sent)
        try:
            await asyncio.to_thread(send_ask, self._store, watched)
        except BaseException:
            self._asks.remove(sent)
            raise
        return sent

    def _pass_on(self, batch: ChangeBatch) -> None:
        for ask in self._asks:
            ask.see(batch.rows.values())
        if not batch:
            return
        self._send(PollUpdate(rows=list(batch.rows.values()), changes=[],
                              connectivity=Connectivity(ConnectivityState.ONLINE, None),
                              removed=sorted(batch.removed), added=sorted(batch.added)))

    def _tell(self, connectivity: Connectivity) -> None:
        """Only where things stand (the banner): no rows change."""
        self._send(PollUpdate(rows=[], changes=[], connectivity=connectivity))

    def _send(self, update: PollUpdate) -> None:
        try:
            self._on_update(update)
        except Exception:
            log.exception("on_update callback failed")

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopped.wait(), seconds)
        except TimeoutError:
            pass

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def team_follower(watchlist: WatchStore, lock: Leadership, *, since: int,
                  on_update: Callable[[PollUpdate], None], on_lead: Callable[[], None],
                  interval: float) -> Follower:
    """The follower of a team store (the watch service's ``follower``)."""
    if not isinstance(watchlist, TeamStore):
        raise TypeError(f"a team follower follows a TeamStore, not {watchlist!r}")
    return TeamFollower(watchlist, lock, since=since, on_update=on_update, on_lead=on_lead,
                        interval=interval)
