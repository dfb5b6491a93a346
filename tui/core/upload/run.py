"""The bookkeeping of one upload run: each file's result so far, and progress for people.

:class:`UploadRun` files every item of the plan exactly once (accepted, rejected,
failed, unknown or not sent), maps a batch's answer onto its files, and counts what
:class:`UploadProgress` reports. :class:`RunStopped` ends a run early, with its cause.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tui.api.models import BatchEnvelope, BatchRecordResult
from tui.core.upload.outcome import FileOutcome, FileResult, UploadOutcome
from tui.core.upload.plan import UploadItem, UploadPlan


@dataclass(frozen=True, slots=True)
class UploadProgress:
    """Where an upload stands. Bytes are file bytes (not base64), for people.

    ``state`` is ``reading`` (building a batch), ``sending``, ``sent`` (a batch was
    answered and filed), ``waiting`` (rate limited: ``wait_seconds``), ``done`` or
    ``stopped``. ``finished_records`` counts
    files whatever their outcome; ``sent_*`` those whose batch went out and came back
    (or was lost on the way).
    """

    state: str
    total_records: int
    total_bytes: int
    finished_records: int
    sent_records: int
    sent_bytes: int
    accepted_records: int
    accepted_bytes: int
    rejected_records: int
    rejected_bytes: int
    batches_posted: int
    batches_planned: int
    wait_seconds: float | None = None
    message: str | None = None


class RunStopped(Exception):
    """Ends the run: ``by`` is the one-word cause, the message the sentence."""

    def __init__(self, message: str, by: str) -> None:
        super().__init__(message)
        self.by = by


class UploadRun:
    """The bookkeeping of one run: results so far and the numbers for progress."""

    def __init__(self, plan: UploadPlan, reference: str | None) -> None:
        self.plan = plan
        self.reference = reference
        self.outcome = UploadOutcome(invalid=list(plan.rejected), reference=reference)
        self.batches_planned = 0
        self._order = {id(item): position for position, item in enumerate(plan.items)}
        self._filed: set[int] = set()
        self._total_bytes = plan.total_bytes

    def add(self, item: UploadItem, outcome: FileOutcome, *, reasons: tuple[str, ...] = (),
            warnings: tuple[str, ...] = (), conversion_id: int | None = None,
            batch: int | None = None, index: int | None = None) -> None:
        """File ``item``'s result."""
        self._filed.add(id(item))
        self.outcome.results.append(FileResult(
            item=item, outcome=outcome, conversion_id=conversion_id, reasons=reasons,
            warnings=warnings, batch=batch, index=index))

    def add_all(self, items: Iterable[UploadItem], outcome: FileOutcome, *,
                reasons: tuple[str, ...] = (), batch: int | None = None) -> None:
        """File the same result for every one of ``items``."""
        for index, item in enumerate(items):
            self.add(item, outcome, reasons=reasons, batch=batch,
                     index=index if batch is not None else None)

    def unfiled(self, items: Iterable[UploadItem]) -> list[UploadItem]:
        """Those of ``items`` without a result yet."""
        return [item for item in items if id(item) not in self._filed]

    def file_answer(self, envelope: BatchEnvelope, items: list[UploadItem],
                    number: int) -> list[int]:
        """File batch ``number``'s answer record by record; return the accepted IDs."""
        results = envelope.payload.results if envelope.payload is not None else []
        by_index: dict[int, BatchRecordResult] = {}
        for answer in results:
            if 0 <= answer.index < len(items):
                by_index.setdefault(answer.index, answer)
        accepted: list[int] = []
        for index, item in enumerate(items):
            result = by_index.get(index)
            if result is None:
                self.add(item, FileOutcome.UNKNOWN, batch=number, index=index, reasons=(
                    f"The server's answer (HTTP {envelope.http_status}) did not mention this "
                    "file; it may have been created.",))
            elif result.accepted and result.conversion is not None:
                accepted.append(result.conversion.id)
                self.add(item, FileOutcome.ACCEPTED, batch=number, index=index,
                         conversion_id=result.conversion.id, warnings=tuple(result.warnings))
            elif result.accepted:
                self.add(item, FileOutcome.UNKNOWN, batch=number, index=index,
                         warnings=tuple(result.warnings),
                         reasons=("The server accepted this file but gave no conversion ID.",))
            else:
                reasons = tuple(result.errors) or (
                    f"Rejected without a reason (HTTP {envelope.http_status}).",)
                self.add(item, FileOutcome.REJECTED, batch=number, index=index,
                         reasons=reasons, warnings=tuple(result.warnings))
        return accepted

    def batch_words(self, accepted: int, sent: int, number: int, *,
                    refused: bool = False) -> str:
        """"accepted 9 of 14 (5 left out before sending)": counts of the whole upload, so an
        entry never reads "9 of 9" for an upload of 14 files. With several batches the
        entry names its batch and the upload's size."""
        named = len(self.plan.items) + len(self.plan.rejected)
        rejected = 0 if refused else sent - accepted  # a refusal says so before these words
        if self.batches_planned <= 1 and self.outcome.batches_posted <= 1:
            left_out = named - sent
            return (f"accepted {accepted} of {named}"
                    + (f", {rejected} rejected" if rejected else "")
                    + (f" ({left_out} left out before sending)" if left_out else ""))
        left_out = len(self.plan.rejected)
        return (f"batch {number} of {max(self.batches_planned, number)}: accepted {accepted} "
                f"of {sent}" + (f", {rejected} rejected" if rejected else "")
                + f" (upload of {named} files"
                + (f", {left_out} left out before sending)" if left_out else ")"))

    def progress(self, state: str, wait_seconds: float | None,
                 message: str | None) -> UploadProgress:
        """Where the run stands now, in ``state``."""
        counts = {kind: [0, 0] for kind in FileOutcome}
        for result in self.outcome.results:
            counts[result.outcome][0] += 1
            counts[result.outcome][1] += result.item.size
        sent = [counts[k][i] for k in (FileOutcome.ACCEPTED, FileOutcome.REJECTED,
                                       FileOutcome.UNKNOWN) for i in (0, 1)]
        return UploadProgress(
            state=state, total_records=len(self.plan.items), total_bytes=self._total_bytes,
            finished_records=len(self.outcome.results),
            sent_records=sent[0] + sent[2] + sent[4], sent_bytes=sent[1] + sent[3] + sent[5],
            accepted_records=counts[FileOutcome.ACCEPTED][0],
            accepted_bytes=counts[FileOutcome.ACCEPTED][1],
            rejected_records=counts[FileOutcome.REJECTED][0],
            rejected_bytes=counts[FileOutcome.REJECTED][1],
            batches_posted=self.outcome.batches_posted, batches_planned=self.batches_planned,
            wait_seconds=wait_seconds, message=message)

    def finish(self) -> UploadOutcome:
        """The outcome with results in plan order."""
        self.outcome.results.sort(key=lambda r: self._order.get(id(r.item), len(self._order)))
        return self.outcome
