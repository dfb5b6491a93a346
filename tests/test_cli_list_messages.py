"""``conversions-tui list --filter 'msg:...'`` searches every stored message through the
watchlist's FTS5 index (issue 14), FTS syntax taken literally, against the real sandbox."""

from __future__ import annotations

import json

import pytest

from tests.test_cli_list import env, run, watch  # noqa: F401  (env: a fixture)
from tui.core.paths import AppPaths
from tui.core.watchlist import Watchlist
from tui.sandbox.runner import SandboxServer


@pytest.fixture
def messages(env: SandboxServer) -> dict[str, int]:  # noqa: F811
    """Three watched conversions with messages that hold FTS syntax, checked once."""
    state = env.state
    ids = {
        "utf8": state.add_conversion(status="Failed", frozen=True,
                                     errors=["File is not valid UTF-8 (byte 0x9f)"]),
        "syntax": state.add_conversion(status="Completed", frozen=True,
                                       warnings=['Column "total" NEAR(a b) * OR NOT ^x:y']),
        "many": state.add_conversion(status="Failed", frozen=True,
                                     errors=[f"Row {n}: bad date" for n in range(1, 251)]),
    }
    watch(*ids.values())
    return ids


def listed(out: str) -> list[int]:
    return sorted(record["id"] for record in json.loads(out))


def test_list_filter_msg_finds_rows_by_any_stored_message(
        messages: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "list", "--refresh")[0] == 1  # records the answers (two Failed)
    with Watchlist(AppPaths.default().watchlist_db("default")) as watchlist:
        assert watchlist.message_index  # the searches below go through the index
    code, out, err = run(capsys, "list", "--filter", 'msg:"NOT VALID utf-8"', "--json")
    assert (code, listed(out)) == (1, [messages["utf8"]]), err
    for literal in ('msg:"\\"total\\" near(a b) * or not ^x:y"', 'msg:"* OR"', "msg:^x:y"):
        code, out, err = run(capsys, "list", "--filter", literal, "--json")
        assert (code, listed(out)) == (0, [messages["syntax"]]), (literal, err)
    code, out, err = run(capsys, "list", "--filter", "msg:NEAR,utf-8", "--json")
    assert listed(out) == sorted([messages["utf8"], messages["syntax"]]), err
    code, out, err = run(capsys, "list", "--filter", 'msg:"row 200:"', "--json")
    assert listed(out) == [messages["many"]], err
    [record] = json.loads(out)
    assert (record["error_count"], len(record["errors"])) == (250, 200)
    code, out, err = run(capsys, "list", "--filter", 'msg:"row 201:"', "--json")
    assert (code, listed(out)) == (0, []), err  # past the first 200: not kept
