#!/usr/bin/env python3
"""Every speed and size target of the live monitor, each printed beside its figure.

Run: ``.venv/bin/python benchmarks/monitor_targets.py``  (about 6 minutes on 2 cores)

Runs, one after another so they do not disturb each other:

* bench_monitor.py   the installed app at 10,000 watched: first screen, RSS
* bench_table.py     the table at 10,000 rows: first screen vs stock DataTable,
                     CPU at 10 changes/s and idle, 1,000 changes in one batch
* both again at 100,000 rows (``--rows 100000``), with issue 12's targets: first
                     screen from spawn, imports included, <= 1.0 s; RSS with the table
                     shown <= 200 MB; UI time of 1,000 changes <= 20 ms
* bench_poller.py    a poll cycle over 1,000 IDs at 50 ms latency vs ideal and
                     one-at-a-time; steady request rate with 10,000 watched /
                     100 active; client CPU per check vs a bare httpx GET
* bench_client.py    the API client's CPU per status check vs bare httpx
* bench_watchlist.py the SQLite watchlist at 10,000 rows
* bench_feed.py      at 100,000 watched, a note written by another process on screen
* bench_alerts.py    an alert storm: 1,000 rows fail in one batch, one alert, UI time
* bench_ui_responsiveness.py  Inspect of 100,000 warnings, large answers parsed: the
                     timing limits the tests no longer assert

Any line with MISSED (or a script that fails) makes the last line say which targets were
missed, and the exit status 1. Each script, and this one, ends with how much CPU other
processes used meanwhile: figures taken on a busy machine are upper bounds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import harness

HERE = Path(__file__).resolve().parent
# Each run: a script and its arguments (its name alone when it takes none).
SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("bench_monitor.py",), ("bench_table.py",),
    ("bench_monitor.py", "--rows", "100000"), ("bench_table.py", "--rows", "100000"),
    ("bench_poller.py",), ("bench_client.py",), ("bench_watchlist.py",),
    ("bench_feed.py",), ("bench_alerts.py",), ("bench_ui_responsiveness.py",),
)


def missed_lines(lines: Iterable[str]) -> list[str]:
    """The lines of a benchmark's output that report a missed target."""
    return [line.strip() for line in lines if "MISSED" in line]


def run_script(script: str, *arguments: str) -> tuple[int, list[str]]:
    """Run one benchmark, relaying its output as it comes; (exit status, its lines)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = harness.popen([sys.executable, str(HERE / script), *arguments], cwd=HERE.parent,
                            env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    with process, harness.ending(process):
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
        process.wait()
    return process.returncode, lines


def verdict(results: dict[str, tuple[int, list[str]]]) -> tuple[int, list[str]]:
    """The exit status and the closing lines, from each script's exit status and output:
    every missed target again, then one line that says whether all were met."""
    missed: list[str] = []
    scripts: list[str] = []
    for script, (returncode, lines) in results.items():
        found = missed_lines(lines)
        missed.extend(f"  {script}: {line}" for line in found)
        if returncode != 0 and not found:
            missed.append(f"  {script}: exit status {returncode}")
        if found or returncode != 0:
            scripts.append(script)
    if not missed:
        return 0, ["all targets met"]
    return 1, [*missed, f"targets MISSED in {', '.join(scripts)}"]


def main() -> int:
    """Run each benchmark, relay its output, then say whether every target was met."""
    parser = harness.parser(__file__, __doc__)
    parser.parse_args()
    harness.stop_on_signals()
    results: dict[str, tuple[int, list[str]]] = {}
    with harness.MachineLoad():
        for script, *arguments in SCRIPTS:
            name = " ".join((script, *arguments))
            print(f"\n=== {name}", flush=True)
            started = time.monotonic()
            results[name] = run_script(script, *arguments)
            print(f"--- {name}: exit {results[name][0]} in "
                  f"{time.monotonic() - started:.0f} s", flush=True)
        print()
    status, closing = verdict(results)
    print("\n".join(closing))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
