"""API key masking, resolution order, and keyring calls that fail or never return."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import pickle
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend

from tests.fixtures.keyring_backend import InMemoryKeyring
from tests.waiting import WAIT_BOUND
from tui.core.credentials import (
    SERVICE,
    ApiKey,
    CredentialStore,
    KeySource,
    ResolvedKey,
    session_key,
)

CANARY = "canary-S3CRET-0123456789-zz9q"
ROOT = Path(__file__).resolve().parents[2]


class ExplodingKeyring(KeyringBackend):
    """Fails the test if anyone so much as asks it for a password."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def get_password(self, service: str, username: str, *password: str) -> str | None:
        self.calls += 1
        raise AssertionError("the keyring must not be touched")

    set_password = delete_password = get_password  # type: ignore[assignment]


class RaisingKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def get_password(self, service: str, username: str, *password: str) -> str | None:
        raise self.error

    set_password = delete_password = get_password  # type: ignore[assignment]


class HangingKeyring(KeyringBackend):
    """A locked Secret Service: every call waits until the test lets it go."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.calls = 0

    def get_password(self, service: str, username: str, *password: str) -> str | None:
        self.calls += 1
        self.release.wait()
        return None

    set_password = delete_password = get_password  # type: ignore[assignment]


@pytest.fixture
def hanging() -> Iterator[HangingKeyring]:
    backend = HangingKeyring()
    yield backend
    backend.release.set()


# --- ApiKey ----------------------------------------------------------------------------

def test_key_never_shows_itself() -> None:
    key = ApiKey(CANARY)
    resolved = ResolvedKey(key, KeySource.ENV)
    renderings = [
        repr(key), str(key), f"{key}", f"{key!r}", f"{key!s}", f"{key:>40}", format(key, "s"),
        "%s" % key, "%r" % key, "{}".format(key), str([key]), str({"k": key}),  # noqa: UP031, UP032
        repr(resolved), str(resolved), key.masked, repr(copy.deepcopy(key)),
    ]
    for text in renderings:
        assert CANARY not in text
        assert "S3CRET" not in text
    assert repr(key) == "ApiKey('…z9q')".replace("…z9q", "…" + CANARY[-4:])
    assert key.reveal() == CANARY


def test_key_stays_out_of_logs_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    key = ApiKey(CANARY)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("using %s / %r", key, key)
    assert "ApiKey(" in caplog.text and CANARY not in caplog.text
    try:
        raise RuntimeError(key)
    except RuntimeError as error:
        text = "".join(traceback.format_exception(error))
    assert "ApiKey(" in text and CANARY not in text


def test_key_refuses_pickling_and_json() -> None:
    key = ApiKey(CANARY)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError) as caught:
            pickle.dumps(key, protocol=protocol)
        assert CANARY not in str(caught.value)
    with pytest.raises(TypeError) as caught_json:
        json.dumps({"k": key})
    assert CANARY not in str(caught_json.value)
    with pytest.raises(TypeError):
        vars(key)


def test_short_keys_show_no_characters() -> None:
    assert ApiKey("demo-key").masked == "…"
    assert "demo" not in repr(ApiKey("demo-key"))
    assert ApiKey("abcdefghijkl").masked == "…ijkl"


@pytest.mark.parametrize("bad", ["", "   ", "abc def", "abc\nX-Other: 1", "clé-secrète", "a\x00"])
def test_unusable_keys_are_refused_without_echo(bad: str) -> None:
    with pytest.raises(ValueError) as caught:
        ApiKey(bad)
    assert bad.strip() == "" or bad not in str(caught.value)


def test_key_equality_and_whitespace() -> None:
    assert ApiKey(" k-123456789012\n") == ApiKey("k-123456789012")
    assert ApiKey("k-123456789012") != ApiKey("k-123456789013")
    assert len({ApiKey("k-123456789012"), ApiKey("k-123456789012")}) == 1


def test_session_key() -> None:
    resolved = session_key(CANARY)
    assert resolved.source is KeySource.SESSION and resolved.key == ApiKey(CANARY)


# --- resolution order ---------------------------------------------------------------------

async def test_env_wins_and_keyring_is_not_touched() -> None:
    backend = ExplodingKeyring()
    keyring.set_keyring(backend)
    store = CredentialStore()
    resolved = await store.resolve("prod", {"CONVERSIONS_API_KEY": CANARY})
    assert resolved == ResolvedKey(ApiKey(CANARY), KeySource.ENV, None)
    assert store.resolve_sync("prod", {"CONVERSIONS_API_KEY": CANARY}).source is KeySource.ENV
    assert backend.calls == 0


async def test_bad_env_key_is_a_problem_not_a_crash() -> None:
    keyring.set_keyring(ExplodingKeyring())
    resolved = await CredentialStore().resolve("prod", {"CONVERSIONS_API_KEY": "a b"})
    assert resolved.key is None and resolved.problem is not None
    assert "CONVERSIONS_API_KEY" in resolved.problem


async def test_keyring_per_profile(memory_keyring: InMemoryKeyring) -> None:
    memory_keyring.set_password(SERVICE, "prod", CANARY)
    store = CredentialStore()
    assert await store.resolve("prod", {}) == ResolvedKey(ApiKey(CANARY), KeySource.KEYRING)
    nothing = await store.resolve("staging", {})
    assert nothing == ResolvedKey(None, KeySource.NONE, None)


async def test_save_and_forget_round_trip(memory_keyring: InMemoryKeyring) -> None:
    store = CredentialStore()
    assert await store.save("prod", ApiKey(CANARY)) is None
    assert memory_keyring.store[(SERVICE, "prod")] == CANARY
    assert (await store.resolve("prod", {})).key == ApiKey(CANARY)
    assert await store.forget("prod") is None
    assert (await store.resolve("prod", {})).key is None
    assert await store.forget("prod") is None  # forgetting twice is fine


def test_sync_variants(memory_keyring: InMemoryKeyring) -> None:
    store = CredentialStore()
    assert store.save_sync("prod", ApiKey(CANARY)) is None
    assert store.resolve_sync("prod", {}).source is KeySource.KEYRING
    assert store.forget_sync("prod") is None
    assert (SERVICE, "prod") not in memory_keyring.store


async def test_no_keyring_backend_gives_the_ssh_sentence() -> None:
    keyring.set_keyring(RaisingKeyring(keyring.errors.NoKeyringError("No recommended backend")))
    store = CredentialStore()
    resolved = await store.resolve("prod", {})
    assert resolved.key is None and resolved.source is KeySource.NONE
    assert resolved.problem == (
        "No keyring backend is available (usual over SSH): the key is kept for this session "
        "only; set CONVERSIONS_API_KEY or install and unlock a Secret Service to store it.")
    assert await store.save("prod", ApiKey(CANARY)) == resolved.problem
    assert store.save_sync("prod", ApiKey(CANARY)) == resolved.problem


@pytest.mark.parametrize(("error", "words"), [
    (keyring.errors.KeyringLocked("locked"), "locked"),
    (keyring.errors.InitError("dbus gone"), "InitError"),
    (OSError("dbus socket refused"), "OSError"),
])
async def test_other_keyring_failures_are_one_sentence(error: Exception, words: str) -> None:
    keyring.set_keyring(RaisingKeyring(error))
    resolved = await CredentialStore().resolve("prod", {})
    assert resolved.key is None and resolved.problem is not None
    assert words in resolved.problem
    assert resolved.problem.count(". ") == 0 and resolved.problem.endswith(".")
    assert "CONVERSIONS_API_KEY" in resolved.problem


async def test_save_problem_never_echoes_the_key() -> None:
    keyring.set_keyring(RaisingKeyring(keyring.errors.PasswordSetError(f"refused {CANARY}")))
    problem = await CredentialStore().save("prod", ApiKey(CANARY))
    assert problem is not None and CANARY not in problem and "save" in problem


async def test_hung_keyring_times_out(hanging: HangingKeyring) -> None:
    # The keyring never answers: that the call returns at all is the timeout working.
    # (No upper limit on how long it took: a loaded machine may be slow to switch back.)
    store = CredentialStore(timeout=0.3, backend=hanging)
    started = time.monotonic()
    resolved = await store.resolve("prod", {})
    assert time.monotonic() - started >= 0.25  # it did wait for the keyring first
    assert resolved.key is None and resolved.problem is not None
    assert "did not answer within 0.3 s" in resolved.problem
    # A second call while the first is still stuck answers without a new thread.
    assert (await store.resolve("prod", {})).problem == resolved.problem
    assert hanging.calls == 1


def test_hung_keyring_times_out_sync(hanging: HangingKeyring) -> None:
    store = CredentialStore(timeout=0.3, backend=hanging)
    assert store.save_sync("prod", ApiKey(CANARY)) is not None  # returned: timed out


async def test_store_recovers_once_the_keyring_answers(hanging: HangingKeyring) -> None:
    store = CredentialStore(timeout=0.2, backend=hanging)
    assert (await store.resolve("prod", {})).problem is not None
    hanging.release.set()
    # The stuck call ends in its own time: ask until the store answers again.
    deadline = time.monotonic() + WAIT_BOUND
    resolved = await store.resolve("prod", {})
    while resolved.problem is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
        resolved = await store.resolve("prod", {})
    assert resolved == ResolvedKey(None, KeySource.NONE, None)


def test_hung_keyring_does_not_block_exit() -> None:
    script = textwrap.dedent("""
        import threading, keyring
        from keyring.backend import KeyringBackend
        from tui.core.credentials import CredentialStore

        class Hang(KeyringBackend):
            priority = 1
            def get_password(self, service, username, *password):
                threading.Event().wait()
            set_password = delete_password = get_password

        keyring.set_keyring(Hang())
        resolved = CredentialStore(timeout=0.3).resolve_sync("prod", {})
        print(resolved.problem is not None)
    """)
    # The keyring hangs for ever: the process ending at all is the check.
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=WAIT_BOUND, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_repr_of_store_has_no_secrets(memory_keyring: InMemoryKeyring) -> None:
    memory_keyring.set_password(SERVICE, "prod", CANARY)
    store = CredentialStore()
    store.resolve_sync("prod", {})
    assert CANARY not in repr(store)
