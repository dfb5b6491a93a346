"""The Problems view's list: one line a group of failures, "90 × error  File is not …".

The groups come from :class:`tui.core.problems.ProblemIndex`; this widget only draws them
and keeps the highlight on the same group when they are drawn again. Server text is made
printable (:func:`tui.core.untrusted.printable`) and drawn as ``rich.text.Text``, never as
markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import events
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.core.problems import ProblemGroup, ProblemKey, ProblemKind
from tui.core.untrusted import printable

__all__ = ["SHOWN_GROUPS", "ProblemsBreadcrumb", "ProblemsList"]

#: Groups drawn at most; the rest (the smallest) are counted on one last line. When every
#: message is its own kind there may be thousands, and nobody reads past a few hundred.
SHOWN_GROUPS = 500

_KIND_STYLE = {ProblemKind.ERROR: "bold red", ProblemKind.WARNING: "yellow"}


def group_line(group: ProblemGroup, count_width: int) -> Text:
    """One group as a line: the count, the kind and the masked message, literally."""
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"{group.count:>{count_width},} × ", style="bold")
    line.append(f"{group.key.kind.value:<8}", style=_KIND_STYLE[group.key.kind])
    line.append(printable(group.key.text, limit=400))
    return line


class ProblemsList(OptionList):
    """The groups of the Problems view, largest first; enter opens one.

    ``on_choose`` is called with the chosen group's key; ``before_key`` sees every key
    pressed on the list before the screen's bindings do (so a row action can first open
    the group it is about).
    """

    DEFAULT_CSS = """
    ProblemsList { height: 1fr; display: none; border: none; padding: 0 1; }
    ProblemsList.-shown { display: block; }
    """

    empty_message = "No failures or warnings among the watched conversions"

    def __init__(self, *, on_choose: Callable[[ProblemKey], None],
                 before_key: Callable[[events.Key], None], id: str | None = None) -> None:
        super().__init__(id=id)
        self._on_choose = on_choose
        self._before_key = before_key
        self._keys: list[ProblemKey] = []
        self._shown: tuple[tuple[tuple[ProblemKey, int], ...], int, str | None] | None = None

    @property
    def highlighted_key(self) -> ProblemKey | None:
        """The group under the highlight (None: no group, or the "more" line)."""
        index = self.highlighted
        if index is None or index >= len(self._keys):
            return None
        return self._keys[index]

    @property
    def shown_keys(self) -> tuple[ProblemKey, ...]:
        """The groups drawn, top to bottom."""
        return tuple(self._keys)

    def show_groups(self, groups: Sequence[ProblemGroup], *, empty: str | None = None) -> None:
        """Draw ``groups`` (largest first); the highlight stays on its group if it is
        still there, else on the line where it was. ``empty``: what to say when there is
        no group (default :attr:`empty_message`)."""
        shown = groups[:SHOWN_GROUPS]
        token = (tuple((group.key, group.count) for group in shown), len(groups), empty)
        if token == self._shown:
            return
        self._shown = token
        before_key, before_index = self.highlighted_key, self.highlighted
        width = len(f"{shown[0].count:,}") if shown else 1
        options: list[Option] = [Option(group_line(group, width)) for group in shown]
        if len(groups) > len(shown):
            rest = len(groups) - len(shown)
            options.append(Option(Text(f"… and {rest:,} smaller groups", style="italic"),
                                  disabled=True))
        if not shown:
            options.append(Option(Text(empty or self.empty_message, style="italic"),
                                  disabled=True))
        self._keys = [group.key for group in shown]
        self.set_options(options)
        if not self._keys:
            self.highlighted = None
        elif before_key in self._keys:
            self.highlighted = self._keys.index(before_key)
        else:
            self.highlighted = min(before_index or 0, len(self._keys) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        key = self.highlighted_key
        if key is not None:
            self._on_choose(key)

    def on_key(self, event: events.Key) -> None:
        """Let the Problems flow see the key before the screen's bindings run."""
        self._before_key(event)


class ProblemsBreadcrumb(Static):
    """"Problems › 90 × error: File is not valid UTF-8 (byte N)" above a group's rows."""

    DEFAULT_CSS = """
    ProblemsBreadcrumb { display: none; height: 1; padding: 0 1; background: $boost;
                         color: $text; text-style: bold; }
    ProblemsBreadcrumb.-shown { display: block; }
    """
