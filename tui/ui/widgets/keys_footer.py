"""The footer of the monitor: its keys, with ``? help`` pinned to the right edge.

Textual's footer lists the keys left to right and cuts what does not fit, so on
an 80-column terminal the last keys, help among them, were never on screen. The
key that explains every other key must always be there: this footer takes help
(and the command palette's key) out of the row and pins them to the right,
where nothing scrolls them away however narrow the terminal.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

__all__ = ["HELP_ACTION", "KeysFooter"]

HELP_ACTION = "help"
"""The app's action that opens the help screen."""


class KeysFooter(Footer):
    """A footer whose help and palette keys are always on screen, at the right edge."""

    DEFAULT_CSS = """
    KeysFooter #footer-pinned {
        dock: right;
        width: auto;
        height: 1;
        background: $footer-background;
        border-left: vkey $foreground 20%;
    }
    """

    def compose(self) -> ComposeResult:
        """Textual's keys without help and the palette; those two pinned at the right."""
        if not self._bindings_ready:
            return
        yield from self._row(super().compose())
        pinned = list(self._pinned())
        if pinned:
            with HorizontalGroup(id="footer-pinned"):
                yield from pinned

    def _row(self, keys: ComposeResult) -> Iterator[Widget]:
        for widget in keys:
            if isinstance(widget, FooterKey) and (
                    widget.action == HELP_ACTION or widget.has_class("-command-palette")):
                continue
            yield widget

    def _pinned(self) -> Iterator[FooterKey]:
        app = self.app
        active = self.screen.active_bindings
        # One key each (a remap may give help two keys; the first is enough here).
        wanted = [binding for _node, binding, enabled, _tip in active.values()
                  if binding.action == HELP_ACTION and enabled][:1]
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            palette = active.get(app.COMMAND_PALETTE_BINDING)
            if palette is not None and palette.enabled:
                wanted.append(palette.binding)
        for binding in wanted:
            # Lower case, like Textual's own "palette": these two are about the app itself.
            yield FooterKey(binding.key, app.get_key_display(binding),
                            binding.description.lower(), binding.action,
                            tooltip=binding.tooltip or binding.description,
                            ).data_bind(compact=Footer.compact)
