"""PollScheduler timing logic against a fake StatusSource, in virtual time.

The event loop's clock is replaced for each test (``VirtualClock``): when the
loop has nothing to do but wait for a timer, time jumps to that timer. Sleeps of
minutes take microseconds and every timing below is exact, so the assertions can
be tight. The watchlist is the real SQLite one, in ``tmp_path``.
"""

from __future__ import annotations

import asyncio
import random
import selectors
from collections import Counter
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from tests.waiting import Describe, until
from tui.api.errors import (
    AuthenticationError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from tui.api.models import ConversionStatus, Envelope, StatusEnvelope
from tui.core.polling.queue import _FLAGS, PollSlot
from tui.core.polling.scheduler import PollScheduler
from tui.core.polling.types import ConnectivityState, PollSettings, PollUpdate
from tui.core.watchlist import PollResult, WatchedConversion, Watchlist

WALL0 = 1_750_000_000.0

Outcome = str | Callable[[int], str]


class VirtualClock:
    """Makes the running loop's time virtual: idle waits jump straight to the next timer."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.now = loop.time()  # continue from the real clock: timers already set stay valid
        selector = getattr(loop, "_selector", None)
        assert isinstance(selector, selectors.BaseSelector), "needs a selector event loop"
        self._selector = selector
        self._real_select = selector.select

    def _select(self, timeout: float | None = None) -> list[Any]:
        events = self._real_select(0)
        if events:
            return events
        if timeout is None:
            return self._real_select(0.05)  # nothing scheduled at all: a real short wait
        self.now += max(0.0, timeout)
        return []

    def __enter__(self) -> VirtualClock:
        self.loop.time = lambda: self.now  # type: ignore[method-assign]
        self._selector.select = self._select  # type: ignore[method-assign]
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        del self.loop.time
        del self._selector.select


def envelope(conversion_id: int, status: str) -> StatusEnvelope:
    return StatusEnvelope(payload=ConversionStatus(id=conversion_id, status=status,
                                                   file_name=f"f{conversion_id}.csv"))


class FakeSource:
    """A StatusSource that answers after ``latency`` (virtual) seconds and counts everything."""

    def __init__(self, latency: float = 0.01, default: Outcome = "Processing") -> None:
        self.latency = latency
        self.default: Outcome = default
        self.by_id: dict[int, Outcome] = {}
        self.latency_by_id: dict[int, float] = {}
        self.calls: list[tuple[int, float]] = []
        self._open: Counter[int] = Counter()
        self.overlaps = 0
        self.concurrent = 0
        self.max_concurrent = 0

    async def get_status(self, conversion_id: int) -> StatusEnvelope:
        loop = asyncio.get_running_loop()
        self.calls.append((conversion_id, loop.time()))
        if self._open[conversion_id]:
            self.overlaps += 1
        self._open[conversion_id] += 1
        self.concurrent += 1
        self.max_concurrent = max(self.max_concurrent, self.concurrent)
        try:
            await asyncio.sleep(self.latency_by_id.get(conversion_id, self.latency))
            outcome = self.by_id.get(conversion_id, self.default)
            status = outcome(conversion_id) if callable(outcome) else outcome
            return envelope(conversion_id, status)
        finally:
            self._open[conversion_id] -= 1
            self.concurrent -= 1

    def starts(self, conversion_id: int | None = None, after: float = -1.0) -> list[float]:
        return [t for i, t in self.calls if (conversion_id is None or i == conversion_id)
                and t > after]


def raises(factory: Callable[[], Exception]) -> Callable[[int], str]:
    def outcome(conversion_id: int) -> str:
        raise factory()
    return outcome


def server_error() -> ServerError:
    return ServerError("The server failed (HTTP 500).", status_code=500,
                       envelope=Envelope(errors=["boom"]))


def refused() -> TransportError:
    return TransportError("127.0.0.1:1 refused the connection.", reason="refused")


def rate_limited(after: float | None) -> RateLimitedError:
    error = RateLimitedError("Too many requests (HTTP 429).", status_code=429)
    error.retry_after = after
    return error


class Harness:
    """A scheduler on a real watchlist, run in virtual time."""

    def __init__(self, tmp_path: Path, source: Any, settings: PollSettings, *,
                 known: dict[int, str] | None = None, seed: int = 7) -> None:
        self.loop = asyncio.get_running_loop()
        self.clock = VirtualClock(self.loop).__enter__()  # before anything reads the time
        self.watchlist = Watchlist(tmp_path / "watch.sqlite3")
        if known:  # IDs whose status was seen in an earlier session
            self.watchlist.add(known)
            self.watchlist.record_results([PollResult(i, WALL0, envelope(i, s))
                                           for i, s in known.items()])
        self.updates: list[PollUpdate] = []
        self.update_times: list[float] = []
        self.source = source
        self.scheduler = PollScheduler(
            source, self.watchlist, settings, self._on_update,
            clock=lambda: self.loop.time(), wall_clock=lambda: WALL0 + self.loop.time(),
            rng=random.Random(seed))
        self._task: asyncio.Task[None] | None = None

    def _on_update(self, update: PollUpdate) -> None:
        self.updates.append(update)
        self.update_times.append(self.loop.time())

    def now(self) -> float:
        return self.loop.time()

    def add(self, ids: Any) -> None:
        """What the app does when a user adds IDs: store them, then tell the scheduler."""
        added = self.watchlist.add(ids)
        self.scheduler.watch(added)

    def states(self) -> list[ConnectivityState]:
        """Connectivity changes in the order they were reported (from ONLINE at start)."""
        seen: list[ConnectivityState] = []
        previous = ConnectivityState.ONLINE
        for update in self.updates:
            if update.connectivity.state is not previous:
                previous = update.connectivity.state
                seen.append(previous)
        return seen

    async def __aenter__(self) -> Harness:
        self.start = self.now()
        self._task = asyncio.ensure_future(self.scheduler.run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.scheduler.stop()
        assert self._task is not None
        await self._task
        self.clock.__exit__(None, None, None)
        _OPEN.append(self.watchlist)  # closed after the test, which may still read it


_OPEN: list[Watchlist] = []


@pytest.fixture(autouse=True)
def _close_watchlists() -> Any:
    yield
    while _OPEN:
        _OPEN.pop().close()


def fast(**changes: Any) -> PollSettings:
    values: dict[str, Any] = {"interval": 1.0, "settled_interval": 60.0,
                              "request_budget": 1000.0, "concurrency": 8}
    values.update(changes)
    return PollSettings(**values)


async def virtual_until(h: Harness, condition: Callable[[], object], describe: Describe,
                        *, within: float = 600.0) -> float:
    """Let virtual time run until ``condition()`` holds (checked every 50 virtual ms);
    fail after ``within`` virtual seconds with ``describe()``. For an end state whose
    exact time is not what the test is about (a fixed sleep would race the backoff)."""
    return await until(condition, describe, clock=h.now, bound=within,
                       pause=lambda: asyncio.sleep(0.05))


def problems_of(rows: list[WatchedConversion]) -> str:
    """Each row's problem and last check, for a failure message."""
    return ", ".join(f"{r.id}: {r.last_problem!r} at {r.last_checked}" for r in rows)


# -- cadence -----------------------------------------------------------------------------


async def test_active_conversion_is_polled_every_interval_after_the_last_answer(
        tmp_path: Path) -> None:
    source = FakeSource(latency=0.05)
    async with Harness(tmp_path, source, fast()) as h:
        h.add([1])
        await asyncio.sleep(5.5)
        starts = [t - h.start for t in source.starts(1)]
    assert starts == pytest.approx([0.0, 1.05, 2.10, 3.15, 4.20, 5.25], abs=1e-6)
    row = h.watchlist.get(1)
    assert row is not None and row.status == "Processing"


async def test_status_change_reaches_on_update_and_settled_rows_slow_down(
        tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    async with Harness(tmp_path, source, fast(settled_interval=100.0)) as h:
        source.by_id[5] = lambda _i: "Completed" if h.now() - h.start > 2.5 else "Processing"
        h.add([5])
        await asyncio.sleep(60)
        starts = [t - h.start for t in source.starts(5)]
    changes = [(c.previous, c.current) for u in h.updates for c in u.changes]
    assert changes == [(None, "Processing"), ("Processing", "Completed")]
    last_rows = [row for u in h.updates for row in u.rows if row.id == 5]
    assert last_rows[-1].status == "Completed"
    # Four polls until Completed is seen (0, 1.01, 2.02, 3.03), then nothing for a minute.
    assert len(starts) == 4


async def test_unknown_status_words_are_polled_like_active_ones(tmp_path: Path) -> None:
    source = FakeSource(latency=0.01, default="Reticulating")
    known = {1: "Reticulating", 2: "Completed"}
    async with Harness(tmp_path, source, fast(), known=known):
        await asyncio.sleep(10)
    assert len(source.starts(1)) >= 10  # unknown word: every interval
    assert len(source.starts(2)) <= 1  # settled: first re-check spread over 60 s


async def test_settled_rows_first_checks_are_spread_over_the_settled_interval(
        tmp_path: Path) -> None:
    source = FakeSource(latency=0.01, default="Completed")
    settings = fast(settled_interval=100.0, request_budget=1000.0)
    known = dict.fromkeys(range(1, 1001), "Completed")
    async with Harness(tmp_path, source, settings, known=known) as h:
        await asyncio.sleep(100.5)
    first: dict[int, float] = {}
    for conversion_id, started in source.calls:
        first.setdefault(conversion_id, started - h.start)
    assert len(first) == 1000 and max(first.values()) <= 100.0
    per_10s = Counter(int(offset // 10) for offset in first.values())
    assert all(55 <= per_10s[b] <= 145 for b in range(10)), per_10s


async def test_settled_rechecks_are_capped_to_their_share_of_the_budget(
        tmp_path: Path) -> None:
    source = FakeSource(latency=0.01, default=lambda i: "Processing" if i <= 5 else "Completed")
    settings = fast(settled_interval=5.0, request_budget=20.0, settled_share=0.1)
    statuses = dict.fromkeys(range(6, 1006), "Completed")
    statuses.update(dict.fromkeys(range(1, 6), "Processing"))
    async with Harness(tmp_path, source, settings, known=statuses):
        await asyncio.sleep(30)
    settled_calls = [t for i, t in source.calls if i > 5]
    active_calls = [t for i, t in source.calls if i <= 5]
    # The settled rows want 200 req/s (1,000 every 5 s); they get 10 % of 20 = 2 req/s.
    assert len(settled_calls) <= 2 * 30 + 1
    assert len(settled_calls) >= 2 * 30 - 2
    # Active rows keep their cadence regardless (5 rows, every ~1.01 s).
    assert len(active_calls) >= 5 * 29


async def test_request_rate_follows_active_rows_not_watched_rows(tmp_path: Path) -> None:
    source = FakeSource(latency=0.01, default=lambda i: "Processing" if i <= 20 else "Completed")
    settings = fast(interval=1.0, settled_interval=600.0, request_budget=50.0)
    statuses = dict.fromkeys(range(21, 2021), "Completed")
    statuses.update(dict.fromkeys(range(1, 21), "Processing"))
    async with Harness(tmp_path, source, settings, known=statuses) as h:
        await asyncio.sleep(62)
        window = [(i, t) for i, t in source.calls if h.start + 2 <= t < h.start + 62]
    rate = len(window) / 60
    active_rate = sum(1 for i, _t in window if i <= 20) / 60
    target = 20 / 1.01  # 20 active rows every interval (plus latency)
    assert active_rate == pytest.approx(target, rel=0.05)
    # 2,000 settled rows every 600 s add 3.3 req/s; the watched count does not drive the rate.
    assert rate < target + 2000 / 600 * 1.5


# -- bounds -------------------------------------------------------------------------------


async def test_concurrency_is_bounded_and_a_cycle_is_close_to_ideal(tmp_path: Path) -> None:
    source = FakeSource(latency=0.05)
    settings = fast(interval=60.0, concurrency=8, request_budget=float("inf"))
    async with Harness(tmp_path, source, settings) as h:
        h.add(range(1, 201))
        await asyncio.sleep(5)
        starts = sorted(t - h.start for t in source.starts())
    assert source.max_concurrent == 8
    assert len(starts) == 200
    ideal = 200 * 0.05 / 8
    assert starts[-1] + 0.05 <= ideal * 1.01
    assert h.scheduler.stats.max_in_flight == 8


async def test_request_budget_is_respected(tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    settings = fast(interval=0.5, request_budget=10.0, concurrency=8)
    async with Harness(tmp_path, source, settings) as h:
        h.add(range(1, 501))
        await asyncio.sleep(10)
        starts = sorted(t - h.start for t in source.starts())
    burst = min(10.0 / 4, 8)
    assert 10 * 10 - 1 <= len(starts) <= 10 * 10 + burst + 1
    for first in range(len(starts)):
        in_window = sum(1 for t in starts[first:] if t < starts[first] + 1.0)
        assert in_window <= 10 + burst + 1


async def test_polls_of_one_id_never_overlap(tmp_path: Path) -> None:
    source = FakeSource(latency=3.0)
    async with Harness(tmp_path, source, fast(interval=0.2)) as h:
        h.add([1, 2, 3])
        for _ in range(100):
            h.scheduler.refresh()
            h.scheduler.refresh([2])
            await asyncio.sleep(0.1)
    assert source.overlaps == 0
    for conversion_id in (1, 2, 3):
        starts = source.starts(conversion_id)
        assert len(starts) >= 3
        assert all(b - a >= 3.0 - 1e-9 for a, b in pairwise(starts))


# -- user controls ------------------------------------------------------------------------


async def test_pause_stops_polling_refresh_still_works_and_resume_catches_up(
        tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    async with Harness(tmp_path, source, fast()) as h:
        h.add(range(1, 6))
        await asyncio.sleep(2.5)
        h.scheduler.pause()
        paused_at = h.now()
        assert h.scheduler.paused
        await asyncio.sleep(2)
        h.scheduler.refresh([3])
        await asyncio.sleep(2)
        resumed_at = h.now()
        h.scheduler.resume()
        await asyncio.sleep(0.5)
    during = [(i, t) for i, t in source.calls if paused_at < t < resumed_at]
    assert [i for i, _t in during] == [3]
    after = {i for i, t in source.calls if resumed_at <= t < resumed_at + 0.1}
    assert after == {1, 2, 3, 4, 5}
    assert h.states() == [ConnectivityState.PAUSED, ConnectivityState.ONLINE]
    pause_update = next(u for u in h.updates if u.connectivity.state is ConnectivityState.PAUSED)
    assert pause_update.rows == [] and pause_update.connectivity.since == WALL0 + paused_at


async def test_refresh_puts_settled_rows_first_and_ignores_unwatched_ids(
        tmp_path: Path) -> None:
    source = FakeSource(latency=0.01, default="Completed")
    known = dict.fromkeys(range(1, 51), "Completed")
    settings = fast(settled_interval=1000.0)
    async with Harness(tmp_path, source, settings, known=known) as h:
        await asyncio.sleep(1)
        before = len(source.calls)
        h.scheduler.refresh([7, 8, 999])
        await asyncio.sleep(0.1)
        assert {i for i, _t in source.calls[before:]} == {7, 8}
        h.scheduler.refresh()
        await asyncio.sleep(1)
    assert len({i for i, _t in source.calls}) == 50


async def test_a_big_refresh_does_not_starve_active_rows(tmp_path: Path) -> None:
    source = FakeSource(latency=0.01, default=lambda i: "Processing" if i <= 2 else "Completed")
    settings = fast(interval=1.0, settled_interval=10_000.0, request_budget=10.0)
    statuses = dict.fromkeys(range(3, 503), "Completed")
    statuses.update({1: "Processing", 2: "Processing"})
    async with Harness(tmp_path, source, settings, known=statuses) as h:
        await asyncio.sleep(1)
        h.scheduler.refresh()
        await asyncio.sleep(30)
    for conversion_id in (1, 2):
        starts = source.starts(conversion_id, after=h.start + 2)
        gaps = [b - a for a, b in pairwise(starts)]
        assert len(starts) >= 12 and max(gaps) <= 2 * 1.0 + 0.5


# -- errors --------------------------------------------------------------------------------


async def test_server_errors_back_off_per_id_with_jitter_and_record_a_short_problem(
        tmp_path: Path) -> None:
    source = FakeSource(latency=0.0)
    source.by_id[1] = raises(server_error)
    async with Harness(tmp_path, source, fast(max_backoff=8.0)) as h:
        h.add([1, 2])
        await asyncio.sleep(40)
        row = h.watchlist.get(1)
        assert row is not None and row.last_problem == "HTTP 500: boom"
        assert row.problem_count == len(source.starts(1))
        source.by_id[1] = "Processing"
        fixed_at = h.now()
        await asyncio.sleep(20)
    starts = source.starts(1)
    gaps = [b - a for a, b in pairwise(starts)]
    expected = [2.0, 4.0, 8.0, 8.0, 8.0]
    for gap, want in zip(gaps, expected, strict=False):
        assert want * 0.8 <= gap <= want * 1.2
    assert len(set(gaps[:5])) == 5  # jittered, not lock-step
    after = [t for t in starts if t > fixed_at]
    assert len(after) >= 2 and after[-1] - after[-2] == pytest.approx(1.0)
    assert len(source.starts(2)) >= 59  # the healthy row never slowed down
    row = h.watchlist.get(1)
    assert row is not None and row.last_problem is None and row.problem_count == 0


async def test_429_holds_everyone_until_retry_after_then_ramps_up(tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    limited_at: list[float] = []

    def once_limited(i: int) -> str:
        if not limited_at and h.now() - h.start > 2:
            limited_at.append(h.now())
            raise rate_limited(3.0)
        return "Processing"

    settings = fast(interval=0.5, request_budget=100.0)
    async with Harness(tmp_path, source, settings) as h:
        source.by_id[3] = once_limited
        h.add(range(1, 11))
        await asyncio.sleep(10)
    assert limited_at
    hold_end = limited_at[0] + 3.0
    assert source.starts(after=limited_at[0]) and min(source.starts(after=limited_at[0])) >= (
        hold_end - 1e-9)
    first_half_second = [t for t in source.starts() if hold_end <= t < hold_end + 0.5]
    assert 1 <= len(first_half_second) < 10  # the ten due rows come back gradually
    assert {i for i, t in source.calls if hold_end <= t < hold_end + 3} == set(range(1, 11))
    assert h.states() == [ConnectivityState.RATE_LIMITED, ConnectivityState.ONLINE]
    limited = next(u.connectivity for u in h.updates
                   if u.connectivity.state is ConnectivityState.RATE_LIMITED)
    assert limited.retry_at == pytest.approx(WALL0 + hold_end)
    assert limited.message == "HTTP 429"  # the cause, not the client's whole sentence
    assert all(row.last_problem is None for row in h.watchlist.all())


async def test_429_without_retry_after_holds_for_the_default(tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    calls = Counter[int]()

    def first_call_limited(i: int) -> str:
        calls[i] += 1
        if calls[i] == 1:
            raise rate_limited(None)
        return "Processing"

    source.by_id[1] = first_call_limited
    async with Harness(tmp_path, source, fast(rate_limit_hold=5.0)) as h:
        h.add([1])
        await asyncio.sleep(8)
    starts = [t - h.start for t in source.starts(1)]
    assert starts[0] == pytest.approx(0.0) and starts[1] == pytest.approx(5.01, abs=1e-6)


async def test_lost_connection_is_one_offline_state_probed_with_backoff(
        tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    interval = 20.0  # long, so that the probe backoff shows before the interval caps it
    async with Harness(tmp_path, source, fast(interval=interval)) as h:
        h.add(range(1, 21))
        await asyncio.sleep(2)
        source.default = raises(refused)
        await asyncio.sleep(118)
        offline_calls = list(source.calls)
        source.default = "Processing"
        healed_at = h.now()
        await asyncio.sleep(2 * interval)
    states = h.states()
    assert states == [ConnectivityState.OFFLINE, ConnectivityState.ONLINE]
    offline = [u.connectivity for u in h.updates
               if u.connectivity.state is ConnectivityState.OFFLINE]
    assert offline[0].message == "connection refused"
    assert len({c.since for c in offline}) == 1  # one outage, one "since"
    assert len({c.retry_at for c in offline}) == len(offline)  # each probe's next time shown
    # Nothing was recorded against the rows: one banner, not twenty row errors.
    assert all(row.last_problem is None for row in h.watchlist.all())
    # The rows fell due at 20.01 s: one wave (concurrency 8) failed, then one probe at a
    # time after 1, 2, 4, 8, 16 s (±20 %), and then every poll interval (20 s), not 30 s.
    wave = [t for _i, t in offline_calls if 20.0 < t - h.start < 20.5]
    assert len(wave) == 8
    probes = [t for _i, t in offline_calls if t - h.start > 20.5]
    assert 1 * 0.8 <= probes[0] - (wave[0] + 0.01) <= 1 * 1.2 + 0.01
    gaps = [b - a for a, b in pairwise(probes)]
    wants = [2, 4, 8, 16, 20, 20]
    assert len(gaps) >= len(wants) - 1
    for gap, want in zip(gaps, wants, strict=False):
        assert want * 0.8 - 0.02 <= gap <= want * 1.2 + 0.02
    assert len({i for i, t in offline_calls if t > probes[0]}) == 1
    back = [i for i, t in source.calls if healed_at <= t]
    assert set(back) == set(range(1, 21))
    online = next(u for u in h.updates if u.connectivity.state is ConnectivityState.ONLINE)
    assert online.connectivity.since is not None


async def test_after_a_long_outage_rows_are_fresh_within_two_intervals(
        tmp_path: Path) -> None:
    # The default settings (5 s interval, probes backing off to at most 30 s): the probe
    # delay is capped at the interval, so the return of the server is noticed within one
    # interval (+20 % jitter) and every row is fresh within two.
    source = FakeSource(latency=0.05)
    settings = PollSettings()
    assert settings.offline_probe_max > settings.interval  # the cap is the interval's
    async with Harness(tmp_path, source, settings) as h:
        h.add(range(1, 31))
        await asyncio.sleep(6)
        source.default = raises(refused)
        await asyncio.sleep(300)
        during = list(source.calls)
        source.default = "Processing"
        healed_at = h.now()
        await asyncio.sleep(3 * settings.interval)
    probes = [t for _i, t in during if t > h.start + 20]
    assert max(b - a for a, b in pairwise(probes)) <= settings.interval * 1.2 + 0.06
    first_back = {}
    for conversion_id, started in source.calls:
        if started >= healed_at:
            first_back.setdefault(conversion_id, started - healed_at)
    assert set(first_back) == set(range(1, 31))
    assert max(first_back.values()) <= 2 * settings.interval
    assert h.states() == [ConnectivityState.OFFLINE, ConnectivityState.ONLINE]


async def test_one_dropped_request_while_others_answer_is_a_row_problem(
        tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    source.latency_by_id[1] = 0.5
    dropped = TransportError("127.0.0.1:1 closed the connection without answering.",
                             reason="reset")
    calls = Counter[int]()

    def drop_first(i: int) -> str:
        calls[i] += 1
        if calls[i] == 1:
            raise dropped
        return "Processing"

    source.by_id[1] = drop_first
    async with Harness(tmp_path, source, fast()) as h:
        h.add(range(1, 6))
        # Recorded once the next answer shows the link up.
        await virtual_until(h, lambda: (one := h.watchlist.get(1)) is not None
                            and one.last_problem is not None,
                            lambda: f"a problem for row 1 ({problems_of(h.watchlist.all())})",
                            within=60)
        row = h.watchlist.get(1)
    assert row is not None and row.last_problem == "connection dropped"
    assert ConnectivityState.OFFLINE not in h.states()


def reset() -> TransportError:
    return TransportError("127.0.0.1:1 closed the connection without answering.",
                          reason="reset")


def sometimes(rate: float, factory: Callable[[], Exception], seed: int = 11
              ) -> Callable[[int], str]:
    """An outcome that raises ``factory()`` for a seeded ``rate`` of the calls."""
    dice = random.Random(seed)

    def outcome(conversion_id: int) -> str:
        if dice.random() < rate:
            raise factory()
        return "Processing"
    return outcome


async def test_dropped_connections_while_most_requests_answer_are_row_problems(
        tmp_path: Path) -> None:
    # 30 % of the requests dropped within milliseconds: the link is up (70 % answer), so
    # the drops are problems of their rows, never the whole app OFFLINE.
    source = FakeSource(latency=0.01)
    async with Harness(tmp_path, source, fast()) as h:
        h.add(range(1, 11))
        await asyncio.sleep(1.5)
        source.default = sometimes(0.3, reset)
        await asyncio.sleep(30)
        source.default = "Processing"
        cleared_at = WALL0 + h.now()
        # A row that lost several requests in a row has backed off for a while: wait for
        # each row's first successful check after the drops stopped, however long.
        await virtual_until(h, lambda: all(
            row.last_problem is None and (row.last_checked or 0.0) >= cleared_at
            for row in h.watchlist.all()),
            lambda: f"every row checked fine since {cleared_at}: "
                    f"{problems_of(h.watchlist.all())}")
    problems = [row.last_problem for u in h.updates for row in u.rows if row.last_problem]
    assert len(problems) >= 20 and set(problems) == {"connection dropped"}
    assert h.states() == []  # never OFFLINE: no banner at all
    assert all(row.last_problem is None for row in h.watchlist.all())  # and all fine again


async def test_a_refused_connection_is_the_link_even_right_after_an_answer(
        tmp_path: Path) -> None:
    # The server goes away while row 1's request is out; the others were answered a
    # moment earlier. "Refused" still means nobody listens: OFFLINE, no row problem.
    source = FakeSource(latency=0.01)
    source.latency_by_id[1] = 0.5
    async with Harness(tmp_path, source, fast()) as h:
        source.by_id[1] = lambda _i: (raise_(refused()) if h.now() - h.start > 3
                                      else "Processing")
        h.add(range(1, 6))
        await asyncio.sleep(3.2)  # row 1's fourth request is out, the others answer
        source.default = raises(refused)
        await asyncio.sleep(5)
        source.default = "Processing"
        source.by_id.pop(1)
        await asyncio.sleep(3)
    assert h.states() == [ConnectivityState.OFFLINE, ConnectivityState.ONLINE]
    assert not [row.id for u in h.updates for row in u.rows if row.last_problem]


async def test_a_drop_as_the_server_shuts_down_is_the_outage_not_a_row_problem(
        tmp_path: Path) -> None:
    # A server going away resets the request in flight (answers came a moment ago), then
    # refuses: the reset belongs to the outage. No row problem, and the row is asked as
    # soon as the link is back, not after a backoff.
    source = FakeSource(latency=0.01)
    source.latency_by_id[1] = 0.5  # row 1 is out 4.5-5.0 s; the others answered at 4.05
    async with Harness(tmp_path, source, fast()) as h:
        h.add(range(1, 6))
        await asyncio.sleep(4.6)
        source.by_id[1] = raises(reset)
        source.default = raises(refused)
        await asyncio.sleep(5)
        source.by_id.pop(1)
        source.default = "Processing"
        healed_at = h.now()
        await asyncio.sleep(3)
    assert h.states() == [ConnectivityState.OFFLINE, ConnectivityState.ONLINE]
    assert not [row.id for u in h.updates for row in u.rows if row.last_problem]
    first_back = min(t for t in source.starts(1) if t >= healed_at) - healed_at
    assert first_back <= 1.2 + 0.5  # the next probe (at most an interval) and its answer


def raise_(error: Exception) -> str:
    raise error


def timed_out() -> TransportError:
    return TransportError("Timed out waiting for an answer from 127.0.0.1:1.",
                          reason="timeout")


async def test_one_timeout_after_a_silence_is_asked_again_two_go_offline(
        tmp_path: Path) -> None:
    # One watched row whose requests take 3 s (interval 1 s): when one times out, nothing
    # has answered for longer than two intervals. One failure proves little, so the row is
    # asked again at once, without a problem; two in a row mean the link: OFFLINE.
    source = FakeSource(latency=3.0)
    calls = Counter[int]()
    failing = {3}

    def times_out(i: int) -> str:
        calls[i] += 1
        if calls[i] in failing:
            raise timed_out()
        return "Processing"

    source.by_id[1] = times_out
    async with Harness(tmp_path, source, fast()) as h:
        h.add([1])
        await asyncio.sleep(16)
        starts = source.starts(1)
        assert starts[3] - starts[2] == pytest.approx(3.0)  # asked again as it failed
        assert starts[4] - starts[3] == pytest.approx(4.0)  # then the usual cadence
        assert h.states() == []
        row = h.watchlist.get(1)
        assert row is not None and row.problem_count == 0
        failing.update({calls[1] + 1, calls[1] + 2})  # the next two requests time out
        await asyncio.sleep(12)
    assert h.states() == [ConnectivityState.OFFLINE, ConnectivityState.ONLINE]
    offline = next(u.connectivity for u in h.updates
                   if u.connectivity.state is ConnectivityState.OFFLINE)
    assert offline.message == "timed out"
    row = h.watchlist.get(1)
    assert row is not None and row.problem_count == 0


async def test_rows_backed_off_in_a_server_error_spell_return_soon_after_it(
        tmp_path: Path) -> None:
    # Every row fails for 40 s: each backs off (2, 4, 8, 16, 32 s) and the app sends far
    # less than healthy polling would; once the server is healthy again, every row is
    # checked within two intervals, not after the rest of its backoff.
    source = FakeSource(latency=0.01)
    interval = 1.0
    async with Harness(tmp_path, source, fast(interval=interval)) as h:
        h.add(range(1, 11))
        await asyncio.sleep(1.5)
        spell_start = h.now()
        source.default = raises(server_error)
        await asyncio.sleep(40)
        healed_at = h.now()
        source.default = "Processing"
        await asyncio.sleep(5)
    during = [t for _i, t in source.calls if spell_start < t < healed_at]
    assert len(during) <= 100  # healthy polling: 400; backoff plus one request a second
    first_back: dict[int, float] = {}
    for conversion_id, started in source.calls:
        if started >= healed_at:
            first_back.setdefault(conversion_id, started - healed_at)
    assert set(first_back) == set(range(1, 11))
    assert max(first_back.values()) <= 2 * interval + 0.05
    assert all(row.last_problem is None for row in h.watchlist.all())


async def test_rows_return_within_two_intervals_after_a_partial_error_spell(
        tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    interval = 1.0
    async with Harness(tmp_path, source, fast(interval=interval)) as h:
        h.add(range(1, 21))
        await asyncio.sleep(1.5)
        source.default = sometimes(0.3, server_error)
        await asyncio.sleep(20)
        backed_off = [row.id for row in h.watchlist.all() if row.problem_count >= 2]
        healed_at = h.now()
        source.default = "Processing"
        await asyncio.sleep(5)
    assert backed_off  # some rows were several errors deep when the spell ended
    first_back: dict[int, float] = {}
    for conversion_id, started in source.calls:
        if started >= healed_at:
            first_back.setdefault(conversion_id, started - healed_at)
    assert set(first_back) == set(range(1, 21))
    assert max(first_back.values()) <= 2 * interval + 0.05


async def test_ids_that_keep_failing_while_others_answer_keep_their_backoff(
        tmp_path: Path) -> None:
    # Two broken conversions among healthy ones: not a server spell, so they back off
    # (2, 4, 8, 16, 32, 64 s) instead of being asked every interval.
    source = FakeSource(latency=0.01)
    source.by_id[1] = raises(server_error)
    source.by_id[2] = raises(server_error)
    async with Harness(tmp_path, source, fast()) as h:
        h.add(range(1, 11))
        await asyncio.sleep(120)
    for broken in (1, 2):
        starts = source.starts(broken)
        assert len(starts) <= 10  # healthy: 120
        gaps = [b - a for a, b in pairwise(starts)]
        assert max(gaps) >= 32 * 0.8 and gaps[-1] >= 16 * 0.8
    assert len(source.starts(3)) >= 110  # the healthy rows never slowed down


async def test_auth_failure_stops_everything_until_a_new_client(tmp_path: Path) -> None:
    bad = FakeSource(latency=0.01, default=raises(
        lambda: AuthenticationError("The server rejected the API key (HTTP 401).",
                                    status_code=401)))
    good = FakeSource(latency=0.01)
    async with Harness(tmp_path, bad, fast()) as h:
        h.add(range(1, 11))
        await asyncio.sleep(60)
        assert len(bad.calls) <= 8  # the first wave (concurrency) and nothing after
        assert h.scheduler.connectivity.state is ConnectivityState.AUTH_FAILED
        h.scheduler.refresh()
        await asyncio.sleep(1)
        assert len(bad.calls) <= 8
        h.scheduler.set_client(good)
        switched = h.now()
        await asyncio.sleep(0.5)
    assert {i for i, _t in good.calls} == set(range(1, 11))
    assert min(t for _i, t in good.calls) == pytest.approx(switched)
    assert h.states() == [ConnectivityState.AUTH_FAILED, ConnectivityState.ONLINE]
    failed = next(u.connectivity for u in h.updates
                  if u.connectivity.state is ConnectivityState.AUTH_FAILED)
    assert failed.message == "HTTP 401"  # the cause, not the client's whole sentence
    assert all(row.last_problem is None for row in h.watchlist.all())


async def test_deletion_is_followed_at_the_active_rate_until_404(tmp_path: Path) -> None:
    source = FakeSource(latency=0.01, default="Completed")
    settings = fast(settled_interval=300.0)
    async with Harness(tmp_path, source, settings, known={9: "Completed"}) as h:
        await asyncio.sleep(1)
        assert source.starts(9) == []
        source.by_id[9] = "DeletionPending"
        h.watchlist.mark_delete_requested(9, WALL0 + h.now())
        h.scheduler.expect_deletion(9)
        asked = h.now()
        await asyncio.sleep(2.5)
        source.by_id[9] = raises(lambda: NotFoundError("Conversion 9 was not found (HTTP 404).",
                                                        status_code=404))
        await asyncio.sleep(200)
    starts = [t - asked for t in source.starts(9)]
    assert starts == pytest.approx([0.0, 1.01, 2.02, 3.03], abs=1e-6)
    row = h.watchlist.get(9)
    assert row is not None and row.status == "Deleted" and row.deleted_at is not None
    changes = [(c.previous, c.current) for u in h.updates for c in u.changes]
    assert changes == [("Completed", "DeletionPending"), ("DeletionPending", "Deleted")]


async def test_results_are_flushed_in_batches_at_most_every_flush_interval(
        tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    settings = fast(interval=30.0, concurrency=50, request_budget=float("inf"))
    async with Harness(tmp_path, source, settings) as h:
        recorded: list[int] = []
        real = h.watchlist.record_results

        def counting(results: Any) -> Any:
            recorded.append(len(results))
            return real(results)

        h.watchlist.record_results = counting  # type: ignore[method-assign]
        h.add(range(1, 1001))
        await asyncio.sleep(3)
    with_rows = [u for u in h.updates if u.rows]
    assert sum(len(u.rows) for u in with_rows) == 1000
    assert recorded == [len(u.rows) for u in with_rows]  # one transaction per update
    assert all(len(u.rows) <= 200 for u in with_rows)
    timed = list(zip(h.update_times, h.updates, strict=True))
    for (t0, _u0), (t1, u1) in pairwise(timed):
        assert t1 - t0 >= 0.2 - 1e-9 or len(u1.rows) == 200
    assert len(with_rows) < 20  # 1,000 results, not 1,000 updates


async def test_idle_scheduler_sleeps_until_the_next_due_time(tmp_path: Path) -> None:
    source = FakeSource(latency=0.01, default="Completed")
    settings = fast(settled_interval=600.0)
    async with Harness(tmp_path, source, settings, known={1: "Completed"}) as h:
        wakeups = 0
        dispatch = h.scheduler._dispatch

        def counted(now: float) -> float | None:
            nonlocal wakeups
            wakeups += 1
            return dispatch(now)

        h.scheduler._dispatch = counted  # type: ignore[method-assign]
        await asyncio.sleep(3600)
    assert 5 <= len(source.calls) <= 8
    assert wakeups <= 4 * len(source.calls) + 2


async def test_unwatch_drops_answers_in_flight(tmp_path: Path) -> None:
    source = FakeSource(latency=1.0)
    async with Harness(tmp_path, source, fast()) as h:
        h.add([1, 2])
        await asyncio.sleep(0.5)
        h.scheduler.unwatch([1])
        h.watchlist.remove([1])
        await asyncio.sleep(5)
    assert len(source.starts(1)) == 1
    assert all(row.id != 1 for u in h.updates for row in u.rows)
    assert h.scheduler.watched_ids() == [2]


async def test_stop_flushes_waiting_results_and_run_returns(tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    settings = fast(flush_interval=10.0)
    async with Harness(tmp_path, source, settings) as h:
        h.add([1, 2, 3])
        await asyncio.sleep(0.05)
        assert [len(u.rows) for u in h.updates] == [3]  # the first batch goes at once
        h.scheduler.refresh()
        await asyncio.sleep(0.05)
        assert len(h.updates) == 1  # the next is held for the flush interval ...
        assert h.scheduler.stats.requests_sent == 6
    assert [len(u.rows) for u in h.updates] == [3, 3]  # ... and not lost on stop


async def test_stats_count_requests_and_errors_by_kind(tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    source.by_id[2] = raises(server_error)
    async with Harness(tmp_path, source, fast()) as h:
        h.add([1, 2])
        await asyncio.sleep(3.5)
        stats = h.scheduler.stats
    assert stats.requests_sent == len(source.calls)
    assert stats.errors == len(source.starts(2))
    assert stats.errors_by_kind == {"server": len(source.starts(2))}
    assert stats.in_flight == 0


def test_settings_from_profile_and_validation() -> None:
    from tui.core.settings import ProfileSettings

    profile = ProfileSettings(name="p", base_url="https://x.example", poll_interval=2.5,
                              settled_interval=120.0, concurrency=3, request_budget=7.0)
    settings = PollSettings.from_profile(profile)
    assert (settings.interval, settings.settled_interval, settings.concurrency,
            settings.request_budget) == (2.5, 120.0, 3, 7.0)
    assert settings.settled_rate == 1.0  # 10 % of 7 is below the 1 req/s floor
    assert PollSettings(request_budget=50).settled_rate == 5.0
    with pytest.raises(ValueError, match="interval"):
        PollSettings(interval=0)
    with pytest.raises(ValueError, match="concurrency"):
        PollSettings(concurrency=0)


async def test_stop_before_run_returns_at_once_and_a_later_run_polls(tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    h = Harness(tmp_path, source, fast())
    h.scheduler.stop()
    await asyncio.wait_for(h.scheduler.run(), 1)
    assert source.calls == []
    async with h:
        h.add([1])
        await asyncio.sleep(2.5)
    assert len(source.starts(1)) == 3


async def test_a_404_without_an_envelope_is_a_row_problem_not_a_verdict(tmp_path: Path) -> None:
    # A bare 404 (a proxy, a wrong base URL) must not mark rows "not found".
    source = FakeSource(latency=0.01, default="Processing")
    source.by_id[7] = raises(lambda: NotFoundError("HTTP 404", status_code=404))
    async with Harness(tmp_path, source, fast(), known={7: "Processing"}) as h:
        await virtual_until(h, lambda: (seven := h.watchlist.get(7)) is not None
                            and seven.last_problem is not None,
                            lambda: f"a problem for row 7 ({problems_of(h.watchlist.all())})",
                            within=60)
    row = h.watchlist.get(7)
    assert row is not None
    assert row.not_found is False and row.status == "Processing"
    assert row.last_problem is not None and "wrong base URL" in row.last_problem


async def test_settled_rechecks_are_not_starved_by_active_rows_using_the_whole_budget(
        tmp_path: Path) -> None:
    # 100 active rows every 5 s want 20 req/s: the whole budget. The 20 settled rows
    # (every 10 s: 2 req/s, within their 10 % share) must still be re-checked.
    source = FakeSource(latency=0.01, default=lambda i: "Processing" if i <= 100 else "Completed")
    settings = fast(interval=5.0, settled_interval=10.0, request_budget=20.0,
                    settled_share=0.1)
    statuses = dict.fromkeys(range(1, 101), "Processing")
    statuses.update(dict.fromkeys(range(101, 121), "Completed"))
    async with Harness(tmp_path, source, settings, known=statuses) as h:
        await asyncio.sleep(60)
        calls = [(i, t - h.start) for i, t in source.calls]
    settled = [t for i, t in calls if i > 100]
    active = [t for i, t in calls if i <= 100]
    # Every settled row is asked again after its first check, several times a minute...
    per_settled = Counter(i for i, _t in calls if i > 100)
    assert set(per_settled) == set(range(101, 121))
    assert min(per_settled.values()) >= 4, per_settled  # ~6 at one every 10 s
    # ...within the settled share, and the active rows keep the rest of the budget.
    assert len(settled) <= 2 * 60 + 2
    assert len(active) >= 0.85 * 20 * 60
    assert len(calls) <= 20 * 60 + 20 / 4 + 1


def test_a_slots_yes_no_fields_are_independent_bits() -> None:
    # One int holds them all (7 MB less at 100,000 IDs): setting one touches no other.
    slot = PollSlot(1, settled=True, ask_again=True)
    assert (slot.settled, slot.ask_again, slot.new) == (True, True, False)
    for name in _FLAGS:
        before = {other: getattr(slot, other) for other in _FLAGS}
        setattr(slot, name, not before[name])
        assert {other: getattr(slot, other) for other in _FLAGS} == {
            **before, name: not before[name]}
    assert not hasattr(slot, "__dict__")
