"""Fixtures every test gets: private XDG folders, an in-memory keyring, no stray env.

Hypothesis runs under one of two profiles, chosen here before any test module is imported
(a test's own ``@settings`` inherit from it):

* ``ci`` (when ``CI`` is set, as in CI): derandomized, so every run tries the same
  examples and a failure is never luck; no example database (CI has no memory to keep).
  A failure prints its reproduction blob: add the case as an explicit ``@example``.
* ``dev`` (otherwise): random examples, so local runs keep exploring.

Neither has a deadline: a loaded machine must not turn a slow example into a failure.
``HYPOTHESIS_PROFILE=ci`` (or ``dev``) overrides the choice.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from hypothesis import settings

from tests.fixtures.keyring_backend import InMemoryKeyring

pytest_plugins = ["tests.fixtures.sandbox"]

settings.register_profile("ci", derandomize=True, database=None, print_blob=True,
                          deadline=None)
settings.register_profile("dev", deadline=None)
_IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _IN_CI else "dev"))

_OUR_ENV = (
    "CONVERSIONS_API_KEY",
    "CONVERSIONS_BASE_URL",
    "CONVERSIONS_PERSON",
    "CONVERSIONS_PROFILE",
    "CONVERSIONS_THEME",
    "NO_COLOR",
)


@pytest.fixture(autouse=True)
def isolated_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every platformdirs folder at a fresh temporary tree."""
    root = tmp_path / "xdg"
    for name in ("CONFIG", "DATA", "STATE", "CACHE", "RUNTIME"):
        folder = root / name.lower()
        folder.mkdir(parents=True)
        monkeypatch.setenv(f"XDG_{name}_HOME" if name != "RUNTIME" else "XDG_RUNTIME_DIR",
                           str(folder))
    for name in _OUR_ENV:
        monkeypatch.delenv(name, raising=False)
    return root


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[InMemoryKeyring]:
    """Replace the keyring backend with an in-memory one for each test."""
    previous = keyring.get_keyring()
    backend = InMemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def pytest_report_header() -> str:
    return (f"XDG isolated per test; keyring in memory; pid {os.getpid()}; "
            f"hypothesis profile {settings.get_current_profile_name()}")
