"""Time in status from the best fact known, and stuck thresholds per status (issue 13)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.core.config_file import config_to_dict
from tui.core.export import export_rows
from tui.core.settings import dumps_toml, load_config, parse_config
from tui.core.timeinstatus import (
    StatusStart,
    StuckAfter,
    is_stuck,
    parse_duration,
    time_in_status,
)
from tui.core.watchlist import WatchedConversion


def at(hhmm: str) -> float:
    """Unix seconds of a time on 2026-12-06 (UTC)."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2026, 12, 6, hours, minutes, tzinfo=UTC).timestamp()


def row(**fields: Any) -> WatchedConversion:
    values: dict[str, Any] = {
        "id": 1, "file_name": "payroll.csv", "data_source_type": "Csv",
        "status": "Processing", "upload_date": "2026-12-06T03:00:00Z", "warnings": (),
        "errors": (), "metadata": {}, "first_seen": at("10:00"), "last_checked": at("10:00"),
        "last_changed": at("10:00"), "note": None, "last_problem": None, "problem_count": 0,
        "delete_requested_at": None, "deleted_at": None, "not_found": False, "raw": None,
        "entered_seen": False,
    }
    values.update(fields)
    return WatchedConversion(**values)


# -- where the time counts from -----------------------------------------------------------

def test_a_row_found_in_flight_counts_from_its_upload() -> None:
    # Uploaded at 03:00, first checked at 10:00 already Processing: in flight for 7 h.
    reckoned = time_in_status(row())
    assert reckoned is not None
    assert (reckoned.since, reckoned.start) == (at("03:00"), StatusStart.UPLOAD)
    assert reckoned.is_maximum and not reckoned.is_minimum
    assert reckoned.seconds(at("10:05")) == 7 * 3600 + 300


def test_a_change_seen_wins_over_the_upload() -> None:
    reckoned = time_in_status(row(entered_seen=True, last_changed=at("09:58")))
    assert reckoned is not None
    assert (reckoned.since, reckoned.start) == (at("09:58"), StatusStart.SEEN)


@pytest.mark.parametrize("fields", [
    {"status": "Completed"},  # settled when first seen: since when is unknown
    {"upload_date": None},
    {"upload_date": "not a date"},
    {"upload_date": "2026-12-06T11:00:00Z"},  # after the first check: the server's clock
], ids=["settled", "no-upload", "bad-upload", "clock-ahead"])
def test_without_a_usable_upload_the_time_counts_from_the_first_check(
        fields: dict[str, Any]) -> None:
    reckoned = time_in_status(row(**fields))
    assert reckoned is not None
    assert (reckoned.since, reckoned.start) == (at("10:00"), StatusStart.FIRST_CHECK)
    assert reckoned.is_minimum


def test_no_status_yet_has_no_time_in_status() -> None:
    assert time_in_status(row(status=None)) is None


# -- stuck ---------------------------------------------------------------------------------

def test_stuck_at_once_when_the_upload_says_it_hung_for_hours() -> None:
    # The case: uploaded 03:00, still Processing at 10:00, first seen at 10:00.
    assert is_stuck(row(), at("10:00"), StuckAfter(1800.0))


def test_thresholds_per_status() -> None:
    rule = StuckAfter.from_config({"Queued": "15m", "Processing": "30m"})
    queued = row(status="Queued", upload_date="2026-12-06T09:40:00Z")
    processing = row(upload_date="2026-12-06T09:40:00Z")
    # 20 minutes since the upload: over Queued's 15, under Processing's 30.
    assert is_stuck(queued, at("10:00"), rule)
    assert not is_stuck(processing, at("10:00"), rule)
    assert is_stuck(processing, at("10:11"), rule)
    assert rule.threshold("uploaded") == rule.default == 1800.0


def test_settled_rows_are_never_stuck() -> None:
    assert not is_stuck(row(status="Failed"), at("23:00"), StuckAfter(60.0))


# -- the config ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90.0), ("15m", 900.0), ("15 min", 900.0), ("2h", 7200.0), ("1h30m", 5400.0),
    ("1.5h", 5400.0), ("1d", 86_400.0), (600, 600.0), (2.5, 2.5),
])
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@given(st.one_of(st.text(max_size=20), st.integers(), st.floats(), st.booleans(),
                 st.none(), st.lists(st.integers(), max_size=2)))
def test_any_duration_value_is_seconds_or_one_sentence(value: object) -> None:
    try:
        seconds = parse_duration(value)
    except ValueError as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert seconds > 0


def test_stuck_after_forms_in_the_config_and_back() -> None:
    config = parse_config(
        '[profiles.a]\nbase_url = "https://a.example"\n'
        'stuck_after = { Queued = "15m", Processing = "30m" }\n'
        '[profiles.b]\nbase_url = "https://b.example"\nstuck_after = "45m"\n'
        '[profiles.c]\nbase_url = "https://c.example"\nstuck_after = 600\n'
        '[profiles.d]\nbase_url = "https://d.example"\n')
    assert config.warnings == []
    stuck = {name: profile.stuck_after for name, profile in config.profiles.items()}
    assert stuck["a"] == StuckAfter(1800.0, {"Queued": 900.0, "Processing": 1800.0})
    assert stuck["b"] == StuckAfter(2700.0) and stuck["c"] == StuckAfter(600.0)
    assert stuck["d"] == StuckAfter()
    again = parse_config(dumps_toml(config_to_dict(config)))
    assert {name: p.stuck_after for name, p in again.profiles.items()} == stuck
    assert "stuck_after" not in config_to_dict(config)["profiles"]["d"]  # the default


@pytest.mark.parametrize(("value", "problem"), [
    ('"soon"', "'soon' is not a duration"),
    ('{ Queued = "15x" }', "Queued: '15x' is not a duration"),
    ('{ Completed = "15m" }', "'Completed' is not an in-flight status"),
    ("0", "0 is not a duration above zero"),
])
def test_a_bad_stuck_after_names_file_and_line_and_the_default_is_used(
        tmp_path: Path, value: str, problem: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text('default_profile = "prod"\n\n[profiles.prod]\n'
                    'base_url = "https://api.example.com"\n'
                    f"stuck_after = {value}\npoll_interval = 5\n", encoding="utf-8")
    config = load_config(path)  # no exception: the app starts
    assert config.profiles["prod"].stuck_after == StuckAfter()
    assert config.profiles["prod"].poll_interval == 5.0
    [warning] = config.warnings
    assert warning.startswith(f"{path}: line 5: stuck_after: "), warning
    assert problem in warning and warning.endswith("the default (30 min) is used")


def test_export_says_which_fact_the_time_counts_from(tmp_path: Path) -> None:
    target = tmp_path / "rows.json"
    rows = [row(id=1), row(id=2, entered_seen=True), row(id=3, upload_date=None)]
    export_rows(rows, target, now=at("10:30"))
    exported = {item["id"]: item for item in json.loads(target.read_text(encoding="utf-8"))}
    assert exported[1]["time_in_status_from"] == "upload"
    assert exported[1]["time_in_status_s"] == 7 * 3600 + 1800
    assert exported[1]["time_in_status_is_minimum"] is False
    assert exported[2]["time_in_status_from"] == "seen"
    assert exported[3]["time_in_status_from"] == "first_check"
    assert exported[3]["time_in_status_is_minimum"] is True
