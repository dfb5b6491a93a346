"""Answers the client must not trust blindly (issue 17): too large, endless, gzip bombs,
trickling, about another conversion, forbidden for one conversion.

Against the real sandbox over loopback (its ID-scoped faults make each shape); through
httpx.MockTransport only for what it cannot send (raw deflate, a damaged gzip stream, a
batch answer about records never sent, an escape sequence inside a swapped answer).
"""

from __future__ import annotations

import gzip
import json
import time
import traceback
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.api.test_client_errors import BASE, CANARY, envelope
from tui.api import (
    AuthenticationError,
    BadResponseError,
    ConflictError,
    ConversionRecord,
    ConversionsClient,
    TransportError,
)
from tui.api.errors import AnswerTooLargeError, WrongConversionError
from tui.sandbox import hostile
from tui.sandbox.runner import SandboxServer

LIMIT = 4096


def _wait_until_the_sandbox_stops_sending() -> None:
    """The sandbox's long answers end once the client hung up (generously bounded)."""
    deadline = time.monotonic() + 30
    while hostile.answers_in_progress() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert hostile.answers_in_progress() == 0, "the sandbox is still sending a long answer"


@pytest.fixture
async def make_client(sandbox: SandboxServer) -> AsyncIterator[Any]:
    """Clients of the sandbox with the given keyword arguments; all closed afterwards."""
    made: list[ConversionsClient] = []

    def make(**kwargs: Any) -> ConversionsClient:
        client = ConversionsClient(sandbox.base_url, sandbox.api_key, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
def conversion_id(sandbox: SandboxServer) -> int:
    return sandbox.state.add_conversion(status="Queued", frozen=True)


# -- the size cap --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["content-length", "chunked", "gzip"])
@pytest.mark.parametrize("size", [LIMIT - 1, LIMIT])
async def test_an_answer_up_to_the_cap_is_read(sandbox: SandboxServer, make_client: Any,
                                               conversion_id: int, shape: str,
                                               size: int) -> None:
    _pad_to(sandbox, conversion_id, shape, size)
    client = make_client(max_status_bytes=LIMIT)
    status = await client.get_status(conversion_id)
    assert status.payload is not None and status.payload.id == conversion_id
    assert len(status.raw_text) == size


@pytest.mark.parametrize("shape", ["content-length", "chunked", "gzip"])
async def test_one_byte_over_the_cap_is_cut_off(sandbox: SandboxServer, make_client: Any,
                                                conversion_id: int, shape: str) -> None:
    _pad_to(sandbox, conversion_id, shape, LIMIT + 1)
    client = make_client(max_status_bytes=LIMIT)
    with pytest.raises(AnswerTooLargeError) as caught:
        await client.get_status(conversion_id)
    error = caught.value
    assert isinstance(error, BadResponseError)
    assert error.limit == LIMIT and error.status_code == 200
    if shape == "content-length":
        assert str(error) == ("The server announced an answer larger than 4 KiB "
                              "(4097 bytes); it was not read.")
    else:
        assert str(error) == "The server's answer was larger than 4 KiB; it was cut off."


def _pad_to(sandbox: SandboxServer, conversion_id: int, shape: str, size: int) -> None:
    if shape == "gzip":
        sandbox.faults.update({"gzip_bomb_ids": [conversion_id], "gzip_bomb_bytes": size})
    else:
        sandbox.faults.update({"oversized_ids": [conversion_id], "oversized_bytes": size,
                               "oversized_chunked": shape == "chunked"})


async def test_the_batch_cap_is_its_own(sandbox: SandboxServer, make_client: Any) -> None:
    record = ConversionRecord(file_name="a.csv", data_source_type="Csv", content="YQ==")
    sandbox.faults.update({"oversized_ids": True, "oversized_bytes": 3 * LIMIT})
    roomy = make_client(max_status_bytes=LIMIT, max_batch_bytes=4 * LIMIT)
    assert (await roomy.post_batch([record])).payload is not None
    tight = make_client(max_status_bytes=8 * LIMIT, max_batch_bytes=2 * LIMIT)
    with pytest.raises(AnswerTooLargeError) as caught:
        await tight.post_batch([record])
    assert caught.value.limit == 2 * LIMIT


async def test_an_endless_answer_is_cut_off_and_frees_its_connection(
        sandbox: SandboxServer, make_client: Any, conversion_id: int) -> None:
    other = sandbox.state.add_conversion()
    sandbox.faults.endless_ids = [conversion_id]
    client = make_client(max_connections=1)  # a leaked slot would block the next call
    with pytest.raises(AnswerTooLargeError) as caught:
        await client.get_status(conversion_id)
    assert str(caught.value) == "The server's answer was larger than 16 MiB; it was cut off."
    assert caught.value.limit == 16 * 1024 * 1024
    assert caught.value.body_excerpt.startswith('{"profile": null')
    assert (await client.get_status(other)).payload is not None
    _wait_until_the_sandbox_stops_sending()  # the connection was closed, not drained


async def test_a_gzip_bomb_is_cut_off_without_inflating_it(
        sandbox: SandboxServer, make_client: Any, conversion_id: int) -> None:
    sandbox.faults.gzip_bomb_ids = [conversion_id]  # 1 GiB inflated
    client = make_client()
    tracemalloc.start()
    try:
        with pytest.raises(AnswerTooLargeError) as caught:
            await client.get_status(conversion_id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(caught.value) == "The server's answer was larger than 16 MiB; it was cut off."
    # The cap plus a piece, some margin: httpx's decoder alone would inflate each 64 KiB
    # chunk of this bomb to 64 MiB at once.
    assert peak < 24 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
    _wait_until_the_sandbox_stops_sending()


# -- the total deadline --------------------------------------------------------------------


async def test_a_trickle_ends_at_the_deadline_and_frees_its_slot(
        sandbox: SandboxServer, make_client: Any, conversion_id: int) -> None:
    other = sandbox.state.add_conversion()
    sandbox.faults.trickle_ids = [conversion_id]  # a byte every 2 s
    client = make_client(deadline=0.5, max_connections=1)
    with pytest.raises(TransportError) as caught:
        await client.get_status(conversion_id)
    assert caught.value.reason == "timeout"
    assert str(caught.value) == (f"The answer from 127.0.0.1:{sandbox.port} took longer "
                                 "than 0.5 s in all; it was cut off.")
    assert (await client.get_status(other)).payload is not None
    _wait_until_the_sandbox_stops_sending()


async def test_a_trickle_within_the_deadline_is_read(sandbox: SandboxServer,
                                                     make_client: Any,
                                                     conversion_id: int) -> None:
    sandbox.faults.update({"trickle_ids": [conversion_id], "trickle_rate": 5000})
    status = await make_client(timeout=10).get_status(conversion_id)
    assert status.payload is not None and status.payload.id == conversion_id


@pytest.mark.parametrize("bad", [{"deadline": 0}, {"deadline": -1.0},
                                 {"batch_deadline": float("nan")},
                                 {"deadline": float("inf")}, {"max_status_bytes": 0},
                                 {"max_batch_bytes": 1.5}, {"max_status_bytes": True}])
def test_bounds_must_be_positive(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ConversionsClient(BASE, CANARY, **bad)


# -- answers about another conversion ------------------------------------------------------


async def test_a_status_about_another_conversion_is_never_returned(
        sandbox: SandboxServer, make_client: Any, conversion_id: int) -> None:
    sandbox.faults.wrong_id_for = [conversion_id]
    with pytest.raises(WrongConversionError) as caught:
        await make_client().get_status(conversion_id)
    error = caught.value
    assert isinstance(error, BadResponseError)
    assert str(error) == f"The server answered about conversion 99, not {conversion_id}."
    assert (error.asked_id, error.answered_id, error.status_code) == (conversion_id, 99, 200)
    assert error.envelope is None and error.errors == []  # nothing of it taken as ours
    assert "someone-elses.csv" not in str(error)


async def test_a_delete_answered_about_another_conversion(sandbox: SandboxServer,
                                                         make_client: Any,
                                                         conversion_id: int) -> None:
    sandbox.faults.wrong_id_for = [conversion_id]
    sandbox.faults.wrong_id = 12345
    with pytest.raises(WrongConversionError) as caught:
        await make_client().delete(conversion_id)
    assert (caught.value.asked_id, caught.value.answered_id) == (conversion_id, 12345)
    assert caught.value.status_code == 202


async def test_a_conflict_about_another_conversion(sandbox: SandboxServer, make_client: Any,
                                                  conversion_id: int) -> None:
    sandbox.state.set_status(conversion_id, "Processing", frozen=True)
    client = make_client()
    with pytest.raises(ConflictError):
        await client.delete(conversion_id)
    sandbox.faults.wrong_id_for = [conversion_id]
    with pytest.raises(WrongConversionError) as caught:
        await client.delete(conversion_id)
    assert caught.value.status_code == 409 and caught.value.answered_id == 99


async def test_the_excerpt_of_a_swapped_answer_is_escaped() -> None:
    body = envelope({"id": 99, "status": "Queued", "fileName": "evil\u202ecsv.exe"})
    body["profile"] = None  # so the file name is within the excerpt
    raw = json.dumps(body, ensure_ascii=False).encode()  # the BiDi override as it is
    client = ConversionsClient(BASE, CANARY, transport=httpx.MockTransport(
        lambda request: httpx.Response(200, content=raw)))
    async with client:
        with pytest.raises(WrongConversionError) as caught:
            await client.get_status(2)
    assert str(caught.value) == "The server answered about conversion 99, not 2."
    assert "evil\\u202ecsv.exe" in caught.value.body_excerpt
    assert "\u202e" not in caught.value.body_excerpt


def _batch(results: list[dict[str, Any]]) -> dict[str, Any]:
    return envelope({"accepted": 0, "rejected": len(results), "results": results})


def _result(index: int) -> dict[str, Any]:
    return {"index": index, "accepted": False, "errors": ["bad"], "warnings": []}


@pytest.mark.parametrize(("indexes", "sent", "why"), [
    ([0, 2], 2, "a result is about record 2, and 2 were sent"),
    ([0, 0], 2, "two results are about record 0"),
    ([-1], None, "a result is about record -1, and fewer were sent"),
])
async def test_batch_results_about_records_not_sent(indexes: list[int], sent: int | None,
                                                    why: str) -> None:
    records = [ConversionRecord(file_name=f"{n}.csv", data_source_type="Csv", content="YQ==")
               for n in range(sent or 0)]
    client = ConversionsClient(BASE, CANARY, transport=httpx.MockTransport(
        lambda request: httpx.Response(207, json=_batch([_result(i) for i in indexes]))))
    async with client:
        with pytest.raises(BadResponseError) as caught:
            await client.post_batch(records if sent is not None else b"[{}]")
    assert str(caught.value) == f"The server's answer could not be used (HTTP 207): {why}."
    assert caught.value.envelope is not None  # the caller can still look at it


async def test_batch_results_in_range_are_returned() -> None:
    records = [ConversionRecord(file_name="a.csv", data_source_type="Csv", content="YQ==")]
    client = ConversionsClient(BASE, CANARY, transport=httpx.MockTransport(
        lambda request: httpx.Response(400, json=_batch([_result(0)]))))
    async with client:
        answer = await client.post_batch(records)
        assert answer.payload is not None and answer.payload.results[0].index == 0
        # Serialised records: their number is unknown, any index from 0 is taken.
        client2 = ConversionsClient(BASE, CANARY, transport=httpx.MockTransport(
            lambda request: httpx.Response(200, json=_batch([_result(7)]))))
        async with client2:
            assert (await client2.post_batch(b"[]")).payload is not None


# -- a 403 for one conversion --------------------------------------------------------------


async def test_a_403_for_one_conversion_says_403_and_keeps_the_profile(
        sandbox: SandboxServer, make_client: Any, conversion_id: int) -> None:
    other = sandbox.state.add_conversion()
    sandbox.faults.forbidden_ids = [conversion_id]
    client = make_client()
    with pytest.raises(AuthenticationError) as caught:
        await client.get_status(conversion_id)
    error = caught.value
    assert error.status_code == 403 and "HTTP 403" in str(error)
    assert error.envelope is not None and error.envelope.profile is not None
    assert error.errors == ["You do not have access to this conversion"]
    assert (await client.get_status(other)).payload is not None
    # A refused key looks different: 401, and no profile.
    wrong = ConversionsClient(sandbox.base_url, "not-the-key")
    async with wrong:
        with pytest.raises(AuthenticationError) as refused:
            await wrong.get_status(other)
    assert refused.value.status_code == 401 and "HTTP 401" in str(refused.value)
    assert refused.value.envelope is not None and refused.value.envelope.profile is None


# -- shapes only a MockTransport can send --------------------------------------------------


class _Chunks(httpx.AsyncByteStream):
    """A response body in the given raw chunks; remembers whether anyone read it."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.read = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.read = True
        for chunk in self.chunks:
            yield chunk


def _streaming(stream: _Chunks, headers: dict[str, str]) -> ConversionsClient:
    return ConversionsClient(BASE, CANARY, max_status_bytes=LIMIT,
                             transport=httpx.MockTransport(
                                 lambda request: httpx.Response(200, headers=headers,
                                                                stream=stream)))


async def test_a_content_length_over_the_cap_is_refused_unread() -> None:
    stream = _Chunks(b"{}")
    async with _streaming(stream, {"Content-Length": str(10 * LIMIT)}) as client:
        with pytest.raises(AnswerTooLargeError):
            await client.get_status(1)
    assert stream.read is False


_BODY = httpx.Response(200, json=envelope({"id": 1, "status": "Queued"})).content


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS])
async def test_deflate_zlib_wrapped_or_raw_is_read(wbits: int) -> None:
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    packed = packer.compress(_BODY) + packer.flush()
    stream = _Chunks(packed[:5], packed[5:])
    async with _streaming(stream, {"Content-Encoding": "deflate"}) as client:
        status = await client.get_status(1)
    assert status.payload is not None and status.payload.id == 1


@pytest.mark.parametrize(("coding", "wbits"), [("deflate", zlib.MAX_WBITS),
                                               ("gzip", zlib.MAX_WBITS | 16)])
async def test_a_bomb_in_one_chunk_with_a_small_content_length_is_cut_off(
        coding: str, wbits: int) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    packed = packer.compress(_BODY + b" " * (3 * 1024 * 1024)) + packer.flush()
    assert len(packed) < LIMIT  # the wire size passes; the inflated size does not
    headers = {"Content-Encoding": coding, "Content-Length": str(len(packed))}
    async with _streaming(_Chunks(packed), headers) as client:
        with pytest.raises(AnswerTooLargeError) as caught:
            await client.get_status(1)
    assert "cut off" in str(caught.value)


def _echoing_the_key() -> _Chunks:
    """Over the cap in two chunks, the key in the first (made here: not a test's local)."""
    echo = (b'{"errors": ["' + CANARY.encode() + b'"], "x": "') + b"A" * (2 * LIMIT)
    return _Chunks(echo[:LIMIT // 2], echo[LIMIT // 2:])


async def test_an_oversized_answer_echoing_the_key_keeps_it_out_of_tracebacks() -> None:
    async with _streaming(_echoing_the_key(), {}) as client:
        with pytest.raises(AnswerTooLargeError) as caught:
            await client.get_status(1)
    error = caught.value
    assert CANARY not in str(error) and CANARY not in repr(error)
    formatted = "".join(
        traceback.TracebackException.from_exception(error, capture_locals=True).format())
    assert CANARY not in formatted


async def test_a_damaged_gzip_answer_is_a_protocol_error() -> None:
    packed = gzip.compress(_BODY)
    damaged = packed[:12] + bytes(b ^ 0x5A for b in packed[12:30]) + packed[30:]
    async with _streaming(_Chunks(damaged), {"Content-Encoding": "gzip"}) as client:
        with pytest.raises(TransportError) as caught:
            await client.get_status(1)
    assert caught.value.reason == "protocol"
