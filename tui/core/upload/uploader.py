"""Sending an upload plan as batch posts: nothing lost, nothing sent twice.

:class:`Uploader` posts the plan's files in batches (at most ``batch_records``
records and ``batch_bytes`` of body each), one batch in flight at a time, reading
each file only when its batch is built. After every answered batch the new IDs are
written to the watchlist and the audit log *before* the next batch goes, so a crash
loses nothing the server accepted.

What each failure does (a POST is not idempotent, so nothing is re-sent blindly):

* 413 (nothing processed): the batch is split in halves, recursively; a lone record
  that still gets 413 is rejected with that reason.
* 429: wait for Retry-After (capped; a bounded number of times) and send again;
  ``cancel()`` cuts the wait short.
* 401/403: stop; the rest is "not sent" and the outcome says a key is needed.
* No answer after sending (the connection broke), a 5xx or an unreadable answer:
  the batch is "unknown" (the server may hold it) and is NOT re-sent.
* A 4xx for the whole batch or a refused connection: the batch "failed" (certainly
  not processed).
* ``max_failures`` batches in a row without a usable answer: stop.

Every batch answered, refused or lost gets one audit entry (a 413 split in halves is a
problem line only: its halves get the entries), counted against the whole upload
("accepted 9 of 14 (5 left out before sending)").
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeAlias

from tui.api.errors import (
    ApiError,
    AuthenticationError,
    BadResponseError,
    PayloadTooLargeError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from tui.api.models import BatchEnvelope, ConversionRecord
from tui.core.upload.body import BuiltBody, build_body, group_batches
from tui.core.upload.outcome import FileOutcome, UploadOutcome
from tui.core.upload.plan import UploadItem, UploadPlan
from tui.core.upload.records import AuditSink, UploadRecords, WatchlistSink
from tui.core.upload.run import RunStopped, UploadProgress, UploadRun

#: The API's limits (see openapi.yaml): records per post, characters of a reference.
MAX_BATCH_RECORDS = 100
MAX_REFERENCE = 200
DEFAULT_BATCH_BYTES = 20 * 2**20
# Transport reasons that mean the request never left this machine.
_NOT_DELIVERED = frozenset({"refused", "tls"})
# Bodies from this size on are freed at once after their batch (see _release).
_COLLECT_AFTER = 2**20
# A batch being read on the reading thread: its items, and the body to come.
_Building: TypeAlias = "tuple[list[UploadItem], asyncio.Future[BuiltBody]]"


class BatchPoster(Protocol):
    """What the uploader needs of the API client."""

    async def post_batch(self, records: Sequence[ConversionRecord] | bytes) -> BatchEnvelope:
        """Post one batch (here always an already serialised body)."""
        ...


class Uploader:
    """Posts an :class:`UploadPlan` batch by batch; see the module docstring.

    ``on_progress`` is called on the event loop after every step. One run at a time;
    the same uploader can run again (a retry) once the previous run returned.
    ``user`` is the key owner's e-mail if already known; the server's answers name it
    too, and the audit log falls back to the OS user (see ``tui.core.audit``).
    """

    def __init__(self, client: BatchPoster, watchlist: WatchlistSink, audit: AuditSink, *,
                 profile_name: str, user: str | None = None,
                 batch_records: int = MAX_BATCH_RECORDS, batch_bytes: int = DEFAULT_BATCH_BYTES,
                 on_progress: Callable[[UploadProgress], None] | None = None,
                 max_rate_limit_waits: int = 5, max_wait: float = 60.0,
                 max_failures: int = 2) -> None:
        if batch_records < 1 or batch_bytes < 1 or max_failures < 1:
            raise ValueError("batch_records, batch_bytes and max_failures must be positive")
        self._client = client
        self._records = UploadRecords(watchlist, audit, profile_name=profile_name, user=user)
        self._profile = profile_name
        self._batch_records = batch_records
        self._batch_bytes = batch_bytes
        self._on_progress = on_progress
        self._max_waits = max_rate_limit_waits
        self._max_wait = max_wait
        self._max_failures = max_failures
        self._cancelled = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._run: UploadRun | None = None

    def __repr__(self) -> str:
        return f"Uploader(profile={self._profile!r}, batch_records={self._batch_records})"

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called during the current run."""
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Stop after the batch in flight (a rate-limit wait ends at once). Thread-safe."""
        self._cancelled.set()
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:
                pass  # the loop has closed: the run is over anyway

    async def run(self, plan: UploadPlan, reference: str | None = None) -> UploadOutcome:
        """Send every item of ``plan``; ``reference`` goes with every record (max 200 chars)."""
        if self._run is not None:
            raise RuntimeError("this uploader is already running")
        reference = (reference.strip() or None) if reference is not None else None
        if reference is not None and len(reference) > MAX_REFERENCE:
            raise ValueError(f"the external reference is longer than {MAX_REFERENCE} characters")
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        if self._cancelled.is_set():
            self._wake.set()  # cancelled before it started: honour it
        run = UploadRun(plan, reference)
        self._run = run
        try:
            await self._send_all(run)
        finally:
            self._run = None
            self._loop = self._wake = None
            self._cancelled.clear()
        return run.finish()

    # -- the loop ----------------------------------------------------------------------------

    async def _send_all(self, run: UploadRun) -> None:
        queue = deque(group_batches(run.plan.items, max_records=self._batch_records,
                                    max_bytes=self._batch_bytes, reference=run.reference))
        run.batches_planned = len(queue)
        failures = 0
        loop = asyncio.get_running_loop()
        # One reading thread for the whole run: every body is allocated by the same thread,
        # so the C allocator reuses that memory instead of growing an arena per thread.
        reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-reader")

        def start(batch: list[UploadItem]) -> _Building:
            return batch, loop.run_in_executor(reader, build_body, batch, run.reference)

        # The next batch is read while the current one is on the wire: at most two bodies
        # exist at once (the memory target is twice the byte budget), and reading costs
        # no time of its own.
        upcoming: _Building | None = None
        try:
            while queue or upcoming is not None:
                if self._cancelled.is_set():
                    raise RunStopped("Cancelled: the files not yet sent were left out.", "cancel")
                if upcoming is None:
                    self._progress(run, "reading")
                    upcoming = start(queue.popleft())
                _, building = upcoming
                built = await building
                upcoming = None
                for item, reason in built.unreadable:
                    run.add(item, FileOutcome.FAILED, reasons=(reason,))
                if not built.items:
                    continue
                if queue:
                    upcoming = start(queue.popleft())
                try:
                    failures = await self._send_one(run, built, queue, failures)
                    self._progress(run, "sent")
                except RunStopped:
                    run.add_all(run.unfiled(built.items), FileOutcome.NOT_SENT)
                    raise
                finally:
                    _release(built)
        except RunStopped as stop:
            if upcoming is not None:
                queue.appendleft(upcoming[0])  # read but never sent: among the files not sent
            run.outcome.stopped_reason, run.outcome.stopped_by = str(stop), stop.by
            for batch in queue:
                run.add_all(batch, FileOutcome.NOT_SENT)
            self._progress(run, "stopped", message=str(stop))
        else:
            self._progress(run, "done")
        finally:
            if upcoming is not None:
                upcoming[1].cancel()  # its result is not wanted (also when this task is cancelled)
            reader.shutdown(wait=False)

    async def _send_one(self, run: UploadRun, built: BuiltBody, queue: deque[list[UploadItem]],
                        failures: int) -> int:
        """Post one built batch and file its items; returns the new count of failures."""
        items = built.items
        number = run.outcome.batches_posted + 1
        self._progress(run, "sending", message=f"Sending batch {number} ({len(items)} files)")
        try:
            envelope = await self._post(run, built.body)
        except PayloadTooLargeError as error:
            run.outcome.batches_posted += 1
            self._records.learn_user(error.envelope)
            if len(items) == 1:
                why = f"{error} The file is too large for the server even on its own."
                run.add(items[0], FileOutcome.REJECTED, batch=number, index=0, reasons=(why,))
                self._records.append(run, [], "refused as too large (HTTP 413): "
                                     + run.batch_words(0, 1, number, refused=True),
                                     f"{why} File: {items[0].file_name}")
            else:
                half = (len(items) + 1) // 2
                queue.appendleft(items[half:])
                queue.appendleft(items[:half])
                run.batches_planned += 2  # the refused post counted as one: two more go
                run.outcome.problems.append(
                    f"Batch {number} ({len(items)} files) was too large for the server "
                    "(HTTP 413); sending it in halves.")
            return failures
        except AuthenticationError as error:
            raise RunStopped(f"{error} An API key is needed: set CONVERSIONS_API_KEY or run "
                        "`conversions-tui login`. Nothing more was sent.", "auth") from None
        except RateLimitedError as error:
            run.add_all(items, FileOutcome.FAILED, reasons=(str(error),), batch=number)
            self._records.refused(run, items, number, error)
            raise RunStopped(f"The server kept asking to slow down ({error}); stopped.",
                        "rate_limit") from None
        except TransportError as error:
            run.outcome.batches_posted += 1
            if error.reason in _NOT_DELIVERED:
                run.add_all(items, FileOutcome.FAILED, reasons=(str(error),), batch=number)
                self._records.refused(run, items, number, error)
            else:
                self._records.lost(run, items, number, error)
            return self._failed(run, failures + 1, "transport")
        except (ServerError, BadResponseError) as error:
            run.outcome.batches_posted += 1
            self._records.lost(run, items, number, error)
            return self._failed(run, failures + 1, "failures")
        except ApiError as error:
            run.outcome.batches_posted += 1
            self._records.learn_user(error.envelope)
            reasons = (str(error), *error.errors)
            run.add_all(items, FileOutcome.FAILED, reasons=reasons, batch=number)
            run.outcome.problems.append(f"Batch {number} ({len(items)} files) failed: {error}")
            self._records.refused(run, items, number, error)
            return self._failed(run, failures + 1, "failures")
        run.outcome.batches_posted += 1
        self._records.learn_user(envelope)
        accepted = run.file_answer(envelope, items, number)
        self._records.accepted(run, accepted, len(items), number)
        return 0

    def _failed(self, run: UploadRun, failures: int, by: str) -> int:
        if failures >= self._max_failures:
            raise RunStopped(f"{failures} batches in a row got no usable answer; stopped so as "
                        "not to send more into a broken connection.", by)
        return failures

    async def _post(self, run: UploadRun, body: bytes) -> BatchEnvelope:
        """Post, waiting out 429s (bounded); cancel ends a wait with a stop."""
        waits = 0
        while True:
            try:
                return await self._client.post_batch(body)
            except RateLimitedError as error:
                waits += 1
                if waits > self._max_waits:
                    raise
                asked = error.retry_after if error.retry_after is not None else 2.0**waits
                delay = min(max(asked, 0.0), self._max_wait)
                self._progress(run, "waiting", wait_seconds=delay,
                               message=f"Rate limited; waiting {delay:.0f} s")
                if await self._wait_or_cancel(delay):
                    raise RunStopped("Cancelled while waiting for the rate limit; the batch was "
                                "not sent.", "cancel") from None

    async def _wait_or_cancel(self, delay: float) -> bool:
        """Sleep ``delay`` seconds; True when cancelled meanwhile."""
        assert self._wake is not None
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=delay)
        except TimeoutError:
            return self._cancelled.is_set()
        return True

    def _progress(self, run: UploadRun, state: str, *, wait_seconds: float | None = None,
                  message: str | None = None) -> None:
        if self._on_progress is not None:
            self._on_progress(run.progress(state, wait_seconds, message))


def _release(built: BuiltBody) -> None:
    """Let a sent body go now, not whenever the cycle collector next runs.

    httpx's Response and its stream refer to each other, and the response holds the
    request, which holds the body: only the cycle collector frees it (measured: one more
    body of resident memory per batch until it ran). A young-generation pass is cheap
    and usually enough; a full one runs only when it was not.
    """
    body, built.body = built.body, b""
    if len(body) < _COLLECT_AFTER:
        return
    gc.collect(1)
    # Two references are ours (``body`` and getrefcount's argument); more means the cycle
    # that holds it has reached the old generation.
    if sys.getrefcount(body) > 2:
        gc.collect()
