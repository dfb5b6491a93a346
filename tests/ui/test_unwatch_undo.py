"""`x` can be undone for a minute (`z`), and an unwatched row keeps its note and history.

Issue 16: "`x` unwatches one row at once, with no undo, and loses its note and history:
re-adding 48211 showed `≥0s` and no note." Driven with Pilot against the real sandbox.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_triage_actions import (
    SIZE,
    envelope,
    first_poll,
    mark,
    modal_text,
    monitor,
    notices,
    on_screen,
    quick_keys,  # noqa: F401  (autouse: quick Pilot key presses)
    table,
)
from tui.core.session import MonitorSession
from tui.core.watchlist import PollResult
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.add_ids import AddIdsModal
from tui.ui.screens.confirm_delete import describe_row
from tui.ui.screens.flows import unwatch
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.screens.text_prompt import QuestionModal

NOTE = "INC-4471"


def with_past(session: MonitorSession, conversion_id: int) -> list[tuple[str, float]]:
    """Give ``conversion_id`` a note and a history seen an hour ago; return the history."""
    now = time.time()
    session.watchlist.record_results([
        PollResult(conversion_id, now - 3700, envelope(conversion_id, "Queued")),
        PollResult(conversion_id, now - 3600, envelope(conversion_id, "Processing")),
    ])
    session.watchlist.set_note(conversion_id, NOTE)
    return session.watchlist.history(conversion_id)


def toasts_with(app: ConversionsApp, words: str) -> list[str]:
    """The toasts so far that contain ``words``."""
    return [message for message in notices(app) if words in message]


async def unwatch_cursor_row(pilot: Pilot[Any], app: ConversionsApp, conversion_id: int) -> None:
    """Put the cursor on the row and press x; wait until it is gone from the table."""
    assert table(app).move_cursor(conversion_id)
    await pilot.press("x")
    await wait_for(pilot, lambda: conversion_id not in table(app).rows,
                   what=f"{conversion_id} leaves the table")


async def test_z_within_the_minute_brings_the_row_back_with_note_and_history(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Failed", frozen=True, file_name="ledger.csv")
    other = sandbox.state.add_conversion(status="Completed")
    session = monitor_session(ids=[conv, other])
    with_past(session, conv)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conv, other])
        await wait_for(pilot, lambda: len(session.watchlist.history(conv)) == 3,
                       what="Failed recorded after Queued and Processing")
        history = session.watchlist.history(conv)
        await unwatch_cursor_row(pilot, app, conv)
        assert conv not in session.watchlist
        said = toasts_with(app, f"Unwatched {conv}")
        assert said and "press z to undo" in said[0], notices(app)
        assert "nothing was deleted on the server" in said[0]

        await pilot.press("z")
        await wait_for(pilot, lambda: conv in table(app).rows, what="the row comes back")
        row = table(app).rows[conv]
        assert row.note == NOTE and row.status == "Failed" and row.entered_seen
        assert session.watchlist.history(conv) == history
        scheduler = monitor(app).scheduler
        assert scheduler is not None and conv in scheduler.watched_ids()
        assert toasts_with(app, f"Watching {conv} again"), notices(app)
        assert [e.action for e in session.audit.entries()] == ["watch", "unwatch"]

        await pilot.press("z")  # nothing left to undo: said, not silent
        await wait_for(pilot, lambda: toasts_with(app, "Nothing to undo"),
                       what="the nothing-to-undo toast")
        assert sandbox.state.get(conv) is not None  # never touched on the server


async def test_z_undoes_marked_rows_together_and_the_question_still_comes_first(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    ids = [sandbox.state.add_conversion(status="Completed") for _ in range(3)]
    session = monitor_session(ids=ids)
    for conversion_id in ids[:2]:
        session.watchlist.set_note(conversion_id, f"T-{conversion_id}")
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, ids)
        await mark(pilot, app, ids[:2])
        await pilot.press("x")
        await on_screen(pilot, QuestionModal, "the unwatch question")
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: set(table(app).rows) == {ids[2]}, what="two unwatched")
        assert toasts_with(app, "Unwatched 2 conversions — press z to undo"), notices(app)
        await pilot.press("z")
        await wait_for(pilot, lambda: set(table(app).rows) == set(ids), what="both back")
        assert [table(app).rows[i].note for i in ids[:2]] == [f"T-{i}" for i in ids[:2]]


async def test_after_the_minute_z_says_so_and_brings_nothing_back(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unwatch, "UNDO_SECONDS", 0.0)  # the minute is over at once
    conv = sandbox.state.add_conversion(status="Completed")
    session = monitor_session(ids=[conv])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conv])
        await unwatch_cursor_row(pilot, app, conv)
        await pilot.press("z")
        await wait_for(pilot, lambda: toasts_with(app, "Nothing to undo"),
                       what="the nothing-to-undo toast")
        assert conv not in session.watchlist and conv not in table(app).rows
        assert "add the IDs again" in toasts_with(app, "Nothing to undo")[0]


async def test_re_adding_an_unwatched_id_brings_its_note_and_history_back(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Processing", frozen=True)
    session = monitor_session(ids=[conv])
    with_past(session, conv)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conv])
        history = session.watchlist.history(conv)
        assert [status for status, _at in history] == ["Queued", "Processing"]
        await unwatch_cursor_row(pilot, app, conv)
        await pilot.press("a")
        await on_screen(pilot, AddIdsModal)
        await pilot.press(*str(conv), "ctrl+s")
        await on_screen(pilot, MonitorScreen, "the add modal closed")
        await wait_for(pilot, lambda: conv in table(app).rows, what="re-added")
        row = table(app).rows[conv]
        # Seen entering Processing an hour ago: its time in status is known, not "≥0s".
        assert row.note == NOTE and row.entered_seen, row
        assert row.last_changed is not None and time.time() - row.last_changed > 3500
        assert session.watchlist.history(conv) == history


async def test_the_toast_names_the_undo_key_as_remapped(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Completed")
    session = monitor_session(ids=[conv])
    session.config.keymap = {"monitor.undo_unwatch": "ctrl+z"}
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conv])
        await unwatch_cursor_row(pilot, app, conv)
        assert toasts_with(app, f"Unwatched {conv} — press ^z to undo"), notices(app)
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: conv in table(app).rows, what="ctrl+z undoes")


async def test_z_after_the_id_was_added_again_says_so(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    conv = sandbox.state.add_conversion(status="Completed")
    session = monitor_session(ids=[conv])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [conv])
        await unwatch_cursor_row(pilot, app, conv)
        await pilot.press("a")
        await on_screen(pilot, AddIdsModal)
        await pilot.press(*str(conv), "ctrl+s")
        await wait_for(pilot, lambda: conv in table(app).rows, what="re-added")
        await pilot.press("z")
        await wait_for(pilot, lambda: toasts_with(app, "watched again already"),
                       what="the already-watched toast")
        assert conv in table(app).rows and session.watchlist.ids() == [conv]


def undo_toasts(app: ConversionsApp, conversion_id: int) -> list[str]:
    """The "press z to undo" toasts for ``conversion_id`` still listed."""
    return toasts_with(app, f"Unwatched {conversion_id} — press z to undo")


def undo_toasts_posted(app: ConversionsApp) -> bool:
    """Every undoable unwatch's toast has reached the app (posting it is a message)."""
    return all(batch.toast in app._notifications for batch in monitor(app).unwatching.batches)


async def test_z_takes_its_undo_toast_away_and_a_second_x_shows_one_toast(
        sandbox: SandboxServer, monitor_session: SessionFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue: after z, "press z to undo" stayed up (and beside the next one for that row)."""
    # The toast would otherwise outlive any test only by its own timeout: make it long.
    monkeypatch.setattr(unwatch, "UNDO_TOAST_SECONDS", 600.0)
    first, second = (sandbox.state.add_conversion(status="Completed") for _ in range(2))
    session = monitor_session(ids=[first, second])
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, [first, second])
        await unwatch_cursor_row(pilot, app, first)
        await unwatch_cursor_row(pilot, app, second)
        await wait_for(pilot, lambda: undo_toasts_posted(app), what="the toasts shown")
        assert len(undo_toasts(app, first)) == len(undo_toasts(app, second)) == 1, notices(app)

        await pilot.press("z")  # undoes the second: its toast goes, the first's stays
        await wait_for(pilot, lambda: second in table(app).rows
                       and toasts_with(app, f"Watching {second} again"),
                       what="the second back")
        await wait_for(pilot, lambda: not undo_toasts(app, second),
                       what=lambda: f"its undo toast gone; toasts: {notices(app)}")
        assert len(undo_toasts(app, first)) == 1, notices(app)

        await unwatch_cursor_row(pilot, app, second)  # x again: one toast, not two
        await wait_for(pilot, lambda: undo_toasts_posted(app), what="the toast shown")
        assert len(undo_toasts(app, second)) == 1, notices(app)
        await pilot.press("z", "z")
        await wait_for(pilot, lambda: {first, second} <= set(table(app).rows),
                       what="both back")
        await wait_for(pilot, lambda: not undo_toasts(app, first)
                       and not undo_toasts(app, second),
                       what=lambda: f"no undo toast left; toasts: {notices(app)}")


async def test_the_unwatch_question_lists_its_rows_like_the_delete_dialog(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    """Issue: "Stop watching 3 conversions?" did not say which."""
    ids = [sandbox.state.add_conversion(status="Failed", file_name=f"ledger-{i}.csv")
           for i in range(12)]
    session = monitor_session(ids=ids)
    app = ConversionsApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(pilot, app, ids)
        await mark(pilot, app, ids[:3])
        await pilot.press("x")
        text = modal_text(await on_screen(pilot, QuestionModal, "the unwatch question"))
        assert "Stop watching 3 conversions?" in text
        for conversion_id in ids[:3]:
            assert describe_row(table(app).rows[conversion_id]) in text, text
        assert str(ids[3]) not in text and "more" not in text
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen)

        await pilot.press("ctrl+a")  # all twelve: ten named, the rest counted
        await wait_for(pilot, lambda: len(table(app).marked_ids) == 12, what="all marked")
        await pilot.press("x")
        text = modal_text(await on_screen(pilot, QuestionModal, "the unwatch question"))
        assert "Stop watching 12 conversions?" in text
        listed = [i for i in ids if describe_row(table(app).rows[i]) in text]
        assert len(listed) == 10 and "… and 2 more" in text, text
        await pilot.press("escape")
        await on_screen(pilot, MonitorScreen)
        assert set(session.watchlist.ids()) == set(ids)
