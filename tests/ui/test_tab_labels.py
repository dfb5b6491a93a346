"""The view tabs fit an 80-column terminal: short names below 100 columns."""

from __future__ import annotations

from tui.ui.views import NARROW_TABS, VIEWS, VIEWS_BY_KEY, tab_label

# Textual's Tab pads its label with one cell each side.
PADDING = 2


def bar_width(width: int, counts: dict[str, str]) -> int:
    return sum(len(tab_label(view, counts.get(view.key, "99"), width)) + PADDING
               for view in VIEWS)


def test_every_tab_fits_80_columns_with_a_day_s_counts() -> None:
    # A thousand watched, the other tabs in two digits: all eight tabs in sight.
    assert bar_width(80, {"all": "1,234"}) <= 80
    # With the long names they did not (the bar scrolled, All and Active out of sight).
    assert sum(len(f"{view.label} 99") + PADDING for view in VIEWS) + 3 > 80


def test_wide_screens_keep_the_full_names() -> None:
    assert tab_label(VIEWS_BY_KEY["warnings"], "3", NARROW_TABS) == "Warnings 3"
    assert tab_label(VIEWS_BY_KEY["warnings"], "3", NARROW_TABS - 1) == "Warn 3"
    assert tab_label(VIEWS_BY_KEY["all"], "3", 80) == "All 3"  # no short name: the label
