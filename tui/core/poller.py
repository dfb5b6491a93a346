"""The background poll scheduler behind the live monitor.

One :class:`PollScheduler` keeps every watched conversion fresh without
hammering the API:

* Active statuses (and words we do not know) are checked every ``interval``;
  settled ones (Completed, Failed, Deleted, not found) every
  ``settled_interval``, within a small share of the request budget, so the
  steady request rate follows the *active* rows. Active rows that want the
  whole budget do not starve them: a settled row that has waited longer than
  the next active one goes first, within that share.
* New IDs, never checked yet, are checked oldest first. While active rows are due
  too, new ones get ``new_share`` of the requests (about a quarter) and no more, so a
  paste of 10,000 IDs delays active rows only as far as losing that share does; with
  no active row due they may use the whole budget. IDs an upload had accepted
  (:meth:`PollScheduler.uploaded`) exist now, whatever an earlier check said: they
  are checked at once.
* Requests go out through a token bucket (``request_budget`` per second) and
  at most ``concurrency`` at a time; one ID is never polled twice at once
  (its next poll is scheduled when the last one finishes). A stuck request
  (out for an interval and four times as long as answers typically take) stops
  holding its slot (up to ``spare_slots`` more connections), so rows that
  trickle cannot stop the others before they are known to.
* Errors back off per ID; when several rows failed and the server then answers
  cleanly for an interval, the backed-off rows are asked again at once (a
  server's error spell must not outlive itself), while an ID that fails on its
  own keeps its backoff. A 429 holds everyone for its Retry-After and then ramps
  back up. A refused connection, or drops and timeouts with no answer for two
  intervals, turn into one OFFLINE state with a single probing ID, probed at
  least once an interval; a drop while others answer is that row's problem.
* Rows whose checks keep timing out while others answer (a trickling server) move
  to a slow lane that may hold only ``slow_slots`` of the connections, so the other
  rows keep their interval; a row leaves it with its next HTTP answer.
* A refused key (a 401, a 403 whose envelope names no profile, or 403s of
  ``key_refusal_rows`` different rows for an interval with no answer between) stops
  polling until :meth:`PollScheduler.set_client`. A 403 about one conversion while
  the key is known is that row's problem ("no access to this conversion (HTTP
  403)"); so is an answer about another conversion, or one cut off at the client's
  size cap: such an answer is never stored, the row keeps its last good data and
  backs off.
* Results are flushed in batches (one ``record_results`` transaction, then one
  ``on_update`` call), at most every ``flush_interval`` seconds.
* The stored watchlist is the truth: every ``WATCHLIST_SYNC_INTERVAL`` seconds the
  scheduler reads its change feed (what other processes wrote since the last look; one
  ``PRAGMA`` when nothing), polls rows another process added, drops rows it removed,
  follows delete requests made elsewhere, and sends the rows others changed (a note,
  say) in the next update, which names the added and removed IDs, so the table follows.

Everything runs on the event loop that runs :meth:`PollScheduler.run`; call
the other methods from that loop's thread (a Textual app does: its workers
and message handlers share the loop). The scheduler never touches the UI.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping

from tui.api.errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    RateLimitedError,
    TransportError,
    WrongConversionError,
)
from tui.api.models import StatusEnvelope
from tui.core.keyrefusals import KeyRefusals
from tui.core.pollproblems import describe_problem, no_access_problem, transport_cause
from tui.core.pollqueue import Lane, PollQueue, PollSlot
from tui.core.polltypes import (
    Connectivity,
    ConnectivityState,
    PollSettings,
    PollStats,
    PollUpdate,
    RowPollState,
    StatusSource,
    WatchlistStore,
)
from tui.core.ratelimit import ErrorSpell, RecoveryRamp, TokenBucket, backoff_delay, jittered
from tui.core.statuses import StatusKind, is_settled, status_kind
from tui.core.watchlist import PollResult, StatusChange, WatchedConversion

__all__ = [
    "Connectivity",
    "ConnectivityState",
    "PollScheduler",
    "PollSettings",
    "PollStats",
    "PollUpdate",
    "RowPollState",
    "StatusSource",
    "WatchlistStore",
]

log = logging.getLogger(__name__)

# Transport failures that always mean the link, not one request: nothing listens, or
# no connection can be secured. Drops and timeouts are judged by recent answers instead.
_LINK_REASONS = frozenset({"refused", "tls"})
# Lanes whose rows backed off in a server's error spell are asked again when it ends.
_PULLED_LANES = frozenset({Lane.ACTIVE, Lane.NEW})
# Before the first answer, the latency assumed; a request counts as stuck once it is out
# this many times longer than answers typically take (and at least an interval).
_FIRST_LATENCY_GUESS = 0.25
_STUCK_FACTOR = 4.0
#: Seconds between looks at the stored watchlist's change feed (what other processes wrote):
#: their changes show within this and a flush.
WATCHLIST_SYNC_INTERVAL = 1.0


def _error_kind(error: BaseException) -> str:
    if isinstance(error, ApiError):
        name = type(error).__name__.removesuffix("Error")
        return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return "internal"


class PollScheduler:
    """Polls watched conversions and reports batched results (see the module docstring)."""

    def __init__(
        self,
        client: StatusSource,
        watchlist: WatchlistStore,
        settings: PollSettings,
        on_update: Callable[[PollUpdate], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._client_generation = 0
        self._watchlist = watchlist
        self._settings = settings
        self._on_update = on_update
        self._clock = clock
        self._wall = wall_clock
        self._rng = rng if rng is not None else random.Random()
        self._queue = PollQueue()
        self._stats = PollStats()
        now = clock()
        budget = settings.request_budget
        self._bucket = TokenBucket(budget, min(budget / 4, settings.concurrency), now)
        self._settled_bucket = TokenBucket(settings.settled_rate, 1.0, now)
        # New IDs' turn while active rows are due too: each active request adds a part,
        # a new one spends a whole (a share of requests, so it holds for any budget and
        # for the connections too; capped at one, so it never saves up a burst).
        self._new_credit = 1.0
        self._new_credit_step = settings.new_share / (1.0 - settings.new_share)
        self._ramp = RecoveryRamp(max(1.0, min(budget * settings.settled_share,
                                                float(settings.concurrency))))
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        self._slow_in_flight = 0  # requests of rows in the slow lane
        self._stuck = 0  # requests out far longer than answers take (see _stuck_after)
        self._typical_latency = _FIRST_LATENCY_GUESS  # moving average of answered requests
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = False
        self._stopped = False
        # Link state: ONLINE, OFFLINE or RATE_LIMITED; auth and pause sit on top.
        self._link = ConnectivityState.ONLINE
        self._link_since: float | None = self._wall()
        self._link_message = ""
        self._hold_until = 0.0
        self._probe_due = 0.0
        self._probe_attempt = 0
        self._probe_id: int | None = None
        self._probe_in_flight = False
        self._probe_timed_out: set[int] = set()  # IDs whose probe timed out this outage
        self._last_answer = -math.inf  # clock time of the last HTTP answer
        self._transport_failures = 0  # drops/timeouts since that answer
        # Drops while answers came, not recorded until the next answer confirms the link.
        # (slot, result, whether it timed out): a timeout confirmed as the row's counts
        # towards the slow lane.
        self._unconfirmed: list[tuple[PollSlot, PollResult, bool]] = []
        self._spell = ErrorSpell()  # rows backing off, and whether the server is to blame
        self._auth_problem: str | None = None
        self._auth_since: float | None = None
        self._refusals = KeyRefusals(settings.key_refusal_rows, settings.interval)
        self._paused = False
        self._paused_since: float | None = None
        self._connectivity = Connectivity(ConnectivityState.ONLINE, self._link_since)
        self._connectivity_dirty = False
        self._pending: list[PollResult] = []
        self._last_flush = -math.inf
        self._flush_handle: asyncio.Handle | None = None
        self._wake_handle: asyncio.TimerHandle | None = None
        # The change feed's number at the last look; what others changed since the last flush.
        self._feed_seq = 0
        self._removed: list[int] = []
        self._added: list[int] = []
        self._changed_elsewhere: dict[int, WatchedConversion] = {}
        self._sync_handle: asyncio.TimerHandle | None = None

    # -- public surface --------------------------------------------------------------

    @property
    def connectivity(self) -> Connectivity:
        """The current banner state."""
        return self._connectivity

    @property
    def stats(self) -> PollStats:
        """A snapshot of the counters."""
        snapshot = dataclasses.replace(self._stats, errors_by_kind=dict(
            self._stats.errors_by_kind))
        snapshot.in_flight = self._in_flight
        return snapshot

    @property
    def paused(self) -> bool:
        """True while automatic polling is paused."""
        return self._paused

    @property
    def settings(self) -> PollSettings:
        """The settings in force."""
        return self._settings

    def watched_ids(self) -> list[int]:
        """IDs the scheduler polls."""
        return [slot.id for slot in self._queue]

    def row_state(self, conversion_id: int) -> RowPollState | None:
        """Where polling stands with ``conversion_id`` (None when it is not watched)."""
        slot = self._queue.get(conversion_id)
        if slot is None:
            return None
        due_in = max(0.0, slot.due - self._clock()) if slot.queued else None
        return RowPollState(slot.in_flight, due_in, slot.failures, slot.slow)

    async def run(self) -> None:
        """Poll until :meth:`stop`; the app runs this in a worker."""
        if self._running:
            raise RuntimeError("PollScheduler.run() is already running")
        self._running = True
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        try:
            self._load_watchlist()
            self._publish()
            while not self._stopped:
                self._wake.clear()
                await self._sleep(self._dispatch(self._clock()))
        finally:
            await self._shutdown()

    def stop(self) -> None:
        """Ask :meth:`run` to return (in-flight requests are cancelled, results flushed).

        Called before :meth:`run` starts, it makes that run return at once.
        """
        self._stopped = True
        self._poke()

    def pause(self) -> None:
        """Stop automatic polling (explicit :meth:`refresh` still works)."""
        if not self._paused:
            self._paused = True
            self._paused_since = self._wall()
            self._publish()
            self._poke()

    def resume(self) -> None:
        """Resume automatic polling; whatever fell due meanwhile goes first."""
        if self._paused:
            self._paused = False
            self._paused_since = None
            if self._link is ConnectivityState.OFFLINE:
                self._probe_due = self._clock()
            self._publish()
            self._poke()

    def refresh(self, ids: Iterable[int] | None = None) -> None:
        """Check ``ids`` (all watched IDs when None) now, ahead of everything else.

        IDs that are not watched are ignored; an ID whose check is in flight is
        not asked again (that answer is on its way). While offline this probes now.
        """
        now = self._clock()
        slots = list(self._queue) if ids is None else [
            slot for slot in (self._queue.get(i) for i in ids) if slot is not None]
        for slot in slots:
            if not slot.in_flight:
                slot.refresh_wanted = slot.slow
                # A slow row asked for goes ahead of the slow lane's overdue rows (which
                # pile up while paused and would block it).
                due = -math.inf if slot.slow else now
                self._queue.schedule(slot, self._lane_for(slot, Lane.REFRESH), due)
        if self._link is ConnectivityState.OFFLINE and not self._probe_in_flight:
            self._probe_due = min(self._probe_due, now)
        self._poke()

    def watch(self, ids: Iterable[int]) -> None:
        """Start polling ``ids``; new ones join the new lane (oldest first: at once,
        unless thousands came before them)."""
        now = self._clock()
        for conversion_id in ids:
            if conversion_id not in self._queue:
                slot = self._queue.add(conversion_id)
                slot.new = True
                self._queue.schedule(slot, Lane.NEW, now)
        self._poke()

    def uploaded(self, ids: Iterable[int]) -> None:
        """``ids`` were accepted by an upload: they exist now, whatever an earlier check
        said. Watch them and check them at once, ahead of the new and settled lanes: a row
        "not found" before the upload leaves that lane now. A check in flight may bring
        an answer from before the upload: the row is asked again when it returns."""
        wanted = list(ids)
        for conversion_id in wanted:
            slot = self._queue.add(conversion_id)
            # Known to exist and to be at its start: an active row from now on.
            slot.new = slot.settled = False
            slot.ask_again = slot.in_flight
        self.refresh(wanted)

    def unwatch(self, ids: Iterable[int]) -> None:
        """Stop polling ``ids``; answers still on their way are dropped."""
        gone = {conversion_id for conversion_id in ids if self._queue.remove(conversion_id)}
        if gone:
            self._spell.forget(gone)
            self._refusals.forget(gone)
            self._pending = [result for result in self._pending if result.id not in gone]
            if self._probe_id in gone:
                self._probe_id = None

    def set_client(self, client: StatusSource) -> None:
        """Use ``client`` from now on (after a new key); clears AUTH_FAILED and resumes.

        The old client is not closed here: its owner closes it.
        """
        self._client = client
        self._client_generation += 1
        self._refusals.new_key()
        if self._auth_problem is not None:
            self._auth_problem = None
            self._auth_since = None
        if self._link is ConnectivityState.OFFLINE and not self._probe_in_flight:
            self._probe_due = self._clock()
        self._publish()
        self._poke()

    def expect_deletion(self, conversion_id: int) -> None:
        """A delete was requested: poll at the active rate until Deleted or 404."""
        slot = self._queue.add(conversion_id)
        slot.expect_deletion = True
        if not slot.in_flight:
            self._queue.schedule(slot, self._lane_for(slot, Lane.ACTIVE), self._clock())
        self._poke()

    # -- the dispatch loop -----------------------------------------------------------

    def _load_watchlist(self) -> None:
        now = self._clock()
        # The number first: what is written after it comes again in the feed (harmless).
        self._feed_seq = self._watchlist.feed_seq()
        rows = self._watchlist.all()
        if self._loop is not None:
            self._sync_handle = self._loop.call_later(WATCHLIST_SYNC_INTERVAL,
                                                      self._sync_watchlist)
        for row in rows:
            if row.id not in self._queue:
                self._track(row, now)

    def _sync_watchlist(self) -> None:
        """Every second, follow the stored watchlist through its change feed: rows another
        process added (``conversions-tui watch``, an upload from the CLI, a second monitor,
        the demo's colleague) are polled from now on; rows it removed are dropped; a delete
        it requested is followed; and the next update carries the rows it changed (notes
        included) and names the IDs added and removed. A timer of its own, so an idle
        scheduler is not woken for it unless something changed."""
        assert self._loop is not None
        self._sync_handle = self._loop.call_later(WATCHLIST_SYNC_INTERVAL, self._sync_watchlist)
        try:
            changes = self._watchlist.changes_since(self._feed_seq)
        except Exception:  # a busy or broken file: polling goes on, the next look retries
            log.exception("could not read the watchlist's changes")
            return
        self._feed_seq = changes.seq
        if not changes:
            return
        now = self._clock()
        for row in changes.rows:
            slot = self._queue.get(row.id)
            if slot is None:
                # Only rows (re)added in the store: an ID unwatched here but still stored
                # stays so, whatever else is written to it.
                if row.id in changes.added:
                    self._track(row, now)
                    self._added.append(row.id)
                    self._changed_elsewhere[row.id] = row
                continue
            self._changed_elsewhere[row.id] = row
            if (row.delete_requested_at is not None and not slot.expect_deletion
                    and not row.not_found and row.deleted_at is None):
                self.expect_deletion(row.id)  # a delete requested by another process
        gone = [i for i in changes.removed if i in self._queue]
        if gone:
            self.unwatch(gone)
            self._removed.extend(gone)
            for conversion_id in gone:
                self._changed_elsewhere.pop(conversion_id, None)
        self._schedule_flush(0.0)
        self._poke()

    def _track(self, row: WatchedConversion, now: float) -> None:
        """Start polling a stored row, as soon as its state calls for."""
        slot = self._queue.add(row.id)
        gone = row.not_found or row.deleted_at is not None
        slot.expect_deletion = row.delete_requested_at is not None and not gone
        if row.last_checked is None:
            slot.new = True
            self._queue.schedule(slot, self._home_lane(slot), now)
        elif (gone or is_settled(row.status)) and not slot.expect_deletion:
            slot.settled = True
            # Spread the first re-checks over a whole settled interval so that
            # ten thousand settled rows do not all fall due at startup.
            spread = self._rng.uniform(0.0, self._settings.settled_interval)
            self._queue.schedule(slot, Lane.SETTLED, now + spread)
        else:
            self._queue.schedule(slot, Lane.ACTIVE, now)

    def _dispatch(self, now: float) -> float | None:
        """Send every request allowed now; return seconds until the next one could
        go (None: nothing to do until something wakes us)."""
        settings = self._settings
        while True:
            if self._stopped or self._auth_problem is not None:
                return None
            # A stuck request (out far longer than answers take) no longer holds its slot
            # (the client's deadline ends it): rows not yet known to trickle must not
            # stop the others. ``spare_slots`` bounds the connections that costs.
            if self._in_flight - self._stuck >= settings.concurrency or (
                    self._in_flight >= settings.concurrency + settings.spare_slots):
                return None
            if self._link is ConnectivityState.OFFLINE:
                return self._dispatch_probe(now)
            if self._link is ConnectivityState.RATE_LIMITED:
                if now < self._hold_until:
                    return self._hold_until - now
                self._end_hold(now)
            rate = self._ramp.ceiling(now, settings.request_budget)
            if rate != self._bucket.rate:
                self._bucket.set_rate(rate, now)
            slot, wait, contended = self._choose(now)
            if slot is None:
                return wait
            token_wait = self._bucket.wait_time(now)
            if token_wait > 0:
                return max(token_wait, 0.0005)
            lane = slot.lane
            self._queue.unschedule(slot)
            self._bucket.take(now)
            if lane is Lane.SETTLED:
                self._settled_bucket.take(now)
            elif contended:
                self._new_credit = (self._new_credit - 1.0 if lane is Lane.NEW else
                                    min(1.0, self._new_credit + self._new_credit_step))
            self._launch(slot, lane, probe=False)

    def _choose(self, now: float) -> tuple[PollSlot | None, float | None, bool]:
        """The slot to poll next, or (None, seconds until one is due); the flag says new
        and active rows were both due (the new IDs' share decided which goes)."""
        queue = self._queue
        refresh = queue.head(Lane.REFRESH)
        automatic = not self._paused
        active = queue.head(Lane.ACTIVE) if automatic else None
        new = queue.head(Lane.NEW) if automatic else None
        settled = queue.head(Lane.SETTLED) if automatic else None
        active_due = active is not None and active.due <= now
        new_due = new is not None and new.due <= now
        # Rows that keep timing out get a few slots of their own and no more.
        slow = queue.head(Lane.SLOW) if (
            self._slow_in_flight < self._settings.slow_slots) else None
        if slow is not None and not automatic and not slow.refresh_wanted:
            slow = None
        if refresh is not None:
            # A big refresh must not starve active rows for minutes: one that is a
            # whole interval late goes first.
            if active_due and active is not None and (
                    now - active.due > self._settings.interval):
                return active, None, False
            return refresh, None, False
        if slow is not None and slow.due <= now and not (
                active_due and active is not None and active.due < slow.due):
            return slow, None, False
        settled_wait = None if settled is None else max(
            settled.due - now, self._settled_bucket.wait_time(now))
        if active_due and active is not None:
            # Active rows that want the whole budget must not starve settled re-checks:
            # a settled row that has waited longer goes first, within its own share.
            if settled is not None and settled_wait is not None and settled_wait <= 0 and (
                    settled.due < active.due):
                return settled, None, False
            # New IDs (a paste of thousands) keep moving, within their share and no more:
            # the active rows keep the rest, so they are never late by much.
            if new_due and self._new_credit >= 1.0 - 1e-9:
                return new, None, True
            return active, None, new_due
        waits: list[float] = []
        if active is not None:
            waits.append(active.due - now)
        if slow is not None:
            waits.append(max(slow.due - now, 0.0))
        if settled is not None and settled_wait is not None:
            if settled_wait <= 0:
                return settled, None, False  # within its share, even with new IDs waiting
            waits.append(max(settled_wait, 0.0005))
        if new is not None:
            if new_due:
                return new, None, False  # nothing active is due: the whole budget
            waits.append(new.due - now)
        return None, (min(waits) if waits else None), False

    def _dispatch_probe(self, now: float) -> float | None:
        if self._probe_in_flight or self._paused:
            return None
        if now < self._probe_due:
            return self._probe_due - now
        slot = self._queue.get(self._probe_id) if self._probe_id is not None else None
        if slot is None or slot.in_flight or slot.id in self._probe_timed_out:
            # A row whose probe timed out may be one the server trickles: try the others
            # first (O(n), but probes go out at most about once a second).
            slot = next((s for s in self._queue if not s.in_flight
                         and s.id not in self._probe_timed_out), None)
            if slot is None:
                self._probe_timed_out.clear()
                slot = next((s for s in self._queue if not s.in_flight), None)
        if slot is None:
            return None  # nothing to probe with until watch()
        self._probe_id = slot.id
        lane = slot.lane if slot.queued else self._home_lane(slot)
        self._queue.unschedule(slot)
        self._probe_in_flight = True
        self._launch(slot, lane, probe=True)
        return None

    def _launch(self, slot: PollSlot, lane: Lane, *, probe: bool) -> None:
        assert self._loop is not None
        slot.in_flight = True
        slot.refresh_wanted = False
        self._in_flight += 1
        slow = slot.slow and not probe
        if slow:
            self._slow_in_flight += 1
        self._stats.max_in_flight = max(self._stats.max_in_flight, self._in_flight)
        task = self._loop.create_task(self._poll(slot, lane, probe, slow))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sleep(self, delay: float | None) -> None:
        assert self._wake is not None and self._loop is not None
        if delay is not None:
            self._wake_handle = self._loop.call_later(delay, self._wake.set)
        try:
            await self._wake.wait()
        finally:
            if self._wake_handle is not None:
                self._wake_handle.cancel()
                self._wake_handle = None

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _shutdown(self) -> None:
        if self._sync_handle is not None:
            self._sync_handle.cancel()
            self._sync_handle = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._probe_in_flight = False
        self._in_flight = 0
        self._slow_in_flight = 0
        self._stuck = 0
        self._unconfirmed.clear()  # unknown whether row or link; the next run asks again
        self._flush()
        self._running = False
        self._stopped = False  # a later run() starts afresh
        self._wake = None
        self._loop = None

    # -- one request -----------------------------------------------------------------

    def _held_back(self, probe: bool) -> bool:
        """True when something learnt after this request was dispatched (a 429, a lost
        connection, a refused key) says it must not go out after all."""
        if self._stopped or self._auth_problem is not None:
            return True
        if self._link is ConnectivityState.OFFLINE:
            return not probe
        return self._link is ConnectivityState.RATE_LIMITED and self._clock() < self._hold_until

    def _stuck_after(self) -> float:
        """Seconds after which a request counts as stuck: a slow server whose every
        answer is slow is not stuck, one request among fast answers is."""
        return max(self._settings.interval, _STUCK_FACTOR * self._typical_latency)

    def _note_latency(self, seconds: float) -> None:
        self._typical_latency += 0.2 * (seconds - self._typical_latency)

    def _request_stuck(self, stuck: list[bool]) -> None:
        stuck[0] = True
        self._stuck += 1
        self._poke()

    async def _poll(self, slot: PollSlot, lane: Lane, probe: bool, slow: bool) -> None:
        started = self._clock()
        generation = self._client_generation
        assert self._loop is not None
        stuck = [False]
        timer = self._loop.call_later(self._stuck_after(), self._request_stuck, stuck)
        try:
            if self._held_back(probe):
                self._requeue(slot, lane, started)
                return
            self._stats.requests_sent += 1
            envelope = await self._client.get_status(slot.id)
        except asyncio.CancelledError:
            self._requeue(slot, lane, self._clock())  # stopped: ask again on the next run
            raise
        except Exception as error:  # every failure becomes state, never a dead poller
            if isinstance(error, ApiError) and not isinstance(error, TransportError):
                self._note_latency(self._clock() - started)
            self._handle_error(slot, lane, error, generation, probe)
        else:
            self._note_latency(self._clock() - started)
            self._handle_answer()
            self._handle_status(slot, envelope)
        finally:
            timer.cancel()
            if stuck[0]:
                self._stuck -= 1
            slot.in_flight = False
            self._in_flight -= 1
            if slow:
                self._slow_in_flight -= 1
            if probe:
                self._probe_in_flight = False
            self._poke()

    def _watched(self, slot: PollSlot) -> bool:
        return self._queue.get(slot.id) is slot

    def _handle_answer(self) -> None:
        """Any HTTP answer proves the connection: leave OFFLINE at once."""
        self._stats.answers += 1
        self._last_answer = self._clock()
        self._transport_failures = 0
        unconfirmed, self._unconfirmed = self._unconfirmed, []
        for slot, result, timed_out in unconfirmed:  # the link is up: those were the rows'
            if self._watched(slot):
                self._add_result(result)
                if timed_out:
                    self._timed_out(slot)
        if self._link is ConnectivityState.OFFLINE:
            self._link = ConnectivityState.ONLINE
            self._link_since = self._wall()
            self._link_message = ""
            self._probe_attempt = 0
            self._probe_timed_out.clear()
            self._publish()

    def _handle_status(self, slot: PollSlot, envelope: StatusEnvelope) -> None:
        if not self._watched(slot):
            return
        answered = envelope.payload.id if envelope.payload is not None else None
        if answered is not None and answered != slot.id:
            # The client checks this too; a source that does not must still never have
            # another conversion's data stored as this one.
            self._wrong_conversion(slot, answered)
            return
        self._key_works(slot)
        self._not_slow(slot)
        status = envelope.payload.status if envelope.payload is not None else None
        if slot.expect_deletion and status_kind(status) is StatusKind.DELETED:
            slot.expect_deletion = False
        slot.settled = is_settled(status)
        slot.new = False
        self._row_recovered(slot)
        self._add_result(PollResult(id=slot.id, checked_at=self._wall(), envelope=envelope,
                                    problem=None, not_found=False))
        self._reschedule(slot)

    def _wrong_conversion(self, slot: PollSlot, answered: int) -> None:
        error = WrongConversionError(
            f"Asked about conversion {slot.id}, the server answered about {answered}.",
            status_code=200)
        error.asked_id, error.answered_id = slot.id, answered
        self._stats.count_error(_error_kind(error))
        self._not_slow(slot)
        self._row_problem(slot, error)

    def _key_works(self, slot: PollSlot) -> None:
        """An answer the key was allowed to have: earlier refusals were about their rows."""
        self._refusals.answered(slot.id, self._client_generation)

    @staticmethod
    def _home_lane(slot: PollSlot) -> Lane:
        """Where ``slot`` waits between checks: by what its last answer said."""
        if slot.expect_deletion:
            return Lane.ACTIVE
        if slot.settled:
            return Lane.SETTLED
        return Lane.NEW if slot.new else Lane.ACTIVE

    def _lane_for(self, slot: PollSlot, lane: Lane) -> Lane:
        """``lane``, or the slow lane for a slow row (and back home for one that is not)."""
        if slot.slow:
            return Lane.SLOW
        if lane is Lane.SLOW:
            return self._home_lane(slot)
        return lane

    def _reschedule(self, slot: PollSlot, delay: float | None = None) -> None:
        now = self._clock()
        if slot.ask_again:
            # Sent before an upload made it: what came back may be out of date.
            slot.ask_again = False
            self._queue.schedule(slot, self._lane_for(slot, Lane.REFRESH), now)
            return
        home = self._home_lane(slot)
        if delay is None:
            delay = (jittered(self._settings.settled_interval, self._rng, 0.1)
                     if home is Lane.SETTLED else self._settings.interval)
        self._queue.schedule(slot, self._lane_for(slot, home), now + delay)

    def _requeue(self, slot: PollSlot, lane: Lane, due: float) -> None:
        """Put ``slot`` back where it was, unchanged (the failure was not its fault). A
        new ID keeps its place in line (it was due when it was added)."""
        if self._watched(slot):
            if lane is Lane.NEW:
                due = min(due, slot.due)
            self._queue.schedule(slot, self._lane_for(slot, lane), due)

    def _not_slow(self, slot: PollSlot) -> None:
        """An HTTP answer for ``slot``: it is not stuck (it leaves the slow lane)."""
        slot.timeouts = 0
        slot.slow = False

    def _timed_out(self, slot: PollSlot) -> None:
        """``slot``'s check timed out while others answered: maybe a trickle."""
        slot.timeouts += 1
        if slot.timeouts >= self._settings.slow_after and not slot.slow:
            slot.slow = True
            log.info("conversion %s keeps timing out: moved to the slow lane", slot.id)
            if slot.queued:
                self._queue.schedule(slot, Lane.SLOW, slot.due)

    def _handle_error(self, slot: PollSlot, lane: Lane, error: Exception, generation: int,
                      probe: bool) -> None:
        now = self._clock()
        self._stats.count_error(_error_kind(error))
        if isinstance(error, TransportError):
            self._handle_transport(slot, lane, error, probe)
            return
        if isinstance(error, ApiError):
            self._handle_answer()
            self._not_slow(slot)
        if isinstance(error, RateLimitedError):
            retry_after = error.retry_after
            hold = retry_after if retry_after is not None and retry_after > 0 else (
                self._settings.rate_limit_hold)
            self._hold(now + hold, error)
            self._requeue(slot, lane, self._hold_until)
        elif isinstance(error, AuthenticationError):
            if generation != self._client_generation:
                self._requeue(slot, lane, now)  # the old key's answer: the new one decides
            elif self._refusals.refused(slot.id, error, now=now, watched=len(self._queue),
                                        generation=generation):
                if self._auth_problem is None:
                    self._auth_problem = describe_problem(error)  # short: "HTTP 403: …"
                    self._auth_since = self._wall()
                    self._publish()
                self._requeue(slot, lane, now)
            else:
                self._row_problem(slot, error, text=no_access_problem(error))
        elif isinstance(error, NotFoundError) and (error.envelope is not None
                                                   or slot.expect_deletion):
            # Only the API's own 404 (an envelope) says "unknown or purged"; a bare 404
            # is more likely a wrong base URL or a proxy, a problem to show, not a verdict.
            # After our own delete request any 404 confirms it.
            if not self._watched(slot):
                return
            self._key_works(slot)
            slot.expect_deletion = False
            slot.settled = True
            slot.new = False
            self._row_recovered(slot)
            self._add_result(PollResult(id=slot.id, checked_at=self._wall(), envelope=None,
                                        problem=None, not_found=True))
            self._reschedule(slot)
        else:
            if not isinstance(error, ApiError):
                log.error("status check of %s failed unexpectedly", slot.id, exc_info=error)
            self._row_problem(slot, error)

    def _row_problem(self, slot: PollSlot, error: BaseException, *,
                     unconfirmed: bool = False, text: str | None = None) -> None:
        """Record ``error`` (or ``text``) against ``slot`` and back it off. An
        ``unconfirmed`` one (a drop) is only recorded once another answer proves the
        link up, see :meth:`_handle_transport`."""
        if not self._watched(slot):
            return
        now = self._clock()
        settings = self._settings
        slot.failures += 1
        self._spell.failed(slot.id, now, pulled=slot.pulled)
        delay = backoff_delay(settings.interval, slot.failures, settings.max_backoff,
                              self._rng)
        if self._spell.wide and not (slot.settled and not slot.expect_deletion):
            # While many rows fail, keep one request per interval going (like the offline
            # probe): otherwise, once every row backs off, the first sign that the server
            # is healthy again waits for the shortest backoff, up to max_backoff.
            head = self._queue.head(Lane.ACTIVE)
            if head is None or head.due > now + settings.interval:
                delay = min(delay, settings.interval)
        result = PollResult(id=slot.id, checked_at=self._wall(), envelope=None,
                            problem=text or describe_problem(error), not_found=False)
        if unconfirmed:
            timed_out = isinstance(error, TransportError) and error.reason == "timeout"
            self._unconfirmed.append((slot, result, timed_out))
        else:
            self._add_result(result)
        self._reschedule(slot, delay)

    def _row_recovered(self, slot: PollSlot) -> None:
        """``slot`` got its answer: its backoff is over, and maybe everyone's."""
        slot.failures = 0
        slot.pulled = False
        now = self._clock()
        if not self._spell.answered(slot.id, now, quiet=self._settings.interval):
            return
        # The server's error spell is over (an interval without errors, an answer now).
        # Rows backed off during it would stay silent for up to their last backoff: ask
        # them now (each was last asked at least an interval ago; the token bucket paces
        # them). One that fails again keeps its doubling backoff (it is marked pulled).
        for conversion_id in list(self._spell.backed_off):
            backed = self._queue.get(conversion_id)
            if backed is not None and backed.queued and backed.lane in _PULLED_LANES and (
                    backed.due > now):
                backed.pulled = True
                self._queue.schedule(backed, backed.lane, now)

    def _handle_transport(self, slot: PollSlot, lane: Lane, error: TransportError,
                          probe: bool) -> None:
        now = self._clock()
        if probe:
            self._probe_attempt += 1
            if error.reason == "timeout":
                self._probe_timed_out.add(slot.id)  # the next probe asks another row
            self._link_message = transport_cause(error)
            self._probe_due = now + self._probe_delay()
            self._requeue(slot, lane, now)
            self._publish()
            return
        if self._link is ConnectivityState.OFFLINE:
            self._requeue(slot, lane, now)
            return
        if error.reason in _LINK_REASONS:
            # Nobody listens (or the TLS handshake fails): that is the link, whatever
            # else answered a moment ago.
            self._go_offline(slot, lane, error, now)
            return
        # A drop, timeout or broken answer may be one request's bad luck or the link going
        # down; the cause does not say which, so recent answers decide. Every active row
        # is asked once an interval, so a working link answers at least that often; two
        # intervals allow for rows polled in step (their answers are an interval plus a
        # latency apart) and for a watchlist of one active row.
        self._transport_failures += 1
        if self._last_answer > now - 2 * self._settings.interval:
            # The link is up: a problem of this row only. Unless the link is in fact going
            # down (a server shutting down resets a request or two before it refuses):
            # then the next thing we learn is OFFLINE, not an answer, and the row's
            # problem becomes the banner's (see _handle_answer and _go_offline).
            self._row_problem(slot, error, unconfirmed=True)
        elif self._transport_failures >= 2:
            self._go_offline(slot, lane, error, now)  # two in a row, nothing answered
        else:
            # Nothing answered lately, but one failure proves little: ask again soon, and
            # a second failure before any answer takes the link OFFLINE.
            self._requeue(slot, lane, now)

    def _go_offline(self, slot: PollSlot, lane: Lane, error: TransportError,
                    now: float) -> None:
        self._link = ConnectivityState.OFFLINE
        self._link_since = self._wall()
        self._link_message = transport_cause(error)
        self._probe_attempt = 0
        self._probe_id = slot.id
        self._probe_due = now + self._probe_delay()
        self._requeue(slot, lane, now)
        # Drops just before were the outage arriving, not problems of their rows: take
        # back their backoff too, so they are asked as soon as the link is back.
        unconfirmed, self._unconfirmed = self._unconfirmed, []
        for dropped, _result, _timed_out in unconfirmed:
            if self._watched(dropped) and dropped.queued:
                dropped.failures = max(0, dropped.failures - 1)
                self._queue.schedule(dropped, dropped.lane, now)
        self._publish()

    def _probe_delay(self) -> float:
        settings = self._settings
        # Never wait longer than a poll interval between probes: once the server is back,
        # rows must be fresh within two intervals, not after a 30 s probe backoff.
        cap = min(settings.offline_probe_max, settings.interval)
        base = min(settings.offline_probe_min, cap) * math.pow(2.0, min(self._probe_attempt, 30))
        return jittered(min(base, cap), self._rng)

    def _hold(self, until: float, error: RateLimitedError) -> None:
        if self._link is not ConnectivityState.RATE_LIMITED:
            self._link = ConnectivityState.RATE_LIMITED
            self._link_since = self._wall()
        self._hold_until = max(self._hold_until, until)
        # A short cause ("HTTP 429: …"), not the client's whole sentence: the banner
        # puts it in brackets inside its own sentence.
        self._link_message = describe_problem(error)
        self._publish()

    def _end_hold(self, now: float) -> None:
        self._link = ConnectivityState.ONLINE
        self._link_since = self._wall()
        self._link_message = ""
        self._ramp.begin(now)
        self._bucket.drain(now, keep=1.0)
        self._publish()

    # -- connectivity and batched updates --------------------------------------------

    def _current_connectivity(self) -> Connectivity:
        if self._auth_problem is not None:
            return Connectivity(ConnectivityState.AUTH_FAILED, self._auth_since, None,
                                self._auth_problem)
        if self._paused:
            return Connectivity(ConnectivityState.PAUSED, self._paused_since, None,
                                self._link_message)
        retry_at: float | None = None
        if self._link is ConnectivityState.OFFLINE:
            retry_at = self._wall() + max(0.0, self._probe_due - self._clock())
        elif self._link is ConnectivityState.RATE_LIMITED:
            retry_at = self._wall() + max(0.0, self._hold_until - self._clock())
        return Connectivity(self._link, self._link_since, retry_at, self._link_message)

    def _publish(self) -> None:
        """Recompute the banner state; a change is sent to the UI straight away."""
        current = self._current_connectivity()
        if current != self._connectivity:
            self._connectivity = current
            self._connectivity_dirty = True
            self._schedule_flush(0.0)

    def _add_result(self, result: PollResult) -> None:
        self._pending.append(result)
        if len(self._pending) >= self._settings.flush_batch:
            self._flush()
        else:
            due = self._last_flush + self._settings.flush_interval - self._clock()
            self._schedule_flush(max(0.0, due), replace=False)

    def _schedule_flush(self, delay: float, *, replace: bool = True) -> None:
        if self._loop is None:
            return  # not running: run() publishes on start, shutdown flushes
        if self._flush_handle is not None:
            if not replace:
                return
            self._flush_handle.cancel()
        self._flush_handle = self._loop.call_later(delay, self._flush)

    def _flush(self) -> None:
        """Store waiting results in one transaction, then send one update."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        batch, self._pending = self._pending, []
        removed, self._removed = self._removed, []
        added, self._added = self._added, []
        elsewhere, self._changed_elsewhere = self._changed_elsewhere, {}
        if not batch and not self._connectivity_dirty and not removed and not elsewhere:
            return
        self._last_flush = self._clock()
        self._connectivity_dirty = False
        changes: list[StatusChange] = []
        rows: list[WatchedConversion] = []
        if batch:
            try:
                changes = list(self._watchlist.record_results(batch))
                self._stats.results_recorded += len(batch)
            except Exception:  # a full disk must not stop the monitor
                log.exception("could not record %d poll results", len(batch))
            rows = self._rows(list(dict.fromkeys(result.id for result in batch)))
        if elsewhere:
            # Rows another process changed, as the file had them; rows read back just now
            # are fresher and win.
            fresh = {row.id for row in rows}
            rows.extend(row for key, row in elsewhere.items() if key not in fresh)
        update = PollUpdate(rows=rows, changes=changes, connectivity=self._connectivity,
                            removed=removed, added=added)
        self._stats.updates_sent += 1
        try:
            self._on_update(update)
        except Exception:
            log.exception("on_update callback failed")

    def _rows(self, ids: list[int]) -> list[WatchedConversion]:
        get_many = getattr(self._watchlist, "get_many", None)
        try:
            if get_many is not None:
                found = get_many(ids)
                if isinstance(found, Mapping):
                    return [found[i] for i in ids if found.get(i) is not None]
                return [row for row in found if row is not None]
            return [row for row in map(self._watchlist.get, ids) if row is not None]
        except Exception:
            log.exception("could not read back %d watched rows", len(ids))
            return []
