"""ruff, mypy (strict on tui/) and the import-linter contracts, as part of the test run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True, check=False,
                          timeout=600)


def test_ruff_is_clean() -> None:
    result = _run(sys.executable, "-m", "ruff", "check", "tui", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = _run(sys.executable, "-m", "mypy", "--no-error-summary")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("lint-imports") is None and not (
    Path(sys.executable).parent / "lint-imports").exists(), reason="import-linter not installed")
def test_import_contracts_hold() -> None:
    exe = Path(sys.executable).parent / "lint-imports"
    result = _run(str(exe) if exe.exists() else "lint-imports")
    assert result.returncode == 0, result.stdout + result.stderr
