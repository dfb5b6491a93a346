"""Who did what: the team store's signatures ("note by dana 10:42", "delete requested by
sam 10:44") and, for a person's SQLite file, the audit log's; in the triage summary too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.core.teamstore.conftest import open_store, postgres_server, store_url, team_database
from tui.core.audit import AuditLog
from tui.core.signatures import Signature, signatures_of
from tui.core.teamstore import TeamStore
from tui.core.triage import triage_markdown
from tui.core.watchlist import Watchlist

__all__ = ["open_store", "postgres_server", "store_url", "team_database"]

AT = datetime(2026, 3, 2, 10, 42, tzinfo=UTC).timestamp()


def test_a_team_row_says_who_noted_acknowledged_and_asked_to_delete_it(
        open_store: Callable[..., TeamStore]) -> None:
    dana, sam, lee = open_store("dana"), open_store("sam"), open_store("lee")
    dana.add([1, 2])
    dana.set_note(1, "INC-5120", at=AT)
    sam.mark_delete_requested(1, AT + 120)
    sam.request_delete([1], at=AT + 120)
    lee.acknowledge([1], at=AT + 60)
    rows = {row.id: row for row in lee.all()}

    signed = signatures_of(lee, None, rows.values())
    one = signed[1]
    assert one.note == Signature("dana", AT)
    assert one.delete_requested == Signature("sam", AT + 120)
    assert one.acknowledged == Signature("lee", AT + 60)
    assert one.added is not None and one.added.who == "dana"
    assert signed[2].note is None and signed[2].acknowledged is None  # nothing done yet

    local = datetime.fromtimestamp(AT)
    assert one.sentences(AT)[:3] == [
        f"note by dana {local:%H:%M}", f"acknowledged by lee {local.replace(minute=43):%H:%M}",
        f"delete requested by sam {local.replace(minute=44):%H:%M}"]

    summary = triage_markdown([rows[1], rows[2]], {}, AT + 300, signed)
    assert ("- Who: note by dana 2026-03-02 10:42 UTC; acknowledged by lee 2026-03-02 10:43 "
            "UTC; delete requested by sam 2026-03-02 10:44 UTC; added by dana") in summary
    assert summary.count("- Who:") == 2  # row 2: added by dana, nothing else


def test_a_personal_file_has_the_audit_log_for_acks_and_deletes(tmp_path: Path) -> None:
    with Watchlist(tmp_path / "w.db") as store, AuditLog(tmp_path / "a.db") as audit:
        store.add([7, 8])
        store.acknowledge([7], AT)
        store.mark_delete_requested(7, AT + 60)
        audit.append("acknowledge", [7], "done (local only)", "prof", "kim")
        audit.append("delete", [7], "requested", "prof", "kim")
        signed = signatures_of(store, audit, store.all())
        assert signed[7].sentences(AT, clock=lambda at: "then") == [
            "acknowledged by kim then", "delete requested by kim then"]
        assert 8 not in signed  # nothing known: nothing said
        assert signatures_of(store, None, store.all()) == {}
