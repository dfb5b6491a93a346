#!/usr/bin/env python3
"""PostgreSQL stopped mid-run under several headless app processes (bench_team's outage).

Part of ``bench_team.py`` (``--outage``, in its default run with five processes); run on
its own, it is ``bench_team.py`` with only this part (about a minute and a half for each
count of processes):

    .venv/bin/python benchmarks/team_outage.py [--outage 2 5] [--outage-seconds 30]

App processes (tests/fixtures/team_app.py with
``--report``) watch one team store, one of them polling the sandbox; the server is stopped
(``pg_ctl stop -m fast``, as the test fixture pauses it) for ``--outage-seconds``, then
started again on the same port. Each process prints what its screen would show: its role
(lead or follow), its banner (the connectivity the service hands the screen), and each
row's status and note as it changes; it writes a note when told on stdin. From that, this
measures:

* every process alive throughout, and no traceback on its stderr;
* each process showed the banner (offline, the database's sentence), and cleared it;
* the API's request rate while the database is away (the leader's session, and so its
  lead, is gone: nobody may poll until one holds the lead again);
* from the server back to the first request of a leader, and to every process showing
  the statuses that changed on the server meanwhile;
* a note written by one process once all are back, until every other shows it (<= 1 s);
* the team's history and audit: each row's history before the outage kept, no status
  twice in a row, each change made around the outage recorded once, a delete confirmed
  during it audited once.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import harness
import psycopg

from tui.core.teamstore import TeamStore, resolve_store_address
from tui.sandbox.runner import SandboxServer

APP = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "team_app.py"
GRACE_S = 5.0  # after the stop, the leader may finish what it was sending
WAIT_S = 120.0  # anything not seen within this is reported as never seen
NOTE_TARGET_S = 1.0
FIRST_ROWS = 5  # rows whose first poll shows the apps are running


class Server(Protocol):
    """The PostgreSQL server of the benchmark."""

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def is_ready(self) -> bool: ...


@dataclass
class Line:
    """One line a process printed: what, when (monotonic), and its details."""

    kind: str
    at: float
    detail: dict[str, Any] = field(default_factory=dict)


class ReportingApp:
    """A headless app process with ``--report``; a thread collects what it prints."""

    def __init__(self, folder: Path, sandbox: SandboxServer, url: str, person: str,
                 interval: float) -> None:
        self.person = person
        self.stderr_path = folder / f"{person}.stderr"
        with self.stderr_path.open("w") as stderr:
            self.process = harness.popen(
                [sys.executable, str(APP), str(folder / person), sandbox.base_url,
                 sandbox.api_key, url, person, str(interval), "--report"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
                env={**os.environ, "USER": person, "LOGNAME": person})
        self.lines: list[Line] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for text in self.process.stdout:
            kind, at, *rest = text.split(maxsplit=2)
            self.lines.append(Line(kind, float(at), json.loads(rest[0]) if rest else {}))

    def of(self, *kinds: str, after: float = 0.0) -> list[Line]:
        """The lines of these kinds printed after ``after``."""
        return [line for line in list(self.lines) if line.kind in kinds and line.at > after]

    def role(self) -> str | None:
        roles = self.of("lead", "follow")
        return roles[-1].kind if roles else None

    def saw(self, conversion: int, *, status: str | None = None, note: str | None = None,
            after: float = 0.0) -> float | None:
        """When this process first showed ``conversion`` with that status or note."""
        for line in self.of("row", after=after):
            if line.detail["id"] == conversion and (
                    (status is not None and line.detail["status"] == status)
                    or (note is not None and line.detail["note"] == note)):
                return line.at
        return None

    def write_note(self, conversion: int, note: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"note {conversion} {note}\n")
        self.process.stdin.flush()

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int:
        """SIGTERM, as a user's quit; its exit code."""
        with harness.ending(self.process, grace=30):
            pass
        self._reader.join(10)
        return self.process.returncode

    def tracebacks(self) -> list[tuple[bool, str]]:
        """Each traceback on stderr: whether the app logged it (the line before is one of
        its log records: ``log LEVEL tui...``), and what was raised (the line after)."""
        lines = self.stderr_path.read_text(errors="replace").splitlines()
        found = []
        for n, text in enumerate(lines):
            if text.startswith("Traceback"):
                before = lines[n - 1].split() if n else []
                logged = len(before) > 2 and before[0] == "log" and before[2].startswith("tui.")
                raised = next((t for t in lines[n + 1:] if not t.startswith(" ")), "?")
                found.append((logged, raised[:160]))
        return found


def _wait(condition: Callable[[], object], bound: float = WAIT_S) -> float | None:
    """Monotonic time ``condition()`` was first seen true; None after ``bound``."""
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            return None
        time.sleep(0.005)
    return time.monotonic()


def _history(url: str, base_url: str) -> dict[int, list[str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT id, status FROM status_history WHERE profile = %s "
                            "ORDER BY id, seen_at, seq", (base_url,)).fetchall()
    return {key: [status for _, status in group]
            for key, group in itertools.groupby(rows, key=lambda row: int(row[0]))}


def _audit(url: str, base_url: str) -> list[tuple[int, str, str, str]]:
    with psycopg.connect(url) as conn:
        return [(int(seq), action, ids, outcome) for seq, action, ids, outcome in
                conn.execute("SELECT seq, action, ids, outcome FROM audit WHERE profile = %s "
                             "ORDER BY seq", (base_url,)).fetchall()]


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f} s"


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def outage(server: Server, sandbox: SandboxServer, url: str, busy: list[int], count: int,
           folder: Path, *, seconds: float, interval: float, retry_max: float) -> bool:
    """``count`` app processes on the store at ``url``, the server stopped for
    ``seconds``; prints the figures beside their targets; True when all are met."""
    state = sandbox.state
    going, early, late = busy[-1], busy[FIRST_ROWS:FIRST_ROWS + 10], busy[-11:-1]
    address = resolve_store_address(url, environ={})
    assert address is not None
    with TeamStore(address, sandbox.base_url, "bench") as team:
        team.mark_delete_requested(going, time.time())  # the team asked; deleted later
        team.audit("watch", busy, "done", detail="the benchmark's rows")  # kept across
    apps = [ReportingApp(folder, sandbox, url, f"o{count}-{n}", interval)
            for n in range(count)]
    lines: list[str] = []
    ok = True
    try:
        if _wait(lambda: all(app.role() for app in apps)) is None or _wait(
                lambda: all(app.saw(i, status="Processing") for app in apps
                            for i in busy[:FIRST_ROWS])) is None:
            raise SystemExit("outage: the app processes never started polling: "
                             + "; ".join(f"{a.person} {a.role()} exit {a.process.poll()}"
                                         for a in apps))
        history_before, audit_before = _history(url, sandbox.base_url), _audit(
            url, sandbox.base_url)
        # Changed just before the stop: the leader may see some of them while the server
        # shuts down; the others, and those changed while it is away, only after.
        for conversion in early:
            state.set_status(conversion, "Completed", frozen=True)
        leader = next((a for a in apps if a.role() == "lead"), None)
        stopping = time.monotonic()
        server.pause()
        stopped, requests_at_stop = time.monotonic(), state.stats.total
        for conversion in late:
            state.set_status(conversion, "Completed", frozen=True)
        state.set_status(going, "Deleted", frozen=True)
        time.sleep(GRACE_S)
        requests_after_grace = state.stats.total
        crashed_while_away = False
        while time.monotonic() < stopped + seconds:
            crashed_while_away |= not all(a.alive() for a in apps)
            time.sleep(0.05)
        requests_away = state.stats.total - requests_after_grace
        away_rate = requests_away / max(1e-9, time.monotonic() - stopped - GRACE_S)
        server.resume()
        back, requests_at_back = time.monotonic(), state.stats.total
        polled = _wait(lambda: state.stats.total > requests_at_back
                       and any(a.of("lead", after=stopping) for a in apps))
        _wait(lambda: all(any(not b.detail["shown"] for b in a.of("banner", after=stopping))
                          for a in apps))
        seen_changes = _wait(lambda: all(a.saw(i, status="Completed") for a in apps
                                         for i in late))
        # A follower's note once every process is back, until every other one shows it.
        writer = next((a for a in apps if a.role() == "follow"), apps[0])
        note, refusals, written = f"AFTER-{count}", 0, None
        target = busy[0]
        deadline = time.monotonic() + WAIT_S
        while written is None and time.monotonic() < deadline:
            asked = time.monotonic()
            writer.write_note(target, note)
            _wait(lambda asked=asked: writer.of("wrote", "refused", after=asked))
            if writer.of("wrote", after=asked):
                written = asked
            else:
                refusals += 1
                time.sleep(1.0)
        others = [a for a in apps if a is not writer]
        _wait(lambda: written is not None and all(a.saw(target, note=note) for a in others))
        seen_note = [a.saw(target, note=note) for a in others]
        note_latency = (max(s for s in seen_note if s is not None) - written
                        if written is not None and None not in seen_note else None)
        # More polling: a status recorded twice would show now.
        time.sleep(2 * interval)
        alive = [a for a in apps if a.alive()]
        history_after, audit_after = _history(url, sandbox.base_url), _audit(
            url, sandbox.base_url)
    finally:
        codes = {app.person: app.stop() for app in apps}
    tracebacks = {app.person: app.tracebacks() for app in apps}

    # Alive, no traceback.
    clean_exit = all(code == 0 for code in codes.values())
    every = [found for each in tracebacks.values() for found in each]
    quiet = not every
    survived = len(alive) == count and not crashed_while_away and clean_exit
    ok &= survived and quiet
    raised = sorted({what for _, what in every})
    lines.append(f"  every process alive through the outage and quit cleanly: "
                 f"{len(alive)} of {count} alive, exit codes {sorted(codes.values())} "
                 f"({_mark(survived)}); tracebacks on stderr: {len(every)}, of which "
                 f"{sum(logged for logged, _ in every)} logged by the app"
                 f"{' (' + '; '.join(raised) + ')' if raised else ''} ({_mark(quiet)})")
    # The banner, shown and cleared. Every wait after the server is back is bounded by
    # the longest retry (a try that just missed it) and two poll intervals.
    limit = retry_max + 2 * interval
    shown = {a.person: next((b for b in a.of("banner", after=stopping)
                             if b.detail["shown"]), None) for a in apps}
    gone = {a.person: next((b for b in a.of("banner", after=stopping)
                            if not b.detail["shown"] and b.at > back), None) for a in apps}
    every_banner = all(b is not None and b.detail["state"] == "offline"
                       and "team database" in (b.detail["message"] or "")
                       for b in shown.values())
    cleared_after = [b.at - back for b in gone.values() if b is not None]
    every_cleared = len(cleared_after) == count and max(cleared_after) <= limit
    ok &= every_banner and every_cleared
    shown_after = [b.at - stopped for b in shown.values() if b is not None]
    said = next((b.detail["message"] for b in shown.values() if b is not None), None)
    lines.append(f"  banner shown on {len(shown_after)} of {count}, the slowest "
                 f"{max(shown_after, default=0):.2f} s after the stop "
                 f"({_mark(every_banner)}): \"{said}\"")
    # The event loop (the screen's, in the app) held: no target in the issue.
    stalls = {a.person: max((line.detail["seconds"] for line in a.of("stall", after=stopping)),
                            default=0.0) for a in apps}
    held = leader.person if leader is not None else "?"
    lines.append(f"  longest hold of an event loop from the stop on (the screen's, in the "
                 f"app): the leader's {stalls.get(held, 0.0):.2f} s, a follower's "
                 f"{max((v for k, v in stalls.items() if k != held), default=0.0):.2f} s "
                 f"(no target; a tick every 50 ms, holds over 0.25 s counted)")
    # Requests while away.
    lines.append(f"  API requests while the database was away: "
                 f"{requests_after_grace - requests_at_stop} in the first {GRACE_S:g} s, "
                 f"then {requests_away} ({away_rate:.2f}/s) "
                 f"(target 0: nobody holds the lead: {_mark(requests_away == 0)})")
    ok &= requests_away == 0
    # Resuming.
    lines.append(f"  from the server back (target <= the longest retry {retry_max:g} s + "
                 f"2 intervals = {limit:g} s): banner gone on {len(cleared_after)} of "
                 f"{count}, the slowest after {max(cleared_after, default=0):.2f} s "
                 f"({_mark(every_cleared)})")
    resumed = None if polled is None else polled - back
    on_time = resumed is not None and resumed <= limit
    changes_after = None if seen_changes is None else seen_changes - back
    changes_on_time = changes_after is not None and changes_after <= limit
    ok &= on_time and changes_on_time
    lines.append(f"    polling resumed after {_seconds(resumed)} ({_mark(on_time)}); the "
                 f"{len(late)} statuses changed meanwhile on every process after "
                 f"{_seconds(changes_after)} ({_mark(changes_on_time)})")
    fast = note_latency is not None and note_latency <= NOTE_TARGET_S
    ok &= fast
    lines.append(f"  a note written once all were back ({refusals} refused first): on every "
                 f"other process after {_seconds(note_latency)} "
                 f"(target <= {NOTE_TARGET_S:g} s: {_mark(fast)})")
    # History and audit.
    cut = [i for i, seen in history_before.items() if history_after.get(i, [])[:len(seen)]
           != seen]
    doubled = [i for i, seen in history_after.items()
               if any(a == b for a, b in itertools.pairwise(seen))]
    lost = [i for i in early + late if history_after.get(i) != ["Processing", "Completed"]]
    deleted = history_after.get(going) == ["Processing", "Deleted"]
    confirmed = [entry for entry in audit_after if entry[1] == "delete"
                 and str(going) in entry[2].split(",") and entry[3] == "confirmed"]
    audit_kept = audit_after[:len(audit_before)] == audit_before
    clean = (not cut and not doubled and not lost and deleted and len(confirmed) == 1
             and audit_kept)
    ok &= clean
    lines.append(f"  history: {len(history_after)} conversions, {len(cut)} lost rows from "
                 f"before, {len(doubled)} with a status twice, {len(lost)} of "
                 f"{len(early) + len(late)} changes around the outage not recorded once, "
                 f"the delete {'recorded' if deleted else 'NOT recorded'}; audit: "
                 f"{len(audit_before)} entries before {'kept' if audit_kept else 'NOT kept'}, "
                 f"the delete confirmed {len(confirmed)} time(s) ({_mark(clean)})")
    print(f"PostgreSQL stopped for {seconds:g} s under {count} app processes "
          f"(poll interval {interval:g} s):")
    for line in lines:
        print(line)
    return ok


def main() -> int:
    """The outage alone: ``bench_team.py`` without its other parts."""
    parser = harness.parser(__file__, __doc__)
    parser.add_argument("--watched", type=int, default=10_000, help="watched conversions")
    parser.add_argument("--active", type=int, default=100, help="of them, in flight")
    parser.add_argument("--outage", type=int, nargs="+", default=[2, 5],
                        help="numbers of app processes under which PostgreSQL is stopped")
    parser.add_argument("--outage-seconds", type=float, default=30.0,
                        help="how long PostgreSQL stays stopped")
    args = parser.parse_args()
    import bench_team  # it imports this module: not at the top

    return bench_team.main([
        "--apps", "--takeover", "0", "--no-first-screen", "--watched", str(args.watched),
        "--active", str(args.active), "--outage", *map(str, args.outage),
        "--outage-seconds", str(args.outage_seconds)])


if __name__ == "__main__":
    sys.exit(main())
