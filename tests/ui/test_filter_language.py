"""The `/` box reads the filter language (issue 14): a good filter narrows the table, a bad
term is underlined with one sentence (the view kept, nothing crashes), and a pasted ID
range is unwatched with ctrl+a then x. Driven with Pilot against the real sandbox."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from rich.style import Style
from textual.widgets import Input, Static

from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_triage_actions import (
    SIZE,
    first_poll,
    on_screen,
    plain,
    quick_keys,  # noqa: F401  (autouse: quick Pilot key presses)
    table,
)
from tui.core.filters import FILTER_TERMS, RowFilter
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.flows.filtering import PROBLEM_ID, problem_text, without_bad_terms
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.text_prompt import QuestionModal


def problem(app: ConversionsApp) -> Static:
    """The line under the filter box that names a bad term."""
    return app.screen.query_one(f"#{PROBLEM_ID}", Static)


def underlined(box: Input) -> list[str]:
    """The parts of the box's text drawn underlined."""
    text = box._value  # what the box draws, its highlighter applied
    return [text.plain[span.start:span.end] for span in text.spans
            if Style.parse(str(span.style)).underline]


async def test_a_filter_narrows_the_table_and_a_bad_term_is_underlined_with_why(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    failed = state.add_conversion(status="Failed", file_name="payroll.csv", frozen=True)
    done = state.add_conversion(status="Completed", file_name="payroll.json", frozen=True)
    other = state.add_conversion(status="Failed", file_name="stock.csv", frozen=True)
    app = ConversionsApp(monitor_session(ids=[failed, done, other]))
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [failed, done, other])
        await pilot.press("p")  # quiet: no polls while typing
        await pilot.press("slash", *"status:failed file:pay*")
        box = app.screen.query_one("#filter", Input)
        await wait_for(pilot, lambda: table(app).visible_ids == [failed],
                       what=lambda: f"only {failed} shown, not {table(app).visible_ids}")
        assert not problem(app).has_class("-shown")
        assert underlined(box) == []

        # A typo: the term is underlined, one sentence says why, the view stays as it was.
        await pilot.press(*" status:[b]fialed")
        await wait_for(pilot, lambda: problem(app).has_class("-shown"), what="the problem")
        said = plain(problem(app).render())
        assert "✘ status:[b]fialed: '[b]fialed' is not a status; use failed" in said, said
        assert underlined(box) == ["status:[b]fialed"]
        assert table(app).visible_ids == [failed]  # the other terms apply: never a blank view

        # Mended: the line goes, the underline goes, the filter applies.
        await pilot.press(*["backspace"] * len(" status:[b]fialed"))
        await pilot.press(*" -status:failed")
        await wait_for(pilot, lambda: not problem(app).has_class("-shown"),
                       what="the problem gone")
        assert underlined(box) == []
        assert table(app).visible_ids == []
        assert "Nothing matches the filter" in plain(table(app).render_line(1))

        # Free words as ever; esc clears the box, the problem and the filter.
        await pilot.press(*["backspace"] * len(box.value), *"stock")
        await wait_for(pilot, lambda: table(app).visible_ids == [other], what="free word")
        await pilot.press(*" foo:bar")
        await wait_for(pilot, lambda: problem(app).has_class("-shown"), what="unknown field")
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(table(app).visible_ids) == 3, what="cleared")
        assert not problem(app).has_class("-shown") and box.value == ""


async def test_an_id_range_then_ctrl_a_then_x_unwatches_exactly_that_range(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    inside = list(range(48200, 48301))
    outside = [48150, 48199, 48301, 48400]
    session = monitor_session(ids=inside + outside)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(table(app).rows) == len(inside) + len(outside),
                       what="every row loaded")
        await pilot.press("slash", *"id:48200-48300", "enter")
        await wait_for(pilot, lambda: table(app).visible_ids == inside,
                       what=lambda: f"the range shown ({table(app).visible_count} rows; the "
                                    f"box holds {app.screen.query_one('#filter', Input).value!r}"
                                    f", focus on {app.screen.focused!r})")
        await pilot.press("ctrl+a")
        await wait_for(pilot, lambda: table(app).marked_ids == tuple(inside),
                       what=lambda: f"the range marked ({len(table(app).marked_ids)})")
        await pilot.press("x")
        modal = await on_screen(pilot, QuestionModal, "the unwatch question")
        assert "Stop watching 101 conversions?" in plain(modal.query_one(Static).render())
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: set(table(app).rows) == set(outside),
                       what=lambda: f"only the others left: {sorted(table(app).rows)}")
        assert sorted(session.watchlist.ids()) == outside


@given(st.text(max_size=60))
@example('status:x "open')
@example("-")
@example('msg:"a\\')
def test_any_text_in_the_box_gives_a_filter_and_at_most_one_named_problem(text: str) -> None:
    rows_filter, error = without_bad_terms(text)
    assert isinstance(rows_filter, RowFilter)
    if error is not None:
        assert error.message and 0 <= error.start <= error.end <= len(text)
        assert problem_text(text, error).plain.startswith("✘ ")


async def test_help_from_the_monitor_lists_the_filter_terms(
        monitor_session: SessionFactory) -> None:
    app = ConversionsApp(monitor_session())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        help_screen = await on_screen(pilot, HelpScreen, "help")
        listed = plain(help_screen.query_one("#help-filter", Static).content)
        for example, _meaning in FILTER_TERMS:
            assert example in listed
        assert "time since upload" in listed


async def test_a_key_right_behind_the_slash_is_kept_in_the_filter(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    """A burst "/id:..." (a paste, or a busy machine): "/" and "i" both reach the table
    before the box has focus; "i" is put in the box, then the box's focus came and
    selected it, and "d" replaced it (the suite lost the "i" twice under load)."""
    from textual import events

    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(3)]
    app = ConversionsApp(monitor_session(ids=ids))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(table(app).rows) == 3, what="rows loaded")
        grid = table(app)
        assert app.screen.focused is grid
        grid.post_message(events.Key("slash", "/"))  # both queued at the table,
        grid.post_message(events.Key("i", "i"))  # as a fast burst is
        box = app.screen.query_one("#filter", Input)
        await wait_for(pilot, lambda: app.screen.focused is box and box.value == "i",
                       what=lambda: f"the box with 'i' ({box.value!r})")
        await pilot.press("d")
        await wait_for(pilot, lambda: "d" in box.value, what=lambda: repr(box.value))
        assert box.value == "id", box.value
