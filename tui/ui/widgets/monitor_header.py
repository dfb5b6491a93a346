"""The header: whose key this is, which profile, where the key came from, and the app's state."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.core.untrusted import printable


@dataclass(frozen=True)
class HeaderInfo:
    """Everything the header shows; built by the screen, rendered here."""

    profile_name: str = ""
    base_url: str = ""
    user: str | None = None
    email: str | None = None
    company: str | None = None
    key_source: str = ""
    key_masked: str = ""
    read_only: bool = False
    paused: bool = False
    demo: bool = False
    #: Who polls, in a few words ("polling for the team", "following another monitor
    #: (pid 4120 on host)", "not polling: team database away"; made printable by the
    #: screen); empty: nothing to say (a personal monitor that polls).
    poll_role: str = ""
    #: The words above are a warning (this monitor does not poll).
    poll_role_warns: bool = False
    #: Alerts switched off (``--no-alerts``, or ``enabled = false``): nothing will ring.
    alerts_off: bool = False
    watched: int = 0
    active: int = 0
    #: Rows in trouble nobody acknowledged or snoozed (tui.core.attention).
    attention: int = 0


class MonitorHeader(Widget):
    """One line across the top: profile, user (from the envelope's profile), key, state."""

    DEFAULT_CSS = """
    MonitorHeader {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    COMPONENT_CLASSES = {
        "monitor-header--title",
        "monitor-header--dim",
        "monitor-header--badge",
        "monitor-header--warning",
    }

    info: reactive[HeaderInfo] = reactive(HeaderInfo, layout=False)

    def render(self) -> Text:
        info = self.info
        title = self.get_component_rich_style("monitor-header--title")
        dim = self.get_component_rich_style("monitor-header--dim")
        badge = self.get_component_rich_style("monitor-header--badge")
        warning = self.get_component_rich_style("monitor-header--warning")
        left = Text(no_wrap=True)
        left.append(" conversions-tui ", title)
        left.append(" ")
        left.append(printable(info.profile_name, limit=40), badge)
        for shown, word in ((info.demo, " DEMO "), (info.read_only, " READ-ONLY "),
                            (info.paused, " ⏸ PAUSED "), (info.alerts_off, " NO ALERTS ")):
            if shown:
                left.append(" ")
                left.append(word, warning)
        if info.poll_role:
            left.append(" ")
            left.append(f" {info.poll_role} ", warning if info.poll_role_warns else badge)
        # The right part (key and counts) always stays; the user's name gives way first.
        counts = Text(no_wrap=True)
        if info.attention:  # rows in trouble nobody took on (tui.core.attention)
            counts.append("  ")
            verb = "needs" if info.attention == 1 else "need"
            counts.append(f" {info.attention} {verb} attention ", warning)
        counts.append(f"  {info.active} active / {info.watched} watched ", dim)
        right = Text(no_wrap=True)
        if info.key_masked:
            right.append(f"key {info.key_masked} · {info.key_source}", dim)
        right.append_text(counts)
        who = Text(no_wrap=True, overflow="ellipsis")
        if info.user or info.email:
            name = printable(info.user or "", limit=60)
            if info.email:
                email = printable(info.email, limit=80)
                name = f"{name} <{email}>" if name else email
            who.append(name)
            if info.company:
                who.append(" · " + printable(info.company, limit=60), dim)
        else:
            who.append("(whose key: known after the first answer)", dim)
        width = self.size.width
        room = width - left.cell_len - right.cell_len - 4
        if room < 8:
            # Narrow: the state badges and the key matter more than the name; while rows
            # need attention, that count and the others more than the key.
            line = left + Text("  ") + (counts if info.attention else right)
            line.truncate(width, overflow="ellipsis")
            return line
        who.truncate(room, overflow="ellipsis")
        gap = max(2, width - left.cell_len - who.cell_len - right.cell_len - 2)
        return Text.assemble(left, "  ", who, " " * gap, right, no_wrap=True)
