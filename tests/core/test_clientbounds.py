"""A profile's bounds reach the client: a trickle ends at the profile's deadline."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tui.api.client import ConversionsClient
from tui.api.errors import TransportError
from tui.core.clientbounds import client_bounds
from tui.core.settings import ProfileSettings
from tui.sandbox.runner import SandboxServer


def test_the_bounds_follow_the_profile() -> None:
    profile = ProfileSettings(name="p", base_url="https://x.example", timeout=4.0,
                              deadline=9.0, max_batch_answer_mib=128)
    assert client_bounds(profile) == {"timeout": 4.0, "deadline": 9.0,
                                      "max_batch_bytes": 128 * 1024 * 1024}
    default = ProfileSettings(name="p", base_url="https://x.example")
    assert client_bounds(default)["deadline"] is None  # the client's 3 x timeout
    assert client_bounds(default)["max_batch_bytes"] == 64 * 1024 * 1024
    with pytest.raises(ValidationError):
        ProfileSettings(name="p", base_url="https://x.example", deadline=0)


async def test_a_trickling_answer_ends_at_the_profiles_deadline(
        sandbox: SandboxServer) -> None:
    conversion = sandbox.state.add_conversion(status="Queued", frozen=True)
    # Four bytes a second: every read gets a byte long before the 5 s read timeout, so
    # only the total deadline can end it (the whole answer would take over a minute).
    sandbox.faults.update({"trickle_ids": [conversion], "trickle_rate": 4.0})
    profile = ProfileSettings(name="p", base_url=sandbox.base_url, timeout=5.0,
                              deadline=0.5)
    try:
        async with ConversionsClient(sandbox.base_url, sandbox.api_key,
                                     **client_bounds(profile)) as client:
            with pytest.raises(TransportError) as caught:
                await client.get_status(conversion)
    finally:
        sandbox.faults.clear()
    assert caught.value.reason == "timeout"
    assert "0.5 s in all" in str(caught.value), str(caught.value)
