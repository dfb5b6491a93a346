"""The API key: where it comes from, where it is kept, and how it stays out of sight.

Order: ``CONVERSIONS_API_KEY`` (the keyring is then not touched at all), then
the system keyring (service ``conversions-tui``, user name = profile name),
then nothing, and the UI asks for a key kept in memory for the session.

The keyring is always called on a daemon thread with a timeout: a locked
Secret Service can wait forever for a password prompt nobody sees over SSH,
and a daemon thread stuck there never holds up the app's exit. A key is never
written to a plain file. :class:`ApiKey` masks itself in every text form and
refuses to be pickled, so it cannot slip into a log line or a traceback.
"""

from __future__ import annotations

import asyncio
import hmac
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, NoReturn, TypeVar

__all__ = [
    "ENV_API_KEY",
    "SERVICE",
    "ApiKey",
    "CredentialStore",
    "KeySource",
    "Removal",
    "ResolvedKey",
    "session_key",
]

SERVICE = "conversions-tui"
ENV_API_KEY = "CONVERSIONS_API_KEY"

_T = TypeVar("_T")


class ApiKey:
    """An API key that never shows itself: repr, str and format give ``ApiKey('…abcd')``.

    Only :meth:`reveal` returns the secret, for the request header. The last
    four characters are shown only for keys long enough (12+) that they give
    little away; shorter keys show just ``…``.
    """

    __slots__ = ("__secret",)

    def __init__(self, secret: str) -> None:
        secret = secret.strip() if isinstance(secret, str) else ""
        if not secret:
            raise ValueError("an API key cannot be empty")
        # The key goes into an HTTP header: anything but visible ASCII would break it
        # (or inject another header). The message never repeats the key.
        if not all("!" <= char <= "~" for char in secret):
            raise ValueError("an API key must be visible ASCII characters without spaces")
        self.__secret = secret

    def reveal(self) -> str:
        """The secret itself: only for the ``X-API-KEY`` request header."""
        return self.__secret

    @property
    def masked(self) -> str:
        """``…`` and the last four characters (for keys of 12 or more characters)."""
        return "…" + self.__secret[-4:] if len(self.__secret) >= 12 else "…"

    def __repr__(self) -> str:
        return f"ApiKey('{self.masked}')"

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ApiKey):
            return NotImplemented
        return hmac.compare_digest(self.__secret.encode(), other.__secret.encode())

    def __hash__(self) -> int:
        return hash((ApiKey, self.__secret))

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("an ApiKey cannot be pickled (it would write the key out)")

    def __copy__(self) -> ApiKey:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ApiKey:
        return self


class KeySource(Enum):
    """Where the key in use came from."""

    ENV = "environment"
    KEYRING = "keyring"
    SESSION = "session"  # typed in this session, kept in memory only
    NONE = "none"


@dataclass(frozen=True)
class ResolvedKey:
    """The outcome of looking for a key.

    ``key is None`` means the UI should ask for one. ``problem`` is one sentence
    on why the keyring could not be used and how to fix it; it is ``None`` when
    the keyring works but simply holds no key for the profile yet.
    """

    key: ApiKey | None
    source: KeySource
    problem: str | None = None


def session_key(secret: str) -> ResolvedKey:
    """A key typed by the user for this session only (never stored)."""
    return ResolvedKey(ApiKey(secret), KeySource.SESSION)


_SESSION_ONLY = "the key is kept for this session only"


class Removal(Enum):
    """What :meth:`CredentialStore.remove_sync` found (``logout``)."""

    REMOVED = "removed"
    NOTHING_STORED = "nothing stored"
    NO_KEYRING = "no keyring"  # no backend at all: nothing can have been stored


def _problem(error: BaseException | None, action: str, timeout: float,
             then: str = _SESSION_ONLY) -> str:
    """One sentence: what went wrong with the keyring, what follows (``then``), the fix."""
    if error is None:  # timed out
        return (f"The keyring did not answer within {timeout:g} s (a locked Secret Service may "
                f"be waiting for a password prompt): {then}; unlock the keyring or "
                f"set {ENV_API_KEY}.")
    import keyring.errors  # here, not at start (see CredentialStore._keyring)

    if isinstance(error, keyring.errors.NoKeyringError):
        return (f"No keyring backend is available (usual over SSH): {then}; set "
                f"{ENV_API_KEY} or install and unlock a Secret Service to store it.")
    if isinstance(error, keyring.errors.KeyringLocked):
        return (f"The keyring is locked: {then}; unlock it (for example by logging in "
                f"to the desktop session) or set {ENV_API_KEY}.")
    # Name the kind of failure only: a backend's message could in theory echo the secret.
    return (f"The keyring could not {action} the key ({type(error).__name__}): "
            f"{then}; check the keyring setup or set {ENV_API_KEY}.")


class _Call:
    """One keyring call on a daemon thread, so a hung backend cannot hang us or our exit."""

    def __init__(self, function: Callable[[], Any]) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self._function = function
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="keyring-call", daemon=True)

    def _run(self) -> None:
        try:
            self.value = self._function()
        except BaseException as error:  # reported to the caller, never raised here
            self.error = error
        finally:
            with self._lock:
                self.done.set()
                listeners = list(self._listeners)
            for listener in listeners:
                listener()

    def on_done(self, listener: Callable[[], None]) -> None:
        with self._lock:
            if not self.done.is_set():
                self._listeners.append(listener)
                return
        listener()

    def start(self) -> _Call:
        self.thread.start()
        return self


class CredentialStore:
    """Reads, saves and forgets keys in the system keyring, with a timeout on every call.

    ``backend`` replaces the process-wide keyring backend (tests); by default
    the ``keyring`` package picks one, on the worker thread, since even that
    choice can block. ``then`` is what the problem sentences say follows a failure:
    the app keeps the key for the session; a command that exits (``login``) says
    the key was not stored.
    """

    def __init__(self, service: str = SERVICE, timeout: float = 3.0, *,
                 backend: Any | None = None, then: str = _SESSION_ONLY) -> None:
        self.service = service
        self.timeout = timeout
        self._backend = backend
        self._then = then
        self._hung: _Call | None = None

    def __repr__(self) -> str:
        return f"CredentialStore(service={self.service!r}, timeout={self.timeout!r})"

    def _keyring(self) -> Any:
        if self._backend is not None:
            return self._backend
        # Imported on the call's thread at first use, not at start: the monitor's first
        # screen needs no key (issue 12), and a slow backend module cannot hold the UI.
        import keyring

        return keyring.get_keyring()

    # -- running calls -------------------------------------------------------------------

    def _start(self, function: Callable[[], _T]) -> _Call | None:
        """Start a call, unless an earlier one is still stuck (then don't pile up threads)."""
        if self._hung is not None and not self._hung.done.is_set():
            return None
        call = _Call(function).start()
        self._hung = call
        return call

    def _wait_sync(self, function: Callable[[], _T]) -> _Call | None:
        call = self._start(function)
        if call is None or not call.done.wait(self.timeout):
            return None
        return call

    async def _wait_async(self, function: Callable[[], _T]) -> _Call | None:
        call = self._start(function)
        if call is None:
            return None
        loop = asyncio.get_running_loop()
        finished = loop.create_future()

        def wake() -> None:
            if not finished.done():
                finished.set_result(None)

        def from_thread() -> None:
            try:
                loop.call_soon_threadsafe(wake)
            except RuntimeError:  # the loop closed while the keyring was busy
                pass

        call.on_done(from_thread)
        try:
            await asyncio.wait_for(finished, self.timeout)
        except TimeoutError:
            return None
        return call

    # -- the operations, as plain functions run on the thread ----------------------------

    def _read(self, profile: str) -> Callable[[], str | None]:
        return lambda: self._keyring().get_password(self.service, profile)

    def _write(self, profile: str, key: ApiKey) -> Callable[[], None]:
        return lambda: self._keyring().set_password(self.service, profile, key.reveal())

    def _delete(self, profile: str) -> Callable[[], None]:
        def delete() -> None:
            import keyring.errors

            try:
                self._keyring().delete_password(self.service, profile)
            except keyring.errors.PasswordDeleteError:
                pass  # nothing stored: already forgotten

        return delete

    # -- outcomes ------------------------------------------------------------------------

    @staticmethod
    def _from_env(env: Mapping[str, str]) -> ResolvedKey | None:
        text = env.get(ENV_API_KEY, "").strip()
        if not text:
            return None
        try:
            return ResolvedKey(ApiKey(text), KeySource.ENV)
        except ValueError as error:
            return ResolvedKey(None, KeySource.NONE,
                               f"{ENV_API_KEY} is set but is not usable ({error}); fix or unset "
                               "it.")

    def _resolved(self, call: _Call | None) -> ResolvedKey:
        if call is None or call.error is not None:
            return ResolvedKey(None, KeySource.NONE,
                               _problem(call.error if call else None, "read", self.timeout,
                                        self._then))
        if call.value is None:
            return ResolvedKey(None, KeySource.NONE)
        try:
            return ResolvedKey(ApiKey(str(call.value)), KeySource.KEYRING)
        except ValueError:
            return ResolvedKey(None, KeySource.NONE,
                               "The key stored in the keyring is empty or malformed: enter it "
                               "again to replace it, or set " + ENV_API_KEY + ".")

    def _outcome(self, call: _Call | None, action: str) -> str | None:
        if call is None or call.error is not None:
            return _problem(call.error if call else None, action, self.timeout, self._then)
        return None

    # -- public API ----------------------------------------------------------------------

    async def resolve(self, profile: str, env: Mapping[str, str]) -> ResolvedKey:
        """Find the key for ``profile``: environment first, then the keyring."""
        return self._from_env(env) or self._resolved(await self._wait_async(self._read(profile)))

    async def save(self, profile: str, key: ApiKey) -> str | None:
        """Store ``key`` in the keyring; returns the problem sentence, or None when saved."""
        return self._outcome(await self._wait_async(self._write(profile, key)), "save")

    async def forget(self, profile: str) -> str | None:
        """Remove the stored key (fine if none); returns the problem sentence, or None."""
        return self._outcome(await self._wait_async(self._delete(profile)), "remove")

    def resolve_sync(self, profile: str, env: Mapping[str, str]) -> ResolvedKey:
        """:meth:`resolve` for the CLI (no event loop); same timeout protection."""
        return self._from_env(env) or self._resolved(self._wait_sync(self._read(profile)))

    def save_sync(self, profile: str, key: ApiKey) -> str | None:
        """:meth:`save` for the CLI (``login``)."""
        return self._outcome(self._wait_sync(self._write(profile, key)), "save")

    def forget_sync(self, profile: str) -> str | None:
        """:meth:`forget` for the CLI (``logout``)."""
        return self._outcome(self._wait_sync(self._delete(profile)), "remove")

    def remove_sync(self, profile: str) -> Removal | str:
        """Remove the stored key, saying whether there was one (``logout``).

        No keyring backend at all is not a failure: nothing can have been stored.
        Returns the problem sentence when the keyring failed otherwise.
        """

        def remove() -> Removal:
            import keyring.errors

            try:
                self._keyring().delete_password(self.service, profile)
            except keyring.errors.PasswordDeleteError:
                return Removal.NOTHING_STORED
            except keyring.errors.NoKeyringError:
                return Removal.NO_KEYRING
            return Removal.REMOVED

        call = self._wait_sync(remove)
        if call is None or call.error is not None:
            return _problem(call.error if call else None, "remove", self.timeout, self._then)
        return Removal(call.value)
