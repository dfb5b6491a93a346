"""The inspect modal's timeline bar: cells to scale, colours from the theme, literal words."""

from __future__ import annotations

from collections import Counter

import pytest
from rich.color import Color as RichColor
from textual.app import App, ComposeResult
from textual.color import Color
from textual.geometry import Region
from textual.strip import Strip
from textual.theme import Theme

from tui.core.triage import StatusSpan, time_in_statuses
from tui.core.watchlist import WatchedConversion
from tui.ui.screens.inspect import InspectModal
from tui.ui.widgets.table.conversions_table import STATUS_VARIABLE_DEFAULTS
from tui.ui.widgets.timeline_bar import TimelineBar, allocate_cells, fit_cells

T0 = 1_700_000_000.0
MIN = 60.0


def spans(*parts: tuple[str, float]) -> list[StatusSpan]:
    """Back-to-back spans from (status, minutes) pairs, starting at T0."""
    out, start = [], T0
    for status, minutes in parts:
        out.append(StatusSpan(status, start, start + minutes * MIN, minutes * MIN))
        start += minutes * MIN
    return out


class BarApp(App[None]):
    """A timeline bar alone, with the status variables the app's themes provide."""

    def __init__(self, bar_spans: list[StatusSpan]) -> None:
        super().__init__()
        self.bar_spans = bar_spans

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **STATUS_VARIABLE_DEFAULTS}

    def compose(self) -> ComposeResult:
        yield TimelineBar(self.bar_spans)


def painted(bar: TimelineBar) -> list[Strip]:
    """The two lines as the widget paints them."""
    width = bar.content_region.width
    return bar.render_lines(Region(0, 0, width, 2))


def cells_by_background(strip: Strip) -> Counter[RichColor | None]:
    counts: Counter[RichColor | None] = Counter()
    for segment in strip:
        if segment.style is not None and segment.text:
            counts[segment.style.bgcolor] += len(segment.text)
    return counts


def theme_colour(name: str) -> RichColor:
    return Color.parse(STATUS_VARIABLE_DEFAULTS[name]).rich_color


async def test_ten_minutes_queued_and_thirty_processing_at_forty_cells() -> None:
    app = BarApp(spans(("Queued", 10), ("Processing", 30)))
    async with app.run_test(size=(40, 4)) as pilot:
        await pilot.pause()
        bar = app.query_one(TimelineBar)
        assert bar.content_region.width == 40
        assert bar.segment_widths() == [10, 30]
        top, bottom = painted(bar)
        assert top.text == "◌ Queued  ◐ Processing".ljust(40)
        cells = cells_by_background(top)
        assert cells[theme_colour("status-queued")] == 10
        assert cells[theme_colour("status-processing")] == 30
        # Durations sit under their segments.
        assert bottom.text == "10 min".ljust(10) + "30 min".ljust(30)


async def test_a_theme_recolours_the_bar() -> None:
    app = BarApp(spans(("Failed", 5)))
    app.register_theme(Theme(name="alarm", primary="#004578", dark=True,
                             variables={"status-failed": "#00ff00"}))
    async with app.run_test(size=(30, 4)) as pilot:
        await pilot.pause()
        bar = app.query_one(TimelineBar)
        assert cells_by_background(painted(bar)[0]) == {theme_colour("status-failed"): 30}
        app.theme = "alarm"
        await pilot.pause()
        assert cells_by_background(painted(bar)[0]) == {Color.parse("#00ff00").rich_color: 30}


async def test_hostile_status_words_are_drawn_literally() -> None:
    hostile = "[bold red]Done[/]\x1b[2J\u202e"
    app = BarApp(spans((hostile, 20), ("Completed", 20)))
    async with app.run_test(size=(80, 4)) as pilot:
        await pilot.pause()
        bar = app.query_one(TimelineBar)
        top = painted(bar)[0].text
        assert "• [bold red]Done[/]" in top  # unknown kind's symbol, markup kept as text
        assert "\x1b" not in top and "\u202e" not in top
        assert "✔ Completed" in top
        assert cells_by_background(painted(bar)[0])[theme_colour("status-unknown")] == 40


async def test_narrow_segments_keep_their_symbol_and_no_history_says_so() -> None:
    app = BarApp(spans(("Queued", 1), ("Processing", 1), ("Failed", 58)))
    async with app.run_test(size=(30, 4)) as pilot:
        await pilot.pause()
        bar = app.query_one(TimelineBar)
        assert bar.segment_widths() == [1, 1, 28]
        top = painted(bar)[0].text
        assert top.startswith("◌◐✘ Failed")
        bar.spans = []
        await pilot.pause()
        assert painted(bar)[0].text.startswith("(no status recorded yet)")


@pytest.mark.parametrize(("seconds", "width", "expected"), [
    ([600, 1800], 40, [10, 30]),
    ([1, 1, 1], 10, [3, 3, 4]),          # leftover goes to the later span
    ([0, 0], 9, [4, 5]),                 # no time at all: shared evenly
    ([1, 10_000], 20, [1, 19]),          # a blink still gets a cell
    ([5, 5, 5], 2, [0, 1, 1]),           # fewer cells than spans: proportions only
    ([], 10, []),
    ([3, 4], 0, [0, 0]),
])
def test_allocate_cells(seconds: list[float], width: int, expected: list[int]) -> None:
    cells = allocate_cells(seconds, width)
    assert cells == expected
    assert sum(cells) == (width if seconds else 0)


def test_fit_cells_counts_wide_characters() -> None:
    assert fit_cells("abc", 5) == "abc  "
    assert fit_cells("abcdef", 4) == "abc…"
    assert fit_cells("日本語", 4) == "日 …"  # a wide character is never cut in half
    assert fit_cells("x", 0) == ""


async def test_inspect_history_tab_shows_the_bar_above_the_table() -> None:
    row = WatchedConversion(
        id=7, file_name="a.csv", data_source_type="Csv", status="Processing",
        upload_date=None, warnings=(), errors=(), metadata={}, first_seen=T0,
        last_checked=T0 + 40 * MIN, last_changed=T0 + 10 * MIN, note=None, last_problem=None,
        problem_count=0, delete_requested_at=None, deleted_at=None, not_found=False, raw=None)
    history = [("Queued", T0), ("Processing", T0 + 10 * MIN)]

    class InspectApp(BarApp):
        def on_mount(self) -> None:
            self.push_screen(InspectModal(row, history, now=T0 + 40 * MIN))

    app = InspectApp([])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, InspectModal)
        modal.query_one("TabbedContent").active = "history"  # type: ignore[attr-defined]
        await pilot.pause()
        bar = modal.query_one("#timeline", TimelineBar)
        assert bar.spans == tuple(time_in_statuses(history, T0 + 40 * MIN))
        widths = bar.segment_widths()
        assert sum(widths) == bar.content_region.width
        assert widths[1] == pytest.approx(3 * widths[0], abs=1)
        table = modal.query_one("#history .overview")
        assert bar.region.y < table.region.y
