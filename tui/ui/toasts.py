"""Toasts that can be taken back (``App.notify`` gives no handle to withdraw one).

``App.notify`` returns nothing, so a toast that stops being true ("press z to undo"
once z was pressed) could not be withdrawn. Here the :class:`Notification` is made
and posted as ``App.notify`` does (public types), so its owner keeps it, and
:func:`withdraw` removes it through Textual's private ``App._unnotify`` — the same
call a click on a toast makes, and Textual's only way to drop one toast (reached
through :mod:`tui.ui.textual_private`).
"""

from __future__ import annotations

from textual.app import App
from textual.notifications import Notification, Notify, SeverityLevel

from tui.ui.textual_private import withdraw_notification

__all__ = ["post", "withdraw"]


def post(app: App[object], message: str, *, severity: SeverityLevel = "information",
         timeout: float | None = None) -> Notification:
    """Show ``message`` as a toast (never markup) and return it, for :func:`withdraw`."""
    notification = Notification(message, "", severity,
                                app.NOTIFICATION_TIMEOUT if timeout is None else timeout,
                                markup=False)
    app.post_message(Notify(notification))
    return notification


def withdraw(app: App[object], notification: Notification) -> None:
    """Take ``notification`` off the screen now (nothing happens if it has gone)."""
    withdraw_notification(app, notification)
