"""Small modals: a one-line text prompt and a yes/no question."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

#: Reads an answer before the prompt closes: None when it will do, else one sentence
#: saying what is wrong (shown under the field; the prompt stays open with the text).
AnswerCheck = Callable[[str], str | None]


class TextPromptModal(ModalScreen[str | None]):
    """Ask for one line of text (a note, a path); dismisses with it, or None on escape.

    With ``check``, an answer it refuses keeps the prompt open: its sentence shows under
    the field and the typed text stays, to be corrected. Given ``save``, enter then saves
    the text through it: None closes the dialog, a sentence (the store refused) is shown
    in it and the dialog stays open, the text as typed. Escape still closes either way
    (:attr:`typed` is the text then)."""

    DEFAULT_CSS = """
    TextPromptModal { align: center middle; }
    TextPromptModal > Vertical {
        width: 80; max-width: 100%; height: auto; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    TextPromptModal #hint { color: $text-muted; height: auto; }
    TextPromptModal #problem { display: none; color: $error; height: auto; }
    TextPromptModal #problem.-shown { display: block; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="text_prompt.cancel")]

    def __init__(self, title: str, *, value: str = "", hint: str = "",
                 max_length: int = 0, check: AnswerCheck | None = None,
                 save: Callable[[str], str | None] | None = None) -> None:
        super().__init__()
        self._check = check
        self._save = save
        self._title = title
        self._value = value
        self._hint = hint
        self._max_length = max_length
        #: The text in the box (also once closed).
        self.typed = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title, markup=False)
            yield Input(value=self._value, max_length=self._max_length, id="value")
            yield Static("", id="problem", markup=False)  # why it was refused or not saved
            if self._hint:
                yield Static(self._hint, id="hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.typed = event.value
        # The sentence was about the text as it was: once edited, it no longer applies.
        self.query_one("#problem", Static).remove_class("-shown")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.typed = event.value
        problem = self._check(event.value) if self._check is not None else None
        if problem is None and self._save is not None:
            problem = self._save(event.value)
        if problem is None:
            self.dismiss(event.value)
            return
        shown = self.query_one("#problem", Static)
        shown.update(problem)
        shown.add_class("-shown")

    def action_cancel(self) -> None:
        self.dismiss(None)


class QuestionModal(ModalScreen[bool]):
    """A yes/no question with the safe answer focused."""

    DEFAULT_CSS = """
    QuestionModal { align: center middle; }
    QuestionModal > Vertical {
        width: 70; max-width: 100%; height: auto; border: thick $warning;
        background: $surface; padding: 0 1;
    }
    QuestionModal Horizontal { height: auto; align-horizontal: right; }
    QuestionModal Button { margin-left: 1; }
    """

    BINDINGS = [Binding("escape", "no", "No", id="question.no")]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "Cancel") -> None:
        super().__init__()
        self._question = question
        self._yes = yes
        self._no = no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._question, markup=False)
            with Horizontal():
                yield Button(self._no, id="no")
                yield Button(self._yes, id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed, "#yes")
    def _yes_pressed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self.dismiss(False)
