"""KeyRefusals: which 401/403 answers refuse the key, which only some conversions."""

from __future__ import annotations

from tui.api.errors import AuthenticationError
from tui.api.models import Envelope, Profile
from tui.core.polling.keyrefusals import KeyRefusals

KNOWN = Envelope(profile=Profile(id=1), errors=["You do not have access to this conversion"])


def refusal(status: int = 403, envelope: Envelope | None = KNOWN) -> AuthenticationError:
    return AuthenticationError(f"HTTP {status}", status_code=status, envelope=envelope)


def test_a_401_or_a_refusal_that_names_no_profile_refuses_the_key() -> None:
    refusals = KeyRefusals(rows_needed=3, interval=1.0)
    assert refusals.refused(1, refusal(401), now=0.0, watched=10, generation=0)
    assert refusals.refused(1, refusal(403, None), now=0.0, watched=10, generation=0)
    assert refusals.refused(1, refusal(403, Envelope(errors=["no"])), now=0.0, watched=10,
                            generation=0)


def test_403s_naming_the_key_refuse_it_only_after_an_interval_of_several_rows() -> None:
    refusals = KeyRefusals(rows_needed=3, interval=1.0)
    for conversion_id in (1, 2, 3):
        refusals.answered(conversion_id, 0)
    # Three rows that answered before, refused in step: not yet an interval.
    assert not any(refusals.refused(i, refusal(), now=5.0 + i / 100, watched=10,
                                    generation=0) for i in (1, 2, 3))
    # Still refused a whole interval later, nothing answered between: the key.
    assert refusals.refused(1, refusal(), now=6.1, watched=10, generation=0)


def test_an_answer_between_makes_them_rows_problems() -> None:
    refusals = KeyRefusals(rows_needed=3, interval=1.0)
    for conversion_id in (1, 2, 3):
        refusals.answered(conversion_id, 0)
    for step, conversion_id in enumerate((1, 2, 3, 1, 2, 3)):
        # Two refusals, then another row answers: never three rows with none between.
        if step % 2 == 0:
            refusals.answered(9, 0)
        assert not refusals.refused(conversion_id, refusal(), now=10.0 + step,
                                    watched=10, generation=0)


def test_rows_never_seen_refused_while_others_answered_before_stay_rows_problems() -> None:
    # A tenant key: rows 1-3 never answered it; row 9 did (a settled row, asked rarely).
    refusals = KeyRefusals(rows_needed=3, interval=1.0)
    refusals.answered(9, 0)
    assert not any(refusals.refused(i, refusal(), now=float(i * 10), watched=4,
                                    generation=0) for i in (1, 2, 3, 1, 2, 3))


def test_with_nothing_ever_answered_an_interval_of_refusals_refuses_the_key() -> None:
    refusals = KeyRefusals(rows_needed=3, interval=1.0)
    assert not refusals.refused(1, refusal(), now=0.0, watched=2, generation=0)
    assert not refusals.refused(2, refusal(), now=0.5, watched=2, generation=0)
    assert refusals.refused(1, refusal(), now=1.5, watched=2, generation=0)
    # One watched row can never be "several rows".
    single = KeyRefusals(rows_needed=3, interval=1.0)
    assert not any(single.refused(1, refusal(), now=float(t), watched=1, generation=0)
                   for t in range(5))


def test_a_new_key_starts_afresh() -> None:
    refusals = KeyRefusals(rows_needed=2, interval=1.0)
    refusals.refused(1, refusal(), now=0.0, watched=5, generation=0)
    refusals.new_key()
    assert not refusals.refused(2, refusal(), now=5.0, watched=5, generation=1)
