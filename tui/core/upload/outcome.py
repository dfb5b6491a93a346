"""What became of each file of an upload, and the report of those not accepted.

Every file handed to the uploader ends in exactly one :class:`FileOutcome`:

* ``accepted``: the server gave it a conversion ID (it is in the watchlist);
* ``rejected``: the server refused it, with its reasons (or a lone record still got 413);
* ``unknown``: its batch went out but no usable answer came back (the connection
  broke, a 5xx, an unreadable answer). The server may have created it: it is never
  re-sent automatically, since a POST is not idempotent;
* ``failed``: it was certainly not processed (a 4xx for the whole batch, the
  connection refused, the file unreadable when its batch was built); safe to retry;
* ``not_sent``: the upload stopped (cancel, a refused key, repeated failures) first.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from tui.core.upload.plan import RejectedFile, UploadItem, UploadPlan, plan_files

__all__ = [
    "RETRYABLE",
    "FileOutcome",
    "FileResult",
    "UploadOutcome",
    "paths_from_report",
    "write_report_lines",
]


class FileOutcome(StrEnum):
    """Where one file ended up (see the module docstring)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    FAILED = "failed"
    NOT_SENT = "not_sent"


#: Outcomes worth sending again by default. Unknown ones are left out on purpose:
#: the server may already hold them.
RETRYABLE = frozenset({FileOutcome.REJECTED, FileOutcome.FAILED, FileOutcome.NOT_SENT})
#: The report's word for files left out before sending (see UploadPlan.rejected).
INVALID = "invalid"
#: Report lines a retry takes by default: the retryable outcomes and the invalid files.
REPORT_RETRYABLE = frozenset({*(str(kind) for kind in RETRYABLE), INVALID})


@dataclass(frozen=True, slots=True)
class FileResult:
    """One file's fate. ``batch`` is the 1-based number of the post that carried it and
    ``index`` its position in that post's array (the API's ``index``)."""

    item: UploadItem
    outcome: FileOutcome
    conversion_id: int | None = None
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    batch: int | None = None
    index: int | None = None

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (absolute path, so a report can be retried from anywhere)."""
        return {
            "path": os.path.abspath(self.item.path),
            "file_name": self.item.file_name,
            "data_source_type": self.item.data_source_type,
            "size": self.item.size,
            "outcome": str(self.outcome),
            "id": self.conversion_id,
            "batch": self.batch,
            "index": self.index,
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
        }


def _invalid_json(rejected: RejectedFile) -> dict[str, Any]:
    return {"path": os.path.abspath(rejected.path), "file_name": rejected.path.name,
            "outcome": INVALID, "id": None, "batch": None, "index": None,
            "reasons": [rejected.reason], "warnings": []}


@dataclass
class UploadOutcome:
    """The result of :meth:`tui.core.upload.Uploader.run`: one result per file, in plan order.

    ``invalid`` repeats the plan's rejected files (never sent); ``problems`` are
    batch-level sentences in the order they happened; ``stopped_reason`` says why the
    upload ended early (None when it went to the end), ``stopped_by`` names the cause
    in one word: ``cancel``, ``auth``, ``transport``, ``rate_limit``, ``recording``,
    ``failures``.
    """

    results: list[FileResult] = field(default_factory=list)
    invalid: list[RejectedFile] = field(default_factory=list)
    reference: str | None = None
    problems: list[str] = field(default_factory=list)
    stopped_reason: str | None = None
    stopped_by: str | None = None
    batches_posted: int = 0

    def _having(self, outcome: FileOutcome) -> list[FileResult]:
        return [result for result in self.results if result.outcome is outcome]

    @property
    def accepted(self) -> list[tuple[UploadItem, int]]:
        """Accepted files with their conversion IDs."""
        return [(r.item, r.conversion_id) for r in self._having(FileOutcome.ACCEPTED)
                if r.conversion_id is not None]

    @property
    def accepted_ids(self) -> list[int]:
        """The new conversion IDs, in plan order."""
        return [conversion_id for _, conversion_id in self.accepted]

    @property
    def rejected(self) -> list[tuple[UploadItem, list[str]]]:
        """Files the server refused, with its reasons."""
        return [(r.item, list(r.reasons)) for r in self._having(FileOutcome.REJECTED)]

    @property
    def unknown(self) -> list[UploadItem]:
        """Files whose batch got no usable answer (maybe created; not re-sent)."""
        return [r.item for r in self._having(FileOutcome.UNKNOWN)]

    @property
    def failed(self) -> list[tuple[UploadItem, str]]:
        """Files certainly not processed, with the reason."""
        return [(r.item, "; ".join(r.reasons)) for r in self._having(FileOutcome.FAILED)]

    @property
    def not_sent(self) -> list[UploadItem]:
        """Files never sent because the upload stopped first."""
        return [r.item for r in self._having(FileOutcome.NOT_SENT)]

    @property
    def all_accepted(self) -> bool:
        """True when there was something to send and every file was accepted."""
        return bool(self.results) and not self.invalid and all(
            r.outcome is FileOutcome.ACCEPTED for r in self.results)

    def counts(self) -> dict[str, int]:
        """How many files ended in each outcome (``invalid`` included)."""
        totals = {str(kind): 0 for kind in FileOutcome}
        for result in self.results:
            totals[str(result.outcome)] += 1
        totals[INVALID] = len(self.invalid)
        return totals

    def retry_plan(self, outcomes: Iterable[FileOutcome] = RETRYABLE) -> UploadPlan:
        """A new plan of the files that ended in ``outcomes``, checked again on disk.

        Each keeps the data source type it was sent as; files fixed since are taken,
        files still wrong land in the new plan's ``rejected``.
        """
        wanted = frozenset(outcomes)
        return plan_files((r.item.path, r.item.data_source_type) for r in self.results
                          if r.outcome in wanted)

    def as_json(self) -> dict[str, Any]:
        """The whole outcome as one JSON-ready document (for ``upload --json``)."""
        return {
            "reference": self.reference,
            "counts": self.counts(),
            "stopped_reason": self.stopped_reason,
            "stopped_by": self.stopped_by,
            "batches_posted": self.batches_posted,
            "problems": list(self.problems),
            "results": [r.as_json() for r in self.results]
            + [_invalid_json(rejected) for rejected in self.invalid],
        }

    def save_report(self, path: Path) -> int:
        """Write every file not accepted as JSON Lines (path, outcome, batch, index, reasons).

        Written to a temporary file and renamed, so a crash never leaves half a report.
        Returns the number of lines.
        """
        lines = [json.dumps(r.as_json(), ensure_ascii=False) for r in self.results
                 if r.outcome is not FileOutcome.ACCEPTED]
        lines += [json.dumps(_invalid_json(rejected), ensure_ascii=False)
                  for rejected in self.invalid]
        write_report_lines(Path(path), lines)
        return len(lines)


def write_report_lines(path: Path, lines: Iterable[str]) -> None:
    """Write a report's JSON lines to a temporary file and rename it over ``path``, so a
    crash never leaves half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".upload-report-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.writelines(line + "\n" for line in lines)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def paths_from_report(path: Path, outcomes: Iterable[str] = REPORT_RETRYABLE,
                      ) -> list[tuple[Path, str | None]]:
    """The files of a saved report to upload again, each with the type it was sent as.

    Lines whose outcome is not in ``outcomes`` (by default: not ``unknown``, not
    ``accepted``) are skipped; a line that is not a report line raises ValueError.
    """
    wanted = frozenset(outcomes)
    found: list[tuple[Path, str | None]] = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                file_path, outcome = entry["path"], entry["outcome"]
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"{path}: line {number} is not an upload report line") from None
            if outcome in wanted and isinstance(file_path, str):
                kind = entry.get("data_source_type")
                found.append((Path(file_path), kind if isinstance(kind, str) else None))
    return found
