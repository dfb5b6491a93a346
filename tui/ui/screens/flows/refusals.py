"""A write the store refused (the team database away): one clear toast, nothing lost.

Every flow that changes rows through the watch service (note, acknowledge, snooze,
unwatch and its undo, delete, mark read) calls it through :func:`saved` or
:func:`saved_async`. A :class:`~tui.core.watchstore.StoreRefused` (the team store's
``TeamStoreError``) then becomes one toast with its sentence, instead of the generic
"Background task … failed" or, in a timer, a crash; the rows on screen stay as they were.

A dialog that takes typed text and saves it (the note, the snooze, add IDs) saves through
a :class:`DialogSave`: refused, the dialog stays open with the sentence in it and the text
as typed; closed unsaved after a refusal, one toast gives the whole text back. An action
that must not even ask first while the store is known to be away (the delete's
confirmation) asks :func:`known_away`. What the app does by itself (a row marked read as
the cursor rests) is refused :func:`quietly`: the banner already says the store is away.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar, runtime_checkable

from tui.core.untrusted import printable
from tui.core.watchstore import StoreRefused
from tui.ui.screens.flows.host import MonitorHost

T = TypeVar("T")
V = TypeVar("V")

log = logging.getLogger(__name__)

#: Seconds a refusal stays: long enough to read, and it asks for something to be done again.
REFUSAL_TOAST_SECONDS = 12.0
#: What to do about it, after the store's own sentence.
TRY_AGAIN = "Try again when the banner is gone."


def refusal_sentence(error: StoreRefused, typed: str | None = None,
                     also: str | None = None) -> str:
    """The store's sentence (printable, one line), ``also`` (what did not happen), then
    what to do; ``typed`` (a note the person wrote) is given back whole, so it can be
    written again rather than remembered."""
    sentence = printable(str(error), limit=300).strip()
    if sentence and not sentence.endswith("."):
        sentence += "."
    said = " ".join(part for part in (sentence, also, TRY_AGAIN) if part)
    if typed:
        said += f" Your text: {printable(typed, limit=None)}"
    return said


def tell_refused(host: MonitorHost, error: StoreRefused, title: str = "Not saved",
                 typed: str | None = None, also: str | None = None) -> None:
    """One toast for a refused write."""
    host.notify(refusal_sentence(error, typed, also), title=title, severity="error",
                timeout=REFUSAL_TOAST_SECONDS, markup=False)


@runtime_checkable
class KnowsWhenAway(Protocol):
    """A store that knows it cannot be reached now (the team store)."""

    def away_refusal(self, action: str) -> StoreRefused | None:
        """The refusal ``action`` meets now, or None while the store is not known away."""
        ...


def known_away(host: MonitorHost, action: str) -> StoreRefused | None:
    """The store's refusal of ``action`` when it is known to be away now (a call failed
    and none succeeded since), without asking it anything; else None."""
    store = host.session.watchlist
    return store.away_refusal(action) if isinstance(store, KnowsWhenAway) else None


def quietly(write: Callable[[], T]) -> T | None:
    """``write()``'s answer, or None when the store refuses it, with no toast: for what
    the app does by itself (the banner says the store is away)."""
    try:
        return write()
    except StoreRefused as error:
        log.info("not saved while the store is away: %s", error)
        return None


class DialogSave(Generic[V, T]):
    """A dialog's save through the store (see the module docstring).

    Called with what the dialog holds: None when saved (the dialog then closes; the
    answer is :attr:`answer`), else the refusal's sentence, shown in the dialog, which
    stays open. :meth:`closed` after the dialog: a refusal not followed by a save is one
    toast, with the text typed.
    """

    def __init__(self, host: MonitorHost, write: Callable[[V], T],
                 title: str = "Not saved") -> None:
        self._host = host
        self._write = write
        self._title = title
        self.refused: StoreRefused | None = None
        self.answer: T | None = None

    def __call__(self, value: V) -> str | None:
        try:
            self.answer = self._write(value)
        except StoreRefused as error:
            self.refused = error
            return refusal_sentence(error)
        self.refused = None
        return None

    def closed(self, typed: str | None) -> None:
        """The dialog is closed: say a refusal it showed, giving ``typed`` back."""
        if self.refused is not None:
            tell_refused(self._host, self.refused, self._title, typed=typed)


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
                      title: str = "Not saved", also: str | None = None) -> T | None:
    """:func:`saved` for a write that is awaited (the delete); ``also`` says what did not
    happen besides."""
    try:
        return await write()
    except StoreRefused as error:
        tell_refused(host, error, title, also=also)
        return None
