"""Each fault, switched on and off while the server runs."""

from __future__ import annotations

import gzip
import json
import time

import httpx
import pytest

from tests.sandbox.conftest import assert_envelope
from tests.waiting import until_sync
from tui.sandbox import hostile
from tui.sandbox.faults import FaultConfig
from tui.sandbox.runner import SandboxServer


@pytest.fixture
def conversion(sandbox: SandboxServer) -> str:
    """A status path that answers 200 when no fault is on."""
    return f"/v1/conversions/{sandbox.state.add_conversion()}/status"


def test_latency(api: httpx.Client, sandbox: SandboxServer, conversion: str) -> None:
    sandbox.faults.latency = 0.3
    started = time.monotonic()
    assert_envelope(api.get(conversion), 200)
    assert time.monotonic() - started >= 0.3  # a lower bound: a busy machine only adds
    # Switched off, it answers as before. (No upper limit on wall time: that would time
    # the machine. A delay left on would show in every other test of this module.)
    sandbox.faults.latency = 0
    assert_envelope(api.get(conversion), 200)


@pytest.mark.parametrize("code", [500, 503, 429])
def test_error_rate_answers_an_envelope(api: httpx.Client, sandbox: SandboxServer,
                                        conversion: str, code: int) -> None:
    sandbox.faults.error_rate = 1.0
    sandbox.faults.error_status = code
    body = assert_envelope(api.get(conversion), code)
    assert body["hasErrors"] is True
    if code == 429:
        assert api.get(conversion).headers["retry-after"] == "1"
    sandbox.faults.error_rate = 0
    assert_envelope(api.get(conversion), 200)


def test_error_rate_is_a_share_of_requests(api: httpx.Client, sandbox: SandboxServer,
                                           conversion: str) -> None:
    sandbox.faults.error_rate = 0.5
    codes = [api.get(conversion).status_code for _ in range(60)]
    assert 10 < codes.count(500) < 50
    assert codes.count(200) + codes.count(500) == 60


def test_html_error_page(api: httpx.Client, sandbox: SandboxServer, conversion: str) -> None:
    sandbox.faults.html_error = True
    answer = api.get(conversion)
    assert answer.status_code == 502
    assert answer.headers["content-type"].startswith("text/html")
    assert b"Bad Gateway" in answer.content
    sandbox.faults.html_error = False
    assert_envelope(api.get(conversion), 200)


def test_malformed_json(api: httpx.Client, sandbox: SandboxServer, conversion: str) -> None:
    sandbox.faults.malformed_json = 1.0
    answer = api.get(conversion)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        answer.json()
    sandbox.faults.clear()
    assert_envelope(api.get(conversion), 200)


def test_truncated_json(api: httpx.Client, sandbox: SandboxServer, conversion: str) -> None:
    whole = api.get(conversion).content
    sandbox.faults.truncated_json = 1.0
    answer = api.get(conversion)
    assert answer.status_code == 200
    assert whole.startswith(answer.content) and len(answer.content) < len(whole)
    with pytest.raises(json.JSONDecodeError):
        answer.json()


def test_drop_connection_gives_a_transport_error(api: httpx.Client, sandbox: SandboxServer,
                                                 conversion: str) -> None:
    sandbox.faults.drop_connection = 1.0
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.get(conversion)
    sandbox.faults.drop_connection = 0
    assert_envelope(api.get(conversion), 200)
    assert sandbox.state.stats.faults["drop_connection"] == 1


def test_storm_answers_429_with_retry_after(api: httpx.Client, sandbox: SandboxServer,
                                            conversion: str) -> None:
    sandbox.faults.storm = True
    sandbox.faults.retry_after = 7
    for _ in range(3):
        answer = api.get(conversion)
        assert_envelope(answer, 429)
        assert answer.headers["retry-after"] == "7"
    sandbox.faults.storm = False
    assert_envelope(api.get(conversion), 200)


def test_rate_limit_is_a_token_bucket(api: httpx.Client, sandbox: SandboxServer,
                                      conversion: str) -> None:
    # 1 every 2 s, bursts of 5: a slow machine cannot send 8 so slowly that the bucket
    # refills in between.
    sandbox.faults.update({"rate_limit": 0.5, "rate_limit_burst": 5.0})
    codes = [api.get(conversion).status_code for _ in range(8)]
    assert codes[:5] == [200] * 5 and 429 in codes[5:]
    limited = api.get(conversion)
    assert int(limited.headers["retry-after"]) >= 1
    # A token comes back in its own time: ask until one is granted.
    until_sync(lambda: api.get(conversion).status_code == 200, "a token back", step=0.2)
    sandbox.faults.rate_limit = None
    assert all(api.get(conversion).status_code == 200 for _ in range(10))


def test_path_prefix_scopes_faults(api: httpx.Client, sandbox: SandboxServer,
                                   conversion: str) -> None:
    sandbox.faults.storm = True
    sandbox.faults.path_prefix = "/v1/conversions/9"
    assert_envelope(api.get(conversion), 200)  # ids start at 48210: not in scope
    assert_envelope(api.get("/v1/conversions/9/status"), 429)


def test_requests_are_counted_even_when_faulted(api: httpx.Client, sandbox: SandboxServer,
                                                conversion: str) -> None:
    sandbox.faults.drop_connection = 1.0
    for _ in range(3):
        with pytest.raises(httpx.TransportError):
            api.get(conversion)
    assert sandbox.state.request_count == 3
    stats = httpx.get(sandbox.base_url + "/_control/stats").json()["payload"]
    assert stats["requests"] == 3
    assert stats["faults"] == {"drop_connection": 3}


def test_faults_over_the_control_plane(control: httpx.Client, api: httpx.Client,
                                       sandbox: SandboxServer, conversion: str) -> None:
    body = assert_envelope(control.put("/faults", json={"storm": True, "retry_after": 3}), 200)
    assert body["payload"]["storm"] is True
    assert api.get(conversion).headers["retry-after"] == "3"
    assert_envelope(control.patch("/faults", json={"latency": 0.01}), 200)
    assert sandbox.faults.storm is True and sandbox.faults.latency == 0.01
    assert_envelope(control.put("/faults", json={"latency": 0.02}), 200)
    assert sandbox.faults.storm is False  # PUT replaces
    assert_envelope(control.delete("/faults"), 200)
    assert sandbox.faults == FaultConfig()
    assert_envelope(api.get(conversion), 200)


@pytest.mark.parametrize("bad", [{"nope": 1}, {"error_rate": 2}, {"error_status": 200},
                                 {"latency": -1}, {"storm": "yes"}])
def test_bad_fault_settings_are_refused_whole(control: httpx.Client, sandbox: SandboxServer,
                                              bad: dict[str, object]) -> None:
    sandbox.faults.latency = 0.01
    assert_envelope(control.patch("/faults", json=bad), 400)
    assert sandbox.faults.latency == 0.01


def test_control_plane_is_never_faulted(control: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.faults.update({"drop_connection": 1.0, "path_prefix": "/"})
    assert_envelope(control.get("/faults"), 200)


# -- hostile answers for chosen conversions -------------------------------------------------


def _wait_for_no_hostile_answers() -> None:
    """Wait (generously bounded) until the sandbox has stopped every long hostile answer."""
    deadline = time.monotonic() + 30
    while hostile.answers_in_progress() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert hostile.answers_in_progress() == 0, "a hostile answer kept going after the hang-up"


@pytest.fixture
def other(sandbox: SandboxServer) -> str:
    """A second conversion's status path, which the ID-scoped faults leave alone."""
    return f"/v1/conversions/{sandbox.state.add_conversion()}/status"


def _id(path: str) -> int:
    return int(path.split("/")[3])


def test_forbidden_ids_answer_403_with_the_profile(api: httpx.Client, sandbox: SandboxServer,
                                                   conversion: str, other: str) -> None:
    sandbox.faults.forbidden_ids = [_id(conversion)]
    body = assert_envelope(api.get(conversion), 403)
    assert body["profile"] == sandbox.state.profile and body["profile"] is not None
    assert body["errors"] == ["You do not have access to this conversion"]
    assert_envelope(api.delete(f"/v1/conversions/{_id(conversion)}"), 403)
    assert_envelope(api.get(other), 200)
    # The key is checked first: a wrong key is still a 401 without the profile.
    wrong = assert_envelope(api.get(conversion, headers={"X-API-KEY": "nope"}), 401)
    assert wrong["profile"] is None
    sandbox.faults.forbidden_ids = ()
    assert_envelope(api.get(conversion), 200)
    assert sandbox.state.stats.faults["forbidden_ids"] == 2


def test_wrong_id_for_answers_about_another_conversion(api: httpx.Client,
                                                       sandbox: SandboxServer,
                                                       conversion: str, other: str) -> None:
    real = assert_envelope(api.get(conversion), 200)["payload"]
    sandbox.faults.wrong_id_for = [_id(conversion)]
    payload = assert_envelope(api.get(conversion), 200)["payload"]
    assert payload["id"] == 99 and payload["fileName"] == "someone-elses.csv"
    assert payload["status"] == real["status"]
    assert assert_envelope(api.get(other), 200)["payload"]["id"] == _id(other)
    deleted = assert_envelope(api.delete(f"/v1/conversions/{_id(conversion)}"), 202)
    assert deleted["payload"]["id"] == 99
    sandbox.faults.wrong_id = 7
    assert assert_envelope(api.get(conversion), 200)["payload"]["id"] == 7
    # An answer without a payload has no ID to swap.
    sandbox.faults.wrong_id_for = True
    assert assert_envelope(api.get("/v1/conversions/5/status"), 404)["payload"] is None


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_pads_the_real_answer_to_n_bytes(api: httpx.Client, sandbox: SandboxServer,
                                                   conversion: str, other: str,
                                                   chunked: bool) -> None:
    real = api.get(conversion).json()
    sandbox.faults.update({"oversized_ids": [_id(conversion)], "oversized_bytes": 300_000,
                           "oversized_chunked": chunked})
    answer = api.get(conversion)
    assert len(answer.content) == 300_000
    if chunked:
        assert "content-length" not in answer.headers
        assert answer.headers["transfer-encoding"] == "chunked"
    else:
        assert answer.headers["content-length"] == "300000"
    assert answer.json() == real  # still the same JSON: only the size is the fault
    assert len(api.get(other).content) < 1000


def test_oversized_applies_to_batch_posts_when_true(api: httpx.Client,
                                                    sandbox: SandboxServer) -> None:
    sandbox.faults.update({"oversized_ids": True, "oversized_bytes": 100_000})
    answer = api.post("/v1/conversions", json=[])
    assert answer.status_code == 400 and len(answer.content) == 100_000


def test_trickle_sends_the_answer_a_few_bytes_at_a_time(api: httpx.Client,
                                                        sandbox: SandboxServer,
                                                        conversion: str) -> None:
    whole = api.get(conversion).content
    sandbox.faults.update({"trickle_ids": [_id(conversion)], "trickle_rate": 2000})
    with api.stream("GET", conversion) as answer:
        assert answer.headers["content-length"] == str(len(whole))
        pieces = list(answer.iter_raw())
    assert b"".join(pieces) == whole
    assert len(pieces) > 1


def test_a_slow_trickle_stops_when_the_client_hangs_up(api: httpx.Client,
                                                       sandbox: SandboxServer,
                                                       conversion: str, other: str) -> None:
    sandbox.faults.trickle_ids = [_id(conversion)]  # the default: a byte every 2 s
    with api.stream("GET", conversion) as answer:
        first = next(answer.iter_raw())
        assert first == b"{"  # one byte, then a long wait
    _wait_for_no_hostile_answers()
    assert_envelope(api.get(other), 200)
    assert sandbox.state.stats.faults["trickle_ids"] == 1


def test_gzip_bomb_is_small_on_the_wire_and_huge_decompressed(api: httpx.Client,
                                                              sandbox: SandboxServer,
                                                              conversion: str) -> None:
    real = api.get(conversion).json()
    size = 8 * 1024 * 1024
    sandbox.faults.update({"gzip_bomb_ids": [_id(conversion)], "gzip_bomb_bytes": size})
    with api.stream("GET", conversion) as answer:
        assert answer.headers["content-encoding"] == "gzip"
        assert "content-length" not in answer.headers
        wire = b"".join(answer.iter_raw())
    assert len(wire) < size // 500
    inflated = gzip.decompress(wire)  # a whole, valid gzip member
    assert len(inflated) == size
    assert json.loads(inflated) == real


def test_endless_body_never_ends_and_stops_when_the_client_hangs_up(
        api: httpx.Client, sandbox: SandboxServer, conversion: str) -> None:
    sandbox.faults.endless_ids = [_id(conversion)]
    read = 0
    with api.stream("GET", conversion) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert answer.headers["transfer-encoding"] == "chunked"
        for piece in answer.iter_raw():
            read += len(piece)
            if read > 20 * 1024 * 1024:
                break
    assert read > 20 * 1024 * 1024
    _wait_for_no_hostile_answers()
    sandbox.faults.endless_ids = ()
    assert_envelope(api.get(conversion), 200)


def test_id_scoped_faults_over_the_control_plane(control: httpx.Client, api: httpx.Client,
                                                 sandbox: SandboxServer,
                                                 conversion: str) -> None:
    body = assert_envelope(control.patch("/faults", json={
        "forbidden_ids": [_id(conversion), 12], "trickle_rate": 3, "wrong_id": 5}), 200)
    assert body["payload"]["forbidden_ids"] == [_id(conversion), 12]
    assert body["payload"]["trickle_rate"] == 3.0
    assert_envelope(api.get(conversion), 403)
    assert_envelope(control.patch("/faults", json={"forbidden_ids": False}), 200)
    assert_envelope(api.get(conversion), 200)


@pytest.mark.parametrize("bad", [{"forbidden_ids": "12"}, {"trickle_ids": [0]},
                                 {"wrong_id_for": [True]}, {"trickle_rate": 0},
                                 {"oversized_bytes": 0}, {"gzip_bomb_bytes": 1.5},
                                 {"oversized_chunked": 1}, {"wrong_id": -1}])
def test_bad_id_scoped_settings_are_refused(control: httpx.Client, sandbox: SandboxServer,
                                            bad: dict[str, object]) -> None:
    assert_envelope(control.patch("/faults", json=bad), 400)
    assert sandbox.faults == FaultConfig()
