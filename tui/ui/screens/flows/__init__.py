"""The monitor's flows: one module for each thing a person does with the watched rows.

:class:`tui.ui.screens.monitor.MonitorScreen` owns one of each and calls it from its
``action_*`` methods (composition: no base class holds the actions). A flow knows the
screen only as :class:`~tui.ui.screens.flows.host.MonitorHost`, so none imports it back,
and every change to the rows goes through the screen's ``WatchService``.
"""

from __future__ import annotations

from textual.binding import Binding

#: The keys of the row actions, ahead of the monitor's own in its bindings (and footer).
ROW_ACTION_BINDINGS: list[Binding] = [
    Binding("enter", "inspect", "Inspect", id="monitor.inspect", show=False),
    Binding("d", "delete_on_server", "Delete on server", id="monitor.delete"),
    Binding("delete", "delete_on_server", "Delete on server", id="monitor.delete_key",
            show=False),
    Binding("ctrl+a", "mark_all", "Mark all", id="monitor.mark_all", show=False),
    Binding("c", "copy_ids", "Copy IDs", id="monitor.copy"),
    Binding("C", "copy_triage", "Copy summary", id="monitor.copy_summary", show=False),
    Binding("e", "export", "Export", id="monitor.export"),
    Binding("n", "note", "Note", id="monitor.note", show=False),
    Binding("k", "acknowledge", "Acknowledge", id="monitor.acknowledge", show=False),
    Binding("K", "snooze", "Snooze", id="monitor.snooze", show=False),
    Binding("L", "audit_log", "Audit log", id="monitor.audit", show=False),
    Binding("u", "upload", "Upload", id="monitor.upload"),
]
