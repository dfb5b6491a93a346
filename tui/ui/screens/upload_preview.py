"""The upload preview: one row per picked file, ready or left out with the reason.

Keys on a highlighted row: ``t`` changes the file's data source type to the next one
the API knows, ``x`` (or delete) drops the file from the upload. The table only posts
what was asked; the upload modal changes the selection and shows the new preview.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from tui.core.untrusted import printable
from tui.core.upload.plan import file_size
from tui.ui.screens.upload_selection import PreviewRow
from tui.ui.widgets.upload_files import shown_file

__all__ = ["UploadPreviewTable", "file_size"]

READY = "ready"


class UploadPreviewTable(DataTable[Text]):
    """Picked files with their type, size and whether they will be sent.

    Long names and reasons are cut at the right edge (no sideways scrolling); the modal
    shows the highlighted file's whole path and reason under the table.
    """

    DEFAULT_CSS = """
    UploadPreviewTable { overflow-x: hidden; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "cycle_type", "Change type", id="upload.preview.type"),
        Binding("x,delete", "remove_file", "Leave out", id="upload.preview.remove"),
    ]

    class CycleType(Message):
        """Change the type of the file at ``path``."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    class RemoveFile(Message):
        """Drop the file at ``path`` from the upload."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def __init__(self, *, base: Path, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._base = base
        self._paths: dict[str, Path] = {}

    def on_mount(self) -> None:
        self.add_column(" ", key="mark", width=1)
        self.add_column("File", key="file")
        self.add_column("Type", key="type", width=6)
        self.add_column("Size", key="size", width=9)
        self.add_column("Check", key="check")

    @property
    def highlighted_path(self) -> Path | None:
        """The file of the highlighted row (None when the table is empty)."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self._paths.get(key) if key is not None else None

    def show(self, rows: list[PreviewRow], types: dict[Path, str | None]) -> None:
        """Replace the rows; the cursor stays on the same file when it is still there."""
        keep = self.highlighted_path
        line = self.cursor_row
        self.clear()
        self._paths = {}
        for row in rows:
            key = str(row.key)
            self._paths[key] = row.path
            kind = row.item.data_source_type if row.item else types.get(row.key)
            mark = Text("✓", style="green") if row.ready else Text("✗", style="red")
            check = Text(READY, style="green") if row.ready else Text(
                printable(row.reason or "left out", limit=120), style="red")
            size = Text(file_size(row.item.size) if row.item else "—", justify="right")
            self.add_row(mark, Text(shown_file(row.path, self._base)),
                         Text(kind or "?"), size, check, key=key)
        if not rows:
            return
        if keep is not None and str(keep) in self._paths:
            self.move_cursor(row=self.get_row_index(str(keep)), animate=False)
        else:
            self.move_cursor(row=min(max(line, 0), len(rows) - 1), animate=False)

    def action_cycle_type(self) -> None:
        path = self.highlighted_path
        if path is not None:
            self.post_message(self.CycleType(path))

    def action_remove_file(self) -> None:
        path = self.highlighted_path
        if path is not None:
            self.post_message(self.RemoveFile(path))
