"""Reusable widgets of the conversions TUI."""

from tui.ui.widgets.table.conversions_table import STATUS_VARIABLE_DEFAULTS, ConversionsTable

__all__ = ["STATUS_VARIABLE_DEFAULTS", "ConversionsTable"]
