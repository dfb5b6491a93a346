"""Saving an upload's report: ask where (never overwriting unasked), write, say so.

The report lists the files not accepted, one JSON object a line
(:meth:`~tui.core.upload.outcome.UploadOutcome.save_report`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from textual.screen import Screen

from tui.core.untrusted import printable
from tui.core.upload.outcome import UploadOutcome
from tui.ui.screens.text_prompt import QuestionModal, TextPromptModal
from tui.ui.widgets.upload_files import shown_folder

__all__ = ["default_report", "save_report"]


def default_report(state_dir: Path) -> str:
    """Where a report goes unless the person says otherwise (a new name each time)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = state_dir / "upload-reports"
    return shown_folder(folder / f"upload-{stamp}.jsonl")


async def save_report(screen: Screen[Any], outcome: UploadOutcome, default: str) -> None:
    """Ask for a path (``default`` offered), ask before replacing a file, write the
    report; every outcome is a toast. Runs in a worker of ``screen`` (it waits on modals)."""
    answer = await screen.app.push_screen_wait(TextPromptModal(
        "Save the report of the files not accepted (JSON Lines) to:",
        value=default,
        hint="~ is your home folder. Nothing is overwritten without asking."))
    if not answer or not answer.strip():
        return
    path = Path(os.path.expanduser(answer.strip()))
    if path.exists():
        replace = await screen.app.push_screen_wait(QuestionModal(
            f"{printable(str(path))} exists. Replace it?", yes="Replace", no="Keep it"))
        if not replace:
            screen.notify("Report not saved; the file was not touched.", markup=False)
            return
    try:
        lines = outcome.save_report(path)
    except OSError as error:
        screen.notify(f"The report could not be written to {path}: "
                      f"{error.strerror or error}", severity="error", markup=False,
                      timeout=10)
        return
    screen.notify(f"Report saved: {lines} files to {printable(str(path))}", markup=False)
