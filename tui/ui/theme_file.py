"""One theme file: its model (:class:`ThemeFile`), its checks, and the Textual theme it
becomes (:class:`FileTheme`), read by :func:`parse_theme`.

Every check Textual would make on switching is made here, so a bad file is one line of
reason (:class:`ThemeFileError`) at load, never a failure mid-session. Where the files
come from and how one is chosen: :mod:`tui.ui.themes`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from textual.color import Color, ColorParseError
from textual.css.constants import VALID_STYLE_FLAGS
from textual.design import ColorSystem
from textual.theme import Theme

__all__ = ["FileTheme", "Palette", "StatusColours", "ThemeFile", "ThemeFileError",
           "parse_theme"]

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_VARIABLE = re.compile(r"[a-z][a-z0-9-]{0,60}")
_ALPHA = re.compile(r"^(?P<colour>.+?)\s+(?P<alpha>\d{1,3})%$")


@dataclass
class FileTheme(Theme):
    """A Textual theme that came from a theme file (built-in or the user's)."""

    description: str = ""
    user: bool = False
    """From the user's themes folder rather than shipped with the app."""


class ThemeFileError(Exception):
    """A theme file that cannot be used; ``str(error)`` says why in one line."""


def _check_colour(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError:
        raise ValueError(f"{value!r} is not a colour (try '#rrggbb' or 'ansi_red')") from None
    return value


def _check_variable_value(name: str, value: str) -> None:
    if name.endswith("text-style"):
        unknown = [word for word in value.split() if word not in VALID_STYLE_FLAGS]
        if unknown or not value.split():
            raise ValueError(f"{name}: {value!r} is not a text style (e.g. 'bold reverse')")
        return
    match = _ALPHA.match(value)
    colour = match["colour"] if match else value
    if match and int(match["alpha"]) > 100:
        raise ValueError(f"{name}: {value!r} has an alpha above 100%")
    if colour == "auto":  # Textual's "pick a contrasting colour"
        return
    try:
        Color.parse(colour)
    except ColorParseError:
        raise ValueError(f"{name}: {value!r} is not a colour") from None


Colour = Annotated[str, AfterValidator(_check_colour)]


class Palette(BaseModel):
    """The base colours Textual derives every other shade from."""

    model_config = ConfigDict(extra="forbid", strict=True)

    primary: Colour
    secondary: Colour
    accent: Colour
    foreground: Colour
    background: Colour
    surface: Colour
    panel: Colour
    success: Colour
    warning: Colour
    error: Colour


class StatusColours(BaseModel):
    """One colour per kind of status (see ``tui.core.statuses.StatusKind``), and stale."""

    model_config = ConfigDict(extra="forbid", strict=True)

    queued: Colour
    processing: Colour
    completed: Colour
    failed: Colour
    deleting: Colour
    unknown: Colour
    stale: Colour
    deleted: Colour | None = None
    not_found: Colour | None = None

    def variables(self) -> dict[str, str]:
        """The ``$status-*`` variables the table's stylesheet uses."""
        values = self.model_dump()
        values["deleted"] = self.deleted or self.unknown
        values["not_found"] = self.not_found or self.unknown
        return {f"status-{kind.replace('_', '-')}": colour for kind, colour in values.items()}


class ThemeFile(BaseModel):
    """The contents of one theme file."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(None, pattern=_NAME.pattern)
    description: str = Field("", max_length=200)
    dark: bool
    ansi: bool = False
    palette: Palette
    status: StatusColours
    variables: dict[str, str] = Field(default_factory=dict)

    @field_validator("variables")
    @classmethod
    def _check_variables(cls, variables: dict[str, str]) -> dict[str, str]:
        for name, value in variables.items():
            if not _VARIABLE.fullmatch(name):
                raise ValueError(f"{name!r} is not a variable name")
            if name.startswith("status-"):
                raise ValueError(f"{name!r} belongs in [status]")
            _check_variable_value(name, value)
        return variables

    def to_theme(self, name: str) -> FileTheme:
        """The Textual theme (status colours included as variables)."""
        palette = self.palette
        return FileTheme(
            name=name,
            description=self.description,
            primary=palette.primary,
            secondary=palette.secondary,
            accent=palette.accent,
            foreground=palette.foreground,
            background=palette.background,
            surface=palette.surface,
            panel=palette.panel,
            success=palette.success,
            warning=palette.warning,
            error=palette.error,
            dark=self.dark,
            ansi=self.ansi,
            variables={**(_ansi_defaults(self.dark) if self.ansi else {}), **self.variables,
                       **self.status.variables()},
        )


def _ansi_defaults(dark: bool) -> dict[str, str]:
    # Textual's ANSI colour system leaves out variables its own stylesheets use
    # (its ansi-dark theme sets two of them by hand); without them a screen fails to load.
    return {
        "ansi-background": "ansi_black" if dark else "ansi_white",
        "ansi-foreground": "ansi_white" if dark else "ansi_black",
        "foreground-disabled": "ansi_bright_black",
        "surface-active": "transparent",
    }


def _required_variables() -> frozenset[str]:
    return frozenset(ColorSystem(primary="#000000").generate())


def _one_line(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def parse_theme(text: str, default_name: str) -> FileTheme:
    """Read one theme file's text; the name defaults to the file's stem.

    Raises :class:`ThemeFileError` with a one-line reason.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ThemeFileError(f"not valid TOML ({error})") from None
    try:
        model = ThemeFile.model_validate(data)
    except ValidationError as error:
        raise ThemeFileError(_one_line(error)) from None
    name = model.name or default_name
    if not _NAME.fullmatch(name):
        raise ThemeFileError(f"{name!r} is not a theme name (lower case, digits, - and _)")
    theme = model.to_theme(name)
    try:  # what Textual will do on switching: fail here, not mid-session
        generated = theme.to_color_system().generate()
    except Exception as error:  # any failure means "unusable theme"
        raise ThemeFileError(f"Textual cannot use it ({type(error).__name__}: {error})") from None
    missing = sorted(_required_variables() - generated.keys())
    if missing:  # Textual's own stylesheets would fail to load
        raise ThemeFileError(f"needs [variables] {', '.join(missing)}")
    return theme
