"""Profiles and app settings: the TOML config file, its checks, and which profile runs.

The file lives at :attr:`tui.core.paths.AppPaths.config_file`::

    default_profile = "prod"
    theme = "dark"

    [profiles.prod]
    base_url = "https://api.example.com"
    poll_interval = 5
    read_only = true

    [keymap]
    "monitor.delete" = "ctrl+d"

A broken file never gives a traceback: :func:`load_config` raises
:class:`ConfigError` naming the file, the line (when tomllib knows it) and the
problem. Unknown keys are not fatal; they are collected in
:attr:`AppConfig.warnings` for the UI to show. The API key is never part of
the config (see :mod:`tui.core.credentials`).
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tui.core.alerts.settings import AlertSettings, parse_alert_settings
from tui.core.timeinstatus import StuckAfter
from tui.core.toml_writer import dumps_toml, toml_key
from tui.core.untrusted import is_clean

__all__ = [
    "AppConfig",
    "ConfigError",
    "ProfileNotConfigured",
    "ProfileSettings",
    "check_base_url",
    "dumps_toml",
    "load_config",
    "person_problem",
    "resolve_profile",
]

DEFAULT_PROFILE_NAME = "default"
ENV_PROFILE = "CONVERSIONS_PROFILE"
ENV_BASE_URL = "CONVERSIONS_BASE_URL"


class ConfigError(Exception):
    """The configuration cannot be used; ``str(error)`` is a message fit to show as it is."""

    def __init__(self, message: str, *, path: Path | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line


class ProfileNotConfigured(ConfigError):
    """No profile (or no base URL) was given; the message says how to configure one."""


class ProfileSettings(BaseModel):
    """One environment to talk to: its URL and how to poll it."""

    # Strict: a TOML `read_only = "yes"` is a mistake worth reporting, not guessing at.
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False,
                              arbitrary_types_allowed=True)

    name: str = Field(min_length=1)
    base_url: str
    poll_interval: float = Field(5.0, gt=0)
    settled_interval: float = Field(600.0, gt=0)
    read_only: bool = False
    concurrency: int = Field(8, ge=1, le=256)
    request_budget: float = Field(20.0, gt=0)
    # Seconds, "30m", or per in-flight status: { Queued = "15m", Processing = "30m" }.
    stuck_after: StuckAfter = Field(default_factory=StuckAfter)
    timeout: float = Field(10.0, gt=0)
    # A whole request, connect to last byte (a trickling server); None: 3 x timeout.
    deadline: float | None = Field(None, gt=0)
    # The largest batch answer read (a status answer is capped at 16 MiB).
    max_batch_answer_mib: int = Field(64, ge=1, le=4096)
    ca_bundle: str | None = None
    allow_insecure_http: bool = False
    theme: str | None = None
    # [profiles.NAME.alerts]: read by tui.core.alerts.settings (bad keys warn, never refuse).
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    # The team's PostgreSQL store (postgresql://user@host:5432/db, never a password; see
    # tui.core.teamstore.address); None: this person's own SQLite watchlist.
    store: str | None = None
    # Who this person is in a team store (notes, acknowledgements, deletes, uploads are
    # signed with it): an e-mail or a name; None: the OS user (CONVERSIONS_PERSON wins).
    person: str | None = None

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle_exists(cls, value: str | None) -> str | None:
        # OpenSSL neither expands "~" nor names a missing file clearly: check here.
        if value is None:
            return None
        path = Path(value).expanduser()
        if not path.is_file():
            raise ValueError(f"ca_bundle {str(path)!r} is not a readable file")
        return str(path)

    @field_validator("store")
    @classmethod
    def _store_has_no_password(cls, value: str | None) -> str | None:
        # The full check (and the reading of the address) is the team store's; this one
        # only refuses early what must never sit in a config file. The message never
        # quotes the value: it may hold a password.
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("store is not a PostgreSQL address: write it as "
                             "postgresql://user@host:5432/dbname")
        authority = value.partition("://")[2].partition("/")[0]
        if ":" in authority.rpartition("@")[0]:
            raise ValueError("store holds a password, which must not be in the config file: "
                             "remove it and set PGPASSWORD, add it to ~/.pgpass, or store it "
                             "in the keyring (service conversions-tui-store)")
        return value

    @field_validator("stuck_after", mode="before")
    @classmethod
    def _read_stuck_after(cls, value: object) -> StuckAfter:
        return StuckAfter.from_config(value)

    @field_validator("base_url")
    @classmethod
    def _tidy_base_url(cls, value: str) -> str:
        # The client appends "/v1/..." itself, so a trailing slash would double up.
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _base_url_is_usable(self) -> ProfileSettings:
        try:
            check_base_url(self.base_url, self.allow_insecure_http)
        except ConfigError as error:
            raise ValueError(error.message) from None
        return self


PROFILE_KEYS = frozenset(ProfileSettings.model_fields) - {"name"}


@dataclass
class AppConfig:
    """The whole config file, parsed. ``warnings`` lists harmless problems (unknown keys)."""

    default_profile: str | None = None
    theme: str | None = None
    profiles: dict[str, ProfileSettings] = field(default_factory=dict)
    keymap: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    path: Path | None = None


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _redacted(url: str) -> str:
    """``url`` with anything before an ``@`` in its authority hidden."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "…@" + authority.rsplit("@", 1)[1]
    return f"{scheme}://{authority}{slash}{path}"


def check_base_url(url: str, allow_insecure_http: bool) -> None:
    """Refuse a base URL we cannot or should not use.

    It must be ``http(s)://host[:port][/path]``, carry no user name or password
    (it is shown on screen), and plain ``http://`` is only allowed to a loopback
    host unless ``allow_insecure_http`` says otherwise: the key would travel in
    clear text.
    """
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise ConfigError(f"base URL {_redacted(url)!r} is not a valid URL ({error})") from None
    # First, so that no message below quotes a password.
    if parts.username is not None or parts.password is not None:
        raise ConfigError("base URL must not contain a user name or password")
    url = _redacted(url)
    try:
        port = parts.port  # raises ValueError on a non-numeric port
    except ValueError as error:
        raise ConfigError(f"base URL {url!r} is not a valid URL ({error})") from None
    del port
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"base URL {url!r} must look like https://host[:port][/path]"
        )
    if any(ch.isspace() for ch in url):
        raise ConfigError(f"base URL {url!r} must not contain spaces")
    if parts.query or parts.fragment:
        raise ConfigError(f"base URL {url!r} must not have a query or fragment")
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"base URL {url!r} uses plain http:// to a non-loopback host, which would send "
            "the API key in clear text; use https:// or set allow_insecure_http = true "
            "in the profile"
        )


def _readable(error: ValidationError, where: str) -> str:
    """One line per problem, in words a support person can act on."""
    lines = []
    for item in error.errors(include_url=False):
        loc = ".".join(str(part) for part in item["loc"])
        msg: str = item["msg"]
        if item["type"] == "missing":
            text = f"{loc} is required"
        elif msg.startswith("Input should"):
            text = f"{loc} should{msg[len('Input should'):]} (got {item['input']!r})"
        elif msg.startswith("Value error, "):
            text = msg[len("Value error, "):]
        else:
            text = f"{loc}: {msg}" if loc else msg
        lines.append(f"{where}: {text}")
    return "; ".join(lines)


def _line_of(text: str, table: str, key: str) -> int | None:
    """The line of ``key = ...`` inside the TOML table ``[table]`` (1-based), if found."""
    current = None
    assignment = re.compile(rf"\s*\"?{re.escape(key)}\"?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"\s*\[([^\[\]]+)\]\s*(#.*)?$", line)
        if header:
            current = ".".join(part.strip().strip('"') for part in header.group(1).split("."))
        elif current == table and assignment.match(line):
            return number
    return None


PERSON_MAX = 80
"""The longest ``person`` a profile may name (it is shown in headers and audit lines)."""


def person_problem(value: object) -> str | None:
    """Why ``value`` cannot name a person (``person = "dana@example.com"``), or None."""
    if not isinstance(value, str):
        return f"should be a string such as \"dana@example.com\" (got {type(value).__name__})"
    text = value.strip()
    if not text:
        return "is empty"
    if len(text) > PERSON_MAX:
        return f"is longer than {PERSON_MAX} characters"
    if not is_clean(text) or any(char.isspace() and char != " " for char in text):
        return "holds control characters"
    return None


def _parse_profile(name: str, table: Any, path: Path | None, warnings: list[str],
                   text: str = "") -> ProfileSettings:
    where = f"{path or 'config'}: [profiles.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table", path=path)
    known = {key: value for key, value in table.items() if key in PROFILE_KEYS}
    warnings.extend(
        f"{where}: unknown key {key!r} ignored" for key in table if key not in PROFILE_KEYS
    )
    if "stuck_after" in known:
        # A bad threshold is not worth refusing to start over: say so, use the default.
        try:
            known["stuck_after"] = StuckAfter.from_config(known["stuck_after"])
        except ValueError as error:
            line = _line_of(text, f"profiles.{name}", "stuck_after")
            place = f"{path or 'config'}: line {line}: " if line else f"{where}: "
            default = StuckAfter()
            warnings.append(f"{place}stuck_after: {error}; the default ({default.describe()})"
                            " is used")
            known["stuck_after"] = default
    if "person" in known:
        # A bad name is not worth refusing to start over: say so, sign with the OS user.
        problem = person_problem(known["person"])
        if problem:
            line = _line_of(text, f"profiles.{name}", "person")
            place = f"{path or 'config'}: line {line}: " if line else f"{where}: "
            warnings.append(f"{place}person: {problem}; the OS user is used")
            del known["person"]
        else:
            known["person"] = known["person"].strip()
    if "alerts" in known:
        known["alerts"] = parse_alert_settings(
            known["alerts"], file=str(path or "config"), table=f"profiles.{name}.alerts",
            warnings=warnings, line_of=lambda key: _line_of(text, f"profiles.{name}.alerts", key)
            or _line_of(text, f"profiles.{name}", "alerts"))
    try:
        return ProfileSettings(name=name, **known)
    except ValidationError as error:
        raise ConfigError(_readable(error, where), path=path) from None


_LINE_IN_MESSAGE = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_config(text: str, path: Path | None = None) -> AppConfig:
    """Parse config text (``path`` only names the file in messages)."""
    name = str(path) if path else "config"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = _LINE_IN_MESSAGE.search(message)
        line = int(match.group(1)) if match else None
        problem = _LINE_IN_MESSAGE.sub("", message).strip()
        place = f"line {match.group(1)}, column {match.group(2)}: " if match else ""
        raise ConfigError(f"{name}: {place}{problem} (not valid TOML)", path=path,
                          line=line) from None
    config = AppConfig(path=path)
    for key, value in data.items():
        if key in ("default_profile", "theme"):
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{name}: {key} should be a non-empty string (got {value!r})",
                                  path=path)
            setattr(config, key, value)
        elif key == "profiles":
            if not isinstance(value, dict):
                raise ConfigError(f"{name}: profiles should be tables such as [profiles.prod]",
                                  path=path)
            for profile, table in value.items():
                config.profiles[profile] = _parse_profile(profile, table, path, config.warnings,
                                                          text)
        elif key == "keymap":
            if not isinstance(value, dict) or not all(
                isinstance(keys, str) for keys in value.values()
            ):
                raise ConfigError(f'{name}: [keymap] entries should be strings, e.g. '
                                  f'"monitor.delete" = "ctrl+d"', path=path)
            config.keymap = dict(value)
        else:
            config.warnings.append(f"{name}: unknown key {key!r} ignored")
    if config.default_profile and config.default_profile not in config.profiles:
        config.warnings.append(
            f"{name}: default_profile {config.default_profile!r} has no "
            f"[profiles.{config.default_profile}] table"
        )
    return config


def load_config(path: Path) -> AppConfig:
    """Read the config file; a missing file is an empty config, a broken one a ConfigError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return AppConfig(path=path)
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror or error})",
                          path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line}: not UTF-8 text", path=path, line=line) from None
    return parse_config(text, path)


def resolve_profile(config: AppConfig, *, profile: str | None, base_url: str | None,
                    env: Mapping[str, str], allow_insecure_http: bool = False
                    ) -> ProfileSettings:
    """Pick the profile to run: flag, then environment, then the config's default.

    ``base_url`` (the flag) or ``CONVERSIONS_BASE_URL`` overrides the profile's
    URL; with no config at all they run on a profile named ``"default"``.
    """
    url, url_source = (base_url, "--base-url") if base_url else (
        env.get(ENV_BASE_URL) or None, ENV_BASE_URL)
    name = profile or env.get(ENV_PROFILE) or config.default_profile
    if not name and len(config.profiles) == 1:
        name = next(iter(config.profiles))
    name = name or DEFAULT_PROFILE_NAME
    where = config.path or "the config file"
    try:
        if name in config.profiles:
            chosen = config.profiles[name]
            if url is None and not allow_insecure_http:
                return chosen
            values = chosen.model_dump(exclude={"base_url", "allow_insecure_http"})
            return ProfileSettings(**values, base_url=url or chosen.base_url,
                                   allow_insecure_http=allow_insecure_http
                                   or chosen.allow_insecure_http)
        if url is not None:
            return ProfileSettings(name=name, base_url=url,
                                   allow_insecure_http=allow_insecure_http)
    except ValidationError as error:
        raise ConfigError(_readable(error, f"base URL from {url_source}")) from None
    configured = ", ".join(sorted(config.profiles)) or "none"
    raise ProfileNotConfigured(
        f"No base URL for profile {name!r} (profiles in {where}: {configured}). "
        f"Pass --base-url, set {ENV_BASE_URL}, or add it to {where}, for example:\n\n"
        f'default_profile = "{name}"\n\n[profiles.{toml_key(name)}]\n'
        f'base_url = "https://api.example.com"\n',
        path=config.path,
    )
