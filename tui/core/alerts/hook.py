"""The alert hook: a person's command run once per alert, with the alert as JSON on stdin
(to post to a chat tool or page someone).

It runs as a child process of its own (no shell, a session of its own so a timeout
ends its children too), never blocks the caller (:meth:`AlertHook.send` starts a task),
ends at a timeout, and has at most ``OUTPUT_CAP`` bytes of its output read (the rest is
discarded as it comes, so a chatty hook cannot fill memory or stall on a full pipe).
It never gets the API key: not in the JSON, not in its environment.

A hook that is missing, not executable, fails, hangs or prints too much gives one
sentence to show; the same sentence again is not repeated until the hook has worked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from tui.core.credentials import ENV_API_KEY
from tui.core.untrusted import printable

__all__ = ["OUTPUT_CAP", "AlertHook", "hook_environment"]

OUTPUT_CAP: Final = 64 * 1024
_SECRET_WORDS = ("KEY", "SECRET", "TOKEN", "PASSWORD")
_REAP_BOUND = 5.0  # seconds to wait for a killed hook's pipes to close


def hook_environment(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without the API key: ``CONVERSIONS_API_KEY`` and any other
    ``CONVERSIONS_*`` variable whose name says it holds a secret."""
    return {name: value for name, value in env.items()
            if name != ENV_API_KEY and not (name.upper().startswith("CONVERSIONS_")
                                            and any(w in name.upper() for w in _SECRET_WORDS))}


def _kill(process: asyncio.subprocess.Process) -> None:
    # The hook leads its own session: end it and whatever it started.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()


async def _reap(process: asyncio.subprocess.Process) -> None:
    """End the hook if it still runs, and read its pipes to their end so they close (an
    open pipe would outlive the loop). Bounded: a grandchild that left the hook's session
    may hold the pipe open forever."""
    if process.returncode is None:
        _kill(process)
    if process.stdin is not None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            process.stdin.close()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(_REAP_BOUND):
            await process.wait()
            if process.stdout is not None:
                await _read_capped(process.stdout, 0)


async def _read_capped(stream: asyncio.StreamReader, cap: int) -> tuple[bytes, bool]:
    """Up to ``cap`` bytes of ``stream``, then read and drop the rest until it ends;
    also whether anything was dropped."""
    kept = bytearray()
    dropped = False
    while chunk := await stream.read(65536):
        room = cap - len(kept)
        if room > 0:
            kept += chunk[:room]
        dropped = dropped or len(chunk) > room
    return bytes(kept), dropped


async def _feed(stdin: asyncio.StreamWriter, data: bytes) -> None:
    # A hook may exit without reading its input: that is its business, not a failure.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        stdin.write(data)
        await stdin.drain()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        stdin.close()


class AlertHook:
    """Runs ``command`` (the program and its arguments) per alert."""

    def __init__(self, command: Sequence[str], *, timeout: float, env: Mapping[str, str],
                 output_cap: int = OUTPUT_CAP) -> None:
        if not command:
            raise ValueError("the hook needs a command")
        self.command = (str(Path(command[0]).expanduser()), *command[1:])
        self.timeout = timeout
        self.output_cap = output_cap
        self._env = hook_environment(env)
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_problem: str | None = None

    def __repr__(self) -> str:
        return f"AlertHook({self.command[0]!r}, timeout={self.timeout:g})"

    @property
    def _name(self) -> str:
        return printable(Path(self.command[0]).name or self.command[0], limit=60)

    async def run(self, event: Mapping[str, Any]) -> str | None:
        """Run the hook once with ``event`` (see ``Alert.to_json``) as JSON on stdin; return
        a sentence saying what went wrong, or None when it exited 0 in time."""
        data = (json.dumps(event, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT, env=self._env, start_new_session=True)
        except FileNotFoundError:
            return f"Alert hook {self._name} was not found ({printable(self.command[0])})"
        except PermissionError:
            return f"Alert hook {self._name} is not executable ({printable(self.command[0])})"
        except OSError as error:
            return f"Alert hook {self._name} could not start ({error.strerror or error})"
        assert process.stdin is not None and process.stdout is not None
        try:
            async with asyncio.timeout(self.timeout):
                _, (output, dropped) = await asyncio.gather(
                    _feed(process.stdin, data), _read_capped(process.stdout, self.output_cap))
                code = await process.wait()
        except TimeoutError:
            return f"Alert hook {self._name} did not finish in {self.timeout:g} s and was stopped"
        finally:
            await _reap(process)  # also when cancelled: leave nothing running or open
        if code != 0:
            said = output.decode("utf-8", "replace").strip().splitlines()
            tail = f": {printable(said[-1], limit=160)}" if said else ""
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            return f"Alert hook {self._name} {how}{tail}"
        if dropped:
            return (f"Alert hook {self._name} printed more than {self.output_cap // 1024} KiB; "
                    "the rest was discarded")
        return None

    async def deliver(self, event: Mapping[str, Any]) -> str | None:
        """:meth:`run`, returning its sentence only when it is news: the same problem as
        last time is not said again, until the hook has worked once."""
        problem = await self.run(event)
        if problem is None or problem == self._last_problem:
            self._last_problem = problem
            return None
        self._last_problem = problem
        return problem

    def send(self, event: Mapping[str, Any], on_problem: Callable[[str], None]) -> None:
        """Start :meth:`deliver` in the running loop and return at once; ``on_problem``
        is called with its sentence, if any (in the loop's thread)."""
        async def deliver() -> None:
            problem = await self.deliver(event)
            if problem is not None:
                on_problem(problem)

        task = asyncio.get_running_loop().create_task(deliver(), name="alert hook")
        self._tasks.add(task)  # keep a reference: the loop holds tasks weakly
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Cancel hooks still running (their processes are killed) and wait for them."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
