"""Reading rows without changing them: inspect one, copy IDs or a summary, the audit log."""

from __future__ import annotations

import time

from tui.core.clipboard import ClipboardCopy
from tui.ui.clipboard import copy_to_terminal_clipboard
from tui.ui.screens.flows.host import MonitorHost, target_rows
from tui.ui.screens.flows.refusals import saved


def inspect(host: MonitorHost, conversion_id: int) -> None:
    """Open Inspect on one watched conversion, with its history; it is read now."""
    from tui.ui.screens.inspect import InspectModal
    watchlist = host.session.watchlist
    row = watchlist.get(conversion_id)
    if row is None:
        return
    # Who acknowledged it: the audit log says (another monitor's ack too, same profile).
    entry = (host.watching.audit.last_for("acknowledge", conversion_id)
             if row.acknowledged_at is not None else None)
    host.app.push_screen(InspectModal(row, watchlist.history(conversion_id),
                                      stuck_after=host.session.profile.stuck_after,
                                      acknowledged_by=entry.user if entry else None))
    # No write when it was read already; refused, the row stays unread.
    saved(host, lambda: host.watching.mark_read([conversion_id]))


def copy_ids(host: MonitorHost) -> None:
    """The marked IDs (else the cursor's) to the terminal's clipboard."""
    ids = host.table.targets()
    if ids:
        copy = ClipboardCopy.of_ids(ids)
        if copy_to_terminal_clipboard(host.app, copy.text):
            host.notify(copy.description(), timeout=3)


def copy_triage(host: MonitorHost) -> None:
    """A Markdown summary of the marked rows (else the cursor's), for a ticket."""
    from tui.core.triage import triage_markdown
    rows = target_rows(host)
    if not rows:
        return
    history = {row.id: host.session.watchlist.history(row.id) for row in rows}
    copy = ClipboardCopy(triage_markdown(rows, history, time.time()), "triage summary")
    if copy_to_terminal_clipboard(host.app, copy.text):
        host.notify(copy.description(), timeout=3)


def show_audit_log(host: MonitorHost) -> None:
    """Who deleted or uploaded what, when, and how it went."""
    from tui.ui.screens.audit_view import AuditScreen
    session = host.session
    host.app.push_screen(AuditScreen(session.audit.entries(), profile=session.profile.name))
