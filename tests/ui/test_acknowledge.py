"""Acknowledge (k) and snooze (K) in the running monitor (issue 13), against the sandbox:
the Ack marker, the "need attention" count, the audit, Inspect, alerts left out, and a
new change that makes a row count again."""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

from tests.ui.conftest import SessionFactory, quiet_window, wait_for
from tests.ui.test_alerts import terminal, with_alerts  # noqa: F401 (a fixture)
from tests.ui.test_monitor import header_text
from tests.ui.test_triage_actions import (
    envelope,
    export_to,
    first_poll,
    mark,
    modal_text,
    on_screen,
    plain,
    read_csv,
    row_line,
    status_of,
    table,
)
from tui.core.alerts.events import AlertKind
from tui.core.alerts.settings import AlertSettings
from tui.core.timeinstatus import StuckAfter
from tui.core.watchlist import PollResult, Watchlist
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.inspect import InspectModal
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.screens.text_prompt import TextPromptModal

SIZE = (120, 36)
# Another process's write reaches the monitor through the file's change feed (every 2 s,
# far later on a loaded machine).
TIMEOUT = 30.0


def toasts(app: ConversionsApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def failure_alerts(app: ConversionsApp, conversion_id: int) -> int:
    """How many failure alerts named ``conversion_id`` (the alerter keeps the last 20)."""
    screen = next(s for s in app.screen_stack if isinstance(s, MonitorScreen))
    assert screen.alerter is not None
    return sum(1 for alert in screen.alerter.delivered
               if alert.kind is AlertKind.FAILED and conversion_id in alert.ids)


def marker(app: ConversionsApp, conversion_id: int) -> str:
    """The Ack cell of ``conversion_id`` as drawn ("" when the column is not shown)."""
    grid = table(app)
    if "attention" not in grid.shown_columns:
        return ""
    line = row_line(app, conversion_id)
    return "ack" if " ack " in f"{line} " else "zz" if " zz " in f"{line} " else ""


async def test_k_acknowledges_a_failed_row_until_something_new_happens(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        terminal: list[str]) -> None:  # noqa: F811
    state = sandbox.state
    failed = state.add_conversion(status="Failed", errors=["Row 2: bad date"],
                                  file_name="payroll.csv", frozen=True)
    done = state.add_conversion(status="Completed", file_name="fine.csv")
    session = monitor_session(ids=[failed, done])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [failed, done])
        await wait_for(pilot, lambda: "1 needs attention" in header_text(app),
                       what=lambda: f"the count; header: {header_text(app)!r}")
        assert "attention" not in table(app).shown_columns  # nothing acknowledged yet
        table(app).move_cursor(failed)
        await pilot.press("k")
        await wait_for(pilot, lambda: marker(app, failed) == "ack",
                       what=lambda: f"the marker; line: {row_line(app, failed)!r}")
        assert marker(app, done) == ""
        await wait_for(pilot, lambda: "need" not in header_text(app),
                       what=lambda: f"the count gone; header: {header_text(app)!r}")
        assert any(f"Acknowledged {failed}" in t for t in toasts(app)), toasts(app)
        stored = session.watchlist.get(failed)
        assert stored is not None and stored.acknowledged_at is not None
        [entry] = [e for e in session.audit.entries() if e.action == "acknowledge"]
        assert entry.ids == (failed,) and entry.user  # who: the key's owner or the login

        await pilot.press("enter")
        modal = await on_screen(pilot, InspectModal, "Inspect")
        overview = plain(modal.query_one(".overview").content)
        line = next(ln for ln in overview.splitlines() if ln.startswith("Acknowledged"))
        assert f"(by {entry.user})" in line, overview
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen)

        # k again takes it off (audited), and once more puts it back.
        await pilot.press("k")
        await wait_for(pilot, lambda: marker(app, failed) == ""
                       and "1 needs attention" in header_text(app), what="the ack taken off")
        await pilot.press("k")
        await wait_for(pilot, lambda: marker(app, failed) == "ack", what="acknowledged again")
        actions = [e.action for e in reversed(session.audit.entries())]
        assert actions == ["acknowledge", "unacknowledge", "acknowledge"], actions

        # It is retried and fails again: news, so it counts and alerts once more.
        alerted = failure_alerts(app, failed)
        state.set_status(failed, "Processing", frozen=True)
        await pilot.press("r")  # a Failed row is re-checked only slowly
        await wait_for(pilot, lambda: status_of(app, failed) == "Processing",
                       what="the retry seen")
        assert marker(app, failed) == ""
        state.set_status(failed, "Failed", frozen=True)
        await wait_for(pilot, lambda: failure_alerts(app, failed) > alerted,
                       what=lambda: f"the failure's alert; toasts: {toasts(app)}")
        await wait_for(pilot, lambda: "1 needs attention" in header_text(app),
                       what=lambda: f"counted again; header: {header_text(app)!r}")
        assert marker(app, failed) == ""


async def test_an_acknowledged_stuck_row_does_not_alert(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        terminal: list[str], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setattr("tui.ui.screens.flows.changes.ALERT_SWEEP_EVERY", 1)
    state = sandbox.state
    taken, other = (state.add_conversion(status="Processing", frozen=True,
                                         file_name=f"hung{i}.csv") for i in range(2))
    session = with_alerts(monitor_session(ids=[taken, other]), AlertSettings(),
                          stuck_after=StuckAfter(1.0))
    # Seen Processing by an earlier run; then taken on, before the app starts. The other
    # is answered first in this run: found stuck, it alerts (stuck before the start, it
    # would not: it alerted then; tests/ui/test_alerts_restart.py).
    now = time.time()
    session.watchlist.record_results([PollResult(taken, now - 10,
                                                 envelope(taken, "Processing"))])
    session.watchlist.acknowledge([taken], now - 5)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any(f"Conversion {other} stuck" in t
                                          for t in toasts(app)),
                       what=lambda: f"the other row's stuck alert; toasts: {toasts(app)}")
        assert marker(app, taken) == "ack" and marker(app, other) == ""
        await quiet_window(pilot, 1.5)  # more sweeps
        assert not any(f"Conversion {taken}" in t for t in toasts(app)), toasts(app)
        assert "1 needs attention" in header_text(app), header_text(app)


async def prompt_answer(pilot: Any, text: str) -> TextPromptModal:
    prompt: TextPromptModal = await on_screen(pilot, TextPromptModal, "the snooze prompt")
    prompt.query_one(Input).value = text
    await pilot.press("enter")
    await on_screen(pilot, MonitorScreen)
    return prompt


def refused_text(prompt: TextPromptModal) -> str:
    """The sentence under the prompt's field ("" while none shows)."""
    error = prompt.query_one("#problem", Static)
    return str(error.content) if error.has_class("-shown") and error.display else ""


async def refusal(pilot: Any, prompt: TextPromptModal) -> str:
    """Wait for the prompt to refuse its answer; it must still be open."""
    await wait_for(pilot, lambda: refused_text(prompt) or pilot.app.screen is not prompt,
                   what=lambda: f"a sentence under the field; prompt: {modal_text(prompt)!r}")
    assert pilot.app.screen is prompt, "the prompt closed on a bad answer"
    return refused_text(prompt)


async def test_a_bad_snooze_duration_keeps_the_prompt_open_to_correct(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    row = sandbox.state.add_conversion(status="Processing", frozen=True)
    session = monitor_session(ids=[row])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [row])
        assert table(app).move_cursor(row)
        await pilot.press("K")
        prompt: TextPromptModal = await on_screen(pilot, TextPromptModal, "the snooze prompt")
        field = prompt.query_one(Input)
        for typed, why in [("5x", "'5x' is not a duration"), ("0", "'0' is not a duration"),
                           ("99d", "30 days at most"), ("", "none of these rows is snoozed")]:
            field.value = ""
            await pilot.press(*typed, "enter")
            said = await refusal(pilot, prompt)
            assert why in said, said
            assert field.value == typed, f"the text typed is kept: {field.value!r}"
            assert said.endswith(".") and said.count(". ") == 0, f"one sentence: {said!r}"
        # Editing the text takes the sentence away: it was about the old text.
        await pilot.press("1")
        await wait_for(pilot, lambda: not refused_text(prompt),
                       what=lambda: f"the sentence gone; it says {refused_text(prompt)!r}")
        assert session.watchlist.get(row).snoozed_until is None  # type: ignore[union-attr]
        assert not [e for e in session.audit.entries() if e.action == "snooze"]

        # escape still cancels, nothing snoozed.
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen)
        assert session.watchlist.get(row).snoozed_until is None  # type: ignore[union-attr]

        # A good answer after a bad one snoozes.
        await pilot.press("K")
        prompt = await on_screen(pilot, TextPromptModal, "the snooze prompt again")
        await pilot.press(*"30x", "enter")
        await refusal(pilot, prompt)
        await pilot.press("backspace", "m", "enter")
        await on_screen(pilot, MonitorScreen)
        await wait_for(pilot, lambda: marker(app, row) == "zz", what="the row snoozed")
        until = session.watchlist.get(row).snoozed_until  # type: ignore[union-attr]
        assert until is not None and 1700 < until - time.time() <= 1800


async def test_snooze_of_marked_rows_and_a_bad_duration(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        terminal: list[str]) -> None:  # noqa: F811
    state = sandbox.state
    quiet = [state.add_conversion(status="Processing", frozen=True, file_name=f"q{i}.csv")
             for i in range(2)]
    loud = state.add_conversion(status="Processing", frozen=True, file_name="loud.csv")
    session = monitor_session(ids=[*quiet, loud])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [*quiet, loud])
        await mark(pilot, app, quiet)
        await pilot.press("K")
        prompt = await on_screen(pilot, TextPromptModal, "the snooze prompt")
        assert "Snooze 2 marked rows" in modal_text(prompt)
        prompt.query_one(Input).value = "soon"
        await pilot.press("enter")
        said = await refusal(pilot, prompt)
        assert "'soon' is not a duration" in said and '"15m"' in said
        assert all(row.snoozed_until is None for row in session.watchlist.all())
        assert not [e for e in session.audit.entries() if e.action == "snooze"]

        # Corrected in the same prompt.
        await prompt_answer(pilot, "2h")
        await wait_for(pilot, lambda: all(marker(app, i) == "zz" for i in quiet),
                       what="both marked rows snoozed")
        assert marker(app, loud) == ""
        [entry] = [e for e in session.audit.entries() if e.action == "snooze"]
        assert entry.ids == tuple(quiet) and (entry.detail or "").startswith("until ")
        until = session.watchlist.get(quiet[0]).snoozed_until  # type: ignore[union-attr]
        assert until is not None and 7100 < until - time.time() <= 7200

        # All three fail: only the row not snoozed alerts.
        for conversion in [*quiet, loud]:
            state.set_status(conversion, "Failed", frozen=True)
        await wait_for(pilot, lambda: all(status_of(app, i) == "Failed" for i in quiet)
                       and any(f"Conversion {loud} failed" in t for t in toasts(app)),
                       what=lambda: f"the failures seen; toasts: {toasts(app)}")
        await quiet_window(pilot, 2.5)  # past the burst window
        assert not any(str(i) in t for i in quiet for t in toasts(app)
                       if "failed" in t), toasts(app)
        assert not any("conversions failed" in t for t in toasts(app)), toasts(app)
        assert "1 needs attention" in header_text(app), header_text(app)

        # k on the marked rows acknowledges both of them, in one audit entry.
        await pilot.press("k")
        await wait_for(pilot, lambda: all(
            (row := session.watchlist.get(i)) is not None and row.acknowledged_at
            for i in quiet), what="both acknowledged")
        [ack] = [e for e in session.audit.entries() if e.action == "acknowledge"]
        assert ack.ids == tuple(quiet)

        # K with an empty answer ends their snooze; the acknowledgement stays.
        await pilot.press("K")
        await prompt_answer(pilot, "")
        await wait_for(pilot, lambda: all(marker(app, i) == "ack" for i in quiet),
                       what=lambda: f"snooze ended; line: {row_line(app, quiet[0])!r}")
        assert all(row.snoozed_until is None for row in session.watchlist.all())
        assert [e.ids for e in session.audit.entries() if e.action == "unsnooze"] == [
            tuple(quiet)]


async def test_another_processs_acknowledgement_shows_up(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    state = sandbox.state
    failed = state.add_conversion(status="Failed", frozen=True, file_name="f.csv")
    session = monitor_session(ids=[failed])
    app = ConversionsApp(session)
    async with app.run_test(size=(80, 24)) as pilot:  # the marker fits the smallest terminal
        await first_poll(pilot, app, [failed])
        await wait_for(pilot, lambda: "1 needs attention" in header_text(app),
                       what="the count")
        with Watchlist(session.watchlist.path) as elsewhere:
            elsewhere.acknowledge([failed], time.time())
        await wait_for(pilot, lambda: marker(app, failed) == "ack", timeout=TIMEOUT,
                       what=lambda: f"the marker; line: {row_line(app, failed)!r}")
        await wait_for(pilot, lambda: "need" not in header_text(app), timeout=TIMEOUT,
                       what=lambda: f"the count gone; header: {header_text(app)!r}")
        assert {"id", "file", "status", "attention"} <= set(table(app).shown_columns)


async def test_the_export_says_who_acknowledged_and_when_and_the_snooze(
        sandbox: SandboxServer, monitor_session: SessionFactory, tmp_path: Path) -> None:
    state = sandbox.state
    taken, snoozed, other = (state.add_conversion(status="Failed", frozen=True,
                                                  file_name=f"f{i}.csv") for i in range(3))
    session = monitor_session(ids=[taken, snoozed, other])
    app = ConversionsApp(session)
    target = tmp_path / "triage.csv"
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [taken, snoozed, other])
        # The key's owner is known once an answer said it: the audit signs with it.
        await wait_for(pilot, lambda: session.last_profile is not None, what="the owner")
        assert table(app).move_cursor(taken)
        await pilot.press("k")
        await wait_for(pilot, lambda: marker(app, taken) == "ack", what="acknowledged")
        assert table(app).move_cursor(snoozed)
        await pilot.press("K")
        await prompt_answer(pilot, "2h")
        await wait_for(pilot, lambda: marker(app, snoozed) == "zz", what="snoozed")
        [entry] = [e for e in session.audit.entries() if e.action == "acknowledge"]
        assert entry.user

        await export_to(pilot, target)
        await wait_for(pilot, target.exists, what="the CSV written")
        with target.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle))
        assert header[-3:] == ["acknowledged_at", "snoozed_until", "acknowledged_by"]
        rows = {int(r["id"]): r for r in read_csv(target)}
    assert rows[taken]["acknowledged_by"] == entry.user
    assert rows[taken]["acknowledged_at"].endswith("Z")
    assert rows[snoozed]["snoozed_until"].endswith("Z")
    assert rows[snoozed]["acknowledged_by"] == rows[other]["acknowledged_by"] == ""
    assert rows[other]["acknowledged_at"] == rows[other]["snoozed_until"] == ""
