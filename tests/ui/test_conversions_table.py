"""ConversionsTable: cursor, marks, filter, view, sort, layout, hostile text, scale."""

from __future__ import annotations

import random
from typing import Any

import pytest
from rich.cells import cell_len
from rich.color import Color
from textual.app import App, ComposeResult
from textual.message import Message
from textual.strip import Strip
from textual.theme import Theme

from tests.ui.conftest import wait_for
from tui.core.watchlist import WatchedConversion
from tui.ui.widgets import STATUS_VARIABLE_DEFAULTS, ConversionsTable
from tui.ui.widgets.table import view as table_view
from tui.ui.widgets.table.columns import COLUMNS
from tui.ui.widgets.table.rows import RowEntry, TableRows

NOW = 1_732_800_000.0  # frozen clock: 2024-11-28 13:20 UTC


def conversion(conversion_id: int, **changes: Any) -> WatchedConversion:
    """A watched conversion with plausible defaults; ``changes`` override fields."""
    fields: dict[str, Any] = {
        "id": conversion_id,
        "file_name": f"file-{conversion_id}.csv",
        "data_source_type": "Csv",
        "status": "Processing",
        "upload_date": "2024-11-28T09:00:00Z",
        "warnings": (),
        "errors": (),
        "metadata": {},
        "first_seen": NOW - 3600,
        "last_checked": NOW - 2,
        "last_changed": NOW - 600,
        "note": None,
        "last_problem": None,
        "problem_count": 0,
        "delete_requested_at": None,
        "deleted_at": None,
        "not_found": False,
        "raw": None,
        "entered_seen": True,
    }
    fields.update(changes)
    return WatchedConversion(**fields)


class CountingTable(ConversionsTable):
    """Counts render_line calls, to prove only visible lines are drawn."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lines_rendered: list[int] = []

    def render_line(self, y: int) -> Strip:
        self.lines_rendered.append(y)
        return super().render_line(y)


class TableApp(App[None]):
    """The table alone, with the status variables every theme must have."""

    def __init__(self, **table_options: Any) -> None:
        super().__init__()
        self.clock = [NOW]
        self.table_options = table_options
        self.messages: list[Message] = []

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **STATUS_VARIABLE_DEFAULTS}

    def compose(self) -> ComposeResult:
        yield CountingTable(now=lambda: self.clock[0], **self.table_options)

    def on_conversions_table_cursor_moved(self, message: ConversionsTable.CursorMoved) -> None:
        self.messages.append(message)

    def on_conversions_table_row_activated(self, message: ConversionsTable.RowActivated) -> None:
        self.messages.append(message)

    def on_conversions_table_sort_changed(self, message: ConversionsTable.SortChanged) -> None:
        self.messages.append(message)

    def on_conversions_table_marks_changed(self, message: ConversionsTable.MarksChanged) -> None:
        self.messages.append(message)

    @property
    def table(self) -> CountingTable:
        return self.query_one(CountingTable)


def lines(table: ConversionsTable, count: int | None = None) -> list[str]:
    """The text of the table's lines as drawn now (header first)."""
    height = table.size.height if count is None else count
    return [table.render_line(y).text for y in range(height)]


def row_line(table: ConversionsTable, conversion_id: int) -> Strip:
    """The drawn line of one conversion (it must be on screen)."""
    index = table.visible_ids.index(conversion_id)
    return table.render_line(index + 1 - table.scroll_offset.y)


async def test_cursor_stays_on_the_same_conversion_across_upsert_and_resort() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.table
        table.set_rows([conversion(i) for i in range(1, 11)])
        await pilot.pause()
        assert table.cursor_id == 1
        await pilot.press("down", "down", "down")
        assert table.cursor_id == 4
        table.sort_by("file", reverse=True)
        await pilot.pause()
        assert table.cursor_id == 4
        assert table.visible_ids.index(4) != 3  # it moved, the cursor followed it
        table.upsert([conversion(4, file_name="zzz.csv"), conversion(2, status="Failed")])
        await pilot.pause()
        assert table.cursor_id == 4
        assert table.visible_ids[0] == 4  # re-sorted: zzz first in reverse order
        assert table.cursor_id == table.visible_ids[0]


async def test_upsert_keeps_scroll_offset_and_repaints_only_changed_rows() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.table
        table.set_rows([conversion(i) for i in range(1, 501)])
        await pilot.pause()
        table.scroll_to(y=200, animate=False)
        await pilot.pause()
        assert table.scroll_offset.y == 200
        table.lines_rendered.clear()
        table.upsert([conversion(205, status="Failed"), conversion(400, status="Failed")])
        await pilot.pause()
        assert table.scroll_offset.y == 200
        assert table.lines_rendered == [205 - 200 + 1 - 1]  # only row 205's line
        assert "✘ Failed" in row_line(table, 205).text


async def test_bursts_of_upserts_are_painted_together_after_the_repaint_interval() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.table
        table.repaint_interval = 0.3
        table.set_rows([conversion(i) for i in range(1, 51)])
        await pilot.pause()
        table.lines_rendered.clear()
        table.upsert([conversion(3, status="Failed")])  # after a quiet spell: at once
        await pilot.pause()
        assert table.lines_rendered == [3]
        table.lines_rendered.clear()
        table.upsert([conversion(5, status="Failed")])
        table.upsert([conversion(7, status="Failed")])
        await pilot.pause()
        assert table.lines_rendered == []  # held back...
        assert table.rows[5].status == "Failed"  # ...but the data is there already
        await wait_for(pilot, lambda: table.lines_rendered, what="the held rows painted")
        assert sorted(table.lines_rendered) == [5, 7]  # ...then painted in one go


async def test_marks_survive_updates_sort_and_filter() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.table
        table.set_rows([conversion(i) for i in range(1, 11)])
        await pilot.pause()
        await pilot.press("space", "space")  # marks 1, steps down, marks 2
        table.toggle_mark(7)
        await pilot.pause()
        assert table.marked_ids == (1, 2, 7)
        counts = [m.count for m in app.messages if isinstance(m, ConversionsTable.MarksChanged)]
        assert counts == [1, 2, 3]
        table.upsert([conversion(2, status="Completed")])
        table.sort_by("id", reverse=True)
        table.set_filter("file-7")
        await pilot.pause()
        assert table.marked_ids == (1, 2, 7)
        assert table.targets() == [1, 2, 7]
        assert "●" in row_line(table, 7).text
        table.set_filter("")
        table.clear_marks()
        await pilot.pause()
        assert table.marked_ids == ()
        assert table.targets() == [table.cursor_id]
        table.mark_all_visible()
        assert len(table.marked_ids) == 10


async def test_filter_is_case_insensitive_across_id_file_type_status_and_note() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.table
        table.set_rows([
            conversion(101, file_name="Payroll.XLSX", data_source_type="Excel"),
            conversion(202, status="Failed"),
            conversion(303, note="Customer TICKET-9"),
            conversion(404, data_source_type="Json"),
        ])
        await pilot.pause()
        for text, expected in (
            ("payroll", [101]),
            ("FAILED", [202]),
            ("ticket-9", [303]),
            ("json", [404]),
            ("30", [303]),
            ("CSV", [202, 303, 404]),  # file names (101 is .XLSX of type Excel)
        ):
            table.set_filter(text)
            assert table.visible_ids == expected, text
        table.set_filter("no such thing")
        await pilot.pause()
        assert table.visible_count == 0
        assert table.cursor_id is None
        assert "Nothing matches the filter" in lines(table, 2)[1]
        table.set_filter("")
        assert table.visible_count == 4


async def test_view_predicate_and_upserts_moving_rows_in_and_out_of_it() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.table
        table.set_rows([conversion(i, status="Failed" if i % 3 == 0 else "Processing")
                        for i in range(1, 13)])
        table.set_view(lambda row: row.status == "Failed")
        await pilot.pause()
        assert table.visible_ids == [3, 6, 9, 12]
        assert table.cursor_id == 3
        table.upsert([conversion(3, status="Completed"), conversion(4, status="Failed")])
        await pilot.pause()
        assert table.visible_ids == [4, 6, 9, 12]
        assert table.cursor_id == 4  # its row left the view; the cursor stays in place
        table.set_view(lambda row: False, empty_message="No such rows")
        await pilot.pause()
        assert lines(table, 2)[1].strip() == "No such rows"
        table.set_view(lambda row: False)
        await pilot.pause()
        assert lines(table, 2)[1].strip() == "Nothing in this view"
        table.set_view(None)
        assert table.visible_count == 12


async def test_sort_is_typed_cycles_and_reverses() -> None:
    app = TableApp()
    async with app.run_test(size=(160, 20)) as pilot:
        table = app.table
        table.set_rows([
            conversion(100, last_changed=NOW - 50, warnings=("a",) * 2),
            conversion(9, last_changed=NOW - 7200, warnings=()),
            conversion(20, last_changed=NOW - 600, warnings=("a",) * 10),
        ])
        await pilot.pause()
        assert table.visible_ids == [9, 20, 100]  # numeric, not "100" < "20" < "9"
        table.sort_by("in_status")
        assert table.visible_ids == [100, 20, 9]  # 50s < 10m < 2h
        table.sort_by("warnings")
        assert table.visible_ids == [9, 100, 20]  # 0 < 2 < 10
        table.reverse_sort()
        assert table.visible_ids == [20, 100, 9]
        assert (table.sort_column, table.sort_reverse) == ("warnings", True)
        table.sort_by("id")
        table.cycle_sort()
        assert (table.sort_column, table.sort_reverse) == ("file", False)
        await pilot.pause()
        sorts = [(m.column, m.reverse) for m in app.messages
                 if isinstance(m, ConversionsTable.SortChanged)]
        assert sorts == [("in_status", False), ("warnings", False), ("warnings", True),
                         ("id", False), ("file", False)]
        assert "File ▲" in lines(table, 1)[0]


async def test_sort_ties_keep_a_stable_order_by_id() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.table
        table.set_rows([conversion(i, status="Failed" if i in (4, 8) else "Completed")
                        for i in (8, 3, 4, 1, 6)])
        table.sort_by("status")
        await pilot.pause()
        assert table.visible_ids == [4, 8, 1, 3, 6]  # failed first, ties by id


async def test_clicking_a_header_sorts_and_clicking_again_reverses() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.table
        table.set_rows([conversion(i, file_name=name)
                        for i, name in ((1, "b.csv"), (2, "c.csv"), (3, "a.csv"))])
        await pilot.pause()
        header = lines(table, 1)[0]
        file_x = header.index("File")
        await pilot.click(table, offset=(file_x + 1, 0))
        assert (table.sort_column, table.sort_reverse) == ("file", False)
        assert table.visible_ids == [3, 1, 2]
        await pilot.click(table, offset=(file_x + 1, 0))
        assert (table.sort_column, table.sort_reverse) == ("file", True)
        assert table.visible_ids == [2, 1, 3]
        await pilot.pause()
        assert "File ▼" in lines(table, 1)[0]
        await pilot.click(table, offset=(2, 3))  # third row
        assert table.cursor_id == 3


async def test_enter_activates_and_cursor_moves_are_announced() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 10)) as pilot:
        table = app.table
        table.set_rows([conversion(i) for i in range(1, 51)])
        table.focus()
        await pilot.pause()
        await pilot.press("end")
        assert table.cursor_id == 50
        assert table.scroll_offset.y > 0
        await pilot.press("home", "pagedown")
        page = table.scrollable_content_region.height - 1
        assert table.cursor_id == 1 + page
        await pilot.press("up", "enter")
        await pilot.pause()
        activated = [m.conversion_id for m in app.messages
                     if isinstance(m, ConversionsTable.RowActivated)]
        assert activated == [page]
        moved = [m.conversion_id for m in app.messages
                 if isinstance(m, ConversionsTable.CursorMoved)]
        assert moved == [1, 50, 1, 1 + page, page]
        ids = {binding.id for binding in table.BINDINGS if hasattr(binding, "id")}
        assert {"mark", "activate", "cursor-up", "cursor-down"} <= ids


async def test_narrow_widths_drop_columns_by_priority_and_keep_id_status_file() -> None:
    app = TableApp()
    async with app.run_test(size=(200, 12)) as pilot:
        table = app.table
        table.set_rows([conversion(i, file_name="quarterly-report-final-v2.csv", note="n")
                        for i in range(1, 4)])
        await pilot.pause()
        # Every column but Problem and Ack: no row has a problem, none is acknowledged.
        assert table.shown_columns == tuple(c.key for c in COLUMNS if not c.only_filled)
        dropped: list[str] = []
        previous = set(table.shown_columns)
        for width in [*range(200, 33, -5), 33]:  # 33: ID, Status and File at their minimum
            await pilot.resize_terminal(width, 12)
            await pilot.pause()
            shown = set(table.shown_columns)
            assert shown <= previous  # nothing comes back while narrowing
            dropped.extend(sorted(previous - shown, key=lambda k: -_priority(k)))
            previous = shown
            for line in lines(table):
                assert cell_len(line) == table.scrollable_content_region.width
        assert {"id", "status", "file"} <= previous
        assert dropped == sorted(dropped, key=lambda k: -_priority(k))
        assert "note" in dropped and "uploaded" in dropped
        line = lines(table, 2)[1]
        assert "1" in line and "◐" in line and "…" in line  # File ellipsised, not dropped


def _priority(key: str) -> int:
    """The rank of ``key`` with notes present (as in the test above)."""
    return next(column.priority_for({"note"}) for column in COLUMNS if column.key == key)


async def test_file_shrinks_before_any_column_is_dropped() -> None:
    app = TableApp()
    async with app.run_test(size=(200, 12)) as pilot:
        table = app.table
        table.set_rows([conversion(1, file_name="x" * 50)])
        await pilot.pause()
        all_columns = table.shown_columns
        await pilot.resize_terminal(120, 12)
        await pilot.pause()
        assert table.shown_columns == all_columns
        assert "…" in lines(table, 2)[1]  # the file name gave way first


HOSTILE = (
    "[/]",
    "[bold red]x",
    "\x1b[31mred\x1b]52;c;SGVsbG8=\x07",
    "\u202eevil",
)


async def test_hostile_server_text_renders_literally() -> None:
    app = TableApp()
    async with app.run_test(size=(160, 12)) as pilot:
        table = app.table
        table.set_rows([
            conversion(i + 1, file_name=name, status=name, note=name, data_source_type=name)
            for i, name in enumerate(HOSTILE)
        ])
        await pilot.pause()
        texts = [row_line(table, i + 1).text for i in range(len(HOSTILE))]
        assert "[/]" in texts[0]
        assert "[bold red]x" in texts[1]
        assert "␛[31mred␛]52;c;SGVsbG8=␇" in texts[2]
        assert "<U+202E>evil" in texts[3]
        for strip in (row_line(table, i + 1) for i in range(len(HOSTILE))):
            text = "".join(segment.text for segment in strip)
            for bad in ("\x1b", "\x07", "\u202e"):
                assert bad not in text
            assert strip.cell_length == table.scrollable_content_region.width


async def test_wide_characters_keep_columns_aligned() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.table
        table.set_rows([
            conversion(1, file_name="plain.csv"),
            conversion(2, file_name="日本語のファイル名がとても長いです名前.csv"),
            conversion(3, file_name="🎉🎉🎉 party 🎉.csv"),
        ])
        await pilot.pause()
        status_columns = set()
        for conversion_id in (1, 2, 3):
            strip = row_line(table, conversion_id)
            assert strip.cell_length == table.scrollable_content_region.width
            text = strip.text
            cells_before_status = cell_len(text[: text.index("◐")])
            status_columns.add(cells_before_status)
        assert len(status_columns) == 1


async def test_empty_table_says_how_to_add_ids() -> None:
    app = TableApp()
    async with app.run_test(size=(100, 8)) as pilot:
        await pilot.pause()
        assert "No conversions watched yet — press a to add IDs" in lines(app.table, 2)[1]
        assert app.table.cursor_id is None
        assert app.table.targets() == []


async def test_remove_keeps_the_cursor_sensible() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.table
        table.set_rows([conversion(i) for i in range(1, 6)])
        table.move_cursor(3)
        table.toggle_mark(3)
        table.toggle_mark(1)
        table.remove_rows([3])
        await pilot.pause()
        assert table.cursor_id == 4  # the row that took its place
        assert table.marked_ids == (1,)
        table.remove_rows([4, 5])
        assert table.cursor_id == 2  # clamped to the last row
        table.remove_rows([1, 2])
        await pilot.pause()
        assert table.cursor_id is None
        assert table.marked_ids == ()
        assert "No conversions watched yet" in lines(table, 2)[1]
        assert 3 not in table.rows


async def test_ten_thousand_rows_render_only_visible_lines() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.table
        table.set_rows([conversion(i) for i in range(1, 10_001)])
        await pilot.pause()
        assert table.visible_count == 10_000
        assert len(table.rows) == 10_000
        assert table.virtual_size.height == 10_001
        table.lines_rendered.clear()
        table.refresh()
        await pilot.pause()
        height = table.size.height
        assert 0 < len(table.lines_rendered) <= height
        assert max(table.lines_rendered) < height
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_id == 10_000
        assert "10000" in lines(table)[-1]


async def test_repainting_unchanged_rows_reuses_their_cached_strips(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: list[int] = []
    real_draw_row = table_view.draw_row

    def counting_draw_row(entry: RowEntry, *args: Any, **kwargs: Any) -> Strip:
        drawn.append(entry.row.id)
        return real_draw_row(entry, *args, **kwargs)

    monkeypatch.setattr(table_view, "draw_row", counting_draw_row)
    app = TableApp()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.table
        table.set_rows([conversion(i) for i in range(1, 100)])
        await pilot.pause()
        on_screen = table.size.height - 1  # below the header
        assert sorted(set(drawn)) == list(range(1, on_screen + 1))
        drawn.clear()
        table.refresh()
        await pilot.pause()
        assert drawn == []
        table.upsert([conversion(4, status="Failed")])
        await pilot.press("down")
        await pilot.pause()
        assert sorted(drawn) == [1, 2, 4]  # the changed row and the cursor's old and new


async def test_time_in_a_status_not_seen_entered_is_at_least_or_at_most() -> None:
    app = TableApp(poll_interval=5.0)
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.table
        table.set_rows([
            conversion(1, last_changed=NOW - 600),
            conversion(2, last_changed=NOW - 600, entered_seen=False, status="Completed"),
            conversion(3, last_changed=NOW - 2, entered_seen=False),
            conversion(4, last_changed=None, entered_seen=False, status=None),
            conversion(5, last_changed=NOW - 2, entered_seen=False, upload_date=None),
        ])
        await pilot.pause()
        cells = [row_line(table, number).text.split() for number in (1, 2, 3, 4, 5)]
        assert "10m" in cells[0] and not any(c[0] in "≥≤" for c in cells[0] if c)
        assert "≥10m" in cells[1]  # Completed at the first answer: since when is unknown
        # Processing at the first answer, uploaded at 09:00 (4 h 20 min ago): in flight
        # since the upload at most (issue 13: stuck is judged from that).
        assert "≤4h" in cells[2]
        assert not any(c[0] in "≥≤" for c in cells[3] if c)  # no answer yet: no time
        assert "≥0s" in cells[4]  # in flight, but no upload time to go by


async def test_relative_times_refresh_only_changed_visible_rows_and_stale_is_styled() -> None:
    app = TableApp(poll_interval=5.0)
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.table
        table.set_rows([
            conversion(1, last_checked=NOW - 3, last_changed=NOW - 30),
            conversion(2, last_checked=NOW - 3600, last_changed=NOW - 7200),
            conversion(3, last_checked=None, last_changed=None),
        ])
        await pilot.pause()
        first = row_line(table, 1).text
        assert "30s" in first and "<5s" in first  # ages move in 5 s steps
        assert "1h 00m" in row_line(table, 2).text
        assert "—" in row_line(table, 3).text
        table.lines_rendered.clear()
        app.clock[0] += 1
        table.refresh_clock()  # within the same 5 s step: nothing to repaint
        await pilot.pause()
        assert table.lines_rendered == []
        app.clock[0] += 4
        table.refresh_clock()
        await pilot.pause()
        assert table.lines_rendered == [1]  # only row 1 shows seconds
        assert "35s" in row_line(table, 1).text and "5s" in row_line(table, 1).text
        # Checked 3,600 s ago > 3 poll intervals: the stale style, from the theme.
        stale = table.get_component_rich_style("conversions-table--stale")
        checked = [s for s in row_line(table, 2) if s.text.strip() == "1h 00m"]
        fresh = [s for s in row_line(table, 1) if s.text.strip() == "5s"]
        assert checked and checked[0].style is not None and fresh
        assert checked[0].style.color == stale.color
        assert fresh[0].style is not None and fresh[0].style.color != stale.color


async def test_checked_is_stale_against_the_rows_own_interval() -> None:
    # Completed rows are re-checked every settled interval (10 min here): checked two
    # minutes ago is on time, not amber. A Processing row polled every 5 s is stale then.
    app = TableApp(poll_interval=5.0, settled_interval=600.0)
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.table
        table.set_rows([
            conversion(1),  # the cursor's row: drawn in the cursor's colours
            conversion(2, status="Processing", last_checked=NOW - 120),
            conversion(3, status="Completed", last_checked=NOW - 120),
            conversion(4, status="Completed", last_checked=NOW - 3 * 600 - 60),
        ])
        await pilot.pause()
        stale = table.get_component_rich_style("conversions-table--stale").color

        def checked_colour(number: int, text: str) -> object:
            cells = [s for s in row_line(table, number) if s.text.strip() == text]
            assert cells, f"no {text!r} cell in row {number}: {row_line(table, number).text!r}"
            return cells[0].style.color if cells[0].style is not None else None

        assert checked_colour(2, "2m") == stale
        assert checked_colour(3, "2m") != stale
        assert checked_colour(4, "31m") == stale


async def test_status_colours_come_from_theme_variables() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.table
        table.set_rows([conversion(1, status="Failed"), conversion(2, status="Sideways"),
                        conversion(3)])
        table.move_cursor(3)
        await pilot.pause()
        failed = next(s for s in row_line(table, 1) if "Failed" in s.text)
        unknown = next(s for s in row_line(table, 2) if "Sideways" in s.text)
        assert "• Sideways" in unknown.text  # unknown words shown as they came
        assert failed.style is not None and unknown.style is not None
        assert failed.style.color == Color.parse(STATUS_VARIABLE_DEFAULTS["status-failed"])
        assert unknown.style.color == Color.parse(STATUS_VARIABLE_DEFAULTS["status-unknown"])


async def test_a_theme_change_recolours_rows_already_drawn() -> None:
    app = TableApp()
    app.register_theme(Theme(name="alarm", primary="#004578", dark=True,
                             variables={"status-failed": "#00ff00"}))
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.table
        table.set_rows([conversion(1), conversion(2, status="Failed")])
        await pilot.pause()
        before = next(s for s in row_line(table, 2) if "Failed" in s.text)
        assert before.style is not None
        assert before.style.color == Color.parse(STATUS_VARIABLE_DEFAULTS["status-failed"])
        app.theme = "alarm"
        await pilot.pause()
        after = next(s for s in row_line(table, 2) if "Failed" in s.text)
        assert after.style is not None and after.style.color == Color.parse("#00ff00")


async def test_focus_changes_the_cursor_style_without_stale_strips() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.table
        table.set_rows([conversion(1), conversion(2)])
        table.blur()
        await pilot.pause()
        blurred = list(row_line(table, 1))[1].style
        table.focus()
        await pilot.pause()
        focused = list(row_line(table, 1))[1].style
        assert blurred != focused
        assert focused == table.get_component_rich_style("conversions-table--cursor")


async def test_move_cursor_far_down_right_after_set_rows_scrolls_to_it() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.table
        table.set_rows([conversion(i) for i in range(1, 10_001)])
        assert table.move_cursor(9_000)
        assert not table.move_cursor(20_000)
        await pilot.pause()
        assert table.cursor_id == 9_000
        assert any(line.lstrip().startswith("9000 ") for line in lines(table))


def test_big_and_small_upserts_keep_the_same_order_as_sorting_from_scratch() -> None:
    rng = random.Random(11)
    statuses = ("Failed", "Processing", "Completed", "Queued", "Odd")
    rows = TableRows()
    rows.set_rows([conversion(i, status=rng.choice(statuses), last_changed=NOW - rng.randrange(999))
                   for i in range(1, 2_001)])
    rows.set_filter("ED")  # Failed, Completed and Queued only
    rows.sort_by("in_status", reverse=True)
    for size in (5, 300, 1, 1_000):  # both the one-by-one and the merge path
        rows.upsert([conversion(i, status=rng.choice(statuses),
                                last_changed=NOW - rng.randrange(999))
                     for i in rng.sample(range(1, 2_500), size)])
        shown = [e for e in rows.entries.values() if "ed" in e.row.status.lower()]
        expected = [e.row.id for e in sorted(
            shown, key=lambda e: (e.row.last_changed is None, -e.row.last_changed, e.row.id),
            reverse=True)]
        assert list(rows.shown_ids()) == expected
        assert rows.index_of(expected[-1]) == len(expected) - 1


def test_repeated_ids_in_a_batch_and_big_removals_keep_the_order_exact() -> None:
    # The sorted order is edited by splicing (no full re-sort): an id twice in one batch,
    # rows leaving the filter, and removing thousands at once must still match a sort
    # from scratch.
    rng = random.Random(5)
    statuses = ("Failed", "Processing", "Completed", "Queued")
    rows = TableRows()
    rows.set_rows([conversion(i, status=rng.choice(statuses), last_changed=NOW - i)
                   for i in range(1, 5_001)])
    rows.set_filter("ed")
    rows.sort_by("in_status", reverse=False)

    def expected() -> list[int]:
        shown = [e for e in rows.entries.values() if "ed" in e.row.status.lower()]
        return [e.row.id for e in sorted(shown, key=lambda e: (-e.row.last_changed, e.row.id))]

    batch = [conversion(i, status=rng.choice(statuses), last_changed=NOW - rng.randrange(9_999))
             for i in rng.sample(range(1, 6_000), 800)]
    batch += [conversion(batch[0].id, status="Processing", last_changed=NOW),
              conversion(batch[1].id, status="Failed", last_changed=NOW - 1)]
    rows.upsert(batch)
    assert list(rows.shown_ids()) == expected()
    assert rows.entries[batch[0].id].row.status == "Processing"  # the last one counts
    gone = rows.remove(rng.sample(range(1, 7_000), 3_000))
    assert len(gone) == len(set(gone)) and not set(gone) & set(rows.entries)
    assert list(rows.shown_ids()) == expected()
    assert all(rows.index_of(i) == n for n, i in enumerate(expected()))


# -- rows not answered yet, problems, notes, the cursor after a resize ------------------

async def test_a_row_never_answered_for_says_checking_not_unknown() -> None:
    app = TableApp()
    async with app.run_test(size=(160, 8)) as pilot:
        table = app.table
        table.set_rows([conversion(1, status=None, last_checked=None, file_name=None,
                                   data_source_type=None, upload_date=None),
                        conversion(2, status="Sideways")])
        await pilot.pause()
        waiting = row_line(table, 1).text
        assert "↻ checking…" in waiting
        assert "•" not in waiting and "Unknown" not in waiting
        assert "• Sideways" in row_line(table, 2).text  # an unknown word stays itself


async def test_the_problem_column_shows_why_checks_fail_literally() -> None:
    app = TableApp()
    async with app.run_test(size=(160, 8)) as pilot:
        table = app.table
        table.set_rows([conversion(1), conversion(2)])
        await pilot.pause()
        assert "problem" not in table.shown_columns  # no problem anywhere: no column
        hostile = "[/]502 \x1b[31m[b]x\u202e"
        table.upsert([conversion(1, last_problem=hostile, problem_count=2)])
        await pilot.pause()
        assert "problem" in table.shown_columns
        assert "Problem" in lines(table, 1)[0]
        strip = row_line(table, 1)
        assert "⚠ [/]502 ␛[31m[b]x<U+202E>" in strip.text
        for bad in ("\x1b", "\u202e"):
            assert bad not in "".join(segment.text for segment in strip)
        problem_slot = next(slot for slot in table._slots if slot.column.key == "problem")
        clean = row_line(table, 2).text
        assert clean[problem_slot.x:problem_slot.x + problem_slot.width].strip() == ""
        # The check goes through again: the problem, and then the column, go.
        table.upsert([conversion(1)])
        await pilot.pause()
        assert "problem" not in table.shown_columns


async def test_at_80_columns_notes_and_problems_outrank_type() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 8)) as pilot:
        table = app.table
        table.set_rows([conversion(1), conversion(2)])
        await pilot.pause()
        assert "type" in table.shown_columns and "note" not in table.shown_columns
        table.upsert([conversion(2, note="TCK-1042 (uploaded)")])
        await pilot.pause()
        shown = table.shown_columns
        assert "note" in shown, shown
        assert "TCK-1042" in row_line(table, 2).text
        table.upsert([conversion(1, last_problem="no access to this conversion (HTTP 403)",
                                 problem_count=1)])
        await pilot.pause()
        shown = table.shown_columns
        assert {"problem", "note"} <= set(shown), shown
        assert "type" not in shown  # Type gave way, not the ticket number
        assert "⚠ no acc" in row_line(table, 1).text


async def test_the_cursor_row_stays_in_sight_after_a_resize() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.table
        table.set_rows([conversion(i) for i in range(1, 101)])
        table.focus()
        table.move_cursor(80)
        await pilot.pause()
        assert table.cursor_in_sight
        for size in ((60, 15), (80, 24), (60, 8), (120, 40)):
            await pilot.resize_terminal(*size)
            await wait_until(pilot, lambda: table.cursor_in_sight)
            index = table.visible_ids.index(80)
            top = table.scroll_offset.y
            assert top <= index < top + table.size.height - 1, (size, top, index)
        # Scrolled away (the mouse wheel): out of sight until asked back.
        table.scroll_to(y=0, animate=False, force=True)
        await pilot.pause()
        assert not table.cursor_in_sight
        table.scroll_cursor_into_sight()
        await pilot.pause()
        assert table.cursor_in_sight


async def wait_until(pilot: Any, condition: Any, timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds (generous bound for a loaded machine)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await pilot.pause(0.02)


async def test_a_kept_rows_view_sees_the_rows_that_replaced_it() -> None:
    # The view taken before the first load (as a test or a flow may keep it) must not
    # stay on the rows from before set_rows: it once did, and a wait on it never ended.
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.table
        kept = table.rows
        assert len(kept) == 0
        table.set_rows([conversion(1), conversion(2, status="Failed")])
        table.upsert([conversion(3, last_problem="no access to this conversion (HTTP 403)")])
        await pilot.pause()
        assert sorted(kept) == [1, 2, 3]
        assert kept[2].status == "Failed" and 3 in kept
        assert kept[3].last_problem == "no access to this conversion (HTTP 403)"
        table.remove_rows([1])
        assert 1 not in kept and len(kept) == 2
