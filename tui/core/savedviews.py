"""Saved views and the table's layout per profile: a TOML file the app owns.

``views.toml`` lives beside ``config.toml`` (:attr:`tui.core.paths.AppPaths.views_file`).
The app writes it whenever a view is saved or deleted, the sort changes or columns are
chosen; the user's own ``config.toml`` is never rewritten for that (rewriting it would
drop its comments)::

    [profiles.prod]
    sort = "in_status"
    reverse = true
    columns = ["id", "file", "status", "meta:rowsRead"]

    [profiles.prod.views."Morning failures"]
    filter = "status:failed age:<1d"
    base = "all"
    sort = "uploaded"
    reverse = false
    columns = ["id", "file", "status", "ref"]

Column keys and filters are kept as text: what they mean is the table's and the filter
language's business, and a view naming a column that no longer exists must still open.
A broken file never stops the app: :func:`load_layouts` gives the defaults and warnings
that name the file and, where it is known, the line.
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tui.core.config_file import write_private_text
from tui.core.filters import FilterError, RowFilter, parse_filter
from tui.core.filters.messages import MessageIndex
from tui.core.settings import dumps_toml

__all__ = ["ProfileLayout", "SavedView", "TableLayout", "ViewsFile", "check_view_name",
           "dumps_layouts", "lenient_filter", "load_layouts", "parse_layouts", "save_layouts"]

#: Longest view name kept (a tab label, a palette entry).
MAX_NAME = 40


@dataclass(frozen=True)
class TableLayout:
    """How the table is sorted and which columns it shows, in order (empty: the default)."""

    sort: str = "id"
    reverse: bool = False
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class SavedView:
    """A named filter (the ``/`` language, as typed) with its sort and columns, over the
    built-in view (tab) ``base`` it was saved on (``all``, ``failed``, ``stuck``, ...)."""

    name: str
    filter: str = ""
    layout: TableLayout = TableLayout()
    base: str = "all"


@dataclass(frozen=True)
class ProfileLayout:
    """One profile's table layout and its saved views, in the order they were saved."""

    table: TableLayout = TableLayout()
    views: tuple[SavedView, ...] = ()

    def view(self, name: str) -> SavedView | None:
        """The saved view called ``name`` (exactly as saved), or None."""
        return next((view for view in self.views if view.name == name), None)

    def with_view(self, view: SavedView) -> ProfileLayout:
        """With ``view`` saved: it replaces one of the same name in its place, else goes last."""
        views = list(self.views)
        for index, old in enumerate(views):
            if old.name == view.name:
                views[index] = view
                return replace(self, views=tuple(views))
        return replace(self, views=(*views, view))

    def without_view(self, name: str) -> ProfileLayout:
        """With the view called ``name`` deleted (no such view: unchanged)."""
        return replace(self, views=tuple(v for v in self.views if v.name != name))


@dataclass
class ViewsFile:
    """Every profile's layout as read from the file, and what was wrong with it."""

    profiles: dict[str, ProfileLayout] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: The file exists but could not be read at all (a saved copy is kept before a write).
    unreadable: bool = False

    def layout(self, profile: str) -> ProfileLayout:
        """The layout of ``profile`` (the defaults when it has none)."""
        return self.profiles.get(profile, ProfileLayout())


def check_view_name(name: str) -> str | None:
    """Why ``name`` cannot name a view (one sentence), or None when it can."""
    if not name.strip():
        return "A view needs a name."
    if len(name) > MAX_NAME:
        return f"A view name is at most {MAX_NAME} characters."
    if any(ord(char) < 0x20 or ord(char) == 0x7F or 0xD800 <= ord(char) <= 0xDFFF
           for char in name):
        return "A view name cannot hold control characters."
    return None


def lenient_filter(source: str, *, clock: Callable[[], float] = time.time,
                   messages: MessageIndex | None = None,
                   ) -> tuple[RowFilter, list[FilterError]]:
    """The filter of ``source`` with each bad term left out, and the bad terms.

    For the ``/`` box while typing (half a term must not blank the table) and for a saved
    view whose filter names a status that no longer exists (it still opens, with a note).
    Blanking a span keeps the other terms' positions, so each error's span still points
    into ``source`` as written.
    """
    errors: list[FilterError] = []
    text = source
    for _ in range(len(source) + 1):  # each round blanks at least one character
        try:
            return parse_filter(text, clock=clock, messages=messages), errors
        except FilterError as error:
            errors.append(error)
            end = max(error.end, error.start + 1)
            text = text[:error.start] + " " * (end - error.start) + text[end:]
    return parse_filter("", clock=clock), errors


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


class _Reader:
    """Reads tables leniently: a bad value is a warning and the default, never an error."""

    def __init__(self, text: str, path: Path | None) -> None:
        self.text = text
        self.where = str(path) if path else "views"
        self.warnings: list[str] = []

    def warn(self, table: str, key: str, message: str) -> None:
        line = _line_of(self.text, f"{key} =") if key else _line_of(self.text, table)
        place = f"{self.where}: line {line}" if line else self.where
        self.warnings.append(f"{place}: [{table}] {key + ': ' if key else ''}{message}")

    def layout(self, table: Mapping[str, Any], name: str) -> TableLayout:
        default = TableLayout()
        sort, reverse, columns = default.sort, default.reverse, default.columns
        value = table.get("sort", sort)
        if isinstance(value, str) and value:
            sort = value
        else:
            self.warn(name, "sort", "not a column name; sorted by ID")
        value = table.get("reverse", reverse)
        if isinstance(value, bool):
            reverse = value
        else:
            self.warn(name, "reverse", "not true or false; ascending")
        value = table.get("columns", list(columns))
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            columns = tuple(dict.fromkeys(value))  # a column shown twice: once
        else:
            self.warn(name, "columns", "not a list of column names; the default columns")
        return TableLayout(sort, reverse, columns)

    def profile(self, profile: str, table: Mapping[str, Any]) -> ProfileLayout:
        name = f"profiles.{profile}"
        layout = self.layout(table, name)
        views: list[SavedView] = []
        saved = table.get("views", {})
        if not isinstance(saved, dict):
            self.warn(name, "views", "not a table of views; none read")
            saved = {}
        for view_name, view_table in saved.items():
            where = f"{name}.views.{view_name}"
            if not isinstance(view_table, dict):
                self.warn(where, "", "not a table; left out")
                continue
            why = check_view_name(view_name)
            if why is not None:
                self.warn(where, "", f"{why} Left out.")
                continue
            text = view_table.get("filter", "")
            if not isinstance(text, str):
                self.warn(where, "filter", "not text; no filter")
                text = ""
            base = view_table.get("base", "all")
            if not isinstance(base, str) or not base:
                self.warn(where, "base", "not a view name; All")
                base = "all"
            views.append(SavedView(view_name, text, self.layout(view_table, where), base))
        return ProfileLayout(layout, tuple(views))


def parse_layouts(text: str, path: Path | None = None) -> ViewsFile:
    """Read the views file's text; nothing in it raises (see the module docstring)."""
    where = str(path) if path else "views"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return ViewsFile(warnings=[f"{where}: {error}; saved views and columns not read"],
                         unreadable=True)
    reader = _Reader(text, path)
    result = ViewsFile()
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        reader.warn("profiles", "", "not a table; nothing read")
        profiles = {}
    for profile, table in profiles.items():
        if isinstance(table, dict):
            result.profiles[profile] = reader.profile(profile, table)
        else:
            reader.warn(f"profiles.{profile}", "", "not a table; left out")
    result.warnings = reader.warnings
    return result


def load_layouts(path: Path) -> ViewsFile:
    """Read the views file: a missing one is empty, an unreadable one warns."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ViewsFile()
    except OSError as error:
        return ViewsFile(warnings=[f"{path}: cannot be read ({error.strerror or error}); "
                                   "saved views and columns not read"], unreadable=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return ViewsFile(warnings=[f"{path}: line {line}: not UTF-8 text; "
                                   "saved views and columns not read"], unreadable=True)
    return parse_layouts(text, path)


def _layout_table(layout: TableLayout) -> dict[str, Any]:
    return {"sort": layout.sort, "reverse": layout.reverse, "columns": list(layout.columns)}


def dumps_layouts(profiles: Mapping[str, ProfileLayout]) -> str:
    """The views file's text for ``profiles``."""
    data: dict[str, Any] = {}
    for name, profile in profiles.items():
        table = _layout_table(profile.table)
        if profile.views:
            table["views"] = {view.name: {"filter": view.filter, "base": view.base,
                                          **_layout_table(view.layout)}
                              for view in profile.views}
        data[name] = table
    return dumps_toml({"profiles": data} if data else {})


def save_layouts(path: Path, profile: str, layout: ProfileLayout) -> None:
    """Store ``profile``'s layout, keeping the other profiles' as the file has them now.

    Read again just before writing, so two monitors of different profiles do not undo
    each other's saves; written atomically (temp file, then rename). A file that cannot
    be read is first kept as ``views.toml.bad`` (nothing the user wrote is lost).
    """
    current = load_layouts(path)
    if current.unreadable and path.exists():
        os.replace(path, path.with_name(path.name + ".bad"))
    profiles = dict(current.profiles)
    profiles[profile] = layout
    write_private_text(path, dumps_layouts(profiles))

