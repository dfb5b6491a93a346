"""Help text shared by the ``conversions-tui`` command and its subcommands.

Apart from :mod:`tui.cli` so that a subcommand's module (``tui.cli_upload``) can word
its ``--help`` the same way without importing the command that calls it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence


def exit_codes_epilog(codes: Sequence[tuple[int, str]], before: str = "") -> str:
    """The ``--help`` epilog listing a command's exit codes, one a line."""
    lines = [before, ""] if before else []
    lines.append("exit codes:")
    for code, meaning in codes:
        lines += textwrap.wrap(f"{code:<3} {meaning}", width=76, initial_indent="  ",
                               subsequent_indent="      ")
    return "\n".join(lines)
