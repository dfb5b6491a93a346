"""Retrying a saved upload report without sending anything twice.

``conversions-tui upload --retry REPORT`` takes the files of a report back. Every
report line keeps the history of its retries under ``retries``: when (UTC), the
outcome, the new conversion ID or the reasons, and the report that retry wrote.
An entry is written *before* the files go (outcome ``sending``) and completed after,
so a retry that died half way is known as such. A later retry of the same report:

* leaves out a file whose last retry was accepted, or whose outcome is unknown (its
  batch got no usable answer, or the retry never finished: ``sending``), since the
  server may already hold it; ``force`` sends it anyway;
* takes again a file whose last retry was rejected, failed, not sent or invalid.

The report is rewritten whole, to a temporary file renamed over it, and re-read just
before each write, so two retries of one report keep each other's entries.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui.core.upload.outcome import (
    INVALID,
    REPORT_RETRYABLE,
    FileOutcome,
    UploadOutcome,
    write_report_lines,
)

__all__ = ["SENDING", "AlreadyRetried", "RetryPlan", "plan_retry"]

#: The outcome of a retry entry written before its files were sent.
SENDING = "sending"
#: Last-retry outcomes that keep a file from being sent again without ``force``.
_SETTLED = frozenset({str(FileOutcome.ACCEPTED), str(FileOutcome.UNKNOWN), SENDING})


def _stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key(path: str | os.PathLike[str]) -> str:
    return os.path.abspath(os.fspath(path))


@dataclass(frozen=True, slots=True)
class AlreadyRetried:
    """A file left out of a retry: an earlier retry of the report took care of it."""

    path: Path
    outcome: str  # of that retry: accepted, unknown or sending
    conversion_id: int | None
    at: str | None  # when that retry ran (UTC, ISO 8601)

    def describe(self) -> str:
        """One clause: ``accepted as 48256 by the retry of 2026-12-06T11:20:31Z``."""
        when = f" by the retry of {self.at}" if self.at else " by an earlier retry"
        if self.outcome == str(FileOutcome.ACCEPTED):
            return f"accepted as {self.conversion_id}{when}"
        if self.outcome == SENDING:
            return (f"the retry of {self.at or 'an earlier run'} did not finish: it may have "
                    "been created")
        return f"outcome unknown{when}: it may have been created"


@dataclass
class RetryPlan:
    """The files of a report to send again, the ones left out, and the report's lines.

    Use :meth:`mark_sending` just before sending and :meth:`record` after: they write
    the retry entries into the report.
    """

    report: Path
    files: list[tuple[Path, str | None]] = field(default_factory=list)
    already: list[AlreadyRetried] = field(default_factory=list)
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started: float | None = None

    def mark_sending(self, paths: Iterable[Path], at: float) -> None:
        """Write a ``sending`` entry for each of ``paths`` (those about to be sent)."""
        wanted = {_key(path) for path in paths}
        self.started = at
        entry: dict[str, Any] = {"at": _stamp(at), "run": self.run, "outcome": SENDING, "id": None,
                 "reasons": [], "report": None}
        self._rewrite(lambda line: dict(entry) if _key(line["path"]) in wanted else None)

    def record(self, outcome: UploadOutcome, at: float, new_report: Path | None) -> int:
        """Complete this run's entries with what became of each file; returns how many.

        A file of the report that this run did not touch keeps its lines as they were.
        """
        results: dict[str, dict[str, Any]] = {}
        for result in outcome.results:
            results[_key(result.item.path)] = {
                "outcome": str(result.outcome), "id": result.conversion_id,
                "reasons": list(result.reasons)}
        for rejected in outcome.invalid:
            results[_key(rejected.path)] = {"outcome": INVALID, "id": None,
                                            "reasons": [rejected.reason]}
        when = _stamp(self.started if self.started is not None else at)

        def entry(line: dict[str, Any]) -> dict[str, Any] | None:
            result = results.get(_key(line["path"]))
            if result is None:
                return None
            return {"at": when, "run": self.run, **result, "finished": _stamp(at),
                    "report": str(new_report) if new_report is not None else None}

        return self._rewrite(entry)

    def _rewrite(self, entry_for: Callable[[dict[str, Any]], dict[str, Any] | None]) -> int:
        """Re-read the report, put ``entry_for(line)`` in place of this run's entry (or
        after the others), and write it back atomically. Returns the lines changed."""
        lines = _read(self.report)
        changed = 0
        for line in lines:
            entry = entry_for(line)
            if entry is None:
                continue
            retries = [old for old in _retries(line) if old.get("run") != self.run]
            line["retries"] = [*retries, entry]
            changed += 1
        write_report_lines(self.report, [json.dumps(line, ensure_ascii=False)
                                         for line in lines])
        return changed


def _retries(line: dict[str, Any]) -> list[dict[str, Any]]:
    found = line.get("retries")
    return [entry for entry in found if isinstance(entry, dict)] if isinstance(
        found, list) else []


def _read(report: Path) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    with open(report, encoding="utf-8") as text:
        for number, raw in enumerate(text, start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
                if not isinstance(line, dict) or not isinstance(line["path"], str) \
                        or not isinstance(line["outcome"], str):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"{report}: line {number} is not an upload report "
                                 "line") from None
            lines.append(line)
    return lines


def plan_retry(report: Path, *, force: bool = False) -> RetryPlan:
    """Which files of ``report`` to upload again (each with the type it was sent as).

    A line is taken when its outcome is retryable (see ``REPORT_RETRYABLE``: not
    ``unknown``) and its last retry, if any, did not settle it (see the module
    docstring); ``force`` takes settled ones too. ValueError for a line that is not a
    report line, OSError when the report cannot be read.
    """
    plan = RetryPlan(report=Path(report))
    seen: set[str] = set()
    for line in _read(plan.report):
        path = line["path"]
        if line["outcome"] not in REPORT_RETRYABLE or _key(path) in seen:
            continue
        seen.add(_key(path))
        retries = _retries(line)
        last = retries[-1] if retries else None
        if last is not None and str(last.get("outcome")) in _SETTLED and not force:
            conversion_id = last.get("id")
            plan.already.append(AlreadyRetried(
                Path(path), str(last.get("outcome")),
                conversion_id if isinstance(conversion_id, int) else None,
                str(last["at"]) if last.get("at") else None))
            continue
        kind = line.get("data_source_type")
        plan.files.append((Path(path), kind if isinstance(kind, str) else None))
    return plan
