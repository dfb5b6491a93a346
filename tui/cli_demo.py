"""The demo's colleague: the sandbox's steady flow, passed on to the demo's watchlist file.

Part of the composition root (with ``tui/cli.py``): it joins the sandbox (which makes the
conversions) to the core's watchlist (which the app shows), as no lower layer may. It
writes through its own connection to the watchlist file, as a colleague running
``conversions-tui watch`` in another terminal would, and the running app picks those
rows up like any other change made to its watchlist from outside.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from tui.core.watchlist import Watchlist
from tui.sandbox.demo_flow import DemoFlow, FlowStep

log = logging.getLogger(__name__)

#: Seconds between two steps of the flow (arrivals are seconds apart: finer is pointless).
STEP_EVERY = 1.0


def apply_step(watchlist: Watchlist, step: FlowStep) -> None:
    """Write one step of the flow to ``watchlist``: arrivals added, tidied ones removed."""
    for arrival in step.arrived:
        watchlist.add([arrival.id], note=arrival.note)
    if step.unwatched:
        watchlist.remove(step.unwatched)


class DemoColleague:
    """Steps ``flow`` every ``every`` seconds in a daemon thread, until :meth:`stop`."""

    def __init__(self, flow: DemoFlow, watchlist_path: Path, *, every: float = STEP_EVERY
                 ) -> None:
        self._flow = flow
        self._path = watchlist_path
        self._every = every
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start stepping (the flow must have been started, its IDs watched)."""
        self._thread = threading.Thread(target=self._run, name="demo-colleague", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop stepping and wait for the thread (it never holds on for long)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        watchlist = Watchlist(self._path)
        try:
            while not self._stopping.wait(self._every):
                try:
                    apply_step(watchlist, self._flow.step())
                except Exception:  # the demo goes on without a colleague rather than crash
                    log.exception("the demo's flow failed a step")
        finally:
            watchlist.close()
