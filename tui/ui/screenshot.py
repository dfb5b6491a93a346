"""The palette's Screenshot: an SVG picture of the screen, saved where the app keeps files.

Textual's own command saves into a Downloads folder that a server reached over SSH
seldom has, and then only says "Failed to save screenshot". Here the folder is the
one :class:`tui.core.paths.AppPaths` names, made when missing, and the toast gives
the full path (or the reason it could not be written).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from textual.app import App

__all__ = ["save_screenshot"]


def _free_name(folder: Path, stem: str) -> Path:
    candidate = folder / f"{stem}.svg"
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{number}.svg"
        number += 1
    return candidate


def save_screenshot(app: App[Any], folder: Path, *, now: datetime | None = None) -> Path:
    """Write the screen as SVG into ``folder`` (made private if missing); return the file.

    Raises OSError when the folder or the file cannot be written.
    """
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")
    path = _free_name(folder, f"conversions-tui_{stamp}")
    svg = app.export_screenshot()
    # "x": never overwrite, even if a file of that name appeared since the check.
    with open(path, "x", encoding="utf-8") as file:
        file.write(svg)
    if os.name == "posix":
        os.chmod(path, 0o600)  # a picture of the watchlist is as private as the watchlist
    return path
