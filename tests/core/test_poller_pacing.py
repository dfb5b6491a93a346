"""The poller's small parts: token bucket, 429 recovery ramp, backoff, problem texts, queue."""

from __future__ import annotations

import math
import random

import pytest

from tui.api.errors import (
    BadResponseError,
    InvalidRequestError,
    ServerError,
    TransportError,
)
from tui.api.models import Envelope
from tui.core.polling.pacing import ErrorSpell, RecoveryRamp, TokenBucket, backoff_delay, jittered
from tui.core.polling.problems import describe_problem
from tui.core.polling.queue import Lane, PollQueue


def test_token_bucket_spends_its_burst_then_paces_at_its_rate() -> None:
    bucket = TokenBucket(rate=10.0, burst=3.0, now=0.0)
    for _ in range(3):
        assert bucket.wait_time(0.0) == 0.0
        bucket.take(0.0)
    assert bucket.wait_time(0.0) == pytest.approx(0.1)
    assert bucket.wait_time(0.05) == pytest.approx(0.05)
    assert bucket.wait_time(0.1) == 0.0
    bucket.take(0.1)
    assert bucket.wait_time(10.0) == 0.0  # refills, but never beyond the burst:
    for _ in range(3):
        bucket.take(10.0)
    assert bucket.wait_time(10.0) > 0


def test_token_bucket_with_a_lifted_budget_never_waits() -> None:
    bucket = TokenBucket(rate=math.inf, burst=8.0, now=0.0)
    for _ in range(1000):
        bucket.take(0.0)
    assert bucket.wait_time(0.0) == 0.0


def test_token_bucket_survives_a_clock_that_goes_backwards() -> None:
    bucket = TokenBucket(rate=10.0, burst=1.0, now=5000.0)
    bucket.take(5000.0)
    assert bucket.wait_time(100.0) == pytest.approx(0.1)  # not 4,900 s
    assert bucket.wait_time(100.1) == 0.0


def test_token_bucket_drain_and_rate_change() -> None:
    bucket = TokenBucket(rate=10.0, burst=5.0, now=0.0)
    bucket.drain(0.0, keep=1.0)
    bucket.take(0.0)
    assert bucket.wait_time(0.0) == pytest.approx(0.1)
    bucket.set_rate(2.0, 0.0)
    assert bucket.wait_time(0.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate=0.0, burst=1.0, now=0.0)


def test_recovery_ramp_doubles_from_its_start_until_the_budget() -> None:
    ramp = RecoveryRamp(start=2.0, period=1.0)
    assert not ramp.active and ramp.ceiling(0.0, 20.0) == 20.0
    ramp.begin(10.0)
    assert ramp.ceiling(10.0, 20.0) == pytest.approx(2.0)
    assert ramp.ceiling(11.0, 20.0) == pytest.approx(4.0)
    assert ramp.ceiling(13.0, 20.0) == pytest.approx(16.0)
    assert ramp.ceiling(14.0, 20.0) == 20.0
    assert not ramp.active


def test_recovery_ramp_ends_after_its_doublings_for_a_lifted_budget() -> None:
    ramp = RecoveryRamp(start=8.0, period=1.0, max_doublings=10)
    ramp.begin(0.0)
    assert ramp.ceiling(5.0, math.inf) == pytest.approx(256.0)
    assert ramp.ceiling(10.0, math.inf) == math.inf
    assert not ramp.active


def test_backoff_doubles_caps_and_jitters_by_at_most_a_fifth() -> None:
    rng = random.Random(1)
    for failures, want in [(1, 10.0), (2, 20.0), (3, 40.0), (6, 300.0), (60, 300.0)]:
        delays = [backoff_delay(5.0, failures, 300.0, rng) for _ in range(200)]
        assert min(delays) >= want * 0.8 and max(delays) <= want * 1.2
        assert max(delays) - min(delays) > want * 0.2  # really jittered
    assert 0.9 <= jittered(1.0, rng, 0.1) <= 1.1


def _server_error(code: int, **kwargs: object) -> ServerError:
    return ServerError(f"The server failed (HTTP {code}).", status_code=code, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (_server_error(502, body_excerpt="<html><head><title>502 Bad Gateway</title>",
                       content_type="text/html"), "HTTP 502, HTML page"),
        (_server_error(500, envelope=Envelope(errors=["database unavailable", "other"])),
         "HTTP 500: database unavailable"),
        (_server_error(503), "HTTP 503"),
        (_server_error(500, body_excerpt="oops", content_type="text/plain"),
         "HTTP 500, non-JSON body"),
        (BadResponseError("x", status_code=200, body_excerpt='{"profile": {"id": 1,,',
                          content_type="application/json"), "bad JSON from server"),
        (BadResponseError("x", status_code=200, body_excerpt="<!DOCTYPE html><p>login</p>",
                          content_type="text/html"), "HTTP 200, HTML page"),
        (TransportError("Timed out waiting for an answer from h.", reason="timeout"),
         "timed out"),
        (TransportError("h refused the connection.", reason="refused"), "connection refused"),
        (InvalidRequestError("rejected", status_code=400,
                             envelope=Envelope(errors=["Id must be positive"])),
         "HTTP 400: Id must be positive"),
        (KeyError("payload"), "internal error (KeyError)"),
    ],
)
def test_problem_texts_are_short_and_say_what_happened(error: BaseException,
                                                       text: str) -> None:
    assert describe_problem(error) == text


def test_problem_text_from_the_server_is_made_printable_and_cut() -> None:
    error = _server_error(500, envelope=Envelope(errors=["\x1b[31mred\x1b[0m" + "x" * 500]))
    text = describe_problem(error)
    assert "\x1b" not in text and len(text) <= 120 and text.startswith("HTTP 500: ␛[31mred")


def test_queue_orders_by_due_time_and_forgets_rescheduled_entries() -> None:
    queue = PollQueue()
    a, b, c = queue.add(1), queue.add(2), queue.add(3)
    queue.schedule(a, Lane.ACTIVE, 5.0)
    queue.schedule(b, Lane.ACTIVE, 3.0)
    queue.schedule(c, Lane.SETTLED, 1.0)
    queue.schedule(b, Lane.REFRESH, 0.0)  # moved: its ACTIVE entry is dead now
    assert queue.head(Lane.REFRESH) is b
    assert queue.head(Lane.ACTIVE) is a
    queue.unschedule(a)
    assert queue.head(Lane.ACTIVE) is None
    queue.remove(3)
    assert queue.head(Lane.SETTLED) is None and 3 not in queue and len(queue) == 2


def test_queue_compacts_dead_entries() -> None:
    queue = PollQueue()
    slot = queue.add(1)
    for due in range(10_000):
        queue.schedule(slot, Lane.ACTIVE, float(due))
    assert len(queue._heaps[Lane.ACTIVE]) <= 2 * len(queue) + 65
    assert queue.queued_count(Lane.ACTIVE) == 1 and queue.head(Lane.ACTIVE) is slot


def test_error_spell_needs_two_rows_and_a_quiet_interval_and_ends_once() -> None:
    spell = ErrorSpell()
    spell.failed(1, 0.0, pulled=False)
    assert not spell.wide and not spell.answered(2, 5.0, quiet=1.0)  # one broken ID
    spell.failed(3, 5.5, pulled=False)
    assert spell.wide and spell.backed_off == {1, 3}
    assert not spell.answered(2, 6.0, quiet=1.0)  # errors came half a second ago
    assert spell.answered(2, 6.5, quiet=1.0)  # an interval without errors: over ...
    assert not spell.answered(2, 7.0, quiet=1.0)  # ... once
    spell.failed(1, 8.0, pulled=True)  # pulled rows failing again make no new spell
    spell.failed(3, 8.0, pulled=True)
    assert not spell.wide and not spell.answered(2, 20.0, quiet=1.0)
    assert spell.backed_off == {1, 3}
    spell.answered(1, 21.0, quiet=1.0)
    spell.forget({3})
    assert spell.backed_off == set()
