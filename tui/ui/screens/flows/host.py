"""What a flow may use of the monitor screen, as a Protocol (no flow imports the screen)."""

from __future__ import annotations

from typing import Protocol

from textual.app import App
from textual.notifications import SeverityLevel
from textual.screen import Screen

from tui.core.session import MonitorSession, ProfileTrackingSource
from tui.core.watching import WatchService
from tui.core.watchlist import WatchedConversion
from tui.ui.alerting import Alerter
from tui.ui.widgets.table.conversions_table import ConversionsTable


class MonitorHost(Protocol):
    """The monitor screen as its flows see it."""

    session: MonitorSession
    #: The one owner of the watched rows: every change a flow makes goes through it.
    watching: WatchService
    #: The alert rules over the same changes (None until the screen is mounted).
    alerter: Alerter | None

    @property
    def app(self) -> App[object]:
        """The running app (to push modals)."""
        ...

    @property
    def screen(self) -> Screen[object]:
        """The screen itself: the node whose bindings (keymap applied) name keys."""
        ...

    @property
    def table(self) -> ConversionsTable:
        """The watchlist table."""
        ...

    @property
    def source(self) -> ProfileTrackingSource | None:
        """The API client of the key once one is known (None: no key yet)."""
        ...

    @property
    def view_key(self) -> str:
        """The view tab shown ("all", "active", ...)."""
        ...

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """A toast (Textual's ``Widget.notify``)."""
        ...

    def refresh_counts(self) -> None:
        """Recount the views and the header now."""
        ...

    def update_header(self, *, watched: int | None = None, active: int | None = None,
                      attention: int | None = None) -> None:
        """Show again who the key belongs to, whether polling is paused, the counts."""
        ...

    def connect(self) -> object:
        """Find or ask for the key, then poll with it (a worker of the screen)."""
        ...

    def ask_for_new_key(self, why: str) -> object:
        """Ask for a key in place of a refused one (a worker of the screen)."""
        ...


def target_rows(host: MonitorHost) -> list[WatchedConversion]:
    """The rows an action acts on: the marked rows, else the cursor's row."""
    table = host.table
    return [row for row in (table.rows.get(i) for i in table.targets()) if row is not None]
