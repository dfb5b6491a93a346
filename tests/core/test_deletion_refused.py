"""A store that refuses during a delete (the team database away, issue 15): the store's
own sentence comes out, never an ExceptionGroup, and nothing more is sent.

The store here is the SQLite watchlist with reads refused from a chosen ID on (what the
team store does once its database is away); the API is the sandbox over loopback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.core.test_deletion import PROFILE, audit, client, server_status, watchlist
from tui.api.client import ConversionsClient
from tui.core.audit import AuditLog
from tui.core.deletion import DeleteOutcome, delete_conversions
from tui.core.watchlist import Watchlist
from tui.core.watchstore import StoreRefused
from tui.sandbox.runner import SandboxServer

__all__ = ["audit", "client", "watchlist"]  # the fixtures, shared with test_deletion

AWAY = "Could not read the watchlist: the team database db:5432/team cannot be reached"


class AwayFrom:
    """``store``, refusing every read from the ``n``-th on (the database gone then)."""

    def __init__(self, store: Watchlist, n: int) -> None:
        self._store = store
        self._left = n
        self.reads = 0

    def get(self, conversion_id: int) -> Any:
        self.reads += 1
        if self.reads >= self._left:
            raise StoreRefused(AWAY)
        return self._store.get(conversion_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def test_a_store_away_from_the_start_is_its_own_sentence_and_nothing_is_sent(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: AuditLog, tmp_path: Path) -> None:
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(3)]
    watchlist.add(ids)
    with pytest.raises(StoreRefused, match="cannot be reached") as caught:
        await delete_conversions(client, AwayFrom(watchlist, 1), audit, ids,  # type: ignore[arg-type]
                                 profile_name=PROFILE, user="Ada Support")
    assert not isinstance(caught.value, BaseExceptionGroup)
    assert [server_status(sandbox, i) for i in ids] == ["Completed"] * 3  # nothing sent
    outcomes = {entry.ids[0]: entry.outcome for entry in audit.entries()}
    assert outcomes == dict.fromkeys(ids, DeleteOutcome.SKIPPED.value)


async def test_a_store_gone_mid_delete_stops_the_rest_and_keeps_what_was_sent(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: AuditLog) -> None:
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(3)]
    watchlist.add(ids)
    summary = await delete_conversions(client, AwayFrom(watchlist, 2), audit, ids,  # type: ignore[arg-type]
                                       profile_name=PROFILE, user="Ada Support",
                                       concurrency=1)
    outcomes = [result.outcome for result in summary.results]
    assert outcomes == [DeleteOutcome.REQUESTED, DeleteOutcome.SKIPPED,
                        DeleteOutcome.SKIPPED], summary.results
    assert all("cannot be reached" in r.reason for r in summary.results[1:])
    assert [server_status(sandbox, i) for i in ids] == [
        "DeletionPending", "Completed", "Completed"]
