"""The [profiles.NAME.alerts] table and quiet hours: bad input warns once, defaults hold."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.core.alerts.events import AlertKind
from tui.core.alerts.quiet import QuietHours
from tui.core.alerts.settings import AlertSettings, ChannelSwitches, parse_alert_settings
from tui.core.config_file import config_to_dict
from tui.core.settings import (
    dumps_toml,
    load_config,
    parse_config,
    resolve_profile,
)

PROFILE = '[profiles.prod]\nbase_url = "https://api.example.com"\n'


def _alerts(tmp_path: Path, table: str) -> tuple[AlertSettings, list[str]]:
    path = tmp_path / "config.toml"
    path.write_text(PROFILE + "\n[profiles.prod.alerts]\n" + table, encoding="utf-8")
    config = load_config(path)
    return config.profiles["prod"].alerts, config.warnings


def test_no_alerts_table_means_every_rule_and_channel() -> None:
    config = parse_config(PROFILE)
    alerts = config.profiles["prod"].alerts
    assert alerts == AlertSettings()
    assert alerts.rules == frozenset(AlertKind)
    assert alerts.channels == ChannelSwitches(True, True, True, True)
    assert alerts.quiet_hours is None and alerts.hook is None
    assert alerts.hook_timeout == 10 and alerts.delete_stalled_after == 600
    assert config.warnings == []


def test_a_full_table_is_read(tmp_path: Path) -> None:
    alerts, warnings = _alerts(tmp_path, '''\
rules = ["failed", "Stuck"]
bell = false
osc9 = true
osc777 = false
osc99 = true
quiet_hours = "22:00-07:00"
hook = "/usr/local/bin/notify-chat --channel 'ops room'"
hook_timeout = "5s"
delete_stalled_after = "15m"
''')
    assert warnings == []
    assert alerts.rules == {AlertKind.FAILED, AlertKind.STUCK}
    assert alerts.channels == ChannelSwitches(bell=False, osc9=True, osc777=False, osc99=True)
    assert alerts.quiet_hours == QuietHours(22 * 60, 7 * 60)
    assert alerts.hook == ("/usr/local/bin/notify-chat", "--channel", "ops room")
    assert alerts.hook_timeout == 5 and alerts.delete_stalled_after == 900
    assert alerts.wants(AlertKind.FAILED) and not alerts.wants(AlertKind.KEY_REFUSED)


def test_an_inline_table_works_too() -> None:
    config = parse_config(PROFILE + 'alerts = { rules = ["failed"], hook = ["/bin/true"] }\n')
    assert config.profiles["prod"].alerts.rules == {AlertKind.FAILED}
    assert config.profiles["prod"].alerts.hook == ("/bin/true",)


@pytest.mark.parametrize(("line", "words"), [
    ('rules = ["failed", "explode"]', ["'explode' is not a rule", "failed, stuck"]),
    ('rules = "failed"', ["list of rule names"]),
    ('bell = "yes"', ["true or false"]),
    ('quiet_hours = "25:00-07:00"', ["does not exist", "22:00-07:00"]),
    ('quiet_hours = "22:00"', ["not a time range"]),
    ('quiet_hours = "08:00-08:00"', ["same time"]),
    ('hook_timeout = "soon"', ["not a duration", "10 s is used"]),
    ('hook_timeout = -1', ["above zero"]),
    ('delete_stalled_after = "10 minutes"', ["not a duration", "10 min is used"]),
    ('hook = "notify \'unclosed"', ["not a command line"]),
    ('hook = ""', ["not a command"]),
    ('hook = 3', ["should be a command"]),
    ("colour = 1", ["unknown alerts key 'colour'"]),
])
def test_a_bad_value_is_one_sentence_with_file_and_line(tmp_path: Path, line: str,
                                                         words: list[str]) -> None:
    alerts, warnings = _alerts(tmp_path, "osc9 = true\n" + line + "\n")
    assert len(warnings) == 1, warnings
    # The profile is 2 lines, a blank, the header, "osc9 = true": the bad key is line 6.
    assert warnings[0].startswith(f"{tmp_path / 'config.toml'}: line 6: "), warnings[0]
    for word in words:
        assert word in warnings[0]
    assert alerts == AlertSettings(), "a bad key keeps its default"


def test_bad_keys_each_warn_and_good_ones_still_count(tmp_path: Path) -> None:
    alerts, warnings = _alerts(tmp_path, 'rules = ["nope"]\nbell = false\nhook_timeout = "x"\n')
    assert len(warnings) == 2
    assert alerts.channels.bell is False and alerts.rules == frozenset(AlertKind)


def test_alerts_that_is_not_a_table_warns_and_uses_defaults() -> None:
    config = parse_config(PROFILE + "alerts = 3\n")
    assert config.profiles["prod"].alerts == AlertSettings()
    assert len(config.warnings) == 1 and "should be a table" in config.warnings[0]


def test_no_alerts_switches_everything_off_and_keeps_the_rest() -> None:
    alerts = AlertSettings(quiet_hours=QuietHours.parse("22:00-07:00"), hook=("/bin/true",))
    off = alerts.switched_off()
    assert not any(off.wants(kind) for kind in AlertKind)
    assert not off.channels_at(datetime(2026, 1, 1, 12, 0)).any
    assert off.hook == alerts.hook and alerts.enabled, "the original is unchanged"
    config = parse_config(PROFILE + "[profiles.prod.alerts]\nenabled = false\n")
    assert config.profiles["prod"].alerts.wants(AlertKind.FAILED) is False
    profile = parse_config(PROFILE).profiles["prod"]
    running = profile.model_copy(update={"alerts": profile.alerts.switched_off()})
    assert not running.alerts.enabled and profile.alerts.enabled


def test_quiet_hours_silence_the_terminal_channels_only_inside() -> None:
    alerts = AlertSettings(quiet_hours=QuietHours.parse("22:00-07:00"),
                           channels=ChannelSwitches(osc777=False))
    assert not alerts.channels_at(datetime(2026, 1, 1, 23, 30)).any
    assert not alerts.channels_at(datetime(2026, 1, 1, 6, 59)).any
    assert alerts.channels_at(datetime(2026, 1, 1, 7, 0)) == ChannelSwitches(osc777=False)


def test_the_table_survives_saving_and_resolving(tmp_path: Path) -> None:
    alerts, _ = _alerts(tmp_path, 'rules = ["stuck"]\nosc99 = false\nquiet_hours = "1:30-2:00"\n'
                                  'hook = "/bin/x \'a b\'"\nhook_timeout = 3\nenabled = false\n')
    config = parse_config(dumps_toml(config_to_dict(load_config(tmp_path / "config.toml"))))
    assert config.profiles["prod"].alerts == alerts
    assert config.warnings == []
    resolved = resolve_profile(config, profile="prod", base_url="https://b.example.com", env={})
    assert resolved.alerts == alerts


@pytest.mark.parametrize(("text", "inside", "outside"), [
    ("22:00-07:00", [time(22, 0), time(23, 59), time(0, 0), time(6, 59)],
     [time(7, 0), time(12, 0), time(21, 59)]),
    ("12:00-13:00", [time(12, 0), time(12, 59)], [time(11, 59), time(13, 0), time(0, 0)]),
    (" 7:05 - 9:00 ", [time(7, 5), time(8, 0)], [time(7, 4), time(9, 0)]),
])
def test_quiet_hours_ranges(text: str, inside: list[time], outside: list[time]) -> None:
    quiet = QuietHours.parse(text)
    assert all(quiet.contains(moment) for moment in inside)
    assert not any(quiet.contains(moment) for moment in outside)
    assert QuietHours.parse(quiet.to_config()) == quiet


_KEYS = st.sampled_from(["quiet_hours", "rules", "hook_timeout", "delete_stalled_after",
                         "hook", "bell"])
_VALUES = st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.booleans(),
                    st.lists(st.text(max_size=12), max_size=4), st.none())


@given(key=_KEYS, value=_VALUES)
def test_any_value_gives_a_setting_or_one_sentence(key: str, value: object) -> None:
    warnings: list[str] = []
    alerts = parse_alert_settings({key: value}, file="c.toml", table="profiles.p.alerts",
                                  warnings=warnings, line_of=lambda _key: 7)
    assert isinstance(alerts, AlertSettings)
    assert len(warnings) <= 1
    for warning in warnings:
        assert warning.startswith("c.toml: line 7: alerts " + key)
        assert "\n" not in warning.replace(repr(value), "")


@given(st.text(max_size=40))
def test_any_quiet_hours_text_is_a_range_or_a_sentence(text: str) -> None:
    try:
        quiet = QuietHours.parse(text)
    except ValueError as error:
        assert "22:00-07:00" in str(error)
    else:
        assert 0 <= quiet.start < 1440 and 0 <= quiet.end < 1440 and quiet.start != quiet.end
