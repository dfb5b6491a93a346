"""What a 404 means: "Deleted, purged" after Deleted, "not found" otherwise (issue 12).

One rule (``tui.core.statuses.read_status``) read by the counts, the ticket summary and
the export; each place is checked for every kind of 404, on rows the real store wrote.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.fixtures.not_found_cases import (
    ALL,
    GONE_PROCESSING,
    NEVER_FOUND,
    NOW,
    PURGED,
    PURGED_OWN,
    PURGED_PENDING,
    PURGED_SEEN,
    STILL_DELETED,
    record_not_found_cases,
)
from tui.api.client import ConversionsClient
from tui.api.errors import NotFoundError
from tui.core.activity import count_kinds, row_kind
from tui.core.export import export_rows
from tui.core.statuses import StatusKind, is_purged, read_status
from tui.core.triage import triage_markdown
from tui.core.watchlist import PollResult, WatchedConversion, Watchlist
from tui.sandbox.runner import SandboxServer


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Watchlist]:
    with Watchlist(tmp_path / "watchlist.sqlite3") as watchlist:
        record_not_found_cases(watchlist)
        yield watchlist


@pytest.fixture
def rows(store: Watchlist) -> dict[int, WatchedConversion]:
    return {row.id: row for row in store.all()}


# -- the store keeps the facts, the rule reads them ----------------------------------------

def test_the_store_keeps_the_last_status_and_the_404(rows: dict[int, WatchedConversion],
                                                     store: Watchlist) -> None:
    assert {i: (rows[i].status, rows[i].not_found) for i in ALL} == {
        PURGED_SEEN: ("Deleted", True),
        PURGED_OWN: ("Deleted", True),  # our delete request, confirmed by the 404
        NEVER_FOUND: (None, True),
        GONE_PROCESSING: ("Processing", True),
        PURGED_PENDING: ("DeletionPending", True),
        STILL_DELETED: ("Deleted", False),
    }
    assert [status for status, _ in store.history(PURGED_SEEN)] == ["Completed", "Deleted"]
    assert [status for status, _ in store.history(PURGED_OWN)] == ["Completed", "Deleted"]


def test_read_status_tells_purged_from_not_found(rows: dict[int, WatchedConversion]) -> None:
    readings = {i: read_status(rows[i]) for i in ALL}
    assert {i: (r.kind, r.word, r.purged, r.label()) for i, r in readings.items()} == {
        PURGED_SEEN: (StatusKind.DELETED, "Deleted", True, "Deleted, purged"),
        PURGED_OWN: (StatusKind.DELETED, "Deleted", True, "Deleted, purged"),
        PURGED_PENDING: (StatusKind.DELETED, "Deleted", True, "Deleted, purged"),
        NEVER_FOUND: (StatusKind.NOT_FOUND, "Not found", False, "not found"),
        GONE_PROCESSING: (StatusKind.NOT_FOUND, "Not found", False,
                          "not found (was Processing)"),
        STILL_DELETED: (StatusKind.DELETED, "Deleted", False, "Deleted"),
    }
    assert [i for i in ALL if is_purged(rows[i])] == list(PURGED)
    assert all(readings[i].not_found for i in ALL if i != STILL_DELETED)
    # Time in status: since Deleted when that was seen; unknown after any other 404.
    assert {i for i in ALL if readings[i].timed} == {PURGED_SEEN, PURGED_OWN, STILL_DELETED}


def test_a_row_stored_before_purges_were_kept_reads_as_deleted(tmp_path: Path) -> None:
    # Files written by earlier versions cleared not_found on the 404 that confirmed our
    # own delete: such a row opens as plain Deleted (right, only without "purged").
    path = tmp_path / "old.sqlite3"
    with Watchlist(path) as store:
        store.add([9], at=1.0)
    with closing(sqlite3.connect(path)) as old, old:  # what the old code stored
        old.execute("UPDATE watched SET status = 'Deleted', not_found = 0, "
                    "delete_requested_at = 2, deleted_at = 3, last_checked = 3 WHERE id = 9")
    with Watchlist(path) as store:
        row = store.get(9)
    assert row is not None
    reading = read_status(row)
    assert (reading.kind, reading.label(), reading.purged) == (
        StatusKind.DELETED, "Deleted", False)


def test_server_words_in_the_label_are_cleaned_by_the_caller() -> None:
    class Row:
        status = "Sideways\x1b[31m"
        not_found = True

    assert read_status(Row()).label(lambda word: word.replace("\x1b", "␛")) == (
        "not found (was Sideways␛[31m)")


# -- counts (the summary strip's numbers) ------------------------------------------------

def test_purged_rows_count_as_deleted_not_as_not_found(
        rows: dict[int, WatchedConversion]) -> None:
    counts = count_kinds(rows.values())
    assert counts[StatusKind.DELETED] == 4  # three purged and one still Deleted
    assert counts[StatusKind.NOT_FOUND] == 2  # never found, and gone while Processing
    assert counts[StatusKind.PROCESSING] == 0
    assert [row_kind(rows[i]) for i in (PURGED_SEEN, NEVER_FOUND, GONE_PROCESSING)] == [
        StatusKind.DELETED, StatusKind.NOT_FOUND, StatusKind.NOT_FOUND]


# -- the ticket summary (copy) ---------------------------------------------------------------

def status_line(store: Watchlist, rows: dict[int, WatchedConversion], conversion_id: int) -> str:
    text = triage_markdown([rows[conversion_id]],
                           {conversion_id: store.history(conversion_id)}, NOW)
    return next(line for line in text.splitlines() if line.startswith("- Status:"))


def test_ticket_summary_says_what_the_404_means(
        store: Watchlist, rows: dict[int, WatchedConversion]) -> None:
    assert status_line(store, rows, PURGED_SEEN) == "- Status: Deleted, purged (for 9 min)"
    assert status_line(store, rows, PURGED_OWN) == "- Status: Deleted, purged (for 9 min)"
    assert status_line(store, rows, PURGED_PENDING) == (
        "- Status: Deleted, purged (404 now; last seen DeletionPending)")
    assert status_line(store, rows, NEVER_FOUND) == (
        "- Status: not found (404 from the first check: the server does not know it)")
    assert status_line(store, rows, GONE_PROCESSING) == (
        "- Status: not found (404 now; it existed: last seen Processing)")
    assert status_line(store, rows, STILL_DELETED) == "- Status: Deleted (for 9 min)"


# -- export ----------------------------------------------------------------------------------

EXPECTED = {  # status, purged, last_known_status, time_in_status_s
    PURGED_SEEN: ("Deleted", True, "Deleted", 580),
    PURGED_OWN: ("Deleted", True, "Deleted", 570),  # Deleted from the 404 on
    PURGED_PENDING: ("Deleted", True, "DeletionPending", None),
    NEVER_FOUND: ("Not found", False, None, None),
    GONE_PROCESSING: ("Not found", False, "Processing", None),
    STILL_DELETED: ("Deleted", False, "Deleted", 580),
}


def exported(store: Watchlist, rows: dict[int, WatchedConversion], target: Path) -> None:
    export_rows([rows[i] for i in ALL], target, now=NOW,
                history_by_id={i: store.history(i) for i in ALL})


def test_json_export_writes_deleted_and_purged_never_null(
        tmp_path: Path, store: Watchlist, rows: dict[int, WatchedConversion]) -> None:
    target = tmp_path / "rows.json"
    exported(store, rows, target)
    records = {record["id"]: record for record in json.loads(target.read_text("utf-8"))}
    assert {i: (r["status"], r["purged"], r["last_known_status"], r["time_in_status_s"])
            for i, r in records.items()} == EXPECTED
    assert all(record["status"] is not None for record in records.values())


def test_csv_export_writes_deleted_and_purged(
        tmp_path: Path, store: Watchlist, rows: dict[int, WatchedConversion]) -> None:
    target = tmp_path / "rows.csv"
    exported(store, rows, target)
    with target.open(encoding="utf-8-sig", newline="") as handle:
        records = {int(r["id"]): r for r in csv.DictReader(handle)}

    def cell(value: object) -> str:
        return "" if value is None else str(value)

    assert {i: (r["status"], r["purged"], r["last_known_status"], r["time_in_status_s"])
            for i, r in records.items()} == {
        i: tuple(cell(value) for value in expected) for i, expected in EXPECTED.items()}


# -- against the sandbox: deleted by someone else, then purged -------------------------------

async def test_a_conversion_deleted_elsewhere_then_purged_reads_deleted_purged(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    gone = sandbox.state.add_conversion(status="Completed")
    unknown = 987_654
    async with ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=5.0) as client:
        with Watchlist(tmp_path / "watchlist.sqlite3") as store:
            store.add([gone, unknown], at=1.0)

            async def poll(at: float) -> None:
                """Check both, recorded the way the poller records an answer or a 404."""
                for conversion_id in (gone, unknown):
                    try:
                        envelope = await client.get_status(conversion_id)
                    except NotFoundError:
                        result = PollResult(conversion_id, at, not_found=True)
                    else:
                        result = PollResult(conversion_id, at, envelope=envelope)
                    store.record_results([result])

            await poll(10.0)
            await client.delete(gone)  # someone else's delete: not recorded here
            sandbox.state.advance(6)  # DeletionPending lasts 5 s in the sandbox
            await poll(20.0)
            row = store.get(gone)
            assert row is not None and read_status(row).label() == "Deleted"
            sandbox.state.advance(301)  # Deleted stays visible 300 s, then 404
            await poll(30.0)
            row, never = store.get(gone), store.get(unknown)
    assert row is not None and row.delete_requested_at is None
    assert (read_status(row).label(), read_status(row).kind) == (
        "Deleted, purged", StatusKind.DELETED)
    assert never is not None
    assert (read_status(never).label(), read_status(never).kind) == (
        "not found", StatusKind.NOT_FOUND)
