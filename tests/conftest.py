"""Fixtures every test gets: private XDG folders, an in-memory keyring, no stray env."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from tests.fixtures.keyring_backend import InMemoryKeyring

pytest_plugins = ["tests.fixtures.sandbox"]

_OUR_ENV = (
    "CONVERSIONS_API_KEY",
    "CONVERSIONS_BASE_URL",
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
    return f"XDG isolated per test; keyring in memory; pid {os.getpid()}"
