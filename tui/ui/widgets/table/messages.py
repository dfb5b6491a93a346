"""Messages the conversions table posts (also reachable as ``ConversionsTable.CursorMoved`` etc.).

Handlers are named as for nested messages: ``on_conversions_table_cursor_moved``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from tui.ui.widgets.table.conversions_table import ConversionsTable

__all__ = ["CursorMoved", "MarksChanged", "RowActivated", "SortChanged"]

_NAMESPACE = "conversions_table"


class _FromTable(Message, namespace=_NAMESPACE):
    """A message from one table: ``table`` (also ``control``, as Textual's widgets have)."""

    def __init__(self, table: ConversionsTable) -> None:
        super().__init__()
        self.table = table

    @property
    def control(self) -> ConversionsTable:
        """The table that sent this."""
        return self.table


class CursorMoved(_FromTable, namespace=_NAMESPACE):
    """The cursor is on another conversion (None: the table shows no rows)."""

    def __init__(self, table: ConversionsTable, conversion_id: int | None) -> None:
        super().__init__(table)
        self.conversion_id = conversion_id


class RowActivated(_FromTable, namespace=_NAMESPACE):
    """Enter (or a double click) on a row."""

    def __init__(self, table: ConversionsTable, conversion_id: int) -> None:
        super().__init__(table)
        self.conversion_id = conversion_id


class SortChanged(_FromTable, namespace=_NAMESPACE):
    """The sort column or direction changed."""

    def __init__(self, table: ConversionsTable, column: str, reverse: bool) -> None:
        super().__init__(table)
        self.column = column
        self.reverse = reverse


class MarksChanged(_FromTable, namespace=_NAMESPACE):
    """The set of marked conversions changed; ``count`` is how many are marked."""

    def __init__(self, table: ConversionsTable, count: int) -> None:
        super().__init__(table)
        self.count = count
