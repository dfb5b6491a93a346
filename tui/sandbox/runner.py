"""Run the sandbox as a real uvicorn server in a background thread (tests, the demo)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from tui.sandbox.faults import FaultConfig
from tui.sandbox.middleware import DROP_EXTENSION
from tui.sandbox.server import create_app
from tui.sandbox.state import SandboxState

_START_TIMEOUT = 10.0


class _HangingUpProtocol(H11Protocol):
    """uvicorn's h11 protocol, plus a way for the app to close the socket unanswered.

    ASGI has no message for "hang up"; the drop_connection fault needs the client to see a
    transport error, not a 500, so each request's scope carries a callable that closes the
    transport and tells uvicorn the client is gone (so it neither answers nor logs).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app_with_hang_up(scope: Any, receive: Any, send: Any) -> None:
            scope.setdefault("extensions", {})[DROP_EXTENSION] = self._hang_up
            await inner(scope, receive, send)

        self.app = app_with_hang_up

    def _hang_up(self) -> None:
        if self.cycle is not None:
            self.cycle.disconnected = True
        self.transport.close()


class SandboxServer:
    """A sandbox on a real loopback port, served from a daemon thread.

    ``port=0`` picks a free port at the first ``start()``; later starts reuse it, so a test
    can stop the server and bring it back where the client expects it.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, api_key: str = "demo-key",
                 seed_count: int = 0, speed: float = 1.0, db_path: Path | None = None,
                 rng_seed: int | None = None, access_log: bool = False) -> None:
        self.host = host
        self.port = port
        self.state = SandboxState(seed_count=seed_count, speed=speed, rng_seed=rng_seed,
                                  db_path=db_path)
        self.state.api_key = api_key
        self._access_log = access_log
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def api_key(self) -> str:
        """The key the API accepts now."""
        return self.state.api_key

    @api_key.setter
    def api_key(self, key: str) -> None:
        """Rotate the key; it takes effect on the next request, running or not."""
        self.state.api_key = key

    @property
    def faults(self) -> FaultConfig:
        """The live fault settings (change them any time)."""
        return self.state.faults

    @property
    def base_url(self) -> str:
        """Where clients reach it, e.g. http://127.0.0.1:8765."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def is_running(self) -> bool:
        """Whether the server thread is up."""
        return self._thread is not None and self._thread.is_alive()

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP spelled out: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto says TCP, and without it every answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.listen(128)  # connections queue up even before uvicorn starts accepting
        self.port = sock.getsockname()[1]
        return sock

    def start(self) -> SandboxServer:
        """Bind, serve in a thread, and return once it accepts connections."""
        if self.is_running:
            return self
        sock = self._bind()
        config = uvicorn.Config(
            create_app(self.state), http=_HangingUpProtocol,
            lifespan="off", loop="asyncio", log_config=None, log_level="warning",
            access_log=self._access_log, timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
        )
        server = uvicorn.Server(config)
        self._server, self._failure = server, None

        def serve() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as exc:  # reported by start(), not lost in the thread
                self._failure = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=serve, name=f"sandbox:{self.port}",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if self._failure is not None or not self._thread.is_alive():
                raise RuntimeError(f"sandbox failed to start: {self._failure!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("sandbox did not start in time")
            time.sleep(0.002)
        return self

    def stop(self) -> None:
        """Shut down (open connections are closed) and wait for the thread to end."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=10)
        if thread.is_alive():  # a connection that would not close: stop waiting for it
            server.force_exit = True
            thread.join(timeout=5)
        self._server = self._thread = None

    def reset(self) -> None:
        """Fresh state: conversions reseeded, clock, faults and counters reset."""
        self.state.reset()

    def close(self) -> None:
        """Stop and release the state's store."""
        self.stop()
        with contextlib.suppress(Exception):
            self.state.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:  # never the key
        return f"SandboxServer({self.base_url!r}, running={self.is_running})"
