"""A person's SQLite watchlist imported into the team store: rows, notes, history."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.core.teamstore.conftest import collect_changes
from tui.api.models import StatusEnvelope
from tui.core.teamstore import ChangeReader, TeamStore
from tui.core.teamstore.importing import ImportReport, import_watchlist
from tui.core.watchlist import PollResult, Watchlist

Opener = Callable[..., TeamStore]


def _status(conversion_id: int, status: str) -> StatusEnvelope:
    body = {"profile": None, "payload": {"id": conversion_id, "status": status,
                                         "fileName": f"f{conversion_id}.csv"},
            "errors": ["bad row 3"], "hasErrors": True, "warnings": [], "hasWarnings": False,
            "metadata": {}}
    return StatusEnvelope.from_wire(json.dumps(body))


def test_rows_notes_and_history_come_over_once(open_store: Opener, tmp_path: Path) -> None:
    dana, sam = open_store("dana"), open_store("sam")
    sam.add([3], note="team's own note")
    sam.add([4])
    reader = ChangeReader(sam)
    with Watchlist(tmp_path / "mine.sqlite3") as mine:
        mine.add([1, 2], note="TICKET-7", at=5.0)
        mine.add([3, 4], note="mine", at=5.0)
        mine.record_results([PollResult(1, 10.0, _status(1, "Processing"))])
        mine.record_results([PollResult(1, 20.0, _status(1, "Failed"))])

        report = import_watchlist(dana, mine, at=30.0)
        # Row 3's own note differed from the team's, which stays: the report says so.
        assert report == ImportReport(added=2, already=2, notes=1, history=2,
                                      notes_kept_the_teams=(3,))
        assert import_watchlist(dana, mine, at=31.0) == ImportReport(
            added=0, already=4, notes=0, history=0, notes_kept_the_teams=(3,))

    rows = sam.get_many([1, 2, 3, 4])
    assert (rows[1].status, rows[1].file_name, rows[1].errors, rows[1].note) == (
        "Failed", "f1.csv", ("bad row 3",), "TICKET-7")
    assert rows[1].entered_seen is True and rows[1].first_seen == 5.0
    assert rows[3].note == "team's own note"  # the team's note is kept
    assert rows[4].note == "mine"  # a note the team lacked is filled in
    assert sam.history(1) == [("Processing", 10.0), ("Failed", 20.0)]
    signed = sam.signatures([1, 3])
    assert (signed[1]["added_by"], signed[1]["note_by"]) == ("dana", "dana")
    assert signed[3]["added_by"] == "sam"
    assert sam.audit_entries()[0]["action"] == "import"
    try:
        batch = collect_changes(reader, lambda b: {1, 2, 4} <= set(b.rows))
        assert 3 not in batch.rows  # unchanged by the import: not notified
    finally:
        reader.close()


def test_own_acknowledgements_and_snoozes_fill_what_the_team_lacks(
        open_store: Opener, tmp_path: Path) -> None:
    dana, sam = open_store("dana"), open_store("sam")
    sam.add([1, 2, 3])
    sam.acknowledge([2], at=50.0)  # the team's own acknowledgement stays
    sam.snooze([3], until=9000.0)
    with Watchlist(tmp_path / "mine.sqlite3") as mine:
        mine.add([1, 2, 3, 4], at=5.0)
        mine.acknowledge([1, 2, 4], at=40.0)
        mine.snooze([3], until=7000.0)
        report = import_watchlist(dana, mine, at=60.0)
    assert report.marks_carried == (1,)  # 2 and 3 had the team's; 4 is new
    rows = sam.get_many([1, 2, 3, 4])
    assert [rows[i].acknowledged_at for i in (1, 2, 3, 4)] == [40.0, 50.0, None, 40.0]
    assert rows[3].snoozed_until == 9000.0
    signed = sam.signatures([1, 2, 4])
    assert [signed[i]["acknowledged_by"] for i in (1, 2, 4)] == ["dana", "sam", "dana"]


def test_the_files_read_marks_come_over_as_the_importers_own(open_store: Opener,
                                                              tmp_path: Path) -> None:
    dana, sam = open_store("dana"), open_store("sam")
    sam.add([2])  # the team watches 2 already: dana's look at it comes over all the same
    sam.mark_read([2], 45.0)
    with Watchlist(tmp_path / "mine.sqlite3") as mine:
        mine.add([1, 2, 3], at=5.0)
        mine.mark_read([1, 2], 40.0)
        import_watchlist(dana, mine, at=50.0)
        import_watchlist(dana, mine, at=51.0)  # twice: nothing changes
    assert [(row.id, row.read_at) for row in dana.all()] == [(1, 40.0), (2, 40.0), (3, None)]
    assert [(row.id, row.read_at) for row in sam.all()] == [(1, None), (2, 45.0), (3, None)]
