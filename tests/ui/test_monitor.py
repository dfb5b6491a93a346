"""The live monitor driven with Pilot against the real sandbox over loopback."""

from __future__ import annotations

import asyncio
from typing import Any

import keyring
import pytest
from keyring.backends.fail import Keyring as FailKeyring
from textual.widgets import Static, Tab, Tabs

from tests.ui.conftest import SessionFactory, quiet_window, wait_for
from tui.core.credentials import SERVICE
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.key_prompt import KeyPromptModal
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.widgets.connectivity_banner import ConnectivityBanner
from tui.ui.widgets.monitor_header import MonitorHeader
from tui.ui.widgets.table.conversions_table import ConversionsTable

SIZE = (120, 36)


def monitor(app: ConversionsApp) -> MonitorScreen:
    """The monitor screen (fails if another screen is on top)."""
    screen = app.screen
    assert isinstance(screen, MonitorScreen), f"expected the monitor, got {screen!r}"
    return screen


def table(app: ConversionsApp) -> ConversionsTable:
    """The conversions table of the monitor screen (whatever screen is on top)."""
    screen = next(s for s in app.screen_stack if isinstance(s, MonitorScreen))
    return screen.query_one(ConversionsTable)


def header_text(app: ConversionsApp) -> str:
    """The header line as drawn."""
    screen = next(s for s in app.screen_stack if isinstance(s, MonitorScreen))
    return screen.query_one(MonitorHeader).render().plain


def tab_labels(app: ConversionsApp) -> dict[str, str]:
    """View tab id -> its label text, e.g. {"view-all": "All 3", ...}."""
    screen = next(s for s in app.screen_stack if isinstance(s, MonitorScreen))
    return {str(tab.id): str(tab.label_text)
            for tab in screen.query_one(Tabs).query(Tab)}


def status_of(app: ConversionsApp, conversion_id: int) -> Any:
    """The status the table holds for ``conversion_id`` (None when not there)."""
    row = table(app).rows.get(conversion_id)
    return None if row is None else row.status


async def test_start_shows_watched_ids_user_and_counts(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    processing = state.add_conversion(status="Processing", frozen=True, file_name="a.csv")
    failed = state.add_conversion(status="Failed", errors=["Row 3: bad amount"],
                                  file_name="b.csv")
    done = state.add_conversion(status="Completed", warnings=["Row 1: trimmed"],
                                file_name="c.csv")
    session = monitor_session(ids=[processing, failed, done])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(status_of(app, i) for i in (processing, failed, done)),
                       what="every watched row has a status")
        assert sorted(table(app).rows) == sorted([processing, failed, done])
        assert status_of(app, processing) == "Processing"
        assert status_of(app, failed) == "Failed"
        assert status_of(app, done) == "Completed"
        # The failed row counts as needing attention once the counts are next drawn: that
        # count takes room the name gives up, so the header is read once it is there.
        await wait_for(pilot, lambda: "Dana Whitfield" in header_text(app)
                       and "1 needs attention" in header_text(app),
                       what=lambda: f"the key's owner and the count ({header_text(app)!r})")
        text = header_text(app)
        assert "Dana Whitfield <dana.whitfield@" in text
        assert "test" in text
        assert "test-key" not in text  # only the masked form
        assert "key …" in text
        # Counts follow the polls within a second (they are recounted once a second).
        await wait_for(pilot, lambda: tab_labels(app)["view-all"] == "All 3"
                       and tab_labels(app)["view-active"] == "Active 1", what="view counts")
        labels = tab_labels(app)
        assert labels["view-active"] == "Active 1"
        assert labels["view-failed"] == "Failed 1"
        assert labels["view-warnings"] == "Warnings 1"
        assert labels["view-deleting"] == "Deleting 0"


def notices(app: ConversionsApp) -> list[tuple[str, str]]:
    """(severity, message) of every toast shown so far that is still listed."""
    return [(n.severity, n.message) for n in app._notifications]


def requests_to(sandbox: SandboxServer, method: str) -> int:
    """API requests with ``method`` the sandbox has seen."""
    return sum(count for route, count in sandbox.state.stats.by_route.items()
               if route.startswith(method + " "))


async def test_add_ids_with_a_range_and_an_invalid_part(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    first = state.add_conversion(status="Processing", frozen=True)
    more = [state.add_conversion(status="Queued", frozen=True) for _ in range(3)]
    session = monitor_session(ids=[first])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, first) == "Processing", what="first poll")
        await pilot.press("a")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AddIdsModal",
                       what="the add modal")
        # A range, the first ID again (already watched), and a piece that is no ID.
        await pilot.press(*f"{more[0]}-{more[2]}, {first}; 12x4")
        preview = str(app.screen.query_one("#preview", Static).render())
        assert preview == (f"Will add 3: {more[0]}, {more[1]}, {more[2]} (1 already watched)\n"
                           "Not IDs: 12x4 (not an ID)"), preview
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen), what="modal closed")
        assert set(table(app).rows) == {first, *more}
        assert set(session.watchlist.ids()) == {first, *more}
        shown = notices(app)
        assert ("information", "Added 3 to the watchlist (1 already watched)") in shown
        warnings = [message for severity, message in shown if severity == "warning"]
        assert len(warnings) == 1 and "12x4" in warnings[0], shown
        # The new rows are polled at once.
        await wait_for(pilot, lambda: all(status_of(app, i) == "Queued" for i in more),
                       what="the added IDs are polled")
        assert tab_labels(app)["view-all"] == "All 4"


async def test_unwatch_with_x_is_local_only(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    ids = [state.add_conversion(status="Completed") for _ in range(3)]
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(status_of(app, i) for i in ids), what="first poll")
        assert table(app).move_cursor(ids[1])
        await pilot.press("x")
        await wait_for(pilot, lambda: ids[1] not in table(app).rows, what="row removed")
        assert ids[1] not in session.watchlist
        assert set(session.watchlist.ids()) == {ids[0], ids[2]}
        # Still on the server, and nothing asked it to delete.
        assert state.get(ids[1]) is not None
        assert requests_to(sandbox, "DELETE") == 0
        messages = [message for _, message in notices(app)]
        assert any(f"Unwatched {ids[1]}" in m and "nothing was deleted on the server" in m
                   for m in messages), messages
        await wait_for(pilot, lambda: tab_labels(app)["view-all"] == "All 2",
                       what="counts follow")
        # The poller forgets it too: no more requests for that ID.
        asked = state.stats.by_route[f"GET /v1/conversions/{ids[1]}/status"]
        await pilot.press("R")
        await wait_for(pilot, lambda: all(
            state.stats.by_route[f"GET /v1/conversions/{i}/status"] >= 2 for i in (ids[0], ids[2])),
            what="refresh all reaches the others")
        assert state.stats.by_route[f"GET /v1/conversions/{ids[1]}/status"] == asked


def row_text(app: ConversionsApp, conversion_id: int) -> str:
    """The table line of ``conversion_id`` as drawn (it must be shown)."""
    grid = table(app)
    index = grid.visible_ids.index(conversion_id)
    grid.scroll_to(y=0, animate=False)
    assert index + 1 < grid.size.height, "row is off screen"
    return grid.render_line(index + 1).text


async def test_live_status_change_keeps_the_cursor_on_its_conversion(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    # It will end Failed, which sorts first by status: the row moves to the top.
    moving = state.add_conversion(status="Queued", file_name="moving.csv", outcome="Failed",
                                  frozen=True)
    still = [state.add_conversion(status="Processing", frozen=True) for _ in range(2)]
    done = state.add_conversion(status="Completed")
    session = monitor_session(ids=[moving, *still, done])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, moving) == "Queued" and all(
            status_of(app, i) for i in (*still, done)), what="first poll")
        grid = table(app)
        grid.sort_by("status")  # the changing row will move: the cursor must go with it
        grid.move_cursor(moving)
        before = grid.visible_ids.index(moving)
        assert "Queued" in row_text(app, moving)
        assert before == 2
        # Frozen until now (a slow machine must not see it move early).
        state.unfreeze(moving)
        state.advance(60)  # Queued 3 s + Processing 20 s: Failed by now
        await wait_for(pilot, lambda: status_of(app, moving) == "Failed",
                       what="the change reaches the table")
        await pilot.pause()
        assert grid.cursor_id == moving
        assert grid.visible_ids.index(moving) == 0  # it did move
        line = row_text(app, moving)
        assert "moving.csv" in line and "Failed" in line and "Queued" not in line
        # The cursor line is the one drawn with the cursor style.
        assert grid.render_line(grid.visible_ids.index(moving) + 1).text == line
        assert [status_of(app, i) for i in still] == ["Processing", "Processing"]
        seen = [status for status, _ in session.watchlist.history(moving)]
        assert seen[0] == "Queued" and seen[-1] == "Failed"
        # A failure is an alert: its toast names the conversion and its file.
        await wait_for(pilot, lambda: any(f"Conversion {moving} failed (moving.csv)" in message
                                          for _, message in notices(app)),
                       what=lambda: f"the failure toast; toasts: {notices(app)}")


async def test_sort_filter_and_views_from_the_keyboard(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    a = state.add_conversion(status="Processing", frozen=True, file_name="zeta.csv")
    b = state.add_conversion(status="Failed", errors=["Row 2: bad"], file_name="alpha.csv")
    c = state.add_conversion(status="Completed", warnings=["Row 9: odd"],
                             file_name="mid.xlsx", data_source_type="Excel")
    d = state.add_conversion(status="Queued", frozen=True, file_name="beta.csv")
    session = monitor_session(ids=[a, b, c, d])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(status_of(app, i) for i in (a, b, c, d)),
                       what="first poll")
        grid = table(app)
        assert grid.sort_column == "id" and grid.visible_ids == [a, b, c, d]
        await pilot.press("s")  # next column: File
        assert grid.sort_column == "file" and not grid.sort_reverse
        assert grid.visible_ids == [b, d, c, a]
        await pilot.press("S")
        assert grid.sort_reverse and grid.visible_ids == [a, c, d, b]
        assert "▼" in grid.render_line(0).text
        await pilot.press("s")  # Type, ascending again
        assert grid.sort_column == "type" and not grid.sort_reverse

        await pilot.press("slash", *"csv", "enter")
        assert grid.has_focus
        assert sorted(grid.visible_ids) == [a, b, d]
        await pilot.press("escape")
        assert grid.filter_text == "" and sorted(grid.visible_ids) == [a, b, c, d]
        assert not monitor(app).query_one("#filter").has_class("-shown")

        # Polling paused: every poll batch relabels the tabs, which restarts their
        # underline animation and holds each key press until it settles (this was a
        # test below); the views do not need fresh polls.
        await pilot.press("p")
        expected = {"1": {a, b, c, d}, "2": {a, d}, "3": {b}, "4": {c}, "5": set(), "6": set()}
        for key, ids in expected.items():
            await pilot.press(key)
            assert set(grid.visible_ids) == ids, key
        # An empty view says so in its own words (not "Nothing matches the filter").
        await pilot.press("5")
        assert grid.render_line(1).text.strip() == "Nothing stuck"
        await pilot.press("slash", *"zeta", "enter")
        assert grid.render_line(1).text.strip() == "Nothing matches the filter"
        await pilot.press("escape")
        assert grid.render_line(1).text.strip() == "Nothing stuck"
        await pilot.press("6")
        assert grid.render_line(1).text.strip() == "Nothing being deleted"
        labels = tab_labels(app)
        assert [labels[f"view-{v}"] for v in
                ("all", "active", "failed", "warnings", "stuck", "deleting")] == [
            "All 4", "Active 2", "Failed 1", "Warnings 1", "Stuck 0", "Deleting 0"]
        assert monitor(app).query_one(Tabs).active == "view-deleting"
        await pilot.press("1")
        assert set(grid.visible_ids) == {a, b, c, d}


async def test_pause_stops_requests_and_resume_restarts_them(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    ids = [state.add_conversion(status="Processing", frozen=True) for _ in range(2)]
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: state.request_count >= 4, what="polling (2 rounds)")
        scheduler = monitor(app).scheduler
        assert scheduler is not None
        await pilot.press("p")
        assert "PAUSED" in header_text(app)
        # Paused, it lets the lead go (another monitor on the file may poll) and follows.
        assert monitor(app).scheduler is None
        # A request already on the wire when p was pressed may still land: wait for it.
        await wait_for(pilot, lambda: scheduler.stats.in_flight == 0
                       and monitor(app).watching.following, what="nothing in flight")
        paused_at = state.request_count
        await quiet_window(pilot, 4 * 0.2 + 0.3)  # several poll intervals
        assert state.request_count == paused_at
        await pilot.press("p")
        assert "PAUSED" not in header_text(app)
        await wait_for(pilot, lambda: state.request_count >= paused_at + 4,
                       what="polling resumed")
        assert ("information", "Polling resumed") in notices(app)


async def test_view_tabs_are_not_relabelled_while_counts_stay_the_same(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    state = sandbox.state
    ids = [state.add_conversion(status="Processing", frozen=True) for _ in range(2)]
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: tab_labels(app)["view-active"] == "Active 2",
                       what="first poll counted")
        relabels: list[str] = []
        original = Tab.update

        def counting_update(self: Tab, content: Any = "") -> None:
            relabels.append(str(self.id))
            original(self, content)

        monkeypatch.setattr(Tab, "update", counting_update)
        start = state.request_count
        await wait_for(pilot, lambda: state.request_count >= start + 6,
                       what="three more poll rounds")
        await pilot.pause()  # their answers drawn
        assert tab_labels(app)["view-active"] == "Active 2"
        assert relabels == []


def key_prompt_shown(app: ConversionsApp) -> bool:
    """The key prompt is on top, composed and focused on its input."""
    screen = app.screen
    return isinstance(screen, KeyPromptModal) and bool(screen.query("#key")) and (
        screen.focused is not None and screen.focused.id == "key")


def banner_text(app: ConversionsApp) -> str:
    """The connectivity banner as drawn ("" when hidden)."""
    screen = next(s for s in app.screen_stack if isinstance(s, MonitorScreen))
    banner = screen.query_one(ConnectivityBanner)
    return banner.render().plain if banner.has_class("-shown") else ""


async def test_offline_banner_and_recovery(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    moving = state.add_conversion(status="Queued", outcome="Completed", file_name="m.csv",
                                  frozen=True)
    session = monitor_session(ids=[moving])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, moving) == "Queued", what="first poll")
        assert banner_text(app) == ""
        await asyncio.to_thread(sandbox.stop)
        try:
            await wait_for(pilot, lambda: "Offline" in banner_text(app),
                           what="the offline banner")
            text = banner_text(app)
            assert "retrying" in text and "connection refused" in text.lower(), text
            assert "Rows keep their last known data" in text
            # Frozen until now (a slow machine must not see it move early).
            state.unfreeze(moving)
            state.advance(60)  # meanwhile it completes on the server
            await quiet_window(pilot)
            assert status_of(app, moving) == "Queued"  # last known data kept
            assert "Queued" in row_text(app, moving)
        finally:
            await asyncio.to_thread(sandbox.start)
        await pilot.press("r")  # while offline, a refresh probes at once
        await wait_for(pilot, lambda: banner_text(app) == "", what="the banner goes")
        await wait_for(pilot, lambda: status_of(app, moving) == "Completed",
                       what="rows update after recovery")
        assert "Completed" in row_text(app, moving)


async def test_offline_recovers_by_itself(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    """No key pressed: the scheduler's own probe finds the server again."""
    conversion = sandbox.state.add_conversion(status="Processing", frozen=True)
    session = monitor_session(ids=[conversion])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, conversion) == "Processing",
                       what="first poll")
        await asyncio.to_thread(sandbox.stop)
        try:
            await wait_for(pilot, lambda: "Offline" in banner_text(app), what="offline")
        finally:
            await asyncio.to_thread(sandbox.start)
        # The first probe waits about offline_probe_min (1 s, jittered).
        await wait_for(pilot, lambda: banner_text(app) == "", what="the probe brings it back")


async def test_rotated_key_brings_back_the_key_prompt(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        memory_keyring: Any) -> None:
    state = sandbox.state
    moving = state.add_conversion(status="Queued", outcome="Completed", frozen=True)
    session = monitor_session(ids=[moving])
    app = ConversionsApp(session)
    new_key = "rotated-key-0001"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, moving) == "Queued", what="first poll")
        # The key is rotated on the server while the app polls (no restart).
        sandbox.api_key = new_key
        await wait_for(pilot, lambda: key_prompt_shown(app),
                       what="the key prompt")
        why = str(app.screen.query_one("#why", Static).render())
        assert "401" in why and "enter a new key" in why, why
        assert "refused the API key" in banner_text(app)
        stopped_at = state.request_count
        await quiet_window(pilot)
        assert state.request_count == stopped_at  # nothing is polled with a bad key
        # A wrong key typed at the prompt is refused again: the prompt comes back.
        await pilot.press(*"still-wrong-key", "enter")
        await wait_for(pilot, lambda: state.request_count > stopped_at,
                       what="the typed key is tried")
        await wait_for(pilot, lambda: key_prompt_shown(app),
                       what="the prompt again after a second 401")
        # Frozen until now (a slow machine must not see it move early).
        state.unfreeze(moving)
        state.advance(60)
        await pilot.press(*new_key, "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen),
                       what="prompt closed")
        await wait_for(pilot, lambda: status_of(app, moving) == "Completed",
                       what="polling resumes with the new key")
        assert banner_text(app) == ""
        text = header_text(app)
        assert "…0001" in text and "session only" in text and new_key not in text
        assert memory_keyring.store == {}  # typed keys are never stored


async def test_no_keyring_backend_asks_for_a_session_key(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    keyring.set_keyring(FailKeyring())  # the memory_keyring fixture restores its own after
    conversion = sandbox.state.add_conversion(status="Processing", frozen=True)
    session = monitor_session(key=None, env={}, ids=[conversion])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: key_prompt_shown(app),
                       what="the key prompt")
        why = str(app.screen.query_one("#why", Static).render())
        assert why.startswith("No keyring backend is available"), why
        assert why.count(". ") == 0 and why.endswith("."), "one sentence"
        assert "CONVERSIONS_API_KEY" in why
        assert sandbox.state.request_count == 0
        await pilot.press(*"test-key", "enter")
        await wait_for(pilot, lambda: status_of(app, conversion) == "Processing",
                       what="the typed key is used")
        assert "session only" in header_text(app)


async def test_hostile_server_text_renders_literally(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    state.profile = {**state.profile, "firstName": "[red]Mallory[/]\x1b]0;pwned\x07",
                     "lastName": "\u202eredli"}
    hostile_name = "[/]\x1b[31m\u202einvoice[b].csv\x00"
    conversion = state.add_conversion(
        status="Queued", outcome="Failed", file_name=hostile_name, frozen=True,
        data_source_type="[i]Csv\x1b[0m", errors=["Row 1: [/bold] \x1b[2J bad"])
    odd = state.add_conversion(status="Queued", frozen=True)
    state.set_status(odd, "[blink]Weird\x07", frozen=True)  # a status word nobody knows
    session = monitor_session(ids=[conversion, odd])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, conversion) == "Queued"
                       and status_of(app, odd) is not None, what="first poll")
        # Frozen until now (a slow machine must not see it move early).
        state.unfreeze(conversion)
        state.advance(60)  # it fails: the toast names the hostile file
        await wait_for(pilot, lambda: status_of(app, conversion) == "Failed",
                       what="the failure arrives")
        await pilot.pause()
        line = row_text(app, conversion)
        assert "[/]␛[31m<U+202E>invoice[b].csv␀" in line
        assert "[i]Csv␛[0m" in line
        weird = row_text(app, odd)
        assert "[blink]Weird␇" in weird
        header = header_text(app)
        assert "[red]Mallory[/]␛]0;pwned␇" in header and "<U+202E>redli" in header
        await wait_for(pilot, lambda: any(severity == "error" for severity, _ in notices(app)),
                       what="the failure toast (gathered for a few seconds)")
        failed = [m for severity, m in notices(app) if severity == "error"]
        assert failed and "[/]␛[31m<U+202E>invoice[b].csv␀" in failed[0], failed
        for text in (line, weird, header, *failed):
            assert not any(ch in text for ch in "\x1b\x07\x00\u202e"), repr(text)
        # Still alive and drawing.
        assert app.is_running and isinstance(app.screen, MonitorScreen)
        await pilot.press("s", "S", "slash", *"inv", "enter")
        assert table(app).visible_ids == [conversion]


async def test_cancelled_first_key_prompt_p_asks_again(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conversion = sandbox.state.add_conversion(status="Processing", frozen=True)
    session = monitor_session(key=None, env={}, ids=[conversion])  # keyring holds no key
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: key_prompt_shown(app), what="the key prompt")
        why = str(app.screen.query_one("#why", Static).render())
        assert why == "No API key is stored for this profile."
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen), what="cancelled")
        assert any("Press p to enter one" in m for _, m in notices(app))
        await quiet_window(pilot)
        assert sandbox.state.request_count == 0
        await pilot.press("p")
        await wait_for(pilot, lambda: key_prompt_shown(app), what="p asks for the key again")
        await pilot.press(*"test-key", "enter")
        await wait_for(pilot, lambda: status_of(app, conversion) == "Processing",
                       what="polling with the typed key")


async def test_cancelled_401_prompt_p_asks_for_a_key(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conversion = sandbox.state.add_conversion(status="Processing", frozen=True)
    session = monitor_session(key="revoked-key-9999", ids=[conversion])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: key_prompt_shown(app), what="the 401 prompt")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen), what="cancelled")
        assert "refused the API key" in banner_text(app)
        await pilot.press("p")
        await wait_for(pilot, lambda: key_prompt_shown(app), what="p asks for a new key")


async def test_rows_leave_the_active_view_and_the_filter_when_their_status_moves_on(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    moving = state.add_conversion(status="Queued", outcome="Completed", frozen=True)
    staying = state.add_conversion(status="Queued", frozen=True)
    session = monitor_session(ids=[moving, staying])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, moving) == "Queued"
                       and status_of(app, staying) == "Queued", what="first poll")
        grid = table(app)
        await pilot.press("p")  # quiet while keys are pressed (see the relabel xfail)
        await pilot.press("2", "slash", *"queued", "enter")
        assert set(grid.visible_ids) == {moving, staying}
        grid.move_cursor(moving)
        await pilot.press("p")
        # Frozen until now (a slow machine must not see it move early).
        state.unfreeze(moving)
        state.advance(60)
        await wait_for(pilot, lambda: status_of(app, moving) == "Completed",
                       what="the change arrives")
        await pilot.pause()
        assert grid.visible_ids == [staying]
        assert grid.cursor_id == staying  # the cursor went to a row still shown
        await wait_for(pilot, lambda: tab_labels(app)["view-active"] == "Active 1",
                       what="the count follows")


async def test_key_prompt_refuses_a_key_with_a_space_without_crashing(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conversion = sandbox.state.add_conversion(status="Processing", frozen=True)
    session = monitor_session(key=None, env={}, ids=[conversion])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: key_prompt_shown(app), what="the key prompt")
        await pilot.press(*"test key", "enter")  # a space: cannot go in a header
        await pilot.pause()
        assert app.is_running and key_prompt_shown(app), "the prompt stays for a fix"
        assert any(severity == "warning" and "space" in message
                   for severity, message in notices(app)), notices(app)
        await pilot.press(*["backspace"] * 8, *"test-key", "enter")
        await wait_for(pilot, lambda: status_of(app, conversion) == "Processing",
                       what="the corrected key is used")


async def test_rate_limit_banner_comes_and_goes(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    ids = [state.add_conversion(status="Processing", frozen=True) for _ in range(3)]
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(status_of(app, i) for i in ids), what="first poll")
        state.faults.update({"storm": True, "retry_after": 1})
        await wait_for(pilot, lambda: "rate limiting" in banner_text(app),
                       what="the rate-limit banner")
        assert "slowed down" in banner_text(app)
        # One banner for the whole app, and rows keep their data (no per-row errors).
        assert all(status_of(app, i) == "Processing" for i in ids)
        state.faults.clear()
        await wait_for(pilot, lambda: banner_text(app) == "", what="the banner goes after the hold")
        before = state.request_count
        await wait_for(pilot, lambda: state.request_count > before + 3, what="polling again")


@pytest.mark.parametrize(("where", "words"), [
    ("keyring", "keyring"), ("env", "env"), ("demo", "demo")])
async def test_header_says_where_the_key_came_from(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        memory_keyring: Any, where: str, words: str) -> None:
    conversion = sandbox.state.add_conversion(status="Processing", frozen=True)
    if where == "keyring":
        memory_keyring.set_password(SERVICE, "test", "test-key")
        session = monitor_session(key=None, env={}, ids=[conversion])
    elif where == "env":
        session = monitor_session(key=None, env={"CONVERSIONS_API_KEY": "test-key"},
                                  ids=[conversion])
    else:
        session = monitor_session(ids=[conversion], demo=True)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app, conversion) == "Processing",
                       what="polling with the found key")
        text = header_text(app)
        header = monitor(app).query_one(MonitorHeader)
        assert header.info.key_source == words and header.info.key_masked == "…"
        assert "key …" in text and words in text.replace(" DEMO ", ""), text
        assert (" DEMO " in text) == (where == "demo")
