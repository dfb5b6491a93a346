"""What ``conversions-tui upload`` prints: its progress on stderr (a bar on a terminal,
a line per batch otherwise) and the summary of the outcome. Server text is made
printable before it is printed."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from tui.core.untrusted import printable
from tui.core.upload.outcome import FileOutcome, UploadOutcome
from tui.core.upload.plan import file_size
from tui.core.upload.retry import RetryPlan
from tui.core.upload.run import UploadProgress

__all__ = ["LISTED", "ProgressPrinter", "already_json", "already_lines", "say", "summary_lines"]

LISTED = 20  # files named per outcome in the summary; the report has them all


def say(stream: TextIO, message: str) -> None:
    """One line to ``stream``, at once (progress and summary interleave on a terminal)."""
    print(message, file=stream, flush=True)


class ProgressPrinter:
    """A bar redrawn in place on a terminal; a line per batch when stderr is a file or pipe."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._last_batches = -1
        self._drawn = False

    def __call__(self, step: UploadProgress) -> None:
        if self._tty:
            self._draw(step)
        elif step.state == "waiting":
            say(self._stream, f"rate limited: waiting {step.wait_seconds or 0:.0f} s")
        elif step.batches_posted != self._last_batches and step.state in ("sent", "done",
                                                                          "stopped"):
            self._last_batches = step.batches_posted
            if step.batches_posted:
                say(self._stream, self._line(step))

    @staticmethod
    def _line(step: UploadProgress) -> str:
        return (f"batch {step.batches_posted}/{max(step.batches_planned, step.batches_posted)}: "
                f"{step.finished_records}/{step.total_records} files done, "
                f"{step.accepted_records} accepted, {step.rejected_records} rejected "
                f"({file_size(step.sent_bytes)} of {file_size(step.total_bytes)} sent)")

    def _draw(self, step: UploadProgress) -> None:
        width = 24
        done = step.finished_records / step.total_records if step.total_records else 1.0
        bar = "#" * round(width * done) + "." * (width - round(width * done))
        extra = f" waiting {step.wait_seconds or 0:.0f} s" if step.state == "waiting" else ""
        sent = f"{file_size(step.sent_bytes)}/{file_size(step.total_bytes)}"
        self._stream.write(f"\r[{bar}] {step.finished_records}/{step.total_records} files, "
                           f"{step.accepted_records} accepted, {step.rejected_records} "
                           f"rejected, {sent}{extra}\x1b[K")
        self._stream.flush()
        self._drawn = True

    def finish(self) -> None:
        """End the bar's line so the summary starts on a fresh one."""
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()


def already_lines(retry: RetryPlan | None) -> list[str]:
    """The files a retry left out because an earlier retry of the report sent them."""
    if retry is None or not retry.already:
        return []
    lines = [f"Not sent again: an earlier --retry of {retry.report} already sent "
             f"{'it' if len(retry.already) == 1 else 'them'} (add --force to send again):"]
    lines += [f"  {printable(str(done.path))}: {done.describe()}"
              for done in retry.already[:LISTED]]
    if len(retry.already) > LISTED:
        lines.append(f"  … and {len(retry.already) - LISTED} more (see {retry.report})")
    return lines


def already_json(retry: RetryPlan | None) -> list[dict[str, object]]:
    """The same, for ``--json``."""
    return [{"path": str(done.path), "outcome": done.outcome, "id": done.conversion_id,
             "at": done.at} for done in (retry.already if retry is not None else [])]


def summary_lines(outcome: UploadOutcome, profile: str, report: Path | None) -> list[str]:
    """What became of the upload, in lines: counts, new IDs, each kind of failure with
    up to :data:`LISTED` files, problems, and where the report is."""
    counts = outcome.counts()
    total = len(outcome.results) + len(outcome.invalid)
    ref = f" (ref {printable(outcome.reference, limit=200)})" if outcome.reference else ""
    lines = [f"{counts['accepted']} of {total} files accepted in profile "
             f"{printable(profile)!r}{ref}: "
             + ", ".join(f"{n} {word.replace('_', ' ')}" for word, n in counts.items() if n)]
    if outcome.accepted_ids:
        shown = outcome.accepted_ids[:LISTED * 5]
        more = len(outcome.accepted_ids) - len(shown)
        # Stopped while recording (the team's database gone): the last batch is not watched.
        watched = ("not all watched, see Stopped" if outcome.stopped_by == "recording"
                   else "watched")
        lines.append(f"New IDs ({watched}): " + ", ".join(map(str, shown))
                     + (f" and {more} more" if more else ""))
    headings = {
        FileOutcome.REJECTED: "Rejected by the server:",
        FileOutcome.UNKNOWN: "Outcome unknown (may have been created; NOT sent again):",
        FileOutcome.FAILED: "Failed (not processed; safe to retry):",
        FileOutcome.NOT_SENT: "Not sent:",
    }
    for kind, heading in headings.items():
        results = [r for r in outcome.results if r.outcome is kind]
        if not results:
            continue
        lines.append(heading)
        for result in results[:LISTED]:
            why = "; ".join(result.reasons)
            lines.append(f"  {printable(str(result.item.path))}"
                         + (f": {printable(why, limit=300)}" if why else ""))
        if len(results) > LISTED:
            lines.append(f"  … and {len(results) - LISTED} more (see the report)")
    if outcome.invalid:
        lines.append("Left out before sending:")
        lines += [f"  {printable(str(r.path))}: {r.reason}" for r in outcome.invalid[:LISTED]]
        if len(outcome.invalid) > LISTED:
            lines.append(f"  … and {len(outcome.invalid) - LISTED} more (see the report)")
    lines += [printable(problem, limit=500) for problem in outcome.problems]
    if outcome.stopped_reason:
        lines.append("Stopped: " + printable(outcome.stopped_reason, limit=500))
    if report is not None:
        lines.append(f"Report of the files not accepted: {report} "
                     f"(upload them again with --retry {report})")
    return lines
