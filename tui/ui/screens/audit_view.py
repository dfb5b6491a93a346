"""The audit log (`L`): every delete and upload this profile made, newest first."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

from tui.core.audit import AuditEntry
from tui.core.export import ExportResult, export_audit
from tui.core.untrusted import printable
from tui.ui.screens.flows.export import run_export
from tui.ui.workers import work

SHOWN = 5000


class AuditScreen(Screen[None]):
    """A table of audit entries; `e` exports them, escape goes back."""

    DEFAULT_CSS = """
    AuditScreen #title { height: 1; text-style: bold; padding: 0 1; background: $panel; }
    AuditScreen DataTable { height: 1fr; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back", id="audit.back"),
        Binding("e", "export", "Export", id="audit.export"),
    ]

    def __init__(self, entries: list[AuditEntry], *, profile: str) -> None:
        super().__init__()
        self.entries = entries
        self._profile = profile

    def compose(self) -> ComposeResult:
        shown = min(len(self.entries), SHOWN)
        yield Label(f"Audit log of profile {self._profile!r}: {len(self.entries)} entries"
                    + (f" (newest {shown} shown)" if shown < len(self.entries) else ""),
                    id="title", markup=False)
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Time", "Action", "Outcome", "IDs", "User", "Detail")
        for entry in self.entries[:SHOWN]:
            ids = " ".join(str(i) for i in entry.ids[:20]) + (
                f" (+{len(entry.ids) - 20})" if len(entry.ids) > 20 else "")
            # Text cells: DataTable would read a plain str as markup.
            table.add_row(
                Text(datetime.fromtimestamp(entry.at).strftime("%Y-%m-%d %H:%M:%S")),
                Text(entry.action), Text(printable(entry.outcome, limit=40)), Text(ids),
                Text(printable(entry.user or "", limit=40)),
                Text(printable(entry.detail or "", limit=200)),
            )
        table.focus()

    def action_back(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="export", exit_on_error=False)
    async def action_export(self) -> None:
        entries = self.entries

        def write(path: Path, overwrite: bool) -> ExportResult:
            return export_audit(entries, path, overwrite=overwrite)

        await run_export(self, write, what="the audit log", stem="conversions-audit")
