"""The files a person has picked for an upload, and the types chosen for them.

The upload modal keeps one :class:`UploadSelection`: files added by a typed path or
glob, toggled in the folder browser, or handed back for a retry. It knows nothing of
widgets; :meth:`UploadSelection.plan` checks the files again each time (through
:func:`tui.core.upload.plan.plan_files`), so the preview always shows what is on disk.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tui.core.upload.plan import (
    DATA_SOURCE_TYPES,
    RejectedFile,
    UploadItem,
    UploadPlan,
    data_source_type_for,
    normalise_type,
    plan_files,
    plan_upload,
)

__all__ = ["PreviewRow", "UploadSelection"]

_GLOB_CHARS = frozenset("*?[")


def _key(path: Path) -> Path:
    """One file's identity whether it was named relatively, absolutely or by a glob."""
    return Path(os.path.abspath(path))


@dataclass(frozen=True, slots=True)
class PreviewRow:
    """One picked file as the preview shows it: ready to send (``item``) or left out."""

    key: Path
    path: Path
    item: UploadItem | None
    reason: str | None

    @property
    def ready(self) -> bool:
        """Whether this file will be sent."""
        return self.item is not None


class UploadSelection:
    """Picked files in the order picked, per-file types and a type for all of them."""

    def __init__(self) -> None:
        self._files: dict[Path, Path] = {}  # identity -> the path as the user named it
        self._types: dict[Path, str] = {}
        self.type_for_all: str | None = None

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, Path) and _key(path) in self._files

    def reset(self, files: Iterable[tuple[Path, str | None]]) -> None:
        """Pick just these files, each with the type it should keep (a retry)."""
        self.clear()
        for path, kind in files:
            self.add_path(path)
            if kind is not None and normalise_type(kind) is not None:
                self.set_type(path, kind)

    def add(self, entry: str) -> int:
        """Add what a typed path, folder or glob stands for; the number of files new here.

        0 means nothing new: the pattern matched nothing, or the files were there already.
        """
        text = entry.strip()
        if not text:
            return 0
        expanded = os.path.expanduser(text)
        if _GLOB_CHARS & set(expanded) and not glob.glob(expanded, recursive=True):
            return 0
        found = plan_upload([text])
        # The plan splits its files into kept and left out; the selection keeps them all
        # (the preview says why some are left out), in name order as a glob gives them.
        paths = sorted([item.path for item in found.items]
                       + [rejected.path for rejected in found.rejected], key=str)
        return sum(self.add_path(path) for path in paths)

    def add_path(self, path: Path) -> bool:
        """Add one file; False when it was picked already."""
        key = _key(path)
        if key in self._files:
            return False
        self._files[key] = path
        return True

    def toggle(self, path: Path) -> bool:
        """Add the file, or drop it when it is picked already; True when it is picked now."""
        if path in self:
            self.remove(path)
            return False
        return self.add_path(path)

    def remove(self, path: Path) -> None:
        """Leave the file out (and forget its type)."""
        key = _key(path)
        self._files.pop(key, None)
        self._types.pop(key, None)

    def clear(self) -> None:
        """Forget every file and type."""
        self._files.clear()
        self._types.clear()
        self.type_for_all = None

    def type_of(self, path: Path) -> str | None:
        """The type the file will be sent as (None: its extension says nothing)."""
        key = _key(path)
        return (self._types.get(key) or self.type_for_all
                or data_source_type_for(path.name))

    def set_type(self, path: Path, kind: str) -> None:
        """Send this file as ``kind`` (ValueError when the API does not know it)."""
        spelled = normalise_type(kind)
        if spelled is None:
            raise ValueError(f"unknown data source type {kind!r}")
        self._types[_key(path)] = spelled

    def set_type_for_all(self, kind: str | None) -> None:
        """Send every file as ``kind``; None goes back to each file's extension."""
        self.type_for_all = normalise_type(kind) if kind is not None else None
        self._types.clear()  # "for all" means all, including files changed one by one

    def cycle_type(self, path: Path) -> str:
        """Change the file's type to the next one the API knows; returns the new type."""
        current = self.type_of(path)
        position = DATA_SOURCE_TYPES.index(current) if current in DATA_SOURCE_TYPES else -1
        kind = DATA_SOURCE_TYPES[(position + 1) % len(DATA_SOURCE_TYPES)]
        self._types[_key(path)] = kind
        return kind

    def _chosen_type(self, key: Path) -> str | None:
        return self._types.get(key) or self.type_for_all

    def plan(self) -> UploadPlan:
        """Check every picked file now: what will be sent and what is left out, and why."""
        return plan_files((path, self._chosen_type(key)) for key, path in self._files.items())

    def rows(self, plan: UploadPlan | None = None) -> list[PreviewRow]:
        """The preview, one row per picked file in the order picked."""
        plan = self.plan() if plan is None else plan
        items = {_key(item.path): item for item in plan.items}
        left_out: dict[Path, RejectedFile] = {_key(r.path): r for r in plan.rejected}
        rows: list[PreviewRow] = []
        for key, path in self._files.items():
            item = items.get(key)
            rejected = left_out.get(key)
            rows.append(PreviewRow(key=key, path=path, item=item,
                                   reason=rejected.reason if rejected is not None else None))
        return rows
