"""The fixtures themselves: a live server, reset between tests."""

from __future__ import annotations

import httpx

from tui.sandbox.runner import SandboxServer


def test_sandbox_fixture_serves_over_loopback(sandbox: SandboxServer) -> None:
    new_id = sandbox.state.add_conversion(file_name="a.csv")
    answer = httpx.get(f"{sandbox.base_url}/v1/conversions/{new_id}/status",
                       headers={"X-API-KEY": sandbox.api_key})
    assert answer.status_code == 200
    assert answer.json()["payload"]["status"] == "Uploaded"
    sandbox.faults.storm = True


def test_sandbox_fixture_resets_between_tests(sandbox: SandboxServer) -> None:
    assert sandbox.faults.storm is False
    assert sandbox.state.ids() == []
    assert sandbox.state.request_count == 0
