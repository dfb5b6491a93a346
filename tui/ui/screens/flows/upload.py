"""Upload (``u``): the upload modal, its accepted IDs watched through the service."""

from __future__ import annotations

from tui.ui.screens.flows.host import MonitorHost
from tui.ui.screens.flows.refusals import saved


async def run_upload(host: MonitorHost) -> None:
    """Open the upload modal and wait for it. Must run inside a worker."""
    from tui.ui.screens.upload import UploadModal
    if host.session.read_only:
        host.notify("Read-only profile: uploading is switched off.", severity="warning")
        return
    source = host.source
    if source is None:
        host.notify("No API key yet: nothing can be uploaded.", severity="warning")
        return
    # The team database away: nothing is sent whose new IDs could not be recorded.
    if saved(host, lambda: host.watching.check_writable("upload"), title="Not sent") is None:
        return
    # Accepted IDs go through the service: watched, checked at once, shown.
    await host.app.push_screen_wait(UploadModal(
        session=host.session, client=source.client, watching=host.watching))
