"""Confirmation before deleting on the server: never one keystroke.

One conversion: its ID, file name and status are named and Cancel has the
focus. Several: they are listed and the user types how many to go on (typing
while Cancel has the focus goes into the count box; Enter on Cancel cancels;
Enter on a wrong count says what is wrong).

Marks outlive a change of view, so the dialog says how many of the rows are not
in the view on screen, breaks the rows down by status, and leaves out (and says
so) rows the server has already deleted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.core.untrusted import printable
from tui.core.watchlist import DELETED_STATUS, WatchedConversion

LISTED = 12
#: Lines the list of rows takes at most, and at least when the terminal is short.
LIST_HEIGHT, MIN_LIST_HEIGHT = 14, 3


def describe_row(row: WatchedConversion) -> str:
    """"48211  expenses.xlsx  (Failed)" — server text made printable."""
    name = printable(row.file_name or "(no file name)", limit=60)
    status = printable(row.status or "status unknown", limit=40)
    return f"{row.id}  {name}  ({status})"


def _status_word(row: WatchedConversion) -> str:
    return printable(row.status or "status unknown", limit=40)


def _already_deleted(row: WatchedConversion) -> bool:
    return row.status == DELETED_STATUS or row.deleted_at is not None


@dataclass(frozen=True)
class DeleteTargets:
    """The rows a delete would send, and what the user must know about them.

    ``rows`` are the ones to delete, those in the current view first; ``outside``
    holds the IDs among them that the current view does not show (marked in
    another view, or hidden by the filter); ``left_out`` are rows already Deleted.
    """

    rows: tuple[WatchedConversion, ...]
    outside: frozenset[int] = frozenset()
    left_out: tuple[WatchedConversion, ...] = ()
    view_label: str = ""

    @classmethod
    def of(cls, rows: Iterable[WatchedConversion], *, shown: set[int] | None = None,
           view_label: str = "") -> DeleteTargets:
        """Sort ``rows`` out against the IDs the current view ``shown`` (None: all)."""
        given = list(rows)
        keep = [row for row in given if not _already_deleted(row)]
        outside = frozenset(row.id for row in keep
                            if shown is not None and row.id not in shown)
        # Seen rows first: the list must not open with one the user cannot see.
        ordered = sorted(keep, key=lambda row: row.id in outside)
        return cls(tuple(ordered), outside,
                   tuple(row for row in given if _already_deleted(row)), view_label)

    def by_status(self) -> list[tuple[str, int]]:
        """(status, count) of the rows to delete, most first."""
        return Counter(_status_word(row) for row in self.rows).most_common()

    def breakdown(self) -> str:
        """"11 Failed, 2 Completed"."""
        return ", ".join(f"{count} {status}" for status, count in self.by_status())

    def outside_sentence(self) -> str:
        """How many are not on screen ("" when all are)."""
        count = len(self.outside)
        if not count:
            return ""
        where = f"the current view ({self.view_label})" if self.view_label else (
            "the current view")
        if count == len(self.rows):
            which = "It is" if count == 1 else f"All {count} are"
        else:
            which = f"{count} of them {'is' if count == 1 else 'are'}"
        return (f"{which} not in {where}: marked in another view or hidden by the filter "
                "(listed last).")

    def left_out_sentence(self) -> str:
        """What was left out because the server already deleted it ("" when nothing)."""
        count = len(self.left_out)
        if not count:
            return ""
        ids = ", ".join(str(row.id) for row in self.left_out[:5])
        more = " …" if count > 5 else ""
        return (f"{count} already Deleted {'is' if count == 1 else 'are'} left out "
                f"({ids}{more}).")


class ConfirmDeleteModal(ModalScreen[bool]):
    """Asks before a server delete; dismisses True only on an explicit confirmation."""

    DEFAULT_CSS = """
    ConfirmDeleteModal { align: center middle; }
    ConfirmDeleteModal > Vertical {
        width: 80; max-width: 100%; height: auto; max-height: 100%;
        border: thick $error; background: $surface; padding: 0 1;
    }
    ConfirmDeleteModal #title { text-style: bold; color: $error; }
    ConfirmDeleteModal #targets { height: auto; max-height: 14; }  /* LIST_HEIGHT */
    ConfirmDeleteModal #explain { color: $text-muted; height: auto; }
    ConfirmDeleteModal #busy { color: $warning; height: auto; }
    ConfirmDeleteModal #outside { color: $warning; text-style: bold; height: auto; }
    ConfirmDeleteModal #breakdown, ConfirmDeleteModal #left-out { height: auto; }
    ConfirmDeleteModal #count-problem { color: $error; height: auto; }
    ConfirmDeleteModal Horizontal { height: auto; align-horizontal: right; }
    ConfirmDeleteModal Button { margin-left: 1; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm_delete.cancel")]

    def __init__(self, targets: DeleteTargets | Sequence[WatchedConversion]) -> None:
        super().__init__()
        self.targets = (targets if isinstance(targets, DeleteTargets)
                        else DeleteTargets.of(targets))
        self.rows = list(self.targets.rows)
        self._list_height = LIST_HEIGHT

    @property
    def needs_typed_count(self) -> bool:
        """Several conversions: the user must type their count."""
        return len(self.rows) > 1

    def compose(self) -> ComposeResult:
        count = len(self.rows)
        what = "this conversion" if count == 1 else f"these {count} conversions"
        with Vertical(id="dialog"):
            yield Label(f"Delete {what} on the server?", id="title")
            targets = self.targets
            if count > 1:
                yield Static(f"By status: {targets.breakdown()}", id="breakdown", markup=False)
            if targets.outside:
                yield Static(targets.outside_sentence(), id="outside", markup=False)
            if targets.left_out:
                yield Static(targets.left_out_sentence(), id="left-out", markup=False)
            with VerticalScroll(id="targets"):
                for row in self.rows[:LISTED]:
                    hidden = "  — not in this view" if row.id in targets.outside else ""
                    yield Static(describe_row(row) + hidden, markup=False)
                if count > LISTED:
                    unlisted = sum(1 for row in self.rows[LISTED:] if row.id in targets.outside)
                    hidden = f" ({unlisted} of them not in this view)" if unlisted else ""
                    yield Static(f"… and {count - LISTED} more{hidden}", markup=False)
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
                yield Static("", id="count-problem", markup=False)
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(f"Delete {count} on server", id="delete", variant="error",
                             disabled=self.needs_typed_count)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()
        # Fitted again when the terminal or what the dialog holds changes size (the
        # sentence under the count box comes and goes).
        self.watch(self.query_one("#dialog", Vertical), "virtual_size", self._refit)

    def on_resize(self) -> None:
        self._refit()

    def _refit(self) -> None:
        self.call_after_refresh(self._fit_list)  # once the new sizes are laid out

    def _fit_list(self) -> None:
        """Shorten the list of rows (it scrolls) so that everything below it, the count
        box and the buttons above all, stays on a short terminal (80x24 with a dozen
        rows cut the buttons off)."""
        dialog = self.query_one("#dialog", Vertical)
        targets = self.query_one("#targets", VerticalScroll)
        others = sum(child.outer_size.height for child in dialog.children
                     if child is not targets and child.display)
        room = self.size.height - dialog.gutter.height - others
        fitted = max(MIN_LIST_HEIGHT, min(LIST_HEIGHT, room))
        if fitted != self._list_height:
            self._list_height = fitted
            targets.styles.max_height = fitted

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
        self.query_one("#count-problem", Static).update("")

    @on(Input.Submitted, "#count")
    def _submitted(self, event: Input.Submitted) -> None:
        typed = event.value.strip()
        count = len(self.rows)
        if typed == str(count):
            self.dismiss(True)
            return
        # Enter on a wrong count must not look like a dead key: say what is expected.
        if not typed:
            why = f"Type {count} (how many will be deleted) to confirm, or Esc to cancel."
        else:
            shown = printable(typed, limit=20)
            why = (f"'{shown}' is not {count}: type {count}, the number of conversions "
                   "listed, to confirm (Esc cancels).")
        self.query_one("#count-problem", Static).update(why)
        self.notify(why, severity="warning", markup=False, timeout=6)

    @on(Button.Pressed, "#delete")
    def _confirmed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
