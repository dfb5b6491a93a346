"""Export (``e``): ask for a path, write the rows, and never overwrite without asking.

:func:`run_export` is the dialog, also used by the audit log's export.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from tui.core.untrusted import printable
from tui.core.watchstore import StoreRefused
from tui.ui.screens.flows.host import MonitorHost

if TYPE_CHECKING:
    from tui.core.export import ExportResult

Writer = Callable[[Path, bool], "ExportResult"]


def default_export_path(stem: str) -> str:
    """``~/conversions-20261128-1403.csv``: a name that rarely exists already."""
    return f"~/{stem}-{datetime.now().strftime('%Y%m%d-%H%M')}.csv"


async def run_export(screen: Screen[Any], write: Writer, *, what: str, stem: str) -> None:
    """The whole dialog: path prompt, overwrite question, result or error toast.

    Must run inside a worker (it waits for modals).
    """
    from tui.core.export import ExportTargetExists
    from tui.ui.screens.text_prompt import QuestionModal, TextPromptModal
    app = screen.app
    answer = await app.push_screen_wait(TextPromptModal(
        f"Export {what} to (.csv or .json):", value=default_export_path(stem),
        hint="~ is your home folder. Nothing is overwritten without asking."))
    if not answer or not answer.strip():
        return
    path = Path(answer.strip()).expanduser()
    try:
        try:
            result = write(path, False)
        except ExportTargetExists:
            overwrite = await app.push_screen_wait(QuestionModal(
                f"{path} exists. Replace it?", yes="Replace", no="Keep it"))
            if not overwrite:
                screen.notify("Export cancelled; the file was not touched.", markup=False)
                return
            result = write(path, True)
    except (OSError, ValueError) as error:
        screen.notify(f"Export failed: {error}", severity="error", markup=False, timeout=10)
        return
    screen.notify(result.description(), markup=False)


async def export_view(host: MonitorHost) -> None:
    """Export the marked rows, else every row of the view (with their history and who
    acknowledged them). Must run inside a worker."""
    table = host.table
    marked = table.marked_ids
    ids = list(marked) if marked else table.visible_ids
    rows = [row for row in (table.rows.get(i) for i in ids) if row is not None]
    if not rows:
        host.notify("Nothing to export in this view.", severity="warning")
        return
    watchlist = host.session.watchlist
    refused: list[StoreRefused] = []

    def write(path: Path, overwrite: bool) -> ExportResult:
        from tui.core.export import export_rows
        from tui.core.signatures import signatures_of
        try:
            history: dict[int, list[tuple[str, float]]] | None = {
                row.id: watchlist.history(row.id) for row in rows}
        except StoreRefused as error:  # the team database away: the rows as shown
            refused.append(error)
            history = None
        # Who acknowledged: the team store's signature, else the audit log's user (a store
        # away gives none).
        signed = signatures_of(watchlist, host.watching.audit, rows)
        return export_rows(rows, path, overwrite=overwrite, history_by_id=history,
                           signatures=signed)

    what = f"{len(rows)} marked rows" if marked else f"this view ({len(rows)} rows)"
    await run_export(host.screen, write, what=what, stem="conversions")
    if refused:
        host.notify(f"Exported without the history: {printable(str(refused[-1]), limit=300)}",
                    severity="warning", timeout=10, markup=False)
