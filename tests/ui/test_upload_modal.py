"""The upload modal driven with Pilot against the real sandbox over loopback.

The sandbox refuses only records the preview already keeps back (empty, unknown type, a
bad name), so a server rejection is made with :class:`RejectingClient`: it posts to the
sandbox as usual but gives files named ``reject-*`` a type the server does not know.
The sandbox's answer, reasons included, is real.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from tests.ui.conftest import SessionFactory, quiet_window, wait_for
from tui.api.client import ConversionsClient
from tui.api.models import BatchEnvelope, ConversionRecord
from tui.core.session import MonitorSession
from tui.core.upload.outcome import FileOutcome, UploadOutcome
from tui.sandbox.runner import SandboxServer
from tui.ui.screens.text_prompt import QuestionModal, TextPromptModal
from tui.ui.screens.upload import UploadModal
from tui.ui.screens.upload_preview import UploadPreviewTable
from tui.ui.screens.upload_results import UploadResultsTable
from tui.ui.widgets.upload_files import UploadFileTree

SIZE = (100, 30)
POSTS = "POST /v1/conversions"
NOT_YET = object()


class RejectingClient(ConversionsClient):
    """The sandbox client, but files named ``reject-*`` go as type "Word" (refused)."""

    async def post_batch(self, records: Sequence[ConversionRecord] | bytes) -> BatchEnvelope:
        assert isinstance(records, bytes)
        body = json.loads(records)
        for record in body:
            if record["fileName"].startswith("reject-"):
                record["dataSourceType"] = "Word"
        return await super().post_batch(json.dumps(body).encode())


class UploadHost(App[None]):
    """A bare app that opens the modal and keeps what it dismissed with."""

    def __init__(self, session: MonitorSession, client: ConversionsClient,
                 **options: Any) -> None:
        super().__init__()
        self.accepted: list[list[int]] = []
        self.result: object = NOT_YET
        self.modal = UploadModal(session=session, client=client,
                                 on_accepted=self.accepted.append, **options)

    def on_mount(self) -> None:
        self.push_screen(self.modal, self._modal_closed)

    def _modal_closed(self, outcome: UploadOutcome | None) -> None:
        self.result = outcome


@pytest.fixture
async def client(sandbox: SandboxServer) -> AsyncIterator[ConversionsClient]:
    async with RejectingClient(sandbox.base_url, sandbox.api_key, timeout=10) as api:
        yield api


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder of our own (``~`` in paths and labels), also the working folder."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.chdir(folder)
    return folder


def make_files(folder: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` (relative name -> content) under ``folder``."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


def cell_texts(table: Any) -> list[list[str]]:
    """Every row of a DataTable as plain strings."""
    return [[cell.plain if isinstance(cell, Text) else str(cell) for cell in table.get_row_at(i)]
            for i in range(table.row_count)]


def static_text(modal: UploadModal, selector: str) -> str:
    """What a Static of the modal shows."""
    return str(modal.query_one(selector, Static).render())


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type like a person (each key through the app's key handling)."""
    for char in text:
        await pilot.press("space" if char == " " else char)


async def send_and_wait(pilot: Pilot[Any], modal: UploadModal) -> UploadOutcome:
    """Press Send and let the upload finish."""
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: modal.stage == "results", what="the results")
    assert modal.outcome is not None
    return modal.outcome


async def mixed_upload(pilot: Pilot[Any], app: UploadHost, folder: Path) -> UploadOutcome:
    """Pick good-1, reject-me and good-2 by glob, set a reference, send."""
    make_files(folder, {"good-1.csv": b"id,v\n1,2\n", "reject-me.csv": b"id,v\n3,4\n",
                        "good-2.json": b'{"a": 1}'})
    modal = app.modal
    modal.query_one("#path", Input).value = f"{folder}/*"
    await pilot.press("enter")
    modal.query_one("#reference", Input).value = "INC-4412"
    await pilot.pause()
    return await send_and_wait(pilot, modal)


# ----------------------------------------------------------------------------- choosing
async def test_a_typed_glob_picks_its_files_and_completion_helps(
        monitor_session: SessionFactory, client: ConversionsClient, home: Path) -> None:
    make_files(home / "tickets" / "4412", {"b.csv": b"1", "a.csv": b"22", "c.json": b"{}",
                                           "skip.pdf": b"%PDF"})
    app = UploadHost(monitor_session(), client)
    async with app.run_test(size=SIZE) as pilot:
        modal = app.modal
        path = modal.query_one("#path", Input)
        assert path.has_focus
        await type_text(pilot, "~/tic")
        await wait_for(pilot, lambda: (pilot.app.screen is modal), what="the modal")
        # The suggester reads the disk off the event loop: wait for what it suggests.
        await wait_for(pilot, lambda: path._suggestion == "~/tickets/",
                       what=lambda: f"the suggestion ({path._suggestion!r})")
        await pilot.press("right")  # at the end of the field, right takes the suggestion
        await wait_for(pilot, lambda: path.value == "~/tickets/", what="completion")
        await type_text(pilot, "4412/*.csv")
        await pilot.press("enter")
        assert [item.file_name for item in modal.plan.items] == ["a.csv", "b.csv"]
        assert path.value == ""  # ready for the next pattern
        rows = cell_texts(modal.query_one(UploadPreviewTable))
        assert [row[1] for row in rows] == ["tickets/4412/a.csv", "tickets/4412/b.csv"]
        assert all(row[4] == "ready" for row in rows)
        assert str(modal.query_one("#send", Button).label) == "Send 2 files"

        await type_text(pilot, "~/nothing/*.csv")
        await pilot.press("enter")
        assert len(modal.plan.items) == 2  # nothing matched: nothing changed, text kept
        assert path.value == "~/nothing/*.csv"


async def test_the_folder_browser_picks_and_drops_files_with_space(
        monitor_session: SessionFactory, client: ConversionsClient, home: Path) -> None:
    make_files(home, {"only.csv": b"id\n1\n"})
    app = UploadHost(monitor_session(), client)
    async with app.run_test(size=SIZE) as pilot:
        modal = app.modal
        tree = modal.query_one(UploadFileTree)
        await wait_for(pilot, lambda: len(tree.root.children) == 1, what="the folder read")
        tree.focus()
        tree.move_cursor(tree.root.children[0])
        await pilot.press("space")
        assert [item.file_name for item in modal.plan.items] == ["only.csv"]
        assert "● " in tree.render_label(tree.root.children[0], Text().style, Text().style
                                         ).plain
        await pilot.press("space")
        assert modal.plan.items == []


async def test_the_preview_names_the_empty_file_and_the_duplicate_and_types_change(
        monitor_session: SessionFactory, client: ConversionsClient, home: Path) -> None:
    make_files(home, {"in/a.csv": b"id\n1\n", "in/empty.csv": b"", "in/notes.txt": b"hi",
                      "other/a.csv": b"id\n2\n"})
    app = UploadHost(monitor_session(), client, initial_paths=["in/*", "other/a.csv"])
    async with app.run_test(size=SIZE) as pilot:
        modal = app.modal
        table = modal.query_one(UploadPreviewTable)
        checks = {(row[1], row[4]) for row in cell_texts(table)}
        assert ("in/a.csv", "ready") in checks
        assert ("in/empty.csv", "it is empty") in checks
        assert any(name == "other/a.csv" and "same name (in/a.csv)" in why
                   for name, why in checks)
        assert any(name == "in/notes.txt" and "type is unknown" in why for name, why in checks)
        assert str(modal.query_one("#send", Button).label) == "Send 1 file"
        assert "1 to send" in static_text(modal, "#summary")
        assert "3 left out" in static_text(modal, "#summary")

        # t on notes.txt chooses a type: the file is no longer left out.
        table.focus()
        table.move_cursor(row=[row[1] for row in cell_texts(table)].index("in/notes.txt"))
        await pilot.press("t")
        assert [(i.file_name, i.data_source_type) for i in modal.plan.items] == [
            ("a.csv", "Csv"), ("notes.txt", "Csv")]
        assert "notes.txt" in static_text(modal, "#detail")
        await pilot.press("t")
        assert modal.plan.items[1].data_source_type == "Excel"
        # x leaves it out again.
        await pilot.press("x")
        assert [item.file_name for item in modal.plan.items] == ["a.csv"]
        assert "in/notes.txt" not in [row[1] for row in cell_texts(table)]


async def test_escape_before_sending_closes_with_nothing(
        monitor_session: SessionFactory, client: ConversionsClient, home: Path,
        sandbox: SandboxServer) -> None:
    make_files(home, {"a.csv": b"1"})
    app = UploadHost(monitor_session(), client, initial_paths=["a.csv"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.result is not NOT_YET, what="the modal closing")
    assert app.result is None
    assert sandbox.state.stats.by_route[POSTS] == 0


# ------------------------------------------------------------------------------ sending
async def test_a_mixed_batch_watches_the_accepted_and_lists_the_server_reasons(
        monitor_session: SessionFactory, client: ConversionsClient, home: Path,
        sandbox: SandboxServer) -> None:
    session = monitor_session()
    app = UploadHost(session, client)
    async with app.run_test(size=SIZE) as pilot:
        outcome = await mixed_upload(pilot, app, home / "in")
        modal = app.modal
        ids = outcome.accepted_ids
        assert len(ids) == 2
        assert app.accepted == [ids]  # one batch: one call, with its new IDs
        assert sorted(session.watchlist.ids()) == sorted(ids)
        for conversion_id in ids:
            row = session.watchlist.get(conversion_id)
            assert row is not None and "INC-4412" in (row.note or "")
            assert sandbox.state.get(conversion_id) is not None
        rows = {row[0].removeprefix("in/"): row
                for row in cell_texts(modal.query_one(UploadResultsTable))}
        assert rows["good-1.csv"][1] == "accepted" and rows["good-1.csv"][2] == str(ids[0])
        assert rows["good-2.json"][2] == str(ids[1])
        assert rows["reject-me.csv"][1] == "rejected"
        assert "dataSourceType 'Word'" in rows["reject-me.csv"][3]
        summary = static_text(modal, "#result-summary")
        assert "2 of 3 files accepted (ref INC-4412)" in summary
        assert f"{ids[0]}, {ids[1]}" in summary
        assert str(modal.query_one("#retry", Button).label) == "Retry 1: rejected"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.result is not NOT_YET, what="the modal closing")
    assert app.result is outcome


async def test_save_report_writes_json_lines_and_never_overwrites_unasked(
        monitor_session: SessionFactory, client: ConversionsClient, home: Path) -> None:
    report = home / "report.jsonl"
    report.write_text("keep me\n")
    app = UploadHost(monitor_session(), client)
    async with app.run_test(size=SIZE) as pilot:
        await mixed_upload(pilot, app, home / "in")

        async def save(answer: str) -> None:
            app.modal.query_one("#save", Button).press()
            await wait_for(pilot, lambda: isinstance(app.screen, TextPromptModal),
                           what="the path prompt")
            app.screen.query_one(Input).value = "~/report.jsonl"
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, QuestionModal),
                           what="the overwrite question")
            app.screen.query_one(f"#{answer}", Button).press()
            await wait_for(pilot, lambda: app.screen is app.modal, what="back to the modal")
            await pilot.pause()

        await save("no")
        assert report.read_text() == "keep me\n"
        await save("yes")
        lines = [json.loads(line) for line in report.read_text().splitlines()]
        assert [(line["file_name"], line["outcome"]) for line in lines] == [
            ("reject-me.csv", "rejected")]
        assert "dataSourceType 'Word'" in lines[0]["reasons"][0]
        assert lines[0]["path"] == str(home / "in" / "reject-me.csv")


async def test_retry_rejected_reopens_the_preview_with_just_them(
        monitor_session: SessionFactory, client: ConversionsClient, home: Path,
        sandbox: SandboxServer) -> None:
    app = UploadHost(monitor_session(), client)
    async with app.run_test(size=SIZE) as pilot:
        first = await mixed_upload(pilot, app, home / "in")
        modal = app.modal
        modal.query_one("#retry", Button).press()
        await wait_for(pilot, lambda: modal.stage == "choose", what="the preview again")
        assert [(i.file_name, i.data_source_type) for i in modal.plan.items] == [
            ("reject-me.csv", "Csv")]
        assert [row[1] for row in cell_texts(modal.query_one(UploadPreviewTable))] == [
            "in/reject-me.csv"]
        assert modal.query_one("#reference", Input).value == "INC-4412"  # kept for the retry
        second = await send_and_wait(pilot, modal)
        assert second is not first and [r.outcome for r in second.results] == [
            FileOutcome.REJECTED]
        assert sandbox.state.stats.by_route[POSTS] == 2


async def test_cancel_stops_after_the_batch_in_flight(
        monitor_session: SessionFactory, client: ConversionsClient, home: Path,
        sandbox: SandboxServer) -> None:
    make_files(home / "many", {f"f{n:02d}.csv": f"id\n{n}\n".encode() for n in range(12)})
    sandbox.faults.update({"latency": 0.3})
    session = monitor_session()
    app = UploadHost(session, client, initial_paths=["many/*.csv"], batch_records=2)
    async with app.run_test(size=SIZE) as pilot:
        modal = app.modal
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: modal.stage == "sending", what="sending")
        await wait_for(pilot, lambda: len(app.accepted) >= 1, what="a first batch answered")
        await pilot.press("escape")  # while sending, escape asks first
        await wait_for(pilot, lambda: isinstance(app.screen, QuestionModal), what="question")
        app.screen.query_one("#yes", Button).press()
        await wait_for(pilot, lambda: modal.stage == "results", what="results")
        outcome = modal.outcome
        assert outcome is not None and outcome.stopped_by == "cancel"
        posts = sandbox.state.stats.by_route[POSTS]
        assert 1 <= posts < 6
        assert len(outcome.accepted_ids) == 2 * posts  # every batch sent was answered
        assert len(outcome.not_sent) == 12 - 2 * posts
        assert app.accepted == [outcome.accepted_ids[i:i + 2] for i in range(0, 2 * posts, 2)]
        assert sorted(session.watchlist.ids()) == sorted(outcome.accepted_ids)
        assert "Stopped: Cancelled" in static_text(modal, "#result-summary")
        assert str(modal.query_one("#retry", Button).label) == f"Retry {12 - 2 * posts}: not sent"


async def test_a_wrong_key_stops_and_says_a_key_is_needed(
        monitor_session: SessionFactory, home: Path, sandbox: SandboxServer) -> None:
    make_files(home, {"a.csv": b"id\n1\n"})
    session = monitor_session()
    async with ConversionsClient(sandbox.base_url, "wrong-key", timeout=10) as wrong:
        app = UploadHost(session, wrong, initial_paths=["a.csv"])
        async with app.run_test(size=SIZE) as pilot:
            outcome = await send_and_wait(pilot, app.modal)
            assert outcome.stopped_by == "auth"
            assert "A key is needed" in static_text(app.modal, "#result-summary")
            assert session.watchlist.ids() == []
            assert app.accepted == []


async def test_a_broken_connection_is_unknown_named_and_not_offered_again(
        monitor_session: SessionFactory, client: ConversionsClient, home: Path,
        sandbox: SandboxServer) -> None:
    make_files(home, {"lost.csv": b"id\n1\n"})
    sandbox.faults.update({"drop_connection": 1.0})
    app = UploadHost(monitor_session(), client, initial_paths=["lost.csv"])
    async with app.run_test(size=SIZE) as pilot:
        modal = app.modal
        outcome = await send_and_wait(pilot, modal)
        assert [r.outcome for r in outcome.results] == [FileOutcome.UNKNOWN]
        assert sandbox.state.stats.by_route[POSTS] == 1  # never re-sent
        [row] = cell_texts(modal.query_one(UploadResultsTable))
        assert row[0] == "lost.csv" and row[1] == "UNKNOWN"
        assert "unknown outcome" in static_text(modal, "#result-summary")
        assert modal.query_one("#retry", Button).disabled


async def test_hostile_file_names_are_shown_literally(
        monitor_session: SessionFactory, client: ConversionsClient, home: Path) -> None:
    names = ["[bold]loud[red].csv", "\x1b]0;pwned\x07.csv", "\u202egnp.csv",
             "[link=http:x]a[.csv"]
    make_files(home / "in", {name: b"id\n1\n" for name in names})
    app = UploadHost(monitor_session(), client, initial_paths=["in/*"])
    async with app.run_test(size=SIZE) as pilot:
        modal = app.modal
        tree = modal.query_one(UploadFileTree)
        tree.path = home / "in"
        await wait_for(pilot, lambda: len(tree.root.children) == 4, what="the folder read")
        shown = [row[1] for row in cell_texts(modal.query_one(UploadPreviewTable))]
        assert "in/[bold]loud[red].csv" in shown  # brackets stay brackets
        assert "in/␛]0;pwned␇.csv" in shown  # escapes made visible, then left out
        assert "in/<U+202E>gnp.csv" in shown
        assert all("\x1b" not in name and "\u202e" not in name for name in shown)
        labels = [tree.render_label(node, Text().style, Text().style).plain
                  for node in tree.root.children]
        assert any("[bold]loud[red].csv" in label for label in labels)
        assert not any("\x1b" in label for label in labels)
        outcome = await send_and_wait(pilot, modal)
        assert len(outcome.accepted_ids) == 3  # the control-character name never went
        app.save_screenshot(str(home / "hostile.svg"))  # the whole screen draws
        results = [row[0] for row in cell_texts(modal.query_one(UploadResultsTable))]
        assert "in/[link=http:x]a[.csv" in results


# ----------------------------------------------------------------------------- snapshot
def test_preview_snapshot(snap_compare: Any, monitor_session: SessionFactory,
                          sandbox: SandboxServer, home: Path) -> None:
    folder = make_files(home / "tickets" / "4412", {
        "expenses.csv": b"id,amount\n1,12.50\n2,7.25\n",
        "invoices.xlsx": b"PK" + b"x" * 2046,
        "summary.json": b'{"total": 19.75}',
        "empty.csv": b"",
        "notes.txt": b"call back on Monday",
        "scan.pdf": b"%PDF-1.4" + b"0" * 120_000,
        "older/expenses.csv": b"id,amount\n9,1.00\n",
    })
    os.chdir(folder)
    client = ConversionsClient(sandbox.base_url, sandbox.api_key, timeout=10)
    app = UploadHost(monitor_session(), client,
                     initial_paths=["*", "older/expenses.csv"])

    async def settle(pilot: Pilot[Any]) -> None:
        tree = app.modal.query_one(UploadFileTree)
        await wait_for(pilot, lambda: len(tree.root.children) == 7, what="the folder read")
        app.modal.query_one("#reference", Input).value = "INC-4412"
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


async def test_a_read_only_profile_never_sends(
        monitor_session: SessionFactory, client: ConversionsClient, home: Path,
        sandbox: SandboxServer) -> None:
    make_files(home, {"a.csv": b"id\n1\n"})
    session = monitor_session()
    session.read_only = True
    app = UploadHost(session, client, initial_paths=["a.csv"])
    async with app.run_test(size=SIZE) as pilot:
        modal = app.modal
        assert modal.query_one("#send", Button).disabled
        assert "Read-only" in static_text(modal, "#read-only")
        await pilot.press("ctrl+s")
        await quiet_window(pilot)
        assert modal.stage == "choose"
    assert sandbox.state.stats.by_route[POSTS] == 0
