"""Messages the conversions table posts (also reachable as ``ConversionsTable.CursorMoved`` etc.).

Handlers are named as for nested messages: ``on_conversions_table_cursor_moved``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from tui.ui.widgets.conversions_table import ConversionsTable

__all__ = ["CursorMoved", "MarksChanged", "RowActivated", "SortChanged"]

_NAMESPACE = "conversions_table"


class CursorMoved(Message, namespace=_NAMESPACE):
    """The cursor is on another conversion (None: the table shows no rows)."""

    def __init__(self, table: ConversionsTable, conversion_id: int | None) -> None:
        super().__init__()
        self.table = table
        self.conversion_id = conversion_id

    @property
    def control(self) -> ConversionsTable:
        """The table that sent this."""
        return self.table


class RowActivated(Message, namespace=_NAMESPACE):
    """Enter (or a double click) on a row."""

    def __init__(self, table: ConversionsTable, conversion_id: int) -> None:
        super().__init__()
        self.table = table
        self.conversion_id = conversion_id

    @property
    def control(self) -> ConversionsTable:
        """The table that sent this."""
        return self.table


class SortChanged(Message, namespace=_NAMESPACE):
    """The sort column or direction changed."""

    def __init__(self, table: ConversionsTable, column: str, reverse: bool) -> None:
        super().__init__()
        self.table = table
        self.column = column
        self.reverse = reverse

    @property
    def control(self) -> ConversionsTable:
        """The table that sent this."""
        return self.table


class MarksChanged(Message, namespace=_NAMESPACE):
    """The set of marked conversions changed; ``count`` is how many are marked."""

    def __init__(self, table: ConversionsTable, count: int) -> None:
        super().__init__()
        self.table = table
        self.count = count

    @property
    def control(self) -> ConversionsTable:
        """The table that sent this."""
        return self.table
