"""One poller per base URL: the advisory lock against a real PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.core.teamstore.conftest import BASE_URL, address_of
from tests.waiting import until_sync
from tui.core.teamstore import LeaderLock

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def locks(store_url: str) -> Iterator[list[LeaderLock]]:
    made: list[LeaderLock] = []
    yield made
    for lock in made:
        lock.release()


def _lock(made: list[LeaderLock], url: str, who: str, base_url: str = BASE_URL) -> LeaderLock:
    lock = LeaderLock(address_of(url), base_url, who)
    made.append(lock)
    return lock


def test_of_two_only_one_polls_and_the_other_names_it(locks: list[LeaderLock],
                                                       store_url: str) -> None:
    dana, sam = _lock(locks, store_url, "dana@desk1"), _lock(locks, store_url, "sam@desk2")
    assert dana.try_acquire() is True
    assert sam.try_acquire() is False
    assert dana.try_acquire() is True  # asking again keeps it
    holder = sam.holder()
    assert holder is not None and holder.who == "dana@desk1"
    dana.release()
    assert sam.try_acquire() is True
    holder = dana.holder()
    assert holder is not None and holder.who == "sam@desk2"


def test_each_base_url_has_its_own_poller(locks: list[LeaderLock], store_url: str) -> None:
    production = _lock(locks, store_url, "dana@desk1")
    staging = _lock(locks, store_url, "sam@desk2", base_url="https://staging.example.com")
    assert production.try_acquire() and staging.try_acquire()


def test_a_terminated_connection_loses_leadership(locks: list[LeaderLock], store_url: str,
                                                  team_database: str) -> None:
    dana, sam = _lock(locks, store_url, "dana@desk1"), _lock(locks, store_url, "sam@desk2")
    assert dana.try_acquire()
    holder = sam.holder()
    assert holder is not None
    with psycopg.connect(team_database, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (holder.backend_pid,))
    until_sync(sam.try_acquire, lambda: f"the lock's holder now: {sam.holder()}")
    assert dana.still_held() is False
    assert dana.try_acquire() is False  # reconnects, finds sam polling
    holder = dana.holder()
    assert holder is not None and holder.who == "sam@desk2"


_CHILD = """
import sys
from tests.core.teamstore.conftest import address_of
from tui.core.teamstore import LeaderLock
lock = LeaderLock(address_of(sys.argv[1]), sys.argv[2], "child@box")
print("held" if lock.try_acquire() else "refused", flush=True)
sys.stdin.read()  # until killed
"""


def test_a_leader_killed_with_sigkill_lets_another_take_over(locks: list[LeaderLock],
                                                             store_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, store_url, BASE_URL], env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "held"
        sam = _lock(locks, store_url, "sam@desk2")
        assert sam.try_acquire() is False
        holder = sam.holder()
        assert holder is not None and holder.who == "child@box"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        until_sync(sam.try_acquire, lambda: f"the lock's holder now: {sam.holder()}")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
