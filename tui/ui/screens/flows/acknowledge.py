"""Acknowledge (``k``) and snooze (``K``) the marked rows, else the cursor's.

An acknowledged row ("I have this one") does not alert and leaves the "need attention"
count until something new happens to it; ``k`` on rows all acknowledged takes it off
again. A snoozed row is quiet until the time given. The rules are core's
(:mod:`tui.core.attention`); the writes, the audit and the redraw go through the
service.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING

from tui.core.attention import is_acknowledged, is_snoozed, snooze_until
from tui.ui.key_names import key_for_action
from tui.ui.screens.flows.host import MonitorHost, target_rows
from tui.ui.screens.flows.refusals import DialogSave, saved

if TYPE_CHECKING:  # the prompt itself is imported when first opened
    from tui.ui.screens.text_prompt import AnswerCheck

#: How many IDs a toast names; more are counted.
NAMED = 3


def rows_named(ids: list[int]) -> str:
    """ "4512", "4512, 4513", or "5 rows"."""
    if len(ids) <= NAMED:
        return ", ".join(str(i) for i in ids)
    return f"{len(ids)} rows"


def clock_text(at: float, now: float) -> str:
    """A local time as a person reads it: "14:00" today, "7 Dec 14:00" another day."""
    when = datetime.fromtimestamp(at)
    if when.date() == datetime.fromtimestamp(now).date():
        return f"{when:%H:%M}"
    return f"{when.day} {when:%b %H:%M}"


def toggle_acknowledged(host: MonitorHost) -> None:
    """Acknowledge the targets; when every one is acknowledged already, take it off."""
    rows = target_rows(host)
    if not rows:
        return
    ids = [row.id for row in rows]
    if all(is_acknowledged(row) for row in rows):
        done = saved(host, lambda: host.watching.unacknowledge(ids))
        if done is None:
            return
        said = (f"Acknowledgement taken off {rows_named(done)}: "
                f"{'it alerts' if len(done) == 1 else 'they alert'} again.")
    else:
        done = saved(host, lambda: host.watching.acknowledge(ids))
        if done is None:
            return
        it = "it" if len(done) == 1 else "them"
        key = key_for_action(host.screen, "acknowledge", "k")
        said = (f"Acknowledged {rows_named(done)}: no alerts until something new happens "
                f"to {it}. {key} again takes it off.")
    if done:
        if host.alerter is not None and not all(is_acknowledged(row) for row in rows):
            host.alerter.quiet(done)  # an alert still gathering must not name them
        host.notify(said, timeout=5, markup=False)
        host.refresh_counts()  # the "need attention" count, at once


def snooze_check(any_snoozed: bool) -> AnswerCheck:
    """What the snooze prompt refuses, in one sentence under the field: a duration the
    app cannot read, or an empty answer when none of the rows is snoozed (empty only
    ends a snooze)."""
    def check(answer: str) -> str | None:
        if not answer.strip():
            if any_snoozed:
                return None
            return ('Type how long, such as "30m", "2h" or "1d": empty only ends a '
                    "snooze, and none of these rows is snoozed.")
        try:
            snooze_until(answer, time.time())
        except ValueError as error:
            return f"{str(error)[:1].upper()}{str(error)[1:]}."
        return None
    return check


async def snooze(host: MonitorHost) -> None:
    """Ask how long, then snooze the targets (empty ends their snooze). A duration the
    app cannot read keeps the prompt open, saying why under the field, with the text
    kept to correct; refused by the store: said in the dialog too, which stays open.
    Must run inside a worker."""
    from tui.ui.screens.text_prompt import TextPromptModal
    ids = host.table.targets()
    if not ids:
        return
    title = f"Snooze {ids[0]}" if len(ids) == 1 else f"Snooze {len(ids)} marked rows"
    now = time.time()
    any_snoozed = any(is_snoozed(row, now) for row in target_rows(host))

    def write(answer: str) -> tuple[float | None, list[int]] | None:
        """(until, the rows done), written once the prompt's check let the answer by."""
        if not answer.strip():
            snoozed = [row.id for row in target_rows(host) if is_snoozed(row, now)]
            ended = bool(snoozed) and bool(host.watching.snooze(snoozed, None))
            return None, snoozed if ended else []
        until = snooze_until(answer, now)
        return until, host.watching.snooze(ids, until)

    save = DialogSave(host, write)
    prompt = TextPromptModal(
        title, max_length=20, check=snooze_check(any_snoozed), save=save,
        hint='For how long: "30m", "2h", "1d" (30 days at most). No alerts and out of the '
             '"need attention" count until then. Empty ends a snooze.')
    answer = await host.app.push_screen_wait(prompt)
    if answer is None:
        save.closed(prompt.typed.strip() or None)
        return
    if save.answer is None:
        return
    until, done = save.answer
    if until is None:
        if done:
            host.notify(f"Snooze ended for {rows_named(done)}.", timeout=5, markup=False)
            host.refresh_counts()
        return
    if done:
        if host.alerter is not None:
            host.alerter.quiet(done)  # an alert still gathering must not name them
        host.notify(f"Snoozed {rows_named(done)} until {clock_text(until, now)}.",
                    timeout=5, markup=False)
        host.refresh_counts()
        # When it ends the rows count again, though nothing else may change by then.
        host.screen.set_timer(until - now + 1.0, host.refresh_counts)
