"""Scheduling by urgency (issue 12): a big paste never starves the rows that matter, and
IDs an upload made leave the not-found lane at once.

The scheduling tests run a FakeSource in virtual time (see
``test_poller_unit.VirtualClock``): every gap below is exact, so the bounds are the
promise itself (two intervals), not an allowance for a slow machine. The upload test runs
against the real sandbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

import pytest

from tests.core.test_poller import Running, quick
from tests.core.test_poller_unit import FakeSource, Harness
from tests.core.test_poller_untrusted import until
from tui.api.client import ConversionsClient
from tui.api.errors import NotFoundError
from tui.api.models import Envelope, StatusEnvelope
from tui.core.polling.scheduler import PollScheduler
from tui.core.polling.types import PollSettings
from tui.core.upload.plan import plan_upload
from tui.core.upload.records import reference_note
from tui.core.upload.uploader import Uploader
from tui.core.watchlist import Watchlist
from tui.sandbox.runner import SandboxServer

ACTIVE = range(1, 21)  # 20 rows last seen Processing
PASTE = range(100_000, 110_000)  # 10,000 IDs never checked: the paste of the issue


def demo_like(interval: float) -> PollSettings:
    """The shipped budget (20 req/s, 8 connections) and settled interval."""
    return PollSettings(interval=interval, request_budget=20.0, concurrency=8,
                        settled_interval=600.0)


def gaps(source: FakeSource, ids: Iterable[int], after: float) -> list[float]:
    """Every gap between two checks of one of ``ids`` that started after ``after``."""
    return [b - a for i in ids for a, b in pairwise(source.starts(i, after))]


class FirstChecks:
    """When each of ``ids`` was first checked, read from the source's calls as they come
    (incrementally: the wait asks often, and tens of thousands of calls pile up)."""

    def __init__(self, source: FakeSource, ids: range) -> None:
        self._source = source
        self._ids = ids
        self._read = 0
        self.at: dict[int, float] = {}

    def count(self) -> int:
        calls = self._source.calls
        for conversion_id, started in calls[self._read:]:
            if conversion_id in self._ids:
                self.at.setdefault(conversion_id, started)
        self._read = len(calls)
        return len(self.at)


async def paste_under_load(tmp_path: Path, interval: float) -> tuple[Harness, float, float]:
    """20 active rows, then the paste; runs until every pasted ID has been checked.
    Returns the harness, when the paste came and when its last ID was first checked."""
    source = FakeSource(latency=0.01,
                        default=lambda i: "Processing" if i in ACTIVE else "Completed")
    known = dict.fromkeys(ACTIVE, "Processing")
    async with Harness(tmp_path, source, demo_like(interval), known=known) as h:
        await asyncio.sleep(3 * interval)  # the active rows have their rhythm
        pasted_at = h.now()
        h.add(PASTE)
        first = FirstChecks(source, PASTE)
        await until(lambda: first.count() == len(PASTE),
                    lambda: f"all {len(PASTE)} pasted IDs checked; {first.count()} were",
                    within=len(PASTE))  # at the least share, 5 req/s: 2,000 s
        done_at = max(first.at.values())
        await asyncio.sleep(3 * interval)  # and the active rows after it
    return h, pasted_at, done_at


async def test_a_paste_of_ten_thousand_never_delays_an_active_row_past_two_intervals(
        tmp_path: Path) -> None:
    # The case: 20 rows Processing every 5 s want 4 req/s of the 20; the paste
    # takes the rest, and the active rows keep their interval.
    h, pasted_at, done_at = await paste_under_load(tmp_path, interval=5.0)
    source = h.source
    assert isinstance(source, FakeSource)
    worst = max(gaps(source, ACTIVE, after=pasted_at - 5.0))
    assert worst <= 2 * 5.0, f"an active row waited {worst:.2f} s (interval 5 s)"
    # The paste is checked as fast as the budget allows, less what the active rows need
    # (20 / 5.01 a second) and the settled share (2 a second, once rows settle).
    took = done_at - pasted_at
    assert took <= len(PASTE) / (20 - 20 / 5.01 - 2), f"the paste took {took:.0f} s"
    # Oldest first: in the order pasted.
    checked = FirstChecks(source, PASTE)
    checked.count()
    first = checked.at
    assert sorted(first, key=lambda i: (first[i], i)) == list(PASTE)


async def test_a_paste_keeps_about_a_quarter_when_active_rows_need_the_rest(
        tmp_path: Path) -> None:
    # 20 active rows every second want the whole budget. The paste still moves, at about
    # a quarter of it, and no active row waits more than two intervals between checks.
    h, pasted_at, done_at = await paste_under_load(tmp_path, interval=1.0)
    source = h.source
    assert isinstance(source, FakeSource)
    worst = max(gaps(source, ACTIVE, after=pasted_at - 1.0))
    assert worst <= 2 * 1.0, f"an active row waited {worst:.2f} s (interval 1 s)"
    rate = len(PASTE) / (done_at - pasted_at)
    assert 0.2 * 20 <= rate <= 0.3 * 20, f"the paste went at {rate:.2f} req/s of 20"
    active = len([t for i, t in source.calls if i in ACTIVE and pasted_at <= t < done_at])
    assert active / (done_at - pasted_at) >= 0.6 * 20  # the rest, less the settled share


async def test_with_no_active_row_a_paste_uses_the_whole_budget(tmp_path: Path) -> None:
    source = FakeSource(latency=0.01, default="Completed")
    async with Harness(tmp_path, source, demo_like(5.0)) as h:
        h.add(range(1, 1001))
        await until(lambda: len(source.calls) >= 1000,
                    lambda: f"1000 IDs checked, {len(source.calls)} were", within=1000)
        took = max(t for _i, t in source.calls) - h.start
    # 20 a second after a burst of 5: the whole budget, not a quarter of it (a quarter
    # would take 200 s). The slack is the dispatcher's shortest token wait (0.5 ms), which
    # the clock's floating point decides to need or not.
    assert took <= (1000 - 5) / 20 + 0.01, f"1,000 new IDs took {took:.4f} s"


async def test_new_ids_are_checked_at_once_when_nothing_else_waits(tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    async with Harness(tmp_path, source, demo_like(5.0), known={1: "Processing"}) as h:
        await asyncio.sleep(2.0)
        added_at = h.now()
        h.add([7])
        await asyncio.sleep(0.5)
    assert source.starts(7) == [pytest.approx(added_at)]


# -- an upload makes IDs that were "not found" ---------------------------------------------


def not_found() -> NotFoundError:
    return NotFoundError("Not found (HTTP 404).", status_code=404,
                         envelope=Envelope(errors=["Conversion not found"]))


class CreatedLater(FakeSource):
    """Conversion 7 does not exist until ``create()``; a check that started before then
    gets the 404 even if it comes back after (the answer was on its way)."""

    def __init__(self) -> None:
        super().__init__(latency=0.5)
        self.created_at: float | None = None

    def create(self) -> None:
        self.created_at = asyncio.get_running_loop().time()

    async def get_status(self, conversion_id: int) -> StatusEnvelope:
        started = asyncio.get_running_loop().time()
        answer = await super().get_status(conversion_id)
        if conversion_id == 7 and (self.created_at is None or started < self.created_at):
            raise not_found()
        return answer


async def test_an_id_an_upload_made_leaves_not_found_at_once(tmp_path: Path) -> None:
    source = CreatedLater()
    source.by_id[7] = "Uploaded"
    async with Harness(tmp_path, source, demo_like(5.0)) as h:
        h.add([7])
        await until(lambda: (row := h.watchlist.get(7)) is not None and row.not_found,
                    lambda: f"7 not found: {h.watchlist.get(7)}", within=60)
        source.create()
        uploaded_at = h.now()
        h.scheduler.uploaded([7])
        await asyncio.sleep(1.0)
    # Checked at once, not at the next re-check of a settled row (600 s on).
    assert source.starts(7, after=uploaded_at - 1e-9) == [pytest.approx(uploaded_at)]
    row = h.watchlist.get(7)
    assert row is not None and not row.not_found and row.status == "Uploaded"


async def test_an_answer_on_its_way_before_the_upload_is_asked_again(tmp_path: Path) -> None:
    source = CreatedLater()
    source.by_id[7] = "Uploaded"
    async with Harness(tmp_path, source, demo_like(5.0)) as h:
        h.add([7])
        await until(lambda: len(source.calls) == 1, lambda: f"{source.calls}", within=60)
        source.create()  # while the first check is out: it will say 404
        h.scheduler.uploaded([7])
        await until(lambda: (row := h.watchlist.get(7)) is not None
                    and row.status == "Uploaded",
                    lambda: f"7 Uploaded: {h.watchlist.get(7)}, asked at {source.calls}",
                    within=60)
    first, again = source.starts(7)[:2]
    # Asked again as soon as the stale 404 came back.
    assert again == pytest.approx(first + 0.5)
    row = h.watchlist.get(7)
    assert row is not None and not row.not_found


class UploadsWatched:
    """The monitor's upload hook, as ``tui/ui/screens/flows/upload.py`` wires it: the
    uploader writes the watchlist, then the scheduler is told the IDs exist now."""

    def __init__(self, watchlist: Watchlist, scheduler: PollScheduler) -> None:
        self._watchlist = watchlist
        self._scheduler = scheduler

    def add(self, ids: Iterable[int], *, note: str | None = None) -> list[int]:
        wanted = list(ids)
        added = self._watchlist.add(wanted, note=note)
        self._scheduler.uploaded(wanted)
        return added


class NoAudit:
    def append(self, *args: object, **kwargs: object) -> None:
        del args, kwargs


async def test_an_id_pasted_before_an_upload_made_it_leaves_not_found_with_its_note(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    # IDs are handed out in order: the next upload makes the one after the newest.
    newest = sandbox.state.add_conversion(status="Processing", frozen=True)
    future = newest + 1
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "records.csv").write_text("id,value\n1,x\n")
    plan = plan_upload([str(tmp_path / "in" / "records.csv")])
    # Settled rows (not found among them) are re-checked every 10 minutes: far beyond
    # this test's wait, so only the upload can bring the row back.
    async with Running(sandbox, tmp_path, quick(settled_interval=600.0)) as run:
        run.add([future])
        await until(lambda: (row := run.watchlist.get(future)) is not None and row.not_found,
                    lambda: f"{future} not found first: {run.watchlist.get(future)}",
                    within=60)
        async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=10) as api:
            uploader = Uploader(api, UploadsWatched(run.watchlist, run.scheduler), NoAudit(),
                                profile_name="sandbox", user="tester")
            outcome = await uploader.run(plan, reference="T-4412")
        assert outcome.accepted_ids == [future]
        await until(lambda: (row := run.watchlist.get(future)) is not None
                    and not row.not_found and row.status is not None,
                    lambda: f"{future} found after the upload: {run.watchlist.get(future)}",
                    within=60)
    row = run.watchlist.get(future)
    assert row is not None and row.note == reference_note("T-4412")
    assert row.status in {"Uploaded", "Queued", "Processing", "Completed"}


def test_an_uploads_note_reaches_watched_rows_that_have_none(tmp_path: Path) -> None:
    with Watchlist(tmp_path / "w.sqlite3") as watchlist:
        watchlist.add([1, 2])
        watchlist.set_note(2, "INC-7")
        assert watchlist.add([1, 2, 3], note="T-1 (uploaded)") == [3]
        notes = {row.id: row.note for row in watchlist.all()}
    assert notes == {1: "T-1 (uploaded)", 2: "INC-7", 3: "T-1 (uploaded)"}
