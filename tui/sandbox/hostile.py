"""Hostile answers for the ID-scoped faults: endless, oversized, trickling, gzip bombs.

Each one is what a real deployment can put between the API and a client (a proxy that
streams garbage, a load balancer that drips, a compressing cache gone wrong). They are
sent through plain ASGI messages, so they work on any server; every long one watches for
the client hanging up and stops then, so a test cannot leave the sandbox sending forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import struct
import threading
import zlib
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from starlette.types import Message, Receive, Send

#: An endless body stops after this much even if the client keeps reading.
ENDLESS_LIMIT = 1024 * 1024 * 1024
WRONG_FILE_NAME = "someone-elses.csv"

_CHUNK = 64 * 1024
_SPACES = b" " * _CHUNK
_MIB = 1024 * 1024
_MIB_OF_SPACES = b" " * _MIB
_CONVERSION_PATH = re.compile(r"^/v1/conversions/(\d{1,19})(?:/status)?$")
# gzip member header: magic, deflate, no flags, no mtime, no extra flags, unknown OS.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


_open = [0]
_open_lock = threading.Lock()  # sandboxes in several threads of one process share it


def answers_in_progress() -> int:
    """Long hostile answers being sent right now, by every sandbox in this process (a test
    checks it falls to 0 once its client hung up)."""
    return _open[0]


def conversion_id_of(path: str) -> int | None:
    """The conversion ID a status or delete path names, else None (a batch post)."""
    match = _CONVERSION_PATH.match(path)
    return int(match.group(1)) if match else None


class Hangup:
    """Watches ``receive`` for the client hanging up, while a long answer is sent.

    ``async with Hangup(receive) as hangup``: ``hangup.gone`` turns True once the client
    closed the connection; ``await hangup.pause(s)`` waits ``s`` seconds or until then.
    """

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Hangup:
        self._task = asyncio.create_task(self._watch())
        with _open_lock:
            _open[0] += 1
        return self

    async def __aexit__(self, kind: type[BaseException] | None, value: BaseException | None,
                        traceback: TracebackType | None) -> None:
        with _open_lock:
            _open[0] -= 1
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        while (await self._receive())["type"] != "http.disconnect":
            pass  # an unread request body: not wanted
        self._event.set()

    @property
    def gone(self) -> bool:
        """Whether the client has hung up."""
        return self._event.is_set()

    async def pause(self, seconds: float) -> bool:
        """Wait ``seconds`` (cut short when the client hangs up); True when it is gone."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._event.wait()
        return self.gone


def _headers(start: Message, *, drop: tuple[bytes, ...] = (b"content-length",),
             add: tuple[tuple[bytes, bytes], ...] = ()) -> list[tuple[bytes, bytes]]:
    kept = [(name, value) for name, value in start.get("headers", [])
            if name.lower() not in drop]
    return kept + list(add)


async def send_endless(receive: Receive, send: Send, conversion_id: int | None) -> None:
    """200, application/json, chunked, and a body that does not end (until the client
    hangs up, or :data:`ENDLESS_LIMIT`)."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    opening = json.dumps({"profile": None, "payload": {"id": conversion_id or 0}})[:-2]
    sent = 0
    async with Hangup(receive) as hangup:
        await send({"type": "http.response.body", "body": opening.encode() + b', "x": "',
                    "more_body": True})
        filler = b"A" * _CHUNK
        while not hangup.gone and sent < ENDLESS_LIMIT:
            await send({"type": "http.response.body", "body": filler, "more_body": True})
            sent += _CHUNK
            await asyncio.sleep(0)  # let the hang-up (and other requests) through
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def send_oversized(receive: Receive, send: Send, start: Message, body: bytes,
                         size: int, *, chunked: bool) -> None:
    """The answer followed by spaces (still valid JSON) up to ``size`` bytes in all."""
    padding = max(0, size - len(body))
    length = () if chunked else ((b"content-length", str(len(body) + padding).encode()),)
    await send({**start, "headers": _headers(start, add=length)})
    async with Hangup(receive) as hangup:
        await send({"type": "http.response.body", "body": body, "more_body": bool(padding)})
        while padding > 0 and not hangup.gone:
            piece = _SPACES[:padding]
            padding -= len(piece)
            await send({"type": "http.response.body", "body": piece,
                        "more_body": padding > 0})
            await asyncio.sleep(0)


async def send_trickle(receive: Receive, send: Send, start: Message, body: bytes,
                       rate: float) -> None:
    """The answer (with its Content-Length) at ``rate`` bytes a second."""
    await send({**start, "headers": _headers(
        start, add=((b"content-length", str(len(body)).encode()),))})
    step = max(1, int(rate / 10))  # about ten sends a second when fast, one byte when slow
    async with Hangup(receive) as hangup:
        for offset in range(0, len(body), step):
            if offset and await hangup.pause(step / rate):
                return
            piece = body[offset:offset + step]
            await send({"type": "http.response.body", "body": piece,
                        "more_body": offset + step < len(body)})
        if not body:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


async def send_gzip_bomb(receive: Receive, send: Send, start: Message, body: bytes,
                         size: int) -> None:
    """The answer padded with spaces to ``size`` bytes, gzip-compressed, chunked."""
    await send({**start, "headers": _headers(
        start, drop=(b"content-length", b"content-encoding"),
        add=((b"content-encoding", b"gzip"),))})
    async with Hangup(receive) as hangup:
        for piece in gzip_bomb(body, size):
            if hangup.gone:
                return
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def gzip_bomb(body: bytes, size: int, *, group: int = 64) -> Iterator[bytes]:
    """A gzip member holding ``body`` and spaces up to ``size`` bytes, in pieces of about
    ``group`` KiB on the wire (each about ``group`` MiB decompressed).

    Compressing a mebibyte of spaces after a full flush gives the same bytes every time,
    so that block is made once and repeated: a 1 GiB bomb costs a CRC, not a compression.
    """
    padding = max(0, size - len(body))
    whole, rest = divmod(padding, _MIB)
    head = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    yield _GZIP_HEADER + head.compress(body) + head.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(body)
    block = _spaces_block()
    for first in range(0, whole, group):
        count = min(group, whole - first)
        for _ in range(count):
            crc = zlib.crc32(_MIB_OF_SPACES, crc)
        yield block * count
    tail = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    last = _MIB_OF_SPACES[:rest]
    crc = zlib.crc32(last, crc)
    trailer = struct.pack("<II", crc, (len(body) + padding) & 0xFFFFFFFF)
    yield tail.compress(last) + tail.flush() + trailer


_BLOCK: list[bytes] = []


def _spaces_block() -> bytes:
    """A mebibyte of spaces as raw deflate, made to follow a full flush (cached)."""
    if not _BLOCK:
        maker = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        maker.compress(b" ")
        maker.flush(zlib.Z_FULL_FLUSH)
        _BLOCK.append(maker.compress(_MIB_OF_SPACES) + maker.flush(zlib.Z_FULL_FLUSH))
    return _BLOCK[0]


def about_another_conversion(body: bytes, wrong_id: int) -> bytes:
    """The answer with its payload's ID (and file name) swapped for another conversion's;
    unchanged when it has no payload with an ID (a 404, a batch answer)."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return body
    payload = data.get("payload") if isinstance(data, dict) else None
    if not isinstance(payload, dict) or "id" not in payload:
        return body
    payload["id"] = wrong_id
    payload["fileName"] = WRONG_FILE_NAME
    return json.dumps(data, ensure_ascii=False).encode("utf-8")
