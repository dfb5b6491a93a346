"""AppPaths: XDG folders, one-root layout, safe per-profile folders."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from tui.core.paths import APP_NAME, AppPaths, safe_profile_name


@pytest.mark.skipif(sys.platform != "linux", reason="XDG layout is Linux's")
def test_default_follows_every_xdg_variable(isolated_folders: Path) -> None:
    paths = AppPaths.default()
    assert paths.config_dir == isolated_folders / "config" / APP_NAME
    assert paths.data_dir == isolated_folders / "data" / APP_NAME
    assert paths.state_dir == isolated_folders / "state" / APP_NAME
    assert paths.cache_dir == isolated_folders / "cache" / APP_NAME
    assert paths.log_dir.is_relative_to(paths.state_dir)
    assert paths.config_file == paths.config_dir / "config.toml"
    assert paths.themes_dir == paths.config_dir / "themes"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG layout is Linux's")
def test_default_moves_when_xdg_moves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "elsewhere"))
    assert AppPaths.default().data_dir == tmp_path / "elsewhere" / APP_NAME


def test_under_keeps_everything_below_root(tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path / "demo")
    for folder in (paths.config_dir, paths.data_dir, paths.state_dir, paths.cache_dir,
                   paths.log_dir, paths.themes_dir, paths.watchlist_db("prod").parent):
        assert folder.is_relative_to(tmp_path / "demo")
    assert len({paths.config_dir, paths.data_dir, paths.state_dir, paths.cache_dir}) == 4


def test_profile_files_live_in_the_profile_folder(tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path)
    assert paths.watchlist_db("prod") == tmp_path / "data" / "profiles" / "prod" / \
        "watchlist.sqlite3"
    assert paths.audit_db("prod") == tmp_path / "data" / "profiles" / "prod" / "audit.sqlite3"
    assert paths.watchlist_db("prod") != paths.watchlist_db("staging")


@pytest.mark.parametrize("name", ["../../etc", "a/b", "a\\b", "..", ".", "", ".hidden",
                                  "con:1", "naïve", "x" * 300, "a b"])
def test_unsafe_profile_names_become_one_plain_folder(name: str) -> None:
    safe = safe_profile_name(name)
    assert safe not in ("", ".", "..")
    assert not safe.startswith(".")
    assert "/" not in safe and "\\" not in safe and ":" not in safe
    assert safe.isascii()
    assert len(safe) <= 64


def test_safe_names_do_not_collide() -> None:
    names = ["a/b", "a_b", "a\\b", "a:b", "a b"]
    assert len({safe_profile_name(n) for n in names}) == len(names)
    assert safe_profile_name("prod-eu_1.x") == "prod-eu_1.x"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_ensure_creates_private_folders(tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path / "root")
    paths.ensure("prod")
    for folder in (paths.config_dir, paths.data_dir, paths.state_dir, paths.cache_dir,
                   paths.log_dir, paths.profile_data_dir("prod")):
        assert folder.is_dir()
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    paths.ensure("prod")  # a second call is harmless
