"""Seeded demo data: every state, realistic names, the same every time for one seed."""

from __future__ import annotations

from tui.sandbox.lifecycle import STATUSES
from tui.sandbox.state import FIRST_ID, SandboxState


def test_seed_covers_every_state_with_sequential_ids() -> None:
    state = SandboxState(seed_count=60, rng_seed=11)
    ids = state.seeded_ids()
    assert ids == list(range(FIRST_ID, FIRST_ID + 60))
    assert set(state.counts_by_status()) == set(STATUSES)


def test_even_a_small_seed_shows_each_state() -> None:
    state = SandboxState(seed_count=len(STATUSES), rng_seed=5)
    seen = {snapshot.status for i in state.seeded_ids() if (snapshot := state.get(i))}
    assert seen == set(STATUSES)


def test_seed_is_deterministic_for_one_rng_seed() -> None:
    def names(seed: int) -> list[tuple[str, str, str]]:
        state = SandboxState(seed_count=25, rng_seed=seed)
        return [(s.file_name, s.data_source_type, s.status)
                for i in state.seeded_ids() if (s := state.get(i))]

    assert names(7) == names(7)
    assert names(7) != names(8)


def test_seeded_content_looks_real() -> None:
    state = SandboxState(seed_count=200, rng_seed=2)
    snapshots = [s for i in state.seeded_ids() if (s := state.get(i))]
    assert all("." in s.file_name and s.data_source_type in
               {"Csv", "Excel", "Json", "Xml", "Pdf", "Image"} for s in snapshots)
    failed = [s for s in snapshots if s.status == "Failed"]
    warned = [s for s in snapshots if s.status == "Completed" and s.warnings]
    assert failed and all(s.errors for s in failed)
    assert warned and any(w.startswith("Row ") for s in warned for w in s.warnings)
    assert state.profile is not None and state.profile["firstName"] == "Dana"


def test_some_stay_processing_a_long_while() -> None:
    state = SandboxState(seed_count=300, rng_seed=4)
    state.advance(3600)  # an hour later, only the stuck ones still process
    counts = state.counts_by_status()
    assert 0 < counts.get("Processing", 0) < 30
    assert "Uploaded" not in counts and "Queued" not in counts


def test_reset_reseeds_the_same_data() -> None:
    state = SandboxState(seed_count=10, rng_seed=9)
    before = [state.get(i) for i in state.seeded_ids()]
    state.add_conversion()
    state.reset()
    after = [state.get(i) for i in state.seeded_ids()]
    assert [s.file_name for s in before if s] == [s.file_name for s in after if s]
    assert len(state.ids()) == 10
