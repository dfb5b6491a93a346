"""Which files an upload will send, and why the others are left out.

:func:`plan_upload` turns what a person typed (paths, ``~``, globs, folders) into an
:class:`UploadPlan`: the files that will become records, each with the data source
type guessed from its extension, and the files that cannot be sent, each with one
sentence saying why. Nothing is read here but file metadata (and a probe that the
file opens), so planning 10,000 files costs no memory; the uploader reads each file
only when it builds the batch that carries it.
"""

from __future__ import annotations

import glob
import os
import stat
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = [
    "DATA_SOURCE_TYPES",
    "MAX_FILE_BYTES",
    "MAX_FILE_NAME",
    "RejectedFile",
    "UploadItem",
    "UploadPlan",
    "data_source_type_for",
    "file_name_problem",
    "file_size",
    "normalise_type",
    "plan_files",
    "plan_upload",
]

#: The data source types the API knows, in the spelling it answers with.
DATA_SOURCE_TYPES = ("Csv", "Excel", "Json", "Xml", "Pdf", "Image")
#: The API takes at most this many bytes per record (decoded).
MAX_FILE_BYTES = 10 * 1024 * 1024
#: The longest file name the API takes.
MAX_FILE_NAME = 255

_BY_EXTENSION = {
    ".csv": "Csv",
    ".xls": "Excel", ".xlsx": "Excel",
    ".json": "Json",
    ".xml": "Xml",
    ".pdf": "Pdf",
    ".png": "Image", ".jpg": "Image", ".jpeg": "Image", ".tif": "Image", ".tiff": "Image",
}
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class UploadItem:
    """One file that will become one record of a batch post."""

    path: Path
    file_name: str
    data_source_type: str
    size: int

    def with_type(self, data_source_type: str) -> UploadItem:
        """The same file sent as another data source type (ValueError when unknown)."""
        return replace(self, data_source_type=_checked_type(data_source_type))


@dataclass(frozen=True, slots=True)
class RejectedFile:
    """A file (or a pattern) left out of the upload, with the reason in one sentence."""

    path: Path
    reason: str


@dataclass(slots=True)
class UploadPlan:
    """The files to send (in order) and the ones left out."""

    items: list[UploadItem] = field(default_factory=list)
    rejected: list[RejectedFile] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        """The size of every file to send, added up."""
        return sum(item.size for item in self.items)

    def with_type(self, data_source_type: str, *, path: Path | None = None) -> UploadPlan:
        """A copy with every item (or only the one at ``path``) set to ``data_source_type``."""
        kind = _checked_type(data_source_type)
        items = [item.with_type(kind) if path is None or item.path == path else item
                 for item in self.items]
        return UploadPlan(items=items, rejected=list(self.rejected))


def file_size(size: int) -> str:
    """``512 B``, ``1.5 KiB``, ``2.0 MiB``: sizes as people read them (one place for both
    the CLI and the app, so a small file never shows as ``0.0 MiB``)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 2**20:.1f} MiB"


def normalise_type(text: str) -> str | None:
    """The API's spelling of a data source type typed in any case; None when unknown."""
    wanted = text.strip().lower()
    return next((kind for kind in DATA_SOURCE_TYPES if kind.lower() == wanted), None)


def _checked_type(text: str) -> str:
    kind = normalise_type(text)
    if kind is None:
        raise ValueError(f"unknown data source type {text!r}; use one of "
                         + ", ".join(DATA_SOURCE_TYPES))
    return kind


def data_source_type_for(file_name: str) -> str | None:
    """The data source type its extension suggests (case-insensitive); None when unknown."""
    return _BY_EXTENSION.get(os.path.splitext(file_name)[1].lower())


def file_name_problem(name: str) -> str | None:
    """Why the API would refuse ``name`` as a record's file name; None when it is fine."""
    if not name:
        return "its name is empty"
    if len(name) > MAX_FILE_NAME:
        return f"its name is longer than {MAX_FILE_NAME} characters"
    if "/" in name or "\\" in name:
        return "its name contains '/' or '\\', which the API does not take"
    if any(unicodedata.category(char) == "Cc" for char in name):
        return "its name contains control characters"
    if not name.strip(" ."):
        return "its name is only dots and spaces"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        # os.fsdecode keeps undecodable bytes as lone surrogates; JSON cannot carry them.
        return "its name is not valid UTF-8 text"
    return None


def _expand(entry: str | os.PathLike[str]) -> tuple[list[Path], RejectedFile | None]:
    """The files one argument stands for: a glob, a folder's files, or itself."""
    text = os.path.expanduser(os.fspath(entry))
    if _GLOB_CHARS & set(text):
        matches = sorted(glob.glob(text, recursive=True))
        if not matches:
            return [], RejectedFile(Path(text), "no file matches this pattern")
        found: list[Path] = []
        for match in matches:
            found.extend(_expand_folder(Path(match)))
        return found, None
    return _expand_folder(Path(text)), None


def _expand_folder(path: Path) -> list[Path]:
    """A folder stands for the files directly in it (not its sub-folders)."""
    if not path.is_dir():
        return [path]
    try:
        children = sorted(path.iterdir())
    except OSError:
        return [path]  # reported as unreadable by the checks
    return [child for child in children if not child.is_dir()]


def _probe_readable(path: Path) -> None:
    """Open and close the file, so permission problems show before anything is sent."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    os.close(descriptor)


def _check(path: Path, data_source_type: str | None) -> UploadItem | RejectedFile:
    name = path.name
    problem = file_name_problem(name)
    if problem is not None:
        return RejectedFile(path, problem)
    try:
        info = path.stat()
    except FileNotFoundError:
        return RejectedFile(path, "it does not exist")
    except OSError as error:
        return RejectedFile(path, f"it cannot be read ({error.strerror or error})")
    if stat.S_ISDIR(info.st_mode):
        return RejectedFile(path, "it is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        return RejectedFile(path, "it is not a regular file (a pipe, socket or device)")
    if info.st_size == 0:
        return RejectedFile(path, "it is empty")
    if info.st_size > MAX_FILE_BYTES:
        return RejectedFile(path, f"it is larger than {MAX_FILE_BYTES // 2**20} MiB "
                                  f"({info.st_size:,} bytes)")
    if data_source_type is not None:
        kind = normalise_type(data_source_type)
        if kind is None:
            return RejectedFile(path, "its chosen type is not one the API knows; choose one of "
                                      + ", ".join(DATA_SOURCE_TYPES))
    else:
        kind = data_source_type_for(name)
    if kind is None:
        return RejectedFile(path, "its type is unknown from the extension; choose one of "
                                  + ", ".join(DATA_SOURCE_TYPES))
    try:
        _probe_readable(path)
    except OSError as error:
        return RejectedFile(path, f"it cannot be read ({error.strerror or error})")
    return UploadItem(path=path, file_name=name, data_source_type=kind, size=info.st_size)


def plan_files(files: Iterable[tuple[Path, str | None]]) -> UploadPlan:
    """Check files already expanded, each with a chosen type (None: from the extension)."""
    plan = UploadPlan()
    seen_paths: set[Path] = set()
    first_with_name: dict[str, Path] = {}
    for path, kind in files:
        key = Path(os.path.abspath(path))
        if key in seen_paths:
            continue  # the same file named twice (a folder and a glob): send it once
        seen_paths.add(key)
        checked = _check(path, kind)
        if isinstance(checked, RejectedFile):
            plan.rejected.append(checked)
            continue
        first = first_with_name.setdefault(checked.file_name, path)
        if first != path:
            plan.rejected.append(RejectedFile(
                path, f"another file in this upload has the same name ({first})"))
            continue
        plan.items.append(checked)
    return plan


def plan_upload(paths_or_globs: Sequence[str | os.PathLike[str]], *,
                type_override: str | None = None) -> UploadPlan:
    """Expand ``~``, globs and folders, check every file, and guess each one's type.

    ``type_override`` (any case) sends every file as that type, whatever its
    extension; ValueError when it is not a type the API knows. Files are kept in
    the order given (a glob's or a folder's matches sorted by name).
    """
    kind = _checked_type(type_override) if type_override is not None else None
    plan = UploadPlan()
    expanded: list[tuple[Path, str | None]] = []
    for entry in paths_or_globs:
        paths, problem = _expand(entry)
        if problem is not None:
            plan.rejected.append(problem)
        expanded.extend((path, kind) for path in paths)
    checked = plan_files(expanded)
    plan.items = checked.items
    plan.rejected.extend(checked.rejected)
    return plan
