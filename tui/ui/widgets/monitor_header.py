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
    watched: int = 0
    active: int = 0


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
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" conversions-tui ", title)
        text.append(" ")
        text.append(printable(info.profile_name, limit=40), badge)
        if info.demo:
            text.append(" DEMO ", warning)
        if info.read_only:
            text.append(" READ-ONLY ", warning)
        if info.paused:
            text.append(" ⏸ PAUSED ", warning)
        text.append("  ")
        if info.user or info.email:
            who = printable(info.user or "", limit=60)
            if info.email:
                who = f"{who} <{printable(info.email, limit=80)}>" if who else printable(
                    info.email, limit=80)
            text.append(who)
            if info.company:
                text.append(" · " + printable(info.company, limit=60), dim)
        else:
            text.append("(user not known yet)", dim)
        if info.key_masked:
            text.append(f"  key {info.key_masked} ({info.key_source})", dim)
        text.append(f"  {info.active} active / {info.watched} watched", dim)
        return text
