"""This machine's copy of a team's rows: :class:`TeamMirror`, read when the monitor starts
while the team database cannot be reached.

One small SQLite file per (team store, profile base URL) in the profile's data folder,
private to the user (0600): the last known rows (every field of
:class:`~tui.core.watchlist.WatchedConversion`, the raw envelope included), the change
number they are complete up to (``seq``) and when they were saved. It holds no password
and no API key: the store's address is kept as its ``display`` (``user@host:port/db``).

It is written from what the app received: the whole list when it is read (:meth:`replace`)
and each batch of changes after (:meth:`apply`, with the change numbers it covers). Both
only queue; a daemon thread writes what is queued in one transaction, at most every
``flush_delay`` seconds, so nothing is written per row or on the event loop. A failure to
write is logged, never raised: the copy is a convenience, the database is the truth.

``seq`` only moves when what was written covers every change up to it: a batch read after
change ``since`` moves it to the batch's number only when ``since`` is not past what the
copy already covers. A lower number is always safe (catching up reads more); a higher one
would skip changes. One app per file writes it (an ``flock`` beside it, tried again at
each write), so two monitors of one profile on one machine never interleave their copies.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tui.core.watchlist.rows import WatchedConversion

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: every app writes its copy
    fcntl = None  # type: ignore[assignment]

__all__ = ["MIRROR_FLUSH_DELAY", "MirrorState", "TeamMirror", "mirror_path"]

log = logging.getLogger(__name__)

MIRROR_FLUSH_DELAY = 2.0
"""Seconds the writer waits after the first queued change, to write what came meanwhile
in the same transaction (the first full list waits out the first screen's drawing)."""
_VERSION = 1  # of this file's layout: another one is a copy to start again
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, fields TEXT NOT NULL, raw TEXT)",
)
_FIELDS = tuple(name for name in WatchedConversion.__dataclass_fields__
                if name not in ("id", "raw"))


def mirror_path(folder: Path, store: str, base_url: str) -> Path:
    """The copy of the team store ``store`` (its display address, no password) for the
    profile base URL ``base_url``, in the profile's data folder ``folder``."""
    key = hashlib.sha256(f"{store}\n{base_url}".encode("utf-8", "surrogatepass"))
    return Path(folder) / f"team-copy-{key.hexdigest()[:16]}.sqlite3"


@dataclass(frozen=True)
class MirrorState:
    """What a copy says of itself: the change number it is complete up to and when it
    was last written (unix seconds; None: never)."""

    seq: int = 0
    saved_at: float | None = None
    database: str | None = None  # which database the rows came from (see replace)


@dataclass
class _Pending:
    """What is queued for the next write."""

    replace: Sequence[WatchedConversion] | None = None  # the whole list, first
    replace_seq: int = 0
    database: str = ""
    changed: dict[int, WatchedConversion | None] = field(default_factory=dict)  # None: gone
    spans: list[tuple[int, int]] = field(default_factory=list)  # (since, seq) of batches

    def __bool__(self) -> bool:
        return self.replace is not None or bool(self.changed) or bool(self.spans)


def _encode(row: WatchedConversion) -> tuple[int, str, str | None]:
    values: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(row, name)
        if isinstance(value, Mapping):
            value = dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        values[name] = value
    return row.id, json.dumps(values, separators=(",", ":")), row.raw


def _decode(conversion_id: int, fields: str, raw: str | None) -> WatchedConversion | None:
    try:
        values = json.loads(fields)
        kept = {name: values[name] for name in _FIELDS if name in values}
        kept["warnings"] = tuple(str(item) for item in kept.get("warnings", ()))
        kept["errors"] = tuple(str(item) for item in kept.get("errors", ()))
        kept["metadata"] = MappingProxyType(dict(kept.get("metadata") or {}))
        return WatchedConversion(id=int(conversion_id), raw=raw, **kept)
    except (ValueError, TypeError):  # a row from another layout: left out
        return None


class TeamMirror:
    """This machine's copy of one profile's team rows (see the module docstring)."""

    def __init__(self, path: Path, *, store: str, base_url: str,
                 flush_delay: float = MIRROR_FLUSH_DELAY) -> None:
        self.path = Path(path)
        self._store = store
        self._base_url = base_url
        self._delay = flush_delay
        self._lock = threading.Lock()  # guards _pending, _thread, _closed
        self._writing = threading.Lock()  # one write at a time (the thread, or a flush)
        self._pending = _Pending()
        self._wake = threading.Event()
        self._stop = threading.Event()  # closing: the writer's wait ends at once
        self._closed = False
        self._thread: threading.Thread | None = None
        self._lock_fd: int | None = None
        self._said_busy = False

    def __repr__(self) -> str:
        return f"TeamMirror({str(self.path)!r})"

    # ------------------------------------------------------------------ reading
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        return conn

    def _read(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of ``query`` from the file; none when there is no copy or it cannot be
        read (said in the log)."""
        if not self.path.exists():
            return []
        try:
            with contextlib.closing(self._connect()) as conn:
                return list(conn.execute(query, params))
        except sqlite3.Error as error:
            log.warning("this machine's copy of the team rows cannot be read (%s): %s",
                        self.path, error)
            return []

    def state(self) -> MirrorState:
        """The change number the copy is complete up to, and when it was saved."""
        meta = dict(self._read("SELECT key, value FROM meta"))
        if str(meta.get("version")) != str(_VERSION):
            return MirrorState()
        try:
            saved = meta.get("saved_at")
            return MirrorState(int(meta.get("seq", 0)), float(saved) if saved else None,
                               meta.get("database") or None)
        except ValueError:
            return MirrorState()

    def _rows(self, where: str = "", params: Sequence[Any] = ()) -> list[WatchedConversion]:
        if self.state().saved_at is None:
            return []
        found = (_decode(*row) for row in self._read(
            f"SELECT id, fields, raw FROM rows {where}", params))
        return [row for row in found if row is not None]

    def rows(self) -> list[WatchedConversion]:
        """Every row of the copy, by ID."""
        return self._rows("ORDER BY id")

    def head(self, count: int) -> list[WatchedConversion]:
        """The first ``count`` rows by ID."""
        return self._rows("ORDER BY id LIMIT ?", (max(count, 0),))

    def get_many(self, ids: Iterable[int]) -> dict[int, WatchedConversion]:
        """The rows of the copy among ``ids``, by ID."""
        wanted = sorted({int(value) for value in ids})
        found: dict[int, WatchedConversion] = {}
        for start in range(0, len(wanted), 500):  # under SQLite's limit of parameters
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update((row.id, row) for row in self._rows(f"WHERE id IN ({marks})", chunk))
        return found

    def ids(self) -> set[int]:
        """The IDs of the copy once what is queued is written."""
        self.flush()
        return {int(value) for (value,) in self._read("SELECT id FROM rows")}

    # ------------------------------------------------------------------ writing
    def replace(self, rows: Sequence[WatchedConversion], seq: int, database: str = "") -> None:
        """The whole list as read in one snapshot of change number ``seq`` of
        ``database`` (what tells it from another database at the same address): it
        replaces the copy (and whatever was queued before it). Only queues."""
        with self._lock:
            self._pending = _Pending(replace=tuple(rows), replace_seq=seq, database=database)
        self._kick()

    def apply(self, rows: Iterable[WatchedConversion], removed: Iterable[int], *,
              since: int, seq: int) -> None:
        """A batch: ``rows`` as they are now and ``removed`` IDs, every change after number
        ``since`` up to ``seq``. Only queues (nothing when nothing changed)."""
        rows, removed = list(rows), list(removed)
        if not rows and not removed and seq <= since:
            return
        with self._lock:
            pending = self._pending
            for conversion_id in removed:
                pending.changed[int(conversion_id)] = None
            for row in rows:
                pending.changed[row.id] = row
            spans = pending.spans
            if spans and since <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], seq))
            else:
                spans.append((since, seq))
        self._kick()

    def _kick(self) -> None:
        with self._lock:
            if self._closed:
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="team-copy",
                                                daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        # The stop is looked at after each write: a close that came during the wait
        # (its wake cleared below) ends the loop here rather than leaving it waiting.
        while not self._stop.is_set():
            self._wake.wait()
            self._stop.wait(self._delay)  # what comes meanwhile goes in the same write
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Write what is queued now (in the caller's thread); a failure is logged."""
        with self._writing:
            with self._lock:
                pending, self._pending = self._pending, _Pending()
            if not pending:
                return
            try:
                if self._own_file():
                    self._write(pending)
            except (sqlite3.Error, OSError) as error:
                log.warning("this machine's copy of the team rows was not saved (%s): %s",
                            self.path, error)
                if isinstance(error, sqlite3.DatabaseError) and not isinstance(
                        error, sqlite3.OperationalError):
                    self._discard()  # damaged: the next whole list starts it again

    def _discard(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                os.unlink(f"{self.path}{suffix}")

    def _own_file(self) -> bool:
        """Whether this app writes the copy: another monitor of the profile on this
        machine may (then it does, and this one tries again at its next write)."""
        if self._lock_fd is not None or fcntl is None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            if not self._said_busy:
                log.info("another monitor on this machine keeps the copy %s", self.path)
                self._said_busy = True
            return False
        self._lock_fd = fd
        return True

    def _write(self, pending: _Pending) -> None:
        # Private before SQLite opens it; its journal files take the file's mode.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        os.chmod(self.path, 0o600)
        with contextlib.closing(self._connect()) as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            with conn:
                for statement in _SCHEMA:
                    conn.execute(statement)
                meta = dict(conn.execute("SELECT key, value FROM meta"))
                if meta.get("version") != str(_VERSION) and pending.replace is None:
                    return  # a copy starts from a whole list: a batch alone is not one
                seq = int(meta.get("seq", 0))
                if pending.replace is not None:
                    conn.execute("DELETE FROM rows")
                if pending.replace is not None:
                    conn.executemany("INSERT INTO rows (id, fields, raw) VALUES (?, ?, ?)",
                                     map(_encode, pending.replace))
                    seq = pending.replace_seq
                    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES "
                                 "('database', ?)", (pending.database,))
                gone = [(key,) for key, row in pending.changed.items() if row is None]
                conn.executemany("DELETE FROM rows WHERE id = ?", gone)
                conn.executemany(
                    "INSERT OR REPLACE INTO rows (id, fields, raw) VALUES (?, ?, ?)",
                    (_encode(row) for row in pending.changed.values() if row is not None))
                for since, until in pending.spans:
                    if since <= seq:  # contiguous with what the copy covers
                        seq = max(seq, until)
                conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [
                    ("version", str(_VERSION)), ("seq", str(seq)),
                    ("saved_at", repr(time.time())), ("store", self._store),
                    ("base_url", self._base_url)])

    def close(self) -> None:
        """Write what is queued and stop the writer (and let another app write the copy)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._stop.set()
        self._wake.set()
        if thread is not None:
            thread.join(timeout=30)
        self.flush()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

