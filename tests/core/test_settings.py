"""Config file parsing, validation, profile resolution and the TOML writer."""

from __future__ import annotations

import math
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.core.config_file import config_to_dict, save_config
from tui.core.paths import AppPaths
from tui.core.settings import (
    AppConfig,
    ConfigError,
    ProfileNotConfigured,
    ProfileSettings,
    check_base_url,
    dumps_toml,
    load_config,
    resolve_profile,
)

EXAMPLE = """\
default_profile = "prod"
theme = "dark"

[profiles.prod]
base_url = "https://api.example.com/"
poll_interval = 5
read_only = true

[profiles.local]
base_url = "http://127.0.0.1:8000"

[keymap]
delete = "ctrl+d"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, EXAMPLE))
    assert config.default_profile == "prod"
    assert config.theme == "dark"
    assert config.keymap == {"delete": "ctrl+d"}
    prod = config.profiles["prod"]
    assert prod.name == "prod"
    assert prod.base_url == "https://api.example.com"  # trailing slash dropped
    assert prod.poll_interval == 5.0 and isinstance(prod.poll_interval, float)
    assert prod.read_only is True
    assert prod.concurrency == 8  # default
    assert config.warnings == []


def test_config_lives_in_xdg_config_home(isolated_folders: Path) -> None:
    path = AppPaths.default().config_file
    path.parent.mkdir(parents=True)
    path.write_text(EXAMPLE)
    assert str(path).startswith(str(isolated_folders / "config"))
    assert load_config(path).default_profile == "prod"


def test_missing_file_is_an_empty_config(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nope.toml")
    assert config.profiles == {} and config.default_profile is None


def test_broken_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'default_profile = "prod"\n\n[profiles.prod]\nbase_url = \n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message
    assert "line 4" in message
    assert caught.value.line == 4
    assert "Traceback" not in message


def test_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'theme = "dark"\ntheme2 = "\xff"\n')
    with pytest.raises(ConfigError, match="line 2: not UTF-8"):
        load_config(path)


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "config.toml").mkdir()
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path / "config.toml")


def test_unknown_keys_are_warnings(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "colour = 1\n" + EXAMPLE.replace(
        "read_only = true", "read_only = true\npoll_intervall = 3")))
    assert config.profiles["prod"].poll_interval == 5.0
    assert any("poll_intervall" in w and "profiles.prod" in w for w in config.warnings)
    assert any("colour" in w for w in config.warnings)


def test_default_profile_without_table_is_a_warning(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, 'default_profile = "nope"\n'))
    assert any("nope" in w for w in config.warnings)


@pytest.mark.parametrize(("line", "expected"), [
    ("poll_interval = 0", "poll_interval should be greater than 0 (got 0)"),
    ("poll_interval = -2.5", "poll_interval should be greater than 0"),
    ("poll_interval = inf", "poll_interval"),
    ('read_only = "yes"', "read_only should be a valid boolean (got 'yes')"),
    ("concurrency = 0", "concurrency should be greater than or equal to 1"),
    ("concurrency = 2.5", "concurrency should be a valid integer"),
    ("timeout = true", "timeout should be a valid number"),
])
def test_bad_values_get_readable_messages(tmp_path: Path, line: str, expected: str) -> None:
    path = write(tmp_path, f'[profiles.prod]\nbase_url = "https://x.example"\n{line}\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert expected in str(caught.value)
    assert "[profiles.prod]" in str(caught.value)
    assert str(path) in str(caught.value)


def test_profile_without_base_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="base_url is required"):
        load_config(write(tmp_path, "[profiles.prod]\nread_only = true\n"))


@pytest.mark.parametrize("text", [
    'theme = 3\n', 'profiles = 3\n', '[profiles]\nprod = 1\n', '[keymap]\ndelete = 1\n',
])
def test_wrong_shapes_are_config_errors(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize("url", [
    "https://api.example.com", "http://127.0.0.1:8000", "http://localhost", "http://[::1]:9/x",
    "https://api.example.com/base/path",
])
def test_good_base_urls(url: str) -> None:
    check_base_url(url, allow_insecure_http=False)


@pytest.mark.parametrize(("url", "why"), [
    ("http://api.example.com", "clear text"),
    ("ftp://x.example", "must look like"),
    ("api.example.com", "must look like"),
    ("https://", "must look like"),
    ("https://user:pw@x.example", "user name or password"),
    ("https://x.example/?a=1", "query"),
    ("https://x.example:port", "not a valid URL"),
])
def test_bad_base_urls(url: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        check_base_url(url, allow_insecure_http=False)


def test_insecure_http_can_be_allowed() -> None:
    check_base_url("http://api.example.com", allow_insecure_http=True)
    settings = ProfileSettings(name="x", base_url="http://a.example", allow_insecure_http=True)
    assert settings.base_url == "http://a.example"
    with pytest.raises(ValueError, match="clear text"):
        ProfileSettings(name="x", base_url="http://a.example")


# --- resolve_profile --------------------------------------------------------------------

def config_from(tmp_path: Path) -> AppConfig:
    return load_config(write(tmp_path, EXAMPLE))


def test_resolve_uses_config_default(tmp_path: Path) -> None:
    chosen = resolve_profile(config_from(tmp_path), profile=None, base_url=None, env={})
    assert chosen.name == "prod" and chosen.read_only


def test_flag_beats_env_beats_default(tmp_path: Path) -> None:
    config = config_from(tmp_path)
    env = {"CONVERSIONS_PROFILE": "local"}
    assert resolve_profile(config, profile=None, base_url=None, env=env).name == "local"
    assert resolve_profile(config, profile="prod", base_url=None, env=env).name == "prod"


def test_base_url_overrides_profile_url(tmp_path: Path) -> None:
    config = config_from(tmp_path)
    env = {"CONVERSIONS_BASE_URL": "https://env.example"}
    chosen = resolve_profile(config, profile=None, base_url=None, env=env)
    assert (chosen.name, chosen.base_url, chosen.read_only) == ("prod", "https://env.example",
                                                                True)
    chosen = resolve_profile(config, profile=None, base_url="https://flag.example", env=env)
    assert chosen.base_url == "https://flag.example"


def test_base_url_alone_runs_profile_default() -> None:
    chosen = resolve_profile(AppConfig(), profile=None, base_url=None,
                             env={"CONVERSIONS_BASE_URL": "https://env.example"})
    assert (chosen.name, chosen.base_url) == ("default", "https://env.example")
    chosen = resolve_profile(AppConfig(), profile=None, base_url="http://127.0.0.1:1", env={})
    assert chosen.name == "default"


def test_unconfigured_named_profile_with_url(tmp_path: Path) -> None:
    chosen = resolve_profile(config_from(tmp_path), profile="staging",
                             base_url="https://staging.example", env={})
    assert (chosen.name, chosen.read_only) == ("staging", False)


def test_nothing_configured_explains_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    with pytest.raises(ProfileNotConfigured) as caught:
        resolve_profile(load_config(path), profile=None, base_url=None, env={})
    message = str(caught.value)
    assert str(path) in message
    assert "CONVERSIONS_BASE_URL" in message and "--base-url" in message
    assert "[profiles.default]" in message and "base_url = " in message


def test_unknown_profile_names_the_configured_ones(tmp_path: Path) -> None:
    with pytest.raises(ProfileNotConfigured, match="local, prod"):
        resolve_profile(config_from(tmp_path), profile="staging", base_url=None, env={})


def test_bad_env_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"CONVERSIONS_BASE_URL.*clear text"):
        resolve_profile(AppConfig(), profile=None, base_url=None,
                        env={"CONVERSIONS_BASE_URL": "http://api.example.com"})


# --- writing ----------------------------------------------------------------------------

def test_save_round_trips(tmp_path: Path) -> None:
    config = config_from(tmp_path)
    config.profiles["odd name"] = ProfileSettings(
        name="odd name", base_url="https://odd.example", theme='q"uote\\\n', timeout=2.5)
    target = tmp_path / "sub" / "saved.toml"
    save_config(target, config)
    again = load_config(target)
    assert again.default_profile == config.default_profile
    assert again.theme == config.theme
    assert again.keymap == config.keymap
    assert again.profiles == config.profiles
    assert again.warnings == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_save_is_private_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "cfg" / "config.toml"
    target.parent.mkdir()
    target.write_text("old")
    os.chmod(target, 0o644)
    save_config(target, config_from(tmp_path))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["config.toml"]


def test_failed_save_keeps_the_old_file(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    target = write(tmp_path / "cfg", EXAMPLE)
    config = load_config(target)
    config.keymap["bad"] = object()  # type: ignore[assignment]
    with pytest.raises(TypeError):
        save_config(target, config)
    assert target.read_text() == EXAMPLE
    assert [p.name for p in target.parent.iterdir()] == ["config.toml"]


def test_interrupted_save_removes_its_temp_file(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cfg").mkdir()
    target = write(tmp_path / "cfg", EXAMPLE)
    config = load_config(target)
    config.theme = "light"

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        save_config(target, config)
    assert target.read_text() == EXAMPLE
    assert [p.name for p in target.parent.iterdir()] == ["config.toml"]


def test_writer_escapes_control_characters() -> None:
    text = dumps_toml({"k": "a\x00b\x1b[31m\x7f\t\"\\é😀"})
    assert "\x1b" not in text and "\x00" not in text
    assert tomllib.loads(text) == {"k": "a\x00b\x1b[31m\x7f\t\"\\é😀"}


def test_writer_floats_stay_floats() -> None:
    data = {"a": 1.0, "b": 1e300, "c": -0.0, "d": math.inf, "e": 5}
    back = tomllib.loads(dumps_toml(data))
    assert back == data
    assert isinstance(back["a"], float) and isinstance(back["e"], int)
    assert math.isnan(tomllib.loads(dumps_toml({"n": math.nan}))["n"])


def test_writer_refuses_what_toml_cannot_hold() -> None:
    with pytest.raises(ValueError):
        dumps_toml({"a": 2**64})
    with pytest.raises(ValueError):
        dumps_toml({"a": "\ud800"})


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
_scalar = (st.booleans() | st.integers(-(2**63), 2**63 - 1)
           | st.floats(allow_nan=False) | _text)
_table: st.SearchStrategy[dict[str, Any]] = st.recursive(
    st.dictionaries(_text, _scalar | st.lists(_scalar, max_size=3), max_size=4),
    lambda inner: st.dictionaries(_text, inner | _scalar, max_size=4),
    max_leaves=20,
)


@given(_table)
def test_writer_round_trips_through_tomllib(data: dict[str, Any]) -> None:
    assert tomllib.loads(dumps_toml(data)) == data


def test_allow_insecure_http_flag_admits_a_remote_http_url() -> None:
    from tui.core.settings import AppConfig, ConfigError, resolve_profile

    with pytest.raises(ConfigError):
        resolve_profile(AppConfig(), profile=None, base_url="http://10.1.2.3:8080", env={})
    profile = resolve_profile(AppConfig(), profile=None, base_url="http://10.1.2.3:8080",
                              env={}, allow_insecure_http=True)
    assert profile.base_url == "http://10.1.2.3:8080" and profile.allow_insecure_http


def test_a_profile_names_its_team_store(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[profiles.prod]\nbase_url = "https://api.example.com"\n'
                               'store = "postgresql://dana@db.example.com:5432/team"\n'))
    assert config.warnings == []
    assert config.profiles["prod"].store == "postgresql://dana@db.example.com:5432/team"
    assert tomllib.loads(dumps_toml(config_to_dict(config)))["profiles"]["prod"]["store"] == (
        "postgresql://dana@db.example.com:5432/team")
    assert load_config(write(tmp_path, '[profiles.prod]\nbase_url = "https://a.example"\n')
                       ).profiles["prod"].store is None


@pytest.mark.parametrize(("store", "said"), [
    ("postgresql://dana:Canary-4471@db.example.com/team", "holds a password"),
    ("mysql://dana@db.example.com/team", "not a PostgreSQL address"),
])
def test_a_bad_store_is_refused_without_quoting_it(tmp_path: Path, store: str, said: str) -> None:
    path = write(tmp_path, f'[profiles.prod]\nbase_url = "https://a.example"\nstore = "{store}"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert said in str(caught.value) and "[profiles.prod]" in str(caught.value)
    assert "Canary" not in str(caught.value) and "mysql" not in str(caught.value)
