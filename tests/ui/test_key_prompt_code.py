"""The banner and the key prompt name the code the server really sent (issue 17).

A 403 that does not name the key's profile refuses the key: the prompt must say 403,
never a fixed "answered 401". A 403 that names the profile is one row's problem: no
banner, no prompt, polling goes on.
"""

from __future__ import annotations

from textual.widgets import Static

from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_monitor import SIZE, banner_text, key_prompt_shown
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.key_prompt import KeyPromptModal
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.widgets.table.conversions_table import ConversionsTable


async def test_a_403_refusing_the_key_says_403_in_the_banner_and_the_prompt(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conversion = sandbox.state.add_conversion(status="Queued", frozen=True)
    # An injected error comes before the key check, so with a wrong key its envelope
    # names no profile: nothing says the key is known.
    sandbox.faults.update({"error_rate": 1.0, "error_status": 403})
    try:
        app = ConversionsApp(monitor_session(key="not-the-key", ids=[conversion]))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: key_prompt_shown(app), what="the key prompt")
            assert isinstance(app.screen, KeyPromptModal)
            why = str(app.screen.query_one("#why", Static).render())
            banner = banner_text(app)
    finally:
        sandbox.faults.clear()
    assert "HTTP 403" in why and "401" not in why, why
    assert "HTTP 403" in banner and "401" not in banner, banner


async def test_a_403_naming_the_key_is_that_rows_problem_and_polling_goes_on(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    forbidden, other = (sandbox.state.add_conversion(status="Queued", frozen=True)
                        for _ in range(2))
    sandbox.faults.forbidden_ids = [forbidden]
    try:
        app = ConversionsApp(monitor_session(ids=[forbidden, other]))
        async with app.run_test(size=SIZE) as pilot:
            monitor = next(s for s in app.screen_stack if isinstance(s, MonitorScreen))
            rows = monitor.query_one(ConversionsTable).rows

            def problem() -> str | None:
                row = rows.get(forbidden)
                return None if row is None else row.last_problem

            await wait_for(pilot, lambda: problem() is not None, what="row's problem")
            start = sandbox.state.request_count
            await wait_for(pilot, lambda: sandbox.state.request_count >= start + 4,
                           what="polling going on")
            shown_banner, prompted = banner_text(app), key_prompt_shown(app)
    finally:
        sandbox.faults.clear()
    assert problem() == "no access to this conversion (HTTP 403)"
    assert shown_banner == "" and not prompted
