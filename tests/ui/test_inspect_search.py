"""Searching the Warnings and Errors tabs of Inspect, driven with Pilot against the sandbox.

Reported: "Searching in Inspect takes over the keys after Esc, and an empty result shows a
stray '1'": after `/ col Esc` the `c` went into the search box instead of copying, it took
two Esc to close Inspect, a search with no match read "0 of 1 errors" above a numbered
empty row, and one match read "1 errors".
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Static, TabbedContent, Tabs, TextArea

from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_triage_actions import (
    SIZE,
    Terminal,
    monitor,
    on_screen,
    quick_keys,  # noqa: F401  (autouse: quick Pilot key presses)
    status_of,
    table,
)
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.inspect import InspectModal, MessageList
from tui.ui.screens.monitor import MonitorScreen

ERRORS = ["Row 3: column 'amount' is empty", "Row 8: column 'date' is unreadable",
          "Row 9: too many fields"]


def count_line(listing: MessageList) -> str:
    """The line above the list: how many messages, or that none match."""
    return str(listing.query_one("#count", Static).content)


def search_box(listing: MessageList) -> Input:
    """The list's search box."""
    return listing.query_one(Input)


def hint_line(modal: InspectModal) -> str:
    """The keys line at the bottom of Inspect."""
    return str(modal.query_one("#keys", Static).content)


async def open_errors_tab(pilot: Pilot[Any], app: ConversionsApp,
                          conversion_id: int) -> tuple[InspectModal, MessageList]:
    """As the user did: Failed view, `enter` on the failed row, `→ →` to the Errors tab."""
    await wait_for(pilot, lambda: status_of(app, conversion_id) == "Failed",
                   what="poll: Failed")
    await pilot.press("3")  # the Failed view
    await wait_for(pilot, lambda: table(app).visible_ids == [conversion_id],
                   what=lambda: f"the Failed view ({table(app).visible_ids})")
    await pilot.press("enter")
    modal: InspectModal = await on_screen(pilot, InspectModal)
    tabs = modal.query_one(TabbedContent)
    await pilot.press("right", "right")
    await wait_for(pilot, lambda: tabs.active == "errors",
                   what=lambda: f"the Errors tab (on {tabs.active!r})")
    return modal, modal.query_one("#error-list", MessageList)


async def test_escape_ends_the_search_and_gives_the_keys_back(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Failed", errors=ERRORS, frozen=True)
    app = ConversionsApp(monitor_session(ids=[conv]))
    async with app.run_test(size=SIZE) as pilot:
        modal, errors = await open_errors_tab(pilot, app, conv)
        tabs = modal.query_one(TabbedContent)
        await pilot.press("slash", *"col")
        await wait_for(pilot, lambda: count_line(errors) == "2 of 3 errors",
                       what=lambda: f"the search narrowed (count: {count_line(errors)!r})")
        # While typing, the hint line says what escape does there.
        assert hint_line(modal) == InspectModal.SEARCH_KEYS

        await pilot.press("escape")  # clears the search, and leaves the search box
        await wait_for(pilot, lambda: errors.text == "\n".join(ERRORS),
                       what=lambda: f"all errors back (shown: {errors.text!r})")
        assert isinstance(app.screen, InspectModal), "the first escape closed Inspect"
        assert search_box(errors).value == ""
        assert not isinstance(modal.focused, Input), modal.focused
        assert count_line(errors) == "3 errors"
        assert hint_line(modal) == InspectModal.KEYS

        # c copies (the whole tab: the search is gone), and does not type into the box.
        terminal = Terminal(app)
        await pilot.press("c")
        await wait_for(pilot, terminal.copied,
                       what=lambda: f"a copy (search box: {search_box(errors).value!r})")
        assert terminal.copied() == ["\n".join(ERRORS)]
        assert search_box(errors).value == ""

        # The tab keys switch tabs again.
        await pilot.press("left")
        await wait_for(pilot, lambda: tabs.active == "warnings",
                       what=lambda: f"← to Warnings (on {tabs.active!r}, "
                                    f"search box: {search_box(errors).value!r})")
        await pilot.press("right")
        await wait_for(pilot, lambda: tabs.active == "errors",
                       what=lambda: f"→ back to Errors (on {tabs.active!r})")

        # A second escape closes Inspect; then `1` is the monitor's All view again.
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen, "Inspect closed by the second escape")
        await pilot.press("1")
        await wait_for(pilot, lambda: set(table(app).visible_ids) == {conv}
                       and monitor(app).query_one("#views", Tabs).active == "view-all",
                       what="the All view after `1`")


async def test_enter_keeps_the_search_and_gives_the_keys_back(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Failed", errors=ERRORS, frozen=True)
    app = ConversionsApp(monitor_session(ids=[conv]))
    async with app.run_test(size=SIZE) as pilot:
        modal, errors = await open_errors_tab(pilot, app, conv)
        await pilot.press("slash", *"col")
        await wait_for(pilot, lambda: count_line(errors) == "2 of 3 errors",
                       what=lambda: f"the search narrowed (count: {count_line(errors)!r})")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(modal.focused, Input),
                       what=lambda: f"out of the search box (focus: {modal.focused!r})")
        terminal = Terminal(app)
        await pilot.press("c")  # copies what the search left
        await wait_for(pilot, terminal.copied, what="a copy")
        assert terminal.copied() == ["\n".join(ERRORS[:2])]
        assert search_box(errors).value == "col"
        await pilot.press("escape")  # not in the search box: closes at once
        await on_screen(pilot, MonitorScreen, "Inspect closed")


async def test_escape_in_an_empty_search_box_leaves_it_then_closes(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Failed", errors=ERRORS, frozen=True)
    app = ConversionsApp(monitor_session(ids=[conv]))
    async with app.run_test(size=SIZE) as pilot:
        modal, _errors = await open_errors_tab(pilot, app, conv)
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(modal.focused, Input), what="in the search box")
        await pilot.press("escape")  # changed my mind: back to the tab, Inspect stays
        await wait_for(pilot, lambda: not isinstance(modal.focused, Input),
                       what=lambda: f"out of the search box (focus: {modal.focused!r})")
        assert isinstance(app.screen, InspectModal)
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen, "Inspect closed by the second escape")


async def test_a_search_without_match_says_so_with_no_numbered_empty_row(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Failed", errors=ERRORS[:1], frozen=True)
    app = ConversionsApp(monitor_session(ids=[conv]))
    async with app.run_test(size=SIZE) as pilot:
        _modal, errors = await open_errors_tab(pilot, app, conv)
        listing = errors.query_one(TextArea)
        await pilot.press("slash", *"czzz")
        await wait_for(pilot, lambda: count_line(errors) == "No errors match 'czzz'",
                       what=lambda: f"the no-match sentence (count: {count_line(errors)!r})")
        # No list drawn below it (an empty TextArea still draws line number 1).
        assert not listing.display, "an empty numbered row is drawn below the sentence"
        assert errors.text == ""

        # What was typed is shown literally, markup and all.
        await pilot.press(*["backspace"] * 4, *"[b]x")
        await wait_for(pilot, lambda: count_line(errors) == "No errors match '[b]x'",
                       what=lambda: f"the sentence, literally (count: {count_line(errors)!r})")

        # A match again: the list is back, the count singular.
        await pilot.press(*["backspace"] * 4, *"amount")
        await wait_for(pilot, lambda: count_line(errors) == "1 error",
                       what=lambda: f"one match (count: {count_line(errors)!r})")
        assert listing.display and errors.text == ERRORS[0]


async def test_counts_are_singular_for_one_and_plural_otherwise(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(
        status="Failed", errors=ERRORS[:1], warnings=["Row 2: date guessed", "Row 5: trimmed"],
        frozen=True)
    app = ConversionsApp(monitor_session(ids=[conv]))
    async with app.run_test(size=SIZE) as pilot:
        modal, errors = await open_errors_tab(pilot, app, conv)
        assert count_line(errors) == "1 error"
        warnings = modal.query_one("#warning-list", MessageList)
        assert count_line(warnings) == "2 warnings"
        modal.query_one(TabbedContent).active = "warnings"
        await pilot.pause()
        await pilot.press("slash", *"trim")
        await wait_for(pilot, lambda: count_line(warnings) == "1 of 2 warnings",
                       what=lambda: f"one of two (count: {count_line(warnings)!r})")
        await pilot.press(*["backspace"] * 4, *"row 9")
        await wait_for(pilot, lambda: count_line(warnings) == "No warnings match 'row 9'",
                       what=lambda: f"no warning matches (count: {count_line(warnings)!r})")


async def test_an_empty_tab_says_there_are_none_with_no_numbered_row(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Failed", errors=ERRORS[:1], frozen=True)
    app = ConversionsApp(monitor_session(ids=[conv]))
    async with app.run_test(size=SIZE) as pilot:
        modal, _errors = await open_errors_tab(pilot, app, conv)
        warnings = modal.query_one("#warning-list", MessageList)
        assert count_line(warnings) == "No warnings"
        assert not warnings.query_one(TextArea).display
