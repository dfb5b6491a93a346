"""Every use of Textual's private API, in one place, each behind a small named function.

Textual's underscore names can change in any release without notice. The app uses a
few because the public API has no way to do what it needs (each function says why).
Keeping them here, and nowhere else, means a Textual upgrade is checked in one module:
``tests/ui/test_textual_private.py`` pins every name in :data:`PRIVATE_NAMES` (it
exists, has the shape used here), so an upgrade that moves one fails that test with the
name, instead of breaking the app at run time. pyproject.toml bounds Textual to the
major version those tests ran on.

Add a private use only here, list it in :data:`PRIVATE_NAMES`, and say why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import RenderableType
from rich.segment import Segments
from textual.app import App
from textual.binding import BindingsMap
from textual.dom import DOMNode
from textual.filter import LineFilter
from textual.keys import _normalize_key_list
from textual.notifications import Notification
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

__all__ = [
    "PRIVATE_NAMES",
    "FooterKey",
    "PrivateName",
    "bindings_with_keymap",
    "component_styles_identity",
    "footer_bindings_ready",
    "forget_styles_cache",
    "merged_bindings",
    "normalize_keys",
    "remember_clipboard",
    "replace_line_filters",
    "show_on_exit_and_close",
    "withdraw_notification",
    "write_to_terminal",
]


@dataclass(frozen=True)
class PrivateName:
    """One private name this module relies on, for the test that pins them.

    ``owner`` is a dotted path to a module or class; ``instance`` marks an attribute
    Textual sets in ``__init__`` (so it is looked up on an instance, not the class);
    ``call`` holds the arguments this module passes (after ``self``), to check that the
    signature still accepts them; ``None`` when the name is not called.
    """

    owner: str
    name: str
    instance: bool = False
    call: tuple[tuple[Any, ...], dict[str, Any]] | None = None


_NO_ARGUMENTS: tuple[tuple[Any, ...], dict[str, Any]] = ((), {})

PRIVATE_NAMES: tuple[PrivateName, ...] = (
    PrivateName("textual.keys", "_normalize_key_list", call=(("ctrl+d,?",), {})),
    PrivateName("textual.widgets._footer", "FooterKey"),
    PrivateName("textual._styles_cache", "StylesCache"),
    PrivateName("textual._styles_cache.StylesCache", "get_inner_outer"),
    PrivateName("textual.dom.DOMNode", "_merge_bindings", call=_NO_ARGUMENTS),
    PrivateName("textual.dom.DOMNode", "_bindings", instance=True),
    PrivateName("textual.dom.DOMNode", "_component_styles", instance=True),
    PrivateName("textual.app.App", "_keymap", instance=True),
    PrivateName("textual.app.App", "_unnotify", call=(("notification",), {})),
    PrivateName("textual.app.App", "_driver", instance=True),
    PrivateName("textual.app.App", "_filters", instance=True),
    PrivateName("textual.app.App", "_clipboard", instance=True),
    PrivateName("textual.app.App", "_exit_renderables", instance=True),
    PrivateName("textual.app.App", "_close_messages_no_wait", call=_NO_ARGUMENTS),
    # Overridden (not called) by ConversionsApp: Textual calls it, with no arguments,
    # to show an unhandled error and exit.
    PrivateName("textual.app.App", "_fatal_error", call=_NO_ARGUMENTS),
    PrivateName("textual.widgets.Footer", "_bindings_ready"),
)


# ---------------------------------------------------------------- bindings and keys
def merged_bindings(node: type[DOMNode]) -> BindingsMap:
    """The bindings of a screen or widget class as Textual merges them (inherited ones
    included), without mounting it: the keymap check runs before the app starts, and
    the public ``active_bindings`` exists only on a running screen."""
    return node._merge_bindings()


def bindings_with_keymap(node: DOMNode) -> BindingsMap:
    """``node``'s own bindings with the user's keymap applied, as a key press sees them.

    Public ``App.set_keymap`` stores the keymap but nothing reads it back, and a node's
    own bindings (not the whole focus chain of ``active_bindings``) are private.
    Returns a copy: applying the keymap must not change the node.
    """
    bindings = node._bindings.copy()
    keymap = node.app._keymap
    if keymap:
        bindings.apply_keymap(keymap)
    return bindings


def normalize_keys(keys: str) -> str:
    """A comma-separated key list as Textual names keys (``"?"`` -> ``"question_mark"``),
    the form bindings use: Textual does this to ``Binding`` keys privately and has no
    public function for it."""
    return _normalize_key_list(keys)


def footer_bindings_ready(footer: Footer) -> bool:
    """Whether Textual's footer has read the bindings (its ``compose`` yields nothing
    before that); a subclass that recomposes the footer must honour the same flag."""
    return bool(footer._bindings_ready)


# ------------------------------------------------------------------- notifications
def withdraw_notification(app: App[Any], notification: Notification) -> None:
    """Take one toast off the screen now (nothing happens if it has gone).

    ``App.notify`` returns nothing and only ``clear_notifications`` (all of them) is
    public; ``_unnotify`` is what a click on a toast calls.
    """
    app._unnotify(notification)


# --------------------------------------------------------------------- terminal
def write_to_terminal(app: App[Any], text: str) -> bool:
    """Write an escape sequence straight to the terminal; False when there is none
    (headless). Textual's own ``copy_to_clipboard`` writes OSC 52 this way, but cannot
    wrap it for tmux or cap its size, and there is no public write."""
    driver = app._driver
    if driver is None:
        return False
    driver.write(text)
    return True


def remember_clipboard(app: App[Any], text: str) -> None:
    """Keep ``text`` as the app's clipboard (what public ``App.clipboard`` returns), for
    an app that replaces ``copy_to_clipboard`` and so skips Textual's own assignment."""
    app._clipboard = text


def replace_line_filters(app: App[Any], keep: Callable[[LineFilter], bool],
                         add: LineFilter | None = None) -> None:
    """Keep only the app's line filters for which ``keep`` is true, then append ``add``.

    Textual fixes its colour filters (``NO_COLOR`` greys everything) when the app is
    made, and has no public way to change them afterwards.
    """
    filters = [item for item in app._filters if keep(item)]
    if add is not None:
        filters.append(add)
    app._filters = filters


# ----------------------------------------------------------------------- styles
def component_styles_identity(widget: Widget) -> tuple[int, ...]:
    """Identities of ``widget``'s component styles: they change exactly when the
    stylesheet re-applies them (theme, focus, hover), so a widget that caches what it
    drew can tell cheaply whether to read them again. Public reading
    (``get_component_rich_style``) computes every style afresh."""
    return tuple(map(id, widget._component_styles.values()))


def forget_styles_cache() -> None:
    """Empty the memo Textual keeps of every widget's background colours.

    Textual 8 memoises ``StylesCache.get_inner_outer`` with ``lru_cache`` on a method, so
    each widget's styles cache is part of a key (Textualize/textual#6665): a removed
    widget's rendered lines stay in memory (about 10 kB a toast, up to 1,024 of them).
    Nothing public reaches that cache. Nothing to do where it is gone.
    """
    try:
        from textual._styles_cache import StylesCache
    except ImportError:  # pragma: no cover - a Textual that moved it
        return
    clear = getattr(getattr(StylesCache, "get_inner_outer", None), "cache_clear", None)
    if callable(clear):
        clear()


# ------------------------------------------------------------------------- exit
def show_on_exit_and_close(app: App[Any], report: RenderableType) -> None:
    """From an ``App._fatal_error`` override: print ``report`` once the terminal is
    restored, then close the app as Textual's own ``_fatal_error`` does.

    Textual's report shows local variables (which may hold the API key or server text)
    and there is no public hook to change it, so the app overrides ``_fatal_error``.
    """
    app._exit_renderables.append(Segments(app.console.render(report, app.console.options)))
    app._close_messages_no_wait()
