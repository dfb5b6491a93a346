"""The team's audit log: who did what, in the team store, for everyone to read.

:class:`TeamAudit` is the monitor's audit log on a team profile (an
:class:`~tui.core.audit.AuditTrail`). Each entry is signed by the person the store acts
for. While the database cannot be reached, an action already done (a delete sent to the
server) must not go unrecorded: the entry goes to this machine's own audit file instead,
saying so, and :meth:`TeamAudit.entries` shows that file while the database is away.
A key given to :meth:`TeamAudit.redact` is masked before any text leaves this process,
for the database and for that file alike.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from tui.core.audit import AuditEntry, AuditLog
from tui.core.credentials import ApiKey
from tui.core.teamstore.errors import TeamStoreError
from tui.core.teamstore.store import TeamStore

__all__ = ["TeamAudit"]

log = logging.getLogger(__name__)

_KEPT_HERE = "team database unreachable: kept on this machine"


class TeamAudit:
    """The shared audit log of ``store``'s profile; ``fallback``: this machine's own."""

    def __init__(self, store: TeamStore, fallback: AuditLog) -> None:
        self.store = store
        self.fallback = fallback
        self._secrets: list[tuple[str, str]] = []

    def __repr__(self) -> str:
        return f"TeamAudit({self.store!r})"

    def redact(self, key: ApiKey) -> None:
        """Mask ``key`` wherever it would appear in an entry, in the team's database and
        in this machine's file (an upload's texts quote the server, which may echo it)."""
        self._secrets.append((key.reveal(), key.masked))
        self.fallback.redact(key)

    def _clean(self, text: str) -> str:
        for secret, masked in self._secrets:
            text = text.replace(secret, masked)
        return text

    def append(self, action: str, ids: Sequence[int], outcome: str, profile: str,
               user: str | None, detail: str | None = None,
               at: float | None = None) -> AuditEntry:
        """Record one action in the team store (signed by its person); on this machine's
        file when the database cannot be reached."""
        when = time.time() if at is None else at
        action, outcome = self._clean(action), self._clean(outcome)
        detail = None if detail is None else self._clean(detail)
        try:
            seq = self.store.audit(action, ids, outcome, detail, when)
        except TeamStoreError as error:
            log.warning("audit entry kept on this machine: %s", error)
            said = f"{detail}; {_KEPT_HERE}" if detail else _KEPT_HERE
            return self.fallback.append(action, ids, outcome, profile, user, said, when)
        return AuditEntry(seq, when, action, tuple(int(i) for i in ids), outcome,
                          self.store.base_url, self.store.person, detail)

    def entries(self, limit: int | None = None) -> list[AuditEntry]:
        """The team's entries for the profile, newest first (this machine's while the
        database cannot be reached)."""
        try:
            found = self.store.audit_entries(1000 if limit is None else max(limit, 0))
        except TeamStoreError:
            return self.fallback.entries(limit)
        return [self._entry(item) for item in found]

    def last_for(self, action: str, conversion_id: int) -> AuditEntry | None:
        """The team's newest entry of ``action`` naming ``conversion_id`` (who
        acknowledged a row, say); None: none, or the database cannot be reached."""
        try:
            found = self.store.audit_entries(1, action=action, naming=conversion_id)
        except TeamStoreError:
            return None
        return self._entry(found[0]) if found else None

    def _entry(self, item: Mapping[str, Any]) -> AuditEntry:
        return AuditEntry(int(item["seq"]), float(item["at"]), str(item["action"]),
                          tuple(int(part) for part in str(item["ids"]).split(",") if part),
                          str(item["outcome"]), self.store.base_url, item["person"],
                          item["detail"])

    def close(self) -> None:
        """Close this machine's file (the store is the session's to close)."""
        self.fallback.close()
