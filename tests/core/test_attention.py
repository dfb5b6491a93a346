"""Acknowledge and snooze (issue 13): the rules of tui.core.attention, the store's writes
and the service's audited actions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.core.test_watchlist import answer
from tui.core.attention import (
    count_needing_attention,
    in_trouble,
    is_acknowledged,
    is_snoozed,
    needs_attention,
    quiet_ids,
    snooze_until,
)
from tui.core.audit import AuditLog
from tui.core.timeinstatus import StuckAfter
from tui.core.watching import WatchChange, WatchService
from tui.core.watchlist import PollResult, WatchedConversion, Watchlist

NOW = 1_800_000_000.0
STUCK = StuckAfter(1800.0)


def row(**fields: object) -> WatchedConversion:
    base = WatchedConversion(
        id=1, file_name="a.csv", data_source_type="t", status="Failed", upload_date=None,
        warnings=(), errors=("Row 2: bad",), metadata={}, first_seen=NOW - 3600,
        last_checked=NOW - 60, last_changed=NOW - 600, note=None, last_problem=None,
        problem_count=0, delete_requested_at=None, deleted_at=None, not_found=False,
        raw=None, entered_seen=True)
    return replace(base, **fields)  # type: ignore[arg-type]


# --- the rules ---------------------------------------------------------------------------

def test_a_failed_row_needs_attention_until_acknowledged() -> None:
    failed = row()
    assert in_trouble(failed, NOW, STUCK) and needs_attention(failed, NOW, STUCK)
    taken = replace(failed, acknowledged_at=NOW - 30)
    assert is_acknowledged(taken) and not needs_attention(taken, NOW, STUCK)
    assert in_trouble(taken, NOW, STUCK)  # still failed: only the person's call changed


def test_something_new_after_the_acknowledgement_needs_attention_again() -> None:
    taken = row(acknowledged_at=NOW - 30)
    # It was retried elsewhere and failed again: a status change after the ack.
    failed_again = replace(taken, last_changed=NOW - 5)
    assert not is_acknowledged(failed_again)
    assert needs_attention(failed_again, NOW, STUCK)
    # A change at the very moment of the ack was seen by the person: still taken on.
    assert is_acknowledged(replace(taken, last_changed=NOW - 30))


def test_a_problem_that_began_after_the_acknowledgement_is_news() -> None:
    # The checks failed already when acknowledged, and still do: the same problem.
    same = row(status="Completed", errors=(), acknowledged_at=NOW - 30,
               last_checked=NOW - 100, last_problem="HTTP 502", problem_count=4)
    assert is_acknowledged(same) and not needs_attention(same, NOW, STUCK)
    # A check went through after the ack, then checks fail again: a new problem.
    new = replace(same, last_checked=NOW - 10)
    assert not is_acknowledged(new) and needs_attention(new, NOW, STUCK)


def test_stuck_and_stalled_deletes_are_trouble_and_settled_rows_are_not() -> None:
    stuck = row(status="Processing", errors=(), last_changed=NOW - 7200)
    assert needs_attention(stuck, NOW, STUCK)
    assert not needs_attention(replace(stuck, last_changed=NOW - 60), NOW, STUCK)
    done = row(status="Completed", errors=())
    assert not in_trouble(done, NOW, STUCK)
    stalled = replace(done, delete_requested_at=NOW - 3600)
    assert needs_attention(stalled, NOW, STUCK)
    assert not needs_attention(replace(done, delete_requested_at=NOW - 60), NOW, STUCK)
    assert not needs_attention(replace(stalled, deleted_at=NOW - 5, status="Deleted"),
                               NOW, STUCK)


def test_snoozed_until_the_time_given_then_judged_as_before() -> None:
    failed = row(snoozed_until=NOW + 60)
    assert is_snoozed(failed, NOW) and not needs_attention(failed, NOW, STUCK)
    assert not is_snoozed(failed, NOW + 60) and needs_attention(failed, NOW + 60, STUCK)
    # Whatever happens while snoozed stays quiet until then.
    assert not needs_attention(replace(failed, last_changed=NOW), NOW, STUCK)


def test_counts_and_quiet_ids() -> None:
    rows = [row(id=1), row(id=2, acknowledged_at=NOW - 5), row(id=3, snoozed_until=NOW + 9),
            row(id=4, status="Completed", errors=()),
            row(id=5, acknowledged_at=NOW - 900)]  # acked before it failed
    assert count_needing_attention(rows, NOW, STUCK) == 2
    assert quiet_ids(rows, NOW) == {2, 3}


# --- the store ---------------------------------------------------------------------------

@pytest.fixture
def watchlist(tmp_path: Path) -> Watchlist:
    store = Watchlist(tmp_path / "watchlist.sqlite3")
    yield store  # type: ignore[misc]
    store.close()


def test_the_marks_are_stored_for_a_set_of_ids_and_polls_leave_them(
        watchlist: Watchlist) -> None:
    watchlist.add([1, 2, 3])
    watchlist.all()  # a snapshot in memory, as the monitor keeps one
    seq = watchlist.feed_seq()
    assert watchlist.acknowledge([1, 2, 99], NOW) == [1, 2]
    assert watchlist.snooze([3], NOW + 600) == [3]
    by_id = {item.id: item for item in watchlist.all()}
    assert (by_id[1].acknowledged_at, by_id[2].acknowledged_at) == (NOW, NOW)
    assert by_id[3].snoozed_until == NOW + 600 and by_id[3].acknowledged_at is None
    watchlist.record_results([answer(1, "Failed", NOW + 1), answer(3, "Queued", NOW + 1),
                              PollResult(2, NOW + 1, problem="Timed out")])
    with Watchlist(watchlist.path) as other:  # another monitor reads the same file
        stored = other.get_many([1, 2, 3])
        assert stored[1].status == "Failed" and stored[1].acknowledged_at == NOW
        assert stored[2].acknowledged_at == NOW and stored[3].snoozed_until == NOW + 600
        # ... and its change feed names the rows marked (it follows the file by it).
        assert {r.id for r in other.changes_since(seq).rows} >= {1, 2, 3}
    assert watchlist.clear_acknowledged([1]) == [1]
    assert watchlist.snooze([3], None) == [3]
    by_id = {item.id: item for item in watchlist.all()}
    assert by_id[1].acknowledged_at is None and by_id[2].acknowledged_at == NOW
    assert by_id[3].snoozed_until is None


def test_the_marks_follow_a_row_unwatched_and_watched_again(watchlist: Watchlist) -> None:
    watchlist.add([7])
    watchlist.acknowledge([7], NOW)
    watchlist.remove([7])
    assert watchlist.acknowledge([7], NOW + 1) == []  # not watched: nothing written
    watchlist.add([7])
    found = watchlist.get(7)
    assert found is not None and found.acknowledged_at == NOW


# --- the service -------------------------------------------------------------------------

def test_the_service_writes_audits_and_emits(tmp_path: Path) -> None:
    changes: list[WatchChange] = []
    with Watchlist(tmp_path / "w.sqlite3") as watchlist, \
            AuditLog(tmp_path / "audit.sqlite3") as audit:
        service = WatchService(watchlist, audit, profile_name="work",
                               user=lambda: "dana@example.com", on_change=changes.append)
        service.watch([4, 5])
        assert service.acknowledge([4, 5, 6], at=NOW) == [4, 5]
        assert [(r.id, r.acknowledged_at) for r in changes[-1].rows] == [(4, NOW), (5, NOW)]
        assert service.unacknowledge([5]) == [5]
        assert service.snooze([4], NOW + 7200) == [4]
        assert changes[-1].rows[0].snoozed_until == NOW + 7200
        assert service.snooze([4], None) == [4]
        assert service.acknowledge([6]) == []  # not watched: nothing audited
        entries = audit.entries()
        assert [(e.action, e.ids, e.user) for e in reversed(entries)] == [
            ("acknowledge", (4, 5), "dana@example.com"),
            ("unacknowledge", (5,), "dana@example.com"),
            ("snooze", (4,), "dana@example.com"),
            ("unsnooze", (4,), "dana@example.com")]
        assert entries[1].detail is not None and entries[1].detail.startswith("until ")
        last = audit.last_for("acknowledge", 5)
        assert last is not None and last.at == NOW and audit.last_for("acknowledge", 9) is None


@pytest.mark.parametrize(("answer", "seconds"), [("30m", 1800.0), (" 2h ", 7200.0),
                                                 ("1d", 86400.0), ("1h30m", 5400.0)])
def test_a_snooze_lasts_what_was_typed(answer: str, seconds: float) -> None:
    assert snooze_until(answer, NOW) == NOW + seconds


@pytest.mark.parametrize(("answer", "said"), [
    ("soon", "'soon' is not a duration"), ("", "is not a duration"),
    ("0m", "not a duration above zero"), ("31d", "'31d' is too long"),
    ("99999999999d", "too long")])
def test_a_bad_snooze_is_one_sentence(answer: str, said: str) -> None:
    with pytest.raises(ValueError, match=said) as caught:
        snooze_until(answer, NOW)
    assert str(caught.value).count(". ") == 0  # one sentence
