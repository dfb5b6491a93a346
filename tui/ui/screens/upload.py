"""The upload modal: pick files, check them, send them, and see what became of each.

Three panes, one after the other:

* **choose**: a path field (completes from disk; enter adds a path, folder or glob), a
  folder browser (space/enter picks a file) and the preview, which checks every file
  before anything is sent and says why any is left out. A type for all, a type per file
  (``t`` in the preview) and a reference for the batch.
* **sending**: the upload runs in a worker (the UI never waits on it) with a progress
  bar and counts; Cancel (or escape, after asking) stops after the batch in flight.
* **results**: accepted files with their IDs (already watched: each batch's went through
  the :class:`~tui.core.watching.WatchService` as it was answered), the others with the
  server's reasons; save a report, or retry the rejected ones in a new preview. Files
  of unknown outcome are named, never re-sent.

The modal dismisses with the last :class:`UploadOutcome`, or None when nothing was sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    ContentSwitcher,
    DataTable,
    DirectoryTree,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
)

from tui.core.untrusted import printable
from tui.core.upload.outcome import RETRYABLE, UploadOutcome
from tui.core.upload.plan import DATA_SOURCE_TYPES, UploadPlan
from tui.core.upload.run import UploadProgress
from tui.core.upload.uploader import MAX_BATCH_RECORDS, MAX_REFERENCE, Uploader
from tui.core.watching import WatchService
from tui.ui.screens.text_prompt import QuestionModal
from tui.ui.screens.upload_preview import UploadPreviewTable, file_size
from tui.ui.screens.upload_report import default_report, save_report
from tui.ui.screens.upload_results import UploadResultsPane, progress_lines
from tui.ui.screens.upload_selection import UploadSelection
from tui.ui.widgets.upload_files import PathSuggester, UploadFileTree, shown_folder
from tui.ui.workers import work

if TYPE_CHECKING:
    from tui.api.client import ConversionsClient
    from tui.core.session import MonitorSession

__all__ = ["UploadModal"]

AcceptedCallback = Callable[[list[int]], None]


def _start_folder() -> Path:
    """Where browsing starts: the folder the app was started in (home if it is gone)."""
    try:
        return Path.cwd()
    except OSError:
        return Path.home()


class UploadModal(ModalScreen[UploadOutcome | None]):
    """Upload files as conversions; see the module docstring."""

    ENDS_FIRST_RUN_HINT: ClassVar[bool] = True
    """Once opened, the monitor's first-run hint (which names it) has done its work."""

    DEFAULT_CSS = """
    UploadModal { align: center middle; }
    UploadModal > #frame {
        width: 100%; max-width: 132; height: 100%; max-height: 44;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    UploadModal #title { text-style: bold; width: 1fr; }
    UploadModal ContentSwitcher { height: 1fr; }
    UploadModal ContentSwitcher > Vertical { height: 1fr; }
    UploadModal Horizontal { height: auto; }
    UploadModal #pick-row Input { width: 1fr; }
    UploadModal #pick-body { height: 1fr; }
    UploadModal #tree {
        width: 30%; min-width: 20; height: 1fr; border-right: vkey $primary; overflow-x: hidden;
    }
    UploadModal #preview, UploadModal #result-table { height: 1fr; }
    UploadModal #detail, UploadModal #result-detail {
        height: 2; color: $text-muted; padding: 0 1;
    }
    UploadModal #options Label { padding: 0 1 0 0; }
    UploadModal #type-all { width: 24; margin-right: 2; }
    UploadModal #reference { width: 1fr; }
    UploadModal #summary { height: 1; }
    UploadModal .buttons { height: 1; margin-top: 0; }
    UploadModal .buttons Button { margin-right: 2; }
    UploadModal #send-summary, UploadModal #counts { height: auto; }
    UploadModal #progress { margin: 1 0; }
    UploadModal #result-summary { height: auto; max-height: 6; }
    UploadModal #result-summary.-problem { color: $error; }
    UploadModal #read-only { color: $warning; height: auto; }
    UploadModal #keys { height: 1; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="upload.close"),
        Binding("ctrl+s", "send", "Send", id="upload.send", show=False),
    ]

    def __init__(self, *, session: MonitorSession, client: ConversionsClient,
                 watching: WatchService | None = None,
                 on_accepted: AcceptedCallback | None = None,
                 initial_paths: Sequence[str] = (),
                 batch_records: int = MAX_BATCH_RECORDS) -> None:
        super().__init__()
        self.session = session
        self._client = client
        # Accepted IDs are watched through the service (the monitor's: its table and
        # poller hear of them); on its own, the modal uses one of the session's.
        self._watching = watching if watching is not None else WatchService.for_session(session)
        self._on_accepted = on_accepted
        self._initial_paths = list(initial_paths)
        self._batch_records = batch_records
        self.selection = UploadSelection()
        self.plan = UploadPlan()
        self.outcome: UploadOutcome | None = None
        self.progress: UploadProgress | None = None
        self._uploader: Uploader | None = None
        self._stopping = False
        self._browse_from = _start_folder()

    @property
    def stage(self) -> str:
        """``choose``, ``sending`` or ``results``."""
        return self.query_one(ContentSwitcher).current or "choose"

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        profile = printable(self.session.profile.name, limit=40)
        with Vertical(id="frame"):
            yield Label(f"Upload files as conversions · profile {profile}", id="title",
                        markup=False)
            with ContentSwitcher(initial="choose"):
                with Vertical(id="choose"):
                    with Horizontal(id="pick-row"):
                        yield Input(placeholder="path, folder or glob (~/tickets/4412/*.csv); "
                                    "enter adds", id="path", suggester=PathSuggester(),
                                    compact=True)
                        yield Button("Add", id="add", compact=True)
                    with Horizontal(id="pick-body"):
                        yield UploadFileTree(self._browse_from, id="tree",
                                             is_picked=self.selection.__contains__)
                        with Vertical():
                            yield UploadPreviewTable(id="preview", base=self._browse_from)
                            yield Static("", id="detail", markup=False)
                    with Horizontal(id="options"):
                        yield Label("Type for all")
                        yield Select([(kind, kind) for kind in DATA_SOURCE_TYPES],
                                     prompt="by extension", id="type-all", compact=True)
                        yield Label("Reference")
                        yield Input(placeholder="ticket number (optional)", id="reference",
                                    max_length=MAX_REFERENCE, compact=True)
                    if self.session.read_only:
                        yield Static("Read-only profile: uploading is switched off.",
                                     id="read-only", markup=False)
                    yield Static("", id="summary", markup=False)
                    with Horizontal(classes="buttons"):
                        yield Button("Send 0 files", id="send", variant="primary",
                                     disabled=True, compact=True)
                        yield Button("Close", id="close", compact=True)
                with Vertical(id="sending"):
                    yield Static("", id="send-summary", markup=False)
                    yield ProgressBar(id="progress", show_eta=False)
                    yield Static("", id="counts", markup=False)
                    with Horizontal(classes="buttons"):
                        yield Button("Cancel after this batch", id="stop", variant="warning",
                                     compact=True)
                yield UploadResultsPane(id="results", base=self._browse_from)
            yield Static("", id="keys", markup=False)

    def on_mount(self) -> None:
        for entry in self._initial_paths:
            self.selection.add(entry)
        self._show_preview()
        self._show_keys()
        self.query_one("#path", Input).focus()

    def _show_keys(self) -> None:
        hints = {
            "choose": "enter add · space pick · t type · x leave out · ctrl+s send · "
                      "esc close",
            "sending": "esc: cancel after the batch in flight",
            "results": "tab: buttons · esc: close",
        }
        self.query_one("#keys", Static).update(hints.get(self.stage, ""))

    def _switch(self, stage: str) -> None:
        self.query_one(ContentSwitcher).current = stage
        self._show_keys()

    # ---------------------------------------------------------------- choose
    def _show_preview(self) -> None:
        """Check the picked files again and show what will go and what will not."""
        self.plan = self.selection.plan()
        rows = self.selection.rows(self.plan)
        table = self.query_one(UploadPreviewTable)
        table.show(rows, {row.key: self.selection.type_of(row.path) for row in rows})
        count, left_out = len(self.plan.items), len(self.plan.rejected)
        summary = (f"{count} to send ({file_size(self.plan.total_bytes)})"
                   + (f" · {left_out} left out (see Check)" if left_out else "")
                   if rows else "No files yet: type a path or glob, or pick files on the left.")
        self.query_one("#summary", Static).update(summary)
        send = self.query_one("#send", Button)
        send.label = f"Send {count} file{'s' if count != 1 else ''}"
        send.disabled = count == 0 or self.session.read_only
        self.query_one(UploadFileTree).refresh_marks()
        self._show_detail()

    def _show_detail(self) -> None:
        path = self.query_one(UploadPreviewTable).highlighted_path
        detail = ""
        if path is not None:
            row = next((r for r in self.selection.rows(self.plan) if r.path == path), None)
            where = shown_folder(path)  # as named: relative when typed relative
            detail = where if row is None or row.ready else f"{where}: {row.reason}"
        self.query_one("#detail", Static).update(Text(printable(detail, limit=600)))

    def _add_entry(self) -> None:
        field = self.query_one("#path", Input)
        entry = field.value.strip()
        if not entry:
            return
        added = self.selection.add(entry)
        if added:
            field.value = ""
        else:
            self.notify(f"Nothing new: no file matches {entry}, or it is picked already.",
                        severity="warning", markup=False)
        self._show_preview()

    @on(Input.Submitted, "#path")
    @on(Button.Pressed, "#add")
    def _path_submitted(self) -> None:
        self._add_entry()

    @on(DirectoryTree.FileSelected, "#tree")
    def _file_picked(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.selection.toggle(event.path)
        self._show_preview()

    @on(UploadPreviewTable.CycleType)
    def _cycle_type(self, event: UploadPreviewTable.CycleType) -> None:
        self.selection.cycle_type(event.path)
        self._show_preview()

    @on(UploadPreviewTable.RemoveFile)
    def _remove_file(self, event: UploadPreviewTable.RemoveFile) -> None:
        self.selection.remove(event.path)
        self._show_preview()

    @on(DataTable.RowHighlighted, "#preview")
    def _preview_moved(self) -> None:
        self._show_detail()

    @on(Select.Changed, "#type-all")
    def _type_for_all(self, event: Select.Changed) -> None:
        value = event.value
        self.selection.set_type_for_all(value if isinstance(value, str) else None)
        self._show_preview()

    # --------------------------------------------------------------- sending
    @on(Button.Pressed, "#send")
    def action_send(self) -> None:
        """Send the files the preview says are ready (only from the choose pane)."""
        if self.stage != "choose" or self.session.read_only:
            return
        self._show_preview()  # the disk may have changed since the preview was drawn
        if not self.plan.items:
            self.notify("Nothing to send.", severity="warning")
            return
        reference = self.query_one("#reference", Input).value.strip() or None
        self._send(self.plan, reference)

    def _accepted(self, ids: list[int]) -> None:
        """One batch's new IDs are watched (the service told the monitor): tell whoever
        opened the modal and asked (``on_accepted``)."""
        if self._on_accepted is None:
            return
        try:
            self._on_accepted(ids)
        except Exception as error:  # the monitor's trouble must not stop the upload
            self.notify(f"The monitor could not show the new IDs: {error}", severity="error",
                        markup=False)

    def _progressed(self, step: UploadProgress) -> None:
        self.progress = step
        self.query_one(ProgressBar).update(total=max(step.total_records, 1),
                                           progress=step.finished_records)
        lines = progress_lines(step)
        if self._stopping:
            lines.append("Stopping after the batch in flight…")
        self.query_one("#counts", Static).update("\n".join(lines))

    @work(exclusive=True, group="upload", exit_on_error=False)
    async def _send(self, plan: UploadPlan, reference: str | None) -> None:
        profile = self.session.last_profile
        uploader = Uploader(
            self._client, self._watching.upload_sink(self._accepted), self.session.audit,
            profile_name=self.session.profile.name,
            user=profile.email if profile is not None else None,
            batch_records=self._batch_records, on_progress=self._progressed)
        self._uploader, self._stopping = uploader, False
        ref = f" with reference {printable(reference, limit=60)}" if reference else ""
        self.query_one("#send-summary", Static).update(
            f"Sending {len(plan.items)} files ({file_size(plan.total_bytes)}){ref}.")
        self.query_one(ProgressBar).update(total=max(len(plan.items), 1), progress=0)
        self.query_one("#counts", Static).update("Starting…")
        self.query_one("#stop", Button).disabled = False
        self._switch("sending")
        self.query_one("#stop", Button).focus()
        try:
            outcome = await uploader.run(plan, reference=reference)
        except Exception as error:  # never leave the user on a dead progress bar
            self._uploader = None
            self._switch("choose")
            self.notify(f"The upload could not run: {type(error).__name__}: {error}",
                        severity="error", markup=False, timeout=15)
            return
        self._uploader = None
        self._show_results(outcome)

    def _stop(self) -> None:
        if self._uploader is None or self._stopping:
            return
        self._stopping = True
        self._uploader.cancel()
        self.query_one("#stop", Button).disabled = True
        if self.progress is not None:
            self._progressed(self.progress)
        else:
            self.query_one("#counts", Static).update("Stopping after the batch in flight…")

    @on(Button.Pressed, "#stop")
    def _stop_pressed(self) -> None:
        self._stop()

    # --------------------------------------------------------------- results
    def _show_results(self, outcome: UploadOutcome) -> None:
        self.outcome = outcome
        pane = self.query_one(UploadResultsPane)
        pane.show(outcome)
        self._switch("results")
        pane.show_detail()
        self.query_one("#done", Button).focus()
        if outcome.stopped_by == "auth":
            self.notify("An API key is needed: nothing more was sent.", severity="error",
                        markup=False, timeout=10)

    @on(Button.Pressed, "#retry")
    def _retry(self) -> None:
        """A new preview with just the files worth sending again (never the unknown)."""
        if self.outcome is None:
            return
        again = [(r.item.path, r.item.data_source_type) for r in self.outcome.results
                 if r.outcome in RETRYABLE]
        if not again:
            return
        self.selection.reset(again)
        self.query_one("#type-all", Select).clear()
        self._switch("choose")
        self._show_preview()
        self.query_one(UploadPreviewTable).focus()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self._save_report()

    @work(exclusive=True, group="upload-report", exit_on_error=False)
    async def _save_report(self) -> None:
        if self.outcome is not None:
            await save_report(self, self.outcome, default_report(self.session.paths.state_dir))

    # ------------------------------------------------------------------ close
    @on(Button.Pressed, "#close")
    @on(Button.Pressed, "#done")
    def action_close(self) -> None:
        """Close; while sending, ask whether to stop after the batch in flight."""
        if self.stage == "sending":
            if self._uploader is not None and not self._stopping:
                self.app.push_screen(QuestionModal(
                    "Stop the upload after the batch in flight? Batches already answered "
                    "stay uploaded and watched.", yes="Stop after this batch",
                    no="Keep sending"), self._confirm_stop)
            return
        self.dismiss(self.outcome)

    def _confirm_stop(self, stop: bool | None) -> None:
        if stop:
            self._stop()
