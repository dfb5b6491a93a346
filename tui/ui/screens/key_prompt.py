"""The modal that asks for an API key when none is available or the server refused it."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.core.credentials import ApiKey


class KeyPromptModal(ModalScreen[ApiKey | None]):
    """Hidden input for the key; dismisses with an ApiKey (never a plain str) or None."""

    DEFAULT_CSS = """
    KeyPromptModal { align: center middle; }
    KeyPromptModal > Vertical {
        width: 76; max-width: 100%; height: auto; border: thick $warning;
        background: $surface; padding: 0 1;
    }
    KeyPromptModal #why { color: $text-muted; height: auto; }
    KeyPromptModal Horizontal { height: auto; align-horizontal: right; }
    KeyPromptModal Button { margin-left: 1; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="key_prompt.cancel")]

    def __init__(self, *, profile: str, reason: str) -> None:
        super().__init__()
        self._profile = profile
        self._reason = reason

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"API key for profile {self._profile!r}", markup=False)
            yield Static(self._reason, id="why", markup=False)
            yield Input(password=True, placeholder="X-API-KEY", id="key")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Use key", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        value = self.query_one(Input).value.strip()
        if not value:
            self.notify("The key is empty.", severity="warning")
            return
        try:
            key = ApiKey(value)
        except ValueError as error:
            # e.g. a space or a non-ASCII character: a header cannot carry it.
            self.notify(f"Not a usable key: {error}", severity="warning", markup=False)
            return
        self.query_one(Input).value = ""
        self.dismiss(key)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
