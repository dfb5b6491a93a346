"""The Problems view (issue 14) driven with Pilot against the sandbox over loopback:
failures grouped by cause, a group's rows, and the row actions on a whole group."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import textual.app
import textual.pilot
from textual.pilot import Pilot
from textual.widgets import Button, Tab

from tests.ui.conftest import SessionFactory, quiet_window, wait_for
from tests.ui.test_triage_actions import (
    Terminal,
    export_to,
    modal_text,
    notices,
    on_screen,
    read_confirmation,
    read_csv,
)
from tests.waiting import WAIT_BOUND
from tui.core.problems import ProblemIndex, ProblemKind
from tui.core.watchlist.grouping import StoredGroups
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.confirm_delete import ConfirmDeleteModal
from tui.ui.screens.flows import loading
from tui.ui.screens.flows import problems as problems_flow
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.views import VIEWS
from tui.ui.widgets.problems_list import ProblemsBreadcrumb, ProblemsList
from tui.ui.widgets.table.conversions_table import ConversionsTable

SIZE = (120, 36)
PROBLEMS_KEY = str([view.key for view in VIEWS].index("problems") + 1)
HOSTILE = "[bold]Sheet[/] 'x' \x1b[2J has no header"

_real_wait_for_idle = textual.pilot.wait_for_idle


@pytest.fixture(autouse=True)
def quick_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cap Pilot's wait for an idle process after each key (see test_triage_actions)."""

    async def capped(min_sleep: float = 0.0, max_sleep: float = 1.0) -> None:
        await _real_wait_for_idle(min_sleep, min(max_sleep, 0.05))

    monkeypatch.setattr(textual.app, "wait_for_idle", capped)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", capped)


def monitor(app: ConversionsApp) -> MonitorScreen:
    return next(s for s in app.screen_stack if isinstance(s, MonitorScreen))


def listing(app: ConversionsApp) -> ProblemsList:
    return monitor(app).query_one(ProblemsList)


def table(app: ConversionsApp) -> ConversionsTable:
    return monitor(app).query_one(ConversionsTable)


def lines(app: ConversionsApp) -> list[str]:
    """The list's lines as drawn, without padding."""
    widget = listing(app)
    return [str(widget.get_option_at_index(i).prompt.plain).strip()  # type: ignore[union-attr]
            for i in range(widget.option_count)]


def tab_label(app: ConversionsApp) -> str:
    return str(monitor(app).query_one("#view-problems", Tab).label_text)


def fill(sandbox: SandboxServer) -> dict[str, list[int]]:
    """Failures of three causes (one hostile) and a warning, frozen in their status."""
    state = sandbox.state
    dates = [state.add_conversion(status="Failed", frozen=True, file_name=f"d{n}.csv",
                                  errors=[f"Row {n * 7}: date '0{n}/04' is ambiguous"])
             for n in range(1, 4)]
    utf8 = [state.add_conversion(status="Failed", frozen=True, file_name=f"u{n}.csv",
                                 errors=[f"File is not valid UTF-8 (byte 0x{n + 190:x})"])
            for n in range(2)]
    hostile = [state.add_conversion(status="Failed", frozen=True, errors=[HOSTILE])]
    warned = [state.add_conversion(status="Completed", frozen=True,
                                   warnings=["Row 9: date '1/2' is ambiguous"])]
    fine = [state.add_conversion(status="Completed", frozen=True)]
    return {"dates": dates, "utf8": utf8, "hostile": hostile, "warned": warned, "fine": fine}


def every(groups: dict[str, list[int]]) -> list[int]:
    return [i for ids in groups.values() for i in ids]


async def problems_shown(pilot: Pilot[Any], app: ConversionsApp, groups: int) -> None:
    """Open the Problems tab and wait for ``groups`` groups in it."""
    await pilot.press(PROBLEMS_KEY)
    await wait_for(pilot, lambda: len(listing(app).shown_keys) == groups
                   and listing(app).has_focus,
                   what=lambda: f"{groups} groups, focused (saw {lines(app)})")


async def group_open(pilot: Pilot[Any], app: ConversionsApp, ids: Sequence[int]) -> None:
    await wait_for(pilot, lambda: table(app).display and sorted(table(app).visible_ids)
                   == sorted(ids), what=lambda: f"the rows {sorted(ids)} shown "
                   f"(saw {table(app).visible_ids}, table shown: {table(app).display})")


async def test_groups_counts_and_tab_label(sandbox: SandboxServer,
                                           monitor_session: SessionFactory) -> None:
    groups = fill(sandbox)
    app = ConversionsApp(monitor_session(ids=every(groups)))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: tab_label(app) == "Problems 4",
                       what=lambda: f"the tab counts 4 groups (says {tab_label(app)!r})")
        await problems_shown(pilot, app, 4)
        assert not table(app).display
        assert lines(app) == [
            "3 × error   Row N: date '…' is ambiguous",
            "2 × error   File is not valid UTF-8 (byte N)",
            "1 × error   [bold]Sheet[/] '…' ␛[Nm has no header".replace("[Nm", "[NJ"),
            "1 × warning Row N: date '…' is ambiguous",
        ], lines(app)
        keys = listing(app).shown_keys
        assert [k.kind for k in keys] == [ProblemKind.ERROR] * 3 + [ProblemKind.WARNING]
        # Nothing of the hidden table can be acted on while the groups are shown.
        assert table(app).targets() == []


async def test_enter_opens_the_rows_marked_and_escape_goes_back(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    groups = fill(sandbox)
    app = ConversionsApp(monitor_session(ids=every(groups)))
    async with app.run_test(size=SIZE) as pilot:
        await problems_shown(pilot, app, 4)
        await pilot.press("enter")
        await group_open(pilot, app, groups["dates"])
        assert sorted(table(app).marked_ids) == sorted(groups["dates"])
        crumb = monitor(app).query_one(ProblemsBreadcrumb)
        assert crumb.display and str(crumb.content) == (
            "esc: back · Problems › 3 × error (3 marked): Row N: date '…' is ambiguous"
        ), crumb.content
        await wait_for(pilot, lambda: table(app).has_focus, what="the table focused")
        await pilot.press("escape")
        await wait_for(pilot, lambda: listing(app).display and listing(app).has_focus,
                       what="back on the groups")
        assert not table(app).display and not crumb.display
        assert table(app).marked_ids == ()  # a group's marks never act elsewhere
        await pilot.press("down", "enter")
        await group_open(pilot, app, groups["utf8"])
        await pilot.press("1")  # another view: the group's marks go, every row is shown
        await wait_for(pilot, lambda: len(table(app).visible_ids) == len(every(groups)),
                       what=lambda: f"All shown (saw {table(app).visible_ids})")
        assert table(app).marked_ids == () and not listing(app).display


async def test_copy_on_a_group_opens_it_and_copies_its_ids(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    groups = fill(sandbox)
    app = ConversionsApp(monitor_session(ids=every(groups)))
    async with app.run_test(size=SIZE) as pilot:
        await problems_shown(pilot, app, 4)
        terminal = Terminal(app)
        await pilot.press("down", "c")
        await wait_for(pilot, terminal.copied, what="an OSC 52 write")
        assert terminal.copied() == ["\n".join(str(i) for i in sorted(groups["utf8"]))]
        assert "Copied 2 IDs" in notices(app)
        await group_open(pilot, app, groups["utf8"])


async def test_export_of_a_group_holds_its_rows_only(
        sandbox: SandboxServer, monitor_session: SessionFactory, tmp_path: Path) -> None:
    groups = fill(sandbox)
    app = ConversionsApp(monitor_session(ids=every(groups)))
    async with app.run_test(size=SIZE) as pilot:
        await problems_shown(pilot, app, 4)
        await pilot.press("enter")
        await group_open(pilot, app, groups["dates"])
        target = tmp_path / "dates.csv"
        await export_to(pilot, target)
        await wait_for(pilot, target.exists, what="the export written")
        assert sorted(int(r["id"]) for r in read_csv(target)) == sorted(groups["dates"])


async def test_delete_of_a_group_asks_naming_the_count(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    groups = fill(sandbox)
    app = ConversionsApp(monitor_session(ids=every(groups)))
    async with app.run_test(size=SIZE) as pilot:
        await problems_shown(pilot, app, 4)
        await pilot.press("d")  # on the list: the highlighted group, opened first
        modal = await read_confirmation(pilot)
        assert isinstance(modal, ConfirmDeleteModal)
        assert "Delete these 3 conversions on the server?" in modal_text(modal)
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen, "the question closed")
        await quiet_window(pilot)
        deletes = [route for route in sandbox.state.stats.by_route if route.startswith("DEL")]
        assert deletes == []
        assert sorted(table(app).marked_ids) == sorted(groups["dates"])  # still shown, marked
        await pilot.press("d")
        modal = await read_confirmation(pilot)
        await pilot.press("3")
        assert not modal.query_one("#delete", Button).disabled
        await pilot.press("enter")
        await on_screen(pilot, MonitorScreen, "confirmed")
        await wait_for(pilot, lambda: all(sandbox.state.get(i).status != "Failed"
                                          for i in groups["dates"]),
                       what="the group's three deleted on the server")


async def test_groups_follow_new_failures_and_the_highlight_stays(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    groups = fill(sandbox)
    app = ConversionsApp(monitor_session(ids=every(groups)))
    async with app.run_test(size=SIZE) as pilot:
        await problems_shown(pilot, app, 4)
        await pilot.press("down")  # on the UTF-8 group (2 rows)
        chosen = listing(app).highlighted_key
        assert chosen is not None and "UTF-8" in chosen.text
        more = [sandbox.state.add_conversion(
            status="Failed", frozen=True, errors=[f"File is not valid UTF-8 (byte {n})"])
            for n in range(5, 7)]
        monitor(app).watching.watch(more)
        await wait_for(pilot, lambda: lines(app)[0].startswith("4 × error   File is not"),
                       what=lambda: f"the UTF-8 group grew to 4, first (saw {lines(app)})")
        assert listing(app).highlighted_key == chosen and listing(app).highlighted == 0


async def test_no_problems_says_so_and_keys_on_it_are_not_silent(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    fine = [sandbox.state.add_conversion(status="Completed", frozen=True) for _ in range(2)]
    app = ConversionsApp(monitor_session(ids=fine))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(table(app).rows.get(i) is not None
                                          and table(app).rows[i].status for i in fine),
                       what="the first poll")
        await pilot.press(PROBLEMS_KEY)
        await wait_for(pilot, lambda: listing(app).has_focus
                       and lines(app) == [ProblemsList.empty_message],
                       what=lambda: f"the empty list said so (saw {lines(app)})")
        assert tab_label(app) == "Problems 0"
        await pilot.press("enter", "d", "c")
        await wait_for(pilot, lambda: "No group of problems here: nothing to act on."
                       in notices(app), what=lambda: f"a sentence (saw {notices(app)})")
        assert app.screen is monitor(app) and table(app).marked_ids == ()
        assert not any(r.startswith("DEL") for r in sandbox.state.stats.by_route)


async def test_the_list_says_it_is_grouping_until_the_first_index_is_built(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    class SlowIndex(ProblemIndex):
        """The first indexing of a large watchlist, held until the test lets it go."""

        def seed(self, stored: StoredGroups) -> None:
            release.wait(WAIT_BOUND)
            super().seed(stored)

    monkeypatch.setattr(problems_flow, "ProblemIndex", SlowIndex)
    groups = fill(sandbox)
    app = ConversionsApp(monitor_session(ids=every(groups)))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(PROBLEMS_KEY)
            await wait_for(pilot, lambda: lines(app) == [
                "Grouping the failures of the watched conversions…"],
                what=lambda: f"the list says it is grouping (saw {lines(app)})")
            release.set()
            await wait_for(pilot, lambda: len(listing(app).shown_keys) == 4,
                           what=lambda: f"the four groups (saw {lines(app)})")
    finally:
        release.set()


async def test_the_tab_chosen_before_the_rows_are_loaded_says_it_is_grouping(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real_load = loading.load_watchlist

    def slow_load(host: Any, show_rows: Any) -> None:
        """A long watchlist still being read, until the test lets it go."""
        release.wait(WAIT_BOUND)
        real_load(host, show_rows)

    monkeypatch.setattr(loading, "load_watchlist", slow_load)
    groups = fill(sandbox)
    app = ConversionsApp(monitor_session(ids=every(groups)))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(PROBLEMS_KEY)
            # Not "no problems": nothing is known yet.
            await wait_for(pilot, lambda: listing(app).has_focus and lines(app) == [
                "Grouping the failures of the watched conversions…"],
                what=lambda: f"the list says it is grouping (saw {lines(app)})")
            release.set()
            await wait_for(pilot, lambda: len(listing(app).shown_keys) == 4,
                           what=lambda: f"the four groups (saw {lines(app)})")
    finally:
        release.set()


async def test_recheck_on_a_group_asks_for_its_rows_only(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    groups = fill(sandbox)
    app = ConversionsApp(monitor_session(ids=every(groups)))
    stats = sandbox.state.stats

    def asked(ids: Sequence[int]) -> list[int]:
        return [stats.by_route[f"GET /v1/conversions/{i}/status"] for i in ids]

    async with app.run_test(size=SIZE) as pilot:
        await problems_shown(pilot, app, 4)
        # Settled rows are not asked again for minutes: only the re-check asks now.
        await wait_for(pilot, lambda: all(n >= 1 for n in asked(every(groups))),
                       what=lambda: f"every row asked once (saw {asked(every(groups))})")
        before, others = asked(groups["utf8"]), asked(groups["dates"])
        await pilot.press("down", "r")
        await wait_for(pilot, lambda: all(n > b for n, b in zip(
            asked(groups["utf8"]), before, strict=True)),
            what=lambda: f"the group's rows asked again (saw {asked(groups['utf8'])}, "
                         f"before {before})")
        assert asked(groups["dates"]) == others
