"""Where the app keeps its files: the only module that asks platformdirs.

Every other module receives an :class:`AppPaths` and never works out a folder
on its own, so tests (and ``--demo``) can move everything by building one
value. On Linux the folders follow the XDG variables, e.g.
``$XDG_CONFIG_HOME/conversions-tui`` and ``$XDG_DATA_HOME/conversions-tui``.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import platformdirs

__all__ = ["APP_NAME", "AppPaths", "safe_profile_name"]

APP_NAME = "conversions-tui"

# Letters, digits, dot, dash and underscore are safe in a folder name everywhere.
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def safe_profile_name(profile: str) -> str:
    """Turn a profile name into a folder name that is safe on every platform.

    A name that is already safe is used as it is (so folders are recognisable);
    any other gets its unsafe characters replaced and a short hash of the
    original appended, so two different profiles never share a folder. Names
    longer than 64 characters are shortened the same way.
    """
    cleaned = _UNSAFE_CHARS.sub("_", profile)
    if (cleaned == profile and profile not in ("", ".", "..") and not profile.startswith(".")
            and len(profile) <= 64):
        return profile
    digest = hashlib.sha256(profile.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    cleaned = cleaned.lstrip(".")[:48] or "profile"
    return f"{cleaned}-{digest}"


@dataclass(frozen=True)
class AppPaths:
    """The folders and files the app uses, all derived from a handful of roots."""

    config_dir: Path
    data_dir: Path
    state_dir: Path
    cache_dir: Path
    log_dir: Path

    @classmethod
    def default(cls) -> AppPaths:
        """The user's folders as platformdirs sees them (honours ``XDG_*`` on Linux)."""
        dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
        return cls(
            config_dir=Path(dirs.user_config_dir),
            data_dir=Path(dirs.user_data_dir),
            state_dir=Path(dirs.user_state_dir),
            cache_dir=Path(dirs.user_cache_dir),
            log_dir=Path(dirs.user_log_dir),
        )

    @classmethod
    def under(cls, root: Path) -> AppPaths:
        """Everything below one folder (``--demo`` keeps its state apart this way)."""
        root = Path(root)
        return cls(
            config_dir=root / "config",
            data_dir=root / "data",
            state_dir=root / "state",
            cache_dir=root / "cache",
            log_dir=root / "log",
        )

    @property
    def themes_dir(self) -> Path:
        """User theme files."""
        return self.config_dir / "themes"

    @property
    def screenshots_dir(self) -> Path:
        """SVG pictures of the screen saved from the command palette."""
        return self.data_dir / "screenshots"

    @property
    def config_file(self) -> Path:
        """The TOML configuration file."""
        return self.config_dir / "config.toml"

    @property
    def views_file(self) -> Path:
        """Saved views, sort and columns per profile: written by the app (tui.core.savedviews)."""
        return self.config_dir / "views.toml"

    def profile_data_dir(self, profile: str) -> Path:
        """The data folder of one profile (each profile keeps its own watchlist)."""
        return self.data_dir / "profiles" / safe_profile_name(profile)

    def watchlist_db(self, profile: str) -> Path:
        """The SQLite watchlist of ``profile``."""
        return self.profile_data_dir(profile) / "watchlist.sqlite3"

    def audit_db(self, profile: str) -> Path:
        """The SQLite audit log of ``profile``."""
        return self.profile_data_dir(profile) / "audit.sqlite3"

    def ensure(self, profile: str | None = None) -> None:
        """Create the folders (private to the user: 0o700), and a profile's data folder."""
        folders = [self.config_dir, self.data_dir, self.state_dir, self.cache_dir, self.log_dir]
        if profile is not None:
            folders.append(self.profile_data_dir(profile))
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            # mkdir's mode is masked by the umask and ignored for existing folders.
            if os.name == "posix":
                try:
                    os.chmod(folder, 0o700)
                except OSError:
                    pass
