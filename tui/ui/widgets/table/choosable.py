"""Columns a person chooses: which show, in what order, and those hidden by default.

The built-in columns are :data:`tui.ui.widgets.table.columns.COLUMNS`. Beside them:
the external reference given at upload (``ref``, kept by the server in the envelope's
``metadata.externalReference``), the profile the answer names (``profile``, whose key
this is, from the stored envelope) and any metadata key (``meta:rowsRead``). A chosen
list of keys (:func:`chosen_columns`) becomes the table's columns; a key that means
nothing any more is left out and named, never an error.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from tui.core.roworder import METADATA_PREFIX, extra_sort_value, metadata_text
from tui.core.untrusted import printable
from tui.ui.widgets.table.columns import COLUMN_KEYS, COLUMNS, Column

__all__ = ["EXTRA_COLUMNS", "METADATA_PREFIX", "chosen_columns", "column_for",
           "drop_order", "extra_cell", "extra_sort_value", "metadata_keys"]

#: Columns hidden until chosen. Their priorities (drop order when narrow) come after
#: every built-in column's: a chosen extra goes first when the terminal is narrow.
EXTRA_COLUMNS: tuple[Column, ...] = (
    Column("ref", "Reference", 85, 8, None, 24),
    Column("profile", "Profile", 95, 8, None, 32),
)
_EXTRA_BY_KEY = {column.key: column for column in EXTRA_COLUMNS}
_BUILT_IN = {column.key: column for column in COLUMNS}
#: Longest metadata key offered as a column (a header and a config entry).
_MAX_META_KEY = 40


def column_for(key: str) -> Column | None:
    """The column ``key`` names (built-in, extra or ``meta:NAME``), or None."""
    column = _BUILT_IN.get(key) or _EXTRA_BY_KEY.get(key)
    if column is not None:
        return column
    name = key.removeprefix(METADATA_PREFIX)
    if key.startswith(METADATA_PREFIX) and name and len(name) <= _MAX_META_KEY \
            and printable(name) == name:
        width = max(len(name), 6)
        return Column(key, name, 88, width, width, width, "right")
    return None


def chosen_columns(keys: Sequence[str]) -> tuple[tuple[Column, ...], list[str]]:
    """The columns ``keys`` choose, in that order, and the keys that name none.

    No keys: the default columns. ID is always shown (a row without it names nothing),
    first when the choice left it out.
    """
    if not keys:
        return COLUMNS, []
    columns: list[Column] = []
    unknown: list[str] = []
    for key in dict.fromkeys(keys):
        column = column_for(key)
        if column is None:
            unknown.append(key)
        else:
            columns.append(column)
    if not any(column.key == "id" for column in columns):
        columns.insert(0, _BUILT_IN["id"])
    return tuple(columns), unknown


def drop_order(columns: Iterable[Column], filled: Collection[str] = ()) -> dict[str, int]:
    """Each column's place in the order columns drop when narrow (1 goes first), with
    ``filled`` the columns some row has text in (a Note holding tickets ranks higher)."""
    ranked = sorted(columns, key=lambda column: -column.priority_for(filled))
    return {column.key: place for place, column in enumerate(ranked, start=1)}


def metadata_keys(rows: Iterable[Any], limit: int = 20) -> list[str]:
    """Metadata keys seen in ``rows`` (up to ``limit``, sorted), offered as columns."""
    keys: set[str] = set()
    for row in rows:
        for key in row.metadata:
            if key != "externalReference" and column_for(METADATA_PREFIX + str(key)):
                keys.add(str(key))
        if len(keys) >= limit:
            break
    return sorted(keys)[:limit]


def _profile_text(row: Any) -> str:
    """Who the envelope says the key belongs to (its email), read from the stored raw."""
    try:
        raw = row.raw
        envelope = json.loads(raw) if raw else None
    except (ValueError, TypeError):
        return ""
    profile = envelope.get("profile") if isinstance(envelope, dict) else None
    if not isinstance(profile, dict):
        return ""
    who = profile.get("email") or profile.get("company") or ""
    return printable(str(who), limit=200)


def extra_cell(row: Any, key: str) -> str:
    """The text of an extra column's cell for ``row`` (sanitised: server text)."""
    if key == "ref":
        return metadata_text(row.metadata, "externalReference")
    if key == "profile":
        return _profile_text(row)
    if key.startswith(METADATA_PREFIX):
        return metadata_text(row.metadata, key.removeprefix(METADATA_PREFIX))
    return ""


#: Columns offered to sort by (and any ``meta:KEY``): not Profile (see extra_sort_value).
SORTABLE_KEYS = (*COLUMN_KEYS, "ref")
