"""Check rows now (``r`` the marked or the cursor's, ``R`` all), pause (``p``), or say why
nothing is checked here."""

from __future__ import annotations

from tui.core.polling.types import ConnectivityState
from tui.core.untrusted import printable
from tui.ui.key_names import key_for_action
from tui.ui.screens.flows.host import MonitorHost


def following_sentence(host: MonitorHost) -> str | None:
    """Why r / R / p act elsewhere while another monitor polls, or None."""
    watching = host.watching
    if not watching.following:
        return None
    holder = watching.poller_holder
    who = f" ({printable(holder.describe(), limit=80)})" if holder is not None else ""
    return (f"Another monitor polls this watchlist{who}; its checks show here within "
            "2 s. This one takes over when it stops.")


def why_nothing_is_checked(host: MonitorHost) -> str | None:
    """Why r / R would do nothing now (no key yet, or the key was refused), or None."""
    key = key_for_action(host.screen, "toggle_pause", "p")
    scheduler = host.watching.scheduler
    if scheduler is None:
        return f"No API key yet: nothing can be checked. Press {key} to enter one."
    if scheduler.connectivity.state is ConnectivityState.AUTH_FAILED:
        return (f"Nothing is checked while the server refuses the API key: press {key} "
                "to enter a new one.")
    return None


def _refused(host: MonitorHost) -> bool:
    """Say why a refresh cannot happen here now; True if it cannot."""
    if (elsewhere := following_sentence(host)) is not None:
        host.notify(elsewhere, markup=False, timeout=5)
    elif (why := why_nothing_is_checked(host)) is not None:
        host.notify(why, severity="warning", markup=False)
    else:
        return host.watching.scheduler is None
    return True


def refresh_selected(host: MonitorHost) -> None:
    """Check the marked rows (else the cursor's) ahead of every other."""
    if not _refused(host):
        ids = host.table.targets()
        host.watching.refresh(ids)
        host.notify(f"Checking {len(ids)} now", timeout=2)


def refresh_all(host: MonitorHost) -> None:
    """Check every watched conversion, within the request budget."""
    if not _refused(host):
        host.watching.refresh(None)
        host.notify("Checking every watched conversion (within the request budget)",
                    timeout=3)


def toggle_pause(host: MonitorHost) -> None:
    """Pause or resume polling; with no key yet (or a refused one), ask for a key."""
    if (elsewhere := following_sentence(host)) is not None:
        host.notify(elsewhere, markup=False, timeout=5)
        return
    watching = host.watching
    scheduler = watching.scheduler
    if scheduler is None:
        host.connect()
        return
    if scheduler.connectivity.state is ConnectivityState.AUTH_FAILED:
        # The key was refused and the prompt was cancelled: p asks again.
        host.ask_for_new_key("The server refused the key. Enter a new one to go on.")
        return
    if watching.paused:
        watching.resume()
        host.notify("Polling resumed", timeout=2)
    else:
        watching.pause()
        host.notify("Polling paused (p resumes)", timeout=2)
    host.update_header()
