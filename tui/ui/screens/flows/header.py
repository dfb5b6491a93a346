"""What the monitor's header says: whose key, from where, paused, alerts off, following,
counts."""

from __future__ import annotations

from tui.ui.screens.flows.credentials import Credentials
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.widgets.monitor_header import HeaderInfo


def header_info(host: MonitorHost, credentials: Credentials, old: HeaderInfo, *,
                watched: int | None = None, active: int | None = None,
                attention: int | None = None) -> HeaderInfo:
    """The header now; the counts are kept from ``old`` unless given."""
    session, watching = host.session, host.watching
    profile = session.last_profile  # who the key belongs to, once the server said
    user = None
    if profile is not None:
        user = " ".join(p for p in (profile.first_name, profile.last_name) if p) or None
    following = ""
    if watching.following:
        holder = watching.poller_holder
        following = holder.describe() if holder is not None else "?"
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
        following=following,
        alerts_off=not session.profile.alerts.enabled,
        watched=old.watched if watched is None else watched,
        active=old.active if active is None else active,
        attention=old.attention if attention is None else attention,
    )
