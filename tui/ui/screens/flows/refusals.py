"""A write the store refused (the team database away): one clear toast, nothing lost.

Every flow that changes rows through the watch service (note, acknowledge, snooze,
unwatch and its undo, delete, mark read) calls it through :func:`saved` or
:func:`saved_async`. A :class:`~tui.core.watchstore.StoreRefused` (the team store's
``TeamStoreError``) then becomes one toast with its sentence, instead of the generic
"Background task … failed" or, in a timer, a crash; the rows on screen stay as they were.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tui.core.untrusted import printable
from tui.core.watchstore import StoreRefused
from tui.ui.screens.flows.host import MonitorHost

T = TypeVar("T")

#: Seconds a refusal stays: long enough to read, and it asks for something to be done again.
REFUSAL_TOAST_SECONDS = 12.0
#: What to do about it, after the store's own sentence.
TRY_AGAIN = "Try again when the banner is gone."


def refusal_sentence(error: StoreRefused, typed: str | None = None) -> str:
    """The store's sentence (printable, one line), then what to do; ``typed`` (a note the
    person wrote) is given back, so it can be written again rather than remembered."""
    sentence = printable(str(error), limit=300).strip()
    if sentence and not sentence.endswith("."):
        sentence += "."
    said = f"{sentence} {TRY_AGAIN}".strip()
    if typed:
        said += f" Your text: {printable(typed, limit=200)}"
    return said


def tell_refused(host: MonitorHost, error: StoreRefused, title: str = "Not saved",
                 typed: str | None = None) -> None:
    """One toast for a refused write."""
    host.notify(refusal_sentence(error, typed), title=title, severity="error",
                timeout=REFUSAL_TOAST_SECONDS, markup=False)


def saved(host: MonitorHost, write: Callable[[], T], title: str = "Not saved",
          typed: str | None = None) -> T | None:
    """``write()``'s answer, or None after telling that the store refused it (and giving
    back ``typed``, the text the person wrote for it)."""
    try:
        return write()
    except StoreRefused as error:
        tell_refused(host, error, title, typed)
        return None


async def saved_async(host: MonitorHost, write: Callable[[], Awaitable[T]],
                      title: str = "Not saved") -> T | None:
    """:func:`saved` for a write that is awaited (the delete)."""
    try:
        return await write()
    except StoreRefused as error:
        tell_refused(host, error, title)
        return None
