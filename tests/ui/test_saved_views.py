"""Saved views, the sort picker and the column chooser (issue 14), driven with Pilot
against the real sandbox: saved, then found again after a restart (a new app on the same
folders), opened with ``--view``, and still opened when they name what no longer exists."""

from __future__ import annotations

from textual.widgets import Input, Tabs

from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_triage_actions import (
    SIZE,
    first_poll,
    monitor,
    notices,
    quick_keys,  # noqa: F401  (autouse: quick Pilot key presses)
    row_line,
    table,
)
from tests.ui.test_typeahead import burst
from tui.core.savedviews import ProfileLayout, SavedView, TableLayout, load_layouts, save_layouts
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.column_chooser import ColumnChooserModal, SortPickerModal
from tui.ui.screens.text_prompt import TextPromptModal


def active_tab(app: ConversionsApp) -> str:
    """The label of the view tab shown."""
    tab = monitor(app).query_one("#views", Tabs).active_tab
    return "" if tab is None else tab.label.plain


def three(sandbox: SandboxServer) -> tuple[int, int, int]:
    """Two failed (b then a by file name) and one completed, frozen."""
    state = sandbox.state
    return (state.add_conversion(status="Failed", file_name="b-payroll.csv", frozen=True),
            state.add_conversion(status="Failed", file_name="a-stock.csv", frozen=True),
            state.add_conversion(status="Completed", file_name="c-done.csv", frozen=True))


async def test_a_saved_view_is_a_tab_and_opens_after_a_restart_with_view(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    b, a, done = three(sandbox)
    session = monitor_session(ids=[b, a, done])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [b, a, done])
        await pilot.press("p", "slash", *"status:failed", "enter")
        await wait_for(pilot, lambda: table(app).visible_ids == [b, a],
                       what=lambda: f"failed only, by ID: {table(app).visible_ids}")
        await pilot.press("o")  # sort by a chosen column: File
        await wait_for(pilot, lambda: isinstance(app.screen, SortPickerModal), what="picker")
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: table(app).visible_ids == [a, b],
                       what=lambda: f"sorted by file: {table(app).visible_ids}")
        await pilot.press("V")
        await wait_for(pilot, lambda: isinstance(app.screen, TextPromptModal), what="prompt")
        await pilot.press(*"Morning", "enter")
        await wait_for(pilot, lambda: active_tab(app) == "Morning",
                       what=lambda: f"the Morning tab shown, not {active_tab(app)!r}")
        assert "View 'Morning' saved." in notices(app)
        # Back to All: no filter, the profile's own sort (File: chosen on All).
        await pilot.press("1")
        await wait_for(pilot, lambda: table(app).visible_ids == [a, b, done],
                       what=lambda: f"all rows by file: {table(app).visible_ids}")
        assert monitor(app).query_one("#filter", Input).value == ""
    stored = load_layouts(session.paths.views_file).layout("test").view("Morning")
    assert stored == SavedView("Morning", "status:failed", TableLayout("file", False, ()))

    again = monitor_session()  # a restart: the same folders
    again.initial_view = "Morning"
    app = ConversionsApp(again)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: table(app).visible_ids == [a, b],
                       what=lambda: f"the saved view: {table(app).visible_ids}")
        assert active_tab(app) == "Morning"
        assert table(app).sort_column == "file"
        assert monitor(app).query_one("#filter", Input).value == "status:failed"
        titles = [c.title for c in monitor(app).saved_view_commands()]
        assert "View: Morning" in titles and "Sort by: Status" in titles
        # Deleted from the palette's entry: its tab goes, All is shown.
        [delete] = [c for c in monitor(app).saved_view_commands()
                    if c.title == "Delete view: Morning"]
        delete.run()
        await wait_for(pilot, lambda: active_tab(app).startswith("All"),
                       what=lambda: f"back to All, not {active_tab(app)!r}")
    assert load_layouts(again.paths.views_file).layout("test").views == ()


async def test_the_sort_chosen_is_kept_across_a_restart(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    b, a, done = three(sandbox)
    app = ConversionsApp(monitor_session(ids=[b, a, done]))
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [b, a, done])
        await pilot.press("p", "o")
        await wait_for(pilot, lambda: isinstance(app.screen, SortPickerModal), what="picker")
        await pilot.press("down", "enter", "S")  # File, then reversed
        await wait_for(pilot, lambda: table(app).sort_reverse, what="reversed")
    app = ConversionsApp(monitor_session())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: table(app).visible_ids == [done, b, a],
                       what=lambda: f"by file, descending: {table(app).visible_ids}")
        assert (table(app).sort_column, table(app).sort_reverse) == ("file", True)


async def test_an_unknown_view_says_so_in_one_sentence(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    session = monitor_session()
    session.initial_view = "Nope"
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "There is no saved view called 'Nope'." in notices(app),
                       what=lambda: f"the sentence, among {notices(app)}")
        assert active_tab(app).startswith("All")


async def test_a_saved_view_naming_a_column_or_status_gone_opens_with_a_note(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    b, a, done = three(sandbox)
    session = monitor_session(ids=[b, a, done])
    save_layouts(session.paths.views_file, "test", ProfileLayout(views=(SavedView(
        "Old", "status:archived file:a-*", TableLayout("nosuch", False,
                                                       ("id", "bogus", "status")),
        base="gone-tab"),)))
    session.initial_view = "Old"
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("View 'Old' opened" in n for n in notices(app)),
                       what=lambda: f"the note, among {notices(app)}")
        [note] = [n for n in notices(app) if "View 'Old' opened" in n]
        assert "column 'bogus' no longer exists" in note
        assert "sort column 'nosuch' no longer exists" in note
        assert "'status:archived'" in note
        assert "the view 'gone-tab' it was saved on no longer exists (All)" in note
        assert monitor(app).view_key == "all"
        await wait_for(pilot, lambda: table(app).visible_ids == [a],
                       what=lambda: f"the other term applies: {table(app).visible_ids}")
        assert table(app).shown_columns == ("id", "status")
    # Nothing the user saved was rewritten away.
    kept = load_layouts(session.paths.views_file).layout("test").view("Old")
    assert kept is not None and kept.layout.columns == ("id", "bogus", "status")


async def test_the_column_chooser_hides_shows_metadata_reorders_and_persists(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conversion = sandbox.state.add_conversion(
        status="Completed", file_name="rows.csv", frozen=True,
        metadata={"rowsRead": 4242, "externalReference": "INC-77"})
    app = ConversionsApp(monitor_session(ids=[conversion]))
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conversion])
        await wait_for(pilot, lambda: table(app).rows[conversion].metadata,
                       what="the metadata polled")
        await pilot.press("p", "h")
        await wait_for(pilot, lambda: isinstance(app.screen, ColumnChooserModal),
                       what="the chooser")
        keys = [option.id for option in app.screen.query_one("OptionList").options]
        assert keys.index("meta:rowsRead") > keys.index("ref") > keys.index("note")
        await pilot.press("down", "down", "space")  # hide Type
        # Show rowsRead, then move it up to third place (after File).
        await pilot.press(*["down"] * (keys.index("meta:rowsRead") - 2), "space")
        await pilot.press(*["left_square_bracket"] * (keys.index("meta:rowsRead") - 2))
        await pilot.press("enter")
        await wait_for(pilot, lambda: "meta:rowsRead" in table(app).shown_columns,
                       what=lambda: f"rowsRead shown: {table(app).shown_columns}")
        shown = table(app).shown_columns
        assert shown[:3] == ("id", "file", "meta:rowsRead") and "type" not in shown
        assert "4242" in row_line(app, conversion)
    app = ConversionsApp(monitor_session())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: conversion in table(app).rows, what="the row loaded")
        assert table(app).shown_columns[:3] == ("id", "file", "meta:rowsRead")
        assert "type" not in table(app).shown_columns


async def test_a_view_saved_on_a_built_in_tab_keeps_that_tab(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    b, a, done = three(sandbox)
    session = monitor_session(ids=[b, a, done])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [b, a, done])
        await pilot.press("p", "3")  # the Failed tab
        await wait_for(pilot, lambda: table(app).visible_ids == [b, a],
                       what=lambda: f"failed only: {table(app).visible_ids}")
        # The name typed in the same burst as V goes into the prompt: a would add IDs, s
        # sort. (All at once, as a fast typist's keys arrive over SSH.)
        burst(app, "VFails")
        await wait_for(pilot, lambda: isinstance(app.screen, TextPromptModal), what="prompt")
        box = app.screen.query_one(Input)
        await wait_for(pilot, lambda: box.value == "Fails", what=lambda: f"{box.value!r}")
        await pilot.press("enter")
        await wait_for(pilot, lambda: active_tab(app) == "Fails", what="the Fails tab")
    stored = load_layouts(session.paths.views_file).layout("test").view("Fails")
    assert stored is not None and (stored.base, stored.filter) == ("failed", "")
    again = monitor_session()
    again.initial_view = "Fails"
    app = ConversionsApp(again)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: table(app).visible_ids == [b, a],
                       what=lambda: f"the Failed tab under it: {table(app).visible_ids}")
        assert monitor(app).view_key == "failed" and active_tab(app) == "Fails"


async def test_a_broken_views_file_is_a_warning_and_the_defaults(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    done = sandbox.state.add_conversion(status="Completed", frozen=True)
    session = monitor_session(ids=[done])
    path = session.paths.views_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[profiles.test]\nsort = "file\n', encoding="utf-8")
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any(str(path) in n for n in notices(app)),
                       what=lambda: f"a warning naming the file, among {notices(app)}")
        [warning] = [n for n in notices(app) if str(path) in n]
        assert "line 2" in warning and "not read" in warning
        await first_poll(pilot, app, [done])
        assert (table(app).sort_column, active_tab(app)[:3]) == ("id", "All")
