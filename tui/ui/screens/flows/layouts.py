"""Saved views (``V``), the sort column picker (``o``) and the column chooser (``h``).

A saved view is the filter, sort and columns under a name: a tab after the built-in
ones and a palette entry. Outside a saved view the table keeps the profile's own sort
and columns. Changes of sort or columns are stored at once where they belong (the open
saved view, else the profile), in ``views.toml`` (:mod:`tui.core.savedviews`), so they
are there after a restart. A saved view naming a column or a status that no longer
exists still opens: what is gone is left out and named in a note.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Input, Tab, Tabs

from tui.core.savedviews import (
    MAX_NAME,
    ProfileLayout,
    SavedView,
    TableLayout,
    check_view_name,
    lenient_filter,
    load_layouts,
    save_layouts,
)
from tui.core.untrusted import printable
from tui.ui.screens.flows import filtering
from tui.ui.screens.flows.host import MonitorHost
from tui.ui.widgets.table.choosable import (
    EXTRA_COLUMNS,
    METADATA_PREFIX,
    SORTABLE_KEYS,
    chosen_columns,
    column_for,
    metadata_keys,
)
from tui.ui.widgets.table.columns import COLUMNS
from tui.ui.workers import reported

if TYPE_CHECKING:
    from tui.ui.commands import PaletteCommand

SAVED_TAB_PREFIX = "saved-"
"""Tab ids of saved views (the names themselves may hold anything)."""


class LayoutFlow:
    """The table's sort and columns, and the saved views, of one monitor screen."""

    def __init__(self, host: MonitorHost) -> None:
        self._host = host
        self._layout = ProfileLayout()
        self._open: str | None = None  # the saved view shown, by name
        self._tabs: dict[str, str] = {}  # tab id -> view name
        self._made = 0

    # ------------------------------------------------------------------ state
    @property
    def profile_layout(self) -> ProfileLayout:
        """The profile's layout and saved views as stored."""
        return self._layout

    @property
    def open_view(self) -> str | None:
        """The name of the saved view shown (None: a built-in view)."""
        return self._open

    def _profile(self) -> str:
        return self._host.session.profile.name

    def _current(self) -> TableLayout:
        """What the table shows now: its sort and the columns chosen for it."""
        table = self._host.table
        keys = tuple(column.key for column in table.columns)
        stored = self._stored_layout()
        if table.columns == chosen_columns(stored.columns)[0]:
            keys = stored.columns  # as chosen (a gone column is kept, not forgotten)
        return TableLayout(table.sort_column, table.sort_reverse, keys)

    def _stored_layout(self) -> TableLayout:
        view = self._layout.view(self._open) if self._open is not None else None
        return view.layout if view is not None else self._layout.table

    def _store(self, layout: ProfileLayout) -> None:
        if layout == self._layout:
            return
        self._layout = layout
        try:
            save_layouts(self._host.session.paths.views_file, self._profile(), layout)
        except (OSError, ValueError) as error:
            self._host.notify(f"Could not save views and columns: {error}. They hold until "
                              "the app closes.", severity="error", markup=False)

    # --------------------------------------------------------------- loading
    def load(self) -> None:
        """Read the stored layout, apply the profile's sort and columns, add the saved
        views' tabs, and open the view asked for on the command line (if any)."""
        read = load_layouts(self._host.session.paths.views_file)
        for warning in read.warnings:
            self._host.notify(printable(warning), severity="warning", timeout=10,
                              markup=False)
        self._layout = read.layout(self._profile())
        notes = self._apply(self._layout.table)
        if notes:
            self._host.notify("Table layout: " + "; ".join(notes) + ".", severity="warning",
                              markup=False)
        wanted = self._host.session.initial_view
        self._host.screen.run_worker(reported(self._add_tabs(wanted)), group="layout-tabs")

    async def _add_tabs(self, wanted: str | None) -> None:
        tabs = self._host.screen.query_one("#views", Tabs)
        for view in self._layout.views:
            await tabs.add_tab(self._new_tab(view.name))
        if wanted is None:
            return
        tab = self._tab_of(wanted)
        if tab is None:
            self._host.notify(f"There is no saved view called {printable(wanted)!r}.",
                              severity="warning", markup=False)
        else:
            tabs.active = tab

    def _new_tab(self, name: str) -> Tab:
        self._made += 1
        tab_id = f"{SAVED_TAB_PREFIX}{self._made}"
        self._tabs[tab_id] = name
        return Tab(Text(name), id=tab_id)

    def _tab_of(self, name: str) -> str | None:
        return next((tab for tab, view in self._tabs.items() if view == name), None)

    # ------------------------------------------------------------- applying
    def _apply(self, layout: TableLayout) -> list[str]:
        """Show ``layout``'s columns and sort; returns notes on what no longer exists."""
        table = self._host.table
        columns, unknown = chosen_columns(layout.columns)
        notes = [f"column {printable(key)!r} no longer exists" for key in unknown]
        table.columns = columns
        if column_for(layout.sort) is None:
            notes.append(f"sort column {printable(layout.sort)!r} no longer exists "
                         "(sorted by ID)")
            table.sort_by("id", False)
        else:
            table.sort_by(layout.sort, layout.reverse)
        return notes

    def open_tab(self, tab_id: str) -> str | None:
        """Open the saved view of tab ``tab_id``; the key of the built-in view it is over
        (None: not a saved view's tab)."""
        name = self._tabs.get(tab_id)
        if name is None:
            return None
        view = self._layout.view(name)
        if view is None:
            return None
        self._open = name
        host = self._host
        base = view.base
        notes: list[str] = []
        if not filtering.show_view(host, base):
            notes.append(f"the view {printable(base)!r} it was saved on no longer exists "
                         "(All)")
            base = "all"
            filtering.show_view(host, base)
        box = host.screen.query_one("#filter", Input)
        box.value = view.filter
        box.set_class(bool(view.filter), "-shown")
        filtering.apply_filter(host, box)  # now, not on the Changed message
        notes += self._apply(view.layout)
        _, errors = lenient_filter(view.filter)
        notes += [f"{error.located(view.filter)} (left out)" for error in errors]
        if notes:
            host.notify(f"View {name!r} opened; " + "; ".join(notes) + ".",
                        severity="warning", timeout=10, markup=False)
        host.table.focus()
        return base

    def left_saved_view(self) -> None:
        """A built-in view was chosen: back to the profile's sort and columns, and the
        saved view's filter goes with it."""
        if self._open is None:
            return
        view = self._layout.view(self._open)
        self._open = None
        box = self._host.screen.query_one("#filter", Input)
        if view is not None and box.value == view.filter:
            filtering.clear(self._host, box)
        self._apply(self._layout.table)

    # ---------------------------------------------------------------- saving
    async def save_view(self) -> None:
        """Ask for a name and save the filter, sort and columns under it (a name in use is
        replaced), then show its tab. Must run inside a worker."""
        from tui.ui.screens.text_prompt import TextPromptModal

        host = self._host
        name = await host.app.push_screen_wait(TextPromptModal(
            "Save this view as", value=self._open or "", max_length=MAX_NAME,
            hint="The filter, sort and columns shown now, as a tab after the built-in "
                 "views (and \"list --view NAME\" on the command line). A name in use is "
                 "replaced." + (" The demo forgets its views when it closes."
                                if host.session.demo else "")))
        if name is None:
            return
        name = name.strip()
        why = check_view_name(name)
        if why is not None:
            host.notify(why + " Nothing was saved.", severity="warning", markup=False)
            return
        text = host.screen.query_one("#filter", Input).value.strip()
        replaced = self._layout.view(name) is not None
        self._store(self._layout.with_view(SavedView(name, text, self._current(),
                                                     host.view_key)))
        tabs = host.screen.query_one("#views", Tabs)
        tab = self._tab_of(name)
        if tab is None:
            new = self._new_tab(name)
            await tabs.add_tab(new)
            tab = new.id
        self._open = name  # shown already; the tab's activation (if any) opens it again
        tabs.active = tab or ""
        until = " (until the demo closes: it keeps no views)" if host.session.demo else ""
        host.notify(f"View {name!r} {'replaced' if replaced else 'saved'}{until}.",
                    markup=False)

    async def delete_view(self, name: str) -> None:
        """Delete the saved view ``name`` and its tab (back to All when it was shown)."""
        tab = self._tab_of(name)
        self._store(self._layout.without_view(name))
        tabs = self._host.screen.query_one("#views", Tabs)
        if tab is not None:
            shown = tabs.active == tab
            del self._tabs[tab]
            await tabs.remove_tab(tab)
            if shown:
                tabs.active = "view-all"
        self._host.notify(f"View {name!r} deleted.", markup=False)

    # ------------------------------------------------------ sort and columns
    def sort_changed(self) -> None:
        """The table's sort changed: store it where it belongs (kept across restarts)."""
        self._keep(replace(self._stored_layout(), sort=self._host.table.sort_column,
                           reverse=self._host.table.sort_reverse))

    def _keep(self, layout: TableLayout) -> None:
        if self._open is not None:
            view = self._layout.view(self._open)
            if view is not None:
                self._store(self._layout.with_view(replace(view, layout=layout)))
            return
        self._store(replace(self._layout, table=layout))

    async def pick_sort(self) -> None:
        """Ask which column to sort by (the current one again: reversed). In a worker."""
        from tui.ui.screens.column_chooser import SortPickerModal

        table = self._host.table
        shown = [column for column in table.columns if column.key in SORTABLE_KEYS
                 or column.key.startswith(METADATA_PREFIX)]
        key = await self._host.app.push_screen_wait(
            SortPickerModal(shown, table.sort_column, table.sort_reverse))
        if key is not None:
            self.sort_by(key)

    def sort_by(self, key: str) -> None:
        """Sort by ``key``: ascending, or reversed when it is the current column."""
        table = self._host.table
        table.sort_by(key, not table.sort_reverse if key == table.sort_column else False)

    async def choose_columns(self) -> None:
        """Show the column chooser; apply and store the answer. In a worker."""
        from tui.ui.screens.column_chooser import ColumnChooserModal

        table = self._host.table
        shown = list(table.columns)
        keys = {column.key for column in shown}
        others = [c for c in (*COLUMNS, *EXTRA_COLUMNS) if c.key not in keys]
        for name in metadata_keys(table.rows.values()):
            column = column_for(METADATA_PREFIX + name)
            if column is not None and column.key not in keys:
                others.append(column)
        chosen = await self._host.app.push_screen_wait(ColumnChooserModal(
            shown, others, filled=table.filled_columns, fitting=table.shown_columns,
            width=table.size.width))
        if chosen is None:
            return
        table.columns = chosen_columns(chosen)[0]
        if table.sort_column not in chosen:
            table.sort_by("id", False)  # sorted by a column no longer shown: by ID
        self._keep(TableLayout(table.sort_column, table.sort_reverse, chosen))

    def _run_delete(self, name: str) -> None:
        self._host.screen.run_worker(reported(self.delete_view(name)), group="layout-delete")

    # --------------------------------------------------------------- palette
    def palette_commands(self) -> list[PaletteCommand]:
        """Open or delete each saved view; sort by each column shown."""
        from tui.ui.commands import PaletteCommand

        host = self._host
        commands: list[PaletteCommand] = []
        for view in self._layout.views:
            tab = self._tab_of(view.name)
            if tab is not None:
                commands.append(PaletteCommand(
                    f"View: {view.name}", f"Saved view: {view.filter or 'no filter'}",
                    partial(setattr, host.screen.query_one("#views", Tabs), "active", tab)))
            commands.append(PaletteCommand(
                f"Delete view: {view.name}", "Delete this saved view (not its rows)",
                partial(self._run_delete, view.name), discover=False))
        for column in host.table.columns:
            commands.append(PaletteCommand(f"Sort by: {column.title}", "",
                                           partial(self.sort_by, column.key), discover=False))
        return commands
