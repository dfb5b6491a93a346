"""Which alert events a poll update holds: the rules, as a pure state machine.

Fed what the poller reports (its rows, status changes and connectivity) and the time,
:class:`AlertDetector` says which alert events are new. It remembers what it has said,
so each thing alerts once: a row that fails, once per change into Failed; a stuck row,
once until its status changes; a delete that does not finish, once per delete request;
a failing server or a refused key, once per spell. Acknowledged rows never alert.

What was so before the monitor started is not news (as the unread marks hold a first
answer is not): :meth:`AlertDetector.known_at_start` takes the rows as stored, and a row
stuck or with a delete not finishing then alerted in the run before (or the since-you-
last-looked summary tells it); it alerts again only once it changes: its status moves
(stuck again later), a new delete is asked for. A failure alerts on a change into Failed
seen in this run, so a row stored as Failed never does.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from tui.core.alerts.events import AlertEvent, AlertKind
from tui.core.polling.types import Connectivity, ConnectivityState
from tui.core.statuses import StatusKind, status_kind
from tui.core.timeinstatus import StuckAfter, is_stuck, parse_instant, time_in_status
from tui.core.untrusted import printable
from tui.core.watchlist import StatusChange, WatchedConversion

__all__ = ["FRESH_UPLOAD", "AlertDetector"]

FRESH_UPLOAD = 600.0
"""A row whose first answer already says Failed alerts only if it was uploaded at most
this long before the app first saw it (a fresh upload that failed fast), not when it was
pasted from a ticket about an old failure."""

_NAME_LIMIT = 60
_WHY_LIMIT = 100


def _named(row: WatchedConversion | None) -> str:
    if row is None or not row.file_name:
        return ""
    return f" ({printable(row.file_name, limit=_NAME_LIMIT)})"


def _minutes(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


class AlertDetector:
    """Turns poll updates into alert events (see the module docstring)."""

    def __init__(self, *, rules: Collection[AlertKind] = tuple(AlertKind),
                 stuck_after: StuckAfter | None = None,
                 delete_stalled_after: float = 600.0) -> None:
        self.rules = frozenset(rules)
        self.stuck_after = stuck_after or StuckAfter()
        self.delete_stalled_after = delete_stalled_after
        self._stuck: dict[int, str | None] = {}  # alerted as stuck: the status it was in
        self._stalled: dict[int, float] = {}  # alerted delete: its delete_requested_at
        self._offline = _Spell()
        self._refused = _Spell()
        self._server_failing = False

    def observe(self, *, now: float, rows: Iterable[WatchedConversion] = (),
                changes: Iterable[StatusChange] = (),
                connectivity: Connectivity | None = None,
                server_failing: str | None = None,
                acknowledged: Collection[int] = frozenset()) -> list[AlertEvent]:
        """The new alert events at ``now`` (unix seconds) from one update.

        ``rows``: the rows to look at for the stuck and delete rules (an update's rows;
        pass every row now and then, as time alone makes a row stuck);
        ``changes``: its status changes; ``connectivity``: the poller's state (offline:
        the server is failing; auth failed: the key is refused); ``server_failing``: a
        sentence when most recent checks fail though the server answers (the health
        banner's), None when they do not; ``acknowledged``: IDs a person has taken on."""
        rows = list(rows)
        by_id = {row.id: row for row in rows}
        events: list[AlertEvent] = []
        events += self._failed(changes, by_id, acknowledged, now)
        events += self._stuck_rows(rows, acknowledged, now)
        events += self._stalled_deletes(rows, acknowledged, now)
        events += self._server(connectivity, server_failing, now)
        return [event for event in events if event.kind in self.rules]

    def known_at_start(self, rows: Iterable[WatchedConversion], now: float) -> None:
        """The rows as stored when the monitor starts (before any answer of this run):
        those stuck or with a delete not finishing at ``now`` are remembered as alerted
        (see the module docstring). Rows never answered yet are left to their first
        answers, as ever."""
        for row in rows:
            asked = row.delete_requested_at
            if asked is None:
                if (not row.not_found and row.deleted_at is None
                        and is_stuck(row, now, self.stuck_after)):
                    self._stuck[row.id] = row.status
            elif (now - asked > self.delete_stalled_after and not _delete_finished(row)):
                self._stalled[row.id] = asked

    def forget(self, ids: Iterable[int]) -> None:
        """Drop what is remembered of rows no longer watched."""
        for conversion_id in ids:
            self._stuck.pop(conversion_id, None)
            self._stalled.pop(conversion_id, None)

    def _failed(self, changes: Iterable[StatusChange], by_id: dict[int, WatchedConversion],
                acknowledged: Collection[int], now: float) -> list[AlertEvent]:
        events = []
        for change in changes:
            if change.id in acknowledged or status_kind(change.current) is not StatusKind.FAILED:
                continue
            row = by_id.get(change.id)
            if change.previous is None and not self._fresh_upload(row):
                continue  # failed before we watched it: old news
            if status_kind(change.previous) is StatusKind.FAILED:
                continue
            # Why, when the server said: the first error (the rest are in Inspect).
            why = (f": {printable(row.errors[0], limit=_WHY_LIMIT)}"
                   if row is not None and row.errors else "")
            events.append(AlertEvent(AlertKind.FAILED, change.id,
                                     f"Conversion {change.id} failed{_named(row)}{why}",
                                     change.at))
        return events

    @staticmethod
    def _fresh_upload(row: WatchedConversion | None) -> bool:
        uploaded = parse_instant(row.upload_date) if row is not None else None
        return uploaded is not None and row is not None and (
            row.first_seen - uploaded <= FRESH_UPLOAD)

    def _stuck_rows(self, rows: list[WatchedConversion], acknowledged: Collection[int],
                    now: float) -> list[AlertEvent]:
        events = []
        for row in rows:
            if row.id in self._stuck and self._stuck[row.id] != row.status:
                del self._stuck[row.id]  # it moved on: it may be stuck again later
            # A row whose last check failed may have moved on since: its status is stale.
            if (row.id in self._stuck or row.not_found or row.deleted_at is not None
                    or row.delete_requested_at is not None or row.last_problem is not None
                    or not is_stuck(row, now, self.stuck_after)):
                continue
            self._stuck[row.id] = row.status
            if row.id in acknowledged:
                continue
            reckoned = time_in_status(row)
            held = f" for {_minutes(reckoned.seconds(now))}" if reckoned else ""
            status = printable(row.status or "", limit=40)
            events.append(AlertEvent(AlertKind.STUCK, row.id,
                                     f"Conversion {row.id} stuck in {status}{held}{_named(row)}",
                                     now))
        return events

    def _stalled_deletes(self, rows: list[WatchedConversion], acknowledged: Collection[int],
                         now: float) -> list[AlertEvent]:
        events = []
        for row in rows:
            asked = row.delete_requested_at
            if asked is None or _delete_finished(row):
                self._stalled.pop(row.id, None)
                continue
            if now - asked <= self.delete_stalled_after or self._stalled.get(row.id) == asked:
                continue
            self._stalled[row.id] = asked
            if row.id in acknowledged:
                continue
            events.append(AlertEvent(
                AlertKind.DELETE_STALLED, row.id,
                f"Delete of conversion {row.id} not finished after {_minutes(now - asked)}"
                f"{_named(row)}", now))
        return events

    def _server(self, connectivity: Connectivity | None, server_failing: str | None,
                now: float) -> list[AlertEvent]:
        events = []
        if connectivity is not None and connectivity.state is not ConnectivityState.PAUSED:
            state, since = connectivity.state, connectivity.since
            cause = printable(connectivity.message, limit=160)
            said = f": {cause}" if cause else ""
            # The team's store away is no API failure: its banner says it, nobody is paged
            # about "the server" for the database.
            api_offline = state is ConnectivityState.OFFLINE and not connectivity.store
            if self._offline.enter(api_offline, since):
                events.append(AlertEvent(AlertKind.SERVER_FAILING, None,
                                         f"Server not answering{said}", now))
            if self._refused.enter(state is ConnectivityState.AUTH_FAILED, since):
                events.append(AlertEvent(AlertKind.KEY_REFUSED, None,
                                         f"The server refuses the API key{said}", now))
        if server_failing and not self._server_failing:
            events.append(AlertEvent(AlertKind.SERVER_FAILING, None,
                                     printable(server_failing, limit=200), now))
        self._server_failing = bool(server_failing)
        return events


def _delete_finished(row: WatchedConversion) -> bool:
    return (row.not_found or row.deleted_at is not None
            or status_kind(row.status) is StatusKind.DELETED)


class _Spell:
    """A state that lasts a while (offline, key refused): alerted once when it begins."""

    __slots__ = ("active", "since")

    def __init__(self) -> None:
        self.active = False
        self.since: float | None = None

    def enter(self, active: bool, since: float | None) -> bool:
        """Whether this report begins a new spell (a new ``since`` is a new spell)."""
        new = active and (not self.active or (since is not None and since != self.since))
        self.active = active
        self.since = since if active else None
        return new
