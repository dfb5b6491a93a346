"""Who did what to a watched row: "note by dana 10:42", "delete requested by sam 10:44".

A team store signs its rows itself (:meth:`tui.core.teamstore.TeamStore.signatures`: who
added, noted, acknowledged and asked to delete each row). A person's own SQLite file does
not; there the audit log says who acknowledged a row or asked to delete it, and a note is
nobody's but the person's. :func:`signatures_of` reads whichever the store has, for Inspect
and the triage summary; a store that cannot answer now (the team database away) gives
nothing rather than an error: who did it is extra, never worth a failed Inspect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from tui.core.audit import AuditTrail
from tui.core.untrusted import printable
from tui.core.watchlist.rows import WatchedConversion
from tui.core.watchstore import StoreRefused

__all__ = ["Signature", "Signatures", "SignedStore", "acknowledgers", "signatures_of"]


@dataclass(frozen=True)
class Signature:
    """One person's act on a row, and when (unix seconds; None: not recorded)."""

    who: str
    at: float | None = None

    def sentence(self, verb: str, now: float | None = None,
                 clock: Callable[[float], str] | None = None) -> str:
        """ "note by dana 10:42" (a date when not today; ``clock`` formats the time
        instead, a ticket's UTC say), the name made printable."""
        said = f"{verb} by {printable(self.who, limit=80)}"
        if self.at is None:
            return said
        if clock is not None:
            return f"{said} {clock(self.at)}"
        when = datetime.fromtimestamp(self.at)
        today = datetime.fromtimestamp(now).date() if now is not None else None
        shown = f"{when:%H:%M}" if when.date() == today else f"{when.day} {when:%b %H:%M}"
        return f"{said} {shown}"


@dataclass(frozen=True)
class Signatures:
    """Who added, noted, acknowledged and asked to delete one row (None: not known)."""

    added: Signature | None = None
    note: Signature | None = None
    acknowledged: Signature | None = None
    delete_requested: Signature | None = None

    def sentences(self, now: float | None = None,
                  clock: Callable[[float], str] | None = None) -> list[str]:
        """ "note by dana 10:42", "acknowledged by lee 10:50", "delete requested by sam
        10:44", "added by dana 09:00": what is known, the latest acts first."""
        acts = [(self.note, "note"), (self.acknowledged, "acknowledged"),
                (self.delete_requested, "delete requested"), (self.added, "added")]
        return [signed.sentence(verb, now, clock) for signed, verb in acts if signed]


@runtime_checkable
class SignedStore(Protocol):
    """A store that signs its rows (the team store)."""

    def signatures(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """Per ID: added_by, note_by, note_at, acknowledged_by, delete_requested_by."""
        ...


def _signed(who: object, at: float | None) -> Signature | None:
    return Signature(str(who), at) if who else None


def signatures_of(store: object, audit: AuditTrail | None,
                  rows: Iterable[WatchedConversion]) -> dict[int, Signatures]:
    """Who did what to each of ``rows``; rows with nothing known are left out."""
    rows = list(rows)
    found: dict[int, Signatures] = {}
    if isinstance(store, SignedStore):
        try:
            signed: Mapping[int, Mapping[str, Any]] = store.signatures(r.id for r in rows)
        except StoreRefused:
            signed = {}
        for row in rows:
            item = signed.get(row.id)
            if not item:
                continue
            note_at = item.get("note_at")
            found[row.id] = Signatures(
                added=_signed(item.get("added_by"), row.first_seen),
                note=_signed(item.get("note_by"), float(note_at) if note_at else None)
                if row.note else None,
                acknowledged=_signed(item.get("acknowledged_by"), row.acknowledged_at)
                if row.acknowledged_at is not None else None,
                delete_requested=_signed(item.get("delete_requested_by"),
                                         row.delete_requested_at)
                if row.delete_requested_at is not None else None)
        return found
    if audit is None:
        return found
    for row in rows:
        ack = (audit.last_for("acknowledge", row.id)
               if row.acknowledged_at is not None else None)
        delete = (audit.last_for("delete", row.id)
                  if row.delete_requested_at is not None else None)
        if (ack and ack.user) or (delete and delete.user):
            found[row.id] = Signatures(
                acknowledged=_signed(ack.user, row.acknowledged_at) if ack else None,
                delete_requested=_signed(delete.user, row.delete_requested_at)
                if delete else None)
    return found


def acknowledgers(store: object, audit_file: Path,
                  rows: Sequence[WatchedConversion]) -> dict[int, Signatures]:
    """Who acknowledged ``rows`` (``list``'s ``acknowledged_by``): a team store's
    signatures, else the user in the audit log at ``audit_file``. A log that cannot be
    read gives nothing: who did it is extra, never worth a failure."""
    import sqlite3

    from tui.core.audit import AuditLog

    if not any(row.acknowledged_at is not None for row in rows):
        return {}
    if isinstance(store, SignedStore):
        return signatures_of(store, None, rows)
    try:
        with AuditLog(audit_file) as audit:
            return signatures_of(None, audit, rows)
    except (OSError, sqlite3.Error):
        return {}
