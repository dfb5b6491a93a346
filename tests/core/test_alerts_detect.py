"""The alert rules over poll updates: each thing alerts once, acknowledged rows never."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tui.core.alerts.bursts import BurstMerger
from tui.core.alerts.detect import AlertDetector
from tui.core.alerts.events import AlertKind
from tui.core.polling.types import Connectivity, ConnectivityState
from tui.core.timeinstatus import StuckAfter
from tui.core.watchlist import StatusChange, WatchedConversion

MIN = 60.0


def at(hhmm: str) -> float:
    """Unix seconds of a time on 2026-12-06 (UTC)."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2026, 12, 6, hours, minutes, tzinfo=UTC).timestamp()


def row(**fields: Any) -> WatchedConversion:
    values: dict[str, Any] = {
        "id": 1, "file_name": "payroll.csv", "data_source_type": "Csv",
        "status": "Processing", "upload_date": "2026-12-06T09:58:00Z", "warnings": (),
        "errors": (), "metadata": {}, "first_seen": at("10:00"), "last_checked": at("10:00"),
        "last_changed": at("10:00"), "note": None, "last_problem": None, "problem_count": 0,
        "delete_requested_at": None, "deleted_at": None, "not_found": False, "raw": None,
        "entered_seen": False,
    }
    values.update(fields)
    return WatchedConversion(**values)


def test_a_row_that_fails_alerts_once() -> None:
    detector = AlertDetector()
    change = StatusChange(1, "Processing", "Failed", at("10:05"))
    failed = row(status="Failed", last_changed=at("10:05"), entered_seen=True)
    [event] = detector.observe(now=at("10:05"), rows=[failed], changes=[change])
    assert event.kind is AlertKind.FAILED and event.conversion_id == 1
    assert event.text == "Conversion 1 failed (payroll.csv)" and event.at == at("10:05")
    assert detector.observe(now=at("10:06"), rows=[failed]) == []


def test_unknown_words_and_other_changes_do_not_alert() -> None:
    detector = AlertDetector()
    changes = [StatusChange(1, "Queued", "Processing", 0), StatusChange(2, "Failed", "Failed", 0),
               StatusChange(3, "Processing", "Exploded", 0)]
    assert detector.observe(now=at("10:00"), changes=changes) == []


def test_a_failure_from_before_it_was_watched_is_old_news() -> None:
    detector = AlertDetector()
    pasted = row(id=5, status="Failed", upload_date="2026-11-01T08:00:00Z")
    fresh = row(id=6, status="Failed")  # uploaded two minutes before its first answer
    events = detector.observe(now=at("10:00"), rows=[pasted, fresh], changes=[
        StatusChange(5, None, "Failed", at("10:00")), StatusChange(6, None, "failed", at("10:00"))])
    assert [event.conversion_id for event in events] == [6]


def test_a_stuck_row_alerts_once_until_its_status_changes() -> None:
    detector = AlertDetector(stuck_after=StuckAfter(30 * MIN))
    stuck = row(upload_date="2026-12-06T03:00:00Z")  # in flight since 03:00
    [event] = detector.observe(now=at("10:00"), rows=[stuck])
    assert event.kind is AlertKind.STUCK
    assert event.text == "Conversion 1 stuck in Processing for 7 h 0 min (payroll.csv)"
    assert detector.observe(now=at("10:30"), rows=[stuck]) == []
    moved = row(status="Queued", last_changed=at("10:31"), entered_seen=True)
    assert detector.observe(now=at("10:31"), rows=[moved]) == []
    [again] = detector.observe(now=at("11:05"), rows=[moved])
    assert again.text == "Conversion 1 stuck in Queued for 34 min (payroll.csv)"


def test_rows_deleted_or_gone_are_not_stuck() -> None:
    detector = AlertDetector(stuck_after=StuckAfter(30 * MIN))
    old = {"upload_date": "2026-12-06T03:00:00Z"}
    rows = [row(id=1, not_found=True, **old), row(id=2, deleted_at=at("09:00"), **old),
            row(id=3, delete_requested_at=at("09:59"), **old), row(id=4, status="Completed", **old)]
    assert detector.observe(now=at("10:00"), rows=rows) == []


def test_a_delete_that_does_not_finish_alerts_once_per_request() -> None:
    detector = AlertDetector(delete_stalled_after=10 * MIN)
    asked = row(status="DeletionPending", delete_requested_at=at("10:00"))
    assert detector.observe(now=at("10:10"), rows=[asked]) == []  # not yet past 10 min
    [event] = detector.observe(now=at("10:11"), rows=[asked])
    assert event.kind is AlertKind.DELETE_STALLED
    assert event.text == "Delete of conversion 1 not finished after 11 min (payroll.csv)"
    assert detector.observe(now=at("10:30"), rows=[asked]) == []
    asked_again = row(status="DeletionPending", delete_requested_at=at("10:40"))
    assert len(detector.observe(now=at("10:51"), rows=[asked_again])) == 1


def test_a_finished_delete_does_not_alert() -> None:
    detector = AlertDetector(delete_stalled_after=10 * MIN)
    requested = {"delete_requested_at": at("10:00")}
    rows = [row(id=1, status="Deleted", **requested), row(id=2, not_found=True, **requested),
            row(id=3, deleted_at=at("10:05"), **requested)]
    assert detector.observe(now=at("11:00"), rows=rows) == []


def test_acknowledged_rows_never_alert_nor_later_for_the_same_thing() -> None:
    detector = AlertDetector(stuck_after=StuckAfter(30 * MIN), delete_stalled_after=10 * MIN)
    rows = [row(id=1, upload_date="2026-12-06T03:00:00Z"),
            row(id=2, status="DeletionPending", delete_requested_at=at("09:00"))]
    changes = [StatusChange(3, "Processing", "Failed", at("10:00"))]
    assert detector.observe(now=at("10:00"), rows=rows, changes=changes,
                            acknowledged={1, 2, 3}) == []
    assert detector.observe(now=at("10:01"), rows=rows) == []


def test_the_server_failing_alerts_once_a_spell() -> None:
    detector = AlertDetector()
    offline = Connectivity(ConnectivityState.OFFLINE, since=at("10:00"),
                           message="connection refused")
    [event] = detector.observe(now=at("10:00"), connectivity=offline)
    assert (event.kind, event.text) == (AlertKind.SERVER_FAILING,
                                        "Server not answering: connection refused")
    assert detector.observe(now=at("10:01"), connectivity=offline) == []
    paused = Connectivity(ConnectivityState.PAUSED)
    assert detector.observe(now=at("10:02"), connectivity=paused) == []
    assert detector.observe(now=at("10:03"), connectivity=offline) == [], "a pause is no end"
    online = Connectivity(ConnectivityState.ONLINE)
    assert detector.observe(now=at("10:04"), connectivity=online) == []
    assert len(detector.observe(now=at("10:05"), connectivity=Connectivity(
        ConnectivityState.OFFLINE))) == 1
    assert detector.observe(now=at("10:06"), connectivity=Connectivity(
        ConnectivityState.OFFLINE)) == [], "no 'since' is the same spell"


def test_most_checks_failing_alerts_once_until_it_clears() -> None:
    detector = AlertDetector()
    banner = "Server failing: 20 of 20 checks in the last 30 s failed: HTTP 502, HTML page\x1b"
    [event] = detector.observe(now=1, server_failing=banner)
    assert event.text == banner[:-1] + "\u241b"
    assert detector.observe(now=2, server_failing=banner) == []
    assert detector.observe(now=3, server_failing=None) == []
    assert len(detector.observe(now=4, server_failing=banner)) == 1


def test_a_refused_key_alerts_once_a_spell() -> None:
    detector = AlertDetector()
    refused = Connectivity(ConnectivityState.AUTH_FAILED, since=5.0, message="HTTP 401")
    [event] = detector.observe(now=5, connectivity=refused)
    assert (event.kind, event.text) == (AlertKind.KEY_REFUSED,
                                        "The server refuses the API key: HTTP 401")
    assert detector.observe(now=6, connectivity=refused) == []
    assert len(detector.observe(now=9, connectivity=Connectivity(
        ConnectivityState.AUTH_FAILED, since=9.0))) == 1


def test_rules_switched_off_give_nothing() -> None:
    detector = AlertDetector(rules={AlertKind.STUCK})
    assert detector.observe(now=at("10:00"), changes=[
        StatusChange(1, "Processing", "Failed", at("10:00"))],
        connectivity=Connectivity(ConnectivityState.AUTH_FAILED)) == []


def test_hostile_file_names_are_made_safe() -> None:
    detector = AlertDetector()
    failed = row(file_name="\x1b]0;pwned\x07" + "x" * 500)
    [event] = detector.observe(now=0, rows=[failed],
                               changes=[StatusChange(1, "Queued", "Failed", 0)])
    assert "\x1b" not in event.text and "\x07" not in event.text and len(event.text) < 120


def test_a_storm_of_a_thousand_failures_in_one_batch_is_one_alert() -> None:
    detector, merger = AlertDetector(), BurstMerger()
    changes = [StatusChange(n, "Processing", "Failed", at("10:00")) for n in range(1000)]
    events = detector.observe(now=at("10:00"), changes=changes)
    assert len(events) == 1000
    [alert] = merger.offer(events, now=at("10:00"))
    assert alert.text == "1,000 conversions failed" and alert.count == 1000


def test_forgetting_a_row_lets_it_alert_again_when_watched_anew() -> None:
    detector = AlertDetector(stuck_after=StuckAfter(30 * MIN))
    stuck = row(upload_date="2026-12-06T03:00:00Z")
    assert len(detector.observe(now=at("10:00"), rows=[stuck])) == 1
    detector.forget([1])
    assert len(detector.observe(now=at("10:01"), rows=[stuck])) == 1


def test_a_failure_says_its_first_error_and_a_stale_row_is_not_stuck() -> None:
    detector = AlertDetector(stuck_after=StuckAfter(60.0))
    now = at("12:00")
    failed = row(id=7, status="Failed", entered_seen=True, last_changed=now,
                 errors=("Row 9: date 31/02 does not exist\x1b[31m", "more"))
    [event] = detector.observe(now=now, rows=[failed],
                               changes=[StatusChange(7, "Processing", "Failed", now)])
    assert event.text == ("Conversion 7 failed (payroll.csv): "
                          "Row 9: date 31/02 does not exist␛[31m")
    # Processing for two hours, but its last check failed: what it is now is not known.
    stale = row(id=8, entered_seen=True, last_changed=at("10:00"),
                last_problem="HTTP 502, HTML page")
    assert detector.observe(now=now, rows=[stale]) == []
    assert detector.observe(now=now, rows=[row(id=9, entered_seen=True,
                                               last_changed=at("10:00"))]) != []


def test_trouble_known_at_start_alerts_again_only_once_it_changes() -> None:
    """A restart: rows stored stuck or with a delete not finishing alerted in the run
    before (or the since summary tells them); rows fine at the start alert as ever."""
    detector = AlertDetector(stuck_after=StuckAfter(30 * MIN), delete_stalled_after=10 * MIN)
    stuck = row(id=1, upload_date="2026-12-06T03:00:00Z", last_changed=None)
    stalled = row(id=2, status="DeletionPending", delete_requested_at=at("09:00"))
    fine = row(id=3, last_changed=at("09:50"), entered_seen=True)  # stuck at 10:20
    unanswered = row(id=4, status=None, last_checked=None, last_changed=None)
    failed = row(id=5, status="Failed")
    detector.known_at_start([stuck, stalled, fine, unanswered, failed], at("10:00"))
    # The first answers say the same: nothing is news. Later sweeps neither.
    assert detector.observe(now=at("10:00"), rows=[stuck, stalled, fine, failed]) == []
    assert detector.observe(now=at("10:15"), rows=[stuck, stalled, fine]) == []
    # Newly stuck after the start: alerts. A first answer found stuck: alerts, as ever.
    ancient = row(id=4, upload_date="2026-12-06T03:00:00Z", last_changed=None)
    events = detector.observe(now=at("10:21"), rows=[stuck, stalled, fine, ancient])
    assert sorted(e.conversion_id for e in events if e.kind is AlertKind.STUCK) == [3, 4]
    # A change: the stuck row moves on and sticks again; a new delete request stalls.
    moved = row(id=1, status="Queued", last_changed=at("10:30"), entered_seen=True)
    asked_again = row(id=2, status="DeletionPending", delete_requested_at=at("10:30"))
    assert detector.observe(now=at("10:31"), rows=[moved, asked_again]) == []
    events = detector.observe(now=at("11:05"), rows=[moved, asked_again])
    assert sorted((e.kind.value, e.conversion_id) for e in events) == [
        ("delete_stalled", 2), ("stuck", 1)]
    # A new failure after the start alerts; the one stored before never did.
    [event] = detector.observe(now=at("11:10"), changes=[
        StatusChange(1, "Queued", "Failed", at("11:10"))])
    assert event.kind is AlertKind.FAILED and event.conversion_id == 1


def test_trouble_over_by_the_start_is_not_remembered() -> None:
    detector = AlertDetector(stuck_after=StuckAfter(30 * MIN), delete_stalled_after=10 * MIN)
    deleted = row(id=2, status="Deleted", delete_requested_at=at("09:00"))
    recent = row(id=3, status="DeletionPending", delete_requested_at=at("09:55"))
    detector.known_at_start([deleted, recent], at("10:00"))
    # The delete asked at 09:55 was not yet late at the start: it alerts when it is.
    [event] = detector.observe(now=at("10:06"), rows=[recent])
    assert event.kind is AlertKind.DELETE_STALLED and event.conversion_id == 3


def test_the_team_store_away_is_no_server_alert() -> None:
    """A newcomer's team was paged "Server failing: Server not answering: The team
    database cannot be reached" while the API was fine: the store's outage is the
    banner's, not an API alert."""
    detector = AlertDetector()
    store_away = Connectivity(ConnectivityState.OFFLINE, since=at("10:00"),
                              message="The team database cannot be reached", store=True)
    assert detector.observe(now=at("10:00"), connectivity=store_away) == []
    api_away = Connectivity(ConnectivityState.OFFLINE, since=at("10:01"),
                            message="connection refused")
    [event] = detector.observe(now=at("10:01"), connectivity=api_away)
    assert event.kind is AlertKind.SERVER_FAILING
