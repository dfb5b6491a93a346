"""A note on rows (``n``): a ticket number, say, kept by the watchlist (the team's, on a
team profile).

The dialog opens with the note of the row as shown (no store read). A save the store
refuses (the team database away) keeps the dialog open with the sentence in it and the
text as typed; closed then, a toast gives the whole text back."""

from __future__ import annotations

from tui.ui.screens.flows.host import MonitorHost
from tui.ui.screens.flows.refusals import DialogSave

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
    save: DialogSave[str, None] = DialogSave(
        host, lambda note: host.watching.set_note(ids, note.strip() or None))
    prompt = TextPromptModal(
        title, value=current or "", max_length=NOTE_MAX, save=save,
        hint=("A local note" if host.session.team_store is None
              else "A note for the whole team, signed with your name")
        + " (a ticket number, say): shown in the Note column, searched by the filter, "
          "exported. Empty removes it.")
    if await host.app.push_screen_wait(prompt) is None:
        save.closed(prompt.typed.strip() or None)
