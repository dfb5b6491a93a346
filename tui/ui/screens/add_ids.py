"""The modal behind `a`: add conversion IDs by hand, as ranges, or pasted from a ticket."""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from tui.core.idlist import IdListResult, parse_id_list
from tui.core.untrusted import printable


def summarise(result: IdListResult, watched: Container[int] = ()) -> str:
    """One or two lines saying what will be added, what is watched already and what
    cannot be."""
    if not result.ids and not result.invalid:
        return "Type IDs: 4512, 4513-4520, or paste the text of a ticket."
    parts = []
    new = [i for i in result.ids if i not in watched]
    already = len(result.ids) - len(new)
    if new:
        shown = ", ".join(str(i) for i in new[:8])
        more = f" and {len(new) - 8} more" if len(new) > 8 else ""
        also = f" ({already} already watched)" if already else ""
        parts.append(f"Will add {len(new)}: {shown}{more}{also}")
    elif already:
        what = "Already watched" if already == 1 else f"All {already} already watched"
        parts.append(f"{what}: nothing new to add")
    if result.invalid:
        bad = "; ".join(printable(part, limit=60) for part in result.invalid[:5])
        more = f" (+{len(result.invalid) - 5})" if len(result.invalid) > 5 else ""
        parts.append(f"Not IDs: {bad}{more}")
    return "\n".join(parts)


class AddIdsModal(ModalScreen[IdListResult | None]):
    """Ask for IDs; dismisses with the parsed result (valid IDs and named invalid parts).

    Given ``save``, Add first saves the result through it: None closes the dialog, a
    sentence (the store refused) is shown in it and the dialog stays open with the text
    as pasted (:attr:`typed`, also once closed)."""

    ENDS_FIRST_RUN_HINT: ClassVar[bool] = True
    """Once opened, the monitor's first-run hint (which names it) has done its work."""

    DEFAULT_CSS = """
    AddIdsModal { align: center middle; }
    AddIdsModal > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    AddIdsModal TextArea { height: 6; }
    AddIdsModal #preview { height: auto; max-height: 4; color: $text-muted; }
    AddIdsModal #problem { display: none; height: auto; color: $error; }
    AddIdsModal #problem.-shown { display: block; }
    AddIdsModal Horizontal { height: auto; align-horizontal: right; }
    AddIdsModal Button { margin-left: 1; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="add_ids.cancel"),
        Binding("ctrl+s", "submit", "Add", id="add_ids.submit"),
    ]

    def __init__(self, watched: Container[int] = (),
                 save: Callable[[IdListResult], str | None] | None = None) -> None:
        super().__init__()
        self._watched = watched  # IDs on the watchlist already (said so in the preview)
        self._save = save
        #: The text in the box (also once closed).
        self.typed = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("[b]Add conversions to the watchlist[/b]")
            yield TextArea(id="ids", soft_wrap=True, show_line_numbers=False)
            yield Static(summarise(IdListResult(ids=[], invalid=[])), id="preview", markup=False)
            yield Static("", id="problem", markup=False)  # why it was not saved
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Add (ctrl+s)", id="add", variant="primary")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(TextArea.Changed)
    def _preview(self) -> None:
        self.typed = self.query_one(TextArea).text
        result = parse_id_list(self.typed)
        self.query_one("#preview", Static).update(summarise(result, self._watched))

    @on(Button.Pressed, "#add")
    def action_submit(self) -> None:
        self.typed = self.query_one(TextArea).text
        result = parse_id_list(self.typed)
        problem = self._save(result) if self._save is not None else None
        if problem is None:
            self.dismiss(result)
            return
        shown = self.query_one("#problem", Static)
        shown.update(problem)
        shown.add_class("-shown")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
