"""The seven-key envelope every answer wears, and JSON responses built from it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.responses import Response

JSON_TYPE = "application/json; charset=utf-8"


def envelope(*, profile: Mapping[str, Any] | None = None, payload: Any = None,
             errors: Iterable[str] = (), warnings: Iterable[str] = (),
             metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The envelope as a dict; the has* flags always agree with their lists."""
    error_list, warning_list = list(errors), list(warnings)
    return {
        "profile": dict(profile) if profile is not None else None,
        "payload": payload,
        "errors": error_list,
        "hasErrors": bool(error_list),
        "warnings": warning_list,
        "hasWarnings": bool(warning_list),
        "metadata": dict(metadata or {}),
    }


def envelope_response(status_code: int, *, headers: Mapping[str, str] | None = None,
                      **parts: Any) -> Response:
    """An envelope as a JSON response with ``status_code``."""
    body = json.dumps(envelope(**parts), ensure_ascii=False).encode("utf-8")
    return Response(body, status_code=status_code, headers=dict(headers or {}),
                    media_type=JSON_TYPE)
