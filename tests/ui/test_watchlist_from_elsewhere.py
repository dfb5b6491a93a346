"""The running monitor follows its watchlist file when another process changes it.

A second connection to the file stands for ``conversions-tui watch`` in another terminal
(or the demo's colleague): rows it adds show up and are polled, rows it removes go,
with one toast that names them (and says which were marked or had a note).
"""

from __future__ import annotations

from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_monitor import SIZE, header_text, status_of, tab_labels, table
from tests.ui.test_triage_actions import first_poll, mark
from tui.core.polling.lock import PollerLock
from tui.core.watchlist import Watchlist
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp

# The scheduler looks at the file every WATCHLIST_SYNC_INTERVAL (2 s); a loaded machine
# may take a lot longer to get there and poll.
TIMEOUT = 30.0


async def test_rows_another_process_adds_or_removes_come_and_go(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    first = state.add_conversion(status="Completed", file_name="first.csv")
    gone = state.add_conversion(status="Failed", errors=["Row 2: bad"], file_name="gone.csv")
    session = monitor_session(ids=[first, gone])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, first) and status_of(app, gone),
                       what="both rows checked")
        arriving = state.add_conversion(status="Processing", frozen=True,
                                        file_name="arriving.csv")
        with Watchlist(session.watchlist.path) as elsewhere:
            elsewhere.add([arriving], note="INC-4480")
            elsewhere.remove([gone])
        await wait_for(pilot, lambda: status_of(app, arriving) == "Processing"
                       and gone not in table(app).rows, timeout=TIMEOUT,
                       what=f"row {arriving} shown and row {gone} gone")
        row = table(app).rows[arriving]
        assert row.file_name == "arriving.csv" and row.note == "INC-4480"
        assert sorted(table(app).rows) == sorted([first, arriving])
        await wait_for(pilot, lambda: tab_labels(app)["view-all"] == "All 2"
                       and "1 active / 2 watched" in header_text(app), timeout=TIMEOUT,
                       what="the counts follow")


def elsewhere_toasts(app: ConversionsApp) -> list[str]:
    """The toasts so far that say rows were unwatched elsewhere."""
    return [str(n.message) for n in app._notifications if "unwatched elsewhere" in n.message]


async def test_rows_unwatched_elsewhere_are_named_with_their_marks_and_notes(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    """Issue: marked and noted rows left the watchlist with no word; x then counted
    marks of rows that were gone."""
    state = sandbox.state
    ids = [state.add_conversion(status="Failed", file_name=f"f{i}.csv") for i in range(4)]
    kept_marked, gone_marked, gone_noted, other = ids
    session = monitor_session(ids=ids)
    session.watchlist.set_note(gone_noted, "INC-4490")
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, ids)
        await mark(pilot, app, [kept_marked, gone_marked])
        assert set(table(app).marked_ids) == {kept_marked, gone_marked}
        with Watchlist(session.watchlist.path) as elsewhere:
            elsewhere.remove([gone_marked, gone_noted])
        await wait_for(pilot, lambda: elsewhere_toasts(app), timeout=TIMEOUT,
                       what=lambda: f"a toast about the rows unwatched elsewhere; toasts: "
                                    f"{[n.message for n in app._notifications]}")
        [said] = elsewhere_toasts(app)
        assert said.startswith(
            f"2 conversions were unwatched elsewhere (another monitor or the CLI): "
            f"{gone_marked}, {gone_noted} (1 was marked, 1 has a note) — a is how to add "
            "them back; their notes and history are kept"), said
        assert sorted(table(app).rows) == sorted([kept_marked, other])
        assert table(app).marked_ids == (kept_marked,)  # the count of marks stays true
        assert gone_noted in session.watchlist.kept([gone_noted])


async def test_many_rows_unwatched_elsewhere_are_named_up_to_five(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(8)]
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, ids)
        with Watchlist(session.watchlist.path) as elsewhere:
            elsewhere.remove(ids[:7])
        await wait_for(pilot, lambda: elsewhere_toasts(app), timeout=TIMEOUT,
                       what="a toast about the rows unwatched elsewhere")
        [said] = elsewhere_toasts(app)
        named = ", ".join(str(i) for i in sorted(ids[:7])[:5])
        assert f"7 conversions were unwatched elsewhere (another monitor or the CLI): " \
               f"{named} and 2 more —" in said, said
        assert "marked" not in said and "note (" not in said


async def test_rows_this_monitor_unwatched_are_not_said_to_be_unwatched_elsewhere(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    """A following monitor reads its own unwatch back from the file's change feed."""
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(3)]
    mine, theirs, stays = ids
    session = monitor_session(ids=ids)
    other_monitor = PollerLock(session.watchlist.path)  # it polls; this one follows
    assert other_monitor.try_acquire()
    app = ConversionsApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "following another monitor" in header_text(app),
                           timeout=TIMEOUT, what="following")
            await wait_for(pilot, lambda: set(table(app).rows) == set(ids), what="rows")
            assert table(app).move_cursor(mine)
            await pilot.press("x")
            await wait_for(pilot, lambda: mine not in table(app).rows, what="x unwatched")
            with Watchlist(session.watchlist.path) as elsewhere:
                elsewhere.remove([theirs])
            await wait_for(pilot, lambda: theirs not in table(app).rows
                           and elsewhere_toasts(app), timeout=TIMEOUT,
                           what=lambda: f"{theirs} gone with a toast; toasts: "
                                        f"{[n.message for n in app._notifications]}")
            assert elsewhere_toasts(app) == [
                f"1 conversion was unwatched elsewhere (another monitor or the CLI): "
                f"{theirs} — a is how to add it back; its note and history are kept."]
            assert set(table(app).rows) == {stays}
    finally:
        other_monitor.release()


async def test_in_the_demo_the_colleague_is_named_not_elsewhere(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    """A newcomer's first minutes in the demo: rows vanishing "elsewhere" confused; the
    demo plays a colleague, and says so."""
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(2)]
    session = monitor_session(ids=ids)
    session.demo = True
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, ids)
        with Watchlist(session.watchlist.path) as colleague:
            colleague.remove([ids[0]])
        await wait_for(pilot, lambda: any("demo's colleague" in str(n.message)
                                          for n in app._notifications), timeout=TIMEOUT,
                       what=lambda: f"the colleague's toast; toasts: "
                                    f"{[n.message for n in app._notifications]}")
        [said] = [str(n.message) for n in app._notifications if "colleague" in n.message]
        assert said.startswith(f"1 conversion was unwatched by the demo's colleague (a second "
                               f"person the demo plays): {ids[0]} — a is how to add it back"), said
        assert "elsewhere" not in said
