"""Check rows now (``r`` the marked or the cursor's, ``R`` all), pause (``p``), or say why
nothing is checked here.

A follower of a team store asks the leader to check them (or, with no leader answering,
checks a few itself: :meth:`~tui.core.watching.WatchService.ask_check`) and says which;
a follower of a personal file says who checks."""

from __future__ import annotations

from collections.abc import Sequence

from tui.core.polling.asking import CheckNews
from tui.core.untrusted import printable
from tui.core.watchstore import StoreRefused
from tui.ui.key_names import key_for_action
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.screens.flows.refusals import tell_refused
from tui.ui.workers import reported

NOTHING_SELECTED = "Nothing to check: no conversion is selected."


def _conversions(count: int) -> str:
    return f"{count} conversion{'' if count == 1 else 's'}"


def check_news_sentence(news: CheckNews) -> str:
    """What a follower's r / R did, in one sentence (see :class:`CheckNews`)."""
    what = "every watched conversion" if news.everything else _conversions(news.count)
    left_out = (f" ({_conversions(news.not_watched)} not watched, left out)"
                if news.not_watched else "")
    who = printable(news.asked, limit=80) if news.asked is not None else None
    if not news.everything and news.count == 0:
        if not news.not_watched:
            return NOTHING_SELECTED
        return (f"Nothing checked: the {_conversions(news.not_watched)} asked for "
                f"{'is' if news.not_watched == 1 else 'are'} not watched (any more).")
    if who is not None and not news.unanswered:
        return f"Asked the monitor of {who} to check {what}{left_out}; the results show here."
    why = f"the monitor of {who} did not answer" if who is not None else (
        "no monitor polls now")
    if news.problem is not None:
        return f"Nothing checked here ({why}): {printable(news.problem, limit=200)}"
    if not news.checked_here and not news.waiting:
        return f"Nothing to check ({why}): no conversion is watched."
    if not news.checked_here:
        return (f"Nothing checked here ({why}): this monitor checks at most "
                f"{news.budget} a minute itself, and that is spent; the rest wait for the "
                "monitor that polls.")
    rest = (f"; the other {news.waiting} wait for the monitor that polls"
            if news.waiting else "")
    return f"Checked {_conversions(news.checked_here)} here ({why}){rest}."


def _ask(host: MonitorHost, ids: Sequence[int] | None) -> None:
    """Ask the leader (a worker of the screen: the database and maybe the API answer)."""

    def tell(news: CheckNews) -> None:
        trouble = news.problem is not None or (news.unanswered and not news.checked_here)
        host.notify(check_news_sentence(news), severity="warning" if trouble else
                    "information", timeout=6, markup=False)

    async def asking() -> None:
        try:
            await host.watching.ask_check(ids, tell)
        except StoreRefused as error:
            tell_refused(host, error, title="Not checked")

    host.screen.run_worker(reported(asking()), group="ask-check", exit_on_error=False)


def following_sentence(host: MonitorHost) -> str | None:
    """Why r / R act elsewhere while another monitor polls, or None."""
    watching = host.watching
    if not watching.following:
        return None
    if watching.store_away:
        return ("Nothing is checked now: the team database is away, so who polls is "
                "unknown. The rows on screen keep their last known data.")
    holder = watching.poller_holder
    if holder is None:
        return None  # nobody polls: why_nothing_is_checked says why this one does not
    who = f" ({printable(holder.describe(), limit=80)})"
    tail = ("This one takes over when it stops." if watching.has_key
            and not watching.key_refused and not watching.paused else
            "This one does not take over while it is paused or has no usable key.")
    return f"Another monitor polls this watchlist{who}; its checks show here within 2 s. {tail}"


def why_nothing_is_checked(host: MonitorHost) -> str | None:
    """Why r / R would do nothing now (no key yet, the key was refused, paused with
    nobody polling), or None."""
    key = key_for_action(host.screen, "toggle_pause", "p")
    watching = host.watching
    if not watching.has_key:
        return f"No API key yet: nothing can be checked. Press {key} to enter one."
    if watching.key_refused:
        return (f"Nothing is checked while the server refuses the API key: press {key} "
                "to enter a new one.")
    if watching.scheduler is None and watching.paused:
        return f"Polling is paused and no other monitor polls: press {key} to resume."
    return None


def _refused(host: MonitorHost) -> bool:
    """Say why a refresh cannot happen here now; True if it cannot."""
    if (elsewhere := following_sentence(host)) is not None:
        host.notify(elsewhere, markup=False, timeout=5)
    elif (why := why_nothing_is_checked(host)) is not None:
        host.notify(why, severity="warning", markup=False)
    elif host.watching.scheduler is None:
        host.notify("No monitor polls this watchlist right now; this one takes over in "
                    "a moment.", markup=False, timeout=5)
    else:
        return False
    return True


def refresh_selected(host: MonitorHost) -> None:
    """Check the marked rows (else the cursor's) ahead of every other."""
    ids = host.table.targets()
    if host.watching.can_ask and host.watching.has_key:
        if ids:
            _ask(host, ids)
        else:
            host.notify(NOTHING_SELECTED, severity="warning", markup=False)
    elif not _refused(host):
        if not ids:
            host.notify(NOTHING_SELECTED, severity="warning", markup=False)
            return
        host.watching.refresh(ids)
        host.notify(f"Checking {len(ids)} now", timeout=2)


def refresh_all(host: MonitorHost) -> None:
    """Check every watched conversion, within the request budget."""
    if host.watching.can_ask and host.watching.has_key:
        _ask(host, None)
    elif not _refused(host):
        host.watching.refresh(None)
        host.notify("Checking every watched conversion (within the request budget)",
                    timeout=3)


def toggle_pause(host: MonitorHost) -> None:
    """Pause or resume polling; with no key yet (or a refused one), ask for a key. A
    paused leader lets another monitor poll; a paused follower does not take over."""
    watching = host.watching
    if not watching.has_key:
        host.connect()
        return
    if watching.key_refused:
        # The key was refused and the prompt was cancelled: p asks again.
        host.ask_for_new_key("The server refused the key. Enter a new one to go on.")
        return
    if watching.paused:
        watching.resume()
        holder = watching.poller_holder if watching.following else None
        host.notify("Polling resumed" if holder is None else
                    f"Polling resumed: {printable(holder.describe(), limit=60)} polls now; "
                    "this monitor takes over when it stops.", timeout=3, markup=False)
    else:
        watching.pause()
        host.notify("Polling paused (p resumes)" if watching.scheduler is not None else
                    "Polling paused (p resumes): another monitor may poll meanwhile.",
                    timeout=3, markup=False)
    host.update_header()
