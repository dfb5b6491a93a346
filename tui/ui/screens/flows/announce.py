"""What a watcher should hear of status changes: a few seconds' worth in one toast per kind.

A failure is an alert (tui/ui/alerting.py), not told here: merged in bursts, and heard,
not only seen.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from textual.notifications import SeverityLevel

from tui.core.statuses import StatusKind, status_kind
from tui.core.untrusted import printable
from tui.core.watchlist import DELETED_STATUS, StatusChange
from tui.ui.screens.flows.host import MonitorHost

#: Names a toast lists before "…".
NAMED = 3


def announce(host: MonitorHost, changes: Sequence[StatusChange],
             deleting: Collection[int]) -> list[StatusChange]:
    """Toasts for ``changes`` (rows that completed with warnings, deletes confirmed), so a
    busy watchlist does not bury the screen in toasts. Returns the changes held back:
    a delete's confirmation while that delete is still being sent (``deleting``), told
    after the delete's own outcome toast."""
    table = host.table
    warned: list[str] = []
    deleted: list[str] = []
    later: list[StatusChange] = []
    for change in changes:
        if change.previous is None or change.previous == change.current:
            continue
        if change.id in deleting and change.current == DELETED_STATUS:
            later.append(change)
            continue
        row = table.rows.get(change.id)
        name = f"{change.id}" + (f" {printable(row.file_name, limit=40)}"
                                 if row and row.file_name else "")
        kind = status_kind(change.current)
        if kind is StatusKind.COMPLETED and row is not None and row.warnings:
            warned.append(name)
        elif kind is StatusKind.DELETED and row is not None and row.delete_requested_at:
            # Only deletions this app asked for: others' are news, not confirmations.
            deleted.append(name)
    groups: tuple[tuple[list[str], str, SeverityLevel], ...] = (
        (warned, "completed with warnings", "warning"),
        (deleted, "deleted (confirmed by the server)", "information"))
    for names, what, severity in groups:
        if not names:
            continue
        if len(names) == 1:
            host.notify(f"{names[0]} {what}", severity=severity, markup=False)
        else:
            listed = ", ".join(names[:NAMED]) + (" …" if len(names) > NAMED else "")
            host.notify(f"{len(names)} conversions {what}: {listed}", severity=severity,
                        markup=False)
    return later
