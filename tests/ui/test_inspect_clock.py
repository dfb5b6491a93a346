"""Inspect says when the server's clock seems ahead (an upload time in the future)."""

from __future__ import annotations

import io
import re
from typing import Any

from rich.console import Console

from tui.core.watchlist import WatchedConversion
from tui.ui.screens.inspect import InspectModal

CHECKED = 1_750_000_000.0  # 2025-06-15T15:06:40Z


def plain(renderable: Any) -> str:
    console = Console(width=200, file=io.StringIO(), color_system=None)
    with console.capture() as captured:
        console.print(renderable)
    return captured.get()


def watched(upload_date: str | None) -> WatchedConversion:
    return WatchedConversion(
        id=3, file_name="orders.csv", data_source_type="Csv", status="Processing",
        upload_date=upload_date, warnings=(), errors=(), metadata={}, first_seen=CHECKED,
        last_checked=CHECKED, last_changed=CHECKED, note=None, last_problem=None,
        problem_count=0, delete_requested_at=None, deleted_at=None, not_found=False, raw=None,
        entered_seen=True)


def test_an_upload_an_hour_after_its_answer_says_the_server_clock_is_ahead() -> None:
    text = plain(InspectModal(watched("2025-06-15T16:05:40Z"), [], now=CHECKED + 5)._overview())
    assert "The server's clock seems ahead by about 59 minutes" in text, text
    # Durations stay on the local clock: never negative.
    assert re.search(r"In status for\s+5 s", text), text
    assert not re.search(r"-\d+ (s|min|h)", text), text


def test_nothing_is_said_when_the_upload_is_in_the_past() -> None:
    text = plain(InspectModal(watched("2025-06-15T14:00:00Z"), [], now=CHECKED + 5)._overview())
    assert "clock" not in text, text
