"""The key a person presses for an action, as the user's keymap has it, for messages.

A toast or banner that says "press z to undo" must name the key that works: a
user may have remapped the binding (``[keymap]`` in the config, by binding id).
"""

from __future__ import annotations

from textual.dom import DOMNode

__all__ = ["key_for_action"]


def key_for_action(node: DOMNode, action: str, fallback: str) -> str:
    """The first key bound to ``action`` on ``node`` (keymap applied), as the footer
    shows it; ``fallback`` when nothing is bound to it there."""
    bindings = node._bindings.copy()
    app = node.app
    keymap = getattr(app, "_keymap", None)
    if keymap:
        bindings.apply_keymap(keymap)
    for key_bindings in bindings.key_to_bindings.values():
        for binding in key_bindings:
            if binding.action == action:
                return app.get_key_display(binding)
    return fallback
