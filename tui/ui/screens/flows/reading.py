"""Reading rows without changing them: inspect one, copy IDs or a summary, the audit log."""

from __future__ import annotations

import logging
import time

from tui.core.clipboard import ClipboardCopy
from tui.core.watchstore import StoreRefused
from tui.ui.clipboard import copy_to_terminal_clipboard
from tui.ui.screens.flows.host import MonitorHost, target_rows
from tui.ui.screens.flows.refusals import known_away, quietly, saved, tell_refused

#: Inspect's line while the store is away: what it shows is the row as on screen.
STORE_AWAY_NOTICE = ("Shown as last known: its history and who did what cannot be read "
                     "while the team database is away.")

log = logging.getLogger(__name__)


def inspect(host: MonitorHost, conversion_id: int) -> None:
    """Open Inspect on one watched conversion, with its history; it is read now. The
    store away (the team database), Inspect shows the row as on screen, saying that its
    history and who did what cannot be read now."""
    from tui.core.signatures import signatures_of
    from tui.ui.screens.inspect import InspectModal
    watchlist = host.session.watchlist
    shown = host.table.rows.get(conversion_id)
    refused = known_away(host, "read the history") if shown is not None else None
    try:
        if refused is not None:
            raise refused  # known away: no store call, no wait
        row = watchlist.get(conversion_id)
        history = watchlist.history(conversion_id)
    except StoreRefused as error:
        if shown is None:
            tell_refused(host, error, title="Not shown")
            return
        log.info("Inspect shows %d as on screen: %s", conversion_id, error)
        host.app.push_screen(InspectModal(shown, [],
                                          stuck_after=host.session.profile.stuck_after,
                                          notice=STORE_AWAY_NOTICE))
        return
    if row is None:
        return
    # Who did what: the team store signs its rows; a person's file has the audit log
    # (another monitor's ack too, same profile).
    signed = signatures_of(watchlist, host.watching.audit, [row]).get(conversion_id)
    acknowledger = signed.acknowledged if signed else None
    host.app.push_screen(InspectModal(row, history,
                                      stuck_after=host.session.profile.stuck_after,
                                      acknowledged_by=acknowledger.who if acknowledger else None,
                                      signatures=signed))
    # No write when it was read already; refused, the row stays unread (the banner says
    # the store is away: no toast for it).
    quietly(lambda: host.watching.mark_read([conversion_id]))


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
    from tui.core.signatures import signatures_of
    watchlist = host.session.watchlist
    history = saved(host, lambda: {row.id: watchlist.history(row.id) for row in rows},
                    title="Not copied")
    if history is None:
        return
    signed = signatures_of(watchlist, host.watching.audit, rows)
    copy = ClipboardCopy(triage_markdown(rows, history, time.time(), signed),
                         "triage summary")
    if copy_to_terminal_clipboard(host.app, copy.text):
        host.notify(copy.description(), timeout=3)


def show_audit_log(host: MonitorHost) -> None:
    """Who deleted or uploaded what, when, and how it went."""
    from tui.ui.screens.audit_view import AuditScreen
    session = host.session
    host.app.push_screen(AuditScreen(session.audit.entries(), profile=session.profile.name))
