"""Where the sandbox keeps its conversions: memory by default, SQLite with ``--db``."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

from tui.sandbox.lifecycle import Conversion, LifecyclePlan


class ConversionStore(Protocol):
    """What the state needs from storage. Callers serialise access with their own lock."""

    def get(self, conversion_id: int) -> Conversion | None: ...
    def put(self, conversion: Conversion) -> None: ...
    def put_many(self, conversions: Iterable[Conversion]) -> None: ...
    def remove(self, conversion_id: int) -> None: ...
    def all(self) -> Iterator[Conversion]: ...
    def count(self) -> int: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...


class MemoryStore:
    """A dict; gone when the process ends."""

    def __init__(self) -> None:
        self._rows: dict[int, Conversion] = {}
        self._meta: dict[str, str] = {}

    def get(self, conversion_id: int) -> Conversion | None:
        """The conversion with this id, if any."""
        return self._rows.get(conversion_id)

    def put(self, conversion: Conversion) -> None:
        """Insert or replace."""
        self._rows[conversion.id] = conversion

    def put_many(self, conversions: Iterable[Conversion]) -> None:
        """Insert or replace several."""
        for conversion in conversions:
            self._rows[conversion.id] = conversion

    def remove(self, conversion_id: int) -> None:
        """Forget one (no error when absent)."""
        self._rows.pop(conversion_id, None)

    def all(self) -> Iterator[Conversion]:
        """Every conversion, in id order."""
        return iter(sorted(self._rows.values(), key=lambda c: c.id))

    def count(self) -> int:
        """How many are stored."""
        return len(self._rows)

    def clear(self) -> None:
        """Forget everything."""
        self._rows.clear()
        self._meta.clear()

    def close(self) -> None:
        """Nothing to release."""

    def get_meta(self, key: str) -> str | None:
        """A small bookkeeping value (the next id, say)."""
        return self._meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        """Remember a small bookkeeping value."""
        self._meta[key] = value


def _to_json(conversion: Conversion) -> str:
    return json.dumps(asdict(conversion))


def _from_json(text: str) -> Conversion:
    data: dict[str, Any] = json.loads(text)
    data["plan"] = LifecyclePlan(**data["plan"])
    return Conversion(**data)


class SqliteStore:
    """One row per conversion (a JSON document), so a restart finds them all again."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The server thread and the test thread both use it; the state's lock serialises.
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS conversions (id INTEGER PRIMARY KEY, doc TEXT NOT NULL)")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def get(self, conversion_id: int) -> Conversion | None:
        """The conversion with this id, if any."""
        with self._lock:
            row = self._db.execute("SELECT doc FROM conversions WHERE id = ?",
                                   (conversion_id,)).fetchone()
        return None if row is None else _from_json(row[0])

    def put(self, conversion: Conversion) -> None:
        """Insert or replace."""
        self.put_many([conversion])

    def put_many(self, conversions: Iterable[Conversion]) -> None:
        """Insert or replace several in one transaction."""
        rows = [(c.id, _to_json(c)) for c in conversions]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO conversions (id, doc) VALUES (?, ?)", rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def remove(self, conversion_id: int) -> None:
        """Forget one (no error when absent)."""
        with self._lock:
            self._db.execute("DELETE FROM conversions WHERE id = ?", (conversion_id,))

    def all(self) -> Iterator[Conversion]:
        """Every conversion, in id order."""
        with self._lock:
            rows = self._db.execute("SELECT doc FROM conversions ORDER BY id").fetchall()
        return (_from_json(row[0]) for row in rows)

    def count(self) -> int:
        """How many are stored."""
        with self._lock:
            (total,) = self._db.execute("SELECT COUNT(*) FROM conversions").fetchone()
        return int(total)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._db.execute("DELETE FROM conversions")
            self._db.execute("DELETE FROM meta")

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def get_meta(self, key: str) -> str | None:
        """A small bookkeeping value (the next id, say)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Remember a small bookkeeping value."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             (key, value))
