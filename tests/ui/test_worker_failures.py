"""A worker that fails in any screen or widget is reported the same way, by the app.

One toast ("Background task <what> failed: <error type>: <message>", control characters
made visible), one log line without locals or traceback, and the app keeps running.
Before tui/ui/workers.py only the monitor screen's own workers were reported: a failing
worker of a widget (the summary strip's activity read) vanished without a word.
"""

from __future__ import annotations

import ast
import html
import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from tests.ui.conftest import SessionFactory, wait_for
from tui.core.watchlist import Watchlist
from tui.ui import workers
from tui.ui.app import ConversionsApp
from tui.ui.workers import reported, work

SECRET = "sk-live-4f2a-never-on-screen"
"""Held in a local of the failing work: Textual's own crash report would print it."""

TUI_UI = Path(workers.__file__).resolve().parent


def _fail(where: str) -> None:
    api_key = SECRET  # a local, as the key is in real work
    raise RuntimeError(f"{where} broke \x1b[2J[b]{len(api_key)}[/b]")


class FailingWidget(Static):
    """A widget whose async worker fails."""

    def on_mount(self) -> None:
        self.fail_later()

    @work(group="widget-job", exit_on_error=False)
    async def fail_later(self) -> None:
        _fail("widget")


class FailingScreen(Screen[None]):
    """A screen whose thread worker fails (run through ``run_worker``)."""

    def compose(self) -> ComposeResult:
        yield Static("a screen")

    def on_mount(self) -> None:
        self.run_worker(reported(lambda: _fail("screen")), thread=True,
                        group="screen-job", exit_on_error=False)


def _on_screen(app: ConversionsApp) -> str:
    """The text of the screen as drawn (the screenshot's SVG without its markup)."""
    svg = app.export_screenshot()
    drawn = svg[svg.index("</style>"):]
    return html.unescape(re.sub(r"<[^>]+>", "", drawn)).replace("\xa0", " ")


def _toasts(app: ConversionsApp) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]


async def test_a_failing_worker_in_a_widget_and_in_a_screen_is_reported_alike(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = ConversionsApp(None)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        screen = FailingScreen()
        await app.push_screen(screen)
        await screen.mount(FailingWidget("a widget"))
        await wait_for(pilot, lambda: len(_toasts(app)) >= 2,
                       lambda: f"two failure toasts; toasts: {_toasts(app)}")
        assert app.is_running
        assert sorted(_toasts(app)) == [
            ("Background task screen-job failed: RuntimeError: screen broke "
             "␛[2J[b]28[/b]", "error"),
            ("Background task widget-job failed: RuntimeError: widget broke "
             "␛[2J[b]28[/b]", "error"),
        ]
        await wait_for(pilot, lambda: "task widget-job" in _on_screen(app),
                       lambda: f"the toasts drawn; the screen shows: {_on_screen(app)}")
        assert SECRET not in _on_screen(app) and "Traceback" not in _on_screen(app)
    logged = [r.getMessage() for r in caplog.records if r.name == "tui.ui.app"]
    assert sorted(logged) == ["worker screen-job failed: RuntimeError",
                              "worker widget-job failed: RuntimeError"]
    assert SECRET not in caplog.text


async def test_the_monitor_and_its_summary_strip_report_failures_through_the_app(
        monitor_session: SessionFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real ones: the monitor's load (a screen's worker; it polls all the same) and the
    summary strip's activity read (a widget's, silent before)."""
    real_feed_seq = Watchlist.feed_seq
    failed_once: list[bool] = []

    def feed_seq_fails_once(self: Watchlist) -> Any:
        if not failed_once:
            failed_once.append(True)
            raise sqlite3.OperationalError("database is locked")
        return real_feed_seq(self)

    def changes_fail(self: Watchlist, start: float, end: float) -> Any:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Watchlist, "feed_seq", feed_seq_fails_once)
    monkeypatch.setattr(Watchlist, "transitions_between", changes_fail)
    app = ConversionsApp(monitor_session(ids=[1001]))
    async with app.run_test(size=(120, 40)) as pilot:
        def messages() -> list[str]:
            return [message for message, _severity in _toasts(app)]

        await wait_for(pilot, lambda: {"Background task load failed: OperationalError: "
                                       "database is locked",
                                       "Background task activity failed: OperationalError: "
                                       "disk I/O error"} <= set(messages()),
                       lambda: f"both failures told; toasts: {messages()}")
        assert app.is_running
        monitor = app.screen
        await wait_for(pilot, lambda: getattr(monitor, "scheduler", None) is not None,
                       "polling started although the load failed")


def test_every_worker_is_started_through_tui_ui_workers() -> None:
    """No module imports Textual's ``work`` or gives ``run_worker`` work that is not
    ``reported(...)``: a worker started another way would fail without a word."""
    found = []
    for path in sorted(TUI_UI.rglob("*.py")):
        if path.name == "workers.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(TUI_UI.parent.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textual") \
                    and any(alias.name == "work" for alias in node.names):
                found.append(f"{where}:{node.lineno}: imports Textual's work")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "run_worker":
                first = node.args[0] if node.args else None
                if not (isinstance(first, ast.Call) and isinstance(first.func, ast.Name)
                        and first.func.id == "reported"):
                    found.append(f"{where}:{node.lineno}: run_worker without reported(...)")
    assert not found, "workers whose failure nobody would hear of:\n" + "\n".join(found)
