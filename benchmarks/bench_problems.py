#!/usr/bin/env python3
"""Grouping failures by cause (the Problems view) at 100,000 watched conversions.

Run: ``.venv/bin/python benchmarks/bench_problems.py [--rows 100000] [--messages 10]``

Every row has ``--messages`` messages (half errors, half warnings) made from twenty
templates with random numbers and quoted values, so nearly every message text is distinct
(the worst case for masking). Prints, beside the target:

* grouping all failures, as the view does it while the monitor runs: the index follows a
  poll batch of ``--batch`` changed rows (their messages new) and lists every group, largest
  first: <= 200 ms (the median of several rounds);
* for scale, without a target: the first indexing of every row at load (once, in a
  thread; the tab's count appears when it is done), and following a batch of unchanged rows.

Exit status 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

import harness

TARGET_MS = 200.0
TEMPLATES = (
    "Row {n}: date '{a}/{b}' is ambiguous; read as {a} {month}",
    "File is not valid UTF-8 (byte 0x{h:x} at offset {n})",
    "Row {n}: amount '{a}.{b}x' is not a number",
    "Row {n}: currency '{word}' is unknown",
    "Column {a} expected {b} values, got {n}",
    "Row {n}: trailing spaces trimmed in column '{word}'",
    "Sheet '{word}' was ignored: it has no header row",
    "Row {n}: empty cost centre",
    "Value \"{word}{a}\" in row {n} is longer than {b} characters",
    "Row {n}: duplicate invoice number '{word}-{n}'",
    "Page {a} could not be read (image {b} of {n})",
    "Row {n}: VAT rate {a}.{b}% is not one of the rates of {word}",
    "Header '{word}' appears {a} times",
    "Row {n}: date {a}/{b}/2026 is in the future",
    "Row {n}: postcode '{word}{a}' does not match the country",
    "Timeout after {a} s while reading part {b}",
    "Row {n}: negative quantity {a}",
    "Unknown field '{word}' ignored",
    "Row {n}: e-mail '{word}@{word}' is not valid",
    "Row {n}: IBAN ending {a}{b} fails its check digits",
)
WORDS = ("Notes", "XYZ", "Q3", "Cost centre", "Ledger", "EUR", "Region", "Supplier")


def messages(rng: random.Random, count: int, salt: int) -> tuple[str, ...]:
    """``count`` realistic messages, their variable parts random."""
    return tuple(rng.choice(TEMPLATES).format(
        n=rng.randint(1, 200_000) + salt, a=rng.randint(1, 99), b=rng.randint(1, 99),
        h=rng.randint(128, 255), word=rng.choice(WORDS), month="April")
        for _ in range(count))


def make_rows(count: int, per_row: int, seed: int, salt: int = 0) -> list[object]:
    """``count`` failed conversions with ``per_row`` messages each."""
    from tui.core.watchlist import WatchedConversion
    rng = random.Random(seed)
    half = per_row // 2
    now = time.time()
    return [WatchedConversion(
        id=1_000_000 + i, file_name=f"batch-{i}.csv", data_source_type="Csv",
        status="Failed", upload_date=None, warnings=messages(rng, per_row - half, salt),
        errors=messages(rng, half, salt), metadata={}, first_seen=now, last_checked=now,
        last_changed=now, note=None, last_problem=None, problem_count=0,
        delete_requested_at=None, deleted_at=None, not_found=False, raw=None)
        for i in range(count)]


def timed(function: Callable[[], object]) -> float:
    """Wall milliseconds of one call."""
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def main() -> int:
    """Build the rows, time the grouping; exit status 1 when the target is missed."""
    parser = harness.parser(__file__, __doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="watched conversions")
    parser.add_argument("--messages", type=int, default=10, help="messages a row")
    parser.add_argument("--batch", type=int, default=1_000, help="rows a poll batch changes")
    parser.add_argument("--rounds", type=int, default=5, help="poll batches timed")
    args = parser.parse_args()
    harness.stop_on_signals()
    with harness.MachineLoad():
        return measure(args)


def measure(args: argparse.Namespace) -> int:
    """Time the first index and the regrouping after each poll batch."""
    from tui.core.problems import ProblemIndex
    rows = make_rows(args.rows, args.messages, seed=1)
    index = ProblemIndex()
    first = timed(lambda: index.set_rows(rows))  # type: ignore[arg-type]
    groups = index.groups()
    unchanged = timed(lambda: index.update(rows))  # type: ignore[arg-type]
    regroup = []
    for round_number in range(args.rounds):
        start = (round_number * args.batch) % max(args.rows - args.batch, 1)
        batch = make_rows(args.batch, args.messages, seed=100 + round_number,
                          salt=round_number)
        for n, row in enumerate(batch):
            row.id = 1_000_000 + start + n  # type: ignore[attr-defined]

        def poll_batch(batch: list[object] = batch) -> None:
            index.update(batch)  # type: ignore[arg-type]
            index.groups()

        regroup.append(timed(poll_batch))
    millis = statistics.median(regroup)
    total = args.rows * args.messages
    print(f"{args.rows:,} watched, {total:,} messages, {len(groups):,} groups")
    print(f"first indexing at load (once, in a thread): {first:.0f} ms (no target)")
    print(f"following {args.rows:,} unchanged rows: {unchanged:.0f} ms (no target)")
    ok = millis <= TARGET_MS
    print(f"grouping all failures at {args.rows:,} watched with {args.messages} messages each"
          f" (a poll batch of {args.batch:,} changed rows, then every group listed):"
          f" {millis:.1f} ms (target <= {TARGET_MS:g} ms){'' if ok else '  MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
