#!/usr/bin/env python3
"""Uploading 1,000 files of 100 KiB to a loopback sandbox: peak memory and throughput.

Targets (issue 5):

* peak RSS of the upload path <= 2 x the batch byte budget + 100 MB: files are read as
  each batch is built, so memory follows the budget, not the number of files;
* wall time within 1.5 x of posting the same pre-built batch bodies with plain httpx
  (which skips reading, encoding and recording: the uploader's whole overhead).

Each side runs in its own child process so that its peak RSS (``VmHWM``) is its own;
the sandbox runs in this (parent) process, so its memory is not counted either.

    .venv/bin/python benchmarks/bench_upload.py [--files 1000] [--size-kib 100] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import harness

ROOT = harness.ROOT

KEY = "bench-key"
MB = 1_000_000
MIB = 2**20


def _peak_rss_bytes() -> int:
    """Peak resident memory of this process (VmHWM; ru_maxrss as a fallback)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ------------------------------------------------------------------ child: the uploader
async def _upload(folder: Path, base_url: str, budget: int, state: Path) -> dict[str, float]:
    from tui.api.client import ConversionsClient
    from tui.core.audit import AuditLog
    from tui.core.upload.plan import plan_upload
    from tui.core.upload.uploader import Uploader
    from tui.core.watchlist import Watchlist

    before = _peak_rss_bytes()
    started = time.perf_counter()
    plan = plan_upload([folder])
    with Watchlist(state / "watchlist.sqlite3") as watchlist, \
            AuditLog(state / "audit.sqlite3") as audit:
        async with ConversionsClient(base_url, KEY, timeout=60) as client:
            uploader = Uploader(client, watchlist, audit, profile_name="bench",
                                batch_bytes=budget)
            outcome = await uploader.run(plan, reference="BENCH-1")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_rss": _peak_rss_bytes(), "rss_before": before,
            "accepted": len(outcome.accepted), "batches": outcome.batches_posted}


# ------------------------------------------------------------- child: plain httpx baseline
async def _plain(folder: Path, base_url: str, budget: int) -> dict[str, float]:
    import base64

    import httpx

    from tui.core.upload.body import group_batches
    from tui.core.upload.plan import plan_upload

    plan = plan_upload([folder])
    bodies = []  # built before the clock starts: only the posting is timed
    for batch in group_batches(plan.items, max_records=100, max_bytes=budget):
        records = [{"fileName": item.file_name, "dataSourceType": item.data_source_type,
                    "content": base64.b64encode(item.path.read_bytes()).decode("ascii")}
                   for item in batch]
        bodies.append(json.dumps(records).encode())
    accepted = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=60,
                                 headers={"X-API-KEY": KEY,
                                          "Content-Type": "application/json"}) as client:
        started = time.perf_counter()
        for body in bodies:
            response = await client.post("/v1/conversions", content=body)
            response.raise_for_status()
            accepted += response.json()["payload"]["accepted"]
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_rss": _peak_rss_bytes(), "accepted": accepted,
            "batches": len(bodies)}


def _child(argv: list[str]) -> None:
    mode, folder, base_url, budget = argv[0], Path(argv[1]), argv[2], int(argv[3])
    if mode == "upload":
        with tempfile.TemporaryDirectory() as state:
            result = asyncio.run(_upload(folder, base_url, budget, Path(state)))
    else:
        result = asyncio.run(_plain(folder, base_url, budget))
    print(json.dumps(result))


# -------------------------------------------------------------------------- the parent
def _run_child(mode: str, folder: Path, base_url: str, budget: int) -> dict[str, float]:
    done = harness.run([sys.executable, __file__, "--child", mode, str(folder), base_url,
                        str(budget)], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{mode} child failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    """Make the files, start the sandbox, measure both sides, print numbers beside targets;
    exit status 1 when a target is missed."""
    parser = harness.parser(__file__, __doc__)
    parser.add_argument("--files", type=int, default=1000, help="files to upload")
    parser.add_argument("--size-kib", type=int, default=100, help="size of each file")
    parser.add_argument("--budget-mib", type=float, default=20.0, help="bytes per batch")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each side")
    opts = parser.parse_args()
    harness.stop_on_signals()
    with harness.MachineLoad():
        return measure(opts)


def measure(opts: argparse.Namespace) -> int:
    """Both sides, best of ``opts.rounds``; 0 when both targets are met."""
    budget = int(opts.budget_mib * MIB)

    from tui.sandbox.runner import SandboxServer

    with tempfile.TemporaryDirectory(prefix="bench-upload-") as root:
        folder = Path(root) / "files"
        folder.mkdir()
        for number in range(opts.files):
            (folder / f"file{number:05d}.csv").write_bytes(os.urandom(opts.size_kib * 1024))
        total = opts.files * opts.size_kib * 1024
        with SandboxServer(api_key=KEY, rng_seed=1) as server:
            uploads: list[dict[str, float]] = []
            plains: list[dict[str, float]] = []
            for _ in range(opts.rounds):
                for mode, into in (("plain", plains), ("upload", uploads)):
                    server.reset()
                    result = _run_child(mode, folder, server.base_url, budget)
                    if result["accepted"] != opts.files:
                        raise SystemExit(f"{mode}: only {result['accepted']} accepted")
                    into.append(result)

    best_upload = min(uploads, key=lambda r: r["seconds"])
    best_plain = min(plains, key=lambda r: r["seconds"])
    peak = max(r["peak_rss"] for r in uploads)
    rss_target = 2 * budget + 100 * MB
    ratio = best_upload["seconds"] / best_plain["seconds"]
    print(f"{opts.files} files of {opts.size_kib} KiB ({total / MIB:.0f} MiB), "
          f"budget {opts.budget_mib:g} MiB, {int(best_upload['batches'])} batches, "
          f"best of {opts.rounds} rounds")
    print(f"  uploader:    {best_upload['seconds']:.2f} s "
          f"({total / MIB / best_upload['seconds']:.0f} MiB/s of files)")
    print(f"  plain httpx: {best_plain['seconds']:.2f} s "
          f"(pre-built bodies; peak RSS {best_plain['peak_rss'] / MB:.0f} MB)")
    print(f"  time ratio   {ratio:.2f} x   target <= 1.50 x   "
          f"{'OK' if ratio <= 1.5 else 'MISSED'}")
    print(f"  peak RSS     {peak / MB:.0f} MB (after imports {best_upload['rss_before'] / MB:.0f}"
          f" MB)   target <= {rss_target / MB:.0f} MB   "
          f"{'OK' if peak <= rss_target else 'MISSED'}")
    return 0 if ratio <= 1.5 and peak <= rss_target else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
    else:
        raise SystemExit(main())
