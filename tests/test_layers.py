"""The layer arrows of DESIGN.md, checked in a fresh interpreter per layer."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = """
import importlib, pkgutil, sys
import {package} as root
for info in pkgutil.walk_packages(root.__path__, root.__name__ + "."):
    importlib.import_module(info.name)
# rich is not listed: httpx imports it for its own CLI when it is installed.
bad = sorted(m for m in sys.modules if m.split(".")[0] == "textual"
             or m.startswith("tui.ui") or m == "tui.cli"{extra})
print("\\n".join(bad))
"""


@pytest.mark.parametrize(
    ("package", "extra"),
    [
        ("tui.api", ' or m.startswith("tui.core") or m.startswith("tui.sandbox")'),
        ("tui.core", ' or m.startswith("tui.sandbox")'),
        ("tui.sandbox", ' or m.startswith("tui.core")'),
    ],
)
def test_lower_layers_import_no_ui(package: str, extra: str) -> None:
    code = CHECK.format(package=package, extra=extra)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{package} pulls in: {result.stdout}"
