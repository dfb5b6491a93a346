#!/usr/bin/env python3
"""How fast the watchlist is at the sizes a long-running monitor reaches.

Run: ``.venv/bin/python benchmarks/bench_watchlist.py [--rows 10000] [--batch 1000]``

Prints the median of several runs next to its target:
* ``all()`` of 10,000 rows: well under 100 ms (the table refreshes from it), both
  cold (another connection wrote, so every row is read again) and warm (from the
  in-memory snapshot, the usual case after our own poll);
* ``record_results`` of 1,000 results: well under 50 ms (one poll round);
* ``add`` of 10,000 IDs, ``ids()`` and ``get`` for scale.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import harness

from tui.api.models import StatusEnvelope
from tui.core.watchlist import PollResult, Watchlist

STATUSES = ("Uploaded", "Queued", "Processing", "Completed", "Failed")


def envelope(conversion_id: int, status: str, warnings: int) -> StatusEnvelope:
    """A realistic answer (about 600 bytes), parsed the way the client parses it."""
    body = (
        '{"profile": {"id": 7, "aadId": "0f8fad5b-d9cb-469f-a165-70867728950e", '
        '"email": "ann@example.com", "firstName": "Ann", "lastName": "Lee", '
        '"company": "Example", "created": "2023-01-01T00:00:00Z", "shouldProcessQrCodes": false},'
        f' "payload": {{"id": {conversion_id}, "fileName": "invoice-{conversion_id}.csv", '
        f'"dataSourceType": "Csv", "status": "{status}", '
        '"uploadDate": "2024-05-01T12:00:00Z"}, '
        '"errors": [], "hasErrors": false, '
        f'"warnings": {[f"row {n}: empty cell" for n in range(warnings)]!r}, '
        f'"hasWarnings": {"true" if warnings else "false"}, "metadata": {{"node": "w3"}}}}'
    ).replace("'", '"')
    return StatusEnvelope.from_wire(body.encode())


def timed(function: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall time of ``repeat`` runs, in milliseconds, and the last result."""
    times = []
    result: object = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def report(name: str, millis: float, target: float | None) -> bool:
    """Print one line; returns whether the target was met."""
    if target is None:
        print(f"{name:<42} {millis:8.1f} ms")
        return True
    ok = millis < target
    print(f"{name:<42} {millis:8.1f} ms   target < {target:g} ms   {'ok' if ok else 'MISSED'}")
    return ok


def main() -> int:
    """Fill a fresh watchlist and time the hot calls; exit status 1 when a target is missed."""
    parser = harness.parser(__file__, __doc__)
    parser.add_argument("--rows", type=int, default=10_000, help="watched conversions")
    parser.add_argument("--batch", type=int, default=1_000, help="poll results per round")
    parser.add_argument("--repeat", type=int, default=7, help="runs of each measurement")
    args = parser.parse_args()
    harness.stop_on_signals()
    with harness.MachineLoad():
        return measure(args)


def measure(args: argparse.Namespace) -> int:
    """Time the hot calls at ``args.rows``; 0 when every target is met."""

    with tempfile.TemporaryDirectory() as folder:
        store = Watchlist(Path(folder) / "watchlist.sqlite3")
        ids = list(range(1_000_000, 1_000_000 + args.rows))
        started = time.perf_counter()
        store.add(ids, at=time.time())
        report(f"add {args.rows:,} ids", (time.perf_counter() - started) * 1000, None)

        # Give every row a realistic last answer (a fifth of them with warnings).
        answers = [envelope(i, STATUSES[i % 5], 3 if i % 5 == 0 else 0) for i in ids]
        now = time.time()
        for start in range(0, len(ids), args.batch):
            store.record_results([PollResult(i, now, envelope=answers[n])
                                  for n, i in enumerate(ids[start:start + args.batch],
                                                        start)])

        ok = True
        # Cold: every call reads all rows, because another connection (another app
        # instance on the same profile) wrote in between.
        other = Watchlist(Path(folder) / "watchlist.sqlite3")

        def cold_all() -> object:
            other.set_note(ids[0], f"touched {time.perf_counter()}")
            started = time.perf_counter()
            rows = store.all()
            cold_times.append((time.perf_counter() - started) * 1000)
            return rows

        cold_times: list[float] = []
        _, rows = timed(cold_all, args.repeat)
        assert isinstance(rows, list) and len(rows) == args.rows
        ok &= report(f"all() of {args.rows:,} rows, cold (re-read)",
                     statistics.median(cold_times), 100)
        millis, rows = timed(store.all, args.repeat)
        ok &= report(f"all() of {args.rows:,} rows, warm (snapshot)", millis, 100)
        other.close()

        # Rounds in which every status moves on: history rows are written too (worst case).
        batch = ids[: args.batch]
        rounds = [[PollResult(i, now + r, envelope=envelope(i, STATUSES[(i + r) % 5], 0))
                   for i in batch] for r in range(1, 6)]
        round_number = 0

        def poll_round() -> object:
            nonlocal round_number
            round_number += 1
            changes = store.record_results(rounds[round_number % 5])
            assert isinstance(changes, list) and len(changes) == len(batch)
            return changes

        millis, _ = timed(poll_round, args.repeat)
        ok &= report(f"record_results of {args.batch:,} results (all change)", millis, 50)

        unchanged = [PollResult(i, now, envelope=answers[n])
                     for n, i in enumerate(ids[: args.batch])]
        millis, _ = timed(lambda: store.record_results(unchanged), args.repeat)
        ok &= report(f"record_results of {args.batch:,} (no change)", millis, 50)

        millis, _ = timed(store.ids, args.repeat)
        report(f"ids() of {args.rows:,} rows", millis, None)
        millis, _ = timed(lambda: store.get(ids[len(ids) // 2]), args.repeat)
        report("get(one id)", millis, None)
        print(f"(SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}, "
              f"median of {args.repeat} runs)")
        store.close()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
