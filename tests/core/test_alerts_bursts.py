"""Bursts of alerts of one kind merge: a storm is one alert, a trickle one per window."""

from __future__ import annotations

import pytest

from tui.core.alerts.bursts import BurstMerger, merge_events
from tui.core.alerts.events import Alert, AlertEvent, AlertKind

F, S = AlertKind.FAILED, AlertKind.SERVER_FAILING


def failed(conversion_id: int, at: float = 0.0) -> AlertEvent:
    return AlertEvent(F, conversion_id, f"Conversion {conversion_id} failed", at)


def test_the_first_shows_at_once_and_the_rest_merge_at_the_window_end() -> None:
    merger = BurstMerger(window=60)
    assert [a.text for a in merger.offer([failed(1)], now=0)] == ["Conversion 1 failed"]
    for n in range(2, 9):
        assert merger.offer([failed(n, at=n)], now=n) == []
    assert merger.held() == 7 and merger.next_due() == 60
    assert merger.due(59.9) == []
    [alert] = merger.due(60)
    assert alert.text == "7 conversions failed in the last minute"
    assert alert.count == 7 and alert.ids == tuple(range(2, 9)) and alert.title == (
        "Conversions failed")


def test_few_ids_are_named() -> None:
    merger = BurstMerger(window=60, named_ids=3)
    merger.offer([failed(1)], now=0)
    merger.offer([failed(12), failed(13)], now=5)
    merger.offer([failed(12)], now=6)  # the same row again counts once
    [alert] = merger.due(61)
    assert alert.text == "2 conversions failed in the last minute: 12, 13"


def test_a_storm_in_one_batch_is_one_alert() -> None:
    merger = BurstMerger()
    alerts = merger.offer([failed(n) for n in range(1000)], now=0)
    assert len(alerts) == 1
    assert alerts[0].text == "1,000 conversions failed" and alerts[0].count == 1000
    assert merger.next_due() is None, "nothing is held back"
    assert merger.due(1000) == []


def test_a_storm_that_goes_on_gives_one_alert_a_window() -> None:
    merger = BurstMerger(window=60)
    shown: list[Alert] = []
    for second in range(0, 600, 5):  # ten minutes, 50 failures every 5 s
        batch = [failed(second * 100 + n, at=second) for n in range(50)]
        shown += merger.offer(batch, now=second)
    shown += merger.due(600)
    assert len(shown) == 11, [a.text for a in shown]  # at once, then one a minute
    assert sum(alert.count for alert in shown) == 120 * 50


def test_kinds_merge_apart_and_a_quiet_window_closes() -> None:
    merger = BurstMerger(window=60)
    alerts = merger.offer([failed(1), AlertEvent(S, None, "Server not answering", 0)], now=0)
    assert [a.kind for a in alerts] == [F, S]
    assert merger.due(60) == [] and merger.next_due() is None
    assert [a.text for a in merger.offer([failed(2, at=61)], now=61)] == ["Conversion 2 failed"]


def test_server_events_say_the_latest_and_how_often() -> None:
    events = [AlertEvent(S, None, "Server not answering: timed out", 1),
              AlertEvent(S, None, "Server not answering: connection refused", 2)]
    alert = merge_events(S, events, span=120)
    assert alert.text == ("Server not answering: connection refused "
                          "(2 times in the last 2 minutes)")
    assert alert.count == 2 and alert.ids == ()


def test_a_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        BurstMerger(window=0)


def test_the_first_alert_gathers_what_comes_in_the_next_seconds() -> None:
    # Rows that fail in one check come back over a few poll batches (50 ms apart): one
    # alert for all of them, not one at once and the rest a minute later.
    merger = BurstMerger(gather=2.0)
    assert merger.offer([failed(48220, 0.0)], now=0.0) == []
    assert merger.offer([failed(48219, 0.05), failed(48221, 0.05)], now=0.05) == []
    assert merger.next_due() == 2.0
    assert merger.due(1.9) == []
    [alert] = merger.due(2.0)
    assert alert.count == 3 and set(alert.ids) == {48219, 48220, 48221}
    assert alert.text == "3 conversions failed: 48220, 48219, 48221"
    # The window goes on: a failure a moment later waits for the minute's end.
    assert merger.offer([failed(5, 10.0)], now=10.0) == []
    [later] = merger.due(60.0)
    assert later.ids == (5,)


def test_gather_must_fit_in_the_window() -> None:
    with pytest.raises(ValueError, match="gather"):
        BurstMerger(window=60.0, gather=60.0)


def test_rows_taken_on_while_an_alert_gathers_are_left_out_of_it() -> None:
    # A person acknowledges 48220 in the two seconds its alert waits for more: the alert
    # names only the others; had it held nothing else, nothing goes out.
    merger = BurstMerger(gather=2.0)
    merger.offer([failed(48220, 0.0), failed(48219, 0.0)], now=0.0)
    merger.offer([AlertEvent(S, None, "Server failing", 0.5)], now=0.5)
    merger.drop([48220])
    alerts = merger.due(2.5)
    assert [(a.kind, a.ids) for a in alerts] == [(F, (48219,)), (S, ())]
    merger.offer([failed(7, 3.0)], now=3.0)
    merger.drop([7])
    assert merger.due(61.0) == []  # the window held only the row taken on


def test_an_alert_gathering_only_rows_taken_on_gives_nothing() -> None:
    merger = BurstMerger(gather=2.0)
    merger.offer([failed(48220, 0.0)], now=0.0)
    merger.drop([48220])
    assert merger.due(2.0) == [] and merger.held() == 0
