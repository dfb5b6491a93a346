"""The sandbox's Starlette app: the three API calls of the spec, plus the control plane."""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tui.sandbox.control import control_routes
from tui.sandbox.envelope import envelope_response
from tui.sandbox.middleware import CONTROL_PREFIX, ApiGate, LastResort, key_is_valid
from tui.sandbox.records import MAX_BODY_BYTES, MAX_ITEMS, check_record
from tui.sandbox.state import SandboxState

MAX_ID = 2**63 - 1
#: How much of an oversized body we read (and discard) so the client sees our 413
#: instead of a reset; beyond it we stop listening.
_DRAIN_LIMIT = 4 * MAX_BODY_BYTES


class BodyTooLarge(Exception):
    """The request body passed its cap."""


async def read_body(request: Request, cap: int) -> bytes:
    """The body, read chunk by chunk and never more than ``cap`` bytes kept.

    Raises BodyTooLarge after draining (not keeping) the rest, up to a limit.
    """
    declared = request.headers.get("content-length", "")
    too_big = declared.isdigit() and int(declared) > cap
    kept = bytearray()
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if not too_big and seen <= cap:
            kept.extend(chunk)
        else:
            too_big = True
            kept.clear()
            if seen > _DRAIN_LIMIT:
                break
    if too_big:
        raise BodyTooLarge
    return bytes(kept)


def parse_id(text: str) -> int | None:
    """A positive 64-bit id, or None."""
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def _bad_id(text: str) -> str:
    shown = "".join(c if c.isprintable() else "?" for c in text)[:40]
    return f"'{shown}' is not a valid conversion id (a whole number from 1 to 2^63-1)"


def create_app(state: SandboxState, *, api_key: str | None = None) -> Starlette:
    """The ASGI app serving ``state``; requests must carry the state's key in X-API-KEY
    (``api_key`` replaces it; ``PUT /_control/api-key`` rotates it while serving)."""
    if api_key is not None:
        state.api_key = api_key

    def profile() -> dict[str, Any] | None:
        return state.profile

    async def get_status(request: Request) -> Response:
        raw = request.path_params["id"]
        conversion_id = parse_id(raw)
        if conversion_id is None:
            return envelope_response(400, profile=profile(), errors=[_bad_id(raw)])
        snapshot = state.get(conversion_id)
        if snapshot is None:
            return envelope_response(404, profile=profile(),
                                     errors=[f"Conversion {conversion_id} not found"])
        return envelope_response(200, profile=profile(), payload=snapshot.payload,
                                 errors=snapshot.errors, warnings=snapshot.warnings,
                                 metadata=snapshot.metadata)

    async def delete(request: Request) -> Response:
        raw = request.path_params["id"]
        conversion_id = parse_id(raw)
        if conversion_id is None:
            return envelope_response(400, profile=profile(), errors=[_bad_id(raw)])
        outcome = state.request_deletion(conversion_id)
        snapshot = outcome.snapshot
        payload = snapshot.payload if snapshot else None
        if outcome.kind == "missing":
            return envelope_response(404, profile=profile(),
                                     errors=[f"Conversion {conversion_id} not found"])
        if outcome.kind == "conflict":
            return envelope_response(409, profile=profile(), payload=payload, errors=[
                f"Conversion {conversion_id} is Processing; it can be deleted once it finishes"])
        if outcome.kind == "gone":
            return envelope_response(410, profile=profile(), payload=payload,
                                     errors=[f"Conversion {conversion_id} is already deleted"])
        warnings = ["Deletion was already requested"] if outcome.kind == "pending" else []
        return envelope_response(202, profile=profile(), payload=payload, warnings=warnings)

    async def post_batch(request: Request) -> Response:
        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            return envelope_response(413, profile=profile(), errors=[
                f"Request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB; "
                "nothing was processed"])
        try:
            items = json.loads(body)
        except (ValueError, RecursionError):
            return envelope_response(400, profile=profile(),
                                     errors=["Request body is not valid JSON"])
        if not isinstance(items, list):
            return envelope_response(400, profile=profile(),
                                     errors=["Request body must be a JSON array of records"])
        if not items:
            return envelope_response(400, profile=profile(),
                                     errors=["Request body is an empty array; nothing to do"])
        if len(items) > MAX_ITEMS:
            return envelope_response(413, profile=profile(), errors=[
                f"{len(items)} records sent; at most {MAX_ITEMS} per request; "
                "nothing was processed"])
        return _batch_answer(state, items)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        shown = profile() if not request.url.path.startswith(CONTROL_PREFIX) and key_is_valid(
            request.scope, state.api_key) else None
        messages = {404: "No such endpoint", 405: "Method not allowed on this endpoint"}
        text = messages.get(exc.status_code, exc.detail)
        return envelope_response(exc.status_code, headers=exc.headers, profile=shown,
                                 errors=[f"{text}: {request.method} {request.url.path}"])

    routes = [
        Route("/v1/conversions/{id}/status", get_status, methods=["GET"]),
        Route("/v1/conversions/{id}", delete, methods=["DELETE"]),
        Route("/v1/conversions", post_batch, methods=["POST"]),
        *control_routes(state),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(LastResort), Middleware(ApiGate, state=state)],
        exception_handlers={HTTPException: http_error},
    )


def _batch_answer(state: SandboxState, items: list[Any]) -> Response:
    results: list[dict[str, Any]] = []
    accepted = 0
    warned = 0
    for index, item in enumerate(items):
        check = check_record(item)
        entry: dict[str, Any] = {"index": index, "accepted": not check.errors,
                                 "conversion": None, "errors": check.errors,
                                 "warnings": check.warnings}
        if not check.errors:
            metadata: dict[str, Any] = {"sizeBytes": check.size}
            if check.external_reference is not None:
                metadata["externalReference"] = check.external_reference
            snapshot = state.accept_upload(file_name=check.file_name,
                                           data_source_type=check.data_source_type,
                                           metadata=metadata, failure=check.failure)
            entry["conversion"] = snapshot.payload
            accepted += 1
        warned += bool(check.warnings)
        results.append(entry)
    rejected = len(items) - accepted
    errors = [f"{rejected} of {len(items)} records rejected"] if rejected else []
    warnings = [f"{warned} of {len(items)} records have warnings"] if warned else []
    code = 200 if not rejected else (207 if accepted else 400)
    return envelope_response(code, profile=state.profile,
                             payload={"accepted": accepted, "rejected": rejected,
                                      "results": results},
                             errors=errors, warnings=warnings,
                             metadata={"received": len(items)})
