"""Deletes on a team store against the sandbox: claimed before they are sent, so a row a
colleague is already deleting is refused with their name and time, never sent twice."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tui.api.client import ConversionsClient
from tui.core.audit import AuditLog
from tui.core.deletion import DeleteOutcome, delete_conversions, describe
from tui.core.teamstore import TeamStore
from tui.sandbox.runner import SandboxServer

Opener = Callable[..., TeamStore]


@pytest.fixture
async def client(sandbox: SandboxServer) -> AsyncIterator[ConversionsClient]:
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=5.0) as api:
        yield api


def _deletes_sent(sandbox: SandboxServer, conversion_id: int) -> int:
    return int(sandbox.state.stats.by_route.get(f"DELETE /v1/conversions/{conversion_id}", 0))


async def test_a_row_a_colleague_is_deleting_is_refused_with_their_name(
        open_store: Opener, sandbox: SandboxServer, client: ConversionsClient,
        tmp_path: Path) -> None:
    dana, sam = open_store("dana"), open_store("sam")
    theirs, mine = (sandbox.state.add_conversion(status="Failed", frozen=True)
                    for _ in range(2))
    dana.add([theirs, mine])
    asked = time.time() - 120
    assert sam.claim_delete(theirs, asked) is None  # sam is deleting it
    with AuditLog(tmp_path / "audit.sqlite3") as audit:
        summary = await delete_conversions(client, dana, audit, [theirs, mine],
                                           profile_name="work", user="dana")
    refused, requested = summary.results
    assert refused.outcome is DeleteOutcome.REFUSED
    assert describe(refused) == (f"Refused: sam is already deleting it (asked at "
                                 f"{time.strftime('%H:%M', time.localtime(asked))}); not sent")
    assert _deletes_sent(sandbox, theirs) == 0  # never sent twice
    assert requested.outcome is DeleteOutcome.REQUESTED and _deletes_sent(sandbox, mine) == 1
    signed = dana.signatures([theirs, mine])
    assert signed[theirs]["delete_requested_by"] == "sam"  # sam's claim stays sam's
    assert signed[mine]["delete_requested_by"] == "dana"


async def test_a_delete_the_server_refuses_gives_the_claim_back(
        open_store: Opener, sandbox: SandboxServer, client: ConversionsClient,
        tmp_path: Path) -> None:
    dana, sam = open_store("dana"), open_store("sam")
    busy = sandbox.state.add_conversion(status="Processing", frozen=True)
    dana.add([busy])
    with AuditLog(tmp_path / "audit.sqlite3") as audit:
        summary = await delete_conversions(client, dana, audit, [busy],
                                           profile_name="work", user="dana")
    assert summary.results[0].outcome is DeleteOutcome.REFUSED  # 409: still Processing
    row = dana.get(busy)
    assert row is not None and row.delete_requested_at is None
    assert dana.signatures([busy])[busy]["delete_requested_by"] is None
    assert sam.claim_delete(busy, time.time()) is None  # free for a colleague to try
