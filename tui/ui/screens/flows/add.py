"""Add IDs (``a``): single IDs, ranges, or a ticket's text pasted whole."""

from __future__ import annotations

from tui.core.idlist import IdListResult
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.screens.flows.refusals import saved

#: Problems of the pasted text the toast names.
NAMED_INVALID = 6


async def add_ids(host: MonitorHost) -> None:
    """Ask for IDs and watch them through the service. Must run inside a worker."""
    from tui.ui.screens.add_ids import AddIdsModal
    result: IdListResult | None = await host.app.push_screen_wait(
        AddIdsModal(watched=host.table.rows))
    if result is None:
        return
    if result.ids:
        # Refused (the team database away): one toast that gives the IDs back.
        added = saved(host, lambda: host.watching.watch(result.ids),
                      typed=" ".join(map(str, result.ids)))
        if added is None:
            return
        already = len(result.ids) - len(added)
        msg = f"Added {len(added)} to the watchlist"
        if already:
            msg += f" ({already} already watched)"
        host.notify(msg, markup=False)
    if result.invalid:
        host.notify("Not added: " + "; ".join(result.invalid[:NAMED_INVALID]),
                    severity="warning", markup=False, timeout=10)
