"""A mouse press on a widget just taken off the screen, before the screen is drawn again,
is dropped: Textual's text selection would read the removed widget's parent and crash the
app (seen when a click met the footer redoing its keys on a busy machine)."""

from __future__ import annotations

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Static

from tui.ui.app import ConversionsApp, lands_on_a_removed_widget


class _OneLabel(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("press here", id="label")


def _press_at_origin() -> events.MouseDown:
    return events.MouseDown(None, 1, 0, 0, 0, 1, False, False, False, screen_x=1, screen_y=0)


async def test_a_press_on_a_removed_widget_is_dropped_not_a_crash() -> None:
    app = _OneLabel()
    async with app.run_test(size=(40, 5)) as pilot:
        label = app.query_one("#label", Static)
        assert not lands_on_a_removed_widget(app, _press_at_origin())  # shown: handled
        await label.remove()
        # The screen still maps the press to the removed label until it is drawn again.
        found, _ = app.screen.get_widget_and_offset_at(1, 0)
        assert found is label and label.parent is None
        assert lands_on_a_removed_widget(app, _press_at_origin())
        # The app's own handler drops it (Textual's would raise AttributeError here).
        await ConversionsApp.on_event(app, _press_at_origin())  # type: ignore[arg-type]
        await pilot.pause()
        assert app.is_running
