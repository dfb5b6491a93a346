"""Deleting conversions against the real sandbox, with a real watchlist and audit log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.waiting import until
from tui.api.client import ConversionsClient
from tui.api.models import StatusEnvelope
from tui.core.audit import AuditLog, record_confirmed_deletions
from tui.core.deletion import (
    DeleteOutcome,
    DeleteResult,
    DeleteSummary,
    delete_conversions,
    describe,
)
from tui.core.statuses import is_purged
from tui.core.watchlist import PollResult, Watchlist
from tui.sandbox.runner import SandboxServer

PROFILE = "support-eu"


@pytest.fixture
def watchlist(tmp_path: Path) -> Iterator[Watchlist]:
    with Watchlist(tmp_path / "watchlist.sqlite3") as store:
        yield store


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditLog]:
    log = AuditLog(tmp_path / "audit.sqlite3")
    yield log
    log.close()


@pytest.fixture
async def client(sandbox: SandboxServer) -> AsyncIterator[ConversionsClient]:
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=5.0) as api:
        yield api


def audited(audit: AuditLog) -> dict[int, tuple[str, str]]:
    """conversion id -> (outcome word, detail) of every delete entry."""
    found: dict[int, tuple[str, str]] = {}
    for entry in audit.entries():
        assert entry.action == "delete" and len(entry.ids) == 1
        assert entry.profile == PROFILE and entry.user == "Ada Support"
        found.setdefault(entry.ids[0], (entry.outcome, entry.detail or ""))  # newest first
    return found


async def run(client: Any, watchlist: Watchlist, audit: AuditLog, ids: list[int],
              **options: Any) -> DeleteSummary:
    return await delete_conversions(client, watchlist, audit, ids, profile_name=PROFILE,
                                    user="Ada Support", **options)


def server_status(sandbox: SandboxServer, conversion_id: int) -> str | None:
    snapshot = sandbox.state.get(conversion_id)
    return None if snapshot is None else snapshot.status


async def test_bulk_delete_refuses_processing_and_marks_the_rest(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    state = sandbox.state
    done = [state.add_conversion(status=word) for word in ("Completed", "Failed", "Uploaded")]
    busy = [state.add_conversion(status="Processing", frozen=True) for _ in range(2)]
    ids = [done[0], busy[0], done[1], busy[1], done[2]]
    watchlist.add(ids)
    seen: list[DeleteResult] = []

    summary = await run(client, watchlist, audit, ids, concurrency=2, on_outcome=seen.append)

    assert [result.id for result in summary.results] == ids
    assert sorted(result.id for result in seen) == sorted(ids)
    assert [result.id for result in summary.requested] == done
    assert [result.id for result in summary.refused] == busy
    assert summary.failed == []
    assert summary.sentence() == "3 marked for deletion, 2 refused (still Processing)"
    for result in summary.refused:
        assert result.status == "Processing"
        assert describe(result) == ("Refused: still Processing: wait until it completes "
                                    "or fails, then delete")
    for conversion_id in done:
        assert server_status(sandbox, conversion_id) == "DeletionPending"
        row = watchlist.get(conversion_id)
        assert row is not None and row.delete_requested_at is not None
    for conversion_id in busy:
        assert server_status(sandbox, conversion_id) == "Processing"
        row = watchlist.get(conversion_id)
        assert row is not None and row.delete_requested_at is None
    entries = audited(audit)
    assert {conversion_id: entries[conversion_id][0] for conversion_id in ids} == {
        **dict.fromkeys(done, "requested"), **dict.fromkeys(busy, "refused")}
    assert "still Processing" in entries[busy[0]][1]


async def test_deleted_answers_410_and_unknown_404(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    gone = sandbox.state.add_conversion(status="Deleted")
    unknown = 987_654
    watchlist.add([gone, unknown])

    summary = await run(client, watchlist, audit, [gone, unknown])

    first, second = summary.results
    assert (first.outcome, first.reason) == (DeleteOutcome.ALREADY_DELETED,
                                             "was already deleted on the server, not by "
                                             "this request")
    assert describe(first) == first.reason  # not "Already deleted: was already deleted"
    assert (second.outcome, second.reason) == (DeleteOutcome.NOT_FOUND,
                                               "the server does not know this ID")
    assert summary.sentence() == "1 already deleted, 1 not found"
    row = watchlist.get(unknown)
    assert row is not None and row.not_found
    assert audited(audit) == {gone: ("already_deleted", first.reason),
                              unknown: ("not_found", second.reason)}


async def poll(client: ConversionsClient, watchlist: Watchlist, audit: AuditLog,
               conversion_id: int, at: float) -> list[int]:
    """One status check of ``conversion_id`` as the monitor does it: recorded, then its
    confirmations of our deletes audited. Returns the IDs confirmed."""
    result = PollResult(conversion_id, at, envelope=await client.get_status(conversion_id))
    changes = watchlist.record_results([result])
    return record_confirmed_deletions(audit, changes, watchlist.all(), profile=PROFILE,
                                      user="Ada Support")


async def test_410_deleted_by_someone_else_is_never_our_delete_confirmed(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    # The demo's colleague deletes a finished conversion between our last check (Completed)
    # and our delete: the server answers 410, and the next poll sees Deleted.
    gone = sandbox.state.add_conversion(status="Completed", frozen=True)
    watchlist.add([gone])
    assert await poll(client, watchlist, audit, gone, 1000.0) == []
    sandbox.state.set_status(gone, "Deleted")

    (result,) = (await run(client, watchlist, audit, [gone])).results

    assert result.outcome is DeleteOutcome.ALREADY_DELETED
    row = watchlist.get(gone)
    # Shown Deleted from the 410's own payload, and not as a delete of ours.
    assert row is not None and row.status == "Deleted" and row.delete_requested_at is None
    assert await poll(client, watchlist, audit, gone, 2000.0) == []
    assert audited(audit) == {gone: ("already_deleted", "was already deleted on the server, "
                                     "not by this request")}
    assert len(audit.entries()) == 1


async def test_410_after_our_own_request_confirms_it_once(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    # Our first delete was accepted (202); before a poll saw Deleted, d was pressed again.
    conv = sandbox.state.add_conversion(status="Completed", frozen=True)
    watchlist.add([conv])
    assert await poll(client, watchlist, audit, conv, 1000.0) == []
    (first,) = (await run(client, watchlist, audit, [conv])).results
    assert first.outcome is DeleteOutcome.REQUESTED
    sandbox.state.set_status(conv, "Deleted")

    (again,) = (await run(client, watchlist, audit, [conv])).results

    assert (again.outcome, again.reason) == (
        DeleteOutcome.ALREADY_DELETED, "deletion confirmed: the server reports it Deleted")
    assert await poll(client, watchlist, audit, conv, 3000.0) == []  # not a second time
    assert [(e.outcome, e.detail) for e in reversed(audit.entries())] == [
        ("requested", first.reason), ("already_deleted", again.reason)]


async def test_404_after_our_own_request_is_a_confirmed_deletion(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    purged = 555_001  # the server no longer has it
    watchlist.add([purged])
    watchlist.mark_delete_requested(purged, 1000.0)

    (result,) = (await run(client, watchlist, audit, [purged])).results

    assert result.outcome is DeleteOutcome.ALREADY_DELETED
    assert "deletion confirmed" in result.reason
    row = watchlist.get(purged)
    assert row is not None and row.status == "Deleted" and row.deleted_at is not None
    assert is_purged(row)


async def test_repeated_delete_is_harmless(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    conversion_id = sandbox.state.add_conversion(status="Completed")
    watchlist.add([conversion_id])
    await run(client, watchlist, audit, [conversion_id])
    (again,) = (await run(client, watchlist, audit, [conversion_id])).results
    assert again.outcome is DeleteOutcome.REQUESTED
    assert again.reason.startswith("deletion was already requested")
    assert server_status(sandbox, conversion_id) == "DeletionPending"
    assert [entry.ids for entry in audit.entries()] == [(conversion_id,)] * 2


async def test_refused_key_stops_the_rest(
    sandbox: SandboxServer, watchlist: Watchlist, audit: AuditLog
) -> None:
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(5)]
    watchlist.add(ids)
    sandbox.state.reset_stats()
    async with ConversionsClient(sandbox.base_url, "wrong-key") as wrong:
        summary = await run(wrong, watchlist, audit, ids, concurrency=1)

    assert sandbox.state.request_count == 1
    assert [result.outcome for result in summary.results] == (
        [DeleteOutcome.AUTH] + [DeleteOutcome.SKIPPED] * 4)
    assert summary.results[0].reason == "the key was refused; nothing more was sent"
    assert summary.stopped_by_auth
    assert summary.sentence() == "the key was refused; 4 not sent"
    assert len(summary.failed) == 5
    assert all(server_status(sandbox, conversion_id) == "Completed" for conversion_id in ids)
    assert {outcome for outcome, _ in audited(audit).values()} == {"auth", "skipped"}
    assert len(audited(audit)) == 5


async def test_refused_key_stops_what_was_not_sent_yet_with_concurrency(
    sandbox: SandboxServer, watchlist: Watchlist, audit: AuditLog
) -> None:
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(12)]
    sandbox.state.reset_stats()
    async with ConversionsClient(sandbox.base_url, "wrong-key") as wrong:
        summary = await run(wrong, watchlist, audit, ids, concurrency=3)
    sent = sandbox.state.request_count
    assert 1 <= sent <= 3
    assert len(summary.of(DeleteOutcome.AUTH)) == sent
    assert len(summary.of(DeleteOutcome.SKIPPED)) == 12 - sent


async def test_a_403_about_one_conversion_fails_that_one_and_the_rest_go_on(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    # The sandbox's 403 names the key's profile: the key is fine, this conversion is not
    # one it may touch (a multi-tenant key). Not "the key was refused; nothing more sent".
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(4)]
    watchlist.add(ids)
    sandbox.faults.forbidden_ids = [ids[1]]
    try:
        summary = await run(client, watchlist, audit, ids, concurrency=1)
    finally:
        sandbox.faults.clear()
    outcomes = [result.outcome for result in summary.results]
    assert outcomes == [DeleteOutcome.REQUESTED, DeleteOutcome.FAILED,
                        DeleteOutcome.REQUESTED, DeleteOutcome.REQUESTED]
    assert summary.results[1].reason == (
        "no access to this conversion (HTTP 403); nothing was deleted")
    assert not summary.stopped_by_auth
    assert server_status(sandbox, ids[1]) == "Completed"
    row = watchlist.get(ids[1])
    assert row is not None and row.delete_requested_at is None
    assert audited(audit)[ids[1]][0] == "failed"


async def test_a_delete_answered_about_another_conversion_is_not_recorded_as_accepted(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    # Asked to delete row 2, the server (a confused cache) answers about conversion 99:
    # that is no confirmation that row 2 is marked, and the outcome must say so.
    conversion_id = sandbox.state.add_conversion(status="Completed")
    watchlist.add([conversion_id])
    sandbox.faults.wrong_id_for = [conversion_id]
    try:
        summary = await run(client, watchlist, audit, [conversion_id])
    finally:
        sandbox.faults.clear()
    result = summary.results[0]
    assert result.outcome is DeleteOutcome.FAILED
    assert f"the server answered about conversion 99, not {conversion_id}" in result.reason
    assert "not recorded as deleted" in result.reason
    row = watchlist.get(conversion_id)
    assert row is not None and row.delete_requested_at is None  # not followed as deleted
    assert summary.sentence() == "1 failed"
    assert audited(audit)[conversion_id][0] == "failed"


async def test_a_client_that_lets_another_conversions_answer_through_is_caught(
    watchlist: Watchlist, audit: AuditLog
) -> None:
    # The client refuses such answers itself; a client that does not (another
    # implementation of DeletingClient) must still not get row 2 recorded as deleted.
    class Confused:
        async def delete(self, conversion_id: int) -> StatusEnvelope:
            return StatusEnvelope.model_validate(
                {"payload": {"id": 99, "status": "DeletionPending",
                             "fileName": "someone-elses.csv"}})

    watchlist.add([2])
    summary = await run(Confused(), watchlist, audit, [2])
    result = summary.results[0]
    assert result.outcome is DeleteOutcome.FAILED
    assert result.reason.startswith("the server answered about conversion 99, not 2")
    row = watchlist.get(2)
    assert row is not None and row.delete_requested_at is None


async def test_rate_limit_storm_is_reported_not_retried(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(3)]
    watchlist.add(ids)
    sandbox.faults.update({"storm": True, "retry_after": 7})
    sandbox.state.reset_stats()

    summary = await run(client, watchlist, audit, ids)

    assert sandbox.state.request_count == 3  # one request each: nothing retried
    assert all(result.outcome is DeleteOutcome.RATE_LIMITED for result in summary.results)
    assert all(result.retry_after == 7 for result in summary.results)
    assert summary.results[0].reason == "too many requests: wait 7 s and press d again"
    assert summary.sentence() == "3 rate limited (wait 7 s, then press d again)"
    assert all(server_status(sandbox, conversion_id) == "Completed" for conversion_id in ids)
    for conversion_id in ids:
        row = watchlist.get(conversion_id)
        assert row is not None and row.delete_requested_at is None
    assert {outcome for outcome, _ in audited(audit).values()} == {"rate_limited"}


async def test_server_and_network_failures_say_the_state_is_unknown(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    first = sandbox.state.add_conversion(status="Completed")
    second = sandbox.state.add_conversion(status="Completed")
    sandbox.faults.update({"html_error": 1.0})
    (proxy,) = (await run(client, watchlist, audit, [first])).results
    sandbox.faults.clear()
    sandbox.faults.update({"drop_connection": 1.0})
    (dropped,) = (await run(client, watchlist, audit, [second])).results

    assert proxy.outcome is DeleteOutcome.FAILED
    assert proxy.reason == ("server error: HTTP 502, HTML page; the conversion may or may not "
                            "be marked — check its status")
    assert dropped.outcome is DeleteOutcome.FAILED
    assert dropped.reason.startswith("network error: connection dropped;")
    assert dropped.reason.endswith("check its status")
    assert audited(audit)[second] == ("failed", dropped.reason)


async def test_refused_connection_reached_nothing(
    sandbox: SandboxServer, watchlist: Watchlist, audit: AuditLog
) -> None:
    conversion_id = sandbox.state.add_conversion(status="Completed")
    sandbox.stop()  # the fixture starts it again for the next test
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=2.0) as api:
        summary = await run(api, watchlist, audit, [conversion_id, conversion_id + 1])
    assert [result.outcome for result in summary.results] == [DeleteOutcome.FAILED] * 2
    assert summary.results[0].reason == (
        "network error: connection refused; nothing reached the server")
    assert summary.sentence() == "2 failed"


async def test_deletion_is_confirmed_through_pending_deleted_and_404(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    conversion_id = sandbox.state.add_conversion(status="Completed")
    watchlist.add([conversion_id])

    async def poll(at: float) -> None:
        """One status check, recorded the way the poller records it."""
        try:
            envelope = await client.get_status(conversion_id)
        except Exception as error:
            if getattr(error, "status_code", None) != 404:
                raise
            watchlist.record_results([PollResult(conversion_id, at, not_found=True)])
        else:
            watchlist.record_results([PollResult(conversion_id, at, envelope=envelope)])

    (result,) = (await run(client, watchlist, audit, [conversion_id])).results
    assert result.outcome is DeleteOutcome.REQUESTED
    await poll(100.0)
    row = watchlist.get(conversion_id)
    assert row is not None and row.status == "DeletionPending" and row.deleted_at is None

    sandbox.state.advance(6)  # DeletionPending lasts 5 s in the sandbox
    await poll(200.0)
    row = watchlist.get(conversion_id)
    assert row is not None and row.status == "Deleted" and row.deleted_at == 200.0

    sandbox.state.advance(301)  # Deleted stays visible for 300 s, then 404
    await poll(300.0)
    row = watchlist.get(conversion_id)
    assert row is not None and row.status == "Deleted" and is_purged(row)
    assert row.deleted_at == 200.0
    assert [status for status, _ in watchlist.history(conversion_id)] == [
        "DeletionPending", "Deleted"]


async def test_unwatched_conversion_is_watched_once_deletion_is_requested(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    conversion_id = sandbox.state.add_conversion(status="Failed")
    assert conversion_id not in watchlist
    await run(client, watchlist, audit, [conversion_id])
    row = watchlist.get(conversion_id)
    assert row is not None and row.delete_requested_at is not None


class CountingClient:
    """The real client, counting how many deletes are on the wire at once."""

    def __init__(self, inner: ConversionsClient) -> None:
        self.inner = inner
        self.in_flight = 0
        self.most = 0

    async def delete(self, conversion_id: int) -> StatusEnvelope:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            return await self.inner.delete(conversion_id)
        finally:
            self.in_flight -= 1


async def test_concurrency_is_bounded(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(10)]
    sandbox.faults.update({"latency": 0.05})
    counting = CountingClient(client)
    summary = await run(counting, watchlist, audit, ids, concurrency=3)
    assert counting.most == 3
    assert len(summary.requested) == 10


async def test_a_failing_callback_does_not_abandon_deletes_on_the_wire(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(4)]

    def broken(result: DeleteResult) -> None:
        raise RuntimeError("UI bug")

    with pytest.raises(RuntimeError, match="UI bug"):
        await run(client, watchlist, audit, ids, on_outcome=broken)
    assert all(server_status(sandbox, conversion_id) == "DeletionPending"
               for conversion_id in ids)
    assert set(audited(audit)) == set(ids)


async def test_ids_are_checked_and_repeats_dropped(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    conversion_id = sandbox.state.add_conversion(status="Completed")
    summary = await run(client, watchlist, audit, [conversion_id, conversion_id])
    assert len(summary.results) == 1
    with pytest.raises(ValueError):
        await run(client, watchlist, audit, [0])
    assert (await run(client, watchlist, audit, [])).sentence() == "Nothing to delete"


async def test_no_key_reaches_the_audit_log(tmp_path: Path) -> None:
    canary = "canary-9f2c41d7e0-key"
    wrong = "wrong-canary-55b0e1-key"
    with SandboxServer(api_key=canary) as server, \
            Watchlist(tmp_path / "w.sqlite3") as watchlist:
        audit = AuditLog(tmp_path / "audit.sqlite3")
        ids = [server.state.add_conversion(status=word)
               for word in ("Completed", "Processing", "Deleted")]
        async with ConversionsClient(server.base_url, canary) as api:
            await run(api, watchlist, audit, [*ids, 424_242])
        async with ConversionsClient(server.base_url, wrong) as api:
            await run(api, watchlist, audit, ids)
        entries = audit.entries()
        audit.close()
    assert len(entries) == 7
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("audit.sqlite3*"))
    assert stored  # the log was written
    for secret in (canary, wrong):
        assert secret.encode() not in stored
        assert all(secret not in repr(entry) for entry in entries)


def test_describe_every_outcome() -> None:
    results = [DeleteResult(1, outcome, "why", 0.0) for outcome in DeleteOutcome]
    texts = [describe(result) for result in results]
    labelled = [text for result, text in zip(results, texts, strict=True)
                if result.outcome is not DeleteOutcome.ALREADY_DELETED]
    assert len(set(labelled)) == len(labelled)
    assert all(text.endswith(": why") for text in labelled)
    # Its reasons say it themselves ("was already deleted on the server"): no label.
    assert texts[list(DeleteOutcome).index(DeleteOutcome.ALREADY_DELETED)] == "why"


def test_sentence_for_a_mix() -> None:
    summary = DeleteSummary([
        DeleteResult(1, DeleteOutcome.REQUESTED, "", 0.0),
        DeleteResult(2, DeleteOutcome.REFUSED, "", 0.0, status="Processing"),
        DeleteResult(3, DeleteOutcome.REFUSED, "", 0.0, status="Validating"),
        DeleteResult(4, DeleteOutcome.RATE_LIMITED, "", 0.0, retry_after=2.5),
        DeleteResult(5, DeleteOutcome.RATE_LIMITED, "", 0.0, retry_after=None),
        DeleteResult(6, DeleteOutcome.FAILED, "", 0.0),
    ])
    assert summary.sentence() == ("1 marked for deletion, 2 refused (Processing, Validating), "
                                  "2 rate limited (wait 3 s, then press d again), 1 failed")



async def test_409_shapes_the_sandbox_cannot_make(watchlist: Watchlist, audit: AuditLog) -> None:
    """A real server may refuse in another status, or without saying which."""

    def answer(request: httpx.Request) -> httpx.Response:
        conversion_id = int(request.url.path.rsplit("/", 1)[1])
        payload = None if conversion_id == 1 else {"id": conversion_id, "status": "Validating"}
        return httpx.Response(409, json={"payload": payload, "errors": ["not now"]})

    async with ConversionsClient("https://api.example", "k",
                                 transport=httpx.MockTransport(answer)) as api:
        summary = await run(api, watchlist, audit, [1, 2])
    silent, other = summary.results
    assert silent.status is None and "current status" in silent.reason
    assert other.status == "Validating"
    assert other.reason == "the server refused it while Validating; check it, then delete"
    assert summary.sentence() == "2 refused (Validating, not deletable now)"


async def test_cancelling_audits_what_was_on_the_wire(
    sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist, audit: AuditLog
) -> None:
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(6)]
    sandbox.faults.update({"latency": 2.0})
    task = asyncio.create_task(run(client, watchlist, audit, ids, concurrency=2))
    await until(lambda: sandbox.state.request_count == 2,
                lambda: f"two deletes on the wire ({sandbox.state.request_count} arrived)")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    entries = audited(audit)
    # The two on the wire are recorded as unknown; the four never sent are not in the log.
    assert set(entries) == set(ids[:2])
    assert all(outcome == "failed" and "may or may not be marked" in detail
               for outcome, detail in entries.values())
