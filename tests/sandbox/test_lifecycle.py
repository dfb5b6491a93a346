"""The state machine, fast-forwarded with the clock instead of waited for."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.sandbox.conftest import assert_envelope
from tui.sandbox.clock import SandboxClock
from tui.sandbox.lifecycle import Conversion, LifecyclePlan
from tui.sandbox.runner import SandboxServer
from tui.sandbox.state import SandboxState


def status_of(api: httpx.Client, conversion_id: int) -> str:
    body = assert_envelope(api.get(f"/v1/conversions/{conversion_id}/status"), 200)
    return str(body["payload"]["status"])


def test_walks_to_completed_with_fixed_default_plan(api: httpx.Client,
                                                    sandbox: SandboxServer) -> None:
    # Default plan for added conversions: Uploaded 2 s, Queued 3 s, Processing 20 s.
    new_id = sandbox.state.add_conversion(warnings=(), outcome="Completed")
    seen = [status_of(api, new_id)]
    for step in (2.5, 3.0, 20.0):
        sandbox.state.advance(step)
        seen.append(status_of(api, new_id))
    assert seen == ["Uploaded", "Queued", "Processing", "Completed"]


def test_failed_outcome_shows_its_errors_only_once_failed(api: httpx.Client,
                                                          sandbox: SandboxServer) -> None:
    new_id = sandbox.state.add_conversion(
        plan=LifecyclePlan(uploaded=1, queued=1, processing=5, outcome="Failed"))
    sandbox.state.advance(3)
    assert status_of(api, new_id) == "Processing"
    sandbox.state.advance(10)
    assert status_of(api, new_id) == "Failed"


def test_delete_then_deleted_then_purged(api: httpx.Client, sandbox: SandboxServer) -> None:
    new_id = sandbox.state.add_conversion(status="Completed")
    assert_envelope(api.delete(f"/v1/conversions/{new_id}"), 202)
    assert status_of(api, new_id) == "DeletionPending"
    sandbox.state.advance(6)  # default deletion takes 5 s
    assert status_of(api, new_id) == "Deleted"
    assert_envelope(api.delete(f"/v1/conversions/{new_id}"), 410)
    sandbox.state.advance(298)  # kept 5 minutes after Deleted (entered 1 s ago)
    assert status_of(api, new_id) == "Deleted"
    sandbox.state.advance(2.5)
    assert_envelope(api.get(f"/v1/conversions/{new_id}/status"), 404)
    assert_envelope(api.delete(f"/v1/conversions/{new_id}"), 404)


def test_processing_refuses_delete_until_it_finishes(api: httpx.Client,
                                                     sandbox: SandboxServer) -> None:
    new_id = sandbox.state.add_conversion(status="Processing")
    assert_envelope(api.delete(f"/v1/conversions/{new_id}"), 409)
    sandbox.state.advance(21)
    assert_envelope(api.delete(f"/v1/conversions/{new_id}"), 202)


def test_frozen_conversion_does_not_move(api: httpx.Client, sandbox: SandboxServer) -> None:
    new_id = sandbox.state.add_conversion(status="Queued", frozen=True)
    sandbox.state.advance(3600)
    assert status_of(api, new_id) == "Queued"
    sandbox.state.unfreeze(new_id)
    sandbox.state.advance(3600)
    assert status_of(api, new_id) == "Completed"


def test_freeze_pins_the_status_it_has_now(api: httpx.Client, sandbox: SandboxServer) -> None:
    new_id = sandbox.state.add_conversion()
    sandbox.state.advance(10)
    sandbox.state.freeze(new_id)
    sandbox.state.advance(3600)
    assert status_of(api, new_id) == "Processing"


def test_set_status_accepts_any_word(api: httpx.Client, sandbox: SandboxServer) -> None:
    new_id = sandbox.state.add_conversion()
    sandbox.state.set_status(new_id, "Quarantined\x1b[31m")
    sandbox.state.advance(3600)
    assert status_of(api, new_id) == "Quarantined\x1b[31m"  # unknown words stay put
    with pytest.raises(KeyError):
        sandbox.state.set_status(1, "Queued")


def test_age_in_status_starts_part_way() -> None:
    state = SandboxState()
    new_id = state.add_conversion(status="Processing", age_in_status=19.5)
    assert state.get(new_id) is not None
    state.advance(1)
    snapshot = state.get(new_id)
    assert snapshot is not None and snapshot.status == "Completed"


def test_speed_shrinks_durations() -> None:
    state = SandboxState(speed=10)
    new_id = state.add_conversion()
    state.advance(2.6)  # 26 s of lifecycle at speed 10
    snapshot = state.get(new_id)
    assert snapshot is not None and snapshot.status == "Completed"


def test_status_is_computed_not_stored() -> None:
    conversion = Conversion(id=1, file_name="a", data_source_type="Csv", upload_date=0,
                            status="Uploaded", since=1000.0,
                            plan=LifecyclePlan(uploaded=2, queued=3, processing=20))
    assert conversion.status_at(1001.0, 1.0) == ("Uploaded", 1000.0)
    assert conversion.status_at(1004.0, 1.0) == ("Queued", 1002.0)
    assert conversion.status_at(1026.0, 1.0) == ("Completed", 1025.0)
    assert conversion.status_at(1012.6, 2.0) == ("Completed", 1012.5)


def test_clock_only_moves_forward() -> None:
    clock = SandboxClock(wall=lambda: 100.0)
    clock.advance(5)
    assert clock.now() == 105.0
    with pytest.raises(ValueError):
        clock.advance(-1)
    clock.reset()
    assert clock.now() == 100.0


def test_ten_thousand_conversions_need_no_background_work() -> None:
    threads_before = threading.active_count()
    state = SandboxState(seed_count=10_000, rng_seed=3)
    assert threading.active_count() == threads_before  # no timer or task per conversion
    counts = state.counts_by_status()
    assert sum(counts.values()) >= 9_000  # a few Deleted ones may have been purged
    state.advance(3600)
    snapshot = state.get(state.seeded_ids()[0])
    assert snapshot is None or snapshot.status in {"Completed", "Failed", "Deleted"}


def test_admit_stores_a_drawn_conversion_under_the_next_id_and_it_is_served(
        api: httpx.Client, sandbox: SandboxServer) -> None:
    seen: list[tuple[int, float]] = []

    def build(conversion_id: int, now: float) -> Conversion:
        seen.append((conversion_id, now))
        return Conversion(id=conversion_id, file_name="drawn.csv", data_source_type="Csv",
                          upload_date=now, status="Queued", since=now,
                          plan=LifecyclePlan(queued=1.0, processing=1.0))

    first = sandbox.state.admit(build)
    second = sandbox.state.add_conversion()
    assert seen == [(first, pytest.approx(sandbox.state.clock.now(), abs=5))]
    assert second == first + 1  # one id sequence for every way in
    assert status_of(api, first) == "Queued"
    sandbox.state.advance(2.5)
    assert status_of(api, first) == "Completed"


def test_status_of_is_none_once_purged() -> None:
    state = SandboxState(clock=SandboxClock(wall=lambda: 1_800_000_000.0))
    new_id = state.add_conversion(status="Completed")
    assert state.status_of(new_id) == "Completed"
    assert state.request_deletion(new_id).kind == "accepted"
    state.advance(6.0)
    assert state.status_of(new_id) == "Deleted"
    state.advance(301.0)
    assert state.status_of(new_id) is None
    assert new_id not in state.ids()  # purged on that read: the store does not keep it
    assert state.status_of(10**12) is None
