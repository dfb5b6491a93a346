"""Picking files for an upload: path completion and a folder browser that marks picks.

Both show names from the local disk, which can hold anything (brackets that look like
markup, escape sequences, right-to-left overrides): every name goes through
:func:`tui.core.untrusted.printable` and into a rich ``Text``, never through markup.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

from rich.style import Style
from rich.text import Text, TextType
from textual.binding import Binding, BindingType
from textual.suggester import Suggester
from textual.widgets import DirectoryTree
from textual.widgets.directory_tree import DirEntry
from textual.widgets.tree import TreeNode

from tui.core.untrusted import printable

__all__ = ["PathSuggester", "UploadFileTree", "shown_file", "shown_folder"]

PICKED = "● "
UNPICKED = "  "


def shown_folder(path: Path) -> str:
    """A folder as people read it: ``~/tickets/4412`` under the home folder."""
    text = str(path)
    home = os.path.expanduser("~")
    if home not in ("", "~", os.sep) and (text == home or text.startswith(home + os.sep)):
        text = "~" + text[len(home):]
    return printable(text, limit=200)


def shown_file(path: Path, base: Path, *, limit: int = 40) -> str:
    """A picked file named from ``base`` (``older/expenses.csv``), else by its name alone.

    Two files of the same name in different folders can then be told apart; a long
    name keeps its end, where the extension and the differences usually are.
    """
    absolute = Path(os.path.abspath(path))
    try:
        text = str(absolute.relative_to(Path(os.path.abspath(base))))
    except ValueError:
        text = path.name
    text = printable(text, limit=None)
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


def _completion(value: str) -> str | None:
    """The first name on disk that continues ``value`` (a folder gets its slash)."""
    if not value or any(char in value for char in "*?["):
        return None
    folder_text, _, prefix = value.rpartition(os.sep)
    folder = os.path.expanduser(folder_text + os.sep) if folder_text or value.startswith(
        os.sep) else "."
    try:
        names = sorted(entry.name for entry in os.scandir(folder)
                       if entry.name.startswith(prefix) and entry.name != prefix
                       and (prefix.startswith(".") or not entry.name.startswith(".")))
    except OSError:
        return None
    if not names:
        return None
    name = names[0]
    slash = os.sep if os.path.isdir(os.path.join(folder, name)) else ""
    return value[: len(value) - len(prefix)] + name + slash


class PathSuggester(Suggester):
    """Completes a typed path from the file system (``~`` kept as typed)."""

    def __init__(self) -> None:
        # No cache: files come and go while the modal is open; case matters on disk.
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        """The completion of ``value``, read off the event loop (a slow mount must not
        freeze typing)."""
        return await asyncio.to_thread(_completion, value)


class UploadFileTree(DirectoryTree):
    """A folder browser where space or enter picks a file (and picks again to drop it).

    ``is_picked`` tells which files are in the selection; they get a mark. Picking posts
    :class:`DirectoryTree.FileSelected`, which the upload modal turns into a toggle.
    """

    # Plain marks instead of emoji: many SSH terminals and fonts draw those as boxes.
    ICON_NODE = "▸ "
    ICON_NODE_EXPANDED = "▾ "
    ICON_FILE = ""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_node", "Pick file", id="upload.tree.pick", show=False),
        Binding("backspace", "parent_folder", "Up a folder", id="upload.tree.up",
                show=False),
    ]

    def __init__(self, path: Path, *, is_picked: Callable[[Path], bool],
                 id: str | None = None) -> None:
        super().__init__(path, id=id)
        self._is_picked = is_picked

    def process_label(self, label: TextType) -> Text:
        """Names are shown literally: a file called ``[b]x[/]`` is not markup."""
        plain = label.plain if isinstance(label, Text) else label
        return Text(printable(plain, limit=200))

    def render_label(self, node: TreeNode[DirEntry], base_style: Style, style: Style) -> Text:
        """The usual label, behind a mark that says whether the file is picked."""
        if node is self.root:
            # The folder shown, with ~ for the home folder rather than the long path.
            label = Text(shown_folder(Path(self.path).absolute()))
            label.stylize(style)
            return label
        label = super().render_label(node, base_style, style)
        if node.data is None or node.allow_expand:
            return Text(UNPICKED) + label
        return Text(PICKED if self._is_picked(node.data.path) else UNPICKED) + label

    def action_toggle_node(self) -> None:
        """Space: pick a file; on a folder, open or close it."""
        node = self.cursor_node
        if node is not None and node.data is not None and not node.allow_expand:
            self.post_message(self.FileSelected(node, node.data.path))
            return
        super().action_toggle_node()

    def action_parent_folder(self) -> None:
        """Browse the folder above the one shown."""
        current = Path(self.path).absolute()
        if current.parent != current:
            self.path = current.parent

    def _all_tree_nodes(self) -> Iterator[TreeNode[DirEntry]]:
        pending = [self.root]
        while pending:
            node = pending.pop()
            yield node
            pending.extend(node.children)

    def refresh_marks(self) -> None:
        """Redraw the marks after the selection changed elsewhere (a typed glob)."""
        for node in self._all_tree_nodes():
            node.refresh()
