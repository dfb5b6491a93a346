"""Unread marks on a team profile (a real PostgreSQL) are each person's: a colleague's
"mark all read" leaves this monitor's bold IDs and Changed count as they were, and this
monitor's M reads the rows for its person only (issue 15: "since *you* last looked")."""

from __future__ import annotations

import json
import time

from tests.fixtures.postgres import PostgresServer, postgres_server, team_database
from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_monitor import SIZE, tab_labels, table
from tests.ui.test_unread import unread_in_table
from tui.api.models import StatusEnvelope
from tui.core.teamstore import LeaderLock, TeamStore, resolve_store_address
from tui.core.unread import is_unread
from tui.core.watchlist import PollResult
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp

__all__ = ["postgres_server", "team_database"]


def _seen(conversion_id: int, at: float, status: str) -> PollResult:
    return PollResult(conversion_id, at, StatusEnvelope.from_wire(json.dumps(
        {"payload": {"id": conversion_id, "status": status}, "errors": [], "warnings": []})))


async def test_a_colleagues_mark_all_read_leaves_this_monitors_unread_rows(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        postgres_server: PostgresServer, team_database: str) -> None:
    url = postgres_server.url(team_database.rsplit("dbname=", 1)[1].split()[0])
    address = resolve_store_address(url, environ={})
    assert address is not None
    state = sandbox.state
    quiet = state.add_conversion(status="Processing", frozen=True)  # the cursor rests here
    failed = [state.add_conversion(status="Failed", frozen=True) for _ in range(2)]
    ids = [quiet, *failed]
    colleague = TeamStore(address, sandbox.base_url, "colleague-a")
    third = TeamStore(address, sandbox.base_url, "colleague-c")
    leader = LeaderLock(address, sandbox.base_url, "colleague-a@desk-2")
    try:
        # The colleague's monitor polls (this one follows: it writes no poll results)
        # and saw two rows fail: news for everyone.
        assert leader.try_acquire()
        now = time.time()
        colleague.add(ids, at=now - 100)
        colleague.record_results([_seen(i, now - 50, "Processing") for i in ids])
        colleague.record_results([_seen(i, now - 10, "Failed") for i in failed])
        session = monitor_session(env={"CONVERSIONS_STORE": url})
        assert isinstance(session.watchlist, TeamStore)
        assert session.watchlist.person not in ("colleague-a", "colleague-c")
        app = ConversionsApp(session)

        def seen() -> str:
            return (f"unread {unread_in_table(app)}, tabs {tab_labels(app)}, notes "
                    f"{ {i: r.note for i, r in table(app).rows.items()} }")

        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: unread_in_table(app) == failed
                           and tab_labels(app)["view-changed"] == "Changed 2",
                           what=lambda: f"the failed rows unread; {seen()}")

            # The colleague presses M (what their monitor's M writes), then notes a row:
            # notices come in order, so once the note shows here, a notice of the look
            # would have been taken too.
            assert colleague.mark_read(ids) == 3
            colleague.set_note(quiet, "INC-7")
            await wait_for(pilot, lambda: quiet in table(app).rows
                           and table(app).rows[quiet].note == "INC-7",
                           what=lambda: f"the colleague's note shown; {seen()}")
            assert unread_in_table(app) == failed, seen()
            assert tab_labels(app)["view-changed"] == "Changed 2", seen()

            await pilot.press("M")  # this person reads them: for this person only
            await wait_for(pilot, lambda: unread_in_table(app) == []
                           and tab_labels(app)["view-changed"] == "Changed 0",
                           what=lambda: f"read here; {seen()}")
        assert [is_unread(third.get_many(failed)[i]) for i in failed] == [True, True]
        assert not any(is_unread(row) for row in colleague.all())
    finally:
        leader.release()
        colleague.close()
        third.close()
