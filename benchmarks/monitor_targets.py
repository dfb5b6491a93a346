"""Every speed and size target of the live monitor, each printed beside its figure.

Run: ``.venv/bin/python benchmarks/monitor_targets.py``  (about 4 minutes on 2 cores)

Runs, one after another so they do not disturb each other:

* bench_monitor.py   the installed app at 10,000 watched: first screen, RSS
* bench_table.py     the table at 10,000 rows: first screen vs stock DataTable,
                     CPU at 10 changes/s and idle, 1,000 changes in one batch
* bench_poller.py    a poll cycle over 1,000 IDs at 50 ms latency vs ideal and
                     one-at-a-time; steady request rate with 10,000 watched /
                     100 active; client CPU per check vs a bare httpx GET
* bench_client.py    the API client's CPU per status check vs bare httpx
* bench_watchlist.py the SQLite watchlist at 10,000 rows

Exit status 1 when any script reports a missed target.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("bench_monitor.py", "bench_table.py", "bench_poller.py", "bench_client.py",
           "bench_watchlist.py")


def main() -> int:
    """Run each benchmark and relay its output."""
    failed = []
    for script in SCRIPTS:
        print(f"\n=== {script}", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(HERE / script)], check=False,
                                cwd=HERE.parent)
        print(f"--- {script}: exit {result.returncode} in {time.perf_counter() - started:.0f} s",
              flush=True)
        if result.returncode != 0:
            failed.append(script)
    print("\nall targets met" if not failed else f"\nmissed targets in: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
