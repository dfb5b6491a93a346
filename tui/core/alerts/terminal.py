"""The bell and desktop notifications sent through the terminal, as bytes.

Support staff run the monitor over SSH, so a desktop notification can only travel
through the terminal: OSC 9 (iTerm2, WezTerm, Windows Terminal, foot, Ghostty), OSC 777
(urxvt, VTE terminals such as GNOME Terminal) and OSC 99 (kitty's protocol, title and
body as two parts). A terminal ignores the ones it does not know, so all that are
switched on are sent. Inside tmux each OSC is wrapped in tmux's DCS passthrough (as the
OSC 52 copy is, :mod:`tui.core.clipboard`), and only the wrapped one is sent: tmux would
swallow the plain one, and one that tmux learns to forward must not notify twice. The
bell goes plain: tmux handles the bell itself (``bell-action``, ``monitor-bell``).

The text is server-influenced (file names, status words): control characters are made
visible by :func:`tui.core.untrusted.printable` (so no ESC or BEL can end the sequence
early) and cut to a length; ``;``, which separates OSC 777's fields (and which some
terminals read as a sub-command in OSC 9), becomes ``,``. The UI writes the bytes.
"""

from __future__ import annotations

from typing import Final

from tui.core.alerts.events import Alert
from tui.core.alerts.settings import ChannelSwitches
from tui.core.clipboard import inside_tmux
from tui.core.untrusted import printable

__all__ = [
    "BEL",
    "BODY_LIMIT",
    "TITLE_LIMIT",
    "inside_tmux",
    "notification_bytes",
    "osc9",
    "osc99",
    "osc777",
    "tmux_passthrough",
]

BEL: Final = b"\x07"
_ESC: Final = b"\x1b"
_ST: Final = b"\x1b\\"
TITLE_LIMIT: Final = 80
BODY_LIMIT: Final = 240


def _clean(text: str, limit: int) -> bytes:
    """``text`` with no control character and no ``;``, at most ``limit`` characters."""
    return printable(text, limit=limit).replace(";", ",").encode("utf-8")


def tmux_passthrough(sequence: bytes) -> bytes:
    """``sequence`` wrapped so tmux passes it to the outer terminal (with
    ``allow-passthrough on``): ``ESC P tmux; <sequence, each ESC doubled> ESC \\``."""
    return _ESC + b"Ptmux;" + sequence.replace(_ESC, _ESC + _ESC) + _ST


def osc9(text: str) -> bytes:
    """``ESC ] 9 ; text BEL``: one line of text."""
    return _ESC + b"]9;" + _clean(text, TITLE_LIMIT + BODY_LIMIT) + BEL


def osc777(title: str, body: str) -> bytes:
    """``ESC ] 777 ; notify ; title ; body BEL``."""
    return (_ESC + b"]777;notify;" + _clean(title, TITLE_LIMIT) + b";"
            + _clean(body, BODY_LIMIT) + BEL)


def osc99(title: str, body: str, identifier: str) -> bytes:
    """kitty's two-part notification: ``ESC ] 99 ; i=ID:d=0:p=title ; title ESC \\`` then
    ``ESC ] 99 ; i=ID:d=1:p=body ; body ESC \\`` (``d=0``: more parts follow; the shared
    ``i`` joins them into one notification). ``identifier`` must be letters, digits,
    ``-`` or ``_``."""
    if not identifier or not all(c.isascii() and (c.isalnum() or c in "-_") for c in identifier):
        raise ValueError(f"{identifier!r} is not a usable notification identifier")
    ident = identifier.encode("ascii")
    return (_ESC + b"]99;i=" + ident + b":d=0:p=title;" + _clean(title, TITLE_LIMIT) + _ST
            + _ESC + b"]99;i=" + ident + b":d=1:p=body;" + _clean(body, BODY_LIMIT) + _ST)


def notification_bytes(alert: Alert, channels: ChannelSwitches, *, in_tmux: bool,
                       identifier: str = "conversions-tui") -> bytes:
    """Every byte to write to the terminal for ``alert`` on the ``channels`` switched on
    (empty when none is). ``identifier`` names the OSC 99 notification: give each alert
    its own (a counter) so one does not replace the last."""
    out = [BEL] if channels.bell else []
    sequences = []
    if channels.osc9:
        sequences.append(osc9(f"{alert.title}: {alert.text}"))
    if channels.osc777:
        sequences.append(osc777(alert.title, alert.text))
    if channels.osc99:
        sequences.append(osc99(alert.title, alert.text, identifier))
    out.extend(tmux_passthrough(seq) if in_tmux else seq for seq in sequences)
    return b"".join(out)
