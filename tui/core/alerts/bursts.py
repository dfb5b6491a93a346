"""Bursts of alert events of one kind merge into one alert.

The first event of a kind shows at once (or after ``gather`` seconds, with what came with
it) and opens a window (60 s by default); events of
that kind arriving while it is open are held, and come out together when it ends, as
one alert: "7 conversions failed in the last minute: ..." (the IDs named when few). A
window that ends with events held opens the next one, so a failure that goes on gives
one alert a window, not one a row. Events handed over together (one poll batch) merge at
once: an alert storm of 1,000 rows failing in one batch is one alert.

The clock is the caller's: every call says what time it is, and :meth:`next_due` says
when to call :meth:`BurstMerger.due` next.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tui.core.alerts.events import Alert, AlertEvent, AlertKind

__all__ = ["DEFAULT_WINDOW", "BurstMerger", "merge_events"]

DEFAULT_WINDOW = 60.0
DEFAULT_NAMED_IDS = 3

# What n events of a row kind did ("7 conversions failed").
_ROW_PHRASES = {
    AlertKind.FAILED: "conversions failed",
    AlertKind.STUCK: "conversions became stuck",
    AlertKind.DELETE_STALLED: "deletes have not finished",
}


def _span(seconds: float) -> str:
    if seconds == 60:
        return "in the last minute"
    if seconds % 60 == 0:
        return f"in the last {seconds / 60:g} minutes"
    return f"in the last {seconds:g} s"


def merge_events(kind: AlertKind, events: Sequence[AlertEvent], *, span: float | None,
                 named_ids: int = DEFAULT_NAMED_IDS) -> Alert:
    """One alert for ``events`` (all of ``kind``, at least one). ``span``: the window they
    came in (None: they came together), for the "in the last minute" of the text."""
    last = events[-1]
    ids = tuple(dict.fromkeys(e.conversion_id for e in events if e.conversion_id is not None))
    if kind in _ROW_PHRASES and ids:
        if len(ids) == 1:
            return Alert(kind, last.text, last.at, ids, 1)  # the same row, said again
        text = f"{len(ids):,} {_ROW_PHRASES[kind]}"
        if span is not None:
            text += f" {_span(span)}"
        if len(ids) <= named_ids:
            text += ": " + ", ".join(str(i) for i in ids)
        return Alert(kind, text, last.at, ids, len(ids))
    # The server's kinds: the latest word on it, and how often it came.
    if len(events) == 1:
        return Alert(kind, last.text, last.at, ids, 1)
    times = f"{len(events):,} times" + (f" {_span(span)}" if span is not None else "")
    return Alert(kind, f"{last.text} ({times})", last.at, ids, len(events))


@dataclass(slots=True)
class _Window:
    ends: float
    held: list[AlertEvent] = field(default_factory=list)
    #: Gathering the window's first alert until then (None: it went out).
    first_until: float | None = None


class BurstMerger:
    """Alert events in, alerts out, with bursts of one kind merged (see the module
    docstring). Not thread-safe: call it from one task."""

    def __init__(self, window: float = DEFAULT_WINDOW,
                 named_ids: int = DEFAULT_NAMED_IDS, gather: float = 0.0) -> None:
        """``gather``: seconds the first alert of a window waits for more of its kind
        (rows that fail in one check come back over a few poll batches: one alert for
        them, not one now and the rest a minute later)."""
        if not window > 0:
            raise ValueError(f"window must be positive, not {window!r}")
        if not 0 <= gather < window:
            raise ValueError(f"gather must be in [0, window), not {gather!r}")
        self.window = window
        self.gather = gather
        self.named_ids = named_ids
        self._windows: dict[AlertKind, _Window] = {}

    def offer(self, events: Iterable[AlertEvent], now: float) -> list[Alert]:
        """Take the events seen at ``now`` (one batch); return the alerts to show now:
        any window that has ended, then one alert per kind whose window is not open."""
        alerts = self.due(now)
        batch: dict[AlertKind, list[AlertEvent]] = {}
        for event in events:
            batch.setdefault(event.kind, []).append(event)
        for kind, group in batch.items():
            window = self._windows.get(kind)
            if window is not None:
                window.held.extend(group)
                continue
            if self.gather > 0:
                self._windows[kind] = _Window(now + self.window, list(group),
                                              first_until=now + self.gather)
                continue
            self._windows[kind] = _Window(now + self.window)
            alerts.append(merge_events(kind, group, span=None, named_ids=self.named_ids))
        return alerts

    def due(self, now: float) -> list[Alert]:
        """The held events of every window that has ended by ``now``, merged, one alert a
        kind. A window that held some opens the next one; an empty one closes."""
        alerts = []
        for kind, window in list(self._windows.items()):
            if window.first_until is not None:
                if now >= window.first_until:  # the first alert, with what came along
                    if window.held:  # (none: every row in it was taken on meanwhile)
                        alerts.append(merge_events(kind, window.held, span=None,
                                                   named_ids=self.named_ids))
                    window.held, window.first_until = [], None
                continue
            if now < window.ends:
                continue
            if not window.held:
                del self._windows[kind]
                continue
            alerts.append(merge_events(kind, window.held, span=self.window,
                                       named_ids=self.named_ids))
            self._windows[kind] = _Window(now + self.window)
        return alerts

    def drop(self, ids: Iterable[int]) -> None:
        """Forget the held events about ``ids``: a person took them on (acknowledged or
        snoozed them) while their alert was still gathering, so it must not name them."""
        gone = set(ids)
        if not gone:
            return
        for window in self._windows.values():
            window.held = [event for event in window.held
                           if event.conversion_id is None or event.conversion_id not in gone]

    def next_due(self) -> float | None:
        """When :meth:`due` has held events to give out next (None: nothing is held)."""
        ends = [window.first_until if window.first_until is not None else window.ends
                for window in self._windows.values() if window.held]
        return min(ends, default=None)

    def held(self) -> int:
        """How many events are waiting for their window to end."""
        return sum(len(window.held) for window in self._windows.values())
