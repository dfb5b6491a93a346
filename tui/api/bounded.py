"""Reading an answer's body with a cap on its size, counted after decompression.

A server (or a proxy in front of it) can answer with a body that never ends, or a small
gzip stream that inflates to gigabytes. Either would be read into memory whole by
``response.aread()``. Here the body is read as raw chunks and inflated by our own zlib
objects with ``max_length``, so no more than the cap plus one piece (256 KiB) is ever
held: httpx's own decoder would inflate a whole raw chunk (up to 64 KiB from httpcore)
at once, which for a gzip bomb is about a thousand times its size.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import AsyncGenerator, Iterator
from typing import cast

import httpx

from tui.api.errors import AnswerTooLargeError, body_excerpt

__all__ = ["ACCEPT_ENCODING", "describe_size", "read_capped"]

#: The encodings :func:`read_capped` inflates; sent as Accept-Encoding so a server that
#: compresses uses one of them.
ACCEPT_ENCODING = "gzip, deflate"
_KIB = 1024
_MIB = 1024 * 1024
# The most inflated at once: small enough that the cap is never passed by much, large
# enough that a real compressed answer takes a piece or two.
_PIECE = 256 * _KIB


def describe_size(limit: int) -> str:
    """A cap in the unit people read it in: "16 MiB", "4 KiB", "1000 bytes"."""
    if limit >= _MIB and limit % _MIB == 0:
        return f"{limit // _MIB} MiB"
    if limit >= _KIB and limit % _KIB == 0:
        return f"{limit // _KIB} KiB"
    return f"{limit} bytes"


class _Inflater:
    """gzip or deflate, one raw chunk at a time, in pieces of at most :data:`_PIECE`."""

    def __init__(self, wbits: int, *, raw_fallback: bool) -> None:
        self._inflate = zlib.decompressobj(wbits)
        # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
        self._raw_fallback = raw_fallback

    def pieces(self, data: bytes, request: httpx.Request) -> Iterator[bytes]:
        """Inflate ``data`` a piece at a time, so a caller that stops at its cap has never
        held more than the cap plus one piece (the rest of the input is not inflated)."""
        while data:
            try:
                piece = self._inflate.decompress(data, _PIECE)
            except zlib.error as exc:
                if not self._raw_fallback:
                    raise _damaged(exc, request) from None
                self._raw_fallback = False
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            self._raw_fallback = False  # only the first bytes can tell which it is
            data = self._inflate.unconsumed_tail
            yield piece

    def flush(self) -> bytes:
        """What is left once the input ended (nothing, as every call consumed its input)."""
        return self._inflate.flush()


def _damaged(exc: zlib.error, request: httpx.Request) -> httpx.DecodingError:
    return httpx.DecodingError(f"the compressed answer is damaged: {exc}", request=request)


def _inflater_for(content_encoding: str | None) -> _Inflater | None:
    """The decoder for a Content-Encoding header; None for none, identity or an
    encoding we did not ask for (read as it came, as httpx does)."""
    if not content_encoding:
        return None
    coding = content_encoding.strip().lower()
    if coding in ("gzip", "x-gzip"):
        return _Inflater(zlib.MAX_WBITS | 16, raw_fallback=False)
    if coding == "deflate":
        return _Inflater(zlib.MAX_WBITS, raw_fallback=True)
    return None


def _too_large(response: httpx.Response, limit: int, seen: bytes, *,
               announced: str | None = None) -> AnswerTooLargeError:
    if announced is not None:
        message = (f"The server announced an answer larger than {describe_size(limit)} "
                   f"({announced} bytes); it was not read.")
    else:
        message = f"The server's answer was larger than {describe_size(limit)}; it was cut off."
    error = AnswerTooLargeError(message, status_code=response.status_code,
                                body_excerpt=body_excerpt(seen),
                                content_type=response.headers.get("content-type"))
    error.limit = limit
    return error


async def read_capped(response: httpx.Response, limit: int) -> bytes:
    """The body of a streamed ``response``, inflated, if it is at most ``limit`` bytes.

    Raises :class:`AnswerTooLargeError` before reading when Content-Length is above the
    limit, and as soon as the body (decompressed) passes it; the caller then closes the
    response, which closes the connection rather than draining it. A damaged compressed
    body raises ``httpx.DecodingError``.
    """
    headers = response.headers
    declared = headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and (
            int(declared) > limit):
        raise _too_large(response, limit, b"", announced=declared)
    if response.is_stream_consumed:
        # Built in memory and read already (a MockTransport answer): only the size to check.
        if len(response.content) > limit:
            raise _too_large(response, limit, response.content)
        return response.content
    inflater = _inflater_for(headers.get("content-encoding"))
    chunks: list[bytes] = []
    size = 0
    too_large: AnswerTooLargeError | None = None
    raw_chunks = cast(AsyncGenerator[bytes, None], response.aiter_raw())
    async with contextlib.aclosing(raw_chunks) as raws:
        async for raw in raws:
            pieces = (raw,) if inflater is None else inflater.pieces(raw, response.request)
            for data in pieces:
                size += len(data)
                if size > limit:
                    too_large = _too_large(response, limit, chunks[0] if chunks else data)
                    break
                chunks.append(data)
                if inflater is not None:
                    # One raw chunk of a gzip bomb inflates to the whole cap: let the
                    # other requests on this event loop run between pieces.
                    await asyncio.sleep(0)
            if too_large is not None:
                # Server bytes (a key echoed back, even) stay out of a traceback printed
                # with its local variables.
                del chunks, raw, data, pieces
                raise too_large
    if inflater is not None:
        rest = inflater.flush()
        size += len(rest)
        if size > limit:
            raise _too_large(response, limit, chunks[0] if chunks else rest)
        chunks.append(rest)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
