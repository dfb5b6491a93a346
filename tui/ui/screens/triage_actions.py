"""What support staff do with rows: inspect, delete on the server, copy, export, note, audit.

A mixin of :class:`tui.ui.screens.monitor.MonitorScreen`, kept apart so each
module stays small. Bulk actions act on the marked rows, else the cursor row.
Unwatching can be undone for a minute (``z``); the watchlist keeps an unwatched
row's note and history, so adding the ID again later brings them back too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.binding import Binding
from textual.notifications import Notification, SeverityLevel
from textual.screen import Screen

from tui.core.clipboard import ClipboardCopy
from tui.core.deletion import DeleteOutcome, DeleteResult, describe
from tui.core.polling.types import ConnectivityState
from tui.core.untrusted import printable
from tui.core.watchlist import WatchedConversion
from tui.ui.clipboard import copy_to_terminal_clipboard
from tui.ui.key_names import key_for_action
from tui.ui.toasts import post, withdraw
from tui.ui.views import VIEWS_BY_KEY
from tui.ui.widgets.conversions_table import ConversionsTable
from tui.ui.widgets.table_messages import RowActivated
from tui.ui.workers import work

# The screens these actions open (and what only they need) are imported when first
# opened: the monitor's first screen needs none of them (issue 12: <= 1.0 s from spawn
# at 100,000 rows; tests/ui/test_lazy_imports.py keeps it so).
if TYPE_CHECKING:
    from tui.core.export import ExportResult
    from tui.core.polling.scheduler import PollScheduler
    from tui.core.session import MonitorSession, ProfileTrackingSource
    from tui.core.watching import WatchService
    from tui.ui.screens.confirm_delete import DeleteTargets

NOTE_MAX = 200
# Actions that change data on the server: absent everywhere in read-only mode.
DESTRUCTIVE_ACTIONS = frozenset({"delete_on_server", "upload"})
# What a destructive key says in read-only mode (it is not live there: it would be silent).
READ_ONLY_REFUSALS = {
    "delete_on_server": "Read-only profile: deleting is switched off.",
    "upload": "Read-only profile: uploading is switched off.",
}
#: Seconds during which an unwatch can be undone with ``z``.
UNDO_SECONDS = 60.0
#: Seconds the "press z to undo" toast stays (unless z takes it away first).
UNDO_TOAST_SECONDS = 12.0
#: Rows the unwatch question lists by name; the rest are counted.
UNWATCH_LISTED = 10

TRIAGE_BINDINGS: list[Binding | tuple[str, str] | tuple[str, str, str]] = [
    Binding("enter", "inspect", "Inspect", id="monitor.inspect", show=False),
    Binding("d", "delete_on_server", "Delete on server", id="monitor.delete"),
    Binding("delete", "delete_on_server", "Delete on server", id="monitor.delete_key",
            show=False),
    Binding("ctrl+a", "mark_all", "Mark all", id="monitor.mark_all", show=False),
    Binding("c", "copy_ids", "Copy IDs", id="monitor.copy"),
    Binding("C", "copy_triage", "Copy summary", id="monitor.copy_summary", show=False),
    Binding("e", "export", "Export", id="monitor.export"),
    Binding("n", "note", "Note", id="monitor.note", show=False),
    Binding("L", "audit_log", "Audit log", id="monitor.audit", show=False),
    Binding("u", "upload", "Upload", id="monitor.upload"),
]


@dataclass(frozen=True)
class UnwatchedBatch:
    """IDs unwatched by one ``x``, and when (monotonic seconds): what ``z`` undoes."""

    ids: tuple[int, ...]
    at: float
    #: Its "press z to undo" toast: taken away when z undoes the batch.
    toast: Notification | None = field(default=None, compare=False)


class TriageScreen(Screen[None]):
    """Row actions of the monitor screen (its base class)."""

    BINDINGS = TRIAGE_BINDINGS

    session: MonitorSession
    # The one owner of the watched rows: every write below goes through it, and the
    # screen shows what it says changed.
    watching: WatchService
    _source: ProfileTrackingSource | None
    _view: str

    def __init__(self, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name, id, classes)
        # Unwatches that z can still undo, oldest first.
        self._undo_unwatch: list[UnwatchedBatch] = []
        # IDs of the deletes still being sent: their confirmations wait for the outcome
        # toast, so "deleted (confirmed)" never comes before "marked for deletion".
        self.deleting: set[int] = set()

    @property
    def table(self) -> ConversionsTable:
        """The watchlist table."""
        return self.query_one(ConversionsTable)

    @property
    def scheduler(self) -> PollScheduler | None:
        """The poll scheduler while this monitor polls (None: no key yet, or following)."""
        return self.watching.scheduler

    def _refresh_counts(self) -> None:
        """Recount the views (the monitor screen does the work)."""

    def _target_rows(self) -> list[WatchedConversion]:
        table = self.table
        return [row for row in (table.rows.get(i) for i in table.targets()) if row is not None]

    # ---------------------------------------------------------- inspect
    @on(RowActivated)
    def _row_activated(self, event: RowActivated) -> None:
        self._inspect(event.conversion_id)

    def action_inspect(self) -> None:
        if self.table.cursor_id is not None:
            self._inspect(self.table.cursor_id)

    def _inspect(self, conversion_id: int) -> None:
        from tui.ui.screens.inspect import InspectModal

        row = self.session.watchlist.get(conversion_id)
        if row is None:
            return
        self.app.push_screen(InspectModal(row, self.session.watchlist.history(conversion_id),
                                       stuck_after=self.session.profile.stuck_after))

    # ------------------------------------------------------------ delete
    @work(group="delete", exit_on_error=False)
    async def action_delete_on_server(self) -> None:
        # Not an exclusive worker: a second `d` must never cancel a bulk delete whose
        # requests are on the wire (they would go unfollowed and be audited as failed).
        # Two deletes may run side by side; repeating a delete request is harmless.
        await self._delete_flow()

    async def _delete_flow(self) -> None:
        from tui.ui.screens.confirm_delete import ConfirmDeleteModal

        notify = self.notify
        if self.session.read_only:
            notify("Read-only profile: deleting is switched off.", severity="warning")
            return
        targets = self._delete_targets()
        if targets is None:
            return
        if not targets.rows:
            notify(f"Nothing to delete: {targets.left_out_sentence()}", severity="warning",
                   markup=False)
            return
        if self._source is None:
            notify("No API key yet: nothing can be deleted.", severity="warning")
            return
        confirmed = await self.app.push_screen_wait(ConfirmDeleteModal(targets))
        if not confirmed:
            return
        rows = targets.rows
        problems: list[str] = []
        # "48253 delivery_notes_8441.pdf: was already deleted on the server": the name the
        # dialog listed, so each line reads as the row it is about.
        names = {row.id: f"{row.id} {printable(row.file_name, limit=40)}" if row.file_name
                 else str(row.id) for row in rows}

        def on_outcome(result: DeleteResult) -> None:
            # The service has followed an accepted delete and shown the row already.
            if result.outcome is not DeleteOutcome.REQUESTED:
                problems.append(f"{names.get(result.id, result.id)}: {describe(result)}")

        ids = [row.id for row in rows]
        self.deleting.update(ids)
        try:
            summary = await self.watching.delete(self._source.client, ids,
                                                 on_outcome=on_outcome)
        finally:
            self.deleting.difference_update(ids)
        severity: SeverityLevel = "information" if not problems else (
            "warning" if summary.requested else "error")
        details = ("\n" + "\n".join(problems[:5]) + ("\n…" if len(problems) > 5 else "")
                   ) if problems else ""
        notify(summary.sentence() + details, severity=severity, markup=False,
               timeout=6 if not problems else 15)
        self._refresh_counts()

    def _delete_targets(self) -> DeleteTargets | None:
        """What ``d`` would delete: marks may lie outside the view (marked in another tab),
        so those are counted apart, and rows already Deleted are left out."""
        from tui.ui.screens.confirm_delete import DeleteTargets

        table = self.table
        rows = self._target_rows()
        if not rows:
            return None
        view = VIEWS_BY_KEY.get(getattr(self, "_view", "all"))
        label = view.label if view is not None else "this view"
        if table.filter_text:
            label += ", filtered"
        return DeleteTargets.of(rows, shown=set(table.visible_ids), view_label=label)

    def why_nothing_is_checked(self) -> str | None:
        """Why r / R would do nothing now (no key yet, or the key was refused), or None."""
        key = key_for_action(self, "toggle_pause", "p")
        scheduler = self.scheduler
        if scheduler is None:
            return f"No API key yet: nothing can be checked. Press {key} to enter one."
        if scheduler.connectivity.state is ConnectivityState.AUTH_FAILED:
            return (f"Nothing is checked while the server refuses the API key: press {key} "
                    "to enter a new one.")
        return None

    def refuse_read_only(self, actions: set[str]) -> bool:
        """In read-only mode, say why a destructive key does nothing; True if it did."""
        refused = sorted(actions & DESTRUCTIVE_ACTIONS)
        if not self.session.read_only or not refused:
            return False
        self.notify(READ_ONLY_REFUSALS[refused[0]], severity="warning", markup=False)
        return True

    # ------------------------------------------------------------- upload
    @work(exclusive=True, group="upload", exit_on_error=False)
    async def action_upload(self) -> None:
        from tui.ui.screens.upload import UploadModal

        if self.session.read_only:
            self.notify("Read-only profile: uploading is switched off.", severity="warning")
            return
        if self._source is None:
            self.notify("No API key yet: nothing can be uploaded.", severity="warning")
            return
        # Accepted IDs go through the service: watched, checked at once, shown.
        await self.app.push_screen_wait(UploadModal(
            session=self.session, client=self._source.client, watching=self.watching))

    # -------------------------------------------------------------- marks
    def action_mark_all(self) -> None:
        self.table.mark_all_visible()

    # --------------------------------------------------------------- copy
    def action_copy_ids(self) -> None:
        ids = self.table.targets()
        if ids:
            copy = ClipboardCopy.of_ids(ids)
            if copy_to_terminal_clipboard(self.app, copy.text):
                self.notify(copy.description(), timeout=3)

    def action_copy_triage(self) -> None:
        from tui.core.triage import triage_markdown

        rows = self._target_rows()
        if not rows:
            return
        history = {row.id: self.session.watchlist.history(row.id) for row in rows}
        copy = ClipboardCopy(triage_markdown(rows, history, time.time()), "triage summary")
        if copy_to_terminal_clipboard(self.app, copy.text):
            self.notify(copy.description(), timeout=3)

    # ------------------------------------------------------------- export
    @work(exclusive=True, group="export", exit_on_error=False)
    async def action_export(self) -> None:
        from tui.core.export import export_rows
        from tui.ui.screens.export_flow import run_export

        table = self.table
        marked = table.marked_ids
        ids = list(marked) if marked else table.visible_ids
        rows = [row for row in (table.rows.get(i) for i in ids) if row is not None]
        if not rows:
            self.notify("Nothing to export in this view.", severity="warning")
            return
        watchlist = self.session.watchlist

        def write(path: Path, overwrite: bool) -> ExportResult:
            history = {row.id: watchlist.history(row.id) for row in rows}
            return export_rows(rows, path, overwrite=overwrite, history_by_id=history)

        what = f"{len(rows)} marked rows" if marked else f"this view ({len(rows)} rows)"
        await run_export(self, write, what=what, stem="conversions")

    # --------------------------------------------------------------- note
    @work(exclusive=True, group="note", exit_on_error=False)
    async def action_note(self) -> None:
        from tui.ui.screens.text_prompt import TextPromptModal

        ids = self.table.targets()
        if not ids:
            return
        first = self.table.rows.get(ids[0])
        current = first.note if first is not None and len(ids) == 1 else ""
        title = f"Note for {ids[0]}" if len(ids) == 1 else f"Note for {len(ids)} marked rows"
        note = await self.app.push_screen_wait(TextPromptModal(
            title, value=current or "", max_length=NOTE_MAX,
            hint="A local note (a ticket number, say): shown in the Note column, searched by "
                 "the filter, exported. Empty removes it."))
        if note is None:
            return
        self.watching.set_note(ids, note.strip() or None)

    # -------------------------------------------------------------- audit
    def action_audit_log(self) -> None:
        from tui.ui.screens.audit_view import AuditScreen

        self.app.push_screen(AuditScreen(self.session.audit.entries(),
                                         profile=self.session.profile.name))

    # ------------------------------------------------------------ unwatch
    @work(exclusive=True, group="unwatch", exit_on_error=False)
    async def action_remove_from_watchlist(self) -> None:
        from tui.ui.screens.text_prompt import QuestionModal

        ids = self.table.targets()
        if not ids:
            return
        if len(ids) > 1:
            sure = await self.app.push_screen_wait(QuestionModal(
                self._unwatch_question(ids), yes=f"Unwatch {len(ids)}"))
            if not sure:
                return
        removed = self.watching.unwatch(ids)
        now = time.monotonic()
        self._undo_unwatch = [batch for batch in self._undo_unwatch
                              if now - batch.at < UNDO_SECONDS]
        key = key_for_action(self, "undo_unwatch", "z")
        what = str(ids[0]) if len(ids) == 1 else f"{removed} conversions"
        toast = post(self.app, f"Unwatched {what} — press {key} to undo (for a minute). "
                     "Local only: nothing was deleted on the server.",
                     timeout=UNDO_TOAST_SECONDS)
        self._undo_unwatch.append(UnwatchedBatch(tuple(ids), now, toast))

    def _unwatch_question(self, ids: list[int]) -> str:
        """The unwatch question, naming its rows as the delete dialog does."""
        from tui.ui.screens.confirm_delete import describe_row

        rows = [row for row in (self.table.rows.get(i) for i in ids) if row is not None]
        lines = [f"Stop watching {len(ids)} conversions? This only changes the local "
                 "watchlist: nothing is deleted on the server.", ""]
        lines += [describe_row(row) for row in rows[:UNWATCH_LISTED]]
        if len(rows) > UNWATCH_LISTED:
            lines.append(f"… and {len(rows) - UNWATCH_LISTED} more")
        return "\n".join(lines)

    def action_undo_unwatch(self) -> None:
        """Watch again what the last ``x`` unwatched (within a minute), note and history
        included; pressed again, the one before."""
        now = time.monotonic()
        self._undo_unwatch = [batch for batch in self._undo_unwatch
                              if now - batch.at < UNDO_SECONDS]
        if not self._undo_unwatch:
            add = key_for_action(self, "add_ids", "a")
            self.notify("Nothing to undo: an unwatch can be undone for a minute after it "
                        f"(or add the IDs again with {add}: their notes and history come "
                        "back).", markup=False, timeout=6)
            return
        batch = self._undo_unwatch.pop()
        if batch.toast is not None:
            # Its "press z to undo" is no longer true, and must not sit beside the
            # next one if the same row is unwatched again.
            withdraw(self.app, batch.toast)
        added = self.watching.undo_unwatch(batch.ids)
        if not added:  # added again meanwhile (a, an upload): nothing left to bring back
            self.notify("Nothing to undo: watched again already.", markup=False, timeout=4)
            return
        what = str(added[0]) if len(added) == 1 else f"{len(added)} conversions"
        self.notify(f"Watching {what} again, with notes and history", markup=False,
                    timeout=4)
