"""Unwatch (``x``) and its undo (``z``, for a minute), and rows unwatched elsewhere.

Unwatching is local: nothing is deleted on the server. The watchlist keeps an unwatched
row's note and history, so adding the ID again later brings them back too.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from textual.notifications import Notification

from tui.ui.key_names import key_for_action
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.screens.flows.refusals import saved
from tui.ui.toasts import post, withdraw

#: Seconds during which an unwatch can be undone with ``z``.
UNDO_SECONDS = 60.0
#: Seconds the "press z to undo" toast stays (unless z takes it away first).
UNDO_TOAST_SECONDS = 12.0
#: Rows the unwatch question lists by name; the rest are counted.
UNWATCH_LISTED = 10
#: IDs the unwatched-elsewhere toast names; more are counted.
NAMED_UNWATCHED = 5


@dataclass(frozen=True)
class UnwatchedBatch:
    """IDs unwatched by one ``x``, and when (monotonic seconds): what ``z`` undoes."""

    ids: tuple[int, ...]
    at: float
    #: Its "press z to undo" toast: taken away when z undoes the batch.
    toast: Notification | None = field(default=None, compare=False)


class UnwatchFlow:
    """Unwatching rows from the monitor, and the unwatches ``z`` can still undo."""

    def __init__(self, host: MonitorHost) -> None:
        self._host = host
        #: Unwatches that z can still undo, oldest first.
        self.batches: list[UnwatchedBatch] = []

    def _forget_old(self) -> float:
        now = time.monotonic()
        self.batches = [batch for batch in self.batches if now - batch.at < UNDO_SECONDS]
        return now

    async def unwatch(self) -> None:
        """Unwatch the marked rows (else the cursor's), asking first for more than one.
        Must run inside a worker."""
        from tui.ui.screens.text_prompt import QuestionModal
        host = self._host
        ids = host.table.targets()
        if not ids:
            return
        if len(ids) > 1:
            sure = await host.app.push_screen_wait(QuestionModal(
                self.question(ids), yes=f"Unwatch {len(ids)}"))
            if not sure:
                return
        removed = saved(host, lambda: host.watching.unwatch(ids))
        if removed is None:
            return
        now = self._forget_old()
        key = key_for_action(host.screen, "undo_unwatch", "z")
        what = str(ids[0]) if len(ids) == 1 else f"{removed} conversions"
        scope = ("Local only" if host.session.team_store is None
                 else "Unwatched for the whole team")
        toast = post(host.app, f"Unwatched {what} — press {key} to undo (for a minute). "
                     f"{scope}: nothing was deleted on the server.",
                     timeout=UNDO_TOAST_SECONDS)
        self.batches.append(UnwatchedBatch(tuple(ids), now, toast))

    def question(self, ids: list[int]) -> str:
        """The unwatch question, naming its rows as the delete dialog does."""
        from tui.ui.screens.confirm_delete import describe_row
        table = self._host.table
        rows = [row for row in (table.rows.get(i) for i in ids) if row is not None]
        which = ("the local watchlist" if self._host.session.team_store is None
                 else "the team's watchlist (for everyone)")
        lines = [f"Stop watching {len(ids)} conversions? This only changes {which}: "
                 "nothing is deleted on the server.", ""]
        lines += [describe_row(row) for row in rows[:UNWATCH_LISTED]]
        if len(rows) > UNWATCH_LISTED:
            lines.append(f"… and {len(rows) - UNWATCH_LISTED} more")
        return "\n".join(lines)

    def undo(self) -> None:
        """Watch again what the last ``x`` unwatched (within a minute), note and history
        included; pressed again, the one before."""
        host = self._host
        self._forget_old()
        if not self.batches:
            add = key_for_action(host.screen, "add_ids", "a")
            host.notify("Nothing to undo: an unwatch can be undone for a minute after it "
                        f"(or add the IDs again with {add}: their notes and history come "
                        "back).", markup=False, timeout=6)
            return
        batch = self.batches[-1]
        if batch.toast is not None:
            # Its "press z to undo" is no longer true, and must not sit beside the
            # next one if the same row is unwatched again.
            withdraw(host.app, batch.toast)
        added = saved(host, lambda: host.watching.undo_unwatch(batch.ids))
        if added is None:
            return  # kept: z can undo it once the store is back
        self.batches.pop()
        if not added:  # added again meanwhile (a, an upload): nothing left to bring back
            host.notify("Nothing to undo: watched again already.", markup=False, timeout=4)
            return
        what = str(added[0]) if len(added) == 1 else f"{len(added)} conversions"
        host.notify(f"Watching {what} again, with notes and history", markup=False,
                    timeout=4)

    def say_unwatched_elsewhere(self, removed: Sequence[int]) -> None:
        """One calm toast for rows another process unwatched, before they leave the table.

        Rows this monitor unwatched itself are out of the table already (and the service
        leaves them out of what others removed): they are not named.
        """
        host = self._host
        table = host.table
        ids = sorted({i for i in removed if i in table.rows})
        if not ids:
            return
        marked = set(table.marked_ids)
        sentence = unwatched_elsewhere_sentence(
            ids, marked=sum(1 for i in ids if i in marked),
            noted=sum(1 for i in ids if table.rows[i].note),
            add_key=key_for_action(host.screen, "add_ids", "a"),
            # The demo plays a colleague tidying the list: said so, not a mystery.
            by=DEMO_COLLEAGUE if host.session.demo else ELSEWHERE)
        host.notify(sentence, markup=False, timeout=8 if host.session.demo else 15)


ELSEWHERE = "elsewhere (another monitor or the CLI)"
DEMO_COLLEAGUE = "by the demo's colleague (a second person the demo plays)"


def unwatched_elsewhere_sentence(ids: Sequence[int], *, marked: int, noted: int,
                                 add_key: str, by: str = ELSEWHERE) -> str:
    """"3 conversions were unwatched elsewhere (…): 48211, 48219, 48239 (2 were marked) —
    a is how to add them back; …": at most :data:`NAMED_UNWATCHED` IDs named."""
    count = len(ids)
    named = ", ".join(str(i) for i in ids[:NAMED_UNWATCHED])
    if count > NAMED_UNWATCHED:
        named += f" and {count - NAMED_UNWATCHED} more"
    if count == 1:
        what, them, kept = "1 conversion was", "it", "its note and history are kept"
        words = ["was marked"] * bool(marked) + ["had a note"] * bool(noted)
        extra = f" (it {' and '.join(words)})" if words else ""
    else:
        what, them = f"{count} conversions were", "them"
        kept = "their notes and history are kept"
        notable = [f"{marked} {'was' if marked == 1 else 'were'} marked"] if marked else []
        if noted:
            notable.append(f"{noted} {'has' if noted == 1 else 'have'} a note")
        extra = f" ({', '.join(notable)})" if notable else ""
    return (f"{what} unwatched {by}: {named}{extra} — "
            f"{add_key} is how to add {them} back; {kept}.")
