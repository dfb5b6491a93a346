"""The monitor's summary strip: counts per kind, click to a view, activity sparklines, widths."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.color import Color
from textual.widgets import Sparkline, Tabs

from tests.core.test_watchlist import answer
from tests.ui.conftest import SessionFactory, quiet_window, wait_for
from tui.core.activity import MINUTE, activity_window, minute_buckets
from tui.core.statuses import StatusKind
from tui.core.watchlist import StatusChange, Watchlist
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.widgets.summary_strip import (
    CheckingCount,
    KindCount,
    StripLayout,
    SummaryStrip,
    choose_layout,
    count_text,
)
from tui.ui.widgets.table.conversions_table import STATUS_VARIABLE_DEFAULTS, ConversionsTable

# A fixed "now" long before any test runs: changes the live poller records (at the real
# time) fall outside its hour, so the sparklines show only the history written here.
FIXED_NOW = 1_600_000_000.0 - 1_600_000_000.0 % 60 + 30.0


@dataclass
class Row:
    status: str | None
    not_found: bool = False
    last_checked: float | None = 1.0  # answered once; None: never answered for


class StripApp(App[None]):
    """The strip alone, fed by ``source`` (or nothing)."""

    def __init__(self, source: object = None) -> None:
        super().__init__()
        self.source = source
        self.chosen: list[SummaryStrip.ViewChosen] = []

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **STATUS_VARIABLE_DEFAULTS}

    def compose(self) -> ComposeResult:
        yield SummaryStrip(self.source)  # type: ignore[arg-type]

    def on_summary_strip_view_chosen(self, message: SummaryStrip.ViewChosen) -> None:
        self.chosen.append(message)


def chip(root: App[None] | MonitorScreen, kind: StatusKind) -> KindCount:
    return root.query_one(f"#count-{kind.value.replace('_', '-')}", KindCount)


def chip_text(root: App[None] | MonitorScreen, kind: StatusKind) -> str:
    return chip(root, kind).render().plain


def strip_of(app: ConversionsApp) -> SummaryStrip:
    screen = next(s for s in app.screen_stack if isinstance(s, MonitorScreen))
    return screen.query_one(SummaryStrip)


# -- counts ---------------------------------------------------------------------------

async def test_counts_for_fixed_rows() -> None:
    app = StripApp()
    async with app.run_test(size=(160, 3)) as pilot:
        strip = app.query_one(SummaryStrip)
        strip.show_rows([Row("Completed"), Row("Completed"), Row("Completed"), Row("Failed"),
                         Row("Processing"), Row("Uploaded"), Row("Queued"), Row("Sideways"),
                         Row("Failed", not_found=True)])
        await pilot.pause()
        assert chip_text(app, StatusKind.QUEUED) == "◌ Queued 2"
        assert chip_text(app, StatusKind.PROCESSING) == "◐ Processing 1"
        assert chip_text(app, StatusKind.COMPLETED) == "✔ Completed 3"
        assert chip_text(app, StatusKind.FAILED) == "✘ Failed 1"
        assert chip_text(app, StatusKind.UNKNOWN) == "• Unknown 1"
        assert chip_text(app, StatusKind.NOT_FOUND) == "? Not found 1"
        # Rare kinds with no rows are not shown; the main four always are.
        assert not chip(app, StatusKind.DELETED).display
        assert not chip(app, StatusKind.DELETING).display
        assert chip(app, StatusKind.UNKNOWN).display
        strip.show_rows([])
        await pilot.pause()
        assert chip_text(app, StatusKind.FAILED) == "✘ Failed 0"
        assert chip(app, StatusKind.FAILED).display
        assert not chip(app, StatusKind.UNKNOWN).display


async def test_rows_never_answered_for_are_counted_apart_as_checking() -> None:
    app = StripApp()
    async with app.run_test(size=(160, 3)) as pilot:
        strip = app.query_one(SummaryStrip)
        checking = app.query_one(CheckingCount)
        assert not checking.display  # none yet: not shown
        strip.show_rows([Row(None, last_checked=None), Row(None, last_checked=None),
                         Row(None, last_checked=None, not_found=True),  # answered: 404
                         Row("Sideways"), Row("Failed")])
        await pilot.pause()
        assert strip.checking == 2
        assert checking.display
        assert checking.render().plain == "↻ Checking 2"
        # Not Unknown (that is a status word the app does not know) and not any kind.
        assert chip_text(app, StatusKind.UNKNOWN) == "• Unknown 1"
        assert strip.counts[StatusKind.UNKNOWN] == 1
        assert sum(strip.counts.values()) == 3
        strip.show_rows([Row("Failed")])
        await pilot.pause()
        assert strip.checking == 0 and not checking.display


async def test_count_colours_come_from_the_theme() -> None:
    app = StripApp()
    async with app.run_test(size=(160, 3)) as pilot:
        app.query_one(SummaryStrip).show_rows([Row("Failed"), Row("Completed")])
        await pilot.pause()
        failed = chip(app, StatusKind.FAILED).styles.color
        done = chip(app, StatusKind.COMPLETED).styles.color
        assert failed == Color.parse(STATUS_VARIABLE_DEFAULTS["status-failed"])
        assert done == Color.parse(STATUS_VARIABLE_DEFAULTS["status-completed"])


async def test_monitor_strip_counts_the_watched_rows(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    ids = [state.add_conversion(status="Processing", frozen=True),
           state.add_conversion(status="Failed", errors=["bad"], frozen=True),
           state.add_conversion(status="Failed", errors=["bad"], frozen=True),
           state.add_conversion(status="Completed", frozen=True),
           state.add_conversion(status="Half-done", frozen=True)]
    app = ConversionsApp(monitor_session(ids=ids))
    async with app.run_test(size=(160, 30)) as pilot:
        strip = strip_of(app)
        await wait_for(pilot, lambda: strip.counts[StatusKind.FAILED] == 2
                       and strip.counts[StatusKind.UNKNOWN] == 1, what="counts after a poll")
        assert strip.counts[StatusKind.PROCESSING] == 1
        assert strip.counts[StatusKind.COMPLETED] == 1
        assert chip_text(app.screen, StatusKind.FAILED) == "✘ Failed 2"  # type: ignore[arg-type]
        # The strip sits above the views and the table.
        screen = app.screen
        assert strip.region.y < screen.query_one(Tabs).region.y
        assert strip.region.y < screen.query_one(ConversionsTable).region.y


# -- clicks ---------------------------------------------------------------------------

async def test_clicking_a_count_switches_the_view(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    failed = state.add_conversion(status="Failed", errors=["bad"], frozen=True)
    done = state.add_conversion(status="Completed", frozen=True)
    busy = state.add_conversion(status="Processing", frozen=True)
    app = ConversionsApp(monitor_session(ids=[failed, done, busy]))
    async with app.run_test(size=(160, 30)) as pilot:
        strip = strip_of(app)
        grid = app.screen.query_one(ConversionsTable)
        await wait_for(pilot, lambda: strip.counts[StatusKind.FAILED] == 1,
                       what="the failure counted")
        await pilot.press("p")  # quiet: no poll relabels the tabs while we click
        await pilot.click("#count-failed")
        await wait_for(pilot, lambda: app.screen.query_one(Tabs).active == "view-failed",
                       what="the Failed view")
        assert grid.visible_ids == [failed]
        await pilot.click("#count-processing")
        await wait_for(pilot, lambda: app.screen.query_one(Tabs).active == "view-active",
                       what="the Active view")
        assert grid.visible_ids == [busy]
        # Completed has no view of its own: a click changes nothing.
        await pilot.click("#count-completed")
        await pilot.pause()
        assert app.screen.query_one(Tabs).active == "view-active"
        # The number keys still choose views.
        await pilot.press("1")
        assert sorted(grid.visible_ids) == sorted([failed, done, busy])


async def test_a_count_without_a_view_posts_nothing() -> None:
    app = StripApp()
    async with app.run_test(size=(160, 3)) as pilot:
        await pilot.click("#count-completed")
        await pilot.click("#count-deleted")  # hidden (zero): nothing there to click
        await pilot.click("#count-failed")
        await pilot.pause()
        assert [(m.view, m.kind) for m in app.chosen] == [("failed", StatusKind.FAILED)]


# -- activity -------------------------------------------------------------------------

async def test_sparklines_show_the_buckets_of_the_recorded_history(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SummaryStrip, "clock", staticmethod(lambda: FIXED_NOW))
    state = sandbox.state
    a, b, c, d = (state.add_conversion(status=s, frozen=True)
                  for s in ("Completed", "Completed", "Failed", "Completed"))
    session = monitor_session(ids=[a, b, c, d])
    store = session.watchlist
    t = FIXED_NOW
    store.record_results([answer(i, "Processing", t - 90 * MINUTE) for i in (a, b, c, d)])
    store.record_results([answer(d, "Completed", t - 70 * MINUTE),     # over an hour ago
                          answer(a, "Completed", t - 5 * MINUTE),
                          answer(b, "Completed", t - 5 * MINUTE + 10),
                          answer(c, "Failed", t - 30)])                # this minute
    expected = minute_buckets(store.changes_between(*activity_window(t)), t)
    assert expected.completed[-6] == 2 and sum(expected.completed) == 2
    assert expected.failed[-1] == 1 and sum(expected.failed) == 1

    app = ConversionsApp(session)
    async with app.run_test(size=(160, 30)) as pilot:
        strip = strip_of(app)
        completed = strip.query_one("#spark-completed", Sparkline)
        failed = strip.query_one("#spark-failed", Sparkline)
        await wait_for(pilot, lambda: list(completed.data or []) == list(expected.completed),
                       what="the completions sparkline")
        assert list(failed.data or []) == list(expected.failed)
        assert strip.activity == expected
        assert completed.display and failed.display


async def test_poll_changes_reach_the_sparkline(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SummaryStrip, "min_interval", 0.2)
    state = sandbox.state
    busy = state.add_conversion(status="Processing", frozen=True)
    app = ConversionsApp(monitor_session(ids=[busy]))
    async with app.run_test(size=(160, 30)) as pilot:
        strip = strip_of(app)
        grid = app.screen.query_one(ConversionsTable)
        await wait_for(pilot, lambda: grid.rows.get(busy) is not None
                       and grid.rows[busy].status == "Processing", what="first poll")
        assert sum(strip.activity.completed) == 0  # a first sighting is no completion
        state.set_status(busy, "Completed", frozen=True)
        await wait_for(pilot, lambda: sum(strip.activity.completed) == 1,
                       what="the completion in the sparkline")
        assert strip.activity.completed[-1] == 1 or strip.activity.completed[-2] == 1


async def test_bursts_of_updates_read_the_history_once_per_interval(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SummaryStrip, "min_interval", 0.5)
    reads: list[tuple[float, float, float]] = []  # (start, end, when it was read)
    with Watchlist(tmp_path / "w.db") as store:

        def source(start: float, end: float) -> list[StatusChange]:
            reads.append((start, end, time.time()))
            return store.changes_between(start, end)

        app = StripApp(source)
        async with app.run_test(size=(160, 3)) as pilot:
            strip = app.query_one(SummaryStrip)
            await wait_for(pilot, lambda: len(reads) == 1, what="the first read")
            store.add([1], at=time.time())
            store.record_results([answer(1, "Queued", time.time())])
            store.record_results([answer(1, "Failed", time.time())])
            for _ in range(100):  # a burst of poll updates
                strip.activity_changed()
            # The last update is not lost: a (trailing) read picks it up.
            await wait_for(pilot, lambda: sum(strip.activity.failed) == 1,
                           what="the read after the burst")
            await quiet_window(pilot, 0.7)  # no more reads come
            # A hundred updates, yet at most one read at once (if the interval since the
            # first read had passed already on a slow machine) and one trailing read.
            assert 2 <= len(reads) <= 3
            # The hour up to the minute the read was made in (not the time of this
            # assertion: a run that crosses a minute boundary after the read is fine).
            start, end, read_at = reads[-1]
            assert end - start == 3600 and start <= read_at < end


# -- widths ---------------------------------------------------------------------------

def test_choose_layout_gives_up_detail_in_order() -> None:
    counts = {StatusKind.QUEUED: 3, StatusKind.PROCESSING: 12, StatusKind.COMPLETED: 140,
              StatusKind.FAILED: 12}
    assert choose_layout(200, counts) == StripLayout(False, True, False)
    assert choose_layout(100, counts) == StripLayout(False, True, True)
    assert choose_layout(80, counts) == StripLayout(True, True, True)
    assert choose_layout(50, counts) == StripLayout(True, False, True)
    assert count_text(StatusKind.FAILED, 12, compact=True) == "✘ 12"


@pytest.mark.parametrize("width", [80, 60, 40])
async def test_narrow_monitor_keeps_counts_readable(
        width: int, sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    ids = [state.add_conversion(status="Failed", errors=["x"], frozen=True),
           state.add_conversion(status="Processing", frozen=True),
           state.add_conversion(status="DeletionPending", frozen=True)]
    app = ConversionsApp(monitor_session(ids=ids))
    async with app.run_test(size=(width, 24)) as pilot:
        strip = strip_of(app)
        await wait_for(pilot, lambda: strip.counts[StatusKind.FAILED] == 1
                       and strip.counts[StatusKind.DELETING] == 1, what="counts")
        await pilot.pause()
        shown = [c for c in strip.query(KindCount) if c.display]
        assert [c.kind for c in shown] == [StatusKind.QUEUED, StatusKind.PROCESSING,
                                           StatusKind.COMPLETED, StatusKind.FAILED,
                                           StatusKind.DELETING]
        # Every count is on screen, whole, and says its number.
        for c in shown:
            assert c.region.right <= width, c.kind
            assert c.region.width == len(c.render().plain)
        assert chip_text(strip, StatusKind.FAILED).endswith("1")  # type: ignore[arg-type]
        sparks = strip.query(Sparkline)
        if width >= 80:
            assert strip.layout_now == StripLayout(True, True, True)
            assert chip_text(strip, StatusKind.FAILED) == "✘ 1"  # type: ignore[arg-type]
            assert all(s.display and s.region.width >= 10 and s.region.right <= width
                       for s in sparks)
        else:
            assert not strip.layout_now.sparklines
            assert all(s.region.width == 0 for s in sparks)
        # The views row is still there with its counts.
        labels = [str(t.label) for t in app.screen.query_one(Tabs).query("Tab")]
        assert any(label.startswith("Fail") for label in labels)  # short when narrow
