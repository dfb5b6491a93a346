#!/usr/bin/env python3
"""Team mode (issue 15): several monitors on one PostgreSQL team store poll like one.

Run: ``.venv/bin/python benchmarks/bench_team.py [--watched 10000] [--active 100]
[--seconds 20] [--apps 2 5] [--takeover 5] [--outage 5] [--outage-seconds 30]``
(about 3 minutes; ``--outage 2 5`` adds a minute and a half)

Starts PostgreSQL in a temporary folder (Debian's ``initdb`` and ``pg_ctl``, as the
``postgres`` user when run as root) and a sandbox in this process, watches ``--watched``
conversions of which ``--active`` are in flight (the others were checked just now, so they
are settled), then runs one watch service, and then each count of ``--apps`` services, on
one event loop against that store, each for ``--seconds``. Prints, beside the targets:

* the API's request rate with N apps against one app's (target: within 10 %);
* a status change the leader sees, until every follower has it (target: <= 1 s);
* a note written by a follower, until every other app has it (target: <= 1 s);
* the leader killed with SIGKILL, ``--takeover`` headless app processes
  (tests/fixtures/team_app.py) on the store: from the kill to the first request of the
  new leader (target: within two poll intervals), and each status once in the history
  and each delete confirmed once in the audit (no losses, no duplicates);
* PostgreSQL stopped for ``--outage-seconds`` (``pg_ctl stop -m fast``) under each count
  of ``--outage`` headless app processes, on a database of their own, then started again
  (benchmarks/team_outage.py): every process alive, no traceback on its stderr; the
  banner shown on each, and gone; no API request while nobody can hold the lead (target
  0); from the server back, polling resumed, the statuses changed meanwhile on every
  process, and each banner gone (target: the longest retry, 30 s, + two intervals); a
  note written then on every other process (target <= 1 s); history and audit kept, each
  change once, the delete confirmed once; and, with no target, the longest hold of an
  app's event loop;
* the first screen with ``--watched`` rows in PostgreSQL, from spawning the app in a pty
  to the first frame showing them, as ``bench_monitor.py`` measures it (target <= 1.5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import itertools
import json
import logging
import os
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import bench_monitor
import harness
import team_outage

from tui.api.client import ConversionsClient
from tui.core.audit import AuditLog
from tui.core.polling.types import PollSettings
from tui.core.teamstore import LeaderLock, TeamStore, resolve_store_address
from tui.core.teamstore.following import TeamLeadership, team_follower
from tui.core.watching import WatchChange, WatchService
from tui.core.watchlist import PollResult
from tui.sandbox.runner import SandboxServer

APP = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "team_app.py"
TAKEOVER_INTERVAL = 5.0  # the poll interval of the takeover's and outage's processes
RETRY_MAX_S = 30.0  # a follower's longest wait between tries (teamstore/following.py)
FIRST_SCREEN_TARGET_S = 1.5
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
        self.resume()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pause(self) -> None:
        """Stop the server as the test fixture does (``-m fast``: sessions are cut);
        :meth:`resume` starts it again on the same port."""
        harness.run([*self.run_as, str(self.bin / "pg_ctl"), "stop", "-m", "fast", "-w",
                     "-D", str(self.folder / "data")], capture_output=True, check=True)

    def resume(self) -> None:
        """Start the server (again) and return once it accepts connections."""
        harness.run([*self.run_as, str(self.bin / "pg_ctl"), "start", "-w",
                     "-D", str(self.folder / "data"), "-l", str(self.folder / "log"), "-o",
                     f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                     "-c fsync=off -c synchronous_commit=off"],
                    capture_output=True, check=True)

    def is_ready(self) -> bool:
        """Whether the server accepts connections now."""
        import psycopg

        try:
            with psycopg.connect(self.url, connect_timeout=5):
                return True
        except psycopg.OperationalError:
            return False

    def new_database(self, name: str) -> str:
        """A fresh database on this server; its address."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}".encode())
        return self.url.rsplit("/", 1)[0] + "/" + name

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


class AppProcess:
    """A headless app process (tests/fixtures/team_app.py) and the roles it printed."""

    def __init__(self, folder: Path, sandbox: SandboxServer, url: str, person: str) -> None:
        self.process = harness.popen(
            [sys.executable, str(APP), str(folder / person), sandbox.base_url,
             sandbox.api_key, url, person, str(TAKEOVER_INTERVAL)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "USER": person, "LOGNAME": person})
        self.roles: list[tuple[str, float]] = []

    def read_roles(self) -> None:
        """Read the lines printed so far (non-blocking)."""
        import select

        stdout = self.process.stdout
        assert stdout is not None
        while select.select([stdout], [], [], 0)[0]:
            line = stdout.readline()
            if not line:
                return
            role, at = line.split()
            self.roles.append((role, float(at)))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_sync(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"never happened: {what}")
        time.sleep(0.005)


def takeover(sandbox: SandboxServer, url: str, busy: list[int], count: int,
             folder: Path) -> tuple[float, bool, str]:
    """``count`` app processes; the leader killed with SIGKILL: seconds from the kill to
    the new leader's first request, whether history and audit hold each change once,
    and what was checked."""
    address = resolve_store_address(url, environ={})
    assert address is not None
    state = sandbox.state
    # Not the rows the latency samples changed already (settled: polled rarely).
    going, changing = busy[-1], busy[SAMPLES:SAMPLES + 20]
    with TeamStore(address, sandbox.base_url, "bench") as team:
        team.mark_delete_requested(going, time.time())
        apps = [AppProcess(folder, sandbox, url, f"k{n}") for n in range(count)]
        try:
            def roles_known() -> bool:
                for app in apps:
                    app.read_roles()
                return all(app.roles for app in apps)

            _wait_sync(roles_known, "every process leading or following")
            leaders = [a for a in apps if a.roles[-1][0] == "lead"]
            assert len(leaders) == 1, [a.roles for a in apps]
            leader = leaders[0]
            _wait_sync(lambda: all(team.history(i) for i in busy[:5]), "the first polls")
            leader.process.send_signal(signal.SIGKILL)
            leader.process.wait()
            killed, before = time.monotonic(), state.stats.total
            # Only a new leader can see these.
            for conversion in changing:
                state.set_status(conversion, "Completed", frozen=True)
            state.set_status(going, "Deleted", frozen=True)
            _wait_sync(lambda: state.stats.total > before, "a request after the kill")
            resumed = time.monotonic() - killed

            def settled() -> bool:
                return all([s for s, _ in team.history(i)][-1:] == ["Completed"]
                           for i in changing) and len(team.audit_entries(
                               action="delete", naming=going)) >= 1

            _wait_sync(settled, "the changes after the kill recorded")
            time.sleep(2 * TAKEOVER_INTERVAL)  # more polling: duplicates would show now
            histories = {i: [s for s, _ in team.history(i)] for i in busy}
            doubled = [i for i, seen in histories.items()
                       if any(a == b for a, b in itertools.pairwise(seen))]
            lost = [i for i in changing if histories[i] != ["Processing", "Completed"]]
            confirmed = team.audit_entries(action="delete", naming=going)
            clean = not doubled and not lost and len(confirmed) == 1
            said = (f"{len(busy)} histories, {len(doubled)} with a status twice, "
                    f"{len(lost)} of {len(changing)} changes lost; delete confirmed "
                    f"{len(confirmed)} time(s)")
            return resumed, clean, said
        finally:
            for app in apps:
                app.stop()


def fill_for_screen(url: str, base_url: str, rows: int) -> None:
    """``rows`` watched in the team store with recorded answers, as bench_monitor's."""
    from tui.api.models import StatusEnvelope

    address = resolve_store_address(url, environ={})
    assert address is not None
    statuses = ("Completed", "Failed", "Completed", "Processing", "Queued", "Completed")
    first = bench_monitor.FIRST_ID
    now = time.time()
    with TeamStore(address, base_url, "setup") as store:
        ids = list(range(first, first + rows))
        store.add(ids)
        for start in range(0, rows, 1000):
            store.record_results([PollResult(i, now, StatusEnvelope.from_wire(json.dumps({
                "errors": [], "warnings": [], "metadata": {},
                "payload": {"id": i, "fileName": f"invoices_{i - first:05d}.csv",
                            "dataSourceType": "Csv", "uploadDate": "2026-11-27T09:00:00Z",
                            "status": statuses[(i - first) % len(statuses)]}})))
                for i in ids[start:start + 1000]])


def first_screen(url: str, sandbox: SandboxServer, rows: int, folder: Path) -> float:
    """Seconds from spawning the app (its team store in PostgreSQL) to its first frame
    showing the watched rows (bench_monitor's pty and clock)."""
    fill_for_screen(url, sandbox.base_url, rows)
    script = Path(sys.executable).parent / "conversions-tui"
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor",
           "CONVERSIONS_STORE": url, "CONVERSIONS_BASE_URL": sandbox.base_url,
           "CONVERSIONS_API_KEY": sandbox.api_key, "BENCH_MONITOR_ROWS": str(rows)}
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        env[f"XDG_{name}_HOME"] = str(folder / f"screen-{name.lower()}")
    result = bench_monitor.run_app(script, env, folder / "marks.json")
    return result["first_rows"] - result["spawned"]


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
            runs = f", {args.seconds:g} s a run" if args.apps else ""
            print(f"{args.watched:,} watched, {args.active} active{runs}")
            if args.apps:
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
            if args.takeover:
                resumed, clean, said = takeover(sandbox, server.url, active, args.takeover,
                                                Path(folder))
                limit = 2 * TAKEOVER_INTERVAL
                ok &= resumed <= limit and clean
                print(f"SIGKILL of the leader, {args.takeover} app processes: polling resumed "
                      f"after {resumed:.2f} s (target <= 2 intervals = {limit:g} s: "
                      f"{'ok' if resumed <= limit else 'MISSED'}); {said} "
                      f"({'ok' if clean else 'MISSED'})")
            for count in args.outage:
                outage_url = server.new_database(f"outage_{count}")
                busy = _fill(sandbox, outage_url, args.watched, args.active)
                ok &= team_outage.outage(server, sandbox, outage_url, busy, count,
                                         Path(folder), seconds=args.outage_seconds,
                                         interval=TAKEOVER_INTERVAL, retry_max=RETRY_MAX_S)
            if args.first_screen:
                # Apart from the rows above: a database of its own.
                screen = first_screen(server.new_database("first_screen"), sandbox,
                                      args.watched, Path(folder))
                fast = screen <= FIRST_SCREEN_TARGET_S
                ok &= fast
                print(f"first screen, {args.watched:,} watched in PostgreSQL, from spawn: "
                      f"{screen:.2f} s (target <= {FIRST_SCREEN_TARGET_S:g} s: "
                      f"{'ok' if fast else 'MISSED'})")
    finally:
        sandbox.stop()
        server.stop()
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments (``argv``, else the command line's) and run the benchmark."""
    parser = harness.parser(__file__, __doc__)
    parser.add_argument("--watched", type=int, default=10_000, help="watched conversions")
    parser.add_argument("--active", type=int, default=100, help="of them, in flight")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run")
    parser.add_argument("--apps", type=int, nargs="*", default=[2, 5],
                        help="numbers of apps to run together (none: skip the rates)")
    parser.add_argument("--takeover", type=int, default=5,
                        help="app processes for the SIGKILL takeover (0: skip it)")
    parser.add_argument("--outage", type=int, nargs="*", default=[5],
                        help="numbers of app processes under which PostgreSQL is stopped "
                             "(none: skip it)")
    parser.add_argument("--outage-seconds", type=float, default=30.0,
                        help="how long PostgreSQL stays stopped")
    parser.add_argument("--no-first-screen", dest="first_screen", action="store_false",
                        help="skip the first screen from spawn")
    args = parser.parse_args(argv)
    if args.active > args.watched or args.active < SAMPLES:
        parser.error(f"--active must be between {SAMPLES} and --watched")
    harness.stop_on_signals()
    with harness.MachineLoad():
        return asyncio.run(measure(args))


if __name__ == "__main__":
    sys.exit(main())
