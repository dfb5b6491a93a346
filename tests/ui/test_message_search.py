"""Searching every message from the `/` box (issue 14), answered by the watchlist's FTS5
index, and Inspect saying how many messages it keeps of how many came. Driven with Pilot
against the real sandbox."""

from __future__ import annotations

from textual.widgets import Input, TabbedContent

from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_inspect_search import count_line, open_errors_tab
from tests.ui.test_triage_actions import (
    SIZE,
    first_poll,
    quick_keys,  # noqa: F401  (autouse: quick Pilot key presses)
    table,
)
from tui.core.watchlist import Watchlist
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp


async def test_msg_in_the_box_finds_rows_by_their_messages_through_the_index(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    utf8 = state.add_conversion(status="Failed", errors=["File is not valid UTF-8 (byte 0x9f)"],
                                frozen=True)
    special = state.add_conversion(status="Completed", warnings=['Column "a*b" OR (c)'],
                                   frozen=True)
    plain_row = state.add_conversion(status="Completed", frozen=True)
    session = monitor_session(ids=[utf8, special, plain_row])
    searched: list[list[str]] = []
    watchlist = session.watchlist
    ask = Watchlist.message_matches

    def spy(needles: list[str]) -> object:
        searched.append(list(needles))
        return ask(watchlist, needles)

    watchlist.message_matches = spy  # type: ignore[method-assign,assignment]
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [utf8, special, plain_row])
        await pilot.press("p")  # quiet: no polls while typing
        await pilot.press("slash", *'msg:"not valid utf-8"')
        await wait_for(pilot, lambda: table(app).visible_ids == [utf8],
                       what=lambda: f"only {utf8} shown, not {table(app).visible_ids}")
        assert ["not valid utf-8"] in searched  # the index was asked, not only memory
        assert watchlist.message_index

        # FTS syntax typed in the box is text: a quote, *, OR and parentheses.
        box = app.screen.query_one("#filter", Input)
        box.value = 'msg:"\\"a*b\\" or (c"'
        await wait_for(pilot, lambda: table(app).visible_ids == [special],
                       what=lambda: f"only {special} shown, not {table(app).visible_ids}")
        assert ['"a*b" or (c'] in searched
        box.value = "msg:NEAR"
        await wait_for(pilot, lambda: table(app).visible_ids == [],
                       what=lambda: f"nothing shown, not {table(app).visible_ids}")


async def test_inspect_says_first_200_of_how_many_errors_came(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    errors = [f"Row {n}: column 'amount' is empty" for n in range(1, 1235)]
    conv = sandbox.state.add_conversion(status="Failed", errors=errors, frozen=True)
    app = ConversionsApp(monitor_session(ids=[conv]))
    async with app.run_test(size=SIZE) as pilot:
        modal, listing = await open_errors_tab(pilot, app, conv)
        assert count_line(listing) == "first 200 of 1,234 errors"
        assert listing.text.splitlines() == errors[:200]
        tab = modal.query_one(TabbedContent).get_tab("errors")
        assert tab.label_text == "Errors (1234)"  # the tab counts every error that came
        await pilot.press("slash", *"row 19")
        await wait_for(pilot, lambda: count_line(listing).startswith("11 of 200 errors"),
                       what=lambda: f"the search narrowed (count: {count_line(listing)!r})")
        assert count_line(listing) == "11 of 200 errors (the first 200 of 1,234 are kept)"
