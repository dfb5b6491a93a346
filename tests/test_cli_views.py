"""``conversions-tui list --view NAME``: the filter of a view saved in the monitor, against
the real sandbox; an unknown name and a view naming a status gone."""

from __future__ import annotations

import json

import pytest

from tests.test_cli_list import env, run, three
from tui.core.paths import AppPaths
from tui.core.savedviews import ProfileLayout, SavedView, TableLayout, save_layouts

__all__ = ["env", "three"]  # fixtures used by name below


def save_views(*views: SavedView) -> None:
    save_layouts(AppPaths.default().views_file, "default", ProfileLayout(views=views))


def test_list_view_uses_the_saved_filter(three: dict[str, int],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    save_views(SavedView("Failures", "status:failed"), SavedView("Payroll", "file:payroll*"))
    assert run(capsys, "list", "--refresh")[0] == 1
    code, out, err = run(capsys, "list", "--view", "Failures", "--json")
    assert code == 1, err
    assert [r["id"] for r in json.loads(out)] == [three["failed"]]
    code, out, err = run(capsys, "list", "--view", "Payroll", "--json")
    assert (code, err) == (0, "")
    assert [r["id"] for r in json.loads(out)] == [three["done"]]


def test_an_unknown_view_exits_2_with_one_sentence(three: dict[str, int],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    save_views(SavedView("Failures", "status:failed"))
    code, out, err = run(capsys, "list", "--view", "Failurez")
    assert (code, out) == (2, "")
    assert err == ("conversions-tui list: no saved view is called 'Failurez' in profile "
                   "'default'.\n")


def test_a_view_naming_a_status_gone_still_lists_with_a_note(
        three: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    save_views(SavedView("Old", "status:archived type:json"))
    assert run(capsys, "list", "--refresh")[0] == 1
    code, out, err = run(capsys, "list", "--view", "Old", "--json")
    assert [r["id"] for r in json.loads(out)] == [three["failed"]]
    assert code == 1
    assert "view 'Old': 'status:archived'" in err and "left out" in err


def test_view_and_filter_together_is_a_usage_error(three: dict[str, int],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        run(capsys, "list", "--view", "A", "--filter", "type:csv")
    assert raised.value.code == 2


def test_the_monitor_with_an_unknown_view_exits_2_before_starting(
        env: object, capsys: pytest.CaptureFixture[str]) -> None:
    save_views(SavedView("Failures", "status:failed"))
    code, out, err = run(capsys, "--view", "Failurez")
    assert (code, out) == (2, "")
    assert err == ("conversions-tui: no saved view is called 'Failurez' in profile "
                   "'default'.\n")
    code, _, err = run(capsys, "--demo", "--view", "Failures")
    assert code == 2 and "the demo keeps none" in err


def test_a_view_saved_on_a_tab_lists_that_tab_or_says_it_cannot(
        three: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    save_views(SavedView("F", "", base="failed"), SavedView("S", "type:json", base="stuck"))
    assert run(capsys, "list", "--refresh")[0] == 1
    code, out, err = run(capsys, "list", "--view", "F", "--json")
    assert (code, err) == (1, "")
    assert [r["id"] for r in json.loads(out)] == [three["failed"]]
    code, out, err = run(capsys, "list", "--view", "S", "--json")
    assert [r["id"] for r in json.loads(out)] == [three["failed"]]
    assert err == ("conversions-tui list: view 'S' was saved on the 'stuck' tab; list "
                   "applies its filter only.\n")


def listed(capsys: pytest.CaptureFixture[str], *argv: str) -> list[int]:
    code, out, err = run(capsys, "list", *argv, "--json")
    assert code in (0, 1), err
    return [r["id"] for r in json.loads(out)]


def test_list_view_lists_in_the_views_saved_sort(three: dict[str, int],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The order the monitor's table shows the view in: its column, its direction."""
    done, failed, hostile = three["done"], three["failed"], three["hostile"]
    save_views(SavedView("By file", layout=TableLayout("file", False)),
               SavedView("By file, reversed", layout=TableLayout("file", True)),
               SavedView("Triage", layout=TableLayout("status", False)),
               SavedView("Triage, reversed", layout=TableLayout("status", True)),
               SavedView("Most errors", "status:failed,completed",
                         layout=TableLayout("errors", True)))
    assert run(capsys, "list", "--refresh")[0] == 1
    # The hostile name is drawn "pay␛[31mroll…": after "payroll-march.csv" by the table.
    assert listed(capsys, "--view", "By file") == [done, hostile, failed]
    assert listed(capsys, "--view", "By file, reversed") == [failed, hostile, done]
    # By status: Failed first (what needs a person), ties by ID.
    assert listed(capsys, "--view", "Triage") == [failed, done, hostile]
    assert listed(capsys, "--view", "Triage, reversed") == [hostile, done, failed]
    assert listed(capsys, "--view", "Most errors") == [failed, hostile, done]
    # Without a view: by ID, whatever was saved.
    assert listed(capsys, "--filter", "") == [done, failed, hostile]
    code, out, _ = run(capsys, "list", "--view", "By file")  # the plain table too
    assert code == 1
    assert [int(line.split()[0]) for line in out.splitlines()[1:]] == [done, hostile, failed]


def test_list_view_sorted_by_a_column_gone_lists_by_id_with_a_note(
        three: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    save_views(SavedView("Old", layout=TableLayout("priority", True)))
    code, out, err = run(capsys, "list", "--view", "Old", "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == sorted(three.values())
    assert err == ("conversions-tui list: view 'Old': sort column 'priority' no longer "
                   "exists (sorted by ID)\n")
