"""The first-run hint below the table: "? help  a add IDs  u upload", as keys are bound now.

Shown to a newcomer (nothing watched yet, or the demo) until a screen it names opens.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Static

#: What the hint names: (action, words). Keys come from the live bindings.
FIRST_RUN_HINT = (("help", "help"), ("add_ids", "add IDs"), ("upload", "upload"))


def key_of(screen: Screen[Any], action: str) -> str | None:
    """How the key of ``action`` is shown on ``screen`` (keymap applied), None when off."""
    for active in screen.active_bindings.values():
        if active.binding.action == action and active.enabled:
            return screen.app.get_key_display(active.binding)
    return None


def hint_text(screen: Screen[Any]) -> Text:
    """The hint's text: each key as bound now; an action switched off is left out."""
    text = Text()
    for action, words in FIRST_RUN_HINT:
        key = key_of(screen, action)
        if key is None:
            continue  # read-only: no upload
        if text:
            text.append("  ")
        text.append(key, style="bold")
        text.append(f" {words}")
    return text


def show(screen: Screen[Any], hint: Static) -> None:
    """Show the hint in ``hint`` (the line below the table)."""
    hint.update(hint_text(screen))
    hint.add_class("-shown")


def has_done_its_work(screen: Screen[Any], hint: Static) -> bool:
    """Hide the hint once a screen it names is open over ``screen``; True if it is."""
    # Those screens say so themselves (ENDS_FIRST_RUN_HINT): they are imported when first
    # opened, not at start.
    if not getattr(screen.app.screen, "ENDS_FIRST_RUN_HINT", False):
        return False
    hint.remove_class("-shown")
    return True
