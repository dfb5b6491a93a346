"""Keys that must not act blind: read-only refusals, rows out of sight, typed-ahead bursts.

Support staff type fast over SSH, and a pasted or typed burst reaches the table before
any binding runs. These rules keep a key from changing rows the person cannot see.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from tui.ui.screens.flows.hint import key_of
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.textual_private import bindings_with_keymap
from tui.ui.typeahead import TypeAhead
from tui.ui.widgets.table.conversions_table import ConversionsTable

# Actions that change data on the server: absent everywhere in read-only mode.
DESTRUCTIVE_ACTIONS = frozenset({"delete_on_server", "upload"})
# What a destructive key says in read-only mode (it is not live there: it would be silent).
READ_ONLY_REFUSALS = {
    "delete_on_server": "Read-only profile: deleting is switched off.",
    "upload": "Read-only profile: uploading is switched off.",
}
#: Bindings that open a prompt: keys typed in the same burst are typed into it.
PROMPT_ACTIONS = frozenset({"add_ids", "note", "snooze", "upload", "save_view"})
#: Bindings after which a blind burst must not fire other bindings (nor be replayed).
GUARDED_ACTIONS = frozenset({"delete_on_server", "export"})
#: Keys that change rows the person may not see: they act only on a row in sight.
SIGHT_ACTIONS = {"delete_on_server": "delete", "remove_from_watchlist": "unwatch"}


def refuse_read_only(host: MonitorHost, actions: set[str]) -> bool:
    """In read-only mode, say why a destructive key does nothing; True if it did."""
    refused = sorted(actions & DESTRUCTIVE_ACTIONS)
    if not host.session.read_only or not refused:
        return False
    host.notify(READ_ONLY_REFUSALS[refused[0]], severity="warning", markup=False)
    return True


def cursor_may_act(table: ConversionsTable) -> bool:
    """Marked rows were each picked by hand; the cursor's row alone must be in sight."""
    return bool(table.marked_ids) or table.cursor_id is None or table.cursor_in_sight


def targets_in_sight(host: MonitorHost, action: str) -> bool:
    """Whether ``action`` may act now (see :func:`cursor_may_act`). If the cursor's row
    is out of sight (a resize or the mouse wheel moved it), it is scrolled into sight and
    the person told to press the key again."""
    table = host.table
    if cursor_may_act(table):
        return True
    table.scroll_cursor_into_sight()
    key = key_of(host.screen, action) or "the key"
    host.notify(f"The cursor was on {table.cursor_id}, out of sight: it is shown now. "
                f"Press {key} again to {SIGHT_ACTIONS[action]} it.",
                severity="warning", timeout=6, markup=False)
    return False


def guard_key(host: MonitorHost, event: events.Key, box: Input) -> bool:
    """Hold or refuse ``event`` as it passes the screen, before any binding runs.

    Returns True when the key opens the filter (the caller opens it): the keys behind
    "/" then go into the filter instead of firing bindings (p would pause, d delete).
    """
    screen = host.screen
    found = getattr(host.app, "typeahead", None)
    typeahead = found if isinstance(found, TypeAhead) else None
    if typeahead is not None and typeahead.hold_at_screen(event):
        return False
    if screen.focused is box:
        if event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            box.insert_text_at_cursor(event.character)
        return False
    bindings = bindings_with_keymap(screen).key_to_bindings  # as a key press sees them
    actions = {binding.action for binding in bindings.get(event.key, [])}
    if refuse_read_only(host, actions):  # d, u: not live in read-only, yet never silent
        event.stop()
        event.prevent_default()
        if typeahead is not None:
            typeahead.begin(screen, replay=False)  # a burst behind it fires nothing either
    elif "open_filter" in actions:
        event.stop()
        event.prevent_default()
        return True
    elif typeahead is not None and actions & PROMPT_ACTIONS:
        # The same for the keys behind a key that opens a prompt (a, n, u): held,
        # then typed into the prompt's box once it is up (tui/ui/typeahead.py).
        typeahead.begin(screen, replay=True)
    elif typeahead is not None and actions & GUARDED_ACTIONS and not (
            actions & SIGHT_ACTIONS.keys() and not cursor_may_act(host.table)):
        typeahead.begin(screen, replay=False)  # kept from firing bindings, not replayed
    return False
