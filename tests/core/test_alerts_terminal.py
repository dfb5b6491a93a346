"""The bell and OSC 9 / 777 / 99 notification bytes, inside and outside tmux."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.core.alerts.events import Alert, AlertKind
from tui.core.alerts.settings import ChannelSwitches
from tui.core.alerts.terminal import (
    BODY_LIMIT,
    TITLE_LIMIT,
    inside_tmux,
    notification_bytes,
    osc9,
    osc99,
    osc777,
)

ALERT = Alert(AlertKind.FAILED, "Conversion 7 failed (a.csv)", at=0.0, ids=(7,))
ALL = ChannelSwitches()


def test_each_protocol_exactly_outside_tmux() -> None:
    assert notification_bytes(ALERT, ALL, in_tmux=False, identifier="a1") == (
        b"\x07"
        b"\x1b]9;Conversion failed: Conversion 7 failed (a.csv)\x07"
        b"\x1b]777;notify;Conversion failed;Conversion 7 failed (a.csv)\x07"
        b"\x1b]99;i=a1:d=0:p=title;Conversion failed\x1b\\"
        b"\x1b]99;i=a1:d=1:p=body;Conversion 7 failed (a.csv)\x1b\\"
    )


def test_inside_tmux_each_osc_is_wrapped_and_the_bell_is_not() -> None:
    assert notification_bytes(ALERT, ChannelSwitches(osc777=False), in_tmux=True,
                              identifier="a1") == (
        b"\x07"
        b"\x1bPtmux;\x1b\x1b]9;Conversion failed: Conversion 7 failed (a.csv)\x07\x1b\\"
        b"\x1bPtmux;\x1b\x1b]99;i=a1:d=0:p=title;Conversion failed\x1b\x1b\\"
        b"\x1b\x1b]99;i=a1:d=1:p=body;Conversion 7 failed (a.csv)\x1b\x1b\\\x1b\\"
    )
    assert inside_tmux({"TMUX": "/tmp/tmux-0/default,1,0"}) and not inside_tmux({})


@pytest.mark.parametrize(("switches", "expected"), [
    (ChannelSwitches(False, False, False, False), b""),
    (ChannelSwitches(True, False, False, False), b"\x07"),
    (ChannelSwitches(False, True, False, False), b"\x1b]9;Conversion failed: x\x07"),
    (ChannelSwitches(False, False, True, False), b"\x1b]777;notify;Conversion failed;x\x07"),
])
def test_each_channel_switches_off(switches: ChannelSwitches, expected: bytes) -> None:
    alert = Alert(AlertKind.FAILED, "x", at=0.0)
    assert notification_bytes(alert, switches, in_tmux=False) == expected


def test_hostile_text_cannot_end_the_sequence_or_add_fields() -> None:
    hostile = "evil\x07\x1b]0;title\x1b\\;more\x9c\u202e"
    # BEL and ESC become visible pictures (U+2407, U+241B), ";" a comma, C1 and BiDi named.
    assert osc9(hostile) == ("\x1b]9;evil\u2407\u241b]0,title\u241b\\,more<U+009C><U+202E>"
                             "\x07").encode()
    body = osc777("t;itle", hostile)
    assert body.count(b";") == 3 and body.count(b"\x07") == 1 and body.count(b"\x1b") == 1


def test_text_is_capped() -> None:
    sequence = osc777("t" * 1000, "b" * 10_000)
    assert len(sequence) < TITLE_LIMIT + BODY_LIMIT + 40


def test_a_bad_kitty_identifier_is_refused() -> None:
    with pytest.raises(ValueError, match="identifier"):
        osc99("t", "b", "a;b")


@given(st.text(max_size=300), st.text(max_size=300))
def test_any_text_gives_exactly_the_protocols_framing(title: str, body: str) -> None:
    for sequence, escapes, bells, separators in (
            (osc9(title + body), 1, 1, 1), (osc777(title, body), 1, 1, 3),
            (osc99(title, body, "x"), 4, 0, 4)):
        assert sequence.count(b"\x1b") == escapes
        assert sequence.count(b"\x07") == bells
        assert sequence.count(b";") == separators
