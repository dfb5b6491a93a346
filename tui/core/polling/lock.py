"""One poller per watchlist file: an OS file lock beside the SQLite file.

Two monitors on one profile must not both poll (twice the requests, two writers of the
same results). The monitor that holds :class:`PollerLock` polls (the *leader*); another
follows the file through its change feed and tries the lock again every second, so it
takes over when the leader exits, crashes or is killed: the kernel drops an ``flock``
with the last descriptor of its holder, SIGKILL included, so no stale lock is left to
clean up.

The holder writes ``pid host`` into the lock file, so a follower can say whose monitor
polls. The lock file is never removed (removing it would let two processes lock two
different files of one name). Where ``fcntl`` is missing (Windows) every monitor polls,
as before.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_flock: Callable[[int], None] | None
try:
    import fcntl

    def _flock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises OSError when held
except ImportError:  # pragma: no cover - not POSIX
    _flock = None

__all__ = ["LockHolder", "PollerLock", "lock_path_for"]


def lock_path_for(db_path: Path) -> Path:
    """The lock file of the watchlist file ``db_path`` (beside it)."""
    return Path(db_path).with_name(Path(db_path).name + ".poller.lock")


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds the lock, as its holder wrote it (text from a file: show it escaped)."""

    pid: int | None
    host: str

    def describe(self) -> str:
        """"pid 4120 on build-7", or what is known of it."""
        if self.pid is None:
            return f"on {self.host}" if self.host else "pid unknown"
        return f"pid {self.pid} on {self.host}" if self.host else f"pid {self.pid}"


class PollerLock:
    """The poller's lock on one watchlist file; :meth:`try_acquire` never blocks."""

    def __init__(self, db_path: Path) -> None:
        self.path = lock_path_for(db_path)
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"PollerLock({str(self.path)!r}, held={self.held})"

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it (True), else False at once. Held already: True."""
        if self._fd is not None:
            return True
        if _flock is None:  # pragma: no cover - not POSIX: no lock, every monitor polls
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _flock(fd)
        except OSError:
            os.close(fd)
            return False
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
        except OSError:
            pass  # who holds it is a courtesy; the lock itself is what counts
        self._fd = fd
        return True

    def holder(self) -> LockHolder | None:
        """Who holds the lock as its file says (None: unreadable, or being rewritten)."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")[:300]
        except OSError:
            return None
        words = text.split()
        if not words:
            return None
        pid = int(words[0]) if words[0].isdigit() and len(words[0]) < 10 else None
        return LockHolder(pid, words[1] if len(words) > 1 else "")

    def release(self) -> None:
        """Let go of the lock (closing the descriptor releases it; a crash does too)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # still ours: nobody else writes it until we close
            os.close(fd)
