"""A profile's alert settings: the ``[profiles.NAME.alerts]`` table of the config::

    [profiles.prod.alerts]
    enabled = true      # false: no alerts for this profile
    rules = ["failed", "stuck", "delete_stalled", "server_failing", "key_refused"]
    bell = true
    osc9 = true
    osc777 = true
    osc99 = true
    quiet_hours = "22:00-07:00"
    hook = "/usr/local/bin/notify-chat --channel ops"
    hook_timeout = "10s"
    delete_stalled_after = "10m"

Every key is optional. A bad value is not worth refusing to start over: it gives one
warning sentence naming the file and the line, and that key keeps its default.
``--no-alerts`` switches every alert off with :meth:`AlertSettings.switched_off`.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, time
from typing import Any

from tui.core.alerts.events import AlertKind
from tui.core.alerts.quiet import QuietHours
from tui.core.timeinstatus import parse_duration

__all__ = ["AlertSettings", "ChannelSwitches", "parse_alert_settings"]

DEFAULT_HOOK_TIMEOUT = 10.0
DEFAULT_DELETE_STALLED_AFTER = 600.0
_CHANNELS = ("bell", "osc9", "osc777", "osc99")
_KNOWN_KEYS = ("enabled", "rules", *_CHANNELS, "quiet_hours", "hook", "hook_timeout",
               "delete_stalled_after")
_RULE_NAMES = ", ".join(kind.value for kind in AlertKind)


class ChannelSwitches:
    """Which terminal channels may sound right now (quiet hours switch them all off)."""

    __slots__ = _CHANNELS

    def __init__(self, bell: bool = True, osc9: bool = True, osc777: bool = True,
                 osc99: bool = True) -> None:
        self.bell, self.osc9, self.osc777, self.osc99 = bell, osc9, osc777, osc99

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChannelSwitches):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _CHANNELS)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in _CHANNELS))

    def __repr__(self) -> str:
        on = [name for name in _CHANNELS if getattr(self, name)]
        return f"ChannelSwitches({', '.join(on) or 'none'})"

    @property
    def any(self) -> bool:
        """Whether any channel is on."""
        return any(getattr(self, name) for name in _CHANNELS)


class AlertSettings:
    """One profile's alert settings (immutable).

    A plain class, not a dataclass, so that a pydantic profile keeps it whole (as it does
    :class:`tui.core.timeinstatus.StuckAfter`)."""

    __slots__ = ("channels", "delete_stalled_after", "enabled", "hook", "hook_timeout",
                 "quiet_hours", "rules")

    def __init__(self, *, enabled: bool = True, rules: Iterable[AlertKind] = tuple(AlertKind),
                 channels: ChannelSwitches | None = None, quiet_hours: QuietHours | None = None,
                 hook: tuple[str, ...] | None = None,
                 hook_timeout: float = DEFAULT_HOOK_TIMEOUT,
                 delete_stalled_after: float = DEFAULT_DELETE_STALLED_AFTER) -> None:
        self.enabled = enabled
        self.rules = frozenset(rules)
        self.channels = channels or ChannelSwitches()
        self.quiet_hours = quiet_hours
        self.hook = hook  # the command and its arguments (no shell)
        self.hook_timeout = float(hook_timeout)
        self.delete_stalled_after = float(delete_stalled_after)

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AlertSettings):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return "AlertSettings(" + ", ".join(f"{name}={getattr(self, name)!r}"
                                            for name in self.__slots__) + ")"

    def switched_off(self) -> AlertSettings:
        """The same settings with every alert off (``--no-alerts``: the CLI sets it on the
        running profile, ``profile.model_copy(update={"alerts": ...switched_off()})``)."""
        copy = AlertSettings(**{name: getattr(self, name) for name in self.__slots__})
        copy.enabled = False
        return copy

    def wants(self, kind: AlertKind) -> bool:
        """Whether alerts of ``kind`` are on."""
        return self.enabled and kind in self.rules

    def channels_at(self, local: datetime | time) -> ChannelSwitches:
        """The terminal channels to use at the local time ``local`` (a datetime): none in
        quiet hours or with alerts off. The toast and the hook are not channels: the toast
        always shows, and the hook decides for itself what to do at night."""
        if not self.enabled or (self.quiet_hours is not None
                                and self.quiet_hours.contains(local)):
            return ChannelSwitches(False, False, False, False)
        return self.channels

    def to_config(self) -> dict[str, Any]:
        """The table as :func:`parse_alert_settings` reads it back (only what differs from
        the defaults). The CLI applies ``--no-alerts`` to the running profile, not to the
        config, so it is never saved; ``enabled = false`` written in the file is."""
        default = AlertSettings()
        table: dict[str, Any] = {} if self.enabled else {"enabled": False}
        if self.rules != default.rules:
            table["rules"] = [kind.value for kind in AlertKind if kind in self.rules]
        for name in _CHANNELS:
            if not getattr(self.channels, name):
                table[name] = False
        if self.quiet_hours is not None:
            table["quiet_hours"] = self.quiet_hours.to_config()
        if self.hook is not None:
            table["hook"] = shlex.join(self.hook)
        if self.hook_timeout != default.hook_timeout:
            table["hook_timeout"] = self.hook_timeout
        if self.delete_stalled_after != default.delete_stalled_after:
            table["delete_stalled_after"] = self.delete_stalled_after
        return table


# -- reading the config ------------------------------------------------------------------

def _rules(value: object) -> frozenset[AlertKind]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"should be a list of rule names such as [\"failed\", \"stuck\"] "
                         f"(got {value!r}); the rules are {_RULE_NAMES}")
    kinds = set()
    for item in value:
        try:
            kinds.add(AlertKind(item.strip().lower()))
        except ValueError:
            raise ValueError(f"{item!r} is not a rule; the rules are {_RULE_NAMES}") from None
    return frozenset(kinds)


def _switch(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"should be true or false (got {value!r})")
    return value


def _hook(value: object) -> tuple[str, ...]:
    if isinstance(value, list) and value and all(isinstance(part, str) for part in value):
        parts = list(value)
    elif isinstance(value, str):
        try:
            parts = shlex.split(value)
        except ValueError as error:  # an unbalanced quote
            raise ValueError(f"{value!r} is not a command line ({error})") from None
    else:
        raise ValueError(f"should be a command, e.g. \"/usr/local/bin/notify-chat\" "
                         f"(got {value!r})")
    if not parts or not parts[0].strip() or any("\x00" in part for part in parts):
        raise ValueError(f"{value!r} is not a command")
    return tuple(parts)


_READERS: dict[str, Callable[[object], Any]] = {
    "enabled": _switch,
    "rules": _rules,
    **dict.fromkeys(_CHANNELS, _switch),
    "quiet_hours": QuietHours.parse,
    "hook": _hook,
    "hook_timeout": parse_duration,
    "delete_stalled_after": parse_duration,
}
_DEFAULT_TEXT = {
    "rules": "all rules are used", "quiet_hours": "no quiet hours are used",
    "hook": "no hook is run", "hook_timeout": f"{DEFAULT_HOOK_TIMEOUT:g} s is used",
    "delete_stalled_after": f"{DEFAULT_DELETE_STALLED_AFTER / 60:g} min is used",
}


def parse_alert_settings(value: object, *, file: str, table: str, warnings: list[str],
                         line_of: Callable[[str], int | None] = lambda key: None
                         ) -> AlertSettings:
    """Read a profile's ``alerts`` table. Never raises: each bad or unknown key adds one
    sentence to ``warnings`` naming ``file`` and the line (``line_of(key)`` finds it; the
    ``table`` name when it cannot) and keeps its default."""
    where = f"{file}: [{table}]"
    if not isinstance(value, Mapping):
        warnings.append(f"{where}: alerts should be a table such as [profiles.NAME.alerts] "
                        f"(got {value!r}); the default alerts are used")
        return AlertSettings()
    read: dict[str, Any] = {}
    for key, item in value.items():
        line = line_of(str(key))
        place = f"{file}: line {line}: " if line else f"{where}: "
        if key not in _READERS:
            warnings.append(f"{place}unknown alerts key {str(key)!r} ignored "
                            f"(known: {', '.join(_KNOWN_KEYS)})")
            continue
        try:
            read[key] = _READERS[key](item)
        except ValueError as error:
            default = _DEFAULT_TEXT.get(key, "it stays on")
            warnings.append(f"{place}alerts {key}: {error}; {default}")
    channels = ChannelSwitches(**{name: read.pop(name) for name in _CHANNELS if name in read})
    return AlertSettings(channels=channels, **read)
