"""PollScheduler end to end: the real client, the real watchlist, the real sandbox.

Intervals are a tenth of a second or so, so each test takes about a second of
real time. Timing-precise behaviour (backoff curves, ramp shapes, spreads) is
tested in virtual time in ``test_poller_unit.py``; here the point is that the
pieces fit over a real loopback connection.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.waiting import WAIT_BOUND, Describe
from tests.waiting import until as wait_until
from tui.api.client import ConversionsClient
from tui.api.models import StatusEnvelope
from tui.core.polling.scheduler import PollScheduler
from tui.core.polling.types import ConnectivityState, PollSettings, PollUpdate
from tui.core.statuses import is_purged
from tui.core.watchlist import Watchlist
from tui.sandbox.runner import SandboxServer


class CountingSource:
    """Wraps a client: records when each request started and ended, and what came of it."""

    def __init__(self, client: ConversionsClient) -> None:
        self.client = client
        self.started: list[tuple[int, float]] = []
        self.ended: list[tuple[int, float, str]] = []
        self._open: Counter[int] = Counter()
        self.overlaps = 0
        self.concurrent = 0
        self.max_concurrent = 0

    async def get_status(self, conversion_id: int) -> StatusEnvelope:
        self.started.append((conversion_id, time.monotonic()))
        if self._open[conversion_id]:
            self.overlaps += 1
        self._open[conversion_id] += 1
        self.concurrent += 1
        self.max_concurrent = max(self.max_concurrent, self.concurrent)
        outcome = "ok"
        try:
            return await self.client.get_status(conversion_id)
        except Exception as error:
            outcome = type(error).__name__
            raise
        finally:
            self._open[conversion_id] -= 1
            self.concurrent -= 1
            self.ended.append((conversion_id, time.monotonic(), outcome))


class Running:
    """A scheduler running in the background against the sandbox."""

    def __init__(self, sandbox: SandboxServer, tmp_path: Path, settings: PollSettings, *,
                 api_key: str | None = None) -> None:
        self.sandbox = sandbox
        self.client = ConversionsClient(sandbox.base_url, api_key or sandbox.api_key,
                                        timeout=5.0)
        self.source = CountingSource(self.client)
        self.watchlist = Watchlist(tmp_path / "watch.sqlite3")
        self.updates: list[PollUpdate] = []
        self.scheduler = PollScheduler(self.source, self.watchlist, settings,
                                       self.updates.append, rng=random.Random(3))
        self._task: asyncio.Task[None] | None = None
        self._extra_clients: list[ConversionsClient] = []

    def add(self, ids: list[int]) -> None:
        self.scheduler.watch(self.watchlist.add(ids))

    def new_client(self, api_key: str) -> CountingSource:
        client = ConversionsClient(self.sandbox.base_url, api_key, timeout=5.0)
        self._extra_clients.append(client)
        return CountingSource(client)

    def states(self) -> list[ConnectivityState]:
        seen: list[ConnectivityState] = []
        previous = ConnectivityState.ONLINE
        for update in self.updates:
            if update.connectivity.state is not previous:
                previous = update.connectivity.state
                seen.append(previous)
        return seen

    def requests(self, conversion_id: int) -> int:
        return self.sandbox.state.stats.by_route[f"GET /v1/conversions/{conversion_id}/status"]

    async def __aenter__(self) -> Running:
        self._task = asyncio.create_task(self.scheduler.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.scheduler.stop()
        assert self._task is not None
        await asyncio.wait_for(self._task, 10)
        await self.client.aclose()
        for client in self._extra_clients:
            await client.aclose()
        _OPEN.append(self.watchlist)  # the test may still read it; closed at teardown


_OPEN: list[Watchlist] = []


@pytest.fixture(autouse=True)
def _close_watchlists() -> Any:
    yield
    while _OPEN:
        _OPEN.pop().close()


async def until(predicate: Callable[[], Any], what: Describe = "the condition", *,
                timeout: float | None = None) -> float:
    """Wait until ``predicate()`` is true (see :func:`tests.waiting.until`); returns when
    (monotonic). ``timeout`` can only lengthen the tests' bound, never shorten it."""
    bound = None if timeout is None else max(timeout, WAIT_BOUND)
    return await wait_until(predicate, what, pause=lambda: asyncio.sleep(0.005), bound=bound)


async def no_request_in_flight(run: Running) -> None:
    """Wait until answers already on their way have landed."""
    await until(lambda: run.scheduler.stats.in_flight == 0,
                lambda: f"no request in flight ({run.scheduler.stats.in_flight} are)")


def quick(**changes: Any) -> PollSettings:
    values: dict[str, Any] = {"interval": 0.1, "settled_interval": 600.0, "concurrency": 8,
                              "request_budget": 500.0, "flush_interval": 0.05,
                              "offline_probe_min": 0.05, "offline_probe_max": 0.1}
    values.update(changes)
    return PollSettings(**values)


async def test_a_live_status_change_reaches_on_update(sandbox: SandboxServer,
                                                      tmp_path: Path) -> None:
    conversion = sandbox.state.add_conversion(status="Processing", frozen=True,
                                              file_name="orders.csv")
    async with Running(sandbox, tmp_path, quick()) as run:
        run.add([conversion])
        await until(lambda: any(u.rows for u in run.updates))
        sandbox.state.set_status(conversion, "Completed", frozen=True)
        await until(lambda: any(c.current == "Completed" for u in run.updates
                                for c in u.changes))
    changes = [(c.id, c.previous, c.current) for u in run.updates for c in u.changes]
    assert changes == [(conversion, None, "Processing"),
                       (conversion, "Processing", "Completed")]
    final = [row for u in run.updates for row in u.rows][-1]
    assert (final.id, final.status, final.file_name) == (conversion, "Completed", "orders.csv")
    assert final.raw is not None and '"Completed"' in final.raw


async def test_polls_never_overlap_and_concurrency_is_bounded(sandbox: SandboxServer,
                                                              tmp_path: Path) -> None:
    ids = [sandbox.state.add_conversion(status="Processing", frozen=True) for _ in range(12)]
    sandbox.faults.latency = 0.2
    async with Running(sandbox, tmp_path, quick(interval=0.02, concurrency=4)) as run:
        run.add(ids)
        for _ in range(40):  # a user hammering "refresh" on a slow server
            run.scheduler.refresh()
            run.scheduler.refresh(ids[:2])
            await asyncio.sleep(0.025)
    assert run.source.overlaps == 0
    assert run.source.max_concurrent == 4
    assert len(run.source.started) >= 12


async def test_the_request_budget_is_respected(sandbox: SandboxServer, tmp_path: Path) -> None:
    ids = [sandbox.state.add_conversion(status="Processing", frozen=True) for _ in range(60)]
    settings = quick(interval=0.01, request_budget=20.0, concurrency=8)
    async with Running(sandbox, tmp_path, settings) as run:
        run.add(ids)
        await asyncio.sleep(0.5)
        before, started = sandbox.state.request_count, time.monotonic()
        await asyncio.sleep(2.0)
        in_window = sandbox.state.request_count - before
        window = time.monotonic() - started  # a loaded machine oversleeps
    # The budget is the promise: never more than 20/s over the window actually measured,
    # + 2 for requests already on their way at its edges. Fewer only means the machine
    # was busy (a starved event loop sends late), so how much of the budget is used is
    # checked in virtual time (test_poller_unit.py); here only that polling went on.
    assert in_window <= 20 * window + 2
    assert in_window > 0


async def test_settled_rows_are_rechecked_slowly_and_on_refresh(sandbox: SandboxServer,
                                                                tmp_path: Path) -> None:
    active = sandbox.state.add_conversion(status="Processing", frozen=True)
    settled = [sandbox.state.add_conversion(status=word, frozen=True)
               for word in ("Completed", "Failed", "Deleted")]
    async with Running(sandbox, tmp_path, quick(interval=0.05)) as run:
        run.add([active, *settled])
        await until(lambda: all(run.requests(i) == 1 for i in settled))
        # Ten polls of the active row: time enough for a settled one to be asked again.
        await until(lambda: run.requests(active) >= 10,
                    lambda: f"10 polls of the active row ({run.requests(active)})")
        assert [run.requests(i) for i in settled] == [1, 1, 1]
        run.scheduler.refresh([settled[1]])
        await until(lambda: run.requests(settled[1]) == 2,
                    lambda: f"refresh asks again ({[run.requests(i) for i in settled]})")
        run.scheduler.refresh()
        await until(lambda: all(run.requests(i) >= 2 for i in settled),
                    lambda: f"refresh asks all ({[run.requests(i) for i in settled]})")
    assert run.requests(settled[0]) == 2 and run.requests(settled[2]) == 2


async def test_pause_and_resume(sandbox: SandboxServer, tmp_path: Path) -> None:
    ids = [sandbox.state.add_conversion(status="Queued", frozen=True) for _ in range(3)]
    async with Running(sandbox, tmp_path, quick(interval=0.05)) as run:
        run.add(ids)
        await until(lambda: sandbox.state.request_count >= 6)
        run.scheduler.pause()
        await no_request_in_flight(run)
        paused_count = sandbox.state.request_count
        await asyncio.sleep(0.5)  # ten poll intervals in which nothing may be asked
        assert sandbox.state.request_count == paused_count
        assert run.scheduler.connectivity.state is ConnectivityState.PAUSED
        run.scheduler.resume()
        await until(lambda: sandbox.state.request_count >= paused_count + 6,
                    lambda: f"polling again ({sandbox.state.request_count - paused_count})")
    assert run.states() == [ConnectivityState.PAUSED, ConnectivityState.ONLINE]


async def test_a_429_holds_every_request_until_retry_after(sandbox: SandboxServer,
                                                           tmp_path: Path) -> None:
    ids = [sandbox.state.add_conversion(status="Processing", frozen=True) for _ in range(5)]
    async with Running(sandbox, tmp_path, quick(interval=0.05)) as run:
        run.add(ids)
        await until(lambda: len(run.source.ended) >= 10)
        sandbox.faults.update({"storm": True, "retry_after": 1})
        await until(lambda: any(o == "RateLimitedError" for _i, _t, o in run.source.ended))
        sandbox.faults.storm = False
        await until(lambda: run.scheduler.connectivity.state is ConnectivityState.ONLINE,
                    lambda: f"online again ({run.scheduler.connectivity.state})")
        await until(lambda: sum(o == "ok" for _i, _t, o in run.source.ended) >= 20)
    first_429 = min(t for _i, t, o in run.source.ended if o == "RateLimitedError")
    later = [t for _i, t in run.source.started if t > first_429]
    assert later and min(later) >= first_429 + 1.0 - 0.01  # nobody asked during the hold
    assert run.states() == [ConnectivityState.RATE_LIMITED, ConnectivityState.ONLINE]
    assert all(row.last_problem is None for row in run.watchlist.all())


async def test_server_down_is_one_offline_state_and_recovery_is_automatic(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    ids = [sandbox.state.add_conversion(status="Processing", frozen=True) for _ in range(30)]
    interval = 0.2
    settings = quick(interval=interval, offline_probe_min=0.05, offline_probe_max=interval)
    async with Running(sandbox, tmp_path, settings) as run:
        run.add(ids)
        await until(lambda: len({i for i, _t, o in run.source.ended if o == "ok"}) == 30)
        sandbox.stop()
        await until(lambda: run.scheduler.connectivity.state is ConnectivityState.OFFLINE)
        requests_when_offline = len(run.source.started)
        watched_from = time.monotonic()
        await asyncio.sleep(1.0)  # a second of probing to count
        watched = time.monotonic() - watched_from  # a loaded machine oversleeps
        # One probe at a time, at most every offline_probe_max (+20 %), not 30 IDs each.
        probes = len(run.source.started) - requests_when_offline
        assert probes <= watched / (interval * 0.8) + 2, (probes, watched)
        # Requests already in flight when the server went away may each count as a row
        # problem (an answer to another arrived after they started); nothing beyond
        # those: the rest is one offline state, not one error per row.
        problems = sum(row.last_problem is not None for row in run.watchlist.all())
        assert problems <= run.scheduler.settings.concurrency
        sandbox.start()
        # How soon it notices is measured in virtual time (test_poller_unit.py), not here.
        online = await until(
            lambda: run.scheduler.connectivity.state is ConnectivityState.ONLINE,
            lambda: f"online again ({run.scheduler.connectivity.state})")
        await until(lambda: len({i for i, t, o in run.source.ended
                                 if o == "ok" and t > online}) == 30,
                    lambda: "every row answered again ({} of 30)".format(len(
                        {i for i, t, o in run.source.ended if o == "ok" and t > online})))
    assert run.states() == [ConnectivityState.OFFLINE, ConnectivityState.ONLINE]
    offline = next(u.connectivity for u in run.updates
                   if u.connectivity.state is ConnectivityState.OFFLINE)
    assert offline.since is not None and offline.retry_at is not None
    assert offline.retry_at >= offline.since
    assert offline.message in {"connection refused", "connection dropped"}
    assert all(row.last_problem is None for row in run.watchlist.all())


async def test_dropped_connections_switch_to_offline_and_back(sandbox: SandboxServer,
                                                              tmp_path: Path) -> None:
    ids = [sandbox.state.add_conversion(status="Processing", frozen=True) for _ in range(5)]
    async with Running(sandbox, tmp_path, quick(interval=0.05)) as run:
        run.add(ids)
        await until(lambda: len(run.source.ended) >= 5)
        sandbox.faults.drop_connection = 1.0
        await until(lambda: run.scheduler.connectivity.state is ConnectivityState.OFFLINE)
        sandbox.faults.drop_connection = 0.0
        await until(lambda: run.scheduler.connectivity.state is ConnectivityState.ONLINE)
    offline = next(u.connectivity for u in run.updates
                   if u.connectivity.state is ConnectivityState.OFFLINE)
    assert offline.message == "connection dropped"


async def test_401_stops_polling_until_a_new_client(sandbox: SandboxServer,
                                                    tmp_path: Path) -> None:
    ids = [sandbox.state.add_conversion(status="Processing", frozen=True) for _ in range(3)]
    async with Running(sandbox, tmp_path, quick(interval=0.05), api_key="wrong-key") as run:
        run.add(ids)
        await until(lambda: run.scheduler.connectivity.state is ConnectivityState.AUTH_FAILED)
        await no_request_in_flight(run)
        count = sandbox.state.request_count
        await asyncio.sleep(0.5)  # ten poll intervals in which nothing may be asked
        assert sandbox.state.request_count == count  # no more requests with the bad key
        assert all(row.status is None and row.last_problem is None
                   for row in run.watchlist.all())
        good = run.new_client(sandbox.api_key)
        run.scheduler.set_client(good)
        await until(lambda: all(row.status == "Processing" for row in run.watchlist.all()),
                    lambda: f"polled with the good key ({run.watchlist.all()})")
    assert run.states() == [ConnectivityState.AUTH_FAILED, ConnectivityState.ONLINE]
    failed = next(u.connectivity for u in run.updates
                  if u.connectivity.state is ConnectivityState.AUTH_FAILED)
    assert "401" in failed.message and "wrong-key" not in failed.message


async def test_a_404_after_our_delete_confirms_the_deletion(sandbox: SandboxServer,
                                                            tmp_path: Path) -> None:
    conversion = sandbox.state.add_conversion(status="Completed", frozen=False)
    settings = quick(interval=0.05, settled_interval=600.0)
    async with Running(sandbox, tmp_path, settings) as run:
        run.add([conversion])
        await until(lambda: run.requests(conversion) == 1)
        await asyncio.sleep(0.3)
        assert run.requests(conversion) == 1  # Completed: settled, not polled again soon
        answer = await run.client.delete(conversion)
        assert answer.payload is not None and answer.payload.status == "DeletionPending"
        run.watchlist.mark_delete_requested(conversion, time.time())
        run.scheduler.expect_deletion(conversion)
        await until(lambda: any(c.current == "DeletionPending" for u in run.updates
                                for c in u.changes))
        sandbox.state.advance(3600)  # past DeletionPending, Deleted and the purge: 404
        await until(lambda: (row := run.watchlist.get(conversion)) is not None
                    and row.deleted_at is not None)
        seen = run.requests(conversion)
        await asyncio.sleep(0.3)
        assert run.requests(conversion) == seen  # deleted: back to the settled rate
    row = run.watchlist.get(conversion)
    assert row is not None and row.status == "Deleted" and is_purged(row)


@pytest.mark.parametrize(
    ("faults", "problem"),
    [
        ({"html_error": 1.0}, "HTTP 502, HTML page"),
        ({"error_rate": 1.0}, "HTTP 500: Injected fault: the service answered 500"),
        ({"malformed_json": 1.0}, "bad JSON from server"),
        ({"error_rate": 1.0, "error_status": 503}, "HTTP 503: Injected fault: the service "
                                                   "answered 503"),
    ],
)
async def test_server_faults_become_short_row_problems(sandbox: SandboxServer,
                                                       tmp_path: Path,
                                                       faults: dict[str, Any],
                                                       problem: str) -> None:
    conversion = sandbox.state.add_conversion(status="Processing", frozen=True)
    sandbox.faults.update(faults)
    async with Running(sandbox, tmp_path, quick(interval=0.05)) as run:
        run.add([conversion])
        await until(lambda: (row := run.watchlist.get(conversion)) is not None
                    and row.last_problem is not None)
        assert run.scheduler.connectivity.state is ConnectivityState.ONLINE
    row = run.watchlist.get(conversion)
    assert row is not None and row.last_problem == problem and row.status is None
