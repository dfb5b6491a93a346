"""How long a conversion has been in its status, from the best fact known, and whether
that makes it stuck.

A row's time in status can start at one of three facts, best first:

* ``SEEN``: the app saw the row change into its status (``entered_seen``): exact, to
  within a poll interval.
* ``UPLOAD``: the row was already in flight (Uploaded, Queued or Processing) at its first
  check and has not been seen to leave flight since: it has been in flight since its
  ``uploadDate`` at the most. For "is it stuck?" that is the fact that matters: a
  conversion uploaded at 03:00 and still Processing at 10:00 has hung for hours, however
  late the app first looked.
* ``FIRST_CHECK``: neither is known (a settled row found so at its first check, no upload
  time, or one that reads as later than the first check because the server's clock is
  ahead): the time counts from the first check, a minimum.

The stuck thresholds are per status (``stuck_after = { Queued = "15m", Processing =
"30m" }`` in a profile); :class:`StuckAfter` holds them and reads them from the config.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from tui.core.statuses import is_settled

__all__ = [
    "DEFAULT_STUCK_AFTER",
    "IN_FLIGHT_STATUSES",
    "StatusStart",
    "StuckAfter",
    "TimeInStatus",
    "is_stuck",
    "parse_duration",
    "parse_instant",
    "time_in_status",
]

DEFAULT_STUCK_AFTER = 1800.0
"""Seconds in one in-flight status after which a conversion counts as stuck."""

IN_FLIGHT_STATUSES = ("Uploaded", "Queued", "Processing")
"""The statuses a conversion passes through on its way to settling (from its upload)."""
_IN_FLIGHT = {word.casefold(): word for word in IN_FLIGHT_STATUSES}


def _in_flight(status: str | None) -> str | None:
    """The canonical in-flight word for ``status``, None for any other status."""
    return None if status is None else _IN_FLIGHT.get(status.strip().casefold())


class StatusStart(enum.Enum):
    """Which fact a time in status counts from (see the module docstring)."""

    SEEN = "seen"
    UPLOAD = "upload"
    FIRST_CHECK = "first_check"


class _Row(Protocol):
    """What the reckoning needs of a watched conversion."""

    @property
    def status(self) -> str | None: ...
    @property
    def upload_date(self) -> str | None: ...
    @property
    def first_seen(self) -> float: ...
    @property
    def last_changed(self) -> float | None: ...
    @property
    def entered_seen(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class TimeInStatus:
    """Since when (unix seconds) a row is in its status, and from which fact."""

    since: float
    start: StatusStart

    def seconds(self, now: float) -> float:
        """Seconds in the status at ``now`` (never negative)."""
        return max(0.0, now - self.since)

    @property
    def is_minimum(self) -> bool:
        """The status began before ``since``: the time is at least this much."""
        return self.start is StatusStart.FIRST_CHECK

    @property
    def is_maximum(self) -> bool:
        """The status began at ``since`` or after: the time is at most this much."""
        return self.start is StatusStart.UPLOAD


def parse_instant(value: str | None) -> float | None:
    """An ISO 8601 time from the server as unix seconds (UTC when it names no zone);
    None when it is missing or not a time."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # what the API sends
    seconds = parsed.timestamp()
    return seconds if math.isfinite(seconds) else None


class _Unread(enum.Enum):
    """The caller gave no upload time: read it from the row."""

    UNREAD = "unread"


def time_in_status(row: _Row, uploaded: float | _Unread | None = _Unread.UNREAD,
                   ) -> TimeInStatus | None:
    """Since when ``row`` is in its status (None while it has no status yet).

    ``uploaded``: the row's ``upload_date`` already read with :func:`parse_instant` (the
    table keeps it per row); without it, the text is read here when it is needed.
    """
    if row.status is None:
        return None
    first_check = row.last_changed if row.last_changed is not None else row.first_seen
    if row.entered_seen:
        return TimeInStatus(first_check, StatusStart.SEEN)
    if _in_flight(row.status) is not None:
        if uploaded is _Unread.UNREAD:
            uploaded = parse_instant(row.upload_date)
        # An upload after the first answer came is the server's clock running ahead:
        # then nothing better than the first check is known.
        if uploaded is not None and uploaded <= first_check:
            return TimeInStatus(uploaded, StatusStart.UPLOAD)
    return TimeInStatus(first_check, StatusStart.FIRST_CHECK)


# -- thresholds ------------------------------------------------------------------------

_PART = r"(\d+(?:\.\d+)?)\s*(min|d|h|m|s)"
_DURATION = re.compile(rf"\s*(?:{_PART}\s*)+", re.IGNORECASE)
_PARTS = re.compile(_PART, re.IGNORECASE)
_UNIT = {"d": 86_400.0, "h": 3600.0, "m": 60.0, "min": 60.0, "s": 1.0}
_DURATION_HINT = 'write it as "90s", "15m", "2h" or "1h30m"'


def parse_duration(value: object) -> float:
    """Seconds from a config value: a number of seconds, or text such as "15m", "2h",
    "1h30m", "90s". Raises ValueError with one sentence a person can act on."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not a duration; {_DURATION_HINT}")
    if isinstance(value, str):
        if not _DURATION.fullmatch(value):
            raise ValueError(f"{value!r} is not a duration; {_DURATION_HINT}")
        seconds = sum(float(number) * _UNIT[unit.lower()]
                      for number, unit in _PARTS.findall(value))
    else:
        seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{value!r} is not a duration above zero; {_DURATION_HINT}")
    return seconds


class StuckAfter:
    """Seconds in an in-flight status after which a row is stuck, per status.

    Immutable; a plain class, not a dataclass, so that a profile keeps it whole (pydantic
    would dump a dataclass to a dict of its fields, which is not the config's shape)."""

    __slots__ = ("by_status", "default")

    def __init__(self, default: float = DEFAULT_STUCK_AFTER,
                 by_status: Mapping[str, float] | None = None) -> None:
        self.default = float(default)
        self.by_status: Mapping[str, float] = dict(by_status or {})  # by in-flight word

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StuckAfter):
            return NotImplemented
        return self.default == other.default and self.by_status == other.by_status

    def __hash__(self) -> int:
        return hash((self.default, tuple(sorted(self.by_status.items()))))

    def __repr__(self) -> str:
        return f"StuckAfter({self.default!r}, {dict(self.by_status)!r})"

    def threshold(self, status: str | None) -> float:
        """The limit for ``status`` (the default when the config names none for it)."""
        word = _in_flight(status)
        return self.default if word is None else self.by_status.get(word, self.default)

    def describe(self) -> str:
        """"Queued 15 min, Processing 30 min, others 30 min" (for Help and the logs)."""
        parts = [f"{word} {_minutes(self.by_status[word])}" for word in IN_FLIGHT_STATUSES
                 if word in self.by_status]
        parts.append(("others " if parts else "") + _minutes(self.default))
        return ", ".join(parts)

    def to_config(self) -> float | dict[str, float]:
        """As a profile's ``stuck_after`` is written (seconds): what :meth:`from_config`
        reads back to an equal value."""
        if not self.by_status:
            return self.default
        return {"default": self.default, **self.by_status}

    @classmethod
    def from_config(cls, value: object) -> StuckAfter:
        """From a profile's ``stuck_after``: seconds, a duration ("30m") for every status,
        or a table of them per in-flight status (``{ Queued = "15m", Processing = "30m"
        }``, with ``default`` for the rest). Raises ValueError naming what is wrong."""
        if isinstance(value, StuckAfter):
            return value
        if not isinstance(value, Mapping):
            return cls(parse_duration(value))
        default = DEFAULT_STUCK_AFTER
        by_status: dict[str, float] = {}
        for key, item in value.items():
            if str(key).strip().casefold() == "default":
                default = parse_duration(item)
                continue
            word = _in_flight(str(key))
            if word is None:
                known = ", ".join(IN_FLIGHT_STATUSES)
                raise ValueError(f"{str(key)!r} is not an in-flight status; use {known} "
                                 "or default")
            try:
                by_status[word] = parse_duration(item)
            except ValueError as error:
                raise ValueError(f"{word}: {error}") from None
        return cls(default, by_status)


def _minutes(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def is_stuck(row: _Row, now: float, stuck_after: StuckAfter | float) -> bool:
    """Whether ``row``, in a status that is not settled, has been in it longer than its
    threshold (the caller rules out rows deleted or unknown to the server)."""
    if row.status is None or is_settled(row.status):
        return False
    reckoned = time_in_status(row)
    if reckoned is None:
        return False
    rule = stuck_after if isinstance(stuck_after, StuckAfter) else StuckAfter(
        float(stuck_after))
    return reckoned.seconds(now) > rule.threshold(row.status)
