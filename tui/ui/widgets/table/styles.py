"""The watchlist table's stylesheet: how each component class that the drawing uses
(``conversions-table--*``, see :class:`~tui.ui.widgets.table.view.TableView`) looks.

Colours are theme variables only (``$status-*`` come from the theme file, with
defaults in ``STATUS_VARIABLE_DEFAULTS``), so no widget names a colour.
"""

__all__ = ["TABLE_CSS"]

TABLE_CSS = """
ConversionsTable {
    width: 1fr;
    height: 1fr;
    background: $surface;
    color: $foreground;
    overflow-x: hidden;
    overflow-y: auto;
    & > .conversions-table--header { background: $panel; color: $foreground;
                                     text-style: bold; }
    & > .conversions-table--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    &:focus > .conversions-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    & > .conversions-table--marked { background: $accent 25%; }
    & > .conversions-table--deleted-row { color: $text-disabled; }
    & > .conversions-table--stale { color: $status-stale; text-style: italic; }
    & > .conversions-table--checking { color: $status-unknown; text-style: italic; }
    & > .conversions-table--problem { color: $status-stale; }
    & > .conversions-table--unread { color: $accent; text-style: bold; }
    & > .conversions-table--empty { color: $text-muted; text-style: italic; }
    & > .conversions-table--status-queued { color: $status-queued; }
    & > .conversions-table--status-processing { color: $status-processing; }
    & > .conversions-table--status-completed { color: $status-completed; }
    & > .conversions-table--status-failed { color: $status-failed; text-style: bold; }
    & > .conversions-table--status-deleting { color: $status-deleting; }
    & > .conversions-table--status-deleted { color: $status-deleted; }
    & > .conversions-table--status-not-found { color: $status-not-found; }
    & > .conversions-table--status-unknown { color: $status-unknown; }
}
"""
