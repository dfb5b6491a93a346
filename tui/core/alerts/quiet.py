"""Quiet hours: a daily range of local time in which alerts make no sound and no
desktop notification (the toast still shows)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

__all__ = ["QuietHours"]

_RANGE = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")
_HINT = 'write it as "22:00-07:00" (24-hour local time, start-end)'


def _minute(hours: str, minutes: str, text: str) -> int:
    hour, minute = int(hours), int(minutes)
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} has a time that does not exist ({hours}:{minutes}); {_HINT}")
    return hour * 60 + minute


@dataclass(frozen=True, slots=True)
class QuietHours:
    """From ``start`` (included) to ``end`` (excluded), minutes after local midnight; a
    range whose end is earlier than its start crosses midnight ("22:00-07:00")."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: object) -> QuietHours:
        """From "HH:MM-HH:MM". Raises ValueError with one sentence a person can act on."""
        if not isinstance(text, str):
            raise ValueError(f"{text!r} is not a time range; {_HINT}")
        match = _RANGE.fullmatch(text)
        if match is None:
            raise ValueError(f"{text!r} is not a time range; {_HINT}")
        start = _minute(match.group(1), match.group(2), text)
        end = _minute(match.group(3), match.group(4), text)
        if start == end:
            raise ValueError(f"{text!r} starts and ends at the same time; {_HINT}")
        return cls(start, end)

    def contains(self, moment: datetime | time) -> bool:
        """Whether the local time ``moment`` falls in the quiet hours."""
        minute = moment.hour * 60 + moment.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end  # crosses midnight

    def to_config(self) -> str:
        """As written in the config ("22:00-07:00")."""
        return "-".join(f"{m // 60:02d}:{m % 60:02d}" for m in (self.start, self.end))
