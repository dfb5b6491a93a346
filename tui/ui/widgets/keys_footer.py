"""The footer of the monitor: its keys, with ``? help`` pinned to the right edge.

Textual's footer lists the keys left to right and cuts what does not fit, so on
an 80-column terminal the last keys, help among them, were never on screen. The
key that explains every other key must always be there: this footer takes help
(and the command palette's key) out of the row and pins them to the right,
where nothing scrolls them away however narrow the terminal.

The pinned keys are one widget, not a container of keys: a recompose (the
footer redoes itself whenever the bindings change) then swaps them in one step
with the rest, and never shows them without the row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer

from tui.ui.textual_private import FooterKey, footer_bindings_ready

__all__ = ["HELP_ACTION", "KeysFooter", "PinnedKey", "PinnedKeys"]

HELP_ACTION = "help"
"""The app's action that opens the help screen."""


@dataclass(frozen=True)
class PinnedKey:
    """One pinned key: what to press, how it is shown, what it does (in words)."""

    key: str
    display: str
    description: str


class PinnedKeys(Widget):
    """Help and palette at the right edge of the footer; a click presses the key under it."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"footer-key--key", "footer-key--description"}

    DEFAULT_CSS = """
    PinnedKeys {
        dock: right;
        width: auto;
        height: 1;
        padding-right: 1;
        background: $footer-item-background;
        border-left: vkey $foreground 20%;
        .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        &:hover { pointer: pointer; }
    }
    """

    def __init__(self, keys: list[PinnedKey]) -> None:
        super().__init__()
        self.keys = keys

    def _parts(self) -> Iterator[tuple[PinnedKey, str, str]]:
        # As Textual's footer keys are drawn: " ? " then "help ".
        for key in self.keys:
            yield key, f" {key.display} ", f"{key.description} "

    def render(self) -> Text:
        """Each key bold in the key colour, then its description."""
        key_style = self.get_component_rich_style("footer-key--key")
        description_style = self.get_component_rich_style("footer-key--description")
        text = Text(no_wrap=True, end="")
        for _key, shown, words in self._parts():
            text.append(shown, key_style)
            text.append(words, description_style)
        return text

    def key_at(self, x: int) -> str | None:
        """The key drawn at cell ``x`` of the content (None past the last one)."""
        start = 0
        for key, shown, words in self._parts():
            start += cell_len(shown) + cell_len(words)
            if x < start:
                return key.key
        return None

    def on_mouse_down(self, event: events.MouseDown) -> None:
        """Press the key that was clicked, as Textual's footer keys do."""
        offset = event.get_content_offset(self)
        key = self.key_at(offset.x) if offset is not None else None
        if key is not None:
            self.app.simulate_key(key)


class KeysFooter(Footer):
    """A footer whose help and palette keys are always on screen, at the right edge."""

    def compose(self) -> ComposeResult:
        """Textual's keys without help and the palette; those two pinned at the right."""
        if not footer_bindings_ready(self):
            return
        for widget in super().compose():
            if isinstance(widget, FooterKey) and (
                    widget.action == HELP_ACTION or widget.has_class("-command-palette")):
                continue
            yield widget
        pinned = self._pinned()
        if pinned:
            yield PinnedKeys(pinned)

    def _pinned(self) -> list[PinnedKey]:
        app = self.app
        active = self.screen.active_bindings
        # One key each (a remap may give help two keys; the first is enough here).
        bindings = [binding for _node, binding, enabled, _tip in active.values()
                    if binding.action == HELP_ACTION and enabled][:1]
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            palette = active.get(app.COMMAND_PALETTE_BINDING)
            if palette is not None and palette.enabled:
                bindings.append(palette.binding)
        # Lower case, like Textual's own "palette": these two are about the app itself.
        return [PinnedKey(binding.key, app.get_key_display(binding),
                          binding.description.lower()) for binding in bindings]
