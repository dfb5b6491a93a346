"""Confirmation before deleting on the server: never one keystroke.

One conversion: its ID, file name and status are named and Cancel has the
focus. Several: they are listed and the user types how many to go on (typing
while Cancel has the focus goes into the count box; Enter on Cancel cancels).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.core.untrusted import printable
from tui.core.watchlist import WatchedConversion

LISTED = 12


def describe_row(row: WatchedConversion) -> str:
    """"48211  expenses.xlsx  (Failed)" — server text made printable."""
    name = printable(row.file_name or "(no file name)", limit=60)
    status = printable(row.status or "status unknown", limit=40)
    return f"{row.id}  {name}  ({status})"


class ConfirmDeleteModal(ModalScreen[bool]):
    """Asks before a server delete; dismisses True only on an explicit confirmation."""

    DEFAULT_CSS = """
    ConfirmDeleteModal { align: center middle; }
    ConfirmDeleteModal > Vertical {
        width: 80; max-width: 100%; height: auto; max-height: 100%;
        border: thick $error; background: $surface; padding: 0 1;
    }
    ConfirmDeleteModal #title { text-style: bold; color: $error; }
    ConfirmDeleteModal #targets { height: auto; max-height: 14; }
    ConfirmDeleteModal #explain { color: $text-muted; height: auto; }
    ConfirmDeleteModal #busy { color: $warning; height: auto; }
    ConfirmDeleteModal Horizontal { height: auto; align-horizontal: right; }
    ConfirmDeleteModal Button { margin-left: 1; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm_delete.cancel")]

    def __init__(self, rows: Sequence[WatchedConversion]) -> None:
        super().__init__()
        self.rows = list(rows)

    @property
    def needs_typed_count(self) -> bool:
        """Several conversions: the user must type their count."""
        return len(self.rows) > 1

    def compose(self) -> ComposeResult:
        count = len(self.rows)
        what = "this conversion" if count == 1 else f"these {count} conversions"
        with Vertical():
            yield Label(f"Delete {what} on the server?", id="title")
            with VerticalScroll(id="targets"):
                for row in self.rows[:LISTED]:
                    yield Static(describe_row(row), markup=False)
                if count > LISTED:
                    yield Static(f"… and {count - LISTED} more", markup=False)
            busy = sum(1 for row in self.rows if row.status == "Processing")
            if busy:
                which = "It is" if count == 1 else f"{busy} of them {'is' if busy == 1 else 'are'}"
                reported = "the refusal is" if busy == 1 else "each refusal is"
                yield Static(f"{which} Processing: the server refuses to delete a conversion "
                             f"until it finishes ({reported} reported).", id="busy",
                             markup=False)
            them = "it" if count == 1 else "them"
            yield Static(
                f"The server marks {them} for deletion, then deletes {them}; this cannot be "
                "undone. (To only stop watching, use x: that never touches the server.)",
                id="explain", markup=False)
            if self.needs_typed_count:
                # No select-all on focus: the first digit typed on Cancel moves the focus
                # here and must not be replaced by the second.
                yield Input(placeholder=f"type {count} to confirm", id="count",
                            select_on_focus=False)
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(f"Delete {count} on server", id="delete", variant="error",
                             disabled=self.needs_typed_count)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_key(self, event: events.Key) -> None:
        # "type 5 to confirm" must work as read, whatever has the focus: a digit typed
        # on Cancel goes into the count box (only the right count enables Delete).
        char = event.character or ""
        if not self.needs_typed_count or len(char) != 1 or not "0" <= char <= "9":
            return
        box = self.query_one("#count", Input)
        if self.focused is not box:
            event.stop()
            event.prevent_default()
            box.focus()
            box.insert_text_at_cursor(char)

    @on(Input.Changed, "#count")
    def _check_count(self, event: Input.Changed) -> None:
        self.query_one("#delete", Button).disabled = event.value.strip() != str(len(self.rows))

    @on(Input.Submitted, "#count")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == str(len(self.rows)):
            self.dismiss(True)

    @on(Button.Pressed, "#delete")
    def _confirmed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
