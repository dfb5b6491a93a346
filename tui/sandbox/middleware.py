"""ASGI layers in front of the routes: counting, injected faults, the API key, last-resort 500.

Faults in the order they are tried: latency, drop, storm, rate limit, HTML page, error
envelope, an endless body; then the key (401), a 403 for forbidden IDs, the route; its real
answer is then damaged (malformed or truncated, about another ID) and delivered in a
hostile shape (oversized, gzip bomb or trickle: the first that applies).

Pure ASGI (no BaseHTTPMiddleware) so a fault can cut the connection or rewrite a body
byte for byte, and so nothing here buffers a request body.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tui.sandbox.envelope import envelope, envelope_response
from tui.sandbox.faults import PROXY_502_PAGE, FaultConfig, touches
from tui.sandbox.hostile import (
    about_another_conversion,
    conversion_id_of,
    send_endless,
    send_gzip_bomb,
    send_oversized,
    send_trickle,
)
from tui.sandbox.state import SandboxState

CONTROL_PREFIX = "/_control"
#: Scope extension through which the sandbox's uvicorn protocol lets us hang up.
DROP_EXTENSION = "tui.sandbox.drop_connection"

log = logging.getLogger("tui.sandbox")


def key_is_valid(scope: Scope, api_key: str) -> bool:
    """Whether the request carries the accepted X-API-KEY (compared in constant time)."""
    given = Headers(scope=scope).get("x-api-key")
    return given is not None and hmac.compare_digest(given.encode(), api_key.encode())


def profile_for(scope: Scope, state: SandboxState) -> dict[str, Any] | None:
    """The profile when the key is valid, else None (what the envelope's profile shows)."""
    return state.profile if key_is_valid(scope, state.api_key) else None


class LastResort:
    """Any exception a route lets escape becomes a 500 envelope instead of a bare page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("sandbox route failed: %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise  # half an answer already went out; let the server cut it
            response = envelope_response(
                500, errors=["Internal server error: the sandbox failed to answer"])
            await response(scope, receive, send)


class ApiGate:
    """For every API request: count it, apply the faults that are on, then check the key
    (the state's current one, so a rotation takes effect on the next request)."""

    def __init__(self, app: ASGIApp, *, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        self.state.count_request(scope["method"], path)
        faults = self.state.faults
        in_scope = path.startswith(faults.path_prefix)
        conversion_id = conversion_id_of(path)
        held: _HeldAnswer | None = None
        if in_scope:
            if await self._answer_with_fault(scope, receive, send):
                return
            if touches(faults.endless_ids, conversion_id):
                self.state.count_fault("endless_ids")
                await send_endless(receive, send, conversion_id)
                return
            held = self._hold_for(conversion_id, receive, send)
            if held is not None:
                send = held
        if not key_is_valid(scope, self.state.api_key):
            given = Headers(scope=scope).get("x-api-key")
            reason = "Missing X-API-KEY header" if not given else "Invalid API key"
            await envelope_response(401, errors=[reason])(scope, receive, send)
        elif in_scope and touches(faults.forbidden_ids, conversion_id):
            # The key is good (the profile says whose it is); this conversion is not its.
            self.state.count_fault("forbidden_ids")
            await envelope_response(403, profile=self.state.profile,
                                    errors=["You do not have access to this conversion"],
                                    )(scope, receive, send)
        else:
            await self.app(scope, receive, send)
        if held is not None:
            await held.flush()

    async def _answer_with_fault(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Send a faulted answer (or none) and return True when a fault took the request."""
        faults, dice, state = self.state.faults, self.state.fault_dice, self.state
        if faults.latency > 0:
            await asyncio.sleep(faults.latency)
        if dice.hit(faults.drop_connection):
            state.count_fault("drop_connection")
            await _hang_up(scope, send)
            return True
        profile = profile_for(scope, state)
        if faults.storm:
            state.count_fault("storm")
            await _too_many(scope, receive, send, faults.retry_after, profile)
            return True
        if faults.rate_limit is not None:
            wait = state.rate_bucket.take(faults.rate_limit, faults.rate_limit_burst)
            if wait > 0:
                state.count_fault("rate_limit")
                seconds = faults.retry_after if math.isinf(wait) else max(1, math.ceil(wait))
                await _too_many(scope, receive, send, seconds, profile)
                return True
        if dice.hit(faults.html_error):
            state.count_fault("html_error")
            await _send_raw(send, 502, PROXY_502_PAGE, b"text/html")
            return True
        if dice.hit(faults.error_rate):
            state.count_fault("error_rate")
            code = faults.error_status
            headers = {"Retry-After": str(faults.retry_after)} if code in (429, 503) else None
            await envelope_response(code, headers=headers, profile=profile,
                                    errors=[f"Injected fault: the service answered {code}"],
                                    )(scope, receive, send)
            return True
        return False

    def _hold_for(self, conversion_id: int | None, receive: Receive,
                  send: Send) -> _HeldAnswer | None:
        """A send that keeps the real answer to damage it, or None when no fault wants to."""
        faults, dice, state = self.state.faults, self.state.fault_dice, self.state
        rewrite: str | None = None
        if dice.hit(faults.malformed_json):
            state.count_fault("malformed_json")
            rewrite = "malformed"
        elif dice.hit(faults.truncated_json):
            state.count_fault("truncated_json")
            rewrite = "truncated"
        swap = touches(faults.wrong_id_for, conversion_id)
        if swap:
            state.count_fault("wrong_id_for")
        shape = next((name for name in ("oversized_ids", "gzip_bomb_ids", "trickle_ids")
                      if touches(getattr(faults, name), conversion_id)), None)
        if shape is not None:
            state.count_fault(shape)
        if rewrite is None and not swap and shape is None:
            return None
        return _HeldAnswer(send, receive, faults, rewrite=rewrite,
                           wrong_id=faults.wrong_id if swap else None, shape=shape)


async def _too_many(scope: Scope, receive: Receive, send: Send, seconds: int,
                    profile: dict[str, Any] | None) -> None:
    response = envelope_response(
        429, headers={"Retry-After": str(seconds)}, profile=profile,
        errors=[f"Too many requests; retry after {seconds} s"])
    await response(scope, receive, send)


async def _send_raw(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _hang_up(scope: Scope, send: Send) -> None:
    """Close the connection without a byte of answer."""
    drop = scope.get("extensions", {}).get(DROP_EXTENSION)
    if drop is not None:
        drop()
        return
    # Another server: promise a body, send none; the server then has to cut the line.
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"1000")]})


class _HeldAnswer:
    """Keeps the real answer, then sends it damaged: not JSON or cut in half (``rewrite``),
    about another conversion (``wrong_id``), and delivered in a hostile ``shape``."""

    def __init__(self, send: Send, receive: Receive, faults: FaultConfig, *,
                 rewrite: str | None, wrong_id: int | None, shape: str | None) -> None:
        self._send = send
        self._receive = receive
        self._faults = faults
        self._rewrite = rewrite
        self._wrong_id = wrong_id
        self._shape = shape
        self._start: Message | None = None
        self._body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message
        elif message["type"] == "http.response.body":
            self._body.extend(message.get("body", b""))
        else:
            await self._send(message)

    async def flush(self) -> None:
        """Send what was held, damaged as asked."""
        if self._start is None:
            return
        start, body = self._start, bytes(self._body)
        if self._wrong_id is not None:
            body = about_another_conversion(body, self._wrong_id)
        if self._rewrite == "truncated":
            body = body[: max(1, len(body) // 2)]
        elif self._rewrite == "malformed":
            # Looks like the envelope's start, then breaks: a server bug mid-serialisation.
            body = b'{"profile": ' + json.dumps(envelope()["profile"]).encode() + b', "payload": {'
            body += b'"id": 1,, "status": <NaN>'
        faults, send, receive = self._faults, self._send, self._receive
        if self._shape == "oversized_ids":
            await send_oversized(receive, send, start, body, faults.oversized_bytes,
                                 chunked=faults.oversized_chunked)
        elif self._shape == "gzip_bomb_ids":
            await send_gzip_bomb(receive, send, start, body, faults.gzip_bomb_bytes)
        elif self._shape == "trickle_ids":
            await send_trickle(receive, send, start, body, faults.trickle_rate)
        else:
            headers = [(name, value) for name, value in start.get("headers", [])
                       if name.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})
