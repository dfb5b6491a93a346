"""What the upload modal says while sending and after: counts, summary and per-file fates.

Reasons come from the server (untrusted): each goes through ``printable`` and is shown
as a rich ``Text``, so ``[/]`` in a reason is two brackets and a slash, never markup.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Static

from tui.core.untrusted import printable
from tui.core.upload.outcome import RETRYABLE, FileOutcome, UploadOutcome
from tui.core.upload.run import UploadProgress
from tui.ui.screens.upload_preview import file_size
from tui.ui.widgets.upload_files import shown_file, shown_folder

__all__ = ["UploadResultsPane", "UploadResultsTable", "progress_lines", "retry_label",
           "retryable_count", "summary_lines"]

_IDS_SHOWN = 40
_STYLE = {
    FileOutcome.ACCEPTED: "green",
    FileOutcome.REJECTED: "red",
    FileOutcome.UNKNOWN: "yellow",
    FileOutcome.FAILED: "red",
    FileOutcome.NOT_SENT: "",
}
_WORD = {
    FileOutcome.ACCEPTED: "accepted",
    FileOutcome.REJECTED: "rejected",
    FileOutcome.UNKNOWN: "UNKNOWN",
    FileOutcome.FAILED: "failed",
    FileOutcome.NOT_SENT: "not sent",
}
LEFT_OUT = "left out"


def progress_lines(step: UploadProgress) -> list[str]:
    """Records and bytes: sent, accepted, rejected (of the total), and what is going on."""
    lines = [
        f"Files  {step.finished_records} of {step.total_records} done · "
        f"sent {step.sent_records} · accepted {step.accepted_records} · "
        f"rejected {step.rejected_records}",
        f"Bytes  sent {file_size(step.sent_bytes)} of {file_size(step.total_bytes)} · "
        f"accepted {file_size(step.accepted_bytes)} · "
        f"rejected {file_size(step.rejected_bytes)}",
        f"Batch  {step.batches_posted} of {max(step.batches_planned, step.batches_posted)} "
        "answered",
    ]
    if step.message:
        lines.append(printable(step.message, limit=300))
    return lines


def retryable_count(outcome: UploadOutcome) -> int:
    """Files the "Retry" button offers: rejected, failed, not sent (never unknown)."""
    return sum(result.outcome in RETRYABLE for result in outcome.results)


def retry_label(outcome: UploadOutcome) -> str:
    """``Retry 3: rejected, not sent``: how many the retry takes, and which."""
    kinds = [_WORD[kind] for kind in FileOutcome
             if kind in RETRYABLE and any(r.outcome is kind for r in outcome.results)]
    count = retryable_count(outcome)
    return f"Retry {count}: " + ", ".join(kinds) if count else "Retry rejected"


def summary_lines(outcome: UploadOutcome) -> list[str]:
    """The outcome in a few sentences (problems and the stop reason included)."""
    counts = outcome.counts()
    total = len(outcome.results) + len(outcome.invalid)
    ref = f" (ref {printable(outcome.reference, limit=60)})" if outcome.reference else ""
    words = {"not_sent": "not sent", "invalid": "left out before sending"}
    parts = ", ".join(f"{n} {words.get(word, word)}" for word, n in counts.items() if n)
    lines = [f"{counts['accepted']} of {total} files accepted{ref}: {parts or 'nothing sent'}."]
    if outcome.stopped_by == "auth":
        lines.append("A key is needed: " + printable(outcome.stopped_reason or "", limit=400))
    elif outcome.stopped_reason:
        lines.append("Stopped: " + printable(outcome.stopped_reason, limit=400))
    ids = outcome.accepted_ids
    if ids:
        more = f" and {len(ids) - _IDS_SHOWN} more" if len(ids) > _IDS_SHOWN else ""
        lines.append("New IDs (now watched): " + ", ".join(map(str, ids[:_IDS_SHOWN])) + more)
    if outcome.unknown:
        lines.append(f"{len(outcome.unknown)} files have an unknown outcome: the server may "
                     "hold them. They were not sent again; check before retrying.")
    lines += [printable(problem, limit=400) for problem in outcome.problems]
    return lines


class UploadResultsTable(DataTable[Text]):
    """Every file of the upload with its fate: ID, or the reasons it did not go.

    Reasons are cut at the right edge; the modal shows the highlighted one in full.
    """

    DEFAULT_CSS = """
    UploadResultsTable { overflow-x: hidden; }
    """

    def __init__(self, *, base: Path, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self._base = base
        self.details: list[tuple[Path, str]] = []

    def on_mount(self) -> None:
        self.add_column("File", key="file")
        self.add_column("Outcome", key="outcome", width=9)
        self.add_column("ID", key="id", width=8)
        self.add_column("Reasons", key="reasons")

    def show(self, outcome: UploadOutcome) -> None:
        """One row per file: sent ones in plan order, then those left out before sending."""
        self.clear()
        self.details = []
        for result in outcome.results:
            why = "; ".join(result.reasons + tuple(f"warning: {w}" for w in result.warnings))
            self._row(result.item.path, _WORD[result.outcome], _STYLE[result.outcome],
                      str(result.conversion_id or ""), why)
        for rejected in outcome.invalid:
            self._row(rejected.path, LEFT_OUT, "red", "", rejected.reason)

    def _row(self, path: Path, word: str, style: str, conversion_id: str, why: str) -> None:
        shown = printable(why, limit=2000)
        self.details.append((path, shown))
        self.add_row(Text(shown_file(path, self._base)), Text(word, style=style),
                     Text(conversion_id, justify="right"), Text(printable(shown, limit=120)),
                     key=str(len(self.details)))


class UploadResultsPane(Vertical):
    """The upload modal's last pane: the summary, every file's fate, the highlighted
    file's reasons in full, and the buttons (the modal handles their presses)."""

    def __init__(self, *, base: Path, id: str | None = None) -> None:
        super().__init__(id=id)
        self._base = base

    def compose(self) -> ComposeResult:
        yield Static("", id="result-summary", markup=False)
        yield UploadResultsTable(id="result-table", base=self._base)
        yield Static("", id="result-detail", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Save report", id="save", compact=True)
            yield Button("Retry rejected", id="retry", compact=True)
            yield Button("Close", id="done", variant="primary", compact=True)

    def show(self, outcome: UploadOutcome) -> None:
        """Fill the pane with ``outcome``: summary, table, what the buttons can do."""
        lines = summary_lines(outcome)
        summary = self.query_one("#result-summary", Static)
        summary.update("\n".join(lines))
        summary.set_class(outcome.stopped_by == "auth", "-problem")
        self.query_one(UploadResultsTable).show(outcome)
        retry = self.query_one("#retry", Button)
        retry.label = retry_label(outcome)
        retry.disabled = retryable_count(outcome) == 0
        self.query_one("#save", Button).disabled = not (outcome.results or outcome.invalid)

    @on(DataTable.RowHighlighted, "#result-table")
    def show_detail(self) -> None:
        """The highlighted file's folder and reasons, in full, under the table."""
        table = self.query_one(UploadResultsTable)
        text = ""
        if table.row_count and 0 <= table.cursor_row < len(table.details):
            path, why = table.details[table.cursor_row]
            text = shown_folder(path) + (f": {why}" if why else "")
        self.query_one("#result-detail", Static).update(Text(printable(text, limit=600)))
