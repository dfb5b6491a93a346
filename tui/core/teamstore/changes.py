"""The team store's change feed: NOTIFY on every write, a reader that LISTENs.

Each write notifies the profile's channel (:func:`channel_for`) with the IDs it changed or
removed, in the same transaction (PostgreSQL delivers it on commit, never for a rollback).
A payload is text such as ``c 12,13`` (rows changed) or ``r 7`` (rows removed); PostgreSQL
refuses payloads of 8000 bytes or more, so long lists are split (:func:`payloads`).

A follower reads the rows named in one batch (:class:`ChangeReader`). Notifications sent
while its connection was down are lost, so after reconnecting it catches up by the
change counter instead (``changed_seq`` / ``removed_seq`` above the last number it saw).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

__all__ = ["MAX_PAYLOAD", "channel_for", "parse_payload", "payloads"]

MAX_PAYLOAD = 7900
"""Bytes per notification payload, under PostgreSQL's limit of 8000."""


def channel_for(base_url: str) -> str:
    """The channel of one profile (its base URL hashed: channel names are short idents)."""
    return "conversions_" + hashlib.sha256(base_url.encode()).hexdigest()[:24]


def _chunks(kind: str, ids: Iterable[int]) -> Iterator[str]:
    line: list[str] = []
    size = 2
    for value in ids:
        text = str(int(value))
        if line and size + len(text) + 1 > MAX_PAYLOAD:
            yield f"{kind} " + ",".join(line)
            line, size = [], 2
        line.append(text)
        size += len(text) + 1
    if line:
        yield f"{kind} " + ",".join(line)


def payloads(changed: Iterable[int] = (), removed: Iterable[int] = ()) -> list[str]:
    """The notification payloads that name ``changed`` and ``removed`` IDs, each under
    :data:`MAX_PAYLOAD` bytes."""
    return [*_chunks("c", changed), *_chunks("r", removed)]


def parse_payload(text: str) -> tuple[set[int], set[int]]:
    """The (changed, removed) IDs a payload names; anything unreadable is ignored (any
    client of the database may notify the channel)."""
    changed: set[int] = set()
    removed: set[int] = set()
    kind, _, numbers = text.partition(" ")
    target = changed if kind == "c" else removed if kind == "r" else None
    if target is None:
        return changed, removed
    for part in numbers.split(","):
        if part.isdigit() and 0 < int(part) < 2**63:
            target.add(int(part))
    return changed, removed
