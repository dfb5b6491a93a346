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
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

__all__ = ["MAX_PAYLOAD", "Notice", "channel_for", "parse_payload", "payloads", "write_key"]

MAX_PAYLOAD = 7900
"""Bytes per notification payload, under PostgreSQL's limit of 8000."""


def channel_for(base_url: str) -> str:
    """The channel of one profile (its base URL hashed: channel names are short idents)."""
    return "conversions_" + hashlib.sha256(base_url.encode()).hexdigest()[:24]


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
