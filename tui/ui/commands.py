"""The command palette (Ctrl+P): the screen's actions, the views, themes and profiles.

Commands are built fresh each time the palette opens, from what is live on the
screen it was opened over: remapped keys, read-only mode and the current theme
are therefore always right. The app supplies themes and profiles through
:class:`CommandHost`, so this module does not import the app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from tui.ui.views import VIEWS

__all__ = [
    "CommandHost",
    "ConversionsCommands",
    "PaletteCommand",
    "ThemeChoice",
    "ThemeCommands",
    "palette_commands",
    "profile_commands",
    "screen_commands",
    "theme_commands",
    "view_commands",
]


@dataclass(frozen=True)
class ThemeChoice:
    """A theme the palette offers."""

    name: str
    description: str
    ours: bool
    """Built-in or user theme (shown without typing); False for Textual's own."""


class CommandHost(Protocol):
    """What the app provides to the palette."""

    def theme_choices(self) -> list[ThemeChoice]:
        """Themes to offer, ours first."""
        ...

    def choose_theme(self, name: str) -> None:
        """Switch to ``name`` and remember the choice."""
        ...

    def profile_choices(self) -> list[tuple[str, bool]]:
        """Configured profile names, each with whether it is the one running."""
        ...

    def choose_profile(self, name: str) -> None:
        """React to the user picking profile ``name``."""
        ...


@dataclass(frozen=True)
class PaletteCommand:
    """One line of the palette."""

    title: str
    help: str
    run: Callable[[], object]
    discover: bool = True
    """Listed before anything is typed (otherwise found by search only)."""


def screen_commands(screen: Screen[object]) -> list[PaletteCommand]:
    """Every enabled action bound on ``screen`` (its widgets and the app's too), by
    the binding's description; views are left to :func:`view_commands`.
    """
    app = screen.app
    found: dict[tuple[int, str], tuple[list[str], PaletteCommand]] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if (binding.system or not binding.description or not active.enabled
                or binding.action.startswith("view(")):
            continue
        key = app.get_key_display(binding)
        slot = (id(active.node), binding.action)
        if slot in found:
            found[slot][0].append(key)
            continue
        run = partial(app.run_action, binding.action, active.node)
        found[slot] = ([key], PaletteCommand(binding.description, "", run))
    commands = []
    for keys, command in found.values():
        commands.append(PaletteCommand(command.title, "Key: " + " ".join(keys), command.run))
    return commands


def view_commands(screen: Screen[object]) -> list[PaletteCommand]:
    """The table's views, on a screen that has them."""
    if not hasattr(screen, "action_view"):
        return []
    saved = getattr(screen, "saved_view_commands", None)  # saved views, sort columns
    return [*(PaletteCommand(f"View: {view.label}", f"Show the {view.label} tab",
                             partial(screen.app.run_action, f"view({view.key!r})", screen))
              for view in VIEWS), *(saved() if callable(saved) else [])]


def theme_commands(host: CommandHost, current: str) -> list[PaletteCommand]:
    """One command per theme; choosing one switches and remembers it."""
    commands = []
    for choice in host.theme_choices():
        help_text = choice.description or ("Textual theme" if not choice.ours else "")
        if choice.name == current:
            help_text = (help_text + " (current)").strip()
        commands.append(PaletteCommand(f"Theme: {choice.name}", help_text,
                                       partial(host.choose_theme, choice.name),
                                       discover=choice.ours))
    return commands


def profile_commands(host: CommandHost) -> list[PaletteCommand]:
    """One command per configured profile."""
    return [PaletteCommand(f"Profile: {name}",
                           "The profile running now" if running
                           else f"Restart with: conversions-tui --profile {name}",
                           partial(host.choose_profile, name))
            for name, running in host.profile_choices()]


def palette_commands(screen: Screen[object]) -> list[PaletteCommand]:
    """Everything the palette offers over ``screen``."""
    app = screen.app
    host = cast(CommandHost, app)
    return [*screen_commands(screen), *view_commands(screen),
            *theme_commands(host, app.theme), *profile_commands(host)]


class ConversionsCommands(Provider):
    """Actions, views, themes and profiles."""

    def commands(self) -> list[PaletteCommand]:
        """The commands on offer over the palette's screen."""
        return palette_commands(self.screen)

    async def discover(self) -> Hits:
        """Shown before anything is typed."""
        for command in self.commands():
            if command.discover:
                yield DiscoveryHit(command.title, command.run, help=command.help or None)

    async def search(self, query: str) -> Hits:
        """Fuzzy match on the titles."""
        matcher = self.matcher(query)
        for command, score in _scored(self.commands(), matcher.match):
            yield Hit(score, matcher.highlight(command.title), command.run,
                      text=command.title, help=command.help or None)


class ThemeCommands(ConversionsCommands):
    """Themes only (the palette's "Theme" command opens this)."""

    def commands(self) -> list[PaletteCommand]:
        """Every theme, discoverable."""
        host = cast(CommandHost, self.app)
        return [PaletteCommand(c.title.removeprefix("Theme: "), c.help, c.run)
                for c in theme_commands(host, self.app.theme)]


def _scored(commands: list[PaletteCommand], match: Callable[[str], float]
            ) -> Iterator[tuple[PaletteCommand, float]]:
    for command in commands:
        score = match(command.title)
        if score > 0:
            yield command, score
