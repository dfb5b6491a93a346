#!/usr/bin/env python3
"""Grouping failures by cause (the Problems view) at 100,000 watched conversions.

Run: ``.venv/bin/python benchmarks/bench_problems.py [--rows 100000] [--messages 10]``

Every row has ``--messages`` messages (half errors, half warnings) made from twenty
templates with random numbers and quoted values, so nearly every message text is distinct
(the worst case for masking). The rows are written to a watchlist file of schema 4 (their
messages as JSON lists), opened as the app opens it (the migration stores and masks every
text; timed), and the file taken back to schema 5 and opened again (the masks and groups
alone; timed). Prints, beside the targets (the median of several rounds):

* grouping all failures from scratch, as the view does at load: the groups the file keeps
  read in one query with the rows they count, the index seeded, every group listed:
  <= 200 ms;
* grouping all failures as the view follows the monitor: the seeded index follows a poll
  batch of ``--batch`` changed rows (their messages new) and lists every group: <= 200 ms;
* for scale, without a target: the migrations, masking every message in memory (what the
  first grouping cost before the file kept the groups), following a batch of unchanged
  rows, and ``record_results`` of a batch of ``--batch`` rows with new messages, with the
  part of it spent masking the new texts and refreshing the rows' groups.

Exit status 1 when a target is missed (MISSED), or when the seeded groups differ from
those made by masking every row (DIFFERS).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def write_schema_4(path: Path, rows: list[Any]) -> None:
    """A schema 4 watchlist (no message tables) holding ``rows``, their messages in JSON."""
    from tui.core.watchlist import Watchlist
    Watchlist(path).close()  # today's schema, then taken back to schema 4's tables
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    for table in ("message_index", "messages", "message_texts", "problems", "masked_texts"):
        conn.execute(f"DROP TABLE {table}")
    for table in ("watched", "unwatched"):
        for column in ("errors_total", "warnings_total"):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.executemany(
        "INSERT INTO watched (id, file_name, data_source_type, status, warnings, errors, "
        "first_seen, last_checked) VALUES (?, ?, 'Csv', ?, ?, ?, ?, ?)",
        ((row.id, row.file_name, row.status, json.dumps(row.warnings), json.dumps(row.errors),
          row.first_seen, row.last_checked) for row in rows))
    conn.execute("PRAGMA user_version = 4")
    conn.execute("COMMIT")
    conn.close()


def back_to_schema_5(path: Path) -> None:
    """Take the file back to schema 5: no masks, no stored groups."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute("DROP TABLE problems")
    conn.execute("DROP TABLE masked_texts")
    conn.execute("DROP INDEX message_texts_by_mask")
    conn.execute("ALTER TABLE message_texts DROP COLUMN masked_id")
    conn.execute("PRAGMA user_version = 5")
    conn.execute("COMMIT")
    conn.execute("VACUUM")
    conn.close()


def results(rows: list[Any], at: float) -> list[Any]:
    """Poll results that bring ``rows``' messages, parsed as the client parses them."""
    from tui.api.models import StatusEnvelope
    from tui.core.watchlist import PollResult
    return [PollResult(row.id, at, envelope=StatusEnvelope.from_wire(json.dumps({
        "payload": {"id": row.id, "fileName": row.file_name, "dataSourceType": "Csv",
                    "status": "Failed"},
        "errors": list(row.errors), "warnings": list(row.warnings)}).encode()))
        for row in rows]


def report(name: str, millis: float, target: float | None, note: str = "") -> bool:
    """One line: the figure, and its target if it has one; True when met."""
    if target is None:
        print(f"  {name:<62} {millis:9.1f} ms{note}")
        return True
    ok = millis <= target
    print(f"  {name:<62} {millis:9.1f} ms   target <= {target:g} ms"
          f"{'' if ok else '  MISSED'}{note}")
    return ok


def main() -> int:
    """Build the rows, time the grouping; exit status 1 when a target is missed."""
    parser = harness.parser(__file__, __doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="watched conversions")
    parser.add_argument("--messages", type=int, default=10, help="messages a row")
    parser.add_argument("--batch", type=int, default=1_000, help="rows a poll batch changes")
    parser.add_argument("--rounds", type=int, default=5, help="rounds a figure is timed")
    args = parser.parse_args()
    harness.stop_on_signals()
    with harness.MachineLoad(), tempfile.TemporaryDirectory() as folder:
        return measure(args, Path(folder) / "watchlist.sqlite3")


def batch_rows(args: argparse.Namespace, round_number: int) -> list[Any]:
    """A poll batch: ``--batch`` watched rows with new messages."""
    start = (round_number * args.batch) % max(args.rows - args.batch, 1)
    batch = make_rows(args.batch, args.messages, seed=100 + round_number,
                      salt=round_number)
    for n, row in enumerate(batch):
        row.id = 1_000_000 + start + n  # type: ignore[attr-defined]
    return batch


def measure(args: argparse.Namespace, path: Path) -> int:
    """Time the migrations, the grouping from scratch and after poll batches."""
    from tui.core.problems import ProblemIndex, group_problems
    from tui.core.watchlist import Watchlist, grouping
    rows = make_rows(args.rows, args.messages, seed=1)
    write_schema_4(path, rows)
    migrate_4 = timed(lambda: Watchlist(path).close())
    back_to_schema_5(path)
    migrate_5 = timed(lambda: Watchlist(path).close())
    ok = True
    with Watchlist(path) as watchlist:
        loaded = watchlist.all()
        in_memory = ProblemIndex()
        masking = timed(lambda: in_memory.set_rows(loaded))
        seeded = ProblemIndex()

        def from_scratch() -> None:
            seeded.seed(watchlist.stored_groups())
            seeded.groups()

        scratch = statistics.median(timed(from_scratch) for _ in range(args.rounds))
        same = seeded.groups() == in_memory.groups()
        unchanged = timed(lambda: seeded.update(loaded))
        regroup = []
        for round_number in range(args.rounds):
            # As the monitor does: the poll's answers are written (untimed here), then the
            # rows written are given to the index, and the groups listed.
            answers = results(batch_rows(args, round_number), 1e9 + round_number)
            batch = list(watchlist.record_results(answers).rows.values())

            def poll_batch(batch: list[Any] = batch) -> None:
                seeded.update(batch)
                seeded.groups()

            regroup.append(timed(poll_batch))
        same_after = seeded.groups() == group_problems(watchlist.all())
        # record_results of a batch of new texts, and the part of it spent masking them
        # and refreshing the groups of the rows (the two steps timed inside it).
        recorded, grouping_part = [], []
        real = grouping.fill_masks, grouping.refresh_problems, grouping.drop_unused_masks
        spent = [0.0]

        def clocked(step: Callable[..., None]) -> Callable[..., None]:
            def run(*given: Any) -> None:
                started = time.perf_counter()
                step(*given)
                spent[0] += (time.perf_counter() - started) * 1000
            return run

        grouping.fill_masks, grouping.refresh_problems, grouping.drop_unused_masks = map(
            clocked, real)
        try:
            for round_number in range(args.rounds):
                answers = results(batch_rows(args, 50 + round_number), 2e9 + round_number)
                spent[0] = 0.0
                recorded.append(timed(lambda answers=answers: watchlist.record_results(answers)))
                grouping_part.append(spent[0])
        finally:
            grouping.fill_masks, grouping.refresh_problems, grouping.drop_unused_masks = real
    groups = len(in_memory)
    total = args.rows * args.messages
    print(f"grouping failures: {args.rows:,} watched, {total:,} messages, {groups:,} groups "
          f"(median of {args.rounds})")
    ok &= report("grouping all failures from scratch (at load, from the file)", scratch,
                 TARGET_MS, "" if same else "  DIFFERS from masking every row")
    ok &= same
    ok &= report(f"grouping all failures after a poll batch of {args.batch:,} changed rows",
                 statistics.median(regroup), TARGET_MS,
                 "" if same_after else "  DIFFERS from masking every row")
    ok &= same_after
    report("for scale: masking every message in memory (before schema 6)", masking, None)
    report(f"for scale: following {args.rows:,} unchanged rows", unchanged, None)
    report("migration of a schema 4 file (messages, index, masks, groups)", migrate_4, None)
    report("migration of a schema 5 file (masks and groups)", migrate_5, None)
    report(f"record_results of {args.batch:,} rows, {args.batch * args.messages:,} new texts",
           statistics.median(recorded), None,
           f"  (of which masking the texts and grouping the rows "
           f"{statistics.median(grouping_part):.1f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
