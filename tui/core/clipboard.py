"""Copy to the user's clipboard from a terminal app over SSH, with OSC 52.

Support staff run the monitor on a remote host, so the local clipboard is only
reachable through the terminal: the OSC 52 escape sequence asks the terminal
emulator to set its clipboard to a base64 payload. Inside tmux the sequence
must be wrapped in tmux's DCS passthrough, or tmux swallows it.

This module only builds the bytes and the toast text; the UI writes the bytes
to the terminal (or uses Textual's ``copy_to_clipboard``, which sends the same
sequence outside tmux).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ClipboardCopy",
    "ClipboardTooLarge",
    "describe_size",
    "inside_tmux",
    "osc52_sequence",
]

# Many terminals cap OSC 52 payloads (xterm ~100 kB by default, some far less);
# over the cap the copy silently fails, so we refuse loudly instead.
DEFAULT_MAX_BYTES: Final = 100_000

_ESC: Final = b"\x1b"
_BEL: Final = b"\x07"


class ClipboardTooLarge(ValueError):
    """The base64 payload is larger than the terminal is trusted to accept."""

    def __init__(self, size: int, cap: int) -> None:
        self.size = size
        self.cap = cap
        super().__init__(
            f"Too large to copy through the terminal: {describe_size(size)} encoded, "
            f"the limit is {describe_size(cap)}. Export to a file instead."
        )


def inside_tmux(env: Mapping[str, str]) -> bool:
    """True when the app runs inside tmux (``TMUX`` is set and not empty)."""
    return bool(env.get("TMUX"))


def osc52_sequence(text: str, *, inside_tmux: bool, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes that make the terminal put ``text`` (UTF-8) on its clipboard.

    ``ESC ] 52 ; c ; <base64> BEL``. Inside tmux the plain sequence is followed by
    the same one wrapped as ``ESC P tmux; <sequence with every ESC doubled> ESC \\``:
    tmux itself takes the plain one when ``set-clipboard`` is on (its default
    since 3.3 is "external", which ignores applications), and passes the wrapped
    one to the outer terminal when ``allow-passthrough`` is on. Raises
    :class:`ClipboardTooLarge` when the base64 payload is over ``max_bytes``.
    """
    payload = base64.b64encode(text.encode("utf-8"))
    if len(payload) > max_bytes:
        raise ClipboardTooLarge(len(payload), max_bytes)
    sequence = _ESC + b"]52;c;" + payload + _BEL
    if not inside_tmux:
        return sequence
    # tmux passes a DCS body through verbatim once each ESC in it is doubled.
    return sequence + _ESC + b"Ptmux;" + sequence.replace(_ESC, _ESC + _ESC) + _ESC + b"\\"


def describe_size(size: int) -> str:
    """A byte count for people: "640 B", "1.2 kB", "3.4 MB" (decimal units)."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"


@dataclass(frozen=True, slots=True)
class ClipboardCopy:
    """What was put on the clipboard, and the bytes that do it.

    ``what`` names the content in the toast ("IDs", "triage summary"); ``count`` is
    set when the content is a number of items (IDs).
    """

    text: str
    what: str
    count: int | None = None

    @classmethod
    def of_ids(cls, ids: list[int]) -> ClipboardCopy:
        """A copy of conversion IDs, one per line."""
        return cls("\n".join(str(i) for i in ids), "ID" if len(ids) == 1 else "IDs", len(ids))

    @property
    def size(self) -> int:
        """Size of the text in UTF-8 bytes."""
        return len(self.text.encode("utf-8"))

    def description(self) -> str:
        """A short sentence for the toast: "Copied 3 IDs", "Copied triage summary (1.2 kB)"."""
        if self.count is not None:
            return f"Copied {self.count} {self.what}"
        return f"Copied {self.what} ({describe_size(self.size)})"

    def sequence(self, *, inside_tmux: bool, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        """The OSC 52 bytes for this copy (see :func:`osc52_sequence`)."""
        return osc52_sequence(self.text, inside_tmux=inside_tmux, max_bytes=max_bytes)
