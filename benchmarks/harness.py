#!/usr/bin/env python3
"""What every benchmark needs around its measurements: the project's Python, a --help that
does no work, children that end with it, and a word on how busy the machine was.

* **The project's Python.** A script run as ``benchmarks/X.py`` starts under whatever
  ``python3`` is first on PATH; importing this module first re-runs it with the repo's
  ``.venv/bin/python`` when it is not already inside a virtual environment.
* **--help.** :func:`parser` builds each script's argument parser: its usage line names
  the command to type (``.venv/bin/python benchmarks/X.py``) and its description is the
  script's docstring, so ``--help`` answers and exits 0 before any work starts.
* **Children die with their parent.** :func:`popen` and :func:`run` start a child that
  Linux kills (SIGKILL) as soon as the benchmark process ends, however it ends: a timeout's
  SIGKILL included, where no ``finally`` runs. A child started by ``multiprocessing`` calls
  :func:`die_with_parent` first thing. :func:`stop_on_signals` turns SIGTERM and SIGHUP
  into an orderly exit, so ``finally`` blocks (temporary folders, ``ending``) still run.
  (Once a benchmark left two table children spinning at 90 % of a core each for half an
  hour after its parent was killed, and every figure measured meanwhile was off.)
* **Was the machine busy?** :class:`MachineLoad` reads ``/proc`` at the start and the end
  and prints how many cores *other* processes used meanwhile: every CPU second the
  machine spent (``/proc/stat``) minus what this benchmark's own process tree spent. Time
  figures taken on a busy machine are upper bounds.

Run on its own, it says how busy the machine is now (is it a good time to benchmark?):

    .venv/bin/python benchmarks/harness.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def _should_move_to_the_venv() -> bool:
    """True for a benchmark script started by a Python outside any virtual environment
    while the repo has one (not when a test or a tool imports this module)."""
    started_here = bool(sys.argv and sys.argv[0]) and (
        Path(sys.argv[0]).resolve().parent == Path(__file__).resolve().parent)
    return (started_here and sys.prefix == sys.base_prefix and VENV_PYTHON.exists()
            and os.environ.get("BENCH_NO_REEXEC") != "1")


if _should_move_to_the_venv():
    # Run as benchmarks/X.py by a python3 outside the venv: start again inside it (once).
    os.environ["BENCH_NO_REEXEC"] = "1"
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])

if str(ROOT) not in sys.path:  # so that ``import tui`` finds this checkout
    sys.path.insert(1, str(ROOT))


# ------------------------------------------------------------------------ --help
def parser(script: str, doc: str | None) -> argparse.ArgumentParser:
    """The argument parser of ``script`` (its ``__file__``): usage names the command to
    type from the repo's root, the description is the docstring, kept as written."""
    return argparse.ArgumentParser(
        prog=f".venv/bin/python benchmarks/{Path(script).name}",
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


# ------------------------------------------------------------- children end with us
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

_prctl: Any = None
if sys.platform.startswith("linux"):
    try:  # resolved here, in the parent: a forked child should not have to load libc
        _prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        _prctl = None


# Built in the parent too: the forked child only makes the call.
_PDEATHSIG_ARGS = (ctypes.c_int(PR_SET_PDEATHSIG), ctypes.c_ulong(signal.SIGKILL),
                   ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))


def _ask_for_death_signal() -> bool:
    """Have the kernel SIGKILL this process when the thread that started it ends."""
    if _prctl is None:
        return False
    return bool(_prctl(*_PDEATHSIG_ARGS) == 0)


def _child_setup(parent: int) -> None:
    """preexec_fn: runs in the forked child before exec; the death signal survives exec."""
    _ask_for_death_signal()
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os.kill(os.getpid(), signal.SIGKILL)


def die_with_parent() -> None:
    """Called first thing in a ``multiprocessing`` child: end when the parent ends."""
    _ask_for_death_signal()
    parent = multiprocessing.parent_process()
    if parent is not None and not parent.is_alive():
        os._exit(1)


def popen(args: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen`` for a child that is killed when this process ends.

    Call it from the main thread: Linux sends the death signal when the *thread* that
    started the child ends.
    """
    if "preexec_fn" in kwargs:
        raise TypeError("popen sets preexec_fn itself")
    parent = os.getpid()
    return subprocess.Popen(list(args), preexec_fn=lambda: _child_setup(parent), **kwargs)


def run(args: Sequence[str], *, timeout: float | None = None,
        **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run`` through :func:`popen`: the child is killed on any way out."""
    if kwargs.pop("capture_output", False):
        kwargs["stdout"] = kwargs["stderr"] = subprocess.PIPE
    check = kwargs.pop("check", False)
    with popen(args, **kwargs) as process, ending(process):
        out, err = process.communicate(timeout=timeout)
    if check and process.returncode:
        raise subprocess.CalledProcessError(process.returncode, list(args), out, err)
    return subprocess.CompletedProcess(list(args), process.returncode, out, err)


def pty_app(args: Sequence[str], env: dict[str, str], *, width: int = 160,
            height: int = 50) -> tuple[subprocess.Popen[Any], int]:
    """Start ``args`` (the app) on a ``width`` x ``height`` pseudo-terminal of its own, as
    a user's terminal would run it; returns the child and the terminal's master end (the
    caller reads it and closes it)."""
    import fcntl
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    try:
        app = popen(args, stdin=slave, stdout=slave, stderr=slave, env=env,
                    start_new_session=True)
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    return app, master


@contextlib.contextmanager
def ending(process: subprocess.Popen[Any], grace: float = 5.0,
           *, group: bool = False) -> Iterator[subprocess.Popen[Any]]:
    """On the way out of the block (done, failed or interrupted), end ``process``:
    SIGTERM (to its whole process group with ``group=True``), then SIGKILL after
    ``grace`` seconds."""
    try:
        yield process
    finally:
        if process.poll() is None:
            _signal(process, signal.SIGTERM, group)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal(process, signal.SIGKILL, group)
                process.wait()


def _signal(process: subprocess.Popen[Any], number: int, group: bool) -> None:
    try:
        if group:
            os.killpg(process.pid, number)
        else:
            process.send_signal(number)
    except ProcessLookupError:
        pass


def stop_on_signals() -> None:
    """SIGTERM and SIGHUP end the benchmark as an exception would, so cleanup runs."""
    def stop(number: int, _frame: object) -> None:
        raise SystemExit(128 + number)

    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, stop)


# ---------------------------------------------------------------- how busy was it
BUSY_CORES = 0.25  # others using more than this much of a core: the figures are disturbed
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_busy_seconds() -> tuple[float, float]:
    """(CPU seconds every process on the machine has used, all cores; of which stolen
    by the hypervisor), from the first line of /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICK, steal / _TICK


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (which may hold spaces)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_cpu_seconds(pid: int, *, with_children: bool = False) -> float:
    """utime + stime of ``pid`` (0 when it is gone); ``with_children`` adds the CPU of
    the children it has already waited for."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK


def _descendants(root: int) -> list[int]:
    """Every live (or not yet reaped) process below ``root``."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat_fields(int(name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(name))
    found, todo = [], list(children.get(root, ()))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def own_tree_cpu_seconds() -> float:
    """CPU seconds of this process, the children it has waited for, and every process
    still running below it (whose own waited-for children are counted with them)."""
    times = os.times()
    own = times.user + times.system + times.children_user + times.children_system
    return own + sum(process_cpu_seconds(pid, with_children=True)
                     for pid in _descendants(os.getpid()))


class MachineLoad:
    """How much CPU other processes used between creation and :meth:`summary`.

    ``with MachineLoad():`` prints the summary when the block ends, however it ends.
    """

    def __init__(self) -> None:
        self.available = Path("/proc/stat").exists()
        self._started = time.monotonic()
        self._machine, self._steal = machine_busy_seconds() if self.available else (0.0, 0.0)
        self._own = own_tree_cpu_seconds() if self.available else 0.0

    def others_cores(self) -> tuple[float, float, float]:
        """(cores other processes used on average, of which stolen, seconds elapsed)."""
        elapsed = max(time.monotonic() - self._started, 1e-9)
        machine, steal = machine_busy_seconds()
        own = own_tree_cpu_seconds()
        others = max(0.0, (machine - self._machine) - (own - self._own))
        return others / elapsed, (steal - self._steal) / elapsed, elapsed

    def summary(self) -> str:
        """One line: what others used, of how many cores, and whether that was busy."""
        if not self.available:
            return "machine: no /proc here, so no word on what other processes used"
        cores, stolen, elapsed = self.others_cores()
        verdict = ("busy: figures are upper bounds" if cores > BUSY_CORES else "quiet")
        steal = f", {stolen:.2f} of it stolen by the hypervisor" if stolen >= 0.01 else ""
        return (f"machine: other processes used {cores:.2f} of {os.cpu_count() or 1} cores "
                f"during the {elapsed:.0f} s run{steal} ({verdict})")

    def __enter__(self) -> MachineLoad:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        print(self.summary(), flush=True)


def main() -> int:
    """Watch the machine for a few seconds and say how busy it was."""
    arguments = parser(__file__, __doc__)
    arguments.add_argument("--seconds", type=float, default=5.0, help="how long to watch")
    seconds = arguments.parse_args().seconds
    with MachineLoad():
        time.sleep(seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
