#!/usr/bin/env python3
"""Soak: the real monitor, headless, through one simulated hour of a busy watchlist.

The sandbox runs in a child process (so this process is the app side only) with
5,000 conversions: most settled (Completed, some with warnings, Failed, a few
Deleted that the sandbox purges into 404s), some hundreds in flight with
realistic durations (minutes queued, up to 40 min processing), a few stuck in
Processing. The sandbox clock is moved ahead through the control plane so one
simulated hour passes in ``--seconds`` real seconds. Meanwhile new conversions
are created through the control plane and watched as an upload would add them,
and as many of the oldest settled ones are unwatched, so the watchlist stays
at its size while its contents turn over.

The app is the real :class:`ConversionsApp` on a :class:`MonitorSession` in a
temporary folder, run with ``run_async(headless=True)``: poll scheduler, real
client, watchlist, table and all. Every ``--sample`` seconds this process
samples its own resident memory, open file descriptors, asyncio tasks and CPU
time, then prints each figure beside its target:

* RSS growth from the end of the warm-up (first 10 % of the run) to the end: < 10 %;
* open file descriptors and asyncio tasks: no growth after the warm-up (sockets may
  come and go up to the connection pool's size; tasks not counting the poller's
  requests in flight and the toasts on screen, which come and go; which task and
  widget kinds changed, the Python objects that grew most and the SQLite file sizes
  are printed too);
* CPU % per window (min / median / max, slope of a straight fit) and CPU per request,
  which must stay steady: its drift over the run, fitted and as the change between the
  medians of the first and the last quarter, both < 10 %. The load is level (conversions
  in flight are drawn as a steady stream would have them, and arrive at the rate that
  keeps their number), but a VM's speed is not: a speed probe (a child process timing
  the same small job all along) takes it out, and its correlation with the app's CPU
  per request is printed. So is what other processes used, and the garbage collector's
  share and longest pauses;
* requests per second (the app's count, checked against the sandbox's).

    .venv/bin/python benchmarks/soak.py            # about 5 minutes (12x)
    .venv/bin/python benchmarks/soak.py --quick    # about 60 seconds (60x)
    .venv/bin/python benchmarks/soak.py --hours 8 --seconds 1800   # a working day
    --profile FOLDER   where the CPU went, early vs late
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import harness
import httpx

KEY = "soak-key"
SIMULATED_SECONDS = 3600.0
MB = 1_000_000


# ------------------------------------------------------------------ the sandbox process
_STAGES = ("uploaded", "queued", "processing")
_LONGEST_IN_FLIGHT = 60 + 300 + 2400


def _active_plan(rng: random.Random) -> dict[str, Any]:
    """Durations of a conversion in flight (simulated seconds): minutes, not seconds."""
    return {"uploaded": rng.uniform(5, 60), "queued": rng.uniform(10, 300),
            "processing": rng.uniform(300, 2400), "deletion": rng.uniform(3, 10),
            "outcome": "Failed" if rng.random() < 0.15 else "Completed"}


def _mean_active_seconds() -> float:
    return (5 + 60) / 2 + (10 + 300) / 2 + (300 + 2400) / 2


def _in_flight_now(rng: random.Random) -> tuple[dict[str, Any], str, float]:
    """A plan, its current stage and the time spent in it, as found at a random moment
    in a steady stream of arrivals: long plans are caught in flight more often (so a plan
    is kept with a chance proportional to its length) and the moment is uniform within
    it. With arrivals at (in flight) / (mean length), Little's law, the number in flight
    and so the request rate stay level through the run instead of sagging while an
    unrepresentative first population drains."""
    while True:
        plan = _active_plan(rng)
        length = sum(plan[stage] for stage in _STAGES)
        if rng.random() * _LONGEST_IN_FLIGHT < length:
            break
    moment = rng.uniform(0, length)
    for stage in _STAGES:
        if moment < plan[stage]:
            return plan, stage.capitalize(), moment
        moment -= plan[stage]
    return plan, "Processing", plan["processing"]


def _populate(state: Any, watched: int, active: int, rng: random.Random) -> list[int]:
    from tui.sandbox.lifecycle import LifecyclePlan

    ids: list[int] = []
    stuck = max(1, active // 20)
    for number in range(watched - active):
        draw = rng.random()
        name = f"settled_{number:05d}.csv"
        if draw < 0.50:
            ids.append(state.add_conversion(status="Completed", file_name=name))
        elif draw < 0.72:
            ids.append(state.add_conversion(status="Completed", file_name=name, warnings=[
                f"Row {rng.randint(2, 900)}: date '03/04' is ambiguous; read as 3 April"]))
        elif draw < 0.95:
            ids.append(state.add_conversion(status="Failed", file_name=name, errors=[
                f"Row {rng.randint(2, 900)}: amount 'n/a' is not a number"]))
        else:
            ids.append(state.add_conversion(status="Deleted", file_name=name,
                                            age_in_status=rng.uniform(0, 600)))
    for number in range(active):
        name = f"active_{number:05d}.xlsx"
        if number < stuck:
            ids.append(state.add_conversion(status="Processing", file_name=name, frozen=True,
                                            age_in_status=rng.uniform(0, 7200)))
            continue
        plan, status, age = _in_flight_now(rng)
        ids.append(state.add_conversion(status=status, file_name=name, age_in_status=age,
                                        plan=LifecyclePlan(**plan)))
    return ids


def _serve(conn: Connection, watched: int, active: int, seed: int) -> None:
    """The sandbox child: populate, send (base URL, ids), serve until told to stop."""
    harness.die_with_parent()
    from tui.sandbox.runner import SandboxServer

    server = SandboxServer(api_key=KEY, seed_count=0, rng_seed=seed)
    server.start()
    try:
        ids = _populate(server.state, watched, active, random.Random(seed))
        conn.send((server.base_url, ids))
        conn.recv()
        conn.send(server.state.request_count)
    finally:
        server.close()


# ------------------------------------------------------------------ sampling this process
def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _open_fds() -> tuple[int, int]:
    """(open file descriptors, how many of them are sockets)."""
    total = sockets = 0
    for name in os.listdir("/proc/self/fd"):
        total += 1
        try:
            sockets += os.readlink(f"/proc/self/fd/{name}").startswith("socket:")
        except OSError:  # closed between the listing and the look
            pass
    return total, sockets


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


@dataclass(slots=True)
class Sample:
    """One look at this process (and, for context, the sandbox child's CPU)."""

    at: float  # seconds since the start of the run
    rss: int
    fds: int
    sockets: int  # of fds: the pool's connections come and go up to its limit
    tasks: int
    polls_in_flight: int  # tasks that are the poller's requests (they come and go)
    toast_tasks: int  # tasks of the toasts on screen (they go when the toast times out)
    cpu_percent: float  # over the window that ended here
    requests: int  # sent by the poller since the start
    window_requests: int  # sent during the window
    active_rows: int  # rows whose status is not settled
    sandbox_cpu_percent: float
    others_cpu_percent: float  # everything else on the machine: a noisy neighbour skews CPU
    window: float  # seconds since the previous sample
    gc_ms: float = 0.0  # of this process's time, spent in the garbage collector
    updates: int = 0  # row changes the poller handed to the table during the window
    reference_ms: float = 0.0  # the speed probe's time per job: how fast the machine ran

    @property
    def other_tasks(self) -> int:
        """Tasks that are neither a poll request in flight nor a toast on screen."""
        return self.tasks - self.polls_in_flight - self.toast_tasks

    @property
    def cpu_ms_per_request(self) -> float:
        """CPU milliseconds per request sent in the window (the whole app's CPU)."""
        return self.cpu_percent * 10 * self.window / max(self.window_requests, 1)


class GcClock:
    """Time this process spends in the cyclic garbage collector (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.by_generation = [[0, 0.0], [0, 0.0], [0, 0.0]]  # collections, seconds
        self.longest = [0.0, 0.0, 0.0]  # seconds, by generation
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.thread_time()  # CPU time, as the share it is set against
        else:
            took = time.thread_time() - self._started
            self.seconds += took
            tally = self.by_generation[info["generation"]]
            tally[0] += 1
            tally[1] += took
            generation = info["generation"]
            self.longest[generation] = max(self.longest[generation], took)

    def close(self) -> None:
        gc.callbacks.remove(self._callback)


PROBE_LOOP = 20_000  # iterations of the probe's job: about 1.5 ms of one core
PROBE_EVERY = 0.05  # seconds between two jobs: a few % of a core


def _speed_probe(tally: Any, stop: Any, parent: int) -> None:
    """A child process that times the same small piece of pure-Python work over and over
    (CPU time, not wall time) and adds to ``tally``: [jobs, seconds]. It stops when told
    to, or when ``parent`` is gone (killed: no one would tell it).

    This machine is a VM whose speed wanders: a loop like this one ran at 4 ms for a
    while, then at 7 ms, on an idle machine. The app's CPU per request wanders with it,
    so the soak divides by the probe's time per job to tell the app's drift from the
    machine's."""
    harness.die_with_parent()
    while not stop.is_set() and os.getppid() == parent:
        started = time.thread_time()
        total = 0
        for number in range(PROBE_LOOP):
            total += number & 7
        tally[1] += time.thread_time() - started
        tally[0] += 1
        time.sleep(PROBE_EVERY)


class SpeedProbe:
    """Start :func:`_speed_probe`; ``ms_per_job()`` is its mean since the last call."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._tally = context.Array("d", 2, lock=False)
        self._stop = context.Event()
        self._process = context.Process(target=_speed_probe,
                                        args=(self._tally, self._stop, os.getpid()),
                                        daemon=True)
        self._process.start()
        self._mark = (0.0, 0.0)

    @property
    def pid(self) -> int:
        return self._process.pid or 0

    def ms_per_job(self) -> float:
        jobs, seconds = self._tally[0], self._tally[1]
        done = jobs - self._mark[0]
        took = seconds - self._mark[1]
        self._mark = (jobs, seconds)
        return took / done * 1000 if done else 0.0

    def close(self) -> None:
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.terminate()


def _task_kinds() -> dict[str, int]:
    """Running asyncio tasks by the name of their coroutine (what grows, if anything)."""
    kinds: dict[str, int] = {}
    for task in asyncio.all_tasks():
        coro = task.get_coro()
        name = getattr(coro, "__qualname__", type(coro).__name__)
        kinds[name] = kinds.get(name, 0) + 1
    return kinds


def _widget_kinds(app: Any) -> dict[str, int]:
    """Live widgets by class, on every screen (a leak of widgets is a leak of tasks)."""
    kinds: dict[str, int] = {}
    for screen in app.screen_stack:
        for node in screen.walk_children(with_self=True):
            name = type(node).__name__
            kinds[name] = kinds.get(name, 0) + 1
    return kinds


def _toast_tasks(app: Any) -> int:
    """Tasks that belong to toasts: each Toast has its message pump and its expiry timer,
    each ToastHolder its message pump."""
    kinds = _widget_kinds(app)
    return 2 * kinds.get("Toast", 0) + kinds.get("ToastHolder", 0)


def _changed(early: dict[str, int], late: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {name: (early.get(name, 0), late.get(name, 0))
            for name in sorted(set(early) | set(late)) if early.get(name, 0) != late.get(name, 0)}


def _slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0 when there are fewer than two points)."""
    if len(xs) < 2:
        return 0.0
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


# ------------------------------------------------------------------ where the CPU goes
class _WindowProfiler:
    """With ``--profile``: cProfile over an early and a late window of the run (15-30 %
    and 80-95 %), then the functions whose own CPU per request grew most between them.
    The profiler slows everything down alike; the comparison is what counts."""

    WINDOWS = (("early", 0.15, 0.30), ("late", 0.80, 0.95))

    def __init__(self, folder: Path | None, seconds: float, scheduler: Any) -> None:
        self._folder = folder
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        self._seconds = seconds
        self._scheduler = scheduler
        self._current: tuple[str, Any, int] | None = None
        self.done: dict[str, tuple[Any, int]] = {}  # name -> (pstats.Stats, requests)

    def step(self, at: float) -> None:
        if self._folder is None:
            return
        import cProfile
        import pstats

        fraction = at / self._seconds
        if self._current is not None:
            name, profile, requests_mark = self._current
            end = next(stop for label, _, stop in self.WINDOWS if label == name)
            if fraction >= end:
                profile.disable()
                path = self._folder / f"soak-{name}.prof"
                profile.dump_stats(path)
                requests = self._scheduler.stats.requests_sent - requests_mark
                self.done[name] = (pstats.Stats(str(path)), requests)
                self._current = None
            return
        for name, start, end in self.WINDOWS:
            if start <= fraction < end and name not in self.done:
                # CPU time, not wall time: on two busy cores wall time charges whatever
                # function was running when the process was descheduled.
                profile = cProfile.Profile(time.process_time)
                self._current = (name, profile, self._scheduler.stats.requests_sent)
                profile.enable()
                return

    def report(self, top: int = 25) -> None:
        if self._current is not None:
            self._current[1].disable()
        if len(self.done) < 2:
            return
        (early, early_requests), (late, late_requests) = self.done["early"], self.done["late"]

        def per_request(stats: Any, requests: int) -> dict[Any, tuple[float, int]]:
            return {func: (tottime / max(requests, 1) * 1e6, calls / max(requests, 1))
                    for func, (_cc, calls, tottime, _ct, _callers) in stats.stats.items()}

        before = per_request(early, early_requests)
        after = per_request(late, late_requests)
        total_before = sum(cost for cost, _ in before.values())
        total_after = sum(cost for cost, _ in after.values())
        print(f"profile: early window {early_requests:,} requests, {total_before:.0f} us/req "
              f"(profiled); late window {late_requests:,} requests, {total_after:.0f} us/req; "
              f"stats in {self._folder}")
        growth = sorted(set(before) | set(after),
                        key=lambda f: after.get(f, (0, 0))[0] - before.get(f, (0, 0))[0],
                        reverse=True)
        print("  own CPU per request (us) early -> late, calls per request, function")
        for func in growth[:top]:
            cost_before, calls_before = before.get(func, (0.0, 0.0))
            cost_after, calls_after = after.get(func, (0.0, 0.0))
            file, line, name = func
            where = f"{Path(file).name}:{line}" if line else file
            print(f"  {cost_before:8.1f} -> {cost_after:8.1f}  ({calls_before:7.2f} -> "
                  f"{calls_after:7.2f})  {name} {where}")


def _database_files(folder: Path) -> dict[str, int]:
    """Sizes of the app's SQLite files (database, WAL, shared memory) under ``folder``."""
    return {path.name: path.stat().st_size for path in sorted(folder.rglob("*.sqlite3*"))}


def _object_counts() -> dict[str, int]:
    """Live Python objects tracked by the collector, by type (cheap enough to take twice)."""
    gc.collect()
    counts: dict[str, int] = {}
    for thing in gc.get_objects():
        name = type(thing).__qualname__
        counts[name] = counts.get(name, 0) + 1
    return counts


# ------------------------------------------------------------------ the run
@dataclass(slots=True)
class Options:
    """Command-line options."""

    seconds: float
    sample: float
    watched: int
    active: int
    interval: float
    settled_interval: float
    budget: float
    concurrency: int
    seed: int
    profile: Path | None = None  # write cProfile stats of an early and a late window here
    hours: float = 1.0  # simulated hours in ``seconds`` real seconds


async def _prime(base_url: str, ids: list[int], watchlist: Any) -> None:
    """Yesterday's session: every row already has a status (as after a day of watching)."""
    from tui.api.client import ConversionsClient
    from tui.api.errors import NotFoundError
    from tui.core.watchlist import PollResult

    results: list[PollResult] = []
    async with ConversionsClient(base_url, KEY) as client:
        queue = list(ids)

        async def worker() -> None:
            while queue:
                conversion_id = queue.pop()
                try:
                    envelope = await client.get_status(conversion_id)
                except NotFoundError:
                    results.append(PollResult(conversion_id, time.time(), not_found=True))
                else:
                    results.append(PollResult(conversion_id, time.time(), envelope))

        await asyncio.gather(*(worker() for _ in range(32)))
    watchlist.record_results(results)


class Turnover:
    """New conversions arrive (control plane, then watched as an upload adds them) and as
    many of the oldest settled ones are unwatched, so the watchlist keeps its size."""

    def __init__(self, control: httpx.AsyncClient, screen: Any, rate: float,
                 rng: random.Random) -> None:
        self._control = control
        self._screen = screen
        self._rate = rate  # new conversions per simulated second
        self._rng = rng
        self._owed = 0.0
        self.created = 0
        self.unwatched = 0

    async def step(self, simulated_seconds: float) -> None:
        self._owed += self._rate * simulated_seconds
        count, self._owed = int(self._owed), self._owed - int(self._owed)
        if not count:
            return
        new_ids: list[int] = []
        for _ in range(count):
            answer = await self._control.post("/_control/conversions", json={
                "status": "Uploaded", "fileName": f"new_{self.created:05d}.csv",
                "plan": _active_plan(self._rng)})
            answer.raise_for_status()
            new_ids.append(int(answer.json()["payload"]["id"]))
            self.created += 1
        screen = self._screen
        # As an upload does: through the monitor's watch service (store, poller, table).
        screen.watching.uploaded(new_ids, note="Uploaded, ref SOAK")
        settled = ("Completed", "Failed", "Deleted")
        oldest = sorted((row for row in screen.table.rows.values()
                         if row.status in settled or row.not_found),
                        key=lambda row: row.first_seen)[:count]
        gone = [row.id for row in oldest]
        # As the unwatch action does.
        screen.watching.unwatch(gone)
        self.unwatched += len(gone)


async def _soak(base_url: str, ids: list[int], opts: Options, folder: Path,
                sandbox_pid: int, probe: SpeedProbe) -> dict[str, Any]:
    from tui.core.credentials import ApiKey
    from tui.core.paths import AppPaths
    from tui.core.session import MonitorSession
    from tui.core.settings import AppConfig, ProfileSettings
    from tui.core.statuses import is_settled
    from tui.ui.app import ConversionsApp
    from tui.ui.screens.monitor import MonitorScreen

    sockets_before = _open_fds()[1]  # asyncio's self-pipe, the pipe to the sandbox child
    profile = ProfileSettings(name="soak", base_url=base_url, poll_interval=opts.interval,
                              settled_interval=opts.settled_interval,
                              request_budget=opts.budget, concurrency=opts.concurrency)
    session = MonitorSession.open(AppPaths.under(folder), AppConfig(), profile,
                                  preset_key=ApiKey(KEY), env={})
    session.watchlist.add(ids)
    await _prime(base_url, ids, session.watchlist)

    app = ConversionsApp(session)
    app_task = asyncio.create_task(app.run_async(headless=True, size=(160, 48)))
    deadline = time.monotonic() + 60
    screen: Any = None
    while screen is None or screen.scheduler is None or len(screen.table.rows) < len(ids):
        if app_task.done() or time.monotonic() > deadline:
            raise SystemExit("the app did not start polling within 60 s")
        await asyncio.sleep(0.1)
        screen = next((s for s in app.screen_stack if isinstance(s, MonitorScreen)), None)

    speedup = SIMULATED_SECONDS * opts.hours / opts.seconds
    rng = random.Random(opts.seed + 1)
    samples: list[Sample] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as control:
        non_stuck = opts.active - max(1, opts.active // 20)
        turnover = Turnover(control, screen, non_stuck / _mean_active_seconds(), rng)
        started = time.monotonic()
        cpu_mark, time_mark = _cpu_seconds(), started
        sandbox_mark = harness.process_cpu_seconds(sandbox_pid)
        probe_mark = harness.process_cpu_seconds(probe.pid)
        probe.ms_per_job()
        machine_mark = harness.machine_busy_seconds()[0]
        requests_mark = updates_mark = 0
        gc_clock = GcClock()
        gc_mark = 0.0
        kinds_after_warm_up: dict[str, int] | None = None
        widgets_after_warm_up: dict[str, int] = {}
        objects_after_warm_up: dict[str, int] = {}
        files_after_warm_up: dict[str, int] = {}
        last_tick = started
        profiler = _WindowProfiler(opts.profile, opts.seconds, screen.scheduler)
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            real, last_tick = now - last_tick, now
            # Real time moves the sandbox clock by itself; add the rest of the speed-up.
            answer = await control.post("/_control/clock/advance",
                                        json={"seconds": real * (speedup - 1)})
            answer.raise_for_status()
            await turnover.step(real * speedup)
            now = time.monotonic()
            if now - time_mark >= opts.sample:
                cpu, sandbox_cpu = _cpu_seconds(), harness.process_cpu_seconds(sandbox_pid)
                fds, sockets = _open_fds()
                machine = harness.machine_busy_seconds()[0]
                probe_cpu = harness.process_cpu_seconds(probe.pid)
                others = ((machine - machine_mark) - (cpu - cpu_mark)
                          - (sandbox_cpu - sandbox_mark) - (probe_cpu - probe_mark))
                stats = screen.scheduler.stats
                window = now - time_mark
                sample = Sample(
                    at=now - started, rss=_rss_bytes(), fds=fds, sockets=sockets,
                    tasks=len(asyncio.all_tasks()), polls_in_flight=stats.in_flight,
                    toast_tasks=_toast_tasks(app),
                    cpu_percent=100.0 * (cpu - cpu_mark) / window,
                    requests=stats.requests_sent,
                    window_requests=stats.requests_sent - requests_mark,
                    active_rows=sum(1 for row in screen.table.rows.values()
                                    if not (row.not_found or is_settled(row.status))),
                    sandbox_cpu_percent=100.0 * (sandbox_cpu - sandbox_mark) / window,
                    others_cpu_percent=max(0.0, 100.0 * others / window),
                    window=window, gc_ms=(gc_clock.seconds - gc_mark) * 1000,
                    updates=stats.updates_sent - updates_mark, reference_ms=probe.ms_per_job())
                samples.append(sample)
                if kinds_after_warm_up is None and sample.at > opts.seconds * 0.1:
                    kinds_after_warm_up = _task_kinds()
                    objects_after_warm_up = _object_counts()
                    files_after_warm_up = _database_files(folder)
                    widgets_after_warm_up = _widget_kinds(app)
                cpu_mark, time_mark, sandbox_mark = cpu, now, sandbox_cpu
                machine_mark, probe_mark = machine, probe_cpu
                requests_mark, updates_mark = stats.requests_sent, stats.updates_sent
                gc_mark = gc_clock.seconds
                print(f"  {sample.at:6.1f} s  RSS {sample.rss / MB:7.2f} MB  fds {sample.fds:3d} "
                      f"({sample.sockets:2d} sockets)  "
                      f"tasks {sample.tasks:3d} ({sample.polls_in_flight:2d} polls, "
                      f"{sample.toast_tasks:2d} toast)  "
                      f"CPU {sample.cpu_percent:5.1f} %  "
                      f"{sample.window_requests / window:5.0f} req/s  "
                      f"{sample.cpu_ms_per_request:5.2f} ms/req  "
                      f"active {sample.active_rows:4d}  "
                      f"sandbox CPU {sample.sandbox_cpu_percent:5.1f} %  "
                      f"others {sample.others_cpu_percent:5.1f} %  "
                      f"gc {sample.gc_ms:4.0f} ms  changes {sample.updates:3d}  "
                      f"probe {sample.reference_ms:4.2f} ms", flush=True)
            profiler.step(now - started)
            if now - started >= opts.seconds:
                break
        profiler.report()
        gc_clock.close()
        stats = screen.scheduler.stats
        result = {
            "samples": samples, "speedup": speedup, "stats": stats,
            "sockets_before": sockets_before,
            "connectivity": screen.scheduler.connectivity.state.value,
            "table_rows": len(screen.table.rows), "watched": len(session.watchlist),
            "created": turnover.created, "unwatched": turnover.unwatched,
            "statuses": _status_counts(screen.table.rows.values()),
            "kinds": (kinds_after_warm_up or {}, _task_kinds()),
            "widgets": (widgets_after_warm_up, _widget_kinds(app)),
            "objects": (objects_after_warm_up, _object_counts()),
            "files": (files_after_warm_up, _database_files(folder)),
            "gc": gc_clock.by_generation, "gc_threshold": gc.get_threshold(),
            "gc_longest": gc_clock.longest,
        }
    app.exit()
    await asyncio.wait_for(app_task, 30)
    session.close()
    return result


def _status_counts(rows: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        word = "not found" if row.not_found else str(row.status)
        counts[word] = counts.get(word, 0) + 1
    return dict(sorted(counts.items()))


def _verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def _fit_noise(minutes: list[float], values: list[float]) -> float:
    """The standard error of :func:`_drift`'s fitted change, in % of the median, as if the
    windows' noise were independent (it is not quite: the machine has slow spells, so
    the true error is larger). A fitted drift within about two of these is noise."""
    if len(values) < 3:
        return float("nan")
    slope = _slope(minutes, values)
    mean_x, mean_y = statistics.fmean(minutes), statistics.fmean(values)
    residuals = [y - mean_y - slope * (x - mean_x) for x, y in zip(minutes, values, strict=True)]
    spread = sum((x - mean_x) ** 2 for x in minutes) or 1.0
    sigma = (sum(r * r for r in residuals) / (len(values) - 2)) ** 0.5
    middle = statistics.median(values) or 1.0
    return sigma / spread ** 0.5 * (minutes[-1] - minutes[0]) / middle * 100


def _drift(minutes: list[float], values: list[float], quarter: int) -> tuple[float, float]:
    """How much ``values`` changed over the run, in % of their median: by a straight fit,
    and from the median of the first ``quarter`` to that of the last (a fit is pulled by
    single noisy windows; the medians are robust to them). Steady means both are small."""
    middle = statistics.median(values) or 1.0
    fitted = _slope(minutes, values) * (minutes[-1] - minutes[0]) / middle * 100
    early = statistics.median(values[:quarter])
    late = statistics.median(values[-quarter:])
    return fitted, (late - early) / (early or 1.0) * 100


def _report(result: dict[str, Any], opts: Options, server_requests: int) -> None:
    samples: list[Sample] = result["samples"]
    warm = [s for s in samples if s.at <= opts.seconds * 0.1] or samples[:1]
    after = [s for s in samples if s.at > warm[-1].at] or samples[-1:]
    base, last = warm[-1], samples[-1]
    # Tasks and fds move with the requests in flight and the pool's connections: compare
    # the highest value of the first and the last quarter after the warm-up, not two draws.
    quarter = max(1, len(after) // 4)
    early, late = after[:quarter], after[-quarter:]
    growth = (last.rss - base.rss) / base.rss * 100
    peak = max(s.rss for s in after)
    cpu = [s.cpu_percent for s in after]
    per_request = [s.cpu_ms_per_request for s in after]
    minutes = [s.at / 60 for s in after]
    span = (last.at - base.at) or 1.0
    cpu_slope = _slope(minutes, cpu)
    cost_drift, cost_change = _drift(minutes, per_request, quarter)
    # The machine's speed wanders (see _speed_probe): the same cost at the probe's median
    # speed is what says whether the app's own work per request changed.
    # Windows in which the probe finished no job (it died, or starved) say nothing of
    # the speed: left out of the adjusted figures.
    timed = [s for s in after if s.reference_ms > 0]
    probe = [s.reference_ms for s in timed] or [0.0]
    probe_median = statistics.median(probe)
    at_steady_speed = [s.cpu_ms_per_request * probe_median / s.reference_ms for s in timed]
    timed_minutes = [s.at / 60 for s in timed]
    steady_drift, steady_change = (
        _drift(timed_minutes, at_steady_speed, max(1, len(timed) // 4))
        if len(timed) > 2 else (float("nan"), float("nan")))
    speed_link = (statistics.correlation(probe, [s.cpu_ms_per_request for s in timed])
                  if len(timed) > 2 and len(set(probe)) > 1 else 0.0)
    others = [s.others_cpu_percent for s in after]
    rate = (last.requests - base.requests) / span
    stats = result["stats"]
    # The client's pool opens and closes connections (up to its limit) as answers come
    # and go: other fds must not grow at all, sockets must stay within the pool and not
    # trend upwards.
    files_early = max(s.fds - s.sockets for s in early)
    files_late = max(s.fds - s.sockets for s in late)
    sockets_max = max(s.sockets for s in after)
    sockets_trend = _slope(minutes, [float(s.sockets) for s in after]) * span / 60
    # Before the app: asyncio's self-pipe and the pipe to the sandbox. Then the pool
    # (as many as the concurrency), this script's control client, and a closing
    # connection or two whose replacement is already open.
    sockets_limit = result["sockets_before"] + opts.concurrency + 1 + 2
    fds_ok = (files_late <= files_early and sockets_max <= sockets_limit
              and sockets_trend < 3)
    # Toasts come and go with the news; a leak grows steadily: compare medians, and fit.
    tasks_early = statistics.median(s.other_tasks for s in early)
    tasks_late = statistics.median(s.other_tasks for s in late)
    tasks_trend = _slope(minutes, [float(s.other_tasks) for s in after]) * span / 60
    print()
    print(f"soak: {opts.watched:,} watched ({opts.active} in flight at the start), "
          f"{opts.hours:g} simulated hour(s) in {opts.seconds:.0f} s "
          f"({result['speedup']:.0f}x), poll "
          f"{opts.interval:g} s / settled {opts.settled_interval:g} s, budget "
          f"{opts.budget:g} req/s, concurrency {opts.concurrency}; {len(samples)} samples, "
          f"warm-up {base.at:.0f} s")
    print(f"  turnover      {result['created']} created and watched, {result['unwatched']} "
          f"settled unwatched; watched at the end {result['watched']:,} (table "
          f"{result['table_rows']:,})")
    print(f"  statuses      {result['statuses']}")
    print(f"  RSS           {base.rss / MB:.2f} MB after warm-up -> {last.rss / MB:.2f} MB at "
          f"the end (peak {peak / MB:.2f})   growth {growth:+.2f} %   target < 10 %   "
          f"{_verdict(growth < 10)}")
    print(f"  open fds      first sample {samples[0].fds}, after warm-up {base.fds}, end "
          f"{last.fds}; not sockets: highest in first/last quarter {files_early}/"
          f"{files_late}; sockets: highest {sockets_max} (limit {sockets_limit}), fitted "
          f"change {sockets_trend:+.1f}   target no growth   {_verdict(fds_ok)}")
    print(f"  asyncio tasks first sample {samples[0].tasks}, after warm-up {base.tasks}, end "
          f"{last.tasks}; besides polls in flight and toasts, median of first/last quarter "
          f"{tasks_early:g}/{tasks_late:g}, fitted change over the run {tasks_trend:+.1f}   "
          f"target no growth (< 3)   {_verdict(tasks_late - tasks_early < 3 and tasks_trend < 3)}")
    print(f"                tasks whose count changed (after warm-up, end): "
          f"{_changed(*result['kinds']) or 'none'}")
    print(f"                widgets whose count changed (each has a message pump task): "
          f"{_changed(*result['widgets']) or 'none'}")
    before, after_run = result["objects"]
    grown = sorted(((after_run.get(name, 0) - before.get(name, 0), name)
                    for name in set(before) | set(after_run)), reverse=True)[:6]
    print(f"                Python objects {sum(before.values()):,} after warm-up -> "
          f"{sum(after_run.values()):,} at the end; most grown: "
          + ", ".join(f"{name} {change:+,}" for change, name in grown if change > 0))
    files_before, files_after = result["files"]
    print("                SQLite files after warm-up -> end: " + ", ".join(
        f"{name} {files_before.get(name, 0) / MB:.1f} -> {size / MB:.1f} MB"
        for name, size in files_after.items()))
    print(f"  CPU %         min {min(cpu):.1f}  median {statistics.median(cpu):.1f}  max "
          f"{max(cpu):.1f} per {opts.sample:g} s window; slope {cpu_slope:+.2f} points/min "
          f"(follows the request rate)")
    print(f"  CPU/request   min {min(per_request):.2f}  median "
          f"{statistics.median(per_request):.2f}  max {max(per_request):.2f} ms; drift over "
          f"the run {cost_drift:+.1f} % fitted, {cost_change:+.1f} % from the median of the "
          f"first to the last quarter (as measured, with the machine's speed in it)")
    print(f"  machine speed the probe's job took min {min(probe):.2f}  median {probe_median:.2f}  "
          f"max {max(probe):.2f} ms of CPU; correlation with CPU/request {speed_link:+.2f}")
    if at_steady_speed:
        noise = _fit_noise(timed_minutes, at_steady_speed)
        print(f"  CPU/request at the probe's median speed: median "
              f"{statistics.median(at_steady_speed):.2f} ms; drift {steady_drift:+.1f} % "
              f"fitted (standard error {noise:.1f} %), {steady_change:+.1f} % first to last "
              f"quarter   target steady (both |drift| < 10 %)   "
              f"{_verdict(abs(steady_drift) < 10 and abs(steady_change) < 10)}")
    else:
        print("  CPU/request at the probe's median speed: the probe finished no job (did it "
              "die?), no figure   MISSED")
    print(f"                other processes on the machine used median "
          f"{statistics.median(others):.1f} % (max {max(others):.1f} %) of a core per window; "
          f"on {os.cpu_count()} cores anything much above 0 skews CPU per request")
    gc_seconds = sum(seconds for _, seconds in result["gc"])
    cpu_seconds = sum(s.cpu_percent * s.window / 100 for s in samples)
    print(f"  garbage coll. {gc_seconds:.1f} s = {gc_seconds / (cpu_seconds or 1) * 100:.1f} % "
          f"of this process's CPU; threshold {result['gc_threshold']}; by generation "
          + ", ".join(f"{gen}: {count:,} x {seconds / max(count, 1) * 1000:.2f} ms "
                      f"(longest {longest * 1000:.0f})" for gen, ((count, seconds), longest)
                      in enumerate(zip(result["gc"], result["gc_longest"], strict=True))))
    print(f"  requests      {rate:.0f} req/s after warm-up (app: {stats.requests_sent:,} sent, "
          f"{stats.answers:,} answered, {stats.errors} errors {stats.errors_by_kind or ''}; "
          f"sandbox counted {server_requests:,} including the priming pass)")
    print(f"  poller        max in flight {stats.max_in_flight}, {stats.updates_sent:,} "
          f"updates, {stats.results_recorded:,} results recorded, connectivity "
          f"{result['connectivity']}")


def main() -> None:
    """Start the sandbox child, soak the app, print the figures beside their targets."""
    parser = harness.parser(__file__, __doc__)
    parser.add_argument("--quick", action="store_true", help="about 60 s instead of 5 min")
    parser.add_argument("--seconds", type=float, default=None,
                        help="real seconds for the simulated hour (default 300; 60 quick)")
    parser.add_argument("--sample", type=float, default=None,
                        help="seconds between samples (default 5; 2 quick)")
    parser.add_argument("--watched", type=int, default=5000)
    parser.add_argument("--active", type=int, default=300)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--settled-interval", type=float, default=60.0)
    parser.add_argument("--budget", type=float, default=1000.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", type=Path, default=None, metavar="FOLDER",
                        help="profile an early and a late window; print what grew")
    parser.add_argument("--hours", type=float, default=1.0,
                        help="simulated hours to run through (default 1)")
    args = parser.parse_args()
    harness.stop_on_signals()
    with harness.MachineLoad():
        soak(args)


def soak(args: Any) -> None:
    """Run the soak the command line asked for, and report it."""
    opts = Options(
        seconds=args.seconds or (60.0 if args.quick else 300.0),
        sample=args.sample or (2.0 if args.quick else 5.0),
        watched=args.watched, active=args.active, interval=args.interval,
        settled_interval=args.settled_interval, budget=args.budget,
        concurrency=args.concurrency, seed=args.seed, profile=args.profile,
        hours=args.hours)

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=_serve, args=(theirs, opts.watched, opts.active, opts.seed),
                            daemon=True)
    child.start()
    try:
        if not ours.poll(120):
            raise SystemExit("the sandbox child did not start within 120 s")
        base_url, ids = ours.recv()
        print(f"sandbox child {child.pid} at {base_url}: {len(ids):,} conversions; sampling "
              f"every {opts.sample:g} s for {opts.seconds:.0f} s", flush=True)
        probe = SpeedProbe()
        try:
            with tempfile.TemporaryDirectory(prefix="soak-") as folder:
                assert child.pid is not None
                result = asyncio.run(_soak(base_url, ids, opts, Path(folder), child.pid, probe))
        finally:
            probe.close()
        ours.send("stop")
        server_requests = ours.recv() if ours.poll(30) else -1
    finally:
        child.join(30)
        if child.is_alive():
            child.terminate()
    _report(result, opts, server_requests)


if __name__ == "__main__":
    main()
