"""Pins every private Textual name the app uses (tui/ui/textual_private.py).

A Textual upgrade that renames, removes or reshapes one of them fails here, naming it,
instead of breaking the running app. Also checks that nothing outside that module
reaches for a private Textual name, so the list stays complete.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import re
import tokenize
from pathlib import Path
from typing import Any, ClassVar

import pytest
import textual
from rich.text import Text
from textual._styles_cache import StylesCache
from textual.app import App
from textual.binding import Binding, BindingsMap
from textual.color import Color
from textual.filter import NoColor
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from tests.ui.conftest import wait_for
from tests.waiting import until
from tui.ui import textual_private, toasts
from tui.ui.textual_private import PRIVATE_NAMES, PrivateName

TUI = Path(textual_private.__file__).resolve().parents[1]


def _resolve(dotted: str) -> Any:
    """A module, or a class inside one, from its dotted path."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute)
        return found
    raise ImportError(dotted)


def _instance_of(owner: type[Any]) -> Any:
    """An unmounted instance, to see attributes Textual sets in ``__init__``."""
    if issubclass(owner, App):
        return App()
    return owner()


@pytest.mark.parametrize("pinned", PRIVATE_NAMES, ids=lambda p: f"{p.owner}.{p.name}")
def test_each_private_name_still_has_the_shape_used(pinned: PrivateName) -> None:
    where = f"{pinned.owner}.{pinned.name} (Textual {textual.__version__})"
    try:
        owner = _resolve(pinned.owner)
    except (ImportError, AttributeError) as error:
        pytest.fail(f"{pinned.owner} is gone in Textual {textual.__version__}: {error}; "
                    "update tui/ui/textual_private.py")
    holder = _instance_of(owner) if pinned.instance else owner
    assert hasattr(holder, pinned.name), (
        f"{where} is gone: update tui/ui/textual_private.py (the function that uses it "
        "says why the public API did not do)")
    if pinned.call is None:
        return
    found = getattr(holder, pinned.name)
    assert callable(found), f"{where} is no longer callable"
    args, kwargs = pinned.call
    if inspect.isclass(holder) and inspect.isfunction(inspect.getattr_static(holder, pinned.name)):
        args = (holder, *args)  # a plain method, looked up on the class: self comes first
    try:
        inspect.signature(found).bind(*args, **kwargs)
    except TypeError as error:
        pytest.fail(f"{where} no longer accepts the arguments used ({args}, {kwargs}): "
                    f"{error}; its signature is now {inspect.signature(found)}")


def test_no_private_textual_name_outside_the_one_module() -> None:
    """The list above is complete only if no other module reaches for one."""
    imports = re.compile(r"from textual[\w.]*\._\w+ import|from textual[\w.]* import _\w"
                         r"|import textual[\w.]*\._")
    found = []
    for path in sorted(TUI.rglob("*.py")):
        if path.name == "textual_private.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if imports.search(line):
                found.append(f"{path.relative_to(TUI.parent)}:{number}: {line.strip()}")
    assert not found, "private Textual imports outside tui/ui/textual_private.py:\n" + \
        "\n".join(found)


def test_no_private_textual_attribute_outside_the_one_module() -> None:
    """A pinned name read as an attribute (``app._driver``) or by name (``"_keymap"``)
    anywhere else in tui/: comments and docstrings may mention them."""
    pinned = {p.name for p in PRIVATE_NAMES}
    found = []
    for path in sorted(TUI.rglob("*.py")):
        if path.name == "textual_private.py":
            continue
        with path.open("rb") as source:
            tokens = list(tokenize.tokenize(source.readline))
        for before, token in itertools.pairwise(tokens):
            attribute = (token.type == tokenize.NAME and token.string in pinned
                         and before.string == ".")
            by_name = (token.type == tokenize.STRING
                       and token.string.strip("\"'") in pinned)
            if attribute or by_name:
                found.append(f"{path.relative_to(TUI.parent)}:{token.start[0]}: "
                             f"{token.line.strip()}")
    assert not found, "private Textual names used outside tui/ui/textual_private.py:\n" + \
        "\n".join(found)


# ------------------------------------------------------------ what each one does
class _Keyed(Screen[None]):
    BINDINGS = [Binding("d", "delete", "Delete", id="keyed.delete")]


class _Styled(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"styled--part"}


def test_bindings_and_keys_as_textual_applies_them() -> None:
    merged = textual_private.merged_bindings(_Keyed)
    assert isinstance(merged, BindingsMap)
    assert [b.action for b in merged.key_to_bindings["d"]] == ["delete"]
    assert textual_private.normalize_keys("?, x") == "question_mark,x"


async def test_each_function_does_its_job_on_a_running_app() -> None:
    app: App[object] = App()
    async with app.run_test() as pilot:
        screen = _Keyed()
        await app.push_screen(screen)
        app.set_keymap({"keyed.delete": "ctrl+d"})
        remapped = textual_private.bindings_with_keymap(screen).key_to_bindings
        assert [b.action for b in remapped.get("ctrl+d", [])] == ["delete"]
        assert "d" not in remapped
        assert "d" in screen._bindings.key_to_bindings, "the keymap changed the node itself"

        shown = toasts.post(app, "press z to undo", timeout=600)
        await wait_for(pilot, lambda: len(app._notifications) == 1, "the toast kept")
        textual_private.withdraw_notification(app, shown)
        assert len(app._notifications) == 0, "the toast was not withdrawn"
        textual_private.withdraw_notification(app, shown)  # gone already: nothing happens

        textual_private.remember_clipboard(app, "2001")
        assert app.clipboard == "2001"
        assert textual_private.write_to_terminal(app, "")  # the headless driver takes it

        textual_private.replace_line_filters(app, keep=lambda item: False, add=NoColor())
        assert [type(item) for item in app._filters] == [NoColor]

        widget = _Styled()
        await screen.mount(widget)
        widget.get_component_rich_style("styled--part")
        assert len(textual_private.component_styles_identity(widget)) == 1

        StylesCache.get_inner_outer(StylesCache(), Color(0, 0, 0), Color(1, 1, 1))
        textual_private.forget_styles_cache()
        assert StylesCache.get_inner_outer.cache_info().currsize == 0

        footer = Footer()
        await screen.mount(footer)
        screen.refresh_bindings()  # the footer reads bindings when they change
        await wait_for(pilot, lambda: textual_private.footer_bindings_ready(footer),
                       "the footer read its bindings")


async def test_a_fatal_error_report_is_shown_on_exit_and_the_app_closes(
        capsys: pytest.CaptureFixture[str]) -> None:
    app: App[None] = App()
    async with app.run_test():
        textual_private.show_on_exit_and_close(app, Text("stopped: the report"))
        # Not Pilot's pause: it waits for a screen that no longer processes messages.
        await until(lambda: not app.is_running, "the app closed")
    assert "stopped: the report" in capsys.readouterr().err
