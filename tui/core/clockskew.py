"""Whether the server's clock runs ahead of ours, judged from the times it sends.

A conversion cannot have been uploaded after the server answered about it, so an
``uploadDate`` later than the moment its answer arrived here says the server's clock
is ahead of the local one, by at least that much. Durations the app shows are
measured on the local clock (and never negative); this only explains an upload time
that reads as "in the future" (Inspect says so).
"""

from __future__ import annotations

from tui.core.timeinstatus import parse_instant

__all__ = ["SKEW_TOLERANCE", "describe_clock_skew", "server_clock_ahead"]

SKEW_TOLERANCE = 60.0
"""Seconds of difference not worth a word (clocks a little apart, the request's time)."""


def server_clock_ahead(upload_date: str | None, received_at: float | None, *,
                       tolerance: float = SKEW_TOLERANCE) -> float | None:
    """Seconds the server's clock seems ahead of ours, at least; None when no time says so.

    ``upload_date`` is the server's ISO time; ``received_at`` the local wall time (unix
    seconds) when the answer carrying it arrived (a row's ``last_checked``).
    """
    if not upload_date or received_at is None:
        return None
    uploaded = parse_instant(upload_date)
    if uploaded is None:
        return None
    ahead = uploaded - received_at
    return ahead if ahead > tolerance else None


def describe_clock_skew(seconds: float) -> str:
    """"The server's clock seems ahead by about 60 minutes" (at least one minute)."""
    minutes = max(1, round(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"The server's clock seems ahead by about {minutes} {unit}"
