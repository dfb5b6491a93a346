"""Delete on the server (``d``): the question naming each row, then the service's delete.

The call only marks a conversion for deletion; the service follows each accepted delete
until the server says Deleted. One toast tells how the whole delete went.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.notifications import SeverityLevel

from tui.core.deletion import DeleteOutcome, DeleteResult, describe
from tui.core.untrusted import printable
from tui.ui.screens.flows.host import MonitorHost, target_rows
from tui.ui.screens.flows.refusals import known_away, saved_async, tell_refused
from tui.ui.views import VIEWS_BY_KEY

if TYPE_CHECKING:
    from tui.ui.screens.confirm_delete import DeleteTargets

#: Problems a delete's toast lists by name; the rest are "…".
LISTED_PROBLEMS = 5
#: After the store's refusal of a delete: the server was not asked.
NOTHING_SENT = "Nothing was sent to the server."


class DeleteFlow:
    """Deletes on the server from the monitor, and which of them are still being sent."""

    def __init__(self, host: MonitorHost) -> None:
        self._host = host
        # IDs of the deletes still being sent: their confirmations wait for the outcome
        # toast, so "deleted (confirmed)" never comes before "marked for deletion".
        self.deleting: set[int] = set()

    async def run(self) -> None:
        """Ask, delete, and tell how it went. Must run inside a worker (it waits for a modal)."""
        from tui.ui.screens.confirm_delete import ConfirmDeleteModal
        host = self._host
        notify = host.notify
        if host.session.read_only:
            notify("Read-only profile: deleting is switched off.", severity="warning")
            return
        targets = self.targets()
        if targets is None:
            return
        if not targets.rows:
            notify(f"Nothing to delete: {targets.left_out_sentence()}", severity="warning",
                   markup=False)
            return
        source = host.source
        if source is None:
            notify("No API key yet: nothing can be deleted.", severity="warning")
            return
        # The team database known away: a delete must be claimed there first, so it
        # cannot go; said before the question rather than after it.
        away = known_away(host, "delete")
        if away is not None:
            tell_refused(host, away, "Not deleted", also=NOTHING_SENT)
            return
        confirmed = await host.app.push_screen_wait(ConfirmDeleteModal(targets))
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
            summary = await saved_async(
                host, lambda: host.watching.delete(source.client, ids, on_outcome=on_outcome),
                title="Not deleted", also=NOTHING_SENT)
        finally:
            self.deleting.difference_update(ids)
        if summary is None:  # the store refused it: its toast said so
            return
        severity: SeverityLevel = "information" if not problems else (
            "warning" if summary.requested else "error")
        details = ("\n" + "\n".join(problems[:LISTED_PROBLEMS])
                   + ("\n…" if len(problems) > LISTED_PROBLEMS else "")) if problems else ""
        notify(summary.sentence() + details, severity=severity, markup=False,
               timeout=6 if not problems else 15)
        host.refresh_counts()

    def targets(self) -> DeleteTargets | None:
        """What ``d`` would delete: marks may lie outside the view (marked in another tab),
        so those are counted apart, and rows already Deleted are left out."""
        from tui.ui.screens.confirm_delete import DeleteTargets
        host = self._host
        table = host.table
        rows = target_rows(host)
        if not rows:
            return None
        view = VIEWS_BY_KEY.get(host.view_key)
        label = view.label if view is not None else "this view"
        if table.filter_text:
            label += ", filtered"
        return DeleteTargets.of(rows, shown=set(table.visible_ids), view_label=label)
