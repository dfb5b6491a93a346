"""Chosen columns: extra keys (reference, profile, metadata), unknown keys, drop order."""

from __future__ import annotations

import json
from types import SimpleNamespace

from tui.ui.widgets.table.choosable import (
    chosen_columns,
    column_for,
    drop_order,
    extra_cell,
    extra_sort_value,
    metadata_keys,
)
from tui.ui.widgets.table.columns import COLUMNS, layout_columns


def row(**metadata: object) -> SimpleNamespace:
    raw = json.dumps({"profile": {"email": "ops@example.com\x1b[31m"}})
    return SimpleNamespace(metadata=metadata, raw=raw)


def test_chosen_keys_keep_their_order_and_name_what_is_gone() -> None:
    columns, unknown = chosen_columns(["status", "meta:rowsRead", "bogus", "ref", "file"])
    assert [c.key for c in columns] == ["id", "status", "meta:rowsRead", "ref", "file"]
    assert unknown == ["bogus"]
    assert chosen_columns([]) == (COLUMNS, [])
    assert column_for("meta:") is None and column_for("meta:a\x1bb") is None


def test_extra_cells_are_sanitised_and_sort_numbers_as_numbers() -> None:
    a = row(rowsRead=12, externalReference="INC-\x1b4412")
    b = row(rowsRead=3)
    assert extra_cell(a, "meta:rowsRead") == "12"
    assert "\x1b" not in extra_cell(a, "ref") and extra_cell(a, "ref").startswith("INC-")
    assert "\x1b" not in extra_cell(a, "profile") and "ops@example.com" in extra_cell(a, "profile")
    assert extra_cell(b, "ref") == ""
    assert extra_sort_value(b, "meta:rowsRead") < extra_sort_value(a, "meta:rowsRead")
    assert extra_sort_value(a, "meta:missing") > extra_sort_value(a, "meta:rowsRead")
    assert metadata_keys([a, b]) == ["rowsRead"]


def test_at_80_columns_chosen_columns_drop_by_their_shown_priority() -> None:
    columns, _ = chosen_columns(["id", "file", "status", "meta:rowsRead", "ref", "note",
                                 "uploaded", "type", "errors", "warnings", "checked"])
    order = drop_order(columns)
    shown = {slot.column.key for slot in layout_columns(80, {"id": 5}, columns)}
    dropped = set(order) - shown
    assert dropped, "80 cells should not hold every chosen column"
    # Whatever was dropped went before anything kept, in the order the chooser shows.
    assert max(order[key] for key in dropped) < min(order[key] for key in shown)
