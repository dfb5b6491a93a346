"""The SQLite watchlist: membership, recording poll results, history, durability, threads."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.api.models import StatusEnvelope
from tui.core.paths import AppPaths
from tui.core.watchlist import (
    KEEP_UNWATCHED,
    PollResult,
    StatusChange,
    WatchedConversion,
    Watchlist,
    WatchlistError,
)
from tui.core.watchlist.schema import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class FakePayload:
    id: int
    status: str
    file_name: str | None = "report.csv"
    data_source_type: str | None = "Csv"
    upload_date: datetime | None = None


@dataclass
class FakeEnvelope:
    payload: FakePayload | None
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def answer(conversion_id: int, status: str, at: float, **kwargs: Any) -> PollResult:
    envelope_fields = {k: kwargs.pop(k) for k in ("warnings", "errors", "metadata")
                       if k in kwargs}
    payload = FakePayload(conversion_id, status, **kwargs)
    raw = {"payload": {"id": conversion_id, "status": status}, **envelope_fields}
    envelope = FakeEnvelope(payload, raw=raw, **envelope_fields)
    return PollResult(conversion_id, at, envelope=envelope)  # type: ignore[arg-type]


@pytest.fixture
def watchlist(tmp_path: Path) -> Watchlist:
    store = Watchlist(tmp_path / "profiles" / "prod" / "watchlist.sqlite3")
    yield store  # type: ignore[misc]
    store.close()


# --- membership -------------------------------------------------------------------------

def test_add_returns_only_new_ids_in_order(watchlist: Watchlist) -> None:
    assert watchlist.add([5, 3, 5, 9], at=100.0) == [5, 3, 9]
    assert watchlist.add([9, 1, 3]) == [1]
    assert watchlist.ids() == [1, 3, 5, 9]
    assert len(watchlist) == 4 and 3 in watchlist and 4 not in watchlist


def test_new_entry_is_blank_but_for_first_seen(watchlist: Watchlist) -> None:
    watchlist.add([7], note="from ticket INC-1", at=123.5)
    assert watchlist.get(7) == WatchedConversion(
        id=7, file_name=None, data_source_type=None, status=None, upload_date=None,
        warnings=(), errors=(), metadata={}, first_seen=123.5, last_checked=None,
        last_changed=None, note="from ticket INC-1", last_problem=None, problem_count=0,
        delete_requested_at=None, deleted_at=None, not_found=False, raw=None)
    assert watchlist.get(8) is None


@pytest.mark.parametrize("bad", [0, -1, 2**63, True, "5", 1.0])
def test_add_refuses_non_ids(watchlist: Watchlist, bad: Any) -> None:
    with pytest.raises(ValueError):
        watchlist.add([1, bad])
    assert watchlist.ids() == []  # nothing half-added


def test_largest_id_round_trips(watchlist: Watchlist) -> None:
    watchlist.add([2**63 - 1])
    assert watchlist.ids() == [2**63 - 1]


def test_remove_counts_and_keeps_the_rows_aside(watchlist: Watchlist) -> None:
    watchlist.add([1, 2, 3])
    watchlist.record_results([answer(1, "Queued", 10.0)])
    assert watchlist.remove([1, 2, 99]) == 2
    assert watchlist.ids() == [3] and len(watchlist) == 1
    assert 1 not in watchlist and watchlist.get(1) is None
    assert [row.id for row in watchlist.all()] == [3]
    assert watchlist.kept([1, 2, 3, 99]) == {1, 2}
    # Polls of an unwatched ID change nothing, kept row included.
    assert watchlist.record_results([answer(1, "Completed", 20.0)]) == []
    assert watchlist.history(1) == [("Queued", 10.0)]


def test_re_adding_brings_back_note_history_and_last_known_data(watchlist: Watchlist) -> None:
    watchlist.add([48211], at=5.0)
    watchlist.set_note(48211, "INC-4471")
    watchlist.record_results([answer(48211, "Queued", 10.0),
                              answer(48211, "Failed", 70.0, file_name="ledger.csv")])
    before = watchlist.get(48211)
    assert before is not None and before.entered_seen
    watchlist.remove([48211], at=100.0)
    assert watchlist.add([48211], at=200.0, note="from a new ticket") == [48211]
    after = watchlist.get(48211)
    assert after == before  # note kept over the new one, first seen and status too
    assert after is not None and after.note == "INC-4471" and after.first_seen == 5.0
    assert watchlist.history(48211) == [("Queued", 10.0), ("Failed", 70.0)]
    assert watchlist.kept([48211]) == set()
    assert [row.id for row in watchlist.all()] == [48211]
    # A kept row without a note takes the one given when it comes back.
    watchlist.add([7])
    watchlist.remove([7])
    watchlist.add([7], note="T-9")
    assert watchlist.get(7).note == "T-9"  # type: ignore[union-attr]


def test_unwatched_rows_leave_the_activity_but_come_back_with_it(
        watchlist: Watchlist) -> None:
    watchlist.add([1, 2])
    watchlist.record_results([answer(1, "Queued", 10.0), answer(2, "Queued", 11.0)])
    watchlist.remove([1])
    assert [change.id for change in watchlist.changes_between(0.0, 100.0)] == [2]
    watchlist.add([1])
    assert [change.id for change in watchlist.changes_between(0.0, 100.0)] == [1, 2]


def test_rows_unwatched_long_ago_go_for_good_with_their_history(
        watchlist: Watchlist) -> None:
    day = 86400.0
    watchlist.add([1, 2, 3])
    watchlist.record_results([answer(1, "Queued", 10.0), answer(2, "Queued", 10.0),
                              answer(3, "Queued", 10.0)])
    watchlist.remove([1], at=100.0)
    watchlist.remove([2], at=100.0 + KEEP_UNWATCHED - day)
    assert watchlist.kept([1, 2]) == {1, 2}
    watchlist.remove([3], at=100.0 + KEEP_UNWATCHED + day)  # 1 is past the limit now
    assert watchlist.kept([1, 2, 3]) == {2, 3}
    assert watchlist.history(1) == [] and watchlist.history(2) == [("Queued", 10.0)]
    watchlist.add([1])
    assert watchlist.get(1).status is None  # type: ignore[union-attr]


def test_unwatching_twice_keeps_the_latest_row(watchlist: Watchlist) -> None:
    watchlist.add([1])
    watchlist.remove([1])
    watchlist.add([1])
    watchlist.set_note(1, "second time")
    watchlist.remove([1])
    watchlist.add([1])
    assert watchlist.get(1).note == "second time"  # type: ignore[union-attr]


def test_slots_keep_entries_small() -> None:
    assert not hasattr(WatchedConversion, "__dict__") or "__slots__" in vars(WatchedConversion)
    assert "__slots__" in vars(WatchedConversion)


# --- recording results ------------------------------------------------------------------

def test_first_status_is_a_change_from_none(watchlist: Watchlist) -> None:
    watchlist.add([1, 2], at=1.0)
    changes = watchlist.record_results([
        answer(1, "Uploaded", 10.0, upload_date=datetime(2024, 5, 1, 12, tzinfo=UTC)),
        answer(2, "Queued", 10.0, warnings=["slow"], errors=["e1", "e2"],
               metadata={"pages": 3}),
    ])
    assert changes == [StatusChange(1, None, "Uploaded", 10.0),
                       StatusChange(2, None, "Queued", 10.0)]
    one = watchlist.get(1)
    assert one is not None
    assert (one.status, one.file_name, one.data_source_type) == ("Uploaded", "report.csv", "Csv")
    assert one.upload_date == "2024-05-01T12:00:00+00:00"
    assert (one.last_checked, one.last_changed) == (10.0, 10.0)
    two = watchlist.get(2)
    assert two is not None
    assert two.warnings == ("slow",) and two.errors == ("e1", "e2")
    assert two.metadata == {"pages": 3}
    assert json.loads(two.raw or "")["payload"] == {"id": 2, "status": "Queued"}


def test_same_status_is_no_change_but_is_a_check(watchlist: Watchlist) -> None:
    watchlist.add([1])
    watchlist.record_results([answer(1, "Processing", 10.0)])
    assert watchlist.record_results([answer(1, "Processing", 20.0)]) == []
    entry = watchlist.get(1)
    assert entry is not None and (entry.last_checked, entry.last_changed) == (20.0, 10.0)


def test_a_status_is_known_entered_only_once_it_was_seen_changing(
        watchlist: Watchlist, tmp_path: Path) -> None:
    watchlist.add([1, 2])
    watchlist.record_results([answer(1, "Processing", 10.0), answer(2, "Completed", 10.0)])
    # The first answer says what the status is, not since when.
    assert [row.entered_seen for row in watchlist.all()] == [False, False]
    watchlist.record_results([answer(1, "Completed", 20.0), answer(2, "Completed", 20.0)])
    one, two = watchlist.get(1), watchlist.get(2)
    assert one is not None and (one.entered_seen, one.last_changed) == (True, 20.0)
    assert two is not None and (two.entered_seen, two.last_changed) == (False, 10.0)
    assert {row.id: row.entered_seen for row in watchlist.all()} == {1: True, 2: False}
    # Two answers at one time (or a clock that stepped back): still seen changing.
    watchlist.add([3])
    watchlist.record_results([answer(3, "Queued", 30.0), answer(3, "Processing", 30.0)])
    watchlist.add([4])
    watchlist.record_results([answer(4, "Queued", 50.0)])
    watchlist.record_results([answer(4, "Processing", 40.0)])
    expected = {1: True, 2: False, 3: True, 4: True}
    assert {row.id: row.entered_seen for row in watchlist.all()} == expected
    # Read back from the file (the history says it), by another window too.
    with Watchlist(tmp_path / "profiles" / "prod" / "watchlist.sqlite3") as other:
        assert {row.id: row.entered_seen for row in other.all()} == expected
        assert [row.entered_seen for row in other.get_many([1, 2]).values()] == [True, False]


def test_history_keeps_every_change_with_its_time(watchlist: Watchlist) -> None:
    watchlist.add([1])
    for at, status in [(1.0, "Uploaded"), (2.0, "Uploaded"), (3.0, "Queued"),
                       (4.0, "Processing"), (5.0, "Processing"), (9.0, "Completed")]:
        watchlist.record_results([answer(1, status, at)])
    assert watchlist.history(1) == [("Uploaded", 1.0), ("Queued", 3.0), ("Processing", 4.0),
                                    ("Completed", 9.0)]


def test_several_results_for_one_id_apply_in_order(watchlist: Watchlist) -> None:
    watchlist.add([1])
    changes = watchlist.record_results([answer(1, "Queued", 1.0), answer(1, "Processing", 2.0)])
    assert [(c.previous, c.current) for c in changes] == [(None, "Queued"),
                                                          ("Queued", "Processing")]
    assert watchlist.get(1).status == "Processing"  # type: ignore[union-attr]


def test_unknown_status_words_are_kept_verbatim(watchlist: Watchlist) -> None:
    watchlist.add([1])
    watchlist.record_results([answer(1, "  Re-Queued\u202e ", 1.0)])
    assert watchlist.get(1).status == "  Re-Queued\u202e "  # type: ignore[union-attr]


def test_results_for_unwatched_ids_are_ignored(watchlist: Watchlist) -> None:
    watchlist.add([1])
    assert watchlist.record_results([answer(2, "Queued", 1.0)]) == []
    assert watchlist.ids() == [1]
    assert watchlist.record_results([]) == []


def test_not_found_keeps_last_known_fields(watchlist: Watchlist) -> None:
    watchlist.add([1])
    watchlist.record_results([answer(1, "Completed", 1.0, warnings=["w"])])
    assert watchlist.record_results([PollResult(1, 2.0, not_found=True)]) == []
    entry = watchlist.get(1)
    assert entry is not None
    assert entry.not_found and entry.status == "Completed" and entry.warnings == ("w",)
    assert entry.last_checked == 2.0 and entry.deleted_at is None
    watchlist.record_results([answer(1, "Completed", 3.0)])
    assert not watchlist.get(1).not_found  # type: ignore[union-attr]


def test_problem_counts_and_keeps_data_until_success(watchlist: Watchlist) -> None:
    watchlist.add([1])
    watchlist.record_results([answer(1, "Processing", 1.0)])
    watchlist.record_results([PollResult(1, 2.0, problem="Timed out after 10 s")])
    watchlist.record_results([PollResult(1, 3.0, problem="Connection refused")])
    entry = watchlist.get(1)
    assert entry is not None
    assert (entry.problem_count, entry.last_problem, entry.last_problem_at) == (
        2, "Connection refused", 3.0)
    assert entry.status == "Processing" and entry.last_checked == 1.0
    watchlist.record_results([answer(1, "Processing", 4.0)])
    entry = watchlist.get(1)
    assert entry is not None
    assert (entry.problem_count, entry.last_problem, entry.last_problem_at) == (0, None, None)


def test_record_problem_directly(watchlist: Watchlist) -> None:
    watchlist.add([1])
    watchlist.record_problem(1, "Server error 502", 5.0)
    watchlist.record_problem(1, "Server error 503", 6.0)
    entry = watchlist.get(1)
    assert entry is not None and (entry.problem_count, entry.last_problem) == (
        2, "Server error 503")


def test_not_found_after_delete_request_means_deleted(watchlist: Watchlist) -> None:
    watchlist.add([1])
    watchlist.record_results([answer(1, "Completed", 1.0)])
    watchlist.mark_delete_requested(1, 2.0)
    watchlist.record_results([answer(1, "DeletionPending", 3.0)])
    changes = watchlist.record_results([PollResult(1, 4.0, not_found=True)])
    assert changes == [StatusChange(1, "DeletionPending", "Deleted", 4.0)]
    entry = watchlist.get(1)
    assert entry is not None
    assert (entry.status, entry.deleted_at, entry.delete_requested_at) == ("Deleted", 4.0, 2.0)
    assert entry.not_found  # the 404 is kept: read_status calls it "Deleted, purged"
    assert watchlist.history(1)[-1] == ("Deleted", 4.0)
    # Another 404 later changes nothing.
    assert watchlist.record_results([PollResult(1, 5.0, not_found=True)]) == []
    assert watchlist.get(1).deleted_at == 4.0  # type: ignore[union-attr]


def test_deleted_status_sets_deleted_at(watchlist: Watchlist) -> None:
    watchlist.add([1])
    watchlist.record_results([answer(1, "Deleted", 7.0)])
    assert watchlist.get(1).deleted_at == 7.0  # type: ignore[union-attr]


def test_clear_delete_request(watchlist: Watchlist) -> None:
    watchlist.add([1])
    watchlist.mark_delete_requested(1, 2.0)
    watchlist.clear_delete_requested(1)
    watchlist.record_results([PollResult(1, 3.0, not_found=True)])
    entry = watchlist.get(1)
    assert entry is not None and entry.not_found and entry.status is None


def test_notes(watchlist: Watchlist) -> None:
    watchlist.add([1, 2])
    watchlist.set_note(1, "customer says it hangs")
    watchlist.record_results([answer(1, "Queued", 1.0)])
    assert watchlist.get(1).note == "customer says it hangs"  # type: ignore[union-attr]
    watchlist.set_note(1, "")
    assert watchlist.get(1).note is None  # type: ignore[union-attr]


def test_batch_is_one_transaction(watchlist: Watchlist) -> None:
    watchlist.add([1, 2])
    watchlist.record_results([answer(1, "Queued", 1.0), answer(2, "Queued", 1.0)])

    class Broken:
        payload = FakePayload(2, "Processing")
        warnings: list[str] = []
        errors: list[str] = []
        metadata = {"bad": object()}

        @property
        def raw(self) -> dict[str, Any]:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        watchlist.record_results([answer(1, "Processing", 2.0),
                                  PollResult(2, 2.0, envelope=Broken())])  # type: ignore[arg-type]
    assert [e.status for e in watchlist.all()] == ["Queued", "Queued"]
    assert watchlist.history(1) == [("Queued", 1.0)]
    # And the store is still usable after the rollback.
    assert watchlist.record_results([answer(1, "Processing", 3.0)]) != []


def test_with_the_real_status_envelope(watchlist: Watchlist) -> None:
    body = json.dumps({
        "profile": {"id": 1, "firstName": "Ann", "lastName": "Lee"},
        "payload": {"id": 42, "fileName": "a.csv", "dataSourceType": "Csv",
                    "status": "Processing", "uploadDate": "2024-05-01T12:00:00Z", "eta": 5},
        "errors": [], "hasErrors": False, "warnings": ["big file", 7], "hasWarnings": True,
        "metadata": {"node": "w3"},
    }).encode()
    envelope = StatusEnvelope.from_wire(body)
    watchlist.add([42])
    changes = watchlist.record_results([PollResult(42, 5.0, envelope=envelope)])
    assert changes == [StatusChange(42, None, "Processing", 5.0)]
    entry = watchlist.get(42)
    assert entry is not None
    assert entry.file_name == "a.csv" and entry.data_source_type == "Csv"
    assert entry.upload_date is not None and entry.upload_date.startswith("2024-05-01T12:00:00")
    assert entry.warnings == ("big file", "7")
    assert entry.metadata == {"node": "w3"}
    assert json.loads(entry.raw or "")["payload"]["eta"] == 5


# --- durability ------------------------------------------------------------------------

def test_data_survives_reopen_and_is_seen_by_a_second_connection(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    first = Watchlist(path)
    first.add([1, 2], at=1.0)
    first.set_note(2, "n")
    first.record_results([answer(1, "Queued", 2.0)])
    other = sqlite3.connect(path)
    assert other.execute("SELECT id, status FROM watched ORDER BY id").fetchall() == [
        (1, "Queued"), (2, None)]
    assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    other.close()
    second = Watchlist(path)
    assert [(e.id, e.status, e.note) for e in second.all()] == [(1, "Queued", None),
                                                                (2, None, "n")]
    first.close()
    second.close()


def test_per_profile_databases_are_separate(tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path)
    with Watchlist(paths.watchlist_db("prod")) as prod, \
            Watchlist(paths.watchlist_db("staging")) as staging:
        prod.add([1])
        assert staging.ids() == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_database_is_private(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    Watchlist(path).close()
    assert path.stat().st_mode & 0o077 == 0


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    path.write_bytes(b"this is not sqlite at all, just some text" * 100)
    with pytest.raises(WatchlistError, match="not a usable watchlist"):
        Watchlist(path)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(WatchlistError, match="newer version"):
        Watchlist(path)


# The schema of files made before unwatched rows were kept (user_version 1), verbatim.
_SCHEMA_1 = """
CREATE TABLE watched (
    id INTEGER PRIMARY KEY, file_name TEXT, data_source_type TEXT, status TEXT,
    upload_date TEXT, warnings TEXT NOT NULL DEFAULT '[]', errors TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}', first_seen REAL NOT NULL, last_checked REAL,
    last_changed REAL, note TEXT, last_problem TEXT, problem_count INTEGER NOT NULL DEFAULT 0,
    delete_requested_at REAL, deleted_at REAL, not_found INTEGER NOT NULL DEFAULT 0, raw TEXT,
    last_problem_at REAL
);
CREATE TABLE status_history (id INTEGER NOT NULL, status TEXT NOT NULL, seen_at REAL NOT NULL);
CREATE INDEX status_history_by_id ON status_history (id, seen_at);
PRAGMA user_version = 1;
"""


def test_a_schema_1_file_opens_keeps_its_rows_and_learns_to_keep_unwatched(
        tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(_SCHEMA_1)
    conn.execute("INSERT INTO watched (id, first_seen, status, note, last_changed) "
                 "VALUES (48211, 5.0, 'Failed', 'INC-4471', 70.0)")
    conn.executemany("INSERT INTO status_history VALUES (?, ?, ?)",
                     [(48211, "Queued", 10.0), (48211, "Failed", 70.0)])
    conn.commit()
    conn.close()
    with Watchlist(path) as store:
        row = store.get(48211)
        assert row is not None and row.note == "INC-4471" and row.status == "Failed"
        assert row.entered_seen
        store.remove([48211])
        store.add([48211])
        assert store.get(48211) == row
        assert store.history(48211) == [("Queued", 10.0), ("Failed", 70.0)]
        # Schema 4's attention marks start empty on an old row; what it held was seen
        # (read_at: the upgrade), so its settled rows do not all light up as unread.
        assert (row.acknowledged_at, row.snoozed_until) == (None, None)
        assert row.read_at is not None and row.read_at >= row.last_changed
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (6,)
    for table in ("watched", "unwatched"):
        columns = {name for (name,) in conn.execute(
            "SELECT name FROM pragma_table_info(?)", (table,))}
        assert {"acknowledged_at", "snoozed_until", "read_at"} <= columns, table
    conn.close()
    with Watchlist(path) as store:  # and opens again, as it now is
        assert store.ids() == [48211]


_CHILD = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from tui.core.watchlist import PollResult, Watchlist
    from tests.core.test_watchlist import answer

    store = Watchlist(Path(sys.argv[1]))
    ids = list(range(1, 201))
    store.add(ids)
    mode = sys.argv[2]
    if mode == "exit-before-commit":
        store.record_results([answer(i, "S1", 1.0) for i in ids])
        print(1, flush=True)
        # Die the moment the second batch tries to commit: half-written, never committed.
        store._conn.set_trace_callback(
            lambda sql: os._exit(3) if sql.strip().upper().startswith("COMMIT") else None)
        store.record_results([answer(i, "S2", 2.0) for i in ids])
        print("survived", flush=True)
    else:
        n = 0
        while True:
            n += 1
            store.record_results([answer(i, f"S{n}", float(n)) for i in ids])
            print(n, flush=True)
""")


def _run_child(path: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", _CHILD, str(path), mode], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _check_consistent(path: Path) -> set[str | None]:
    with Watchlist(path) as store:
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()
        entries = store.all()
        assert len(entries) == 200
        statuses = {entry.status for entry in entries}
        assert len(statuses) == 1  # a batch is all there or not at all
        return statuses


def test_exit_in_the_middle_of_a_batch_loses_only_that_batch(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    child = _run_child(path, "exit-before-commit")
    out, err = child.communicate(timeout=60)
    assert child.returncode == 3, err
    assert "survived" not in out
    assert _check_consistent(path) == {"S1"}
    with Watchlist(path) as store:
        assert store.history(1) == [("S1", 1.0)]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_while_writing_keeps_every_committed_batch(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    child = _run_child(path, "loop")
    assert child.stdout is not None
    last = 0
    for line in child.stdout:
        last = int(line)
        if last >= 20:
            break
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    (status,) = _check_consistent(path)
    assert status is not None
    assert int(status[1:]) >= last  # everything reported as committed is there
    with Watchlist(path) as store:
        assert len(store.history(1)) == int(status[1:])


# --- threads ---------------------------------------------------------------------------

def test_threads_can_share_one_watchlist(watchlist: Watchlist) -> None:
    watchlist.add(range(1, 101))
    failures: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            for n in range(20):
                watchlist.record_results([answer(i, f"S{offset}-{n}", float(n))
                                          for i in range(1, 101)])
                watchlist.set_note(offset, f"note {n}")
        except BaseException as error:  # reported below
            failures.append(error)

    def reader() -> None:
        try:
            for _ in range(50):
                assert len(watchlist.all()) == 100
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(1, 5)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len({entry.status for entry in watchlist.all()}) == 1


# --- the in-memory snapshot behind all() ------------------------------------------------

def test_all_sees_writes_from_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    with Watchlist(path) as mine, Watchlist(path) as theirs:
        mine.add([1, 2])
        assert [e.id for e in mine.all()] == [1, 2]
        theirs.add([3])
        theirs.set_note(1, "from the other window")
        theirs.record_results([answer(2, "Queued", 1.0)])
        entries = mine.all()
        assert [e.id for e in entries] == [1, 2, 3]
        assert entries[0].note == "from the other window"
        assert entries[1].status == "Queued"
        theirs.remove([3])
        assert [e.id for e in mine.all()] == [1, 2]


def test_snapshot_is_reused_until_something_changes(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    with Watchlist(path) as store:
        store.add([1, 2])
        first = store.all()
        Watchlist(path).close()  # merely opening the file elsewhere changes nothing
        store.record_results([answer(2, "Queued", 1.0)])
        second = store.all()
        assert second[0] is first[0]  # untouched: the very same item
        assert second[1] is not first[1] and second[1].status == "Queued"


def test_items_handed_out_never_change(watchlist: Watchlist) -> None:
    watchlist.add([1])
    before = watchlist.all()[0]
    watchlist.record_results([answer(1, "Queued", 1.0)])
    watchlist.set_note(1, "n")
    after = watchlist.all()[0]
    assert (before.status, before.note) == (None, None)
    assert (after.status, after.note) == ("Queued", "n")


def test_metadata_is_read_only_so_items_may_share_it(watchlist: Watchlist) -> None:
    # At 100,000 rows one mapping per distinct text, not one a row: safe only read-only.
    watchlist.add([1, 2])
    watchlist.record_results([answer(1, "Queued", 1.0, metadata={"a": 1}),
                              answer(2, "Queued", 1.0, metadata={"a": 1})])
    with Watchlist(watchlist.path) as other:
        first, second = other.all()
    assert first.metadata == second.metadata == {"a": 1}
    assert first.metadata is second.metadata
    with pytest.raises(TypeError):
        first.metadata["a"] = 2  # type: ignore[index]
    assert second.metadata == {"a": 1}


_operation = st.one_of(
    st.tuples(st.just("add"), st.lists(st.integers(1, 12), max_size=4)),
    st.tuples(st.just("remove"), st.lists(st.integers(1, 12), max_size=3)),
    st.tuples(st.just("poll"), st.lists(st.tuples(
        st.integers(1, 12), st.sampled_from(["Queued", "Processing", "Completed", "404", "err"])),
        max_size=5)),
    st.tuples(st.just("note"), st.integers(1, 12)),
    st.tuples(st.just("delete"), st.integers(1, 12)),
    st.tuples(st.just("problem"), st.integers(1, 12)),
    st.tuples(st.just("all"), st.just(0)),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_operation, max_size=15))
def test_snapshot_always_matches_the_file(tmp_path: Path, operations: list[Any]) -> None:
    path = tmp_path / f"w{uuid.uuid4().hex}.sqlite3"
    with Watchlist(path) as store:
        for step, (kind, arg) in enumerate(operations):
            at = float(step)
            if kind == "add":
                store.add(arg, at=at)
            elif kind == "remove":
                store.remove(arg)
            elif kind == "poll":
                store.record_results([
                    PollResult(i, at, not_found=True) if word == "404"
                    else PollResult(i, at, problem="timed out") if word == "err"
                    else answer(i, word, at) for i, word in arg])
            elif kind == "note":
                store.set_note(arg, f"note {step}")
            elif kind == "delete":
                store.mark_delete_requested(arg, at)
            elif kind == "problem":
                store.record_problem(arg, "refused", at)
            else:
                store.all()
            with Watchlist(path) as fresh:
                assert store.all() == fresh.all()
                assert [store.get(i) for i in store.ids()] == store.all()


def test_get_many_reads_several_rows_at_once_and_skips_unwatched(tmp_path: Path) -> None:
    with Watchlist(tmp_path / "w.sqlite3") as watchlist:
        watchlist.add([1, 2, 3])
        assert set(watchlist.get_many([3, 1, 99])) == {1, 3}
        watchlist.all()  # the snapshot is current from here on
        watchlist.set_note(2, "T-1")
        many = watchlist.get_many([2, 2])
        assert list(many) == [2] and many[2].note == "T-1"
        assert watchlist.get_many([]) == {}
