#!/usr/bin/env python3
"""An alert storm: 1,000 conversions fail in one poll batch.

Run: ``.venv/bin/python benchmarks/bench_alerts.py [--rows 10000] [--failing 1000]``

Runs the monitor headless over ``--rows`` watched conversions (their last answers
recorded), then hands its screen one change in which ``--failing`` of them went from
Processing to Failed, as one poll batch would, five times (back to Processing between,
unmeasured). Prints,
beside the targets:

* the UI time of that batch (CPU of the UI thread: applying the change to the table,
  the counts, the alert rules and their delivery once the burst's first seconds of
  gathering are over, and the repaint that follows):
  <= 50 ms, the median of the five;
* the toasts it caused: one merged alert ("1,000 conversions failed"), never a flood;
* the bells written to the terminal for it: one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import harness
from bench_monitor import fill_watchlist

TARGET_MS = 50.0


async def measure(rows: int, failing: int, rounds: int) -> tuple[list[float], list[int],
                                                                   list[int]]:
    """UI milliseconds, failure toasts and bells of each round."""
    from tui.core.credentials import ApiKey
    from tui.core.paths import AppPaths
    from tui.core.session import MonitorSession
    from tui.core.settings import AppConfig, ProfileSettings
    from tui.core.watching import WatchChange
    from tui.core.watchlist import StatusChange, Watchlist
    from tui.ui import alerting
    from tui.ui.alerting import Alerter
    from tui.ui.app import ConversionsApp
    from tui.ui.screens.monitor import MonitorScreen

    bells: list[str] = []
    alerting.write_to_terminal = lambda app, text: bells.append(text) or True  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as folder:
        paths = AppPaths.under(Path(folder))
        # Nobody listens there: the rows stay as stored (the banner says offline).
        profile = ProfileSettings(name="bench", base_url="http://127.0.0.1:9")
        paths.ensure(profile.name)
        fill_watchlist(paths.watchlist_db(profile.name), rows)
        session = MonitorSession.open(paths, AppConfig(), profile,
                                      preset_key=ApiKey("bench-key"))
        app = ConversionsApp(session)
        times: list[float] = []
        toasts: list[int] = []
        rung: list[int] = []
        async with app.run_test(size=(160, 50)) as pilot:
            screen = next(s for s in app.screen_stack if isinstance(s, MonitorScreen))
            while len(screen.table.rows) < rows:
                await pilot.pause(0.05)
            with Watchlist(paths.watchlist_db(profile.name)) as store:
                processing = [row for row in store.all() if row.status == "Processing"]
            chosen = processing[:failing]
            if len(chosen) < failing:
                raise SystemExit(f"only {len(processing)} Processing rows: raise --rows")
            clock = [time.time()]  # the alerts' own clock: the burst's gathering is skipped

            def fresh_alerter() -> Alerter:
                return Alerter(app, profile.alerts, profile.stuck_after, profile=profile.name,
                               env={}, clock=lambda: clock[0])

            for _round in range(rounds):
                # Each storm comes a minute after the last, in a burst window of its own:
                # a fresh Alerter stands for that (the rules already fired for these rows).
                screen.alerter = alerter = fresh_alerter()
                now = time.time()
                failed = tuple(dataclasses.replace(row, status="Failed", last_changed=now,
                                                   entered_seen=True) for row in chosen)
                change = WatchChange(rows=failed, changes=tuple(
                    StatusChange(row.id, "Processing", "Failed", now) for row in chosen))
                before_toasts = len(app._notifications)
                before_bells = len(bells)
                await pilot.pause()
                start = time.thread_time()
                screen._apply_change(change)
                clock[0] += 3.0  # the first alert's gathering is over: it goes out
                alerter.tick()
                await pilot.pause()  # the repaint that follows
                times.append((time.thread_time() - start) * 1000)
                toasts.append(sum(1 for n in list(app._notifications)[before_toasts:]
                                  if "failed" in n.message))
                # Each alert is one write: the bell first, then its notifications (which
                # end in BEL too). The server's own alert (nobody listens) is not counted.
                rung.append(sum(1 for text in bells[before_bells:]
                                if text.startswith("\x07") and "failed" in text))
                # The rows back in Processing before the next storm (not measured).
                screen._apply_change(WatchChange(rows=tuple(chosen), changes=tuple(
                    StatusChange(row.id, "Failed", "Processing", now) for row in chosen)))
                await pilot.pause()
        session.close()
    return times, toasts, rung


def main() -> int:
    """Print the figures beside the targets; exit 1 when one is missed."""
    parser = harness.parser(__file__, __doc__)
    parser.add_argument("--rows", type=int, default=10_000, help="watched conversions")
    parser.add_argument("--failing", type=int, default=1_000, help="rows failing at once")
    args = parser.parse_args()
    harness.stop_on_signals()
    with harness.MachineLoad():
        times, toasts, rung = asyncio.run(measure(args.rows, args.failing, 5))
        median = statistics.median(times)
        ok_time = median <= TARGET_MS
        ok_toasts = all(count == 1 for count in toasts)
        ok_bells = all(count == 1 for count in rung)
        print(f"{args.failing:,} of {args.rows:,} watched fail in one poll batch (5 rounds)")
        print(f"  UI time of the batch   median {median:6.1f} ms  (each: "
              f"{', '.join(f'{t:.1f}' for t in times)})   target <= {TARGET_MS:g} ms  "
              f"{'ok' if ok_time else 'MISSED'}")
        print(f"  failure toasts         {toasts}   target: one merged alert a batch  "
              f"{'ok' if ok_toasts else 'MISSED'}")
        print(f"  bells                  {rung}   target: one a batch  "
              f"{'ok' if ok_bells else 'MISSED'}")
    return 0 if ok_time and ok_toasts and ok_bells else 1


if __name__ == "__main__":
    sys.exit(main())
