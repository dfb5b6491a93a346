"""The add modal's preview: what will be added, what is watched already, what is no ID."""

from __future__ import annotations

from tui.core.idlist import parse_id_list
from tui.ui.screens.add_ids import summarise


def test_the_preview_counts_only_new_ids_and_names_the_watched_ones() -> None:
    result = parse_id_list("4512-4514, 9, 12x4")
    assert summarise(result, watched={4513}) == (
        "Will add 3: 4512, 4514, 9 (1 already watched)\nNot IDs: 12x4 (not an ID)")


def test_the_preview_says_when_nothing_is_new() -> None:
    assert summarise(parse_id_list("7 8"), watched={7, 8, 9}) == (
        "All 2 already watched: nothing new to add")


def test_the_preview_without_a_watchlist_and_empty() -> None:
    assert summarise(parse_id_list("1-12")) == (
        "Will add 12: 1, 2, 3, 4, 5, 6, 7, 8 and 4 more")
    assert summarise(parse_id_list("")).startswith("Type IDs")
