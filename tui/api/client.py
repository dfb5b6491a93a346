"""The async client of the Conversions API: three calls, one connection pool.

Design choices, each for a reason:

* One ``httpx.AsyncClient`` for the life of the client: a poller calls
  :meth:`ConversionsClient.get_status` thousands of times, so connections are
  reused and the fixed headers (the key among them) are set once.
* A timeout on every call (connect, read, write and waiting for the pool), and a
  total deadline per request (connect to last byte): httpx's read timeout starts again
  with every byte, so a server dripping its answer would otherwise hold a connection
  slot for ever. At the deadline the connection is closed, which frees its slot.
* A cap on every answer's size, counted after decompression (see
  :mod:`tui.api.bounded`): an endless body or a gzip bomb is cut off at the cap.
* An answer about another conversion than the one asked for is an error
  (:class:`~tui.api.errors.WrongConversionError`), never a result.
* No retries anywhere: a batch post must never be sent twice behind the user's
  back, and whether a GET or DELETE is repeated is the caller's decision
  (the transport is built with ``retries=0``).
* Bodies are parsed with ``model_validate_json`` on the response bytes (see
  :mod:`tui.api.models`), the cheapest path pydantic offers.
* Failures become the documented tree in :mod:`tui.api.errors` (the mapping is in
  :mod:`tui.api.answers`); transport errors are raised without their httpx cause so
  the request headers never travel with them.
"""

from __future__ import annotations

import asyncio
import math
import ssl
from collections import OrderedDict
from collections.abc import Sequence
from types import TracebackType
from typing import Self, TypeVar

import httpx
from pydantic import ConfigDict, TypeAdapter

from tui import __version__
from tui.api.answers import (
    Answer,
    about_another,
    error_envelope,
    failure,
    parse_retry_after,
    results_not_sent,
    success,
    transport_error,
)
from tui.api.bounded import ACCEPT_ENCODING, read_capped
from tui.api.errors import (
    TransportError,
)
from tui.api.models import (
    BatchEnvelope,
    ConversionRecord,
    Envelope,
    StatusEnvelope,
)

__all__ = ["DEFAULT_MAX_BATCH_BYTES", "DEFAULT_MAX_STATUS_BYTES", "ConversionsClient",
           "parse_retry_after"]

#: Far above any real status or delete answer (a few hundred bytes; a hostile but
#: legitimate one with thousands of long messages stays far below).
DEFAULT_MAX_STATUS_BYTES = 16 * 1024 * 1024
#: A batch answer has up to 100 results, each with its own messages.
DEFAULT_MAX_BATCH_BYTES = 64 * 1024 * 1024
# Total deadlines as multiples of the per-phase timeout when not given.
_DEADLINE_FACTOR = 3
_BATCH_DEADLINE_FACTOR = 12

_E = TypeVar("_E", bound=Envelope)
# Built on first use, like the models (see WireModel): not at import.
_RECORDS = TypeAdapter(list[ConversionRecord], config=ConfigDict(defer_build=True))
_JSON_HEADERS = {"Content-Type": "application/json"}
# Parsed status URLs kept per id: parsing a URL is a sizeable share of httpx's own
# per-request CPU, and a poller asks for the same *active* ids every few seconds.
# Least recently used out, about 470 bytes each: the ids polled often stay, settled
# ones asked once a minute or less cost a parse, and ids that come and go all day do
# not grow it (a 12-simulated-hour soak filled a 12,000 bound by 3 MB).
_URL_CACHE_LIMIT = 2_000


class ConversionsClient:
    """Calls the Conversions API with one API key. Use as ``async with`` or ``aclose()``.

    ``transport`` replaces the network (tests use ``httpx.MockTransport``); ``verify``
    is True, False or the path of a CA bundle. The key is only ever in the request
    header: not in this object's ``repr``, nor in any error it raises.

    Bounds on what a server can make the client do:

    * ``timeout``: seconds for each phase (connecting, each read, each write, waiting
      for a free connection);
    * ``deadline``: seconds for a whole status or delete request, from asking for a
      connection to the last byte (default ``3 * timeout``); ``batch_deadline`` the same
      for a batch post, which sends up to 25 MiB (default ``12 * timeout``). Past it:
      :class:`TransportError` with ``reason="timeout"``;
    * ``max_status_bytes`` (16 MiB) and ``max_batch_bytes`` (64 MiB): the largest
      answer body read, decompressed, for status/delete and for batch posts. Past it:
      :class:`~tui.api.errors.AnswerTooLargeError`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        verify: bool | str = True,
        max_connections: int = 16,
        user_agent: str = f"conversions-tui/{__version__}",
        deadline: float | None = None,
        batch_deadline: float | None = None,
        max_status_bytes: int = DEFAULT_MAX_STATUS_BYTES,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("The base URL must start with http:// or https:// and name a host.")
        key = api_key.strip()
        if not key or not all("\x21" <= char <= "\x7e" for char in key):
            # Checked here so httpx never raises an encoding error holding the key.
            raise ValueError("The API key is empty or has characters a header cannot carry.")
        self._deadline = _positive("deadline", deadline, _DEADLINE_FACTOR * timeout)
        self._batch_deadline = _positive("batch_deadline", batch_deadline,
                                         _BATCH_DEADLINE_FACTOR * timeout)
        self._max_status_bytes = _positive_size("max_status_bytes", max_status_bytes)
        self._max_batch_bytes = _positive_size("max_batch_bytes", max_batch_bytes)
        # Userinfo in a URL is a credential too: keep it out of repr and messages.
        self._base_url = str(url.copy_with(username=None, password=None)).rstrip("/")
        self._where = url.host if url.port is None else f"{url.host}:{url.port}"
        if transport is None:
            transport = httpx.AsyncHTTPTransport(
                verify=_ssl_context(verify),
                retries=0,
                limits=httpx.Limits(max_connections=max_connections,
                                    max_keepalive_connections=max_connections),
            )
        # Absolute URLs, not httpx's base_url: merging a relative URL costs more CPU per
        # call than the envelope parse does.
        self._root = str(url).rstrip("/")
        self._status_urls: OrderedDict[int, httpx.URL] = OrderedDict()
        self._http = httpx.AsyncClient(
            headers={"X-API-KEY": key, "User-Agent": user_agent, "Accept": "application/json",
                     "Accept-Encoding": ACCEPT_ENCODING},
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )

    @property
    def base_url(self) -> str:
        """The server's base URL (without any user name or password)."""
        return self._base_url

    def __repr__(self) -> str:
        return f"ConversionsClient(base_url={self._base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def get_status(self, conversion_id: int) -> StatusEnvelope:
        """The current status of one conversion (the envelope's payload is never None).

        An answer whose payload is about another conversion raises WrongConversionError.
        """
        urls = self._status_urls
        url = urls.get(_checked_id(conversion_id))
        if url is None:
            url = self._status_url(conversion_id)
        else:
            urls.move_to_end(conversion_id)
        answer = await self._send("GET", url, limit=self._max_status_bytes,
                                  deadline=self._deadline)
        if 200 <= answer.status_code < 300:
            envelope = success(StatusEnvelope, answer, need_payload=True)
            wrong = about_another(envelope, conversion_id, answer)
            if wrong is None:
                return envelope
            del envelope  # server text: kept out of a traceback printed with its locals
            raise wrong
        raise failure(StatusEnvelope, answer, f"Conversion {conversion_id}", conversion_id)

    def _status_url(self, conversion_id: int) -> httpx.URL:
        url = httpx.URL(f"{self._root}/v1/conversions/{conversion_id}/status")
        urls = self._status_urls
        while len(urls) >= _URL_CACHE_LIMIT:
            urls.popitem(last=False)  # the least recently used
        urls[conversion_id] = url
        return url

    async def delete(self, conversion_id: int) -> StatusEnvelope:
        """Ask for a conversion's deletion (202); poll :meth:`get_status` to see it done.

        The payload may be None when a server answers a success without one; when there
        is one about another conversion, WrongConversionError is raised (also for the
        payload of a 409 or 410).
        """
        subject = f"Conversion {_checked_id(conversion_id)}"
        answer = await self._send("DELETE", f"{self._root}/v1/conversions/{conversion_id}",
                                  limit=self._max_status_bytes, deadline=self._deadline)
        if 200 <= answer.status_code < 300:
            if not answer.content.strip():
                envelope = StatusEnvelope()
                envelope.http_status = answer.status_code
                return envelope
            envelope = success(StatusEnvelope, answer, need_payload=False)
            wrong = about_another(envelope, conversion_id, answer)
            if wrong is None:
                return envelope
            del envelope
            raise wrong
        raise failure(StatusEnvelope, answer, subject, conversion_id)

    async def post_batch(self, records: Sequence[ConversionRecord] | bytes) -> BatchEnvelope:
        """Post records (or an already serialised JSON array). Never retried.

        200 and 207 return the envelope; so does a 400 whose payload has per-record
        results (all rejected). A 400 without them raises InvalidRequestError, a 413
        PayloadTooLargeError.

        The results must be about the records sent: a result whose ``index`` is negative,
        repeats another's, or (when ``records`` is a sequence, so their number is known)
        is not below the number sent raises BadResponseError, with the envelope attached.
        Fewer results than records is not checked here: the caller sees which are missing.
        """
        if isinstance(records, bytes | bytearray | memoryview):
            body = bytes(records)
            sent: int | None = None
        else:
            body = _RECORDS.dump_json(list(records), by_alias=True, exclude_none=True)
            sent = len(records)
        answer = await self._send("POST", f"{self._root}/v1/conversions", body,
                                  limit=self._max_batch_bytes, deadline=self._batch_deadline)
        status = answer.status_code
        envelope: Envelope | None = None
        if 200 <= status < 300:
            envelope = success(BatchEnvelope, answer, need_payload=True)
        elif status == 400:
            envelope = error_envelope(BatchEnvelope, answer)
        if not isinstance(envelope, BatchEnvelope) or envelope.payload is None:
            raise failure(BatchEnvelope, answer, "The batch")
        unusable = results_not_sent(envelope, sent, answer)
        if unusable is None:
            return envelope
        del envelope
        raise unusable

    async def _send(self, method: str, url: httpx.URL | str, content: bytes | None = None,
                    *, limit: int, deadline: float) -> Answer:
        """One exchange within ``deadline`` seconds in all, its body at most ``limit``."""
        http = self._http
        headers = None if content is None else _JSON_HEADERS
        timer = asyncio.timeout(deadline)
        try:
            async with timer:
                response = await http.send(
                    http.build_request(method, url, content=content, headers=headers),
                    stream=True)
                try:
                    body = await read_capped(response, limit)
                finally:
                    # A body not read to its end closes the connection (never drained),
                    # so a cut-off answer or a deadline frees its slot in the pool.
                    await response.aclose()
        except httpx.RequestError as exc:
            error = transport_error(exc, self._where)
        except TimeoutError:
            if not timer.expired():
                raise
            error = TransportError(
                f"The answer from {self._where} took longer than {deadline:g} s in all; "
                "it was cut off.", reason="timeout",
                detail=f"total deadline of {deadline:g} s")
        else:
            return Answer(response.status_code, response.headers, body)
        # Raised outside the except block: no __context__ pointing into httpx frames.
        raise error


def _positive(name: str, value: float | None, default: float) -> float:
    seconds = default if value is None else value
    if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{name} must be a number of seconds above 0.")
    return float(seconds)


def _positive_size(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number of bytes above 0.")
    return value


def _checked_id(conversion_id: int) -> int:
    if not isinstance(conversion_id, int) or isinstance(conversion_id, bool):
        raise TypeError("A conversion ID must be an int.")
    return conversion_id


def _ssl_context(verify: bool | str) -> ssl.SSLContext | bool:
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify
