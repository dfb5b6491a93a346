"""Writing the config file: what the user set, as TOML, atomically and readable by the
user only. Reading and checking it is :mod:`tui.core.settings`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from tui.core.alerts.settings import AlertSettings
from tui.core.settings import AppConfig, ProfileSettings
from tui.core.timeinstatus import StuckAfter
from tui.core.toml_writer import dumps_toml

__all__ = ["config_to_dict", "save_config", "write_private_text"]

def _profile_table(settings: ProfileSettings) -> dict[str, Any]:
    # Keep what the user set and what differs from the default; leave the rest implicit.
    values = settings.model_dump(exclude={"name"})
    table: dict[str, Any] = {}
    for key, value in values.items():
        default = ProfileSettings.model_fields[key].get_default(call_default_factory=True)
        if value is None or not (key in settings.model_fields_set or key == "base_url"
                                 or value != default):
            continue
        table[key] = value.to_config() if isinstance(value, StuckAfter | AlertSettings) else value
    return table


def config_to_dict(config: AppConfig) -> dict[str, Any]:
    """The config as plain TOML-able data (what :func:`save_config` writes)."""
    data: dict[str, Any] = {}
    if config.default_profile:
        data["default_profile"] = config.default_profile
    if config.theme:
        data["theme"] = config.theme
    if config.profiles:
        data["profiles"] = {name: _profile_table(p) for name, p in config.profiles.items()}
    if config.keymap:
        data["keymap"] = dict(config.keymap)
    return data


def save_config(path: Path, config: AppConfig) -> None:
    """Write the config atomically (temp file then rename), readable by the user only."""
    write_private_text(path, dumps_toml(config_to_dict(config)))


def write_private_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temp file beside it, synced, then renamed
    over it), readable by the user only; the folder is made (private) if missing."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as temp:
            if hasattr(os, "fchmod"):
                os.fchmod(temp.fileno(), 0o600)
            temp.write(text)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        try:
            os.unlink(temp_name)
        except OSError:
            pass
        raise
