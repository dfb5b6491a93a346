"""httpx imported without its command-line client, which this app never runs.

``httpx/__init__.py`` imports ``httpx._main`` at once, only to offer ``httpx.main`` (the
``httpx`` console command); that module pulls in click, pygments and rich's progress,
syntax and table modules: about 30-40 ms of every start, a tenth of what the monitor
needs before its first screen. :func:`keep_httpx_cli_unloaded`, run before the first
``import httpx``, stands a small module in for ``httpx._main`` whose ``main`` loads the
real one when (if ever) it is called, so ``httpx.main`` still works.

Imported first by ``tui/api/__init__.py``, so whichever module of the app imports httpx,
the stand-in is there. Once httpx is loaded it changes nothing.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__all__ = ["CLI_MODULE", "keep_httpx_cli_unloaded"]

CLI_MODULE = "httpx._main"


def _main_on_demand(*args: Any, **kwargs: Any) -> Any:
    """``httpx.main``: drop the stand-in, load the real CLI, run it."""
    if isinstance(sys.modules.get(CLI_MODULE), _StandIn):
        del sys.modules[CLI_MODULE]
    real = importlib.import_module(CLI_MODULE)
    httpx = sys.modules["httpx"]
    httpx.main = real.main  # type: ignore[attr-defined]
    return real.main(*args, **kwargs)


class _StandIn(types.ModuleType):
    """What ``httpx/__init__.py`` finds as ``httpx._main`` until the CLI is asked for."""


def keep_httpx_cli_unloaded() -> None:
    """Before httpx is first imported: make its import skip the command-line client."""
    if "httpx" in sys.modules or CLI_MODULE in sys.modules:
        return
    stand_in = _StandIn(CLI_MODULE, "httpx's command-line client, loaded when called")
    stand_in.main = _main_on_demand  # type: ignore[attr-defined]
    sys.modules[CLI_MODULE] = stand_in


keep_httpx_cli_unloaded()
