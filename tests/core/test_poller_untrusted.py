"""Answers the poller must not trust blindly (issue 17), against a FakeSource in virtual time.

A refusal about one conversion, an answer about another conversion, an answer cut off at
the client's size cap and requests that trickle until the client's deadline: each is the
row's problem, never stored as its data, and never stops the other rows. Every wait
below is for a condition (in virtual time, see ``test_poller_unit.VirtualClock``), with
a generous bound; the failure message is built only when the wait ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tests.core.test_poller_unit import (
    FakeSource,
    Harness,
    fast,
    raises,
    timed_out,
)
from tui.api.errors import (
    AnswerTooLargeError,
    AuthenticationError,
    WrongConversionError,
)
from tui.api.models import Envelope, Profile, StatusEnvelope
from tui.core.polling.types import ConnectivityState
from tui.core.watchlist import WatchedConversion

KNOWN_KEY = Envelope(profile=Profile(id=7, email="support@example.com"),
                     errors=["You do not have access to this conversion"])


async def until(condition: Callable[[], object], what: Callable[[], str],
                within: float = 600.0) -> None:
    """Wait (virtual time) until ``condition()`` holds; fail with ``what()`` after ``within``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not within {within:g} s (virtual): {what()}")
        await asyncio.sleep(0.05)


def refusal(status: int, *, envelope: Envelope | None) -> Callable[[], AuthenticationError]:
    def make() -> AuthenticationError:
        return AuthenticationError(f"The server refused the request (HTTP {status}).",
                                   status_code=status, envelope=envelope)
    return make


def row(h: Harness, conversion_id: int) -> WatchedConversion:
    found = h.watchlist.get(conversion_id)
    assert found is not None
    return found


def polls_after(source: FakeSource, ids: Any, after: float, count: int) -> bool:
    return all(len(source.starts(i, after)) >= count for i in ids)


# -- 401/403: the row's or the key's -----------------------------------------------------


async def test_a_403_about_one_conversion_is_that_rows_problem_and_polling_goes_on(
        tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    source.by_id[3] = raises(refusal(403, envelope=KNOWN_KEY))
    async with Harness(tmp_path, source, fast()) as h:
        h.add(range(1, 7))
        await until(lambda: polls_after(source, [1, 2, 4, 5, 6], 0.0, 30)
                    and row(h, 3).problem_count >= 4,
                    lambda: f"calls {len(source.calls)}, row 3: {row(h, 3)}")
        assert h.scheduler.connectivity.state is ConnectivityState.ONLINE
    assert h.states() == []  # no banner, so no key prompt
    assert row(h, 3).last_problem == "no access to this conversion (HTTP 403)"
    # Row 3 backs off like any failing row (2, 4, 8 s ± 20 %; healthy rows: 1 s).
    assert [b - a for a, b in pairwise(source.starts(3))][-1] > 3.0
    assert all(row(h, i).last_problem is None for i in (1, 2, 4, 5, 6))


async def test_a_401_refuses_the_key_even_with_a_profile(tmp_path: Path) -> None:
    # 401 is "not authenticated": the key itself, whatever the envelope says.
    source = FakeSource(latency=0.01)
    source.by_id[2] = raises(refusal(401, envelope=KNOWN_KEY))
    async with Harness(tmp_path, source, fast()) as h:
        h.add(range(1, 5))
        await until(lambda: h.scheduler.connectivity.state is ConnectivityState.AUTH_FAILED,
                    lambda: f"states {h.states()}")
    assert h.scheduler.connectivity.message.startswith("HTTP 401")
    assert row(h, 2).last_problem is None


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refusal_without_a_profile_refuses_the_key_in_the_words_of_its_code(
        tmp_path: Path, status: int) -> None:
    source = FakeSource(latency=0.01)
    # An envelope, but no profile: nothing says the key is known.
    source.by_id[2] = raises(refusal(status, envelope=Envelope(errors=["Forbidden"])))
    async with Harness(tmp_path, source, fast()) as h:
        h.add(range(1, 5))
        await until(lambda: h.scheduler.connectivity.state is ConnectivityState.AUTH_FAILED,
                    lambda: f"states {h.states()}")
        message = h.scheduler.connectivity.message
    assert message == f"HTTP {status}: Forbidden", message
    assert row(h, 2).last_problem is None  # the banner's, not the row's


async def test_refusals_of_every_row_with_no_answer_at_all_refuse_the_key(
        tmp_path: Path) -> None:
    # A known key that may see none of the watched conversions: after an interval in
    # which every row was refused and nothing answered, the key is refused.
    source = FakeSource(latency=0.01, default=raises(refusal(403, envelope=KNOWN_KEY)))
    async with Harness(tmp_path, source, fast()) as h:
        h.add(range(1, 7))
        await until(lambda: h.scheduler.connectivity.state is ConnectivityState.AUTH_FAILED,
                    lambda: f"states {h.states()}, calls {source.calls}")
        asked = len(source.calls)
        h.scheduler.refresh()
        await until(lambda: h.scheduler.stats.in_flight == 0, lambda: "requests in flight")
        assert len(source.calls) == asked  # nothing more goes out with a refused key
    assert h.scheduler.connectivity.message == "HTTP 403: You do not have access to this conversion"
    assert h.states() == [ConnectivityState.AUTH_FAILED]


async def test_refusals_of_rows_that_answered_before_refuse_the_key(tmp_path: Path) -> None:
    # A key whose access was taken away mid-session (the server still names its profile):
    # rows it could see are refused, and for a whole interval nothing answers.
    source = FakeSource(latency=0.01)
    async with Harness(tmp_path, source, fast()) as h:
        h.add(range(1, 7))
        await until(lambda: polls_after(source, range(1, 7), 0.0, 2), lambda: "first polls")
        source.default = raises(refusal(403, envelope=KNOWN_KEY))
        await until(lambda: h.scheduler.connectivity.state is ConnectivityState.AUTH_FAILED,
                    lambda: f"states {h.states()}")
        asked = len(source.calls)
        h.scheduler.refresh()
        await until(lambda: h.scheduler.stats.in_flight == 0, lambda: "requests in flight")
        assert len(source.calls) == asked
    assert h.states() == [ConnectivityState.AUTH_FAILED]


async def test_rows_refused_in_step_while_others_answer_are_rows_problems(
        tmp_path: Path) -> None:
    # Three rows that answered before are refused together (they are polled in step),
    # but the other rows answer within the interval: those three rows' problems only.
    source = FakeSource(latency=0.01)
    async with Harness(tmp_path, source, fast()) as h:
        h.add(range(1, 21))
        await until(lambda: polls_after(source, range(1, 21), 0.0, 2), lambda: "first polls")
        for conversion_id in (1, 2, 3):
            source.by_id[conversion_id] = raises(refusal(403, envelope=KNOWN_KEY))
        await until(lambda: all(row(h, i).problem_count >= 4 for i in (1, 2, 3)),
                    lambda: f"{[row(h, i).problem_count for i in (1, 2, 3)]}")
    assert h.states() == []
    assert all(row(h, i).last_problem == "no access to this conversion (HTTP 403)"
               for i in (1, 2, 3))


async def test_refusals_with_answers_between_never_refuse_the_key(tmp_path: Path) -> None:
    # Four of ten rows refused (more than key_refusal_rows), one request at a time in the
    # order of the rows: an answer comes between every two refusals.
    source = FakeSource(latency=0.01)
    for conversion_id in (2, 4, 6, 8):
        source.by_id[conversion_id] = raises(refusal(403, envelope=KNOWN_KEY))
    async with Harness(tmp_path, source, fast(concurrency=1)) as h:
        h.add(range(1, 11))
        await until(lambda: all(row(h, i).problem_count >= 3 for i in (2, 4, 6, 8)),
                    lambda: f"{[row(h, i) for i in (2, 4, 6, 8)]}")
    assert h.states() == []
    assert all(row(h, i).last_problem == "no access to this conversion (HTTP 403)"
               for i in (2, 4, 6, 8))


# -- an answer about another conversion --------------------------------------------------


class OtherConversionSource(FakeSource):
    """Answers about ``answered`` for the IDs in ``swap`` (what a confused cache does)."""

    def __init__(self) -> None:
        super().__init__(latency=0.01)
        self.swap: dict[int, int] = {}

    async def get_status(self, conversion_id: int) -> StatusEnvelope:
        answer = await super().get_status(conversion_id)
        answered = self.swap.get(conversion_id)
        if answered is None:
            return answer
        return StatusEnvelope.model_validate(
            {"payload": {"id": answered, "status": "Completed",
                         "fileName": "someone-elses.csv"}})


def wrong_conversion(asked: int, answered: int) -> Callable[[], WrongConversionError]:
    def make() -> WrongConversionError:
        error = WrongConversionError(f"Asked about {asked}, the answer is about {answered}.",
                                     status_code=200)
        error.asked_id, error.answered_id = asked, answered
        return error
    return make


@pytest.mark.parametrize("how", ["client", "payload"])
async def test_an_answer_about_another_conversion_is_never_stored(tmp_path: Path,
                                                                  how: str) -> None:
    # Whether the client catches it (WrongConversionError) or a source lets it through
    # (the payload names another ID), row 2 keeps its last good data.
    source = OtherConversionSource()
    async with Harness(tmp_path, source, fast()) as h:
        h.add([1, 2, 3])
        await until(lambda: row(h, 2).status == "Processing", lambda: str(row(h, 2)))
        if how == "client":
            source.by_id[2] = raises(wrong_conversion(2, 99))
        else:
            source.swap[2] = 99
        wrong_from = h.now()
        await until(lambda: row(h, 2).problem_count >= 4, lambda: str(row(h, 2)))
        assert h.scheduler.stats.errors_by_kind.get("wrong_conversion", 0) >= 3
    kept = row(h, 2)
    assert (kept.status, kept.file_name) == ("Processing", "f2.csv")
    assert kept.last_problem == "the server answered about conversion 99"
    assert h.watchlist.get(99) is None
    assert "someone-elses" not in (kept.raw or "")
    assert [b - a for a, b in pairwise(source.starts(2, wrong_from))][-1] > 3.0  # backs off
    assert h.states() == []


# -- an answer cut off at the size cap ---------------------------------------------------


def too_large(limit: int) -> AnswerTooLargeError:
    error = AnswerTooLargeError("The answer was larger than the cap; cut off.",
                                status_code=200)
    error.limit = limit
    return error


async def test_an_answer_cut_off_at_the_cap_is_the_rows_problem(tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    source.by_id[1] = raises(lambda: too_large(16 * 1024 * 1024))
    async with Harness(tmp_path, source, fast(), known={1: "Queued"}) as h:
        h.add([2])
        await until(lambda: row(h, 1).problem_count >= 4, lambda: str(row(h, 1)))
    kept = row(h, 1)
    assert kept.last_problem == "answer larger than 16 MiB, cut off"
    assert kept.status == "Queued"
    assert [b - a for a, b in pairwise(source.starts(1))][-1] > 3.0  # it backs off
    assert h.states() == []


# -- requests that trickle until the deadline ---------------------------------------------

DEADLINE = 10.0  # the client's total deadline, as the FakeSource plays it


def trickling(source: FakeSource, ids: Any) -> None:
    """``ids`` answer nothing until the deadline, then time out (as the client reports)."""
    for conversion_id in ids:
        source.latency_by_id[conversion_id] = DEADLINE
        source.by_id[conversion_id] = raises(timed_out)


def worst_gap(source: FakeSource, ids: Any, after: float) -> float:
    return max(b - a for i in ids for a, b in pairwise(source.starts(i, after)))


class CountingSource(FakeSource):
    """Also notes how many requests of ``counted`` IDs were in flight at once, at most."""

    def __init__(self, counted: Any) -> None:
        super().__init__(latency=0.01)
        self.counted = set(counted)
        self.counted_open = 0
        self.counted_most = 0

    async def get_status(self, conversion_id: int) -> StatusEnvelope:
        counted = conversion_id in self.counted
        if counted:
            self.counted_open += 1
            self.counted_most = max(self.counted_most, self.counted_open)
        try:
            return await super().get_status(conversion_id)
        finally:
            if counted:
                self.counted_open -= 1


async def test_rows_that_keep_timing_out_do_not_hold_every_slot(tmp_path: Path) -> None:
    # Ten rows trickle until the deadline from the start, four answer at once, eight
    # slots: after the first deadlines the ten share the slow lane's two slots and the
    # four keep their one-second interval.
    slow, quick = range(1, 11), range(11, 15)
    source = CountingSource(slow)
    trickling(source, slow)
    settings = fast(concurrency=8)
    async with Harness(tmp_path, source, settings) as h:
        h.add(range(1, 15))
        def slow_rows() -> list[int]:
            states = {i: h.scheduler.row_state(i) for i in slow}
            return [i for i, state in states.items() if state is not None and state.slow]

        await until(lambda: slow_rows() == list(slow), lambda: f"slow: {slow_rows()}")
        settled_in = h.now()
        source.counted_most = source.counted_open
        await until(lambda: polls_after(source, quick, settled_in, 60)
                    and polls_after(source, slow, settled_in, 2),
                    lambda: f"polls: {[len(source.starts(i, settled_in)) for i in range(1, 15)]}")
        assert h.scheduler.connectivity.state is ConnectivityState.ONLINE
    # Rows that keep timing out never hold more than the slow lane's share of the slots.
    assert source.counted_most <= settings.slow_slots == 2
    assert worst_gap(source, quick, settled_in) <= settings.interval + 0.05
    assert all(row(h, i).last_problem == "timed out" for i in slow)
    assert all(row(h, i).last_problem is None for i in quick)


async def test_a_trickle_starting_mid_session_is_row_problems_not_offline(
        tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    settings = fast(concurrency=8)
    async with Harness(tmp_path, source, settings) as h:
        h.add(range(1, 15))
        await until(lambda: polls_after(source, range(1, 15), 0.0, 3), lambda: "first polls")
        began = h.now()
        trickling(source, range(1, 11))
        await until(lambda: polls_after(source, range(11, 15), began, 4 * int(DEADLINE))
                    and all(row(h, i).problem_count >= 2 for i in range(1, 11)),
                    lambda: f"problems {[row(h, i).problem_count for i in range(1, 11)]}")
        # While slots were still held by first timeouts, the four fast rows were asked
        # at least every two intervals; none waited for a deadline.
        assert worst_gap(source, range(11, 15), began) <= 2 * settings.interval
    assert h.states() == []  # never Offline: others answered all along
    assert all(row(h, i).last_problem == "timed out" for i in range(1, 11))
    assert all(row(h, i).status == "Processing" for i in range(1, 11))  # data kept


async def test_a_slow_row_leaves_the_slow_lane_with_its_next_answer(tmp_path: Path) -> None:
    source = FakeSource(latency=0.01)
    async with Harness(tmp_path, source, fast()) as h:
        h.add(range(1, 5))
        await until(lambda: polls_after(source, range(1, 5), 0.0, 2), lambda: "first polls")
        trickling(source, [1])

        def slow() -> bool:
            state = h.scheduler.row_state(1)
            return state is not None and state.slow

        await until(slow, lambda: f"{h.scheduler.row_state(1)}")
        del source.latency_by_id[1], source.by_id[1]
        await until(lambda: row(h, 1).last_problem is None and not slow(),
                    lambda: f"{row(h, 1)}, {h.scheduler.row_state(1)}")
        healed = h.now()
        await until(lambda: len(source.starts(1, healed)) >= 5, lambda: "polls of row 1")
    assert worst_gap(source, [1], healed) <= 1.0 + 0.05  # back to the active interval


async def test_an_offline_probe_that_times_out_asks_another_row_next(tmp_path: Path) -> None:
    # Every slot held by rows that trickle when the monitor starts: their timeouts, with
    # nothing answered yet, look like a dead link. The probe must not keep asking a
    # trickling row: the next probe asks another, finds the link up, and polling goes on.
    source = FakeSource(latency=0.01)
    trickling(source, range(1, 11))
    async with Harness(tmp_path, source, fast(concurrency=8)) as h:
        h.add(range(1, 15))
        await until(lambda: polls_after(source, range(11, 15), 0.0, 20),
                    lambda: f"states {h.states()}, calls {len(source.calls)}")
        assert h.scheduler.connectivity.state is ConnectivityState.ONLINE



async def test_a_slow_row_asked_for_while_paused_is_checked(tmp_path: Path) -> None:
    # Paused, the slow lane's rows fall overdue; a refresh of one of them must still go
    # out (ahead of the others), within the slow lane's share.
    source = FakeSource(latency=0.01)
    slow = range(1, 5)
    trickling(source, slow)
    async with Harness(tmp_path, source, fast()) as h:
        h.add(range(1, 7))

        def all_slow() -> bool:
            states = [h.scheduler.row_state(i) for i in slow]
            return all(state is not None and state.slow for state in states)

        await until(all_slow, lambda: f"{[h.scheduler.row_state(i) for i in slow]}")
        h.scheduler.pause()
        await until(lambda: h.scheduler.stats.in_flight == 0, lambda: "requests in flight")
        paused_at = h.now()
        await until(lambda: h.now() > paused_at + 30, lambda: "virtual time")
        assert source.starts(after=paused_at) == []  # paused: nothing automatic
        del source.latency_by_id[4], source.by_id[4]
        h.scheduler.refresh([4])
        await until(lambda: source.starts(4, paused_at) != [],
                    lambda: f"calls since the pause: {source.starts(after=paused_at)}")
        assert {i for i, t in source.calls if t > paused_at} == {4}
