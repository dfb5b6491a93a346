"""``conversions-tui sandbox``: serve the sandbox in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import faulthandler
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from tui.sandbox.runner import SandboxServer

_SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

DEFAULT_KEY = "demo-key"
DEFAULT_CONVERSIONS = 40


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conversions-tui sandbox",
        description="Serve a local Conversions API with demo data (loopback by default).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    parser.add_argument("--api-key", default=DEFAULT_KEY,
                        help=f"the key clients must send in X-API-KEY (default {DEFAULT_KEY})")
    parser.add_argument("--db", type=Path, default=None,
                        help="keep conversions in this SQLite file across restarts")
    parser.add_argument("--speed", type=_positive, default=1.0,
                        help="lifecycle speed factor (10 = ten times faster)")
    parser.add_argument("--seed", type=int, default=DEFAULT_CONVERSIONS, metavar="N",
                        help=f"seed N demo conversions in every state (default "
                             f"{DEFAULT_CONVERSIONS}; 0 starts empty)")
    parser.add_argument("--random-seed", type=int, default=None,
                        help="random seed, for the same demo data every time")
    return parser


def run_sandbox(argv: list[str], *, stop: threading.Event | None = None) -> int:
    """Serve until Ctrl-C (or SIGTERM, or ``stop`` is set); returns the exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed why
        return int(exc.code or 0)
    if args.seed < 0:
        print("conversions-tui sandbox: --seed must be >= 0", file=sys.stderr)
        return 2
    server = SandboxServer(host=args.host, port=args.port, api_key=args.api_key,
                           seed_count=args.seed, speed=args.speed, db_path=args.db,
                           rng_seed=args.random_seed)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        print(f"conversions-tui sandbox: cannot listen on {args.host}:{args.port}: {exc}",
              file=sys.stderr)
        server.close()
        return 1
    stop = stop or threading.Event()
    previous = _stop_on_signals(stop)
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGUSR1"):
        # SIGUSR1 prints every thread's stack to stderr: a sandbox that will not stop can
        # say where it hangs (the tests ask it before they kill it).
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    # The sandbox's own key is printed on purpose: it is a demo key, and the user needs it.
    print(f"Sandbox serving the Conversions API at {server.base_url}", flush=True)
    print(f"API key: {args.api_key}", flush=True)
    print(f"Control plane: {server.base_url}/_control (loopback only). Ctrl-C stops.",
          flush=True)
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            for number, handler in previous.items():
                signal.signal(number, handler)
        server.close()
    print("Sandbox stopped.", flush=True)
    return 0


def _stop_on_signals(stop: threading.Event) -> dict[int, _SignalHandler] | None:
    """Make SIGTERM and SIGINT (Ctrl-C) stop the loop cleanly; returns the handlers they
    had (None: not the main thread, where no handler can be set).

    SIGINT gets a handler of its own, not Python's KeyboardInterrupt: a process started in
    the background by a shell without job control inherits SIGINT *ignored*, and Python
    then raises nothing, so Ctrl-C (or a test's SIGINT) would never stop it."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    return {number: signal.signal(number, handler)
            for number in (signal.SIGTERM, signal.SIGINT)}


if __name__ == "__main__":
    sys.exit(run_sandbox(sys.argv[1:]))
