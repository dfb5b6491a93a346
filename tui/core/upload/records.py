"""What an upload writes down: accepted IDs into the watchlist, every batch into the audit log.

Both are written after each answered batch and *before* the next one goes, so a crash
loses nothing the server accepted; a failure to write stops the run (:class:`RunStopped`)
so that nothing goes unrecorded. Every batch answered, refused or lost gets one audit
entry, counted against the whole upload (see :meth:`UploadRun.batch_words`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from tui.api.errors import ApiError
from tui.api.models import Envelope
from tui.core.untrusted import printable
from tui.core.upload.outcome import FileOutcome
from tui.core.upload.plan import UploadItem
from tui.core.upload.run import RunStopped, UploadRun


class WatchlistSink(Protocol):
    """What the uploader needs of the watchlist."""

    def add(self, ids: Iterable[int], *, note: str | None = None) -> list[int]:
        """Watch ``ids`` with ``note``."""
        ...


class AuditSink(Protocol):
    """What the uploader needs of the audit log."""

    def append(self, action: str, ids: Sequence[int], outcome: str, profile: str,
               user: str | None, detail: str | None = None) -> object:
        """Record one action (committed before returning)."""
        ...


def reference_note(reference: str | None) -> str:
    """The watchlist note of uploaded conversions: the external reference first, since a
    narrow Note column keeps only the start of a note and the reference is what people
    look for ("T-4412 (uploaded)")."""
    return f"{reference} (uploaded)" if reference else "Uploaded"


class UploadRecords:
    """Writes an upload's accepted IDs and audit entries (see the module docstring).

    ``user`` is the key owner's e-mail if already known; answers name it too
    (:meth:`learn_user`), and the audit log falls back to the OS user.
    """

    def __init__(self, watchlist: WatchlistSink, audit: AuditSink, *, profile_name: str,
                 user: str | None) -> None:
        self._watchlist = watchlist
        self._audit = audit
        self._profile = profile_name
        self._user = user

    def learn_user(self, envelope: Envelope | None) -> None:
        """The audit names the key's owner once an answer says who it is (the app knows
        it from polling; the CLI learns it from its first answer)."""
        if envelope is not None and envelope.profile is not None and envelope.profile.email:
            self._user = envelope.profile.email

    def accepted(self, run: UploadRun, ids: list[int], total: int, number: int) -> None:
        """Watchlist and audit log, before the next batch; a failure here stops the run."""
        words = run.batch_words(len(ids), total, number)
        try:
            if ids:
                self._watchlist.add(ids, note=reference_note(run.reference))
        except Exception as error:
            # The server has them: the audit log still says so (a team's falls back to
            # this machine's file while its database is away), then the run stops.
            audited = " (in the audit log)"
            try:
                self.append(run, ids, words, f"not added to the watchlist: {error}")
            except RunStopped:
                audited = " (not in the audit log either)"
            raise RunStopped(f"The accepted IDs could not be added to the watchlist "
                             f"({type(error).__name__}: {error}); stopped so that nothing "
                             f"goes unrecorded. New IDs: {', '.join(map(str, ids))}"
                             f"{audited}.", "recording") from None
        self.append(run, ids, words)

    def lost(self, run: UploadRun, items: list[UploadItem], number: int,
             error: ApiError) -> None:
        """A batch whose fate is unknown: say so, name its files, never re-send it."""
        why = (f"{error} The server may or may not have created these records; they were "
               "not sent again (check before retrying).")
        run.add_all(items, FileOutcome.UNKNOWN, reasons=(why,), batch=number)
        names = ", ".join(item.file_name for item in items[:5])
        more = f" and {len(items) - 5} more" if len(items) > 5 else ""
        run.outcome.problems.append(
            f"Batch {number} ({len(items)} files: {names}{more}): outcome unknown. {error}")
        files = ", ".join(item.file_name for item in items)
        self.append(run, [], f"unknown ({len(items)} files)", f"{error} Files: {files}")

    def refused(self, run: UploadRun, items: list[UploadItem], number: int,
                error: ApiError) -> None:
        """A batch certainly not processed (a whole-batch 4xx, a refused connection, the
        rate limit outlasted): recorded like every other batch, with the reason."""
        status = f"HTTP {error.status_code}" if error.status_code else "not delivered"
        why = "; ".join(printable(text, limit=300) for text in (str(error), *error.errors))
        files = ", ".join(item.file_name for item in items)
        self.append(run, [], f"refused as a whole ({status}): "
                    + run.batch_words(0, len(items), number, refused=True),
                    f"{why} Files: {files}")

    def append(self, run: UploadRun, ids: list[int], outcome: str,
               detail: str | None = None) -> None:
        """One audit entry of this upload; a failure stops the run."""
        if run.reference:
            detail = f"ref {run.reference}" + (f"; {detail}" if detail else "")
        try:
            self._audit.append(action="upload", ids=ids, outcome=outcome,
                               profile=self._profile, user=self._user, detail=detail)
        except Exception as error:
            raise RunStopped(f"The audit log could not be written ({type(error).__name__}: "
                             f"{error}); stopped so that nothing goes unrecorded.",
                             "recording") from None
