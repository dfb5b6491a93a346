"""Reading the team store's rows into :class:`WatchedConversion`, by column name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import psycopg

from tui.core.watchlist.rows import WatchedConversion

__all__ = ["COLUMNS", "decode_rows"]

_FIELDS = tuple(name for name in WatchedConversion.__dataclass_fields__
                if name != "entered_seen")
COLUMNS = ", ".join(_FIELDS) + (
    # As in the SQLite watchlist: the row was seen entering its status when another status
    # is on record for it.
    ", EXISTS (SELECT 1 FROM status_history AS h WHERE h.profile = watched.profile "
    "AND h.id = watched.id AND h.status <> watched.status) AS entered_seen")
"""Every field of a :class:`WatchedConversion`, selected from ``watched``."""


def decode_rows(cursor: psycopg.Cursor[Any]) -> Iterator[WatchedConversion]:
    """Each row of ``cursor`` (selected with :data:`COLUMNS`) as a conversion."""
    names = [column.name for column in cursor.description or ()]
    for row in cursor:
        values = dict(zip(names, row, strict=True))
        values["warnings"] = tuple(str(item) for item in json.loads(values["warnings"]))
        values["errors"] = tuple(str(item) for item in json.loads(values["errors"]))
        values["metadata"] = MappingProxyType(dict(json.loads(values["metadata"])))
        values["id"] = int(values["id"])
        yield WatchedConversion(**values)
