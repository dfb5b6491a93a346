"""What an alert is: its kind, the event a rule saw, and the alert a person is shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = ["Alert", "AlertEvent", "AlertKind"]


class AlertKind(StrEnum):
    """The rules an alert can come from (their values are the config's rule names)."""

    FAILED = "failed"  # a row's status became Failed
    STUCK = "stuck"  # a row stayed in an in-flight status past its threshold
    DELETE_STALLED = "delete_stalled"  # a delete was asked for and has not finished
    SERVER_FAILING = "server_failing"  # most checks fail, or no answer at all
    KEY_REFUSED = "key_refused"  # the server refuses the API key itself


_TITLES = {
    AlertKind.FAILED: ("Conversion failed", "Conversions failed"),
    AlertKind.STUCK: ("Conversion stuck", "Conversions stuck"),
    AlertKind.DELETE_STALLED: ("Delete not finished", "Deletes not finished"),
    AlertKind.SERVER_FAILING: ("Server failing", "Server failing"),
    AlertKind.KEY_REFUSED: ("API key refused", "API key refused"),
}


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One thing a rule saw: about one conversion (``conversion_id``) or the server (None).

    ``text`` is one sentence, already safe to show (server text passed through
    :func:`tui.core.untrusted.printable`); ``at`` is unix seconds."""

    kind: AlertKind
    conversion_id: int | None
    text: str
    at: float


@dataclass(frozen=True, slots=True)
class Alert:
    """What a person is shown: one event, or several of one kind merged.

    ``count`` is how many events (distinct conversions, for row kinds) it stands for;
    ``ids`` the conversions it is about, in the order seen."""

    kind: AlertKind
    text: str
    at: float
    ids: tuple[int, ...] = ()
    count: int = 1

    @property
    def title(self) -> str:
        """A short heading for a desktop notification ("Conversions failed")."""
        one, many = _TITLES[self.kind]
        return many if self.count > 1 else one

    def to_json(self, *, profile: str | None = None) -> dict[str, Any]:
        """The alert as a hook receives it (JSON-able; carries no key, ever)."""
        return {
            "kind": self.kind.value,
            "title": self.title,
            "text": self.text,
            "count": self.count,
            "ids": list(self.ids),
            "at": datetime.fromtimestamp(self.at, UTC).isoformat(),
            "profile": profile,
        }
