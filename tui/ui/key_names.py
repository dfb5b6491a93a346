"""The key a person presses for an action, as the user's keymap has it, for messages.

A toast or banner that says "press z to undo" must name the key that works: a
user may have remapped the binding (``[keymap]`` in the config, by binding id).
"""

from __future__ import annotations

from textual.dom import DOMNode

from tui.ui.textual_private import bindings_with_keymap

__all__ = ["key_for_action"]


def key_for_action(node: DOMNode, action: str, fallback: str) -> str:
    """The first key bound to ``action`` on ``node`` (keymap applied), as the footer
    shows it; ``fallback`` when nothing is bound to it there."""
    app = node.app
    for key_bindings in bindings_with_keymap(node).key_to_bindings.values():
        for binding in key_bindings:
            if binding.action == action:
                return app.get_key_display(binding)
    return fallback
