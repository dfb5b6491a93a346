"""WatchService: the one owner of the watched conversions (issue 12), against the sandbox.

Every write through the service (watch, unwatch, undo, note, upload, delete) and every
poll result reaches the one callback as a :class:`WatchChange`; an ID unwatched through
the service never comes back from an answer already on its way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import pytest

from tests.core.test_poller import quick, until
from tui.api.client import ConversionsClient
from tui.api.models import StatusEnvelope
from tui.core.audit import AuditLog
from tui.core.deletion import DeleteOutcome, DeleteResult
from tui.core.polling.lock import PollerLock
from tui.core.watching import WatchChange, WatchService
from tui.core.watchlist import Watchlist
from tui.core.watchstore import StoreRefused
from tui.sandbox.runner import SandboxServer


class GatedSource:
    """The sandbox client, but the status checks of ``held`` wait until ``gate`` opens."""

    def __init__(self, client: ConversionsClient) -> None:
        self.client = client
        self.held: set[int] = set()
        self.gate = asyncio.Event()
        self.waiting: set[int] = set()

    async def get_status(self, conversion_id: int) -> StatusEnvelope:
        if conversion_id in self.held:
            self.waiting.add(conversion_id)
            await self.gate.wait()
        return await self.client.get_status(conversion_id)


class Service:
    """A :class:`WatchService` on a fresh file, with what it emitted."""

    def __init__(self, tmp_path: Path, *, name: str = "watch.sqlite3",
                 lock: bool = False) -> None:
        self.watchlist = Watchlist(tmp_path / name)
        self.audit = AuditLog(tmp_path / f"{name}.audit")
        self.changes: list[WatchChange] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.service = WatchService(
            self.watchlist, self.audit, profile_name="work", user=lambda: "dana@example.com",
            on_change=self.changes.append, settings=quick(),
            poller_lock=PollerLock(self.watchlist.path) if lock else None,
            follow_interval=0.05, spawn=self._spawn)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(coro, name=name))

    def rows_of(self, conversion_id: int) -> list[Any]:
        """Every emitted row of ``conversion_id``, oldest first."""
        return [row for c in self.changes for row in c.rows if row.id == conversion_id]

    def last(self, conversion_id: int) -> Any:
        rows = self.rows_of(conversion_id)
        return rows[-1] if rows else None

    async def close(self) -> None:
        """Stop polling, wait for the poller to end, then close the files."""
        self.service.stop()
        if self.tasks:
            await asyncio.wait_for(asyncio.gather(*self.tasks), 30)
        self.watchlist.close()
        self.audit.close()


@pytest.fixture
async def client(sandbox: SandboxServer) -> AsyncIterator[ConversionsClient]:
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=10) as api:
        yield api


@pytest.fixture
async def made(tmp_path: Path) -> AsyncIterator[Service]:
    made = Service(tmp_path)
    try:
        yield made
    finally:
        await made.close()


def described(made: Service) -> str:
    return "; ".join(f"rows={[(r.id, r.status, r.note) for r in c.rows]} "
                     f"removed={c.removed} added={c.added} elsewhere={c.elsewhere}"
                     for c in made.changes[-8:]) or "nothing emitted"


async def test_watch_emits_the_rows_then_the_poll_result_comes_the_same_way(
        sandbox: SandboxServer, client: ConversionsClient, made: Service) -> None:
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    made.service.set_client(client)
    added = made.service.watch([conv, conv], note="T-1")
    assert added == [conv]
    first = made.changes[-1]
    assert first.added == (conv,) and not first.elsewhere and first.connectivity is None
    assert [(r.id, r.note, r.status) for r in first.rows] == [(conv, "T-1", None)]
    await until(lambda: (row := made.last(conv)) is not None and row.status == "Processing",
                lambda: described(made))
    polled = next(c for c in made.changes if any(r.status for r in c.rows))
    assert polled.elsewhere and polled.connectivity is not None
    assert [(c.id, c.current) for c in polled.changes] == [(conv, "Processing")]
    assert made.watchlist.ids() == [conv]


async def test_unwatch_and_undo_go_through_one_message_and_are_audited(
        sandbox: SandboxServer, client: ConversionsClient, made: Service) -> None:
    conv, other = (sandbox.state.add_conversion(status="Failed", frozen=True)
                   for _ in range(2))
    made.service.set_client(client)
    made.service.watch([conv, other])
    made.service.set_note([conv], "INC-7")
    assert made.last(conv).note == "INC-7"
    await until(lambda: made.last(conv).status == "Failed", lambda: described(made))
    history = made.watchlist.history(conv)

    assert made.service.unwatch([conv]) == 1
    gone = made.changes[-1]
    assert gone.removed == (conv,) and not gone.rows and not gone.elsewhere
    assert conv not in made.watchlist and conv in made.service.unwatched_here
    scheduler = made.service.scheduler
    assert scheduler is not None and conv not in scheduler.watched_ids()

    assert made.service.undo_unwatch([conv]) == [conv]
    back = made.changes[-1]
    assert back.added == (conv,) and [(r.id, r.note, r.status) for r in back.rows] == [
        (conv, "INC-7", "Failed")]
    assert made.watchlist.history(conv) == history
    assert conv in scheduler.watched_ids() and conv not in made.service.unwatched_here
    before = len(made.changes)
    assert made.service.undo_unwatch([conv]) == []  # watched again already: nothing
    assert len(made.changes) == before
    assert [(e.action, e.ids, e.outcome, e.user) for e in reversed(made.audit.entries())] == [
        ("unwatch", (conv,), "done (local only)", "dana@example.com"),
        ("watch", (conv,), "undo of unwatch (local only)", "dana@example.com")]


async def test_an_answer_on_its_way_never_brings_an_unwatched_row_back(
        sandbox: SandboxServer, client: ConversionsClient, made: Service) -> None:
    conv, other = (sandbox.state.add_conversion(status="Processing", frozen=True)
                   for _ in range(2))
    source = GatedSource(client)
    source.held.add(conv)
    made.service.set_client(source)
    made.service.watch([conv, other])
    await until(lambda: conv in source.waiting, "the check of the row is on its way")
    made.service.unwatch([conv])
    unwatched_at = len(made.changes)
    source.gate.set()
    await until(lambda: made.service.scheduler is not None
                and made.service.scheduler.stats.answers >= 2, "both answers landed")
    # Later answers for the other row keep coming: the unwatched one is in none of them.
    sandbox.state.set_status(other, "Completed", frozen=True)
    await until(lambda: made.last(other).status == "Completed", lambda: described(made))
    late = [row for c in made.changes[unwatched_at:] for row in c.rows if row.id == conv]
    assert late == [], described(made)
    assert conv not in made.watchlist


async def test_a_delete_answer_for_a_row_unwatched_meanwhile_is_not_shown(
        sandbox: SandboxServer, client: ConversionsClient, made: Service) -> None:
    conv = sandbox.state.add_conversion(status="Completed", frozen=True)
    made.service.watch([conv])
    sandbox.faults.latency = 0.3
    outcomes: list[DeleteResult] = []
    deleting = asyncio.create_task(made.service.delete(client, [conv],
                                                       on_outcome=outcomes.append))
    await until(lambda: sandbox.state.request_count >= 1, "the delete was sent")
    made.service.unwatch([conv])
    unwatched_at = len(made.changes)
    summary = await deleting
    assert [r.outcome for r in summary.results] == [DeleteOutcome.REQUESTED]
    assert outcomes == [] and made.changes[unwatched_at:] == []
    assert conv not in made.watchlist  # a delete never re-adds a row unwatched here


async def test_a_delete_is_followed_until_deleted_and_confirmed_in_the_audit(
        sandbox: SandboxServer, client: ConversionsClient, made: Service) -> None:
    conv = sandbox.state.add_conversion(status="Completed")
    made.service.set_client(client)
    made.service.watch([conv])
    await until(lambda: made.last(conv).status == "Completed", lambda: described(made))
    outcomes: list[DeleteResult] = []
    summary = await made.service.delete(client, [conv], on_outcome=outcomes.append)
    assert [r.outcome for r in outcomes] == [DeleteOutcome.REQUESTED] == [
        r.outcome for r in summary.results]
    marked = made.last(conv)
    assert marked.delete_requested_at is not None  # shown before any poll
    sandbox.state.advance(6)  # past DeletionPending: a poll sees Deleted
    await until(lambda: any(e.outcome == "confirmed" for e in made.audit.entries()),
                lambda: f"{described(made)}; audit {made.audit.entries()}")
    assert made.last(conv).status == "Deleted"


async def test_an_upload_brings_a_not_found_id_back_at_once_with_its_note(
        sandbox: SandboxServer, client: ConversionsClient, made: Service) -> None:
    future = sandbox.state.add_conversion(status="Processing", frozen=True) + 1
    made.service.set_client(client)
    made.service.watch([future])
    await until(lambda: (row := made.last(future)) is not None and row.not_found,
                lambda: described(made))
    assert sandbox.state.add_conversion(status="Queued", frozen=True) == future
    sink = made.service.upload_sink(on_accepted=(heard := []).append)
    assert sink.add([future], note="Uploaded, ref T-9") == []  # watched already
    assert heard == [[future]]
    assert made.last(future).note == "Uploaded, ref T-9"
    # Not found rows are re-checked every ten minutes: only the upload's check can do it.
    await until(lambda: made.last(future).status == "Queued", lambda: described(made))
    assert not made.last(future).not_found


async def test_without_a_poller_the_cli_can_watch_and_unwatch(tmp_path: Path) -> None:
    made = Service(tmp_path)
    try:
        assert made.service.watch([5, 6]) == [5, 6]
        assert made.service.unwatch([6, 7]) == 1
        assert made.service.uploaded([8], note="ref X") == [8]
        assert made.watchlist.ids() == [5, 8] and made.watchlist.get(8).note == "ref X"
        made.service.refresh()  # nothing polls: nothing happens, no error
        assert [c.removed for c in made.changes] == [(), (6, 7), ()]
    finally:
        await made.close()


async def test_another_process_adding_back_an_id_unwatched_here_shows_it_again(
        sandbox: SandboxServer, client: ConversionsClient, made: Service,
        tmp_path: Path) -> None:
    conv = sandbox.state.add_conversion(status="Completed", frozen=True)
    made.service.set_client(client)
    made.service.watch([conv])
    await until(lambda: made.last(conv).status == "Completed", lambda: described(made))
    made.service.unwatch([conv])
    with Watchlist(tmp_path / "watch.sqlite3") as cli:  # `conversions-tui watch` elsewhere
        cli.add([conv])
    await until(lambda: any(c.elsewhere and conv in c.added for c in made.changes),
                lambda: described(made))
    assert conv not in made.service.unwatched_here
    await until(lambda: (row := made.last(conv)) is not None and row.status == "Completed",
                lambda: described(made))


async def test_a_second_service_on_the_file_follows_then_takes_over(
        sandbox: SandboxServer, client: ConversionsClient, tmp_path: Path) -> None:
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    leader = Service(tmp_path, lock=True)
    follower = Service(tmp_path, lock=True)
    try:
        leader.service.set_client(client)
        assert leader.service.scheduler is not None
        follower.service.load()
        follower.service.set_client(client)
        assert follower.service.following and follower.service.scheduler is None
        assert follower.service.poller_holder is not None
        leader.service.watch([conv])
        await until(lambda: (row := follower.last(conv)) is not None
                    and row.status == "Processing", lambda: described(follower))
        assert all(c.elsewhere for c in follower.changes)
        leader.service.stop()
        await until(lambda: any(c.took_over for c in follower.changes),
                    lambda: described(follower))
        assert not follower.service.following and follower.service.scheduler is not None
        assert conv in follower.service.scheduler.watched_ids()
    finally:
        await follower.close()
        await leader.close()


async def test_a_paused_service_lets_the_other_on_the_file_poll_and_follows_it(
        sandbox: SandboxServer, client: ConversionsClient, tmp_path: Path) -> None:
    """The team's rule holds for a personal file too (tui/core/polling/role.py): only a
    monitor that polls holds the lock; paused, it follows; resumed, it waits its turn."""
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    leader = Service(tmp_path, lock=True)
    other = Service(tmp_path, lock=True)
    try:
        leader.service.set_client(client)
        leader.service.watch([conv])
        other.service.load()
        other.service.set_client(client)
        assert other.service.following
        await until(lambda: (row := other.last(conv)) is not None
                    and row.status == "Processing", lambda: described(other))
        leader.service.pause()
        await until(lambda: any(c.took_over for c in other.changes), lambda: described(other))
        assert other.service.scheduler is not None
        await until(lambda: leader.service.following, lambda: described(leader))
        assert leader.service.paused and leader.service.scheduler is None
        sandbox.state.set_status(conv, "Completed")  # polled by the other, shown by both
        await until(lambda: (row := leader.last(conv)) is not None
                    and row.status == "Completed", lambda: described(leader))
        leader.service.resume()  # the other still polls: the leader follows on
        other.service.stop()
        await until(lambda: any(c.took_over for c in leader.changes),
                    lambda: described(leader))
        assert leader.service.scheduler is not None and not leader.service.paused
    finally:
        await other.close()
        await leader.close()


async def test_a_follower_does_not_echo_its_own_unwatch_as_done_elsewhere(
        sandbox: SandboxServer, client: ConversionsClient, tmp_path: Path) -> None:
    """The file's change feed shows a follower its own unwatch too: that is not news
    ("unwatched elsewhere"), and the row must not come back from the leader's results."""
    conv, busy = (sandbox.state.add_conversion(status="Processing", frozen=True)
                  for _ in range(2))
    leader = Service(tmp_path, lock=True)
    follower = Service(tmp_path, lock=True)
    try:
        leader.service.set_client(client)
        leader.service.watch([conv, busy])
        follower.service.load()
        follower.service.set_client(client)
        assert follower.service.following
        await until(lambda: follower.last(conv) is not None, lambda: described(follower))
        follower.service.unwatch([conv])
        unwatched_at = len(follower.changes)
        # The leader drops it from polling once its own look at the file shows the unwatch.
        await until(lambda: leader.service.scheduler is not None
                    and conv not in leader.service.scheduler.watched_ids(),
                    "the leader stops polling the unwatched row")
        checks = sandbox.state.stats.by_route[f"GET /v1/conversions/{busy}/status"]
        await until(lambda: sandbox.state.stats.by_route[
            f"GET /v1/conversions/{busy}/status"] > checks + 2, "the leader polls on")
        seen = len(follower.changes)
        await until(lambda: len(follower.changes) > seen, lambda: described(follower))
        after = follower.changes[unwatched_at:]
        assert not [c for c in after if conv in c.removed or
                    any(row.id == conv for row in c.rows)], described(follower)
    finally:
        await follower.close()
        await leader.close()


class _AwayAtFirstLook(Watchlist):
    """A store that refuses the poller's first read (the team database going away just as
    a monitor takes the lead), then answers."""

    refusals = 1

    def feed_seq(self) -> int:
        if self.refusals:
            self.refusals -= 1
            raise StoreRefused("Could not read the change counter: the team database "
                               "cannot be reached (test).")
        return super().feed_seq()


async def test_a_store_refusing_as_polling_starts_hands_the_lead_back_then_polls(
        sandbox: SandboxServer, client: ConversionsClient, tmp_path: Path) -> None:
    """Seen under load with a team store: the poller's task died with the store's error
    ("Background task poller failed") and nothing polled after. It follows instead, and
    leads once the store answers."""
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    made = Service(tmp_path, lock=True)
    made.watchlist.close()
    made.watchlist = _AwayAtFirstLook(tmp_path / "watch.sqlite3")
    made.service = WatchService(
        made.watchlist, made.audit, profile_name="work", user=lambda: "dana@example.com",
        on_change=made.changes.append, settings=quick(),
        poller_lock=PollerLock(made.watchlist.path), follow_interval=0.05,
        spawn=made._spawn)
    try:
        made.service.watch([conv])
        made.service.set_client(client)
        await until(lambda: made.service.scheduler is not None
                    and (row := made.last(conv)) is not None and row.status == "Processing",
                    lambda: f"refusals left {made.watchlist.refusals}; {described(made)}")
        assert all(not t.done() or t.exception() is None for t in made.tasks), [
            t.exception() for t in made.tasks if t.done()]
    finally:
        await made.close()
