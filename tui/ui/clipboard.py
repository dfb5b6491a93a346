"""Copy to the user's clipboard over SSH: OSC 52, wrapped for tmux, capped in size."""

from __future__ import annotations

import os
from typing import Any

from textual.app import App

from tui.core.clipboard import ClipboardTooLarge, inside_tmux, osc52_sequence
from tui.ui.textual_private import write_to_terminal


def copy_to_terminal_clipboard(app: App[Any], text: str) -> bool:
    """Write the OSC 52 sequence for ``text`` to the terminal; False (and a toast) if too big."""
    try:
        sequence = osc52_sequence(text, inside_tmux=inside_tmux(os.environ))
    except ClipboardTooLarge as error:
        app.notify(f"Not copied: {error}", severity="warning", markup=False)
        return False
    write_to_terminal(app, sequence.decode("ascii"))
    return True
