"""screenshots/make_screenshots.py runs, writes a clean SVG, and writes the same one twice."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "screenshots" / "make_screenshots.py"


def load_script() -> ModuleType:
    """The script as a module (it is a file, not part of a package)."""
    spec = importlib.util.spec_from_file_location("make_screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def run_main_shot(out: Path) -> str:
    """Run the script for the main screen only, into ``out``; the SVG text."""
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--only", "main"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return (out / "main.svg").read_text(encoding="utf-8")


def test_one_shot_is_a_clean_svg_and_the_same_every_run(tmp_path: Path) -> None:
    script = load_script()
    first = run_main_shot(tmp_path / "first")
    root = ET.fromstring(first)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    # The picture holds the fixed morning: the failed payroll, its note, the mistyped ID.
    for text in ("northwind_payroll_oct.xlsx", script.TICKET, str(script.MISTYPED)):
        assert text.replace(" ", "&#160;") in first
    for secret in (script.SANDBOX_KEY, str(tmp_path), "127.0.0.1"):
        assert secret not in first
    assert list((tmp_path / "first").iterdir()) == [tmp_path / "first" / "main.svg"]
    assert run_main_shot(tmp_path / "second") == first  # frozen clock, fixed data


def test_a_picture_with_the_key_or_a_temporary_path_is_refused() -> None:
    script = load_script()
    script.check_clean("<svg>fine</svg>", "main", [script.SANDBOX_KEY])
    with pytest.raises(RuntimeError, match="main: the picture contains"):
        script.check_clean(f"<svg>{script.SANDBOX_KEY}</svg>", "main", [script.SANDBOX_KEY])
