"""A searchable, read-only list of a conversion's messages (warnings or errors), as the
inspect modal shows them: only what fits is drawn, every line made printable first."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Input, Static, TextArea

from tui.core.untrusted import printable

__all__ = ["MessageList"]


def _lines(messages: Sequence[str]) -> str:
    return "\n".join(printable(m, limit=4000) for m in messages)


class MessageList(Vertical):
    """A searchable, read-only list of messages (warnings or errors).

    A hostile or broken server may send 100,000 messages: only the first
    ``SHOWN_LINES`` matches are put in the TextArea (Textual's document work is
    per line), and each message is made printable only when it is shown. With
    nothing to show, the TextArea is hidden (empty, it would still draw a "1")
    and the count line says why.
    """

    DEFAULT_CSS = """
    MessageList { height: 1fr; }
    MessageList Input { height: 3; }
    MessageList TextArea { height: 1fr; }
    MessageList #count { height: 1; color: $text-muted; }
    """

    SHOWN_LINES = 2000

    def __init__(self, messages: Sequence[str], *, what: str, one: str, id: str,
                 total: int = 0) -> None:
        super().__init__(id=id)
        self._messages = messages
        # How many the server sent: the watchlist keeps the first ones (``messages``).
        self._total = max(total, len(messages))
        self._matches: Sequence[str] = messages
        self._what = what
        self._one = one
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder=f"search {self._what}", classes="search")
        yield Static(self._count_text(), id="count", markup=False)
        listing = TextArea(self._shown_text(), read_only=True, soft_wrap=False,
                           show_line_numbers=True)
        listing.display = bool(self._matches)
        yield listing

    def _shown_text(self) -> str:
        return _lines(self._matches[: self.SHOWN_LINES])

    def _count_text(self) -> str:
        total, shown = len(self._messages), len(self._matches)
        if not total:
            return f"No {self._what}"
        if not shown:
            typed = printable(self.query_one(Input).value, limit=80)
            return f"No {self._what} match '{typed}'"
        if shown == total and self._total > total:
            text = f"first {total:,} of {self._total:,} {self._what}"
        elif shown == total:
            text = f"{total} {self._one if total == 1 else self._what}"
        else:
            text = f"{shown} of {total} {self._what}"
            if self._total > total:
                text += f" (the first {total:,} of {self._total:,} are kept)"
        if shown > self.SHOWN_LINES:
            text += f" (the first {self.SHOWN_LINES} shown: search to narrow)"
        return text

    @property
    def text(self) -> str:
        """Every message matching the search (not only the lines shown)."""
        return _lines(self._matches)

    @on(Input.Changed, ".search")
    def _search_soon(self) -> None:
        # Debounced: a search over 100,000 lines on every keystroke would stutter.
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.15, self._search)

    def _search(self) -> None:
        needle = self.query_one(Input).value.casefold()
        self._matches = ([m for m in self._messages if needle in m.casefold()] if needle
                         else self._messages)
        listing = self.query_one(TextArea)
        listing.load_text(self._shown_text())
        listing.display = bool(self._matches)
        self.query_one("#count", Static).update(self._count_text())

    def focus_search(self) -> None:
        """Put the cursor in the search box."""
        self.query_one(Input).focus()

    def clear_search(self) -> None:
        """Empty the search box and show every message again, at once.

        Not left to the debounce: a `c` pressed right after must copy the whole list.
        """
        if self._timer is not None:
            self._timer.stop()
        self.query_one(Input).value = ""
        self._search()
