"""Unread marks: a row that changed since you last looked at it has a bold ID until you do.

What counts as unread is :mod:`tui.core.unread`'s. Looking at a row is: the cursor resting
on it for :data:`REST` seconds after a key (a key, then nothing for a second: a person
reading, not a cursor moved by a sort or a load while nobody is there; not in the Changed
view, a list worked through one Enter at a time), Inspect
(:func:`~tui.ui.screens.flows.reading.inspect`), or ``M`` (every row in the view). Marks
are written through the service, which writes only rows that are unread: a cursor resting
on read rows all day costs no write, and keys pressed in a row keep one timer waiting, so
a run down the table writes at most the row it stops on. Typing in the filter box, or a
dialog in front, is not reading the row under the cursor.
"""

from __future__ import annotations

import time

from textual.timer import Timer

from tui.core.unread import unread_ids
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.screens.flows.refusals import quietly, saved

#: Seconds the cursor rests on a row after a key before that row counts as looked at.
REST = 1.0
#: A cursor that came to a row this long after the last key moved by itself.
_KEY_BEFORE = 2.0
#: The Changed view (tui/ui/views.py) and the action of its key.
CHANGED_VIEW_KEY = "changed"
CHANGED_VIEW = f"view('{CHANGED_VIEW_KEY}')"


class UnreadFlow:
    """Marks rows read as the person looks at them (see the module docstring)."""

    def __init__(self, host: MonitorHost) -> None:
        self._host = host
        self._timer: Timer | None = None
        self._key_at = float("-inf")
        self._arrived_at = 0.0

    def key_pressed(self) -> None:
        """A key: the person is here; the row under the cursor once it rests is read."""
        self._key_at = time.monotonic()
        self._wait_for_rest()

    def cursor_moved(self) -> None:
        """The cursor is on another row: it must rest there before that row is read."""
        self._arrived_at = time.monotonic()
        self._wait_for_rest()

    def mark_all_read(self) -> None:
        """``M``: every row in the view (and filter) read; says how many."""
        table = self._host.table
        rows = table.rows
        ids = unread_ids(row for row in (rows.get(i) for i in table.visible_ids)
                         if row is not None)
        marked = saved(self._host, lambda: self._host.watching.mark_read(ids)) if ids else 0
        if marked is None:
            return
        if marked:
            self._host.notify(f"Marked {marked:,} read", timeout=3, markup=False)
        else:
            self._host.notify("Nothing unread in this view", timeout=3, markup=False)

    def _wait_for_rest(self, wait: float = REST) -> None:
        # One timer at most, not one per key (a paste is hundreds of keys): when it fires
        # it looks whether keys or moves came meanwhile, and waits the rest of the time.
        if self._timer is None:
            self._timer = self._host.screen.set_timer(wait, self._rested, name="unread-rest")

    def _rested(self) -> None:
        self._timer = None
        quiet = time.monotonic() - max(self._key_at, self._arrived_at)
        if quiet < REST:
            self._wait_for_rest(REST - quiet)
            return
        if self._key_at < self._arrived_at - _KEY_BEFORE:
            return  # moved by a sort, a load or a removal while nobody pressed a key
        table = self._host.table
        if not (table.has_focus and self._host.screen.is_current):
            return  # typing in the filter, or a dialog in front: not reading the row
        if self._host.view_key == CHANGED_VIEW_KEY:
            # The Changed view is a list to work through: a row leaves it when opened
            # (Enter) or with M, not while the cursor passes over it.
            return
        conversion_id = table.cursor_id
        if conversion_id is not None:
            # In a timer: a refusal must not end the app; the row stays unread, and no
            # toast for what the app did by itself (the banner says the store is away).
            quietly(lambda: self._host.watching.mark_read([conversion_id]))
