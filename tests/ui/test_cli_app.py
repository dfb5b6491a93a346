"""The ``conversions-tui`` command around the app: help, watch, login, logout, no profile.

In-process calls of :func:`tui.cli.main` where the in-memory keyring or a patched getpass
must be seen; the installed console script in a subprocess where the process itself
(entry point, exit code, tty detection) is what is tested.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.keyring_backend import InMemoryKeyring
from tui import cli
from tui.core.credentials import SERVICE
from tui.core.paths import AppPaths
from tui.core.watchlist import Watchlist
from tui.sandbox.runner import SandboxServer

SCRIPT = Path(sys.executable).with_name("conversions-tui")


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment (XDG folders already private) without our variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVERSIONS_")}
    env.update(extra)
    return env


def run_script(*args: str, env: dict[str, str] | None = None,
               timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """The installed console script, stdin and stdout not a terminal."""
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "tui"]
    return subprocess.run([*command, *args], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, env=env or clean_env())


def test_help_names_the_options_and_subcommands() -> None:
    done = run_script("--help")
    assert done.returncode == 0, done.stderr
    for word in ("--demo", "--profile", "--base-url", "--read-only", "sandbox", "login",
                 "logout", "watch"):
        assert word in done.stdout


def test_no_profile_and_no_terminal_explains_and_exits_2() -> None:
    done = run_script()
    assert done.returncode == 2
    assert "No base URL for profile 'default'" in done.stderr
    assert "CONVERSIONS_BASE_URL" in done.stderr and "--base-url" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""  # no TUI was drawn


def test_watch_adds_ids_to_the_profile_watchlist(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONVERSIONS_BASE_URL", "https://api.northwind.example")
    assert cli.main(["watch", "48210", "48212-48214"]) == 0
    out = capsys.readouterr().out
    assert "Watching 4 more in profile 'default' (0 already watched)" in out
    # Again, with one already watched and a piece that is no ID: exit 1, names it.
    assert cli.main(["watch", "48214,48215", "12x4"]) == 1
    captured = capsys.readouterr()
    assert "Watching 1 more" in captured.out and "1 already watched" in captured.out
    assert "12x4" in captured.err
    paths = AppPaths.default()
    with Watchlist(paths.watchlist_db("default")) as watchlist:
        assert watchlist.ids() == [48210, 48212, 48213, 48214, 48215]
    # Nothing was written where a config file goes: the env var was enough.
    assert not paths.config_file.exists()


def test_watch_without_any_profile_fails_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["watch", "1"]) == 2
    assert "No base URL" in capsys.readouterr().err


def test_login_checks_the_key_and_stores_it_logout_removes_it(
        sandbox: SandboxServer, memory_keyring: InMemoryKeyring,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONVERSIONS_BASE_URL", sandbox.base_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("test-key\n"))  # piped in
    assert cli.main(["login"]) == 0
    out = capsys.readouterr().out
    assert "Dana Whitfield <dana.whitfield@northwind.example> (Northwind Traders)" in out
    assert "Stored in the OS keyring for profile 'default'" in out
    assert "test-key" not in out
    assert memory_keyring.store == {(SERVICE, "default"): "test-key"}
    assert sandbox.state.request_count == 1  # one check, no retries

    assert cli.main(["logout"]) == 0
    assert "Removed the key of profile 'default'" in capsys.readouterr().out
    assert memory_keyring.store == {}
    assert cli.main(["logout"]) == 0  # nothing stored: still fine
    assert "No key was stored for profile 'default'" in capsys.readouterr().out


def test_login_with_a_wrong_key_stores_nothing_and_exits_1(
        sandbox: SandboxServer, memory_keyring: InMemoryKeyring,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONVERSIONS_BASE_URL", sandbox.base_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("not-the-key-123\n"))  # piped in
    assert cli.main(["login", "--profile", "staging"]) == 1
    captured = capsys.readouterr()
    assert "refused this key (401); nothing was stored" in captured.err
    assert "not-the-key-123" not in captured.out + captured.err
    assert memory_keyring.store == {}


def test_login_with_an_empty_key_asks_nothing_of_the_server(
        sandbox: SandboxServer, memory_keyring: InMemoryKeyring,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONVERSIONS_BASE_URL", sandbox.base_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("   \n"))  # piped in
    assert cli.main(["login"]) == 2
    assert "the key is empty" in capsys.readouterr().err
    assert sandbox.state.request_count == 0 and memory_keyring.store == {}


def test_login_from_a_pipe_reads_the_key_without_a_getpass_warning(
        sandbox: SandboxServer, memory_keyring: InMemoryKeyring) -> None:
    # `pass show prod | conversions-tui login`: no terminal to hide the key from, so no
    # "Can not control echo on the terminal" warning from getpass.
    env = {**os.environ, "CONVERSIONS_BASE_URL": sandbox.base_url}
    done = subprocess.run([sys.executable, "-m", "tui", "login"], input="wrong-key\n",
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 1, done.stderr
    assert "refused this key (401)" in done.stderr
    assert "GetPassWarning" not in done.stderr and "may be echoed" not in done.stderr


def test_invalid_ids_on_the_command_line_exit_2_before_any_ui() -> None:
    done = run_script("--base-url", "https://api.northwind.example", "12x4")
    assert done.returncode == 2
    assert "not conversion IDs: 12x4" in done.stderr


def test_a_watchlist_from_a_newer_version_is_a_sentence_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    paths = AppPaths.default()
    paths.ensure("default")
    with sqlite3.connect(paths.watchlist_db("default")) as conn:
        conn.execute("PRAGMA user_version = 99")
    monkeypatch.setenv("CONVERSIONS_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CONVERSIONS_API_KEY", "some-key")
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert "cannot open the watchlist of profile 'default'" in err
    assert "Traceback" not in err and "some-key" not in err


# ------------------------------------------------- inputs that are no IDs, no keyring
NO_KEYRING = "keyring.backends.fail.Keyring"  # raises NoKeyringError, as over SSH


def _watched_ids() -> list[int]:
    with Watchlist(AppPaths.default().watchlist_db("default")) as watchlist:
        return watchlist.ids()


def test_watch_of_nothing_valid_lists_the_inputs_and_exits_2() -> None:
    env = clean_env(CONVERSIONS_BASE_URL="https://api.northwind.example")
    done = run_script("watch", "abc", "0", env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "abc (no conversion ID in it)" in done.stderr
    assert "0 (IDs start at 1)" in done.stderr
    assert "nothing added" in done.stderr
    assert "Watching" not in done.stdout  # no "Watching 0 more"
    assert not AppPaths.default().watchlist_db("default").exists()


def test_watch_of_an_id_and_a_word_watches_the_id_and_lists_the_word() -> None:
    env = clean_env(CONVERSIONS_BASE_URL="https://api.northwind.example")
    done = run_script("watch", "12", "abc", env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Watching 1 more in profile 'default'" in done.stdout
    assert "Not IDs: abc (no conversion ID in it)" in done.stderr
    assert _watched_ids() == [12]


def test_ticket_text_in_one_argument_still_gives_its_ids(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONVERSIONS_BASE_URL", "https://api.northwind.example")
    assert cli.main(["watch", "Conversions #4512 and 4513 failed"]) == 0
    assert _watched_ids() == [4512, 4513]


@pytest.mark.parametrize("command", ["watch", "login", "logout", "upload"])
def test_every_subcommand_documents_its_exit_codes(command: str) -> None:
    done = run_script(command, "--help")
    assert done.returncode == 0, done.stderr
    assert "\nexit codes:\n  0   " in done.stdout, done.stdout
    assert "\n  2   " in done.stdout


def test_the_monitor_help_documents_its_exit_codes() -> None:
    assert "\nexit codes:\n  0   the monitor was closed normally" in run_script("--help").stdout


def test_login_without_a_keyring_says_how_to_use_the_environment(
        sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    keyring.set_keyring(FailKeyring())  # the conftest puts the in-memory one back
    monkeypatch.setenv("CONVERSIONS_BASE_URL", sandbox.base_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("test-key\n"))  # piped in
    assert cli.main(["login"]) == cli.EXIT_KEY_NOT_STORED == 3
    captured = capsys.readouterr()
    assert "the key belongs to Dana Whitfield" in captured.out  # it was checked
    assert "the key is good, but no keyring backend is available" in captured.err
    assert "it was not stored" in captured.err
    assert "export CONVERSIONS_API_KEY" in captured.err
    assert "session" not in captured.out + captured.err  # no session outlives the command
    assert "Stored in the OS keyring" not in captured.out
    assert "test-key" not in captured.out + captured.err


def test_login_into_a_keyring_that_forgets_is_not_called_stored(
        sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import keyring
    from keyring.backends.null import Keyring as NullKeyring

    keyring.set_keyring(NullKeyring())  # takes every key, gives none back
    monkeypatch.setenv("CONVERSIONS_BASE_URL", sandbox.base_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("test-key\n"))  # piped in
    assert cli.main(["login"]) == 3
    captured = capsys.readouterr()
    assert "this keyring takes keys without keeping them" in captured.err
    assert "it was not stored" in captured.err
    assert "Stored in the OS keyring" not in captured.out


def test_logout_without_a_keyring_says_nothing_is_stored_and_exits_0() -> None:
    env = clean_env(CONVERSIONS_BASE_URL="https://api.northwind.example",
                    PYTHON_KEYRING_BACKEND=NO_KEYRING)
    done = run_script("logout", env=env)
    assert done.returncode == 0, done.stderr
    assert "no key can be stored for profile 'default': nothing to remove" in done.stdout
    assert done.stderr == ""


def test_logout_with_nothing_stored_says_so(
        memory_keyring: InMemoryKeyring, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONVERSIONS_BASE_URL", "https://api.northwind.example")
    assert cli.main(["logout"]) == 0
    assert "No key was stored for profile 'default'" in capsys.readouterr().out


def test_logout_with_a_locked_keyring_fails_with_1(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import keyring
    import keyring.errors

    class LockedKeyring(InMemoryKeyring):
        def delete_password(self, service: str, username: str) -> None:
            raise keyring.errors.KeyringLocked("locked")

    keyring.set_keyring(LockedKeyring())
    monkeypatch.setenv("CONVERSIONS_BASE_URL", "https://api.northwind.example")
    assert cli.main(["logout"]) == 1
    err = capsys.readouterr().err
    assert "The keyring is locked: nothing was removed" in err


def test_watch_with_a_note_and_a_bad_config_value_said(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    paths = AppPaths.default()
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text('[profiles.default]\nbase_url = "https://api.example.com"\n'
                                 'stuck_after = "soon"\n', encoding="utf-8")
    assert cli.main(["watch", "48210", "--note", "INC-4412"]) == 0
    captured = capsys.readouterr()
    # The bad value is said (file and line), its default used, and the watch goes on.
    assert f"{paths.config_file}: line 3: stuck_after: 'soon' is not a duration" in captured.err
    with Watchlist(paths.watchlist_db("default")) as watchlist:
        row = watchlist.get(48210)
    assert row is not None and row.note == "INC-4412"
