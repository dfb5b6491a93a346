"""Status spans, durations, the Markdown ticket summary and the problem line."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tui.core.triage import (
    StatusSpan,
    format_duration,
    markdown_text,
    problem_summary,
    status_since,
    time_in_statuses,
    triage_markdown,
)
from tui.core.watchlist import WatchedConversion


def watched(conversion_id: int, **fields: Any) -> WatchedConversion:
    """A watched row with quiet defaults; ``fields`` override any of them."""
    values: dict[str, Any] = {
        "id": conversion_id, "file_name": None, "data_source_type": None, "status": None,
        "upload_date": None, "warnings": (), "errors": (), "metadata": {},
        "first_seen": 0.0, "last_checked": None, "last_changed": None, "note": None,
        "last_problem": None, "problem_count": 0, "delete_requested_at": None,
        "deleted_at": None, "not_found": False, "raw": None,
    }
    values.update(fields)
    return WatchedConversion(**values)


# A Markdown special character not preceded by a backslash.
_UNESCAPED = re.compile(r"(?<!\\)[|`*_\[\]<>&~]")


def test_spans_from_history() -> None:
    history = [("Uploaded", 100.0), ("Processing", 160.0), ("Failed", 2680.0)]
    assert time_in_statuses(history, now=3000.0) == [
        StatusSpan("Uploaded", 100.0, 160.0, 60.0),
        StatusSpan("Processing", 160.0, 2680.0, 2520.0),
        StatusSpan("Failed", 2680.0, 3000.0, 320.0),
    ]


def test_spans_sorted_and_repeats_merged() -> None:
    history = [("Processing", 50.0), ("Uploaded", 10.0), ("Processing", 70.0)]
    spans = time_in_statuses(history, now=100.0)
    assert [(s.status, s.start, s.seconds) for s in spans] == [
        ("Uploaded", 10.0, 40.0),
        ("Processing", 50.0, 50.0),
    ]


def test_spans_never_negative_and_empty_history() -> None:
    assert time_in_statuses([], now=5.0) == []
    (span,) = time_in_statuses([("Queued", 500.0)], now=400.0)
    assert span.seconds == 0.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "0 s"),
        (0, "0 s"),
        (42, "42 s"),
        (59.9, "59 s"),
        (60, "1 min"),
        (180, "3 min"),
        (3599, "59 min"),
        (3600, "1 h 00 min"),
        (3900, "1 h 05 min"),
        (86_399, "23 h 59 min"),
        (86_400, "1 d 0 h"),
        (2 * 86_400 + 3 * 3600 + 59, "2 d 3 h"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_status_since_prefers_history_then_last_changed() -> None:
    row = watched(1, status="Failed", first_seen=10.0, last_changed=90.0)
    assert status_since(row, [("Processing", 20.0), ("Failed", 80.0)]) == 80.0
    # History that does not end in the current status is stale: use the row.
    assert status_since(row, [("Processing", 20.0)]) == 90.0
    assert status_since(watched(2, status="Queued", first_seen=10.0)) == 10.0


def test_markdown_text_escapes_syntax_and_controls() -> None:
    hostile = "a|b`c*d_e[link](javascript:x)<img src=x>\x1b[31m & ~x~ \\"
    safe = markdown_text(hostile)
    assert _UNESCAPED.search(safe) is None
    assert "\x1b" not in safe and "␛" in safe
    # Unescaping gives back the visible text: nothing was lost.
    assert re.sub(r"\\(.)", r"\1", safe) == hostile.replace("\x1b", "␛")
    assert markdown_text(None) == "—"


def _summary(**fields: Any) -> str:
    row = watched(4512, **fields)
    history = [("Uploaded", 1000.0), ("Processing", 1060.0), ("Failed", 1360.0)]
    return triage_markdown([row], {4512: history}, now=1660.0)


def test_a_status_found_at_the_first_check_is_at_least_that_long() -> None:
    row = watched(4513, status="Completed", first_seen=1000.0)
    text = triage_markdown([row], {4513: [("Completed", 1000.0)]}, now=1660.0)
    assert "- Status: Completed (for at least 11 min)" in text
    seen = triage_markdown([watched(4513, status="Completed", entered_seen=True)],
                           {4513: [("Completed", 1000.0)]}, now=1660.0)
    assert "- Status: Completed (for 11 min)" in seen


def test_summary_has_the_facts() -> None:
    text = _summary(file_name="orders.csv", data_source_type="Csv", status="Failed",
                    upload_date="2025-01-01T10:00:00Z", errors=("bad header",),
                    warnings=("empty line 3", "empty line 9"), note="customer ACME")
    assert "### Conversion 4512: orders.csv" in text
    assert "- ID: 4512" in text
    assert "- Type: Csv" in text
    assert "- Status: Failed (for 5 min)" in text
    assert "- History: Uploaded 1 min, Processing 5 min, Failed 5 min" in text
    assert "- Errors (1):\n  - bad header" in text
    assert "- Warnings (2):\n  - empty line 3\n  - empty line 9" in text
    assert "- Note: customer ACME" in text
    assert text.startswith("## Conversions triage: 1 conversion (1970-01-01 00:27 UTC)")


def test_summary_quotes_first_five_messages_and_counts_the_rest() -> None:
    warnings = tuple(f"warning {n}" for n in range(8))
    text = _summary(status="Completed", warnings=warnings)
    assert "- Warnings (8):" in text
    assert "warning 4" in text and "warning 5" not in text
    assert "  - … and 3 more" in text
    assert "- Errors: none" in text


def test_summary_of_hostile_server_text_stays_one_clean_section() -> None:
    text = _summary(file_name="x|y\n### Fake heading", status="Fa*led",
                    errors=("<script>alert(1)</script>", "`rm -rf`", "line1\nline2\x07"),
                    note="[click](http://evil)")
    body = text.splitlines()
    # The hostile newline did not start a new heading: only ours exist.
    assert [line for line in body if line.startswith("#")] == [
        body[0], "### Conversion 4512: x\\|y␊\\#\\#\\# Fake heading"]
    for line in body:
        assert _UNESCAPED.search(line) is None, line
        assert not any(ord(char) < 0x20 for char in line), line
    assert "- Status: Fa\\*led" in text


def test_summary_of_several_rows_and_unchecked_row() -> None:
    rows = [watched(1, status="Completed"), watched(2, status=None)]
    text = triage_markdown(rows, {}, now=100.0)
    assert text.startswith("## Conversions triage: 2 conversions")
    assert text.index("### Conversion 1") < text.index("### Conversion 2")
    assert "- Status: not checked yet" in text


def test_problem_summary() -> None:
    assert problem_summary(watched(1)) is None
    one = watched(1, last_problem="timed out", problem_count=1)
    assert problem_summary(one) == "last check: timed out"
    many = watched(1, last_problem="HTTP 502, HTML page", problem_count=3)
    assert problem_summary(many) == "last 3 checks: HTTP 502, HTML page"
    hostile = watched(1, last_problem="HTTP 500: \x1b]0;pwned\x07", problem_count=2)
    summary = problem_summary(hostile)
    assert summary is not None and "\x1b" not in summary and "\x07" not in summary


def test_summary_says_acknowledged_and_snoozed_while_they_hold() -> None:
    taken = _summary(status="Failed", last_changed=1360.0, acknowledged_at=1400.0,
                     snoozed_until=1700.0)
    assert "- Acknowledged: 1970-01-01 00:23 UTC" in taken
    assert "- Snoozed until: 1970-01-01 00:28 UTC" in taken
    # Failed again after the ack, and the snooze is over: neither is said.
    news = _summary(status="Failed", last_changed=1500.0, acknowledged_at=1400.0,
                    snoozed_until=1600.0)
    assert "Acknowledged" not in news and "Snoozed" not in news
