"""One poller per watchlist file: the OS lock, and the follower that waits for it.

Two ``PollerLock`` objects in one process hold two descriptors, and ``flock`` locks
belong to a descriptor, so they exclude each other as two processes would. The SIGKILL
case uses a real second process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tui.core.polling.following import WatchlistFollower
from tui.core.polling.lock import LockHolder, PollerLock, lock_path_for
from tui.core.polling.types import PollUpdate
from tui.core.watchlist import Watchlist

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")

TIMEOUT = 30.0  # a loaded machine may take long to start a process or run the loop


def _wait(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {TIMEOUT:g} s waiting for {what}")
        time.sleep(0.02)


async def _async_wait(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {TIMEOUT:g} s waiting for {what}")
        await asyncio.sleep(0.02)


def test_one_holder_at_a_time_and_it_says_who(tmp_path: Path) -> None:
    db = tmp_path / "watchlist.sqlite3"
    first, second = PollerLock(db), PollerLock(db)
    assert first.try_acquire()
    assert first.try_acquire()  # again: still ours
    assert not second.try_acquire()
    assert second.holder() == LockHolder(os.getpid(), socket.gethostname())
    assert first.path == second.path == lock_path_for(db) and first.path.parent == tmp_path
    assert first.path.stat().st_mode & 0o777 == 0o600
    first.release()
    assert not first.held
    assert second.try_acquire()
    assert not first.try_acquire()
    second.release()


def test_a_garbled_lock_file_names_nobody_and_does_not_crash(tmp_path: Path) -> None:
    lock = PollerLock(tmp_path / "watchlist.sqlite3")
    lock.path.write_text("\x1b[2J 99999999999999999999 ")
    holder = lock.holder()
    assert holder is not None and holder.pid is None
    lock.path.write_text("")
    assert lock.holder() is None


_HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from tui.core.polling.lock import PollerLock
    lock = PollerLock(Path(sys.argv[1]))
    assert lock.try_acquire()
    print("held", flush=True)
    time.sleep(600)
""")


def test_a_holder_killed_with_sigkill_lets_go(tmp_path: Path) -> None:
    db = tmp_path / "watchlist.sqlite3"
    child = subprocess.Popen([sys.executable, "-c", _HOLDER, str(db)], stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        ours = PollerLock(db)
        assert not ours.try_acquire()
        holder = ours.holder()
        assert holder is not None and holder.pid == child.pid
        child.send_signal(signal.SIGKILL)
        child.wait(TIMEOUT)
        _wait(ours.try_acquire, "the lock after its holder was killed")
        assert ours.holder() == LockHolder(os.getpid(), socket.gethostname())
        ours.release()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(TIMEOUT)


async def test_a_follower_passes_on_others_writes_and_leads_once_the_lock_is_free(
        tmp_path: Path) -> None:
    db = tmp_path / "watchlist.sqlite3"
    with Watchlist(db) as here, Watchlist(db) as leader_file:
        here.add([1, 2])
        leader = PollerLock(db)
        assert leader.try_acquire()
        updates: list[PollUpdate] = []
        led: list[bool] = []
        ours = PollerLock(db)
        follower = WatchlistFollower(here, ours, since=here.feed_seq(),
                                     on_update=updates.append, on_lead=lambda: led.append(True),
                                     interval=0.05)
        task = asyncio.ensure_future(follower.run())
        try:
            assert follower.holder is not None and follower.holder.pid == os.getpid()
            leader_file.set_note(1, "INC-4480")
            leader_file.add([3])
            leader_file.remove([2])
            await _async_wait(lambda: {i for u in updates for i in u.removed} == {2},
                              "the follower's update")
            rows = {row.id: row for update in updates for row in update.rows}
            assert rows[1].note == "INC-4480" and 3 in rows
            assert [i for u in updates for i in u.added] == [3]
            assert not any(update.changes for update in updates)  # toasts stay with the leader
            assert not led and not ours.held
            leader.release()
            await _async_wait(lambda: led, "the follower to take the lead")
            await asyncio.wait_for(task, TIMEOUT)
            assert ours.held
        finally:
            follower.stop()
            await asyncio.wait_for(task, TIMEOUT)
            ours.release()
            leader.release()
