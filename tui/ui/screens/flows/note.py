"""A note on rows (``n``): a ticket number, say, kept by the watchlist (the team's, on a
team profile)."""

from __future__ import annotations

from tui.ui.screens.flows.host import MonitorHost
from tui.ui.screens.flows.refusals import saved

NOTE_MAX = 200


async def edit_note(host: MonitorHost) -> None:
    """Ask for the note of the marked rows (else the cursor's) and set it through the
    service; an empty answer removes it. Must run inside a worker."""
    from tui.ui.screens.text_prompt import TextPromptModal
    table = host.table
    ids = table.targets()
    if not ids:
        return
    first = table.rows.get(ids[0])
    current = first.note if first is not None and len(ids) == 1 else ""
    title = f"Note for {ids[0]}" if len(ids) == 1 else f"Note for {len(ids)} marked rows"
    note = await host.app.push_screen_wait(TextPromptModal(
        title, value=current or "", max_length=NOTE_MAX,
        hint=("A local note" if host.session.team_store is None
              else "A note for the whole team, signed with your name")
        + " (a ticket number, say): shown in the Note column, searched by the filter, "
          "exported. Empty removes it."))
    if note is None:
        return
    text = note.strip() or None
    saved(host, lambda: host.watching.set_note(ids, text), typed=text)
