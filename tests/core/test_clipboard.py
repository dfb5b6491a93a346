"""OSC 52 bytes, tmux passthrough, the size cap and the toast text."""

from __future__ import annotations

import base64
import re

import pytest

from tui.core.clipboard import (
    ClipboardCopy,
    ClipboardTooLarge,
    describe_size,
    inside_tmux,
    osc52_sequence,
)


def test_plain_sequence_is_exact() -> None:
    # base64("hi") == "aGk="
    assert osc52_sequence("hi", inside_tmux=False) == b"\x1b]52;c;aGk=\x07"


def test_tmux_sequence_is_plain_then_wrapped_with_every_escape_doubled() -> None:
    # Plain for tmux's own set-clipboard, wrapped for allow-passthrough.
    assert osc52_sequence("hi", inside_tmux=True) == (
        b"\x1b]52;c;aGk=\x07" + b"\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"
    )


def test_tmux_body_unwraps_to_the_plain_sequence() -> None:
    text = "4512\n4513\nZürich ✓"
    plain = osc52_sequence(text, inside_tmux=False)
    both = osc52_sequence(text, inside_tmux=True)
    assert both.startswith(plain)
    wrapped = both.removeprefix(plain)
    match = re.fullmatch(rb"\x1bPtmux;(.*)\x1b\\", wrapped, flags=re.DOTALL)
    assert match is not None
    body = match.group(1)
    # No lone ESC in the body: tmux would end the passthrough there.
    assert b"\x1b" not in body.replace(b"\x1b\x1b", b"")
    assert body.replace(b"\x1b\x1b", b"\x1b") == osc52_sequence(text, inside_tmux=False)


def test_payload_decodes_back_to_utf8_text() -> None:
    text = "Conversion 42 — ESC\x1b inside stays data"
    sequence = osc52_sequence(text, inside_tmux=False)
    payload = sequence.removeprefix(b"\x1b]52;c;").removesuffix(b"\x07")
    assert base64.b64decode(payload).decode("utf-8") == text
    # The text's own ESC is inside base64, never raw on the wire.
    assert sequence.count(b"\x1b") == 1


def test_cap_is_on_the_base64_payload() -> None:
    # 75 bytes of text -> exactly 100 bytes of base64.
    assert len(osc52_sequence("a" * 75, inside_tmux=False, max_bytes=100)) == 100 + 8
    with pytest.raises(ClipboardTooLarge) as info:
        osc52_sequence("a" * 76, inside_tmux=False, max_bytes=100)
    assert info.value.size == 104
    assert info.value.cap == 100
    assert "104 B" in str(info.value) and "100 B" in str(info.value)


def test_default_cap_refuses_a_huge_text() -> None:
    with pytest.raises(ClipboardTooLarge) as info:
        osc52_sequence("x" * 80_000, inside_tmux=True)
    assert info.value.cap == 100_000
    assert info.value.size == len(base64.b64encode(b"x" * 80_000))


@pytest.mark.parametrize(
    ("env", "expected"),
    [({"TMUX": "/tmp/tmux-1000/default,1234,0"}, True), ({"TMUX": ""}, False), ({}, False)],
)
def test_inside_tmux(env: dict[str, str], expected: bool) -> None:
    assert inside_tmux(env) is expected


def test_descriptions_for_the_toast() -> None:
    assert ClipboardCopy.of_ids([1, 2, 3]).description() == "Copied 3 IDs"
    assert ClipboardCopy.of_ids([7]).description() == "Copied 1 ID"
    summary = ClipboardCopy("x" * 1234, "triage summary")
    assert summary.description() == "Copied triage summary (1.2 kB)"
    assert ClipboardCopy("é", "note").description() == "Copied note (2 B)"


def test_ids_copy_text_and_sequence() -> None:
    copy = ClipboardCopy.of_ids([4512, 4513])
    assert copy.text == "4512\n4513"
    assert copy.sequence(inside_tmux=False) == osc52_sequence("4512\n4513", inside_tmux=False)


def test_describe_size() -> None:
    assert describe_size(999) == "999 B"
    assert describe_size(1000) == "1.0 kB"
    assert describe_size(2_500_000) == "2.5 MB"
