"""Helpers for the sandbox's own tests: an httpx client and an envelope check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tui.sandbox.runner import SandboxServer

ENVELOPE_KEYS = {"profile", "payload", "errors", "hasErrors", "warnings", "hasWarnings",
                 "metadata"}


def assert_envelope(answer: httpx.Response, status_code: int) -> dict[str, Any]:
    """Check the code and the seven-key envelope shape; return the parsed body."""
    assert answer.status_code == status_code, answer.text[:500]
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) == ENVELOPE_KEYS
    assert isinstance(body["errors"], list) and isinstance(body["warnings"], list)
    assert body["hasErrors"] is bool(body["errors"])
    assert body["hasWarnings"] is bool(body["warnings"])
    assert isinstance(body["metadata"], dict)
    return body


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client with the right key, against the fresh sandbox."""
    with httpx.Client(base_url=sandbox.base_url, headers={"X-API-KEY": sandbox.api_key},
                      timeout=10) as client:
        yield client


@pytest.fixture
def control(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client for the control plane (no key needed, loopback only)."""
    with httpx.Client(base_url=sandbox.base_url + "/_control", timeout=10) as client:
        yield client
