"""The one place that turns SQL rows into :class:`WatchedConversion` (by column name):
:class:`RowDecoder`.

At 100,000 rows the decoded rows are most of the app's memory, so texts many rows share
(a status, a type, the same warnings, no metadata) are one object each, not one a row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from operator import itemgetter
from types import MappingProxyType
from typing import Any

from tui.core.watchlist.rows import (
    _FIELDS,
    _NO_METADATA,
    RawSource,
    StoredConversion,
    WatchedConversion,
)

__all__ = ["RowDecoder"]


# Columns whose text is shared between rows that hold the same (few distinct values).
_SHARED_TEXT = frozenset({"data_source_type", "status", "upload_date", "last_problem"})
_SHARED_LIMIT = 4096


class RowDecoder:
    """Turns SQL rows (selected with the watchlist's column names) into conversions.

    Each distinct stored text is decoded once per decoder and the result shared: one
    ``all()`` of 100,000 rows decodes a handful of warning lists, not 200,000. Tuples and
    the read-only metadata mappings are immutable, so sharing them is safe. With a
    ``source``, rows are :class:`StoredConversion` that read ``raw`` from it when asked.
    """

    def __init__(self, source: RawSource | None = None) -> None:
        self._source = source
        self._texts: dict[str, tuple[str, ...]] = {"[]": ()}
        self._mappings: dict[str, Mapping[str, Any]] = {"{}": _NO_METADATA}
        self._shared: dict[str, str] = {}
        self._plans: dict[tuple[str, ...], itemgetter[Any]] = {}

    def texts(self, encoded: str) -> tuple[str, ...]:
        """A stored JSON list of strings, as a tuple."""
        found = self._texts.get(encoded)
        if found is None:
            found = self._texts[encoded] = tuple(str(item) for item in json.loads(encoded))
        return found

    def mapping(self, encoded: str) -> Mapping[str, Any]:
        """A stored JSON object, read-only."""
        found = self._mappings.get(encoded)
        if found is None:
            found = self._mappings[encoded] = MappingProxyType(dict(json.loads(encoded)))
        return found

    def _share(self, text: str | None) -> str | None:
        if text is None:
            return None
        found = self._shared.get(text)
        if found is None:
            if len(self._shared) >= _SHARED_LIMIT:
                return text
            found = self._shared[text] = text
        return found

    def _plan(self, cursor: sqlite3.Cursor) -> tuple[itemgetter[Any], tuple[str, ...]]:
        names = tuple(column[0] for column in cursor.description)
        getter = self._plans.get(names)
        if getter is None:
            position = {name: n for n, name in enumerate(names)}
            missing = [name for name in _FIELDS if name not in position]
            if missing:
                raise ValueError(f"the query lacks the columns {missing}")
            getter = self._plans[names] = itemgetter(*(position[name] for name in _FIELDS))
        return getter, names

    def decode(self, cursor: sqlite3.Cursor) -> Iterator[tuple[WatchedConversion, Any]]:
        """Each row of ``cursor`` as a conversion, with the row itself (for extra columns
        the caller selected, read by :meth:`column`)."""
        getter, _ = self._plan(cursor)
        texts, mapping, share = self.texts, self.mapping, self._share
        source = self._source
        kind = WatchedConversion if source is None else StoredConversion
        for row in cursor:
            (id_, file_name, data_source_type, status, upload_date, warnings, errors,
             metadata, first_seen, last_checked, last_changed, note, last_problem,
             problem_count, delete_requested_at, deleted_at, not_found, raw,
             last_problem_at, acknowledged_at, snoozed_until, read_at, errors_total,
             warnings_total, entered_seen) = getter(row)
            item = kind(
                id=id_, file_name=file_name, data_source_type=share(data_source_type),
                status=share(status), upload_date=share(upload_date),
                warnings=texts(warnings), errors=texts(errors), metadata=mapping(metadata),
                first_seen=first_seen, last_checked=last_checked, last_changed=last_changed,
                note=note, last_problem=share(last_problem), problem_count=problem_count,
                delete_requested_at=delete_requested_at, deleted_at=deleted_at,
                not_found=bool(not_found), raw=raw, last_problem_at=last_problem_at,
                acknowledged_at=acknowledged_at, snoozed_until=snoozed_until,
                read_at=read_at, errors_total=errors_total, warnings_total=warnings_total,
                entered_seen=bool(entered_seen),
            )
            if source is not None:
                item._source = source  # type: ignore[attr-defined]
            yield item, row

    def items(self, cursor: sqlite3.Cursor) -> Iterator[WatchedConversion]:
        """Each row of ``cursor`` as a conversion."""
        for item, _ in self.decode(cursor):
            yield item

    @staticmethod
    def column(cursor: sqlite3.Cursor, name: str) -> int:
        """Where the column ``name`` is in the rows of ``cursor``."""
        return [column[0] for column in cursor.description].index(name)
