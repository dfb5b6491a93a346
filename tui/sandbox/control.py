"""The control plane under /_control: loopback only, no API key, envelope answers.

Tests and the demo use it to switch faults, reset, create conversions in any state (hostile
strings welcome) and move the clock, while the server runs.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tui.sandbox.clock import iso_utc
from tui.sandbox.envelope import envelope_response
from tui.sandbox.lifecycle import LifecyclePlan
from tui.sandbox.state import SandboxState

_CONTROL_BODY_CAP = 1024 * 1024

Handler = Callable[[Request], Awaitable[Response]]


def is_loopback(host: str | None) -> bool:
    """Whether a client address is this machine (127.0.0.0/8, ::1, or v4-mapped loopback)."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


class ControlError(Exception):
    """A control request that cannot be done; becomes a 400 (or the given code)."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


def _loopback_only(handler: Handler) -> Handler:
    async def guarded(request: Request) -> Response:
        host = request.client.host if request.client else None
        if not is_loopback(host):
            return envelope_response(403, errors=["The control plane answers loopback only"])
        try:
            return await handler(request)
        except ControlError as exc:
            return envelope_response(exc.status_code, errors=[str(exc)])
    return guarded


async def _json_body(request: Request, *, default: Any = None) -> Any:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > _CONTROL_BODY_CAP:
            raise ControlError("control request body too large", 413)
    if not body.strip():
        return default
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ControlError(f"body is not JSON: {exc}") from exc


async def _json_object(request: Request) -> dict[str, Any]:
    data = await _json_body(request, default={})
    if not isinstance(data, dict):
        raise ControlError("body must be a JSON object")
    return data


def _ok(payload: Any) -> Response:
    return envelope_response(200, payload=payload)


def control_routes(state: SandboxState) -> list[BaseRoute]:
    """The /_control routes for ``state``."""

    async def get_faults(request: Request) -> Response:
        return _ok(state.faults.as_dict())

    async def put_faults(request: Request) -> Response:
        changes = await _json_object(request)
        _apply_faults(state, changes, replace=request.method == "PUT")
        return _ok(state.faults.as_dict())

    async def clear_faults(request: Request) -> Response:
        state.faults.clear()
        state.rate_bucket.reset()
        return _ok(state.faults.as_dict())

    async def reset(request: Request) -> Response:
        body = await _json_object(request)
        seed_count = body.get("seed_count")
        if seed_count is not None and (not isinstance(seed_count, int) or seed_count < 0):
            raise ControlError("seed_count must be a whole number >= 0")
        state.reset(seed_count=seed_count)
        return _ok({"conversions": len(state.ids()), "seeded": len(state.seeded_ids())})

    async def list_conversions(request: Request) -> Response:
        return _ok({"ids": state.ids(), "seeded": state.seeded_ids(),
                    "byStatus": state.counts_by_status()})

    async def create_conversion(request: Request) -> Response:
        body = await _json_object(request)
        try:
            new_id = state.add_conversion(**_creation_args(body))
        except (TypeError, ValueError) as exc:
            raise ControlError(f"cannot create that conversion: {exc}") from exc
        snapshot = state.get(new_id)
        return envelope_response(201, payload=snapshot.payload if snapshot else {"id": new_id})

    async def change_conversion(request: Request) -> Response:
        conversion_id = _path_id(request)
        body = await _json_object(request)
        action = request.path_params["action"]
        try:
            if action == "freeze":
                state.freeze(conversion_id)
            elif action == "unfreeze":
                state.unfreeze(conversion_id)
            elif action == "status":
                status = body.get("status")
                frozen = body.get("frozen")
                if not isinstance(status, str) or not isinstance(frozen, bool | None):
                    raise ControlError("give {\"status\": \"<word>\", \"frozen\": true|false}")
                state.set_status(conversion_id, status, frozen=frozen)
            else:
                raise ControlError(f"unknown action {action!r}", 404)
        except KeyError as exc:
            raise ControlError(f"conversion {conversion_id} not found", 404) from exc
        snapshot = state.get(conversion_id)
        return _ok(snapshot.payload if snapshot else None)

    async def advance_clock(request: Request) -> Response:
        body = await _json_object(request)
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ControlError("give {\"seconds\": <number >= 0>}")
        state.advance(float(seconds))
        return await clock(request)

    async def clock(request: Request) -> Response:
        return _ok({"now": iso_utc(state.clock.now()), "offset": state.clock.offset,
                    "speed": state.clock.speed})

    async def stats(request: Request) -> Response:
        if request.method == "DELETE":
            state.reset_stats()
        snapshot = state.stats
        return _ok({"requests": snapshot.total, "byRoute": dict(snapshot.by_route),
                    "faults": dict(snapshot.faults)})

    async def profile(request: Request) -> Response:
        if request.method == "PUT":
            body = await _json_body(request)
            if body is not None and not isinstance(body, dict):
                raise ControlError("profile must be a JSON object or null")
            state.profile = body
        return _ok(state.profile)

    async def api_key(request: Request) -> Response:
        body = await _json_object(request)
        state.api_key = _new_key(body.get("key"))
        # Never echoed: the answer says that it changed, not to what.
        return _ok({"rotated": True, "keyLength": len(state.api_key)})

    plain: list[tuple[str, Handler, list[str]]] = [
        ("/_control/faults", get_faults, ["GET"]),
        ("/_control/faults", put_faults, ["PUT", "PATCH"]),
        ("/_control/faults", clear_faults, ["DELETE"]),
        ("/_control/reset", reset, ["POST"]),
        ("/_control/conversions", list_conversions, ["GET"]),
        ("/_control/conversions", create_conversion, ["POST"]),
        ("/_control/conversions/{id}/{action}", change_conversion, ["POST", "PUT"]),
        ("/_control/clock", clock, ["GET"]),
        ("/_control/clock/advance", advance_clock, ["POST"]),
        ("/_control/stats", stats, ["GET", "DELETE"]),
        ("/_control/profile", profile, ["GET", "PUT"]),
        ("/_control/api-key", api_key, ["PUT"]),
    ]
    return [Route(path, _loopback_only(handler), methods=methods)
            for path, handler, methods in plain]


_MAX_KEY_LENGTH = 512


def _new_key(key: object) -> str:
    """A key the API can be asked for: a header value of visible ASCII, no spaces."""
    if not isinstance(key, str) or not key:
        raise ControlError('give {"key": "<the new API key>"}')
    if len(key) > _MAX_KEY_LENGTH:
        raise ControlError(f"the key is longer than {_MAX_KEY_LENGTH} characters")
    if not all("!" <= char <= "~" for char in key):
        raise ControlError("the key must be visible ASCII without spaces (it travels in a "
                           "header)")
    return key


def _path_id(request: Request) -> int:
    text = request.path_params["id"]
    if not text.isdigit():
        raise ControlError(f"{text!r} is not an id")
    return int(text)


def _apply_faults(state: SandboxState, changes: dict[str, Any], *, replace: bool) -> None:
    faults = state.faults
    before = faults.as_dict()
    try:
        if replace:
            faults.clear()
        faults.update(changes)
    except ValueError as exc:
        faults.update(before)  # all or nothing
        raise ControlError(str(exc)) from exc
    state.rate_bucket.reset()


_CREATE_FIELDS = {
    "status": "status", "fileName": "file_name", "dataSourceType": "data_source_type",
    "warnings": "warnings", "errors": "errors", "metadata": "metadata",
    "extraPayload": "extra_payload", "ageInStatus": "age_in_status", "frozen": "frozen",
    "outcome": "outcome",
}


def _creation_args(body: dict[str, Any]) -> dict[str, Any]:
    unknown = set(body) - set(_CREATE_FIELDS) - {"plan"}
    if unknown:
        raise ControlError(f"unknown fields: {', '.join(sorted(unknown))}; "
                           f"known: {', '.join(_CREATE_FIELDS)}, plan")
    args = {_CREATE_FIELDS[name]: value for name, value in body.items() if name != "plan"}
    if "plan" in body:
        plan = body["plan"]
        if not isinstance(plan, dict):
            raise ControlError("plan must be an object of durations")
        args["plan"] = LifecyclePlan(**plan)
    return args
