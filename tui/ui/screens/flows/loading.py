"""The first screen: the stored rows before any poll, the first of a long list at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tui.core.watchlist import WatchedConversion
from tui.core.watchstore import StoreRefused
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.screens.flows.refusals import tell_refused

#: Rows shown before the whole watchlist is read: more than the tallest terminal.
FIRST_SCREEN_ROWS = 300
#: From this many rows, what the first load made is left out of later collections
#: (tui/core/memory.py): at 100,000 rows a full collection walks a million objects. Below
#: it a collection is cheap, and freezing would keep whatever else was alive then (a toast
#: of the start, say) from ever being collected.
FREEZE_FROM_ROWS = 5_000
#: Seconds the read waits for the first rows' frame (a stalled screen must not hold it).
FIRST_FRAME_WAIT = 2.0

RowsShown = Callable[[list[WatchedConversion], float], None]


def load_watchlist(host: MonitorHost, show_rows: RowsShown) -> None:
    """Add the IDs given on the command line, read every watched row, and hand them to
    ``show_rows`` on the app's thread with the seconds it took. Runs in a thread worker."""
    started = time.perf_counter()
    app = host.app
    try:
        rows = host.watching.load(host.session.initial_ids,
                                  first_rows=lambda first: show_first_rows(host, first),
                                  first_count=FIRST_SCREEN_ROWS)
    except StoreRefused as error:
        # The team database away: what is stored is shown; the IDs are given back.
        rows = host.session.watchlist.all()
        app.call_from_thread(show_rows, rows, time.perf_counter() - started)
        typed = " ".join(map(str, host.session.initial_ids))
        app.call_from_thread(tell_refused, host, error, "Not watched", typed)
        return
    except BaseException:
        # The IDs given on the command line could not be added (reported as this
        # worker's error): show what is stored all the same, then poll.
        rows = host.session.watchlist.all()
        app.call_from_thread(show_rows, rows, time.perf_counter() - started)
        raise
    app.call_from_thread(show_rows, rows, time.perf_counter() - started)


def show_first_rows(host: MonitorHost, rows: list[WatchedConversion]) -> None:
    """A long watchlist: its first rows by ID at once (the table opens sorted by ID),
    as reading and preparing 100,000 rows takes a second or more. Their frame is
    drawn before the long read starts, which holds the interpreter."""
    painted = threading.Event()

    def show() -> None:
        host.table.set_rows(rows)
        host.screen.call_after_refresh(painted.set)

    host.app.call_from_thread(show)
    painted.wait(timeout=FIRST_FRAME_WAIT)
