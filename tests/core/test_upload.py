"""The uploader against the real sandbox: every answer the batch endpoint can give.

Each test counts the sandbox's POSTs, so "never sent twice" is checked on the server side.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.waiting import WAIT_BOUND
from tui.api.client import ConversionsClient
from tui.core.upload.outcome import UploadOutcome
from tui.core.upload.plan import UploadItem, UploadPlan, plan_upload
from tui.core.upload.records import reference_note
from tui.core.upload.run import UploadProgress
from tui.core.upload.uploader import Uploader
from tui.core.watchlist import Watchlist
from tui.sandbox.demo_data import DEMO_PROFILE
from tui.sandbox.runner import SandboxServer

POSTS = "POST /v1/conversions"
OWNER = str(DEMO_PROFILE["email"])  # whose key the sandbox says it is


class RecordingAudit:
    """The audit sink, remembering every call (and able to fail on demand)."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def append(self, action: str, ids: Sequence[int], outcome: str, profile: str,
               user: str | None, detail: str | None = None) -> None:
        self.entries.append({"action": action, "ids": list(ids), "outcome": outcome,
                             "profile": profile, "user": user, "detail": detail})


@pytest.fixture
def watchlist(tmp_path: Path) -> Iterator[Watchlist]:
    store = Watchlist(tmp_path / "watchlist.sqlite3")
    yield store
    store.close()


@pytest.fixture
def audit() -> RecordingAudit:
    return RecordingAudit()


@pytest.fixture
async def client(sandbox: SandboxServer) -> AsyncIterator[ConversionsClient]:
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=10) as api:
        yield api


def _plan(folder: Path, count: int, size: int = 64, suffix: str = ".csv") -> UploadPlan:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        (folder / f"file{number:04d}{suffix}").write_bytes(
            (f"id,value\n{number},{'x' * size}\n").encode()[:size] or b"x")
    return plan_upload([str(folder / f"*{suffix}")])


def _posts(sandbox: SandboxServer) -> int:
    return sandbox.state.stats.by_route[POSTS]


def _uploader(client: ConversionsClient, watchlist: Watchlist, audit: RecordingAudit,
              progress: list[UploadProgress] | None = None,
              on_progress: Callable[[UploadProgress], None] | None = None,
              **options: Any) -> Uploader:
    def note(step: UploadProgress) -> None:
        if progress is not None:
            progress.append(step)
        if on_progress is not None:
            on_progress(step)

    return Uploader(client, watchlist, audit, profile_name="sandbox", user="tester",
                    on_progress=note, **options)


def _outcomes(outcome: UploadOutcome) -> list[str]:
    return [str(result.outcome) for result in outcome.results]


async def test_all_valid_files_are_accepted_watched_and_audited(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    plan = _plan(tmp_path / "in", 5)
    progress: list[UploadProgress] = []
    outcome = await _uploader(client, watchlist, audit, progress).run(plan, reference="T-4412")
    assert outcome.all_accepted
    assert [item for item, _ in outcome.accepted] == plan.items
    ids = outcome.accepted_ids
    assert len(set(ids)) == 5
    for item, conversion_id in outcome.accepted:
        on_server = sandbox.state.get(conversion_id)
        assert on_server is not None and on_server.file_name == item.file_name
    assert watchlist.ids() == sorted(ids)
    assert all(watchlist.get(i).note == reference_note("T-4412") for i in ids)  # type: ignore[union-attr]
    # The reference leads: a narrow Note column keeps the start of a note.
    assert reference_note("T-4412").startswith("T-4412")
    # The user is the key owner's e-mail from the server's answer (it wins over a guess).
    assert audit.entries == [{"action": "upload", "ids": ids, "outcome": "accepted 5 of 5",
                              "profile": "sandbox", "user": OWNER, "detail": "ref T-4412"}]
    assert _posts(sandbox) == 1
    last = progress[-1]
    assert (last.state, last.accepted_records, last.accepted_bytes, last.sent_records) == (
        "done", 5, plan.total_bytes, 5)
    assert [p.state for p in progress[:2]] == ["reading", "sending"]


async def test_batches_are_recorded_one_by_one_before_the_next_goes(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    plan = _plan(tmp_path / "in", 7)
    watched_when_sending: list[int] = []

    def check(step: UploadProgress) -> None:
        if step.state == "sending":
            # Every batch already answered is in the watchlist before this one goes.
            assert len(watchlist.ids()) == step.accepted_records
            watched_when_sending.append(len(watchlist.ids()))

    outcome = await _uploader(client, watchlist, audit, on_progress=check,
                              batch_records=3).run(plan)
    assert watched_when_sending == [0, 3, 6]
    assert outcome.batches_posted == 3 and _posts(sandbox) == 3
    assert [len(entry["ids"]) for entry in audit.entries] == [3, 3, 1]
    assert [r.batch for r in outcome.results] == [1, 1, 1, 2, 2, 2, 3]
    assert [r.index for r in outcome.results] == [0, 1, 2, 0, 1, 2, 0]


async def test_a_mixed_batch_watches_the_accepted_and_names_the_server_reasons(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    plan = _plan(tmp_path / "in", 3)
    # A type the server does not know: the plan normally refuses it, so set it by hand.
    wrong = UploadItem(path=plan.items[1].path, file_name=plan.items[1].file_name,
                       data_source_type="Word", size=plan.items[1].size)
    plan.items[1] = wrong
    outcome = await _uploader(client, watchlist, audit).run(plan, reference="INC-7")
    assert _outcomes(outcome) == ["accepted", "rejected", "accepted"]
    [(item, reasons)] = outcome.rejected
    assert item is wrong
    assert reasons and "dataSourceType 'Word'" in reasons[0]
    assert sorted(watchlist.ids()) == sorted(outcome.accepted_ids)
    assert all("INC-7" in (watchlist.get(i).note or "") for i in outcome.accepted_ids)  # type: ignore[union-attr]
    assert audit.entries[0]["outcome"] == "accepted 2 of 3, 1 rejected"
    assert audit.entries[0]["detail"] == "ref INC-7"
    conversion = sandbox.state.get(outcome.accepted_ids[0])
    assert conversion is not None
    assert conversion.metadata.get("externalReference") == "INC-7"


async def test_when_none_is_valid_all_are_rejected_and_nothing_is_watched(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    plan = _plan(tmp_path / "in", 2).with_type("Csv")
    plan.items = [UploadItem(i.path, "../" + i.file_name, i.data_source_type, i.size)
                  for i in plan.items]
    outcome = await _uploader(client, watchlist, audit).run(plan)
    assert _outcomes(outcome) == ["rejected", "rejected"]
    assert all("bare file name" in reasons[0] for _, reasons in outcome.rejected)
    assert watchlist.ids() == []
    assert audit.entries[0]["ids"] == [] and audit.entries[0]["outcome"].startswith(
        "accepted 0 of 2")
    assert sandbox.state.ids() == []


async def test_more_records_than_the_server_takes_are_split_in_halves(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    plan = _plan(tmp_path / "in", 130, size=8)
    outcome = await _uploader(client, watchlist, audit, batch_records=130).run(plan)
    assert outcome.all_accepted
    assert len(set(outcome.accepted_ids)) == 130
    assert _posts(sandbox) == 3  # 130 refused with 413, then 65 and 65
    assert outcome.batches_posted == 3
    assert "413" in outcome.problems[0] and "halves" in outcome.problems[0]
    assert len(watchlist.ids()) == 130
    assert [e["outcome"] for e in audit.entries] == [
        f"batch {n} of 3: accepted 65 of 65 (upload of 130 files)" for n in (2, 3)]


async def test_splits_and_the_batch_read_ahead_all_arrive_once(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    plan = _plan(tmp_path / "in", 240, size=8)
    outcome = await _uploader(client, watchlist, audit, batch_records=120).run(plan)
    assert outcome.all_accepted
    assert len(set(outcome.accepted_ids)) == 240
    assert [r.item for r in outcome.results] == plan.items  # plan order, whatever the sends
    assert _posts(sandbox) == 6  # two refused, four halves accepted
    assert len(sandbox.state.ids()) == 240


async def test_a_body_over_the_server_limit_is_split_by_bytes(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    for number in range(3):
        with open(folder / f"big{number}.csv", "wb") as handle:
            handle.truncate(9 * 2**20)  # 12 MiB of base64 each: 36 MiB > 25 MiB together
    plan = plan_upload([folder])
    outcome = await _uploader(client, watchlist, audit, batch_bytes=64 * 2**20).run(plan)
    assert outcome.all_accepted
    assert _posts(sandbox) == 3  # all three (413), then two, then one


async def test_a_lone_record_still_too_large_is_rejected(tmp_path: Path,
                                                         watchlist: Watchlist,
                                                         audit: RecordingAudit) -> None:
    # The sandbox takes any record it can parse; a stricter real server is mocked here.
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(413, json={"errors": ["Too large"], "payload": None})

    plan = _plan(tmp_path / "in", 3)
    async with ConversionsClient("http://api.test", "key",
                                 transport=httpx.MockTransport(answer)) as api:
        outcome = await Uploader(api, watchlist, audit, profile_name="p").run(plan)
    assert _outcomes(outcome) == ["rejected"] * 3
    assert all("too large for the server even on its own" in reasons[0]
               for _, reasons in outcome.rejected)
    assert outcome.batches_posted == 5  # 3 -> 2 + 1 -> 1 + 1 (+ the lone one)
    # Each lone refusal is audited with the file's name.
    refusals = [e for e in audit.entries if e["outcome"].startswith("refused as too large")]
    assert len(refusals) == 3 and all(e["ids"] == [] for e in refusals)
    assert {e["detail"].rsplit("File: ", 1)[1] for e in refusals} == {
        item.file_name for item in plan.items}


async def test_rate_limited_waits_for_retry_after_and_goes_on(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    # Every post is refused (Retry-After: 1) until the uploader says it waits; then the
    # server calms down. (A real rate limit would let a slow machine's posts through.)
    sandbox.faults.update({"storm": True, "retry_after": 1})
    plan = _plan(tmp_path / "in", 2)
    progress: list[UploadProgress] = []

    def calm_down(step: UploadProgress) -> None:
        if step.state == "waiting":
            sandbox.faults.storm = False

    started = time.monotonic()
    outcome = await _uploader(client, watchlist, audit, progress, on_progress=calm_down,
                              batch_records=1).run(plan)
    assert outcome.all_accepted
    waits = [p.wait_seconds for p in progress if p.state == "waiting"]
    assert waits == [1]
    assert time.monotonic() - started >= 0.9  # it did wait (a lower bound cannot flake)
    assert sandbox.state.stats.faults["storm"] == 1
    assert _posts(sandbox) == 3


async def test_too_many_rate_limits_stop_the_upload(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    sandbox.faults.update({"storm": True, "retry_after": 0})
    plan = _plan(tmp_path / "in", 2)
    outcome = await _uploader(client, watchlist, audit, batch_records=1,
                              max_rate_limit_waits=2).run(plan)
    assert outcome.stopped_by == "rate_limit"
    assert _outcomes(outcome) == ["failed", "not_sent"]
    assert _posts(sandbox) == 3
    [entry] = audit.entries
    assert entry["outcome"].startswith("refused as a whole (HTTP 429): batch 1 of 2")


async def test_cancel_cuts_a_rate_limit_wait_short(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    # An hour's wait: returning at all (within the tests' bound) is the wait cut short.
    sandbox.faults.update({"storm": True, "retry_after": 3600})
    plan = _plan(tmp_path / "in", 2)
    uploader: Uploader | None = None

    def cancel_when_waiting(step: UploadProgress) -> None:
        if step.state == "waiting" and uploader is not None:
            uploader.cancel()

    uploader = _uploader(client, watchlist, audit, on_progress=cancel_when_waiting,
                         max_wait=3600.0)
    outcome = await asyncio.wait_for(uploader.run(plan), WAIT_BOUND)
    assert outcome.stopped_by == "cancel"
    assert outcome.not_sent == plan.items
    assert _posts(sandbox) == 1


async def test_a_wrong_key_stops_and_says_a_key_is_needed(
        sandbox: SandboxServer, watchlist: Watchlist, audit: RecordingAudit,
        tmp_path: Path) -> None:
    plan = _plan(tmp_path / "in", 4)
    async with ConversionsClient(sandbox.base_url, "wrong-key") as api:
        outcome = await _uploader(api, watchlist, audit, batch_records=2).run(plan)
    assert outcome.stopped_by == "auth"
    assert "CONVERSIONS_API_KEY" in (outcome.stopped_reason or "")
    assert "conversions-tui login" in (outcome.stopped_reason or "")
    assert outcome.not_sent == plan.items
    assert _posts(sandbox) == 1
    assert watchlist.ids() == [] and audit.entries == []


async def test_a_dropped_connection_is_unknown_and_never_sent_again(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    plan = _plan(tmp_path / "in", 6)

    def drop_the_second_batch(step: UploadProgress) -> None:
        if step.state == "sending":
            sandbox.faults.update({"drop_connection": 1.0 if step.batches_posted == 1 else 0.0})

    outcome = await _uploader(client, watchlist, audit, on_progress=drop_the_second_batch,
                              batch_records=2).run(plan)
    assert _outcomes(outcome) == ["accepted", "accepted", "unknown", "unknown",
                                  "accepted", "accepted"]
    assert outcome.unknown == plan.items[2:4]
    assert _posts(sandbox) == 3  # the lost batch was not posted again
    assert sandbox.state.stats.faults["drop_connection"] == 1
    assert outcome.stopped_reason is None
    problem = next(p for p in outcome.problems if "unknown" in p)
    assert plan.items[2].file_name in problem and plan.items[3].file_name in problem
    lost = next(entry for entry in audit.entries if entry["outcome"] == "unknown (2 files)")
    assert plan.items[2].file_name in lost["detail"] and lost["ids"] == []
    assert len(watchlist.ids()) == 4


async def test_repeated_transport_failures_stop_the_upload(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    sandbox.faults.update({"drop_connection": 1.0})
    plan = _plan(tmp_path / "in", 6)
    outcome = await _uploader(client, watchlist, audit, batch_records=2).run(plan)
    assert _outcomes(outcome) == ["unknown"] * 4 + ["not_sent"] * 2
    assert outcome.stopped_by == "transport"
    assert _posts(sandbox) == 2


async def test_an_unreadable_answer_to_a_processed_batch_is_unknown(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    sandbox.faults.update({"malformed_json": 1.0})
    plan = _plan(tmp_path / "in", 2)
    outcome = await _uploader(client, watchlist, audit).run(plan)
    assert _outcomes(outcome) == ["unknown", "unknown"]
    # Why "unknown" and not "failed": the server did create them.
    assert len(sandbox.state.ids()) == 2
    assert _posts(sandbox) == 1


async def test_server_errors_are_unknown_and_two_in_a_row_stop(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    sandbox.faults.update({"html_error": 1.0})
    plan = _plan(tmp_path / "in", 3)
    outcome = await _uploader(client, watchlist, audit, batch_records=1).run(plan)
    assert _outcomes(outcome) == ["unknown", "unknown", "not_sent"]
    assert outcome.stopped_by == "failures"
    assert "502" in outcome.results[0].reasons[0]


async def test_a_batch_refused_as_a_whole_failed_and_is_safe_to_retry(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    plan = _plan(tmp_path / "in", 2)

    def refuse_the_first(step: UploadProgress) -> None:
        if step.state == "sending":
            sandbox.faults.update({"error_rate": 1.0 if step.batches_posted == 0 else 0.0,
                                   "error_status": 400})

    outcome = await _uploader(client, watchlist, audit, on_progress=refuse_the_first,
                              batch_records=1).run(plan)
    assert _outcomes(outcome) == ["failed", "accepted"]
    assert "HTTP 400" in outcome.failed[0][1]
    # Both batches are in the audit log, the refused one too, with its files and reason.
    assert [e["outcome"] for e in audit.entries] == [
        "refused as a whole (HTTP 400): batch 1 of 2: accepted 0 of 1 (upload of 2 files)",
        "batch 2 of 2: accepted 1 of 1 (upload of 2 files)"]
    assert audit.entries[0]["detail"].endswith(f"Files: {plan.items[0].file_name}")
    assert "Injected fault: the service answered 400" in audit.entries[0]["detail"]
    retry = outcome.retry_plan()
    assert retry.items == [plan.items[0]]
    again = await _uploader(client, watchlist, audit).run(retry)
    assert again.all_accepted
    assert len(watchlist.ids()) == 2


async def test_a_refused_connection_is_not_delivered(watchlist: Watchlist, audit: RecordingAudit,
                                                     tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed when the block ends: nobody listens
    plan = _plan(tmp_path / "in", 3)
    async with ConversionsClient(f"http://127.0.0.1:{port}", "key") as api:
        outcome = await Uploader(api, watchlist, audit, profile_name="p",
                                 batch_records=1).run(plan)
    assert _outcomes(outcome) == ["failed", "failed", "not_sent"]
    assert outcome.stopped_by == "transport"
    assert "refused" in outcome.failed[0][1]
    assert [e["outcome"] for e in audit.entries] == [
        f"refused as a whole (not delivered): batch {n} of 3: accepted 0 of 1 (upload of 3 "
        "files)" for n in (1, 2)]


async def test_cancel_stops_after_the_batch_in_flight(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    plan = _plan(tmp_path / "in", 6)
    uploader: Uploader | None = None

    def cancel_while_sending(step: UploadProgress) -> None:
        if step.state == "sending" and uploader is not None:
            uploader.cancel()

    uploader = _uploader(client, watchlist, audit, on_progress=cancel_while_sending,
                         batch_records=2)
    outcome = await uploader.run(plan)
    assert _outcomes(outcome) == ["accepted"] * 2 + ["not_sent"] * 4
    assert outcome.stopped_by == "cancel"
    assert _posts(sandbox) == 1
    assert len(watchlist.ids()) == 2
    assert not uploader.cancelled  # ready for another run


async def test_cancel_from_another_thread(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    sandbox.faults.update({"storm": True, "retry_after": 30})
    plan = _plan(tmp_path / "in", 1)
    uploader = _uploader(client, watchlist, audit)
    timer = threading.Timer(0.3, uploader.cancel)
    timer.start()
    outcome = await asyncio.wait_for(uploader.run(plan), timeout=10)
    timer.join()
    assert outcome.stopped_by == "cancel"


async def test_a_watchlist_that_cannot_be_written_stops_before_the_next_batch(
        sandbox: SandboxServer, client: ConversionsClient, audit: RecordingAudit,
        tmp_path: Path) -> None:
    class BrokenWatchlist:
        def add(self, ids: object, *, note: str | None = None) -> list[int]:
            raise OSError(28, "No space left on device")

    plan = _plan(tmp_path / "in", 4)
    outcome = await _uploader(client, BrokenWatchlist(), audit,  # type: ignore[arg-type]
                              batch_records=2).run(plan)
    assert outcome.stopped_by == "recording"
    assert _outcomes(outcome) == ["accepted"] * 2 + ["not_sent"] * 2
    # The IDs are not lost: they are in the outcome and in the reason shown.
    for conversion_id in outcome.accepted_ids:
        assert str(conversion_id) in (outcome.stopped_reason or "")
    # And the audit log has them, saying why they are not watched.
    assert [(e["ids"], e["detail"]) for e in audit.entries] == [
        (sorted(outcome.accepted_ids),
         "not added to the watchlist: [Errno 28] No space left on device")]
    assert "(in the audit log)" in (outcome.stopped_reason or "")
    assert _posts(sandbox) == 1


async def test_a_file_gone_before_its_batch_is_failed_and_the_rest_goes(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    plan = _plan(tmp_path / "in", 3)
    plan.items[1].path.unlink()
    outcome = await _uploader(client, watchlist, audit).run(plan)
    assert _outcomes(outcome) == ["accepted", "failed", "accepted"]
    assert "could not be read when sending" in outcome.failed[0][1]


async def test_an_overlong_reference_is_refused_before_sending(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        audit: RecordingAudit, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="200 characters"):
        await _uploader(client, watchlist, audit).run(_plan(tmp_path / "in", 1), "x" * 201)
    assert _posts(sandbox) == 0


async def test_the_real_audit_log_holds_every_batch(
        sandbox: SandboxServer, client: ConversionsClient, watchlist: Watchlist,
        tmp_path: Path) -> None:
    from tui.core.audit import AuditLog

    plan = _plan(tmp_path / "in", 3)
    with AuditLog(tmp_path / "audit.sqlite3") as log:
        outcome = await Uploader(client, watchlist, log, profile_name="sandbox", user="ann",
                                 batch_records=2).run(plan, reference="T-9")
        entries = list(reversed(log.entries()))
    assert [list(entry.ids) for entry in entries] == [outcome.accepted_ids[:2],
                                                      outcome.accepted_ids[2:]]
    assert {(e.action, e.profile, e.user, e.detail) for e in entries} == {
        ("upload", "sandbox", OWNER, "ref T-9")}
