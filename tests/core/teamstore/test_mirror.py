"""This machine's copy of the team rows (no database needed): what is written comes back,
the change number moves only when no change can be missing, and the file is private."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path
from types import MappingProxyType

from tests.waiting import until_sync
from tui.core.teamstore.mirror import MirrorState, TeamMirror, mirror_path
from tui.core.watchlist import WatchedConversion

STORE = "dana@db.example.com:5432/team"
BASE = "https://api.example.com"


def _row(conversion_id: int, **changes: object) -> WatchedConversion:
    row = WatchedConversion(
        id=conversion_id, file_name=f"file-{conversion_id}.pdf", data_source_type="pdf",
        status="Failed", upload_date="2026-12-06T10:00:00Z", warnings=("w1",),
        errors=("bad page 3", "ünïcode ✓"), metadata=MappingProxyType({"rowsRead": 12}),
        first_seen=1000.5, last_checked=1100.0, last_changed=1050.0, note="TICKET-7",
        last_problem=None, problem_count=0, delete_requested_at=None, deleted_at=None,
        not_found=False, raw=f'{{"payload": {{"id": {conversion_id}}}}}',
        last_problem_at=None, acknowledged_at=1200.0, snoozed_until=None, read_at=1300.0,
        errors_total=5, warnings_total=1, entered_seen=True)
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


def _mirror(tmp_path: Path) -> TeamMirror:
    return TeamMirror(mirror_path(tmp_path, STORE, BASE), store=STORE, base_url=BASE,
                      flush_delay=0)


def _same(left: WatchedConversion, right: WatchedConversion) -> bool:
    return all(getattr(left, f.name) == getattr(right, f.name)
               for f in dataclasses.fields(WatchedConversion))


def test_no_copy_yet_reads_as_empty(tmp_path: Path) -> None:
    mirror = _mirror(tmp_path)
    assert mirror.state() == MirrorState(0, None)
    assert mirror.rows() == [] and mirror.head(5) == [] and mirror.get_many([1]) == {}
    mirror.close()
    assert not mirror.path.exists()  # nothing queued: no file made


def test_rows_come_back_with_every_field(tmp_path: Path) -> None:
    mirror = _mirror(tmp_path)
    rows = [_row(3), _row(1, note=None, metadata=MappingProxyType({}), raw=None), _row(2)]
    mirror.replace(rows, seq=41)
    mirror.flush()
    again = _mirror(tmp_path)  # as the next start reads it
    state = again.state()
    assert state.seq == 41 and state.saved_at is not None
    read = again.rows()
    assert [row.id for row in read] == [1, 2, 3]
    by_id = {row.id: row for row in rows}
    assert all(_same(row, by_id[row.id]) for row in read), read
    assert [row.id for row in again.head(2)] == [1, 2]
    assert sorted(again.get_many([3, 9, 1])) == [1, 3]
    mirror.close()


def test_batches_update_and_remove_rows_and_move_the_number_only_when_contiguous(
        tmp_path: Path) -> None:
    mirror = _mirror(tmp_path)
    mirror.replace([_row(1), _row(2), _row(3)], seq=10)
    mirror.apply([_row(2, note="TICKET-9"), _row(4)], [3], since=10, seq=12)
    mirror.flush()
    assert mirror.state().seq == 12
    assert {row.id: row.note for row in mirror.rows()} == {1: "TICKET-7", 2: "TICKET-9",
                                                          4: "TICKET-7"}
    # A batch after 20 while the copy covers only up to 12: its rows are kept, but the
    # number stays (changes 13 to 20 may be missing).
    mirror.apply([_row(1, status="Completed")], [], since=20, seq=25)
    mirror.flush()
    assert mirror.state().seq == 12
    assert mirror.get_many([1])[1].status == "Completed"
    # Batches queued together chain: 12 -> 14 -> 16.
    mirror.apply([], [4], since=12, seq=14)
    mirror.apply([_row(5)], [], since=13, seq=16)
    mirror.flush()
    assert mirror.state().seq == 16 and mirror.ids() == {1, 2, 5}
    # A whole list read again replaces everything, its number too (a reset database).
    mirror.replace([_row(7)], seq=3)
    mirror.flush()
    assert mirror.ids() == {7} and mirror.state().seq == 3
    mirror.close()


def test_the_writer_thread_saves_what_is_queued_and_close_waits_for_it(
        tmp_path: Path) -> None:
    mirror = TeamMirror(mirror_path(tmp_path, STORE, BASE), store=STORE, base_url=BASE,
                        flush_delay=3600)
    mirror.replace([_row(1)], seq=5)  # the writer waits its delay; close writes at once
    mirror.close()
    assert mirror._thread is not None and not mirror._thread.is_alive()
    assert _mirror(tmp_path).ids() == {1}
    quick = _mirror(tmp_path)  # no delay: the writer saves it by itself
    quick.apply([_row(2)], [], since=5, seq=6)
    until_sync(lambda: quick.state().seq == 6, lambda: f"the copy: {quick.state()}")
    quick.close()
    assert quick._thread is not None and not quick._thread.is_alive()
    assert _mirror(tmp_path).ids() == {1, 2}


def test_the_copy_is_private_and_holds_no_password(tmp_path: Path) -> None:
    mirror = _mirror(tmp_path)
    mirror.replace([_row(1)], seq=1)
    mirror.close()
    made = [path for path in tmp_path.iterdir() if path.name.startswith("team-copy-")]
    assert made and all(stat.S_IMODE(os.stat(path).st_mode) == 0o600 for path in made), [
        (path.name, oct(os.stat(path).st_mode)) for path in made]
    assert all(b"password" not in path.read_bytes() for path in made)


def test_a_damaged_copy_reads_as_none_and_is_written_again(tmp_path: Path) -> None:
    mirror = _mirror(tmp_path)
    mirror.path.write_bytes(b"not a database at all" * 100)
    assert mirror.state() == MirrorState() and mirror.rows() == []
    mirror.replace([_row(1)], seq=2)
    mirror.flush()  # logged, never raised; the damaged file goes
    mirror.replace([_row(1)], seq=3)
    mirror.flush()
    assert mirror.ids() == {1} and mirror.state().seq == 3
    mirror.close()


def test_a_copy_starts_from_a_whole_list(tmp_path: Path) -> None:
    mirror = _mirror(tmp_path)
    mirror.apply([_row(1)], [], since=0, seq=4)  # a batch alone is not the whole list
    mirror.flush()
    assert mirror.state() == MirrorState() and mirror.rows() == []
    mirror.close()


def test_another_monitor_on_this_machine_keeps_the_copy(tmp_path: Path) -> None:
    first, second = _mirror(tmp_path), _mirror(tmp_path)
    first.replace([_row(1)], seq=1)
    first.flush()
    second.replace([_row(2)], seq=2)
    second.flush()  # the first one writes it: this one's rows are not mixed in
    assert first.ids() == {1}
    first.close()
    second.replace([_row(3)], seq=3)
    second.flush()  # the first is gone: this one writes it now
    assert second.ids() == {3}
    second.close()


def test_the_file_is_per_store_and_base_url(tmp_path: Path) -> None:
    names = {mirror_path(tmp_path, store, base).name
             for store in (STORE, "sam@other:5432/team") for base in (BASE, BASE + "/v2")}
    assert len(names) == 4
