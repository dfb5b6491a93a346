"""``?``: the keys of the screen below (as remapped), the status legend, and where files live."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.core.filters import FILTER_TERMS
from tui.core.paths import AppPaths
from tui.core.statuses import CHECKING_SYMBOL, StatusKind, status_symbol
from tui.core.untrusted import printable
from tui.ui.widgets.table.drawing import ACKNOWLEDGED_MARK, SNOOZED_MARK
from tui.ui.widgets.table.rows import PROBLEM_SYMBOL

__all__ = ["LEGEND", "UNREAD_LEGEND", "HelpKey", "HelpPaths", "HelpScreen", "keys_of_screen"]

LEGEND: tuple[tuple[str, str, str, str], ...] = (
    # css suffix, symbol, label, meaning
    *((kind.value.replace("_", "-"), status_symbol(kind), label, meaning)
      for kind, label, meaning in (
          (StatusKind.QUEUED, "Queued", "uploaded or queued, waiting to be processed"),
          (StatusKind.PROCESSING, "Processing", "being converted now"),
          (StatusKind.COMPLETED, "Completed", "done (the Warnings column counts remarks)"),
          (StatusKind.FAILED, "Failed", "the conversion failed: Enter shows why"),
          (StatusKind.DELETING, "Deleting", "deletion asked for; waiting for the server"),
          (StatusKind.DELETED, "Deleted", "deleted on the server; \"Deleted, purged\": "
           "gone since (404)"),
          (StatusKind.NOT_FOUND, "Not found", "the server does not know this ID (404); "
           "\"was …\": it existed before"),
          (StatusKind.UNKNOWN, "Unknown", "a status word the app does not know, shown as sent"),
      )),
    ("stale", "…", "Stale", "italic times: not checked for a while (offline or paused)"),
)
"""The status legend: what each symbol and colour means."""

AT_LEAST_MEANING = "in status ≥5m: the first check found it so; since when is unknown"

MORE_LEGEND: tuple[tuple[str, str], ...] = (
    ("≥ At least", AT_LEAST_MEANING),
    (f"{CHECKING_SYMBOL} Checking", "not answered for yet: no status known, counted apart"),
    (f"{PROBLEM_SYMBOL} Problem", "the last check failed, and why (the row keeps what it "
                                  "last knew); Enter shows more"),
    (f"{ACKNOWLEDGED_MARK} Acked", "acknowledged (k): no alerts, not in the \"need "
                                   "attention\" count, until something new happens"),
    (f"{SNOOZED_MARK} Snoozed", "quiet (K) until the time given, whatever happens"),
)
"""Legend lines that are not statuses: (symbol and label, meaning)."""

UNREAD_LEGEND = ("48210 Unread", "a bold ID changed since you last looked at it (the "
                                 "Changed view lists them): resting the cursor on it, "
                                 "Enter or M marks it read")
"""The unread mark's legend line: drawn as the table draws an unread ID."""


@dataclass(frozen=True)
class HelpKey:
    """One line of the key list: the keys (as shown in the footer) and what they do."""

    keys: tuple[str, ...]
    description: str
    binding_id: str | None


def keys_of_screen(screen: Screen[object]) -> list[HelpKey]:
    """The bindings live on ``screen`` now (keymap and read-only mode applied).

    Keys of one action are gathered on one line; disabled actions and bindings
    without a description (Textual's own plumbing) are left out.
    """
    app = screen.app
    gathered: dict[tuple[int, str], tuple[list[str], str, str | None]] = {}
    ranks: list[int] = []
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.system or not binding.description or not active.enabled:
            continue
        slot_key = (id(active.node), binding.action)
        if slot_key not in gathered:
            ranks.append(_rank(active.node))
        slot = gathered.setdefault(slot_key, ([], binding.description, binding.id))
        key = app.get_key_display(binding)
        if key not in slot[0]:
            slot[0].append(key)
    entries = [(rank, HelpKey(tuple(keys), description, binding_id))
               for rank, (keys, description, binding_id) in zip(ranks, gathered.values(),
                                                                 strict=True)]
    # Named keys first (the table's Inspect and Mark are used most, so they lead),
    # then the screen's, then the app's; Textual's unnamed plumbing (focus, scrolling,
    # copying selected text) last of all.
    entries.sort(key=lambda item: (item[1].binding_id is None,
                                   item[1].binding_id not in _LEADING, item[0]))
    return [entry for _rank, entry in entries]


_LEADING = frozenset({"activate", "mark"})


def _rank(node: DOMNode) -> int:
    if isinstance(node, Screen):
        return 0
    if isinstance(node, App):
        return 2
    return 1


@dataclass(frozen=True)
class HelpPaths:
    """Where this session keeps its files."""

    profile: str | None
    config_file: str
    themes_dir: str
    data_dir: str | None
    audit_db: str | None
    demo: bool = False
    #: The team database (``user@host:port/db``) on a team profile, and who polls it.
    team_store: str | None = None
    polled_by: str | None = None

    @classmethod
    def of(cls, paths: AppPaths, profile: str | None, *, demo: bool = False,
           themes_dir: str | None = None, team_store: str | None = None,
           polled_by: str | None = None) -> HelpPaths:
        """The files of ``profile`` (None before a profile exists, on first run)."""
        return cls(
            profile=profile,
            config_file=str(paths.config_file),
            themes_dir=themes_dir or str(paths.themes_dir),
            data_dir=str(paths.profile_data_dir(profile)) if profile else None,
            audit_db=str(paths.audit_db(profile)) if profile else None,
            demo=demo,
            team_store=team_store,
            polled_by=polled_by,
        )

    def rows(self) -> list[tuple[str, str]]:
        """(what, where) pairs to show (a team's rows and audit log are in its database;
        this machine's audit file holds what was done while the database was away)."""
        rows = [("Config", self.config_file), ("Themes", self.themes_dir)]
        if self.team_store:
            rows.append(("Team database", printable(self.team_store, limit=200)))
            rows.append(("Polled by", printable(self.polled_by or "nobody yet", limit=80)))
        if self.data_dir:
            rows.append(("Data", self.data_dir))
        if self.audit_db:
            rows.append(("Audit log" if not self.team_store else "Audit, offline",
                         self.audit_db))
        return rows


def _keys_table(keys: Iterable[HelpKey]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_column(style="dim", no_wrap=True)
    for entry in keys:
        table.add_row(Text(" ".join(entry.keys)), Text(entry.description),
                      Text(entry.binding_id or ""))
    return table


#: The binding that opens the filter box: its screen's help lists the filter terms.
FILTER_BINDING = "monitor.filter"


def _filter_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for example, meaning in FILTER_TERMS:
        table.add_row(Text(example), Text(meaning))
    return table


def _paths_table(paths: HelpPaths) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    home = str(Path.home())
    for what, where in paths.rows():
        # "~" instead of the home folder: shorter, so paths fold less.
        shown = "~" + where[len(home):] if home not in ("", "/") and where.startswith(
            home + "/") else where
        table.add_row(Text(what), Text(shown))
    return table


def _legend_css() -> str:
    rules = [f"HelpScreen .legend-{suffix} {{ color: $status-{suffix}; }}"
             for suffix, *_ in LEGEND]
    return "\n".join(rules).replace(
        ".legend-stale { color: $status-stale; }",
        ".legend-stale { color: $status-stale; text-style: italic; }")


class HelpScreen(ModalScreen[None]):
    """Keys, status legend and file locations, over the screen it was opened from."""

    ENDS_FIRST_RUN_HINT: ClassVar[bool] = True
    """Once opened, the monitor's first-run hint (which names it) has done its work."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help { width: 94%; max-width: 170; height: 94%; border: round $primary;
                       background: $surface; padding: 0 1; }
    HelpScreen #help-columns { height: auto; }
    HelpScreen #help-columns > Vertical { height: auto; }
    HelpScreen.-wide #help-columns { layout: horizontal; }
    HelpScreen.-wide #help-columns > Vertical { width: 1fr; }
    HelpScreen.-wide #help-side { padding-left: 2; }
    HelpScreen .legend-row { height: auto; }
    HelpScreen .legend { width: 13; }
    HelpScreen .legend-meaning { width: 1fr; }
    HelpScreen .legend-unread { color: $accent; text-style: bold; }
    HelpScreen .heading { text-style: bold; color: $text-accent; margin-top: 1; }
    HelpScreen .hint { color: $text-muted; margin-top: 1; }
    """ + _legend_css()

    WIDE = 110
    """From this many columns the keys and the rest sit side by side."""

    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close"),
    ]

    def __init__(self, keys: list[HelpKey], paths: HelpPaths | None, *,
                 screen_title: str = "this screen") -> None:
        super().__init__()
        self.keys = keys
        self.paths = paths
        self.screen_title = screen_title

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"), Vertical(id="help-columns"):
            with Vertical(id="help-main"):
                yield Static(f"Keys on {self.screen_title}", classes="heading", markup=False)
                yield Static(_keys_table(self.keys), id="help-keys")
                if any(key.binding_id == FILTER_BINDING for key in self.keys):
                    yield Static("Filter (/): terms apart by spaces must all match",
                                 classes="heading", markup=False)
                    yield Static(_filter_table(), id="help-filter")
            with Vertical(id="help-side"):
                yield Static("Status", classes="heading")
                for suffix, symbol, label, meaning in LEGEND:
                    with Horizontal(classes="legend-row"):
                        yield Static(Text(f"{symbol} {label}"),
                                     classes=f"legend legend-{suffix}")
                        yield Static(Text(meaning), classes="legend-meaning")
                for label, meaning in MORE_LEGEND:
                    with Horizontal(classes="legend-row"):
                        yield Static(Text(label), classes="legend")
                        yield Static(Text(meaning), classes="legend-meaning")
                with Horizontal(classes="legend-row"):
                    label, meaning = UNREAD_LEGEND
                    yield Static(Text(label), classes="legend legend-unread")
                    yield Static(Text(meaning), classes="legend-meaning")
                if self.paths is not None:
                    yield Static(Text(self._files_title(self.paths)), classes="heading")
                    yield Static(_paths_table(self.paths), id="help-paths")
                yield Static("Ctrl+P opens the command palette (actions, views, themes, "
                             "profiles). Keys are remapped by id in the config's [keymap], "
                             'e.g. "monitor.delete" = "ctrl+d".', classes="hint", markup=False)

    @staticmethod
    def _files_title(paths: HelpPaths) -> str:
        title = "Files"
        if paths.profile:
            title += f" (profile {paths.profile})"
        if paths.demo:
            title += " — demo: a temporary folder, removed on exit"
        return title

    def on_resize(self, event: events.Resize) -> None:
        """Side by side on wide terminals, one column on narrow ones."""
        self.set_class(event.size.width >= self.WIDE, "-wide")

    def action_close(self) -> None:
        """Back to the screen below."""
        self.dismiss(None)
