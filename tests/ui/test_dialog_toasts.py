"""A dialog on a small terminal keeps what must be acted on in sight: at 80x24 the delete
confirmation of a dozen rows and more keeps its count box and buttons on screen (the list
of rows scrolls instead), and toasts shown meanwhile (its own "not 14" among them) go to
the top right, never over them."""

from __future__ import annotations

from typing import Any

from textual.geometry import Region
from textual.widget import Widget

from tests.ui.conftest import SessionFactory, wait_for
from tests.ui.test_triage_actions import first_poll, mark, read_confirmation
from tui.sandbox.runner import SandboxServer
from tui.ui.app import ConversionsApp
from tui.ui.screens.confirm_delete import ConfirmDeleteModal

SMALL = (80, 24)


def regions(modal: ConfirmDeleteModal) -> dict[str, Region]:
    """Where the parts a person acts on are drawn."""
    return {name: modal.query_one(f"#{name}", Widget).region
            for name in ("count", "cancel", "delete")}


def toast_regions(modal: ConfirmDeleteModal) -> list[Region]:
    return [toast.region for toast in modal.query("Toast")]


def inside(modal: ConfirmDeleteModal) -> Region:
    """Where the dialog draws inside its border."""
    return modal.query_one("ConfirmDeleteModal > Vertical", Widget).content_region


def in_sight(modal: ConfirmDeleteModal) -> bool:
    """Every part to act on lies inside the dialog's border (so on screen)."""
    return all(inside(modal).contains_region(region) for region in regions(modal).values())


async def test_the_delete_confirmation_keeps_its_buttons_in_sight_at_80x24(
        sandbox: SandboxServer, monitor_session: SessionFactory) -> None:
    ids = [sandbox.state.add_conversion(status="Failed", frozen=True, file_name=f"f{i}.csv")
           for i in range(14)]
    app = ConversionsApp(monitor_session(ids=ids))
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await first_poll(pilot, app, ids)
        await mark(pilot, app, ids)
        await pilot.press("d")
        modal = await read_confirmation(pilot)
        await wait_for(pilot, lambda: in_sight(modal),
                       what=lambda: f"count box and buttons inside the dialog "
                                    f"{inside(modal)}: "
                                    f"{regions(modal)}")
        # A wrong count: the dialog's own toast says so, and an alert comes meanwhile.
        await pilot.press("1", "3", "enter")
        app.notify("Conversion 48211 failed (payroll-march.csv): Row 2: the date is not "
                   "valid", title="Conversion failed", severity="error", timeout=60)

        def toasts_drawn() -> bool:
            shown = toast_regions(modal)
            return len(shown) == 2 and all(region.area for region in shown)

        await wait_for(pilot, toasts_drawn,
                       what=lambda: f"two toasts drawn: {toast_regions(modal)}")
        await wait_for(pilot, lambda: in_sight(modal),
                       what=lambda: f"still in sight with the count's sentence: "
                                    f"{regions(modal)}")
        covered: list[Any] = [(name, toast) for name, region in regions(modal).items()
                              for toast in toast_regions(modal) if region.overlaps(toast)]
        assert covered == [], f"toasts over the dialog's controls: {covered}"
        title = modal.query_one("#title", Widget).region
        assert not any(title.overlaps(toast) for toast in toast_regions(modal))
        assert modal.query_one("#count-problem", Widget).region.area  # the sentence shows
