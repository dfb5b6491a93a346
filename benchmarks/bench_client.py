#!/usr/bin/env python3
"""CPU per get_status, against a bare httpx GET of the same URL, on a loopback sandbox.

A poller calls get_status thousands of times, so the client's own work per call (building
the request, parsing the envelope, mapping errors) must stay close to httpx's. The sandbox
runs in a child process (a thread would share the GIL and blur the numbers), and
``time.thread_time()`` counts only the calling thread of this one.

    .venv/bin/python benchmarks/bench_client.py [--calls 2000] [--rounds 7]
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection

import harness
import httpx

from tui.api import ConversionsClient, StatusEnvelope
from tui.sandbox.runner import SandboxServer

KEY = "bench-key"
BARE, OURS = "bare httpx GET", "get_status"
Call = Callable[[], Awaitable[object]]


def _serve(pipe: Connection) -> None:
    """Child process: a sandbox with one frozen conversion, until told to stop."""
    harness.die_with_parent()
    with SandboxServer(api_key=KEY, rng_seed=1) as server:
        conversion_id = server.state.add_conversion(status="Processing", frozen=True,
                                                    warnings=["a warning"])
        pipe.send((server.base_url, conversion_id))
        pipe.recv()


async def _per_call(call: Call, calls: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) per call, over ``calls`` sequential calls."""
    cpu, wall = time.thread_time(), time.perf_counter()
    for _ in range(calls):
        await call()
    return (time.thread_time() - cpu) / calls, (time.perf_counter() - wall) / calls


async def _measure(base_url: str, conversion_id: int, calls: int,
                   rounds: int) -> tuple[dict[str, list[tuple[float, float]]], bytes]:
    """Alternate rounds of both ways of asking; returns the samples and one body."""
    url = f"{base_url}/v1/conversions/{conversion_id}/status"
    bare = httpx.AsyncClient(headers={"X-API-KEY": KEY}, timeout=10.0,
                             transport=httpx.AsyncHTTPTransport(retries=0))
    client = ConversionsClient(base_url, KEY)

    async def bare_get() -> object:
        response = await bare.get(url)
        response.raise_for_status()
        return response.content

    async def our_get() -> object:
        return await client.get_status(conversion_id)

    ways: dict[str, Call] = {BARE: bare_get, OURS: our_get}
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    try:
        for call in ways.values():
            await _per_call(call, max(calls // 10, 50))  # warm up the pools and caches
        for _ in range(rounds):
            for name, call in ways.items():
                samples[name].append(await _per_call(call, calls))
        body = (await bare.get(url)).content
    finally:
        await bare.aclose()
        await client.aclose()
    return samples, body


def _report(samples: dict[str, list[tuple[float, float]]], body: bytes, calls: int,
            rounds: int) -> None:
    parse_calls = 20_000
    started = time.thread_time()
    for _ in range(parse_calls):
        StatusEnvelope.from_wire(body, http_status=200)
    parse_cost = (time.thread_time() - started) / parse_calls

    print(f"{calls} sequential calls x {rounds} rounds over loopback "
          "(client CPU only, server in another process)")
    # The best round is the least disturbed by other work on the machine; the median
    # shows how much that disturbance moves things.
    best: dict[str, float] = {}
    for name, rows in samples.items():
        best[name] = min(row[0] for row in rows)
        median = statistics.median(row[0] for row in rows)
        wall = statistics.median(row[1] for row in rows)
        print(f"  {name:<15} CPU best {best[name] * 1e6:7.1f}  median {median * 1e6:7.1f} "
              f"µs/call   wall median {wall * 1e6:7.1f} µs/call")
    extra, ratio = best[OURS] - best[BARE], best[OURS] / best[BARE]
    print(f"  overhead        CPU best {extra * 1e6:7.1f} µs/call ({ratio:.2f}x the bare GET)")
    print(f"  parse only      CPU {parse_cost * 1e6:8.1f} µs/envelope ({len(body)} bytes)")


def run(calls: int, rounds: int) -> None:
    """Start the sandbox process, measure, print, stop it."""
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.Process(target=_serve, args=(theirs,), daemon=True)
    child.start()
    try:
        base_url, conversion_id = ours.recv()
        samples, body = asyncio.run(_measure(base_url, conversion_id, calls, rounds))
    finally:
        try:
            ours.send("stop")
        except OSError:  # the child is gone already
            pass
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    _report(samples, body, calls, rounds)


def main() -> None:
    """Command line entry point."""
    parser = harness.parser(__file__, __doc__)
    parser.add_argument("--calls", type=int, default=2000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of each way of asking")
    args = parser.parse_args()
    harness.stop_on_signals()
    with harness.MachineLoad():
        run(args.calls, args.rounds)


if __name__ == "__main__":
    main()
