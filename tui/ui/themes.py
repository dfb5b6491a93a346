"""Colour themes: TOML files, checked by a model, turned into Textual themes.

A theme file names its palette, its status colours and, optionally, any other
Textual theme variable::

    name = "dark"
    dark = true

    [palette]          # all ten are required
    primary = "#1f6feb"
    ...

    [status]           # deleted and not_found fall back to unknown
    queued = "#a5b0bc"
    ...

    [variables]        # optional: any Textual variable, e.g. the cursor
    block-cursor-background = "#ffff00"

Colours are whatever Textual parses (``#rrggbb``, ``rgb(...)``, names, and the
terminal's own ``ansi_red``, ``ansi_bright_black``, ``ansi_default``).
Status colours become the ``$status-*`` variables the table's stylesheet
uses, so no widget names a colour.

The file's model and its checks are in :mod:`tui.ui.theme_file`; this module finds the
files, picks one and installs them in the app. Built-in themes ship inside the package
(``tui/themes`` in the wheel, the top-level ``themes/`` folder in a checkout); users drop
more into :attr:`tui.core.paths.AppPaths.themes_dir`. A user file that cannot be used
becomes a :class:`ThemeProblem` (one per file), never an exception.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.filter import Monochrome, NoColor

from tui.core.config_file import save_config
from tui.core.settings import load_config
from tui.ui.textual_private import replace_line_filters
from tui.ui.theme_file import FileTheme, ThemeFile, ThemeFileError, parse_theme

__all__ = [
    "DEFAULT_THEME",
    "NO_COLOR_THEME",
    "FileTheme",
    "LoadedThemes",
    "ThemeFile",
    "ThemeFileError",
    "ThemePick",
    "ThemeProblem",
    "builtin_theme_files",
    "install_themes",
    "load_builtin_themes",
    "load_user_themes",
    "no_color_requested",
    "parse_theme",
    "persist_theme",
    "pick_theme",
    "set_monochrome",
]

DEFAULT_THEME = "dark"
"""The theme used when nothing (valid) was chosen."""
NO_COLOR_THEME = "ansi-16"
"""The theme used when ``NO_COLOR`` is set and nothing was chosen."""

MAX_THEME_BYTES = 64 * 1024
"""A theme file is a few hundred bytes; anything this large is not one."""

# --------------------------------------------------------------------- finding files
def _checkout_themes() -> Path:
    # tui/ui/themes.py -> the repository's top-level themes/ folder.
    return Path(__file__).resolve().parents[2] / "themes"


def builtin_theme_files() -> list[Traversable]:
    """The built-in theme files: from the installed package, else from a checkout."""
    folder: Traversable = resources.files("tui").joinpath("themes")
    if not folder.is_dir():
        folder = _checkout_themes()
    return sorted((entry for entry in folder.iterdir()
                   if entry.name.endswith(".toml") and entry.is_file()),
                  key=lambda entry: entry.name)


def load_builtin_themes() -> list[FileTheme]:
    """Every built-in theme, the default first. A broken one is a bug: it raises."""
    themes = []
    for entry in builtin_theme_files():
        try:
            themes.append(parse_theme(entry.read_text(encoding="utf-8"),
                                      entry.name.removesuffix(".toml")))
        except ThemeFileError as error:
            raise RuntimeError(f"built-in theme {entry.name}: {error}") from None
    themes.sort(key=lambda theme: (theme.name != DEFAULT_THEME, theme.name))
    return themes


@dataclass(frozen=True)
class ThemeProblem:
    """A user theme file that was not loaded, and why."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"Theme file {self.path} was not loaded: {self.message}"


@dataclass
class LoadedThemes:
    """The user's themes that loaded, and one problem per file that did not."""

    themes: list[FileTheme] = field(default_factory=list)
    problems: list[ThemeProblem] = field(default_factory=list)


def _read_user_file(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_THEME_BYTES + 1)
    except OSError as error:
        raise ThemeFileError(f"cannot be read ({error.strerror or error})") from None
    if len(raw) > MAX_THEME_BYTES:
        raise ThemeFileError(f"larger than {MAX_THEME_BYTES // 1024} KiB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ThemeFileError("not UTF-8 text") from None


def load_user_themes(folder: Path, taken: Collection[str]) -> LoadedThemes:
    """Load every ``*.toml`` in ``folder`` (missing folder: none). Names in ``taken``
    (the built-ins) and names already loaded are refused, so no file silently wins.
    """
    loaded = LoadedThemes()
    try:
        paths = sorted(path for path in folder.iterdir() if path.suffix == ".toml")
    except OSError:
        return loaded
    names = set(taken)
    for path in paths:
        try:
            theme = parse_theme(_read_user_file(path), path.stem)
            if theme.name in names:
                raise ThemeFileError(f"the name {theme.name!r} is already taken")
        except ThemeFileError as error:
            loaded.problems.append(ThemeProblem(path, str(error)))
            continue
        names.add(theme.name)
        theme.user = True
        loaded.themes.append(theme)
    return loaded


# ----------------------------------------------------------------------- choosing
def no_color_requested(env: Mapping[str, str]) -> bool:
    """``NO_COLOR`` set to anything but the empty string (https://no-color.org)."""
    return bool(env.get("NO_COLOR"))


@dataclass(frozen=True)
class ThemePick:
    """The theme to start with, whether colour is to be stripped, and any complaint."""

    name: str
    monochrome: bool
    problem: str | None = None


def pick_theme(requested: str | None, available: Iterable[str], *, no_color: bool) -> ThemePick:
    """Start with ``requested`` if it exists, else the default for this terminal.

    An explicit choice (flag, ``CONVERSIONS_THEME``, profile or config) overrides
    ``NO_COLOR``, as no-color.org asks; without one, ``NO_COLOR`` means the
    ANSI theme drawn without colour.
    """
    names = list(available)
    fallback = NO_COLOR_THEME if no_color else DEFAULT_THEME
    if requested is None or requested == "":
        return ThemePick(fallback, monochrome=no_color)
    if requested in names:
        return ThemePick(requested, monochrome=False)
    return ThemePick(fallback, monochrome=no_color, problem=(
        f"Unknown theme {requested!r}; using {fallback!r}. "
        f"Themes: {', '.join(sorted(names))}"))


# ---------------------------------------------------------------------- the app side
def install_themes(app: App[Any], user_folder: Path | None) -> LoadedThemes:
    """Register the built-in themes and the user's; return the user's (and problems)."""
    builtins = load_builtin_themes()
    for theme in builtins:
        app.register_theme(theme)
    if user_folder is None:
        return LoadedThemes()
    loaded = load_user_themes(user_folder, taken={*app.available_themes})
    for theme in loaded.themes:
        app.register_theme(theme)
    return loaded


def set_monochrome(app: App[Any], monochrome: bool) -> None:
    """Draw without colour (NO_COLOR) or with it.

    Textual greys everything out whenever ``NO_COLOR`` is set; here the choice
    follows :func:`pick_theme` instead: an explicit theme shows its colours,
    otherwise colour is removed outright (bold, reverse and the status symbols
    still carry the meaning).
    """
    replace_line_filters(app, keep=lambda item: not isinstance(item, Monochrome | NoColor),
                         add=NoColor() if monochrome else None)
    app.refresh(layout=False)


def persist_theme(config_file: Path, name: str, profile: str | None) -> Path:
    """Write ``theme = name`` into the config file and return the file written.

    It goes into the profile's table when that profile sets a theme of its own
    (which would otherwise go on overriding the choice), else at the top. The
    file is read again first, so edits made since the app started are kept.
    Raises :class:`tui.core.settings.ConfigError` or ``OSError``.
    """
    config = load_config(config_file)
    settings = config.profiles.get(profile) if profile else None
    if profile and settings is not None and settings.theme is not None:
        config.profiles[profile] = settings.model_copy(update={"theme": name})
    else:
        config.theme = name
    save_config(config_file, config)
    return config_file
