"""Keys typed in one burst behind a key that opens a modal.

Over SSH a fast typist's ``n`` plus a note ("retry tomorrow") arrives as one read.
Textual queues the whole burst at the focused table before the ``n`` binding has
opened its prompt, so without help the note's letters would fire the monitor's
bindings instead (``r`` refresh, ``x`` unwatch, ``e`` export...), and those that
reach the prompt before its box has focus are dropped.

The app owns one :class:`TypeAhead`. When a binding that opens a text prompt
passes, the screen calls :meth:`begin`, which opens a short window. Inside it:

* keys that reach the screen (queued at its table before the prompt was up) are
  held and never fire bindings (:meth:`hold_at_screen`);
* keys the app receives before the prompt's box has focus are held too, and once
  it has focus everything held is handed to it, in order, before any newer key
  (:meth:`hold_at_app`). From then on keys go their normal way.

Only text editing is replayed (printable characters and backspace): an Enter
typed blind does not submit a prompt the user has not seen. Behind a destructive
key (delete) nothing is replayed: text is dropped for the whole window (the
confirmation's count box must be typed by someone who read it), and other keys
reach the confirmation, whose focus starts on Cancel. Keys with a priority
binding (ctrl+c) are never held. The window closes after :data:`WINDOW` seconds or when
the prompt is closed again, whichever comes first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual import events
from textual.app import App, ScreenStackError
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, TextArea

__all__ = ["WINDOW", "TypeAhead"]

#: How long after the opening key its burst may still arrive (a pty read, a paste,
#: a modal that takes a while to mount on a slow machine).
WINDOW = 0.6
_EDIT_KEYS = frozenset({"backspace"})


class TypeAhead:
    """The app's type-ahead window (see the module docstring)."""

    def __init__(self, app: App[Any], *, clock: Callable[[], float] = time.monotonic) -> None:
        self._app = app
        self._clock = clock
        self._home: Screen[Any] | None = None
        self._until = 0.0
        self._replay = False
        self._modal_seen = False
        self._held: list[events.Key] = []
        self._timer: Timer | None = None

    @property
    def active(self) -> bool:
        """Whether the window is open: in time, and the prompt (if one came) not closed."""
        home = self._home
        if home is None or self._clock() >= self._until:
            return False
        try:
            top = self._app.screen
        except ScreenStackError:  # the app is closing (ctrl+c inside the window)
            self._close()
            return False
        if top is not home:
            self._modal_seen = True
        elif self._modal_seen:
            self._close()  # back from the prompt: keys are the screen's again
            return False
        return True

    def begin(self, home: Screen[Any], *, replay: bool) -> None:
        """A key that opens a modal over ``home`` just passed: hold what follows it."""
        self._home = home
        self._until = self._clock() + WINDOW
        self._replay = replay
        self._modal_seen = False
        self._held.clear()
        if self._timer is None:
            self._timer = self._app.set_interval(0.02, self._tick, name="type-ahead")

    def hold_at_screen(self, event: events.Key) -> bool:
        """For the home screen's key handler: True when ``event`` was taken (held, or
        dropped when it is not text); it then fires no binding."""
        if not self.active:
            return False
        event.stop()
        event.prevent_default()
        self._keep(event)
        return True

    def hold_at_app(self, event: events.Key) -> bool:
        """For the app, before it forwards a key (and before its priority bindings, so
        this never takes ctrl+c or Escape): True when ``event`` was held or dropped."""
        if not self.active:
            return False
        text = self._is_text(event)
        top = self._app.screen
        if top is self._home:
            if self._replay and text:
                self._keep(event)
                return True
            return False  # reaches the home screen's handler, which drops it
        if not self._replay:
            # Behind d: no text typed blind reaches the confirmation (its count box takes
            # digits, and only the right count enables Delete); other keys go their way
            # (Enter lands on Cancel, which has the focus; Escape; ctrl+c).
            return text
        if self._target() is not None:
            self._deliver()
            return False
        if top.focused is None:  # the prompt is still mounting
            if text:
                self._keep(event)
                return True
            return event.key == "enter"  # a blind Enter is dropped, nothing else
        return False  # the prompt put focus elsewhere: keys go there as usual

    def _is_text(self, event: events.Key) -> bool:
        return event.is_printable or event.key in _EDIT_KEYS

    def _keep(self, event: events.Key) -> None:
        if self._replay and self._is_text(event):
            copy = events.Key(event.key, event.character)
            copy.time = event.time  # when it was typed: held keys go out in that order
            self._held.append(copy)
            self._deliver()

    def _target(self) -> Input | TextArea | None:
        """The text box with focus on the modal that opened, if it is up yet."""
        top = self._app.screen
        if top is self._home:
            return None
        focused = top.focused
        return focused if isinstance(focused, Input | TextArea) else None

    def _deliver(self) -> None:
        if not self._held:
            return
        target = self._target()
        if target is None:
            return
        # Keys reach us by two ways (through the table, and at the app); one typed
        # earlier can come second. Keys already handed over cannot be taken back.
        # Applied here, in order, not posted as keys: a posted backspace is no binding of
        # the box, it bubbles up to the app and deletes later, after the letters behind it.
        for key in sorted(self._held, key=lambda held: held.time):
            _type_into(target, key)
        self._held.clear()

    def _tick(self) -> None:
        if self.active:
            self._deliver()
        else:
            self._close()

    def _close(self) -> None:
        self._until = 0.0
        self._home = None
        self._held.clear()  # no prompt came (nothing to note, read-only...): dropped
        if self._timer is not None:
            self._timer.stop()
            self._timer = None


def _type_into(box: Input | TextArea, key: events.Key) -> None:
    """Do what typing ``key`` into ``box`` does: a character, or a backspace."""
    if key.key in _EDIT_KEYS:
        box.action_delete_left()
    elif key.character is not None:
        if isinstance(box, Input):
            selection = box.selection
            if selection.is_empty:
                box.insert_text_at_cursor(key.character)
            else:
                box.replace(key.character, *selection)
        else:
            box.insert(key.character)
