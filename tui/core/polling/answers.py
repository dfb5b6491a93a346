"""What an answer or a failure does to its row and to the link.

:class:`AnswerHandler` turns each finished status check into state: a result for the
store, the row's next check (its interval, or a doubling backoff), and for failures
that are not the row's own, the banner's state (offline, held by a 429, the key
refused). Rules, as in :mod:`tui.core.polling`:

* Errors back off per ID; when several rows failed and the server then answers cleanly
  for an interval, the backed-off rows are asked again at once, while an ID that fails
  on its own keeps its backoff (:class:`~tui.core.polling.pacing.ErrorSpell`).
* A refused connection, or drops and timeouts with no answer for two intervals, mean
  OFFLINE; a drop while others answer is that row's problem, recorded once the next
  answer proves the link up.
* A refused key (see :class:`~tui.core.polling.keyrefusals.KeyRefusals`) stops polling;
  an answer about another conversion is never stored as this one.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from tui.api.errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    RateLimitedError,
    TransportError,
    WrongConversionError,
)
from tui.api.models import StatusEnvelope
from tui.core.polling.keyrefusals import KeyRefusals
from tui.core.polling.lanes import home_lane, lane_for
from tui.core.polling.link import Link
from tui.core.polling.pacing import ErrorSpell, backoff_delay, jittered
from tui.core.polling.problems import describe_problem, no_access_problem, transport_cause
from tui.core.polling.queue import Lane, PollQueue, PollSlot
from tui.core.polling.types import PollSettings, PollStats
from tui.core.polling.updates import UpdateBatcher
from tui.core.statuses import StatusKind, is_settled, status_kind
from tui.core.watchlist import PollResult

log = logging.getLogger(__name__)

# Transport failures that always mean the link, not one request: nothing listens, or
# no connection can be secured. Drops and timeouts are judged by recent answers instead.
_LINK_REASONS = frozenset({"refused", "tls"})
# Lanes whose rows backed off in a server's error spell are asked again when it ends.
_PULLED_LANES = frozenset({Lane.ACTIVE, Lane.NEW})


def error_kind(error: BaseException) -> str:
    """The counter name of a failed request: ``rate_limited``, ``transport``, ..."""
    if isinstance(error, ApiError):
        name = type(error).__name__.removesuffix("Error")
        return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return "internal"


class AnswerHandler:
    """Records each finished check and schedules its row's next one (see the module)."""

    def __init__(self, queue: PollQueue, link: Link, updates: UpdateBatcher,
                 settings: PollSettings, stats: PollStats, *, clock: Callable[[], float],
                 wall_clock: Callable[[], float], rng: random.Random,
                 publish: Callable[[], None]) -> None:
        self._queue = queue
        self._link = link
        self._updates = updates
        self._settings = settings
        self._stats = stats
        self._clock = clock
        self._wall = wall_clock
        self._rng = rng
        self._publish = publish
        #: Which client (key) is in use: answers to an older one do not judge the new key.
        self.generation = 0
        self._spell = ErrorSpell()  # rows backing off, and whether the server is to blame
        self._refusals = KeyRefusals(settings.key_refusal_rows, settings.interval)
        # Drops while answers came, not recorded until the next answer confirms the link.
        # (slot, result, whether it timed out): a timeout confirmed as the row's counts
        # towards the slow lane.
        self._unconfirmed: list[tuple[PollSlot, PollResult, bool]] = []

    # -- what the scheduler calls ----------------------------------------------------

    def new_key(self) -> None:
        """A new client (key) is in use: earlier refusals no longer count."""
        self.generation += 1
        self._refusals.new_key()

    def forget(self, gone: set[int]) -> None:
        """``gone`` are no longer watched."""
        self._spell.forget(gone)
        self._refusals.forget(gone)
        self._link.health.forget(gone)

    def drop_unconfirmed(self) -> None:
        """Stopping: unknown whether those drops were the row's or the link's; the next
        run asks again."""
        self._unconfirmed.clear()

    def answered(self, slot: PollSlot, envelope: StatusEnvelope) -> None:
        """``slot``'s check brought ``envelope``."""
        self._handle_answer()
        self._handle_status(slot, envelope)

    def requeue(self, slot: PollSlot, lane: Lane, due: float) -> None:
        """Put ``slot`` back where it was, unchanged (the failure was not its fault). A
        new ID keeps its place in line (it was due when it was added)."""
        if self._watched(slot):
            if lane is Lane.NEW:
                due = min(due, slot.due)
            self._queue.schedule(slot, lane_for(slot, lane), due)

    def failed(self, slot: PollSlot, lane: Lane, error: Exception, generation: int,
               probe: bool) -> None:
        """``slot``'s check (sent with client ``generation``) raised ``error``."""
        now = self._clock()
        self._stats.count_error(error_kind(error))
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
            # A short cause ("HTTP 429: …"), not the client's whole sentence: the banner
            # puts it in brackets inside its own sentence.
            self._link.hold(now + hold, describe_problem(error))
            self._publish()
            self.requeue(slot, lane, self._link.hold_until)
        elif isinstance(error, AuthenticationError):
            if generation != self.generation:
                self.requeue(slot, lane, now)  # the old key's answer: the new one decides
            elif self._refusals.refused(slot.id, error, now=now, watched=len(self._queue),
                                        generation=generation):
                if self._link.auth_problem is None:
                    self._link.auth_problem = describe_problem(error)  # short: "HTTP 403: …"
                    self._link.auth_since = self._wall()
                    self._publish()
                self.requeue(slot, lane, now)
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
            self._updates.add_result(PollResult(id=slot.id, checked_at=self._wall(),
                                                envelope=None, problem=None, not_found=True))
            self._checked(slot, None)
            self._reschedule(slot)
        else:
            if not isinstance(error, ApiError):
                log.error("status check of %s failed unexpectedly", slot.id, exc_info=error)
            self._row_problem(slot, error)

    # -- answers ---------------------------------------------------------------------

    def _watched(self, slot: PollSlot) -> bool:
        return self._queue.get(slot.id) is slot

    def _checked(self, slot: PollSlot, cause: str | None) -> None:
        """Tell the server's health how a check of ``slot`` ended (``cause``: the server's
        failure, None when it answered properly)."""
        if self._link.checked(slot.id, cause, self._clock()):
            self._publish()

    def _handle_answer(self) -> None:
        """Any HTTP answer proves the connection: leave OFFLINE at once."""
        self._stats.answers += 1
        self._link.answered()
        unconfirmed, self._unconfirmed = self._unconfirmed, []
        for slot, result, timed_out in unconfirmed:  # the link is up: those were the rows'
            if self._watched(slot):
                self._updates.add_result(result)
                self._checked(slot, result.problem)
                if timed_out:
                    self._timed_out(slot)
        if self._link.back_online():
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
        self._updates.add_result(PollResult(id=slot.id, checked_at=self._wall(),
                                            envelope=envelope, problem=None, not_found=False))
        self._checked(slot, None)
        self._reschedule(slot)

    def _wrong_conversion(self, slot: PollSlot, answered: int) -> None:
        error = WrongConversionError(
            f"Asked about conversion {slot.id}, the server answered about {answered}.",
            status_code=200)
        error.asked_id, error.answered_id = slot.id, answered
        self._stats.count_error(error_kind(error))
        self._not_slow(slot)
        self._row_problem(slot, error)

    def _key_works(self, slot: PollSlot) -> None:
        """An answer the key was allowed to have: earlier refusals were about their rows."""
        self._refusals.answered(slot.id, self.generation)

    def _reschedule(self, slot: PollSlot, delay: float | None = None) -> None:
        now = self._clock()
        if slot.ask_again:
            # Sent before an upload made it: what came back may be out of date.
            slot.ask_again = False
            self._queue.schedule(slot, lane_for(slot, Lane.REFRESH), now)
            return
        home = home_lane(slot)
        if delay is None:
            delay = (jittered(self._settings.settled_interval, self._rng, 0.1)
                     if home is Lane.SETTLED else self._settings.interval)
        self._queue.schedule(slot, lane_for(slot, home), now + delay)

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

    # -- problems of one row ---------------------------------------------------------

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
            self._updates.add_result(result)
            # A 403 for this one conversion, or an answer about another, is the row's:
            # the server answered. Anything else blames the server.
            rows_own = isinstance(error, AuthenticationError | WrongConversionError)
            self._checked(slot, None if rows_own else result.problem)
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

    # -- the link --------------------------------------------------------------------

    def _handle_transport(self, slot: PollSlot, lane: Lane, error: TransportError,
                          probe: bool) -> None:
        now = self._clock()
        link = self._link
        if probe:
            link.probe_failed(slot.id, transport_cause(error),
                              timed_out=error.reason == "timeout", now=now)
            self.requeue(slot, lane, now)
            self._publish()
            return
        if link.offline:
            self.requeue(slot, lane, now)
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
        link.transport_failures += 1
        if link.last_answer > now - 2 * self._settings.interval:
            # The link is up: a problem of this row only. Unless the link is in fact going
            # down (a server shutting down resets a request or two before it refuses):
            # then the next thing we learn is OFFLINE, not an answer, and the row's
            # problem becomes the banner's (see _handle_answer and _go_offline).
            self._row_problem(slot, error, unconfirmed=True)
        elif link.transport_failures >= 2:
            self._go_offline(slot, lane, error, now)  # two in a row, nothing answered
        else:
            # Nothing answered lately, but one failure proves little: ask again soon, and
            # a second failure before any answer takes the link OFFLINE.
            self.requeue(slot, lane, now)

    def _go_offline(self, slot: PollSlot, lane: Lane, error: TransportError,
                    now: float) -> None:
        self._link.go_offline(slot.id, transport_cause(error), now)
        self.requeue(slot, lane, now)
        # Drops just before were the outage arriving, not problems of their rows: take
        # back their backoff too, so they are asked as soon as the link is back.
        unconfirmed, self._unconfirmed = self._unconfirmed, []
        for dropped, _result, _timed_out in unconfirmed:
            if self._watched(dropped) and dropped.queued:
                dropped.failures = max(0, dropped.failures - 1)
                self._queue.schedule(dropped, dropped.lane, now)
        self._publish()
