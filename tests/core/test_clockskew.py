"""A server clock ahead of ours: said once in Inspect, never a negative duration."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tui.api.client import ConversionsClient
from tui.core.clockskew import describe_clock_skew, server_clock_ahead
from tui.core.export import row_record
from tui.core.triage import time_in_statuses, triage_markdown
from tui.core.watchlist import PollResult, Watchlist
from tui.sandbox.runner import SandboxServer

RECEIVED = 1_750_000_000.0  # 2025-06-15T15:06:40Z


@pytest.mark.parametrize(("upload", "ahead"), [
    ("2025-06-15T16:06:40Z", 3600.0),  # an hour ahead
    ("2025-06-15T16:06:40", 3600.0),  # no zone: UTC, as the API sends
    ("2025-06-15T18:06:40+02:00", 3600.0),  # another zone, the same instant
    ("2025-06-15T15:08:41Z", 121.0),
])
def test_an_upload_later_than_its_answer_means_the_server_clock_is_ahead(
        upload: str, ahead: float) -> None:
    assert server_clock_ahead(upload, RECEIVED) == pytest.approx(ahead)


@pytest.mark.parametrize("upload", [
    "2025-06-15T15:07:30Z",  # 50 s: clocks a little apart, not worth a word
    "2025-06-15T14:06:40Z",  # in the past: as it should be
    "not a date", "", None,
])
def test_nothing_is_said_within_a_minute_or_without_a_readable_time(
        upload: str | None) -> None:
    assert server_clock_ahead(upload, RECEIVED) is None
    assert server_clock_ahead("2025-06-15T16:06:40Z", None) is None  # never answered


def test_the_words_say_about_how_many_minutes() -> None:
    assert describe_clock_skew(3600.0) == "The server's clock seems ahead by about 60 minutes"
    assert describe_clock_skew(61.0) == "The server's clock seems ahead by about 1 minute"
    assert describe_clock_skew(150.0) == "The server's clock seems ahead by about 2 minutes"


async def test_a_sandbox_an_hour_ahead_is_noticed_and_no_duration_goes_negative(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    sandbox.state.clock.advance(3600)
    try:
        conversion = sandbox.state.add_conversion(status="Processing", frozen=True)
        async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=5.0) as api:
            envelope = await api.get_status(conversion)
    finally:
        sandbox.state.clock.reset()
    with Watchlist(tmp_path / "watch.sqlite3") as watchlist:
        watchlist.add([conversion])
        received = time.time()
        watchlist.record_results([PollResult(conversion, received, envelope)])
        row = watchlist.get(conversion)
        history = watchlist.history(conversion)
    assert row is not None
    ahead = server_clock_ahead(row.upload_date, row.last_checked)
    assert ahead is not None and 3500 < ahead <= 3600 + 5
    # Every duration the app derives is on the local clock and at least zero.
    now = received + 1
    assert row_record(row, now, history)["time_in_status_s"] >= 0
    assert all(span.seconds >= 0 for span in time_in_statuses(history, now))
    summary = triage_markdown([row], {conversion: history}, now=now)
    assert not re.search(r"-\d+ (s|min|h|d)\b", summary), summary
    assert re.search(r"\(for at least \d+ s\)", summary), summary
