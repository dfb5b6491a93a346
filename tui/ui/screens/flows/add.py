"""Add IDs (``a``): single IDs, ranges, or a ticket's text pasted whole."""

from __future__ import annotations

from tui.core.idlist import IdListResult
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.screens.flows.refusals import DialogSave

#: Problems of the pasted text the toast names.
NAMED_INVALID = 6


async def add_ids(host: MonitorHost) -> None:
    """Ask for IDs and watch them through the service (refused by the store: said in the
    dialog, which stays open with the text). Must run inside a worker."""
    from tui.ui.screens.add_ids import AddIdsModal
    save: DialogSave[IdListResult, list[int]] = DialogSave(
        host, lambda found: host.watching.watch(found.ids) if found.ids else [],
        title="Not added")
    modal = AddIdsModal(watched=host.table.rows, save=save)
    result: IdListResult | None = await host.app.push_screen_wait(modal)
    if result is None:
        save.closed(modal.typed.strip() or None)
        return
    if result.ids:
        added = save.answer or []
        already = len(result.ids) - len(added)
        msg = f"Added {len(added)} to the watchlist"
        if already:
            msg += f" ({already} already watched)"
        host.notify(msg, markup=False)
    if result.invalid:
        host.notify("Not added: " + "; ".join(result.invalid[:NAMED_INVALID]),
                    severity="warning", markup=False, timeout=10)
