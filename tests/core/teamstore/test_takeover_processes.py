"""The leader killed with SIGKILL, with real processes: two headless app processes
(tests/fixtures/team_app.py) on one team database against the sandbox; the one that polls
is killed; the other takes over and polls; history and audit hold each change once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.teamstore.conftest import address_of
from tests.waiting import until_sync
from tui.core.teamstore import TeamStore
from tui.sandbox.runner import SandboxServer

APP = Path(__file__).resolve().parents[2] / "fixtures" / "team_app.py"
POLL_INTERVAL = 1.0


class AppProcess:
    """One headless app process and the roles it printed (``lead``/``follow``)."""

    def __init__(self, folder: Path, sandbox: SandboxServer, store_url: str,
                 person: str) -> None:
        env = {**os.environ, "USER": person, "LOGNAME": person}
        self.person = person
        self.process = subprocess.Popen(
            [sys.executable, str(APP), str(folder / person), sandbox.base_url,
             sandbox.api_key, store_url, person, str(POLL_INTERVAL)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.roles: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.roles.append(line.split()[0])

    def said(self) -> str:
        return f"{self.person}: roles {self.roles}, exit {self.process.poll()}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def apps(tmp_path: Path) -> Iterator[list[AppProcess]]:
    started: list[AppProcess] = []
    yield started
    for app in started:
        app.stop()


def test_a_leader_killed_with_sigkill_is_replaced_and_nothing_is_lost_or_doubled(
        sandbox: SandboxServer, store_url: str, tmp_path: Path,
        apps: list[AppProcess]) -> None:
    state = sandbox.state
    busy = state.add_conversion(status="Processing", frozen=True)
    going = state.add_conversion(status="Processing", frozen=True)
    still = state.add_conversion(status="Processing", frozen=True)  # polled every interval
    with TeamStore(address_of(store_url), sandbox.base_url, "setup") as team:
        team.add([busy, going, still])
        team.mark_delete_requested(going, 1.0)  # the team asked; the server deletes later

        first = AppProcess(tmp_path, sandbox, store_url, "dana")
        apps.append(first)
        until_sync(lambda: first.roles, first.said)
        assert first.roles == ["lead"], first.said()
        second = AppProcess(tmp_path, sandbox, store_url, "sam")
        apps.append(second)
        until_sync(lambda: second.roles, second.said)
        assert second.roles == ["follow"], second.said()
        until_sync(lambda: [s for s, _ in team.history(busy)] == ["Processing"],
                   lambda: f"the leader's first poll; history {team.history(busy)}")

        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        # Changes after the kill: only a new leader can see them.
        state.set_status(busy, "Completed", frozen=True)
        state.set_status(going, "Deleted", frozen=True)
        until_sync(lambda: second.roles[-1:] == ["lead"], second.said)
        until_sync(lambda: [s for s, _ in team.history(busy)] == ["Processing", "Completed"]
                   and [s for s, _ in team.history(going)] == ["Processing", "Deleted"],
                   lambda: f"history after the takeover: {team.history(busy)}, "
                           f"{team.history(going)}; {second.said()}")

        until_sync(lambda: team.audit_entries(action="delete", naming=going),
                   "the delete confirmed in the team's audit")
        confirmed = team.audit_entries(action="delete", naming=going)
        assert [(e["outcome"], e["person"]) for e in confirmed] == [("confirmed", "sam")]
        # A while more of polling by the new leader: still each status once.
        requests = state.stats.total
        until_sync(lambda: state.stats.total >= requests + 3, "the new leader polling on")
        assert [s for s, _ in team.history(busy)] == ["Processing", "Completed"]
        assert [s for s, _ in team.history(still)] == ["Processing"]
        assert len(team.audit_entries(action="delete", naming=going)) == 1
