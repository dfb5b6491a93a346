"""Export watched conversions (the current view, or the marked rows) to CSV or JSON.

Choices, each for a reason:

* Never overwrite without asking: an existing file raises
  :class:`ExportTargetExists` unless ``overwrite=True`` (the UI asks, then
  calls again). Without overwrite the final step is a hard link, which fails
  atomically if someone created the file meanwhile.
* Atomic: rows go to a temporary file beside the target, then ``os.replace``;
  a crash or a full disk never leaves half an export under the chosen name.
* CSV is opened in spreadsheets, so server text that starts like a formula
  (``= + - @``, tab, CR) gets a leading ``'`` (CSV injection), and control
  characters are made visible (someone will ``cat`` the file in a terminal).
  The CSV is UTF-8 with a BOM so Excel reads non-ASCII file names right.
* JSON keeps the text exactly (its escaping already makes it inert) and the
  warnings and errors as lists.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from tui.core.attention import is_acknowledged, is_snoozed
from tui.core.statuses import read_status
from tui.core.timeinstatus import time_in_status
from tui.core.triage import TriageRow, status_since, time_in_status_is_minimum
from tui.core.untrusted import printable

if TYPE_CHECKING:  # signatures read the audit log: not needed to write a file
    from tui.core.signatures import Signatures

__all__ = [
    "ADDED_COLUMNS",
    "COLUMNS",
    "ExportFolderMissing",
    "ExportFormat",
    "ExportResult",
    "ExportTargetExists",
    "UnknownExportFormat",
    "export_rows",
    "export_text",
    "row_record",
    "spreadsheet_safe",
]

ExportFormat = Literal["csv", "json"]

ADDED_COLUMNS: Final = ("acknowledged_by",)
"""Columns added since: last, so no column moves (``list --csv`` writes them after its own
``stuck`` and ``problem``)."""

COLUMNS: Final = (
    "id", "file_name", "data_source_type", "status", "purged", "last_known_status",
    "upload_date", "first_seen",
    "last_checked", "last_changed", "time_in_status_s", "time_in_status_is_minimum",
    "time_in_status_from",
    "warning_count", "warnings",
    "error_count", "errors", "note", "acknowledged_at", "snoozed_until",
    *ADDED_COLUMNS,
)
"""CSV header, in order. JSON objects have the same keys.

``status`` is the status as the app reads it (:func:`tui.core.statuses.read_status`):
the server's word; "Deleted" with ``purged`` true for a Deleted conversion the server has
purged since (404); "Not found" for any other 404; empty when no answer came yet.
``last_known_status`` is the last status the server gave (for "Not found": what it was
before the 404, empty when it was never found). Since when a row answers 404 is not
recorded: a "Not found" row has no time in status (a purged one: the time since Deleted,
when that was seen). ``acknowledged_at`` and ``snoozed_until`` (UTC) are set while the mark
holds (:mod:`tui.core.attention`): an acknowledgement something new has happened since,
or a snooze already over, is left empty. ``acknowledged_by``: who, beside
``acknowledged_at``, when known (:func:`tui.core.signatures.signatures_of`: a team store
signs its rows; a person's own file has the audit log's user, the key's owner)."""

_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_CSV_ENCODING: Final = "utf-8-sig"


class ExportTargetExists(FileExistsError):
    """The target file exists; call again with ``overwrite=True`` once the user agrees."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} already exists; choose another name or confirm overwriting.")
        self.path = path


class ExportFolderMissing(FileNotFoundError):
    """The folder the export should go into does not exist (it is not created silently)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"The folder {path.parent} does not exist; create it or pick another.")
        self.path = path


class UnknownExportFormat(ValueError):
    """Neither the format given nor the file's extension says CSV or JSON."""

    def __init__(self, path: Path, fmt: str | None) -> None:
        what = f"format {fmt!r}" if fmt else f"extension {path.suffix or '(none)'!r}"
        super().__init__(f"Cannot export with {what}: use a .csv or .json file name.")
        self.path = path


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote, for the toast."""

    path: Path
    fmt: ExportFormat
    count: int

    def description(self) -> str:
        """A short sentence: "Exported 12 rows to /home/me/triage.csv"."""
        rows = "row" if self.count == 1 else "rows"
        return f"Exported {self.count} {rows} to {self.path}"


def _start_of(row: TriageRow) -> str | None:
    reckoned = time_in_status(row)
    return None if reckoned is None else reckoned.start.value


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace(
        "+00:00", "Z")


def row_record(
    row: TriageRow, now: float, history: Sequence[tuple[str, float]] = (),
    signed: Signatures | None = None,
) -> dict[str, Any]:
    """One row as plain data (the JSON object; CSV flattens its lists); ``signed``: who
    did what to it (:func:`tui.core.signatures.signatures_of`), when known."""
    reading = read_status(row)
    acknowledged = is_acknowledged(row)
    acknowledger = signed.acknowledged if signed is not None and acknowledged else None
    timed = reading.timed  # since when a row answers 404 is not recorded
    return {
        "id": row.id,
        "file_name": row.file_name,
        "data_source_type": row.data_source_type,
        "status": reading.word,
        "purged": reading.purged,
        "last_known_status": row.status,
        "upload_date": row.upload_date,
        "first_seen": _iso(row.first_seen),
        "last_checked": _iso(row.last_checked),
        "last_changed": _iso(row.last_changed),
        "time_in_status_s": max(0, int(now - status_since(row, history))) if timed else None,
        # Found in its status at the first check: the time counts from then, a minimum.
        "time_in_status_is_minimum": time_in_status_is_minimum(row) if timed else None,
        # Which fact the time counts from: "seen" (the change), "upload" (in flight since
        # then, an upper bound) or "first_check" (a lower bound).
        "time_in_status_from": _start_of(row) if timed else None,
        "warning_count": row.warning_count,
        "warnings": list(row.warnings),
        "error_count": row.error_count,
        "errors": list(row.errors),
        "note": row.note,
        "acknowledged_at": _iso(row.acknowledged_at) if acknowledged else None,
        "snoozed_until": _iso(row.snoozed_until) if is_snoozed(row, now) else None,
        "acknowledged_by": acknowledger.who if acknowledger is not None else None,
    }


def spreadsheet_safe(text: str) -> str:
    """``text`` for a CSV cell: controls visible, and no formula start (CSV injection)."""
    # Check before printable(): it would hide a leading tab or CR behind a symbol.
    prefix = "'" if text.startswith(_FORMULA_START) else ""
    return prefix + printable(text, limit=None)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        # One message a line inside the cell; each made safe on its own.
        return "\n".join(spreadsheet_safe(str(item)) for item in value)
    return spreadsheet_safe(str(value))


def export_text(records: Sequence[Mapping[str, Any]], fmt: ExportFormat) -> str:
    """The file content for ``records`` (from :func:`row_record`) in ``fmt``."""
    if fmt == "json":
        return json.dumps(list(records), ensure_ascii=False, indent=2) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow([_csv_cell(record[column]) for column in COLUMNS])
    return buffer.getvalue()


def _format_of(path: Path, fmt: str | None) -> ExportFormat:
    word = (fmt or path.suffix.lstrip(".")).lower()
    if word == "csv":
        return "csv"
    if word == "json":
        return "json"
    raise UnknownExportFormat(path, fmt)


def _checked_target(path: str | os.PathLike[str], fmt: str | None,
                    overwrite: bool) -> tuple[Path, ExportFormat]:
    """The expanded target and its format, or the reason it cannot be written."""
    target = Path(path).expanduser()
    chosen = _format_of(target, fmt)
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a folder; give a file name.")
    if not target.parent.is_dir():
        raise ExportFolderMissing(target)
    if target.exists() and not overwrite:
        raise ExportTargetExists(target)
    return target, chosen


def export_rows(
    rows: Sequence[TriageRow],
    path: str | os.PathLike[str],
    fmt: str | None = None,
    overwrite: bool = False,
    *,
    now: float | None = None,
    history_by_id: Mapping[int, Sequence[tuple[str, float]]] | None = None,
    signatures: Mapping[int, Signatures] | None = None,
) -> ExportResult:
    """Write ``rows`` to ``path`` (``~`` expanded) as CSV or JSON, atomically.

    ``fmt`` ("csv"/"json") wins over the extension. Raises :class:`ExportTargetExists`
    when the file exists and ``overwrite`` is False, :class:`ExportFolderMissing` when
    its folder does not exist, :class:`UnknownExportFormat`, ``IsADirectoryError``
    when the path is a folder, and other ``OSError`` (permissions, full disk).
    ``history_by_id`` (``Watchlist.history``) makes ``time_in_status_s`` exact;
    ``signatures`` (:func:`tui.core.signatures.signatures_of`) fill ``acknowledged_by``.
    """
    target, chosen = _checked_target(path, fmt, overwrite)
    moment = time.time() if now is None else now
    histories = history_by_id or {}
    signed = signatures or {}
    records = [row_record(row, moment, histories.get(row.id, ()), signed.get(row.id))
               for row in rows]
    content = export_text(records, chosen)
    _write_atomically(target, content, _CSV_ENCODING if chosen == "csv" else "utf-8",
                      overwrite=overwrite)
    return ExportResult(target, chosen, len(records))


def _write_atomically(target: Path, content: str, encoding: str, *, overwrite: bool) -> None:
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, before the rename
        "w", encoding=encoding, newline="", dir=target.parent,
        prefix=f".{target.name}.", suffix=".tmp", delete=False)
    temporary = Path(handle.name)
    try:
        with handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temporary, target)
            return
        try:
            # A hard link never replaces: if the file appeared since the check, we
            # fail instead of clobbering it.
            os.link(temporary, target)
        except FileExistsError:
            raise ExportTargetExists(target) from None
        except OSError:
            # Filesystems without hard links (FAT, some network shares).
            if target.exists():
                raise ExportTargetExists(target) from None
            os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


AUDIT_COLUMNS = ("seq", "time", "profile", "user", "action", "ids", "outcome", "detail")


class AuditRecordSource(Protocol):
    """What an audit export needs of an entry (``tui.core.audit.AuditEntry`` fits)."""

    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> float: ...
    @property
    def action(self) -> str: ...
    @property
    def ids(self) -> tuple[int, ...]: ...
    @property
    def outcome(self) -> str: ...
    @property
    def profile(self) -> str: ...
    @property
    def user(self) -> str | None: ...
    @property
    def detail(self) -> str | None: ...


def export_audit(entries: Sequence[AuditRecordSource], path: str | os.PathLike[str],
                 fmt: str | None = None, overwrite: bool = False) -> ExportResult:
    """Write audit entries to CSV or JSON with the same safety rules as :func:`export_rows`."""
    target, chosen = _checked_target(path, fmt, overwrite)
    records: list[dict[str, Any]] = [
        {"seq": e.seq, "time": _iso(e.at), "profile": e.profile, "user": e.user,
         "action": e.action, "ids": list(e.ids), "outcome": e.outcome, "detail": e.detail}
        for e in entries]
    if chosen == "json":
        content = json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(AUDIT_COLUMNS)
        for record in records:
            ids = " ".join(str(i) for i in record["ids"])
            writer.writerow([_csv_cell(ids if c == "ids" else record[c]) for c in AUDIT_COLUMNS])
        content = buffer.getvalue()
    _write_atomically(target, content, _CSV_ENCODING if chosen == "csv" else "utf-8",
                      overwrite=overwrite)
    return ExportResult(target, chosen, len(records))
