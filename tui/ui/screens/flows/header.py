"""What the monitor's header says: whose key, from where, paused, alerts off, who polls
(this one for the team, or whom it follows), counts."""

from __future__ import annotations

from tui.core.untrusted import printable
from tui.ui.screens.flows.credentials import Credentials
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.widgets.monitor_header import HeaderInfo


def poll_role(host: MonitorHost) -> tuple[str, bool]:
    """Who polls, as the header says it, and whether that is a warning: "polling for the
    team" (this one leads a team store), "following another monitor (dana@desk)", with
    why this one does not poll first ("no API key · ", "key refused · "; paused is its
    own badge); "not polling: team database away" when who polls cannot be known, never
    a name that may not be true. Empty: a personal monitor that polls, or no key yet."""
    watching = host.watching
    if watching.scheduler is not None:
        return ("polling for the team", False) if host.session.team_store else ("", False)
    if not watching.following:
        return "", False
    why = ("no API key · " if not watching.has_key else
           "key refused · " if watching.key_refused else "")
    if watching.store_away:
        return f"{why}not polling: team database away", True
    holder = watching.poller_holder
    if holder is None:
        return f"{why}nobody polls now", True
    return f"{why}following another monitor ({printable(holder.describe(), limit=60)})", True


def took_over_sentence(previous: str, *, team: bool) -> str:
    """The one toast when this monitor takes the lead: who polled before, if known
    (``previous``: text from a file or a database, made printable here)."""
    what = "polls for the team" if team else "polls this watchlist"
    who = printable(previous, limit=60).strip()
    return f"This monitor {what} now ({who} stopped polling)." if who else (
        f"This monitor {what} now.")


def header_info(host: MonitorHost, credentials: Credentials, old: HeaderInfo, *,
                watched: int | None = None, active: int | None = None,
                attention: int | None = None) -> HeaderInfo:
    """The header now; the counts are kept from ``old`` unless given."""
    session, watching = host.session, host.watching
    profile = session.last_profile  # who the key belongs to, once the server said
    user = None
    if profile is not None:
        user = " ".join(p for p in (profile.first_name, profile.last_name) if p) or None
    role, role_warns = poll_role(host)
    key = credentials.key
    return HeaderInfo(
        profile_name=session.profile.name,
        base_url=session.profile.base_url,
        user=user,
        email=profile.email if profile else None,
        company=profile.company if profile else None,
        key_source=credentials.source_words(),
        key_masked=key.masked if key else "",
        read_only=session.read_only,
        paused=watching.paused,
        demo=session.demo,
        poll_role=role,
        poll_role_warns=role_warns,
        alerts_off=not session.profile.alerts.enabled,
        watched=old.watched if watched is None else watched,
        active=old.active if active is None else active,
        attention=old.attention if attention is None else attention,
    )
