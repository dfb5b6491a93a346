#!/usr/bin/env python3
"""Team mode (issue 15): several monitors on one PostgreSQL team store poll like one.

Run: ``.venv/bin/python benchmarks/bench_team.py [--watched 10000] [--active 100]
[--seconds 20] [--apps 2 5]``

Starts PostgreSQL in a temporary folder (Debian's ``initdb`` and ``pg_ctl``, as the
``postgres`` user when run as root) and a sandbox in this process, watches ``--watched``
conversions of which ``--active`` are in flight (the others were checked just now, so they
are settled), then runs one watch service, and then each count of ``--apps`` services, on
one event loop against that store, each for ``--seconds``. Prints, beside the targets:

* the API's request rate with N apps against one app's (target: within 10 %);
* a status change the leader sees, until every follower has it (target: <= 1 s);
* a note written by a follower, until every other app has it (target: <= 1 s).
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import logging
import os
import pwd
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import harness

from tui.api.client import ConversionsClient
from tui.core.audit import AuditLog
from tui.core.polling.types import PollSettings
from tui.core.teamstore import LeaderLock, TeamStore, resolve_store_address
from tui.core.teamstore.following import TeamLeadership, team_follower
from tui.core.watching import WatchChange, WatchService
from tui.core.watchlist import PollResult
from tui.sandbox.runner import SandboxServer

RATE_TOLERANCE = 0.10
LATENCY_TARGET_S = 1.0
SAMPLES = 5
WAIT_S = 30.0  # a sample not seen within this is reported as never seen


class PostgreSQL:
    """A throwaway server on a loopback port; :meth:`stop` removes it."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or (
            [shutil.which("initdb")] if shutil.which("initdb") else [])
        if not found or found[-1] is None:
            raise SystemExit("needs PostgreSQL's initdb and pg_ctl (Debian's postgresql)")
        self.bin = Path(found[-1]).parent
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.folder = Path(tempfile.mkdtemp(prefix="bench-team-pg-"))
        if self.run_as:
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        data = str(self.folder / "data")
        harness.run([*self.run_as, str(self.bin / "initdb"), "-D", data, "-U", "postgres",
                     "--auth=trust", "--no-sync"], capture_output=True, check=True)
        harness.run([*self.run_as, str(self.bin / "pg_ctl"), "start", "-w", "-D", data,
                     "-l", str(self.folder / "log"), "-o",
                     f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                     "-c fsync=off -c synchronous_commit=off"],
                    capture_output=True, check=True)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        harness.run([*self.run_as, str(self.bin / "pg_ctl"), "stop", "-m", "immediate",
                     "-D", str(self.folder / "data")], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


class App:
    """One monitor's watch service on the team store, and when it saw what."""

    def __init__(self, url: str, base_url: str, person: str, folder: Path) -> None:
        address = resolve_store_address(url, environ={})
        assert address is not None
        self.store = TeamStore(address, base_url, person)
        self.audit = AuditLog(folder / f"{person}.audit")
        self.lead = TeamLeadership(LeaderLock(address, base_url, f"{person}@bench"),
                                   store=self.store)
        self.seen: dict[tuple[int, str], float] = {}  # (id, status or note) -> first seen
        self.tasks: list[asyncio.Task[None]] = []
        self.service = WatchService(
            self.store, self.audit, profile_name="bench", on_change=self._saw,
            settings=PollSettings(interval=5.0, settled_interval=600.0),
            poller_lock=self.lead, spawn=self._spawn, follower=team_follower)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(coro, name=name))

    def _saw(self, change: WatchChange) -> None:
        now = time.monotonic()
        for row in change.rows:
            for what in (row.status or "", row.note or ""):
                self.seen.setdefault((row.id, what), now)

    async def close(self) -> None:
        self.service.stop()
        await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), 60)
        self.store.close()
        self.audit.close()


async def _until(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


async def _run(count: int, args: argparse.Namespace, sandbox: SandboxServer, url: str,
               active: list[int], folder: Path) -> tuple[float, list[float], list[float]]:
    """``count`` apps for ``args.seconds``: requests per second, then change and note
    latencies (seconds; inf: never seen)."""
    apps = [App(url, sandbox.base_url, f"p{count}-{n}", folder) for n in range(count)]
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=10) as client:
        try:
            for app in apps:
                app.service.load()
                app.service.set_client(client)
            await asyncio.sleep(2.0)  # settle: every app leads or follows
            before, started = sandbox.state.stats.total, time.monotonic()
            await asyncio.sleep(args.seconds)
            rate = (sandbox.state.stats.total - before) / (time.monotonic() - started)
            leader = next(a for a in apps if a.service.scheduler is not None)
            others = [a for a in apps if a is not leader]
            changes: list[float] = []
            notes: list[float] = []
            for sample in range(SAMPLES if others else 0):
                change, note = await _sample(sandbox, leader, others, apps, active[sample],
                                             f"T-{count}-{sample}", sample)
                changes.append(change)
                notes.append(note)
            return rate, changes, notes
        finally:
            # Polls in flight when the services stop fail against the closing client and
            # store: expected at the end of a run, not news.
            logging.disable(logging.CRITICAL)
            for app in apps:
                app.service.stop()
            for app in apps:
                await app.close()
            logging.disable(logging.NOTSET)


def _saw(apps: list[App], key: tuple[int, str]) -> Callable[[], bool]:
    return lambda: all(key in app.seen for app in apps)


async def _sample(sandbox: SandboxServer, leader: App, others: list[App], apps: list[App],
                  target: int, note: str, sample: int) -> tuple[float, float]:
    """One change on the server, seen by the leader, until every follower shows it; then
    one note by a follower until every other app shows it (seconds; inf: never)."""
    status = "Completed" if sample % 2 == 0 else "Failed"
    sandbox.state.set_status(target, status, frozen=True)
    leader.service.refresh([target])
    if not await _until(_saw([leader], (target, status))):
        return float("inf"), float("inf")
    at = leader.seen[(target, status)]
    await _until(_saw(others, (target, status)))
    change = max(a.seen.get((target, status), float("inf")) for a in others) - at
    writer = others[sample % len(others)]
    written = time.monotonic()
    writer.service.set_note([target], note)
    rest = [a for a in apps if a is not writer]
    await _until(_saw(rest, (target, note)))
    return change, max(a.seen.get((target, note), float("inf")) for a in rest) - written


def _fill(sandbox: SandboxServer, url: str, watched: int, active: int) -> list[int]:
    """The sandbox's conversions, watched by the team and checked once: the active ones
    in flight (polled every interval), the others settled."""
    from tui.api.models import StatusEnvelope

    ids: list[int] = []
    busy: list[int] = []
    for n in range(watched):
        status = "Processing" if n < active else "Completed"
        conversion = sandbox.state.add_conversion(status=status, frozen=True)
        ids.append(conversion)
        if n < active:
            busy.append(conversion)
    address = resolve_store_address(url, environ={})
    assert address is not None
    with TeamStore(address, sandbox.base_url, "setup") as store:
        store.add(ids)
        now = time.time()
        for start in range(0, len(ids), 1000):
            store.record_results([PollResult(i, now, StatusEnvelope.from_wire(json.dumps(
                {"payload": {"id": i, "status": "Processing" if i in busy else "Completed"},
                 "errors": [], "warnings": [], "metadata": {}})))
                for i in ids[start:start + 1000]])
    return busy


def _figure(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"median {statistics.median(values):.3f} s, slowest {max(values):.3f} s"


async def measure(args: argparse.Namespace) -> int:
    """Run the counts of apps; 0 when every target is met."""
    server = PostgreSQL()
    sandbox = SandboxServer(api_key="bench-key", seed_count=0)
    sandbox.start()
    ok = True
    try:
        with tempfile.TemporaryDirectory() as folder:
            active = _fill(sandbox, server.url, args.watched, args.active)
            print(f"{args.watched:,} watched, {args.active} active, {args.seconds:g} s a run")
            one, _, _ = await _run(1, args, sandbox, server.url, active, Path(folder))
            print(f"1 app:  {one:7.1f} requests/s")
            for count in args.apps:
                rate, changes, notes = await _run(count, args, sandbox, server.url, active,
                                                  Path(folder))
                within = abs(rate - one) <= RATE_TOLERANCE * one
                fast = all(v <= LATENCY_TARGET_S for v in changes + notes)
                ok &= within and fast
                print(f"{count} apps: {rate:7.1f} requests/s ({rate / one:.0%} of one app's; "
                      f"target within {RATE_TOLERANCE:.0%}: {'ok' if within else 'MISSED'})")
                print(f"  leader's change on every follower: {_figure(changes)}; "
                      f"a follower's note on every other app: {_figure(notes)} "
                      f"(target <= {LATENCY_TARGET_S:g} s: {'ok' if fast else 'MISSED'})")
    finally:
        sandbox.stop()
        server.stop()
    return 0 if ok else 1


def main() -> int:
    """Parse the arguments and run the benchmark."""
    parser = harness.parser(__file__, __doc__)
    parser.add_argument("--watched", type=int, default=10_000, help="watched conversions")
    parser.add_argument("--active", type=int, default=100, help="of them, in flight")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run")
    parser.add_argument("--apps", type=int, nargs="+", default=[2, 5],
                        help="numbers of apps to run together")
    args = parser.parse_args()
    if args.active > args.watched or args.active < SAMPLES:
        parser.error(f"--active must be between {SAMPLES} and --watched")
    harness.stop_on_signals()
    with harness.MachineLoad():
        return asyncio.run(measure(args))


if __name__ == "__main__":
    sys.exit(main())
