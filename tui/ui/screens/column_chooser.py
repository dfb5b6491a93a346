"""Two small pickers for the table: the columns it shows (and their order), the sort column.

:class:`ColumnChooserModal` lists every column that can be shown: the chosen ones first,
in their order, each with a box, then the others. ``space`` shows or hides, ``[``/``]``
move a column left or right (up and down the list), ``enter`` applies, ``esc`` leaves
things as they were. Each line says when the column drops as the terminal narrows
("drops 1st" goes first), so the choice at 80x24 is no surprise.
:class:`SortPickerModal` lists the columns to sort by; it dismisses with the key.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.ui.widgets.table.choosable import drop_order
from tui.ui.widgets.table.columns import Column

__all__ = ["ColumnChooserModal", "SortPickerModal"]

_HINT = "space show/hide   [ ] move   enter apply   esc cancel"


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(
        number % 10, "th")
    return f"{number}{suffix}"


class ColumnChooserModal(ModalScreen[tuple[str, ...] | None]):
    """Show, hide and reorder columns; dismisses with the shown keys in order, or None."""

    DEFAULT_CSS = """
    ColumnChooserModal { align: center middle; }
    ColumnChooserModal > Vertical {
        width: 66; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ColumnChooserModal OptionList { height: auto; max-height: 18; }
    ColumnChooserModal #hint { color: $text-muted; height: auto; }
    """

    BINDINGS = [
        Binding("space", "toggle_column", "Show/hide", id="columns.toggle"),
        Binding("left_square_bracket", "move(-1)", "Move up", id="columns.up"),
        Binding("right_square_bracket", "move(1)", "Move down", id="columns.down"),
        Binding("escape", "cancel", "Cancel", id="columns.cancel"),
    ]

    def __init__(self, shown: Sequence[Column], hidden: Sequence[Column], *,
                 filled: Collection[str] = (), fitting: Collection[str] | None = None,
                 width: int = 0) -> None:
        """``shown`` in order, then ``hidden``; ``filled``: columns some row has text in
        (they may rank higher); ``fitting``: those that fit the table's ``width`` now."""
        super().__init__()
        self._columns: list[Column] = [*shown, *hidden]
        self._shown: set[str] = {column.key for column in shown}
        self._filled = frozenset(filled)
        self._fitting = None if fitting is None else frozenset(fitting)
        self._width = width

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Columns (ID is always shown)")
            yield OptionList(*self._options(), id="columns")
            yield Static(_HINT, id="hint", markup=False)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def _options(self) -> list[Option]:
        ranks = drop_order((c for c in self._columns if c.key in self._shown), self._filled)
        title_width = max(len(column.title) for column in self._columns) + 2
        key_width = max(len(column.key) for column in self._columns) + 2
        options = []
        for column in self._columns:
            shown = column.key in self._shown
            line = Text("[x] " if shown else "[ ] ")
            line.append(column.title.ljust(title_width), "bold")
            line.append(column.key.ljust(key_width), "dim")
            if shown:
                line.append(f"drops {_ordinal(ranks[column.key])}", "italic")
                if self._fitting is not None and column.key not in self._fitting:
                    line.append(f", off at {self._width} cells" if self._width else ", off now",
                                "italic")
            options.append(Option(line, id=column.key))
        return options

    def _redraw(self, highlighted: int) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(self._options())
        options.highlighted = highlighted

    def action_toggle_column(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None:
            return
        key = self._columns[index].key
        if key == "id":
            self.notify("ID is always shown: it names the row.", markup=False)
            return
        self._shown.symmetric_difference_update({key})
        self._redraw(index)

    def action_move(self, step: int) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None or not 0 <= index + step < len(self._columns):
            return
        columns = self._columns
        columns[index], columns[index + step] = columns[index + step], columns[index]
        self._redraw(index + step)

    @on(OptionList.OptionSelected)
    def _apply(self) -> None:
        self.dismiss(tuple(c.key for c in self._columns if c.key in self._shown))

    def action_cancel(self) -> None:
        self.dismiss(None)


class SortPickerModal(ModalScreen[str | None]):
    """Pick the column to sort by; dismisses with its key, or None."""

    DEFAULT_CSS = """
    SortPickerModal { align: center middle; }
    SortPickerModal > Vertical {
        width: 40; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    SortPickerModal OptionList { height: auto; max-height: 18; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="sort_picker.cancel")]

    def __init__(self, columns: Sequence[Column], current: str, reverse: bool) -> None:
        super().__init__()
        self._columns = list(columns)
        self._current = current
        self._reverse = reverse

    def compose(self) -> ComposeResult:
        arrow = " ▼" if self._reverse else " ▲"
        with Vertical():
            yield Label("Sort by (the same column: reverse)")
            yield OptionList(*[
                Option(Text(column.title + (arrow if column.key == self._current else "")),
                       id=column.key) for column in self._columns], id="sort-columns")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        keys = [column.key for column in self._columns]
        options.highlighted = keys.index(self._current) if self._current in keys else 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
