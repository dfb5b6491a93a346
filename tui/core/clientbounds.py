"""The client's bounds (total deadline, answer caps) as a profile sets them.

Every place that builds a :class:`tui.api.client.ConversionsClient` for a profile (the
monitor's session, ``login``'s check, the CLI upload) passes these, so a trickling or
endless answer is cut off the same way everywhere.
"""

from __future__ import annotations

from typing import Any

from tui.core.settings import ProfileSettings

__all__ = ["client_bounds"]

_MIB = 1024 * 1024


def client_bounds(profile: ProfileSettings) -> dict[str, Any]:
    """Keyword arguments for ``ConversionsClient``: timeout, deadline, batch answer cap."""
    return {
        "timeout": profile.timeout,
        "deadline": profile.deadline,  # None: the client's 3 x timeout
        "max_batch_bytes": profile.max_batch_answer_mib * _MIB,
    }
