"""The ``conversions-tui`` command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = sys.argv[1:] if argv is None else argv
    print("conversions-tui: work in progress", args)
    return 0
