"""Waiting for a condition, never for a fixed time: the one place tests wait.

A test on a loaded machine runs slower, never differently: so it waits for what it
expects to see (``until``: asyncio and Pilot tests; ``until_sync``: threads and
subprocesses) with one generous bound, and it says what it saw only when the wait ends,
by calling ``describe()`` then (a message built before the wait shows the state before
it, whatever happened). The bound is ``WAIT_BOUND`` seconds, 60 unless the environment
variable ``TEST_WAIT_BOUND`` says otherwise; it is a guard against hanging forever, not
a limit on speed: how fast things are is measured by the scripts in ``benchmarks/``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable

WAIT_BOUND = float(os.environ.get("TEST_WAIT_BOUND", "60"))
"""Seconds any single wait may take before the test fails (``TEST_WAIT_BOUND``)."""

Describe = str | Callable[[], object]
"""What was awaited: text, or a callable that says what was seen (called at the end)."""


def _message(describe: Describe, bound: float) -> str:
    said = describe() if callable(describe) else describe
    return f"still not true after {bound:g} s: {said}"


async def until(condition: Callable[[], object], describe: Describe, *,
                pause: Callable[[], Awaitable[object]] | None = None,
                bound: float | None = None,
                clock: Callable[[], float] = time.monotonic) -> float:
    """Return once ``condition()`` is true (the ``clock`` time it was seen true); fail
    after the bound with ``describe()``.

    ``pause`` lets the code under test run between checks: a Pilot's
    ``lambda: pilot.pause(0.02)`` so Textual processes its messages, else a short
    ``asyncio.sleep``. A test in virtual time passes its loop's clock (and a bound in
    virtual seconds), so the wait costs no real time.
    """
    limit = WAIT_BOUND if bound is None else bound
    deadline = clock() + limit
    while not condition():
        if clock() > deadline:
            raise AssertionError(_message(describe, limit))
        await (pause() if pause is not None else asyncio.sleep(0.01))
    return clock()


def until_sync(condition: Callable[[], object], describe: Describe, *,
               step: float = 0.05, bound: float | None = None) -> None:
    """Blocking form of :func:`until`, for threads and subprocesses."""
    limit = WAIT_BOUND if bound is None else bound
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(_message(describe, limit))
        time.sleep(step)
