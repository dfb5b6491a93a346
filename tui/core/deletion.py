"""Deleting conversions: phase one (ask the server), bulk, bounded, nothing retried.

A delete only *marks* a conversion (202, status DeletionPending); the server
deletes it later. So this module sends the DELETE calls and records what each
answer means; phase two (polling until the status says Deleted, or a 404 after
our own request) is the poller's, guided by ``Watchlist.mark_delete_requested``.

Per ID the answer becomes one :class:`DeleteResult`:

======================  ===================================================
202                     REQUESTED (also when it was already pending)
409 (Processing)        REFUSED, with the status the server reported
410                     ALREADY_DELETED: someone (or something) deleted it
                        before; never counted as our delete confirmed. After
                        our own earlier request: that request confirmed
404                     NOT_FOUND; ALREADY_DELETED after our own request
401/403                 AUTH; nothing more is sent (the rest: SKIPPED); but a
                        403 naming the key's profile is about that one
                        conversion: FAILED ("no access to this conversion")
an answer about another conversion
                        FAILED, never recorded as this one's delete
429                     RATE_LIMITED, with the wait the server asked for
anything else           FAILED, with a short reason
======================  ===================================================

Nothing is retried behind the user's back: a person decides whether to press
``d`` again. The rest of a bulk delete goes on after any failure but a refused
key or a store that refuses (the team database away: a delete must be claimed and
recorded there, so the IDs not sent yet are SKIPPED, and when none was sent at all the
store's :class:`~tui.core.watchstore.StoreRefused` itself is raised, not wrapped in an
``ExceptionGroup``). Every ID's outcome goes to the audit log.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, runtime_checkable

from tui.api.errors import (
    ApiError,
    AuthenticationError,
    BadResponseError,
    ConflictError,
    GoneError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    WrongConversionError,
)
from tui.api.models import StatusEnvelope
from tui.core.delete_results import DeleteOutcome, DeleteResult, DeleteSummary, describe
from tui.core.polling.problems import describe_problem, no_access_problem, transport_cause
from tui.core.untrusted import printable
from tui.core.watchlist import PollResult
from tui.core.watchstore import StoreRefused, WatchStore

log = logging.getLogger(__name__)

__all__ = [
    "DeleteClaims",
    "DeleteOutcome",
    "DeleteResult",
    "DeleteSummary",
    "DeletingClient",
    "delete_conversions",
    "describe",
]

_STATUS_LIMIT = 40
#: Why a 410 is not our doing: the conversion was Deleted before this request came.
ALREADY_GONE = "was already deleted on the server, not by this request"
_UNSURE = "the conversion may or may not be marked — check its status"


class DeletingClient(Protocol):
    """What deletion needs from the API client (``ConversionsClient`` fits)."""

    async def delete(self, conversion_id: int) -> StatusEnvelope: ...


class AuditTrail(Protocol):
    """What deletion needs from the audit log (``AuditLog`` fits)."""

    def append(self, action: str, ids: Sequence[int], outcome: str, profile: str,
               user: str | None, detail: str | None = None,
               at: float | None = None) -> object: ...


@runtime_checkable
class DeleteClaims(Protocol):
    """A store shared by a team, where a colleague may be deleting a row already (the
    team store). A delete is claimed before it is sent, so two people never both send
    it; a claim whose delete was not accepted is given back."""

    def claim_delete(self, conversion_id: int, at: float) -> tuple[str | None, float] | None:
        """Claim the delete of a watched row: None when it is ours now, else who asked
        first and when (unix seconds)."""
        ...

    def release_delete(self, conversion_id: int) -> None:
        """Give a claim back (the server did not accept the delete)."""
        ...


def _status_word(error: ConflictError) -> str | None:
    word = error.current_status
    return printable(word, limit=_STATUS_LIMIT) if word else None


def _failure_reason(error: ApiError) -> str:
    """Why a delete failed, and whether the server might have acted on it anyway."""
    if isinstance(error, TransportError):
        cause = transport_cause(error)
        if error.reason == "refused":
            # No connection was made, so the request cannot have reached the server.
            return f"network error: {cause}; nothing reached the server"
        return f"network error: {cause}; {_UNSURE}"
    if isinstance(error, ServerError | BadResponseError):
        return f"server error: {describe_problem(error)}; {_UNSURE}"
    if isinstance(error, InvalidRequestError):
        return f"the server rejected the request: {describe_problem(error)}"
    return f"{describe_problem(error)}; {_UNSURE}"


def _wrong_conversion(conversion_id: int, answered: int | None, at: float) -> DeleteResult:
    """The delete of ``conversion_id`` was answered about another conversion: whatever the
    server did, this is not a confirmation of it (and what the person saw may be wrong)."""
    other = f"conversion {answered}" if answered else "another conversion"
    return DeleteResult(conversion_id, DeleteOutcome.FAILED,
                        f"the server answered about {other}, not {conversion_id}: not "
                        f"recorded as deleted; {_UNSURE}", at)


def _result_of_error(conversion_id: int, error: ApiError, at: float,
                     requested_before: bool) -> DeleteResult:
    if isinstance(error, ConflictError):
        status = _status_word(error)
        if status == "Processing" or status is None:
            reason = "still Processing: wait until it completes or fails, then delete"
            if status is None:
                reason = "the server refused it in its current status; check it, then delete"
        else:
            reason = f"the server refused it while {status}; check it, then delete"
        return DeleteResult(conversion_id, DeleteOutcome.REFUSED, reason, at, status=status)
    if isinstance(error, GoneError):
        reason = ("deletion confirmed: the server reports it Deleted" if requested_before
                  else ALREADY_GONE)
        return DeleteResult(conversion_id, DeleteOutcome.ALREADY_DELETED, reason, at)
    if isinstance(error, NotFoundError):
        if requested_before:
            return DeleteResult(conversion_id, DeleteOutcome.ALREADY_DELETED,
                                "deletion confirmed: the server no longer has it", at)
        return DeleteResult(conversion_id, DeleteOutcome.NOT_FOUND,
                            "the server does not know this ID", at)
    if isinstance(error, AuthenticationError):
        if error.status_code == 403 and error.envelope is not None and (
                error.envelope.profile is not None):
            # The key is known: this conversion is one it may not touch; go on with the rest.
            return DeleteResult(conversion_id, DeleteOutcome.FAILED,
                                f"{no_access_problem(error)}; nothing was deleted", at)
        return DeleteResult(conversion_id, DeleteOutcome.AUTH,
                            "the key was refused; nothing more was sent", at)
    if isinstance(error, WrongConversionError):
        return _wrong_conversion(conversion_id, getattr(error, "answered_id", None), at)
    if isinstance(error, RateLimitedError):
        wait = error.retry_after
        when = f"wait {math.ceil(wait)} s" if wait is not None else "wait a moment"
        return DeleteResult(conversion_id, DeleteOutcome.RATE_LIMITED,
                            f"too many requests: {when} and press d again", at,
                            retry_after=wait)
    return DeleteResult(conversion_id, DeleteOutcome.FAILED, _failure_reason(error), at)


class _BulkDelete:
    """One bulk delete: a few workers take IDs in order until none are left."""

    def __init__(self, client: DeletingClient, watchlist: WatchStore, audit: AuditTrail, *,
                 profile_name: str, user: str | None,
                 on_outcome: Callable[[DeleteResult], None] | None,
                 clock: Callable[[], float]) -> None:
        self.client = client
        self.watchlist = watchlist
        self.audit = audit
        self.profile_name = profile_name
        self.user = user
        self.on_outcome = on_outcome
        self.clock = clock
        self.stopped = False
        self.stop_reason = "not sent: the key was refused for an earlier ID"
        self.callback_error: Exception | None = None
        #: The store's first refusal (the team database away), and how many were sent.
        self.refused: StoreRefused | None = None
        self.sent = 0

    async def delete_one(self, conversion_id: int) -> DeleteResult:
        if self.stopped:
            result = DeleteResult(conversion_id, DeleteOutcome.SKIPPED, self.stop_reason,
                                  self.clock())
            self.finish(result, notify=self.refused is None)
            return result
        try:
            row = self.watchlist.get(conversion_id)
            requested_before = row is not None and row.delete_requested_at is not None
            claimed = False
            if row is not None and isinstance(self.watchlist, DeleteClaims):
                colleague = self.watchlist.claim_delete(conversion_id, self.clock())
                if colleague is not None:
                    result = _colleague_deleting(conversion_id, *colleague, self.clock())
                    self.finish(result)
                    return result
                claimed = not requested_before
        except StoreRefused as error:
            return self.store_refused(conversion_id, error)
        self.sent += 1
        not_found = False
        gone: StatusEnvelope | None = None
        try:
            answer = await self.client.delete(conversion_id)
        except ApiError as error:
            result = _result_of_error(conversion_id, error, self.clock(), requested_before)
            not_found = isinstance(error, NotFoundError)
            if isinstance(error, GoneError):
                gone = _own_answer(conversion_id, error.envelope)
        except asyncio.CancelledError:
            # The request may have reached the server: the audit log must say so.
            self.finish(DeleteResult(conversion_id, DeleteOutcome.FAILED,
                                     f"cancelled while sent; {_UNSURE}", self.clock()),
                        notify=False)
            raise
        else:
            answered = getattr(getattr(answer, "payload", None), "id", None)
            if answered is not None and answered != conversion_id:
                # The client checks this too; never record another conversion's answer
                # as this one's delete accepted.
                result = _wrong_conversion(conversion_id, answered, self.clock())
            else:
                reason = ("deletion was already requested; watching until it shows Deleted"
                          if requested_before else
                          "marked for deletion; watching until it shows Deleted")
                result = DeleteResult(conversion_id, DeleteOutcome.REQUESTED, reason,
                                      self.clock())
        try:
            if claimed and result.outcome is not DeleteOutcome.REQUESTED:
                # Not accepted: the claim goes back before the answer is recorded (a 404
                # after a delete request would read as Deleted).
                assert isinstance(self.watchlist, DeleteClaims)
                self.watchlist.release_delete(conversion_id)
            self.apply(result, watched=row is not None, not_found=not_found, gone=gone)
        except StoreRefused as error:
            # Sent and answered, but the store went away meanwhile: the answer stands (the
            # audit log has it); the row shows it once the poller sees it again.
            log.warning("could not record the delete of %d: %s", conversion_id, error)
            result = dataclasses.replace(
                result, reason=f"{result.reason} (not recorded in the watchlist: {error})")
        self.finish(result)
        return result

    def store_refused(self, conversion_id: int, error: StoreRefused) -> DeleteResult:
        """The store refused what must come before sending (the row, the claim): this ID
        and those not sent yet are not sent; the first refusal is kept."""
        if self.refused is None:
            self.refused = error
        self.stopped = True
        self.stop_reason = f"not sent: {printable(str(error), limit=300)}"
        result = DeleteResult(conversion_id, DeleteOutcome.SKIPPED, self.stop_reason,
                              self.clock())
        self.finish(result, notify=False)  # nothing changed: no row to show again
        return result

    def apply(self, result: DeleteResult, *, watched: bool, not_found: bool,
              gone: StatusEnvelope | None = None) -> None:
        """Record in the watchlist what the answer tells us about the conversion."""
        if result.outcome is DeleteOutcome.AUTH:
            self.stopped = True
        elif result.outcome is DeleteOutcome.REQUESTED:
            if not watched:
                # A deletion is followed to its end, so the conversion must be watched.
                self.watchlist.add([result.id], at=result.at)
            self.watchlist.mark_delete_requested(result.id, result.at)
        elif not_found:
            # A 404 is a status answer too; after our own request it means Deleted.
            self.watchlist.record_results([PollResult(result.id, result.at, not_found=True)])
        elif gone is not None and watched:
            # 410: the answer carries the conversion as it is (Deleted). Recorded now, so
            # the next poll sees no change to report; never marked as *our* delete
            # requested, or that poll would count someone else's deletion as ours
            # confirmed (audit "confirmed" plus a toast next to "already deleted").
            # A later 404 still reads "Deleted, purged": the last status is Deleted.
            self.watchlist.record_results([PollResult(result.id, result.at, envelope=gone)])

    def finish(self, result: DeleteResult, *, notify: bool = True) -> None:
        self.audit.append("delete", [result.id], result.outcome.value, self.profile_name,
                          self.user, detail=result.reason, at=result.at)
        if self.on_outcome is None or not notify:
            return
        try:
            self.on_outcome(result)
        except StoreRefused as error:
            # Showing the row again needs the store: it is away now, the answer stands.
            log.warning("could not show the delete of %d: %s", result.id, error)
        except Exception as error:
            # Raising here would cancel deletes already on the wire, leaving them unknown.
            if self.callback_error is None:
                self.callback_error = error


def _colleague_deleting(conversion_id: int, who: str | None, since: float,
                        at: float) -> DeleteResult:
    """Not sent: a colleague asked first (their name is text from the team database)."""
    name = printable(who, limit=60) if who else "a colleague"
    when = time.strftime("%H:%M", time.localtime(since))
    return DeleteResult(conversion_id, DeleteOutcome.REFUSED,
                        f"{name} is already deleting it (asked at {when}); not sent", at)


def _own_answer(conversion_id: int, envelope: object) -> StatusEnvelope | None:
    """``envelope`` when it is about ``conversion_id`` (a 410 carries the conversion)."""
    if not isinstance(envelope, StatusEnvelope) or envelope.payload is None:
        return None
    return envelope if envelope.payload.id == conversion_id else None


def _unique_ids(ids: Iterable[int]) -> list[int]:
    unique = list(dict.fromkeys(ids))
    for value in unique:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{value!r} is not a conversion ID")
    return unique


async def delete_conversions(
    client: DeletingClient,
    watchlist: WatchStore,
    audit: AuditTrail,
    ids: Sequence[int],
    *,
    profile_name: str,
    user: str | None = None,
    concurrency: int = 4,
    on_outcome: Callable[[DeleteResult], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> DeleteSummary:
    """Ask the server to delete each of ``ids``, at most ``concurrency`` at a time.

    Never retries. Goes on after any failure except a refused key (401/403):
    after that, IDs not yet sent are SKIPPED. Each result is written to the
    audit log and handed to ``on_outcome`` as it comes (for live row updates),
    and a 202 marks the conversion in ``watchlist`` so the poller follows it
    until Deleted. Returns every result in the order of ``ids`` (repeats dropped).

    A store that refuses (the team database away) stops the rest (SKIPPED, its sentence
    as the reason); when nothing was sent at all, its ``StoreRefused`` is raised.
    """
    wanted = _unique_ids(ids)
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    bulk = _BulkDelete(client, watchlist, audit, profile_name=profile_name, user=user,
                       on_outcome=on_outcome, clock=clock)
    results: dict[int, DeleteResult] = {}
    pending = iter(wanted)

    async def worker() -> None:
        # Shared iterator: each worker takes the next ID when its last one is done,
        # so IDs go out in order and a 401 stops the ones not taken yet.
        for conversion_id in pending:
            results[conversion_id] = await bulk.delete_one(conversion_id)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(wanted))):
            group.create_task(worker())
    if bulk.callback_error is not None:
        raise bulk.callback_error
    if bulk.refused is not None and bulk.sent == 0:
        # Nothing went to the server: the store's own sentence, for the UI to say.
        raise bulk.refused
    return DeleteSummary([results[conversion_id] for conversion_id in wanted])
