"""The upload path under the client's bounds: an answer cut off is an unknown outcome.

A batch answer that never ends (or inflates without end) is cut off at the client's cap;
the server may have created the records meanwhile, so the files are UNKNOWN, named, and
never sent again: the same as a batch whose answer was lost.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.core.test_upload import RecordingAudit, _outcomes, _plan, _posts, _uploader
from tui.api.client import ConversionsClient
from tui.core.watchlist import Watchlist
from tui.sandbox import hostile
from tui.sandbox.runner import SandboxServer

CAP = 1024 * 1024


@pytest.mark.parametrize("fault", ["endless_ids", "gzip_bomb_ids"])
async def test_a_batch_answer_past_the_cap_is_unknown_and_not_sent_again(
        sandbox: SandboxServer, tmp_path: Path, fault: str) -> None:
    plan = _plan(tmp_path / "in", 2)
    audit = RecordingAudit()
    sandbox.faults.update({fault: True})
    try:
        with Watchlist(tmp_path / "watch.sqlite3") as watchlist:
            async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=10,
                                         max_batch_bytes=CAP) as client:
                outcome = await _uploader(client, watchlist, audit).run(plan)
            watched = watchlist.ids()
    finally:
        sandbox.faults.clear()
    assert _outcomes(outcome) == ["unknown", "unknown"]
    assert _posts(sandbox) == 1  # never posted again
    reason = outcome.results[0].reasons[0]
    assert "cut off" in reason, reason
    assert "may or may not have created" in reason
    assert watched == []  # nothing watched on an answer nobody could read
    assert [entry["outcome"] for entry in audit.entries] == ["unknown (2 files)"]
    # The client hung up at the cap: the sandbox stops sending (bounded wait, no sleep
    # of a fixed length deciding anything).
    deadline = time.monotonic() + 30
    while hostile.answers_in_progress() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert hostile.answers_in_progress() == 0, "the hostile answer went on after the cap"
