"""The team store's change feed: NOTIFY on every write, a reader that LISTENs.

Each write notifies the profile's channel (:func:`channel_for`) with its change number and
the IDs it changed or removed, in the same transaction (PostgreSQL delivers it on commit,
never for a rollback). A payload is text such as ``c57 12,13`` (write 57 changed rows 12
and 13) or ``r58 7`` (write 58 removed 7); PostgreSQL refuses payloads of 8000 bytes or
more, so long lists are split (:func:`payloads`).

Writes of one profile are serialised (a transaction-level advisory lock), so they commit,
and are notified, in the order of their numbers: a reader that has taken the notification
of write N has taken every earlier one. Notifications sent while a reader's connection was
down are lost; it then catches up by the number (rows stamped after the last N it took).

A follower's ``r`` / ``R`` asks the leader to check rows at once on a second channel of the
profile (:func:`ask_channel_for`): ``q 12,13`` (check 12 and 13; split like the changes)
or ``q *`` (check every watched row, without naming 10,000 IDs). Only the leader listens
there; it hands what it hears to its scheduler (see :func:`ask_payloads`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

__all__ = ["MAX_PAYLOAD", "CheckAsk", "Notice", "ask_channel_for", "ask_payloads",
           "channel_for", "parse_ask", "parse_payload", "payloads", "write_key"]

MAX_PAYLOAD = 7900
"""Bytes per notification payload, under PostgreSQL's limit of 8000."""


def channel_for(base_url: str) -> str:
    """The channel of one profile (its base URL hashed: channel names are short idents)."""
    return "conversions_" + hashlib.sha256(base_url.encode()).hexdigest()[:24]


def ask_channel_for(base_url: str) -> str:
    """The channel where followers ask the leader of one profile to check rows now."""
    return "conversions_ask_" + hashlib.sha256(base_url.encode()).hexdigest()[:24]


def write_key(base_url: str) -> int:
    """The advisory lock key that serialises one profile's writes (signed 64-bit)."""
    digest = hashlib.sha256(b"conversions-tui writes " + base_url.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _chunks(head: str, ids: Iterable[int]) -> Iterator[str]:
    line: list[str] = []
    size = len(head) + 1
    for value in ids:
        text = str(int(value))
        if line and size + len(text) + 1 > MAX_PAYLOAD:
            yield f"{head} " + ",".join(line)
            line, size = [], len(head) + 1
        line.append(text)
        size += len(text) + 1
    if line:
        yield f"{head} " + ",".join(line)


def payloads(seq: int, changed: Iterable[int] = (), removed: Iterable[int] = ()) -> list[str]:
    """The payloads of write ``seq`` naming ``changed`` and ``removed`` IDs, each under
    :data:`MAX_PAYLOAD` bytes (one, with no IDs, when there are none: the number counts)."""
    found = [*_chunks(f"c{seq}", changed), *_chunks(f"r{seq}", removed)]
    return found or [f"c{seq} "]


@dataclass
class Notice:
    """What notifications said, merged: the last change number and the IDs."""

    seq: int = 0
    changed: set[int] = field(default_factory=set)
    removed: set[int] = field(default_factory=set)


def parse_payload(text: str, into: Notice | None = None) -> Notice:
    """Add what one payload says to ``into`` (a new :class:`Notice` by default); anything
    unreadable is ignored (any client of the database may notify the channel)."""
    notice = Notice() if into is None else into
    head, _, numbers = text.partition(" ")
    kind, number = head[:1], head[1:]
    if kind not in ("c", "r") or not number.isdigit() or len(number) > 19:
        return notice
    target = notice.changed if kind == "c" else notice.removed
    for part in numbers.split(","):
        if part.isdigit() and len(part) <= 19 and 0 < int(part) < 2**63:
            target.add(int(part))
    notice.seq = max(notice.seq, int(number))
    return notice


_EVERY = "q *"


def ask_payloads(ids: Iterable[int] | None) -> list[str]:
    """The payloads asking the leader to check ``ids`` now (None: every watched row), each
    under :data:`MAX_PAYLOAD` bytes; none for no IDs."""
    if ids is None:
        return [_EVERY]
    return list(_chunks("q", ids))


@dataclass
class CheckAsk:
    """What asks to check said, merged: the IDs, or ``everything``."""

    ids: set[int] = field(default_factory=set)
    everything: bool = False

    def __bool__(self) -> bool:
        return self.everything or bool(self.ids)


def parse_ask(text: str, into: CheckAsk | None = None) -> CheckAsk:
    """Add what one ask says to ``into`` (a new :class:`CheckAsk` by default); anything
    unreadable is ignored (any client of the database may notify the channel)."""
    ask = CheckAsk() if into is None else into
    if text == _EVERY:
        ask.everything = True
    elif text.startswith("q "):
        for part in text[2:].split(","):
            if part.isdigit() and len(part) <= 19 and 0 < int(part) < 2**63:
                ask.ids.add(int(part))
    return ask
