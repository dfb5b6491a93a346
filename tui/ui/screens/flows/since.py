"""Since you last looked: one sentence after a gap (see :mod:`tui.core.since`).

The monitor notes when its person last looked (the first screen, then every key) in a
file per profile in the state folder. After :data:`~tui.core.since.GAP` away, the app
closed or no key pressed, a toast says what happened meanwhile. After a restart it waits
for the first checks: nothing was polled while the app was closed.
"""

from __future__ import annotations

import logging
import time

from tui.core.paths import safe_profile_name
from tui.core.since import GAP, LastLooked, summarize_since
from tui.core.statuses import is_settled
from tui.core.unread import is_unread
from tui.core.watchlist import WatchedConversion
from tui.core.watchstore import StoreRefused
from tui.ui.screens.flows.hint import key_of
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.screens.flows.unread import CHANGED_VIEW
from tui.ui.workers import reported

_log = logging.getLogger(__name__)

#: Seconds after the start before the summary is told: the first checks of the rows in
#: flight have come back by then.
SINCE_AFTER = 10.0
FIRST_CHECK_TRIES = 6  # times SINCE_AFTER: how long the summary waits for the first checks
#: The file is written at most this often while keys are pressed.
WRITE_EVERY = 60.0


class SinceFlow:
    """When the person last looked, and the summary after a gap."""

    def __init__(self, host: MonitorHost) -> None:
        self._host = host
        session = host.session
        self._looked = LastLooked(session.paths.state_dir
                                  / safe_profile_name(session.profile.name)
                                  / "last_looked.json")
        self._last_key = 0.0
        self._written = 0.0

    def first_screen(self) -> None:
        """The stored rows are on screen (a look too): after a gap since the app last ran,
        tell what changed once the first checks are back."""
        previous = self._looked.read()
        self._last_key = time.time()
        if previous is not None and self._last_key - previous >= GAP:
            self._after_first_checks(previous, self._last_key, tries=FIRST_CHECK_TRIES)

    def _after_first_checks(self, since: float, started: float, tries: int) -> None:
        """Tell what changed since ``since`` once every row in flight was checked after
        ``started`` (a slow server or a busy machine: wait again, a few times, then tell
        anyway)."""
        wait = max(SINCE_AFTER, 2 * self._host.session.profile.poll_interval)

        def due() -> None:
            rows = self._host.table.rows.values()
            # Every row in flight when the app started is checked again: one unchecked row
            # would be counted stuck for the hours the app was closed (settled rows are
            # checked slowly and their stored status is already right).
            checked = all((row.last_checked or 0.0) >= started for row in rows
                          if not is_settled(row.status))
            if checked or tries <= 1 or not rows:
                self._tell(since)
            else:
                self._after_first_checks(since, started, tries - 1)

        self._host.screen.set_timer(wait, due)

    def key_pressed(self) -> None:
        """A key: after a long quiet, tell what changed; note the time (a file write, at
        most once a minute)."""
        now = time.time()
        if self._last_key > 0 and now - self._last_key >= GAP:
            self._tell(self._last_key)
        self._last_key = now
        if now - self._written >= WRITE_EVERY:
            self._written = now
            self._looked.write(now)

    def closing(self) -> None:
        """The monitor goes: its last look is the last key (or its start)."""
        if self._last_key > 0:
            self._looked.write(self._last_key)

    def _tell(self, since: float) -> None:
        rows = list(self._host.table.rows.values())
        now = time.time()
        key = key_of(self._host.screen, CHANGED_VIEW)  # as bound now (keymap applied)
        self._host.screen.run_worker(reported(lambda: self._summary(since, now, rows, key)),
                                     thread=True, group="since", exit_on_error=False)

    def _summary(self, since: float, now: float, rows: list[WatchedConversion],
                 changed_key: str | None = None) -> None:
        """Read what changed and say it (runs in a thread)."""
        host = self._host
        try:
            changes = host.session.watchlist.transitions_between(since, now)
        except StoreRefused as error:  # the team database away: the banner says so
            _log.info("what changed while away cannot be read now: %s", error)
            return
        summary = summarize_since(since, now, changes, {row.id: row for row in rows},
                                  host.session.profile.stuck_after)
        sentence = summary.sentence(now)
        if sentence is None:
            return
        if changed_key is not None and any(map(is_unread, rows)):
            # What finished meanwhile carries unread marks: the Changed view lists it.
            sentence += f". Press {changed_key} for the Changed view"
        host.app.call_from_thread(host.notify, sentence, title="While you were away",
                                  timeout=30, markup=False)
