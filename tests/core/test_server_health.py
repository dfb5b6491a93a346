"""The server-failing verdict from the last checks of many rows (issue 13)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tui.core.polling.health import ServerHealth

HTML = "HTTP 502, HTML page"


def test_most_checks_of_several_rows_failing_is_the_server() -> None:
    health = ServerHealth(interval=5.0)
    for n in range(20):
        health.record(n % 5, HTML, now=float(n))
    verdict = health.verdict
    assert verdict is not None
    assert verdict.sentence() == "20 of 20 checks in the last 30 s failed: HTTP 502, HTML page"


def test_one_row_that_keeps_failing_is_its_own_problem() -> None:
    health = ServerHealth(interval=5.0)
    for n in range(20):
        health.record(7, HTML, now=float(n))
    assert health.verdict is None


def test_a_minority_of_failures_is_not_the_server() -> None:
    health = ServerHealth(interval=5.0)
    for n in range(30):
        health.record(n % 10, "HTTP 500" if n % 3 == 0 else None, now=float(n) / 3)
    assert health.verdict is None


def test_answers_in_a_row_end_the_spell_at_once_and_the_window_forgets() -> None:
    health = ServerHealth(interval=5.0)
    for n in range(10):
        health.record(n % 3, "HTTP 503", now=float(n))
    assert health.verdict is not None
    health.record(1, None, now=10.0)
    assert health.verdict is not None  # one answer proves little
    health.record(2, None, now=10.5)
    assert health.record(0, None, now=11.0) is True  # three in a row: it is back
    assert health.verdict is None
    health = ServerHealth(interval=5.0)
    for n in range(10):
        health.record(n % 3, "HTTP 503", now=float(n))
    assert health.judge(now=100.0) is True and health.verdict is None  # all out of window


def test_causes_most_common_first_and_the_others_counted() -> None:
    health = ServerHealth(interval=5.0)
    for n in range(12):
        health.record(n % 4, HTML if n % 3 else "timed out", now=float(n))
    verdict = health.verdict
    assert verdict is not None
    assert verdict.causes[0] == (HTML, 8)
    assert verdict.sentence().endswith(": HTTP 502, HTML page (and 1 other cause)")


def test_unwatched_rows_no_longer_count() -> None:
    health = ServerHealth(interval=5.0)
    for n in range(10):
        health.record(n % 2, HTML, now=float(n))
    health.forget({1})
    assert health.judge(now=10.0) is True and health.verdict is None  # one row left


def test_the_banner_is_told_of_counts_at_most_once_a_second() -> None:
    health = ServerHealth(interval=5.0)
    told = [health.record(n % 4, HTML, now=n / 100) for n in range(200)]  # a storm: 2 s
    assert 2 <= sum(told) <= 3


@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from([None, HTML, "HTTP 503"]),
                          st.floats(0, 1000, allow_nan=False)), max_size=60))
def test_any_sequence_gives_a_consistent_verdict(
        checks: list[tuple[int, str | None, float]]) -> None:
    health = ServerHealth(interval=5.0)
    for row, cause, now in sorted(checks, key=lambda check: check[2]):
        health.record(row, cause, now)
        verdict = health.verdict
        if verdict is not None:
            assert 3 <= verdict.failed <= verdict.checks
            assert 3 * verdict.failed >= 2 * verdict.checks
            assert sum(count for _cause, count in verdict.causes) == verdict.failed
