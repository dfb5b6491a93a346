"""Memory housekeeping for a process that runs all day: the C heap and the collector.

Freed heap memory goes back to the system:

Python asks the C library for anything over 512 bytes (answers, JSON text, rows),
and glibc keeps the pages it freed inside its heap: nothing is leaked, but a
busy monitor's resident size creeps up for hours (the soak benchmark measured
about 0.45 MB a minute at 370 requests a second, all of it given back by one
``malloc_trim``). :func:`release_free_memory` asks glibc to return what is free;
elsewhere (macOS, musl, Windows) there is nothing to ask and it does nothing.

The cyclic garbage collector runs less often (:func:`collect_young_garbage_less_often`).
With Python's default, a young collection every 700 new container objects, every
request's short-lived objects (httpx's, the envelope's, the row update's) were still
alive at a collection, so they were promoted and then made the oldest generation due:
the soak benchmark measured a full collection of the whole heap (about 100 ms, the UI
frozen for it) every 3 seconds at 370 requests a second, and the collector at 8 % of the
app's CPU. Every 10,000 objects: about 4 %, a full collection about once a minute, and
young collections of about 11 ms. Unreachable cycles wait a little longer: a few MB.

What is loaded once and kept all day (the watched rows, the table's entries, the app's
own modules and widgets) is taken out of the collector's sight once it is loaded
(:func:`exempt_loaded_objects`, Python's ``gc.freeze``). At 100,000 rows that is about a
million objects, which every full collection walked again (100 ms and more, the UI frozen
for it, and the later ones during bursts of changes). Frozen objects are still freed by
reference counting when dropped (the rows hold no cycles); only a cycle among them would
wait until :func:`readmit_exempt_objects`.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Callable
from functools import cache

__all__ = [
    "YOUNG_COLLECTION_EVERY",
    "collect_young_garbage_less_often",
    "exempt_loaded_objects",
    "readmit_exempt_objects",
    "release_free_memory",
]

# New container objects between two young collections (Python's default is 700).
YOUNG_COLLECTION_EVERY = 10_000


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)  # the C library this process already uses
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)  # glibc only
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


def release_free_memory() -> bool:
    """Ask the C library to return its free heap pages; False where it cannot."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def collect_young_garbage_less_often() -> tuple[int, int, int]:
    """Raise the collector's young threshold to :data:`YOUNG_COLLECTION_EVERY` (never
    lower it: whoever set it higher knew why). Returns the thresholds before, for
    ``gc.set_threshold(*before)``."""
    before = gc.get_threshold()
    if before[0] and before[0] < YOUNG_COLLECTION_EVERY:  # 0: collection is switched off
        gc.set_threshold(YOUNG_COLLECTION_EVERY, *before[1:])
    return before


def exempt_loaded_objects() -> None:
    """Exempt every object alive now from later collections (``gc.freeze``): call it once
    what stays all day has been loaded. Costs no walk of the heap (no collection first:
    that would be the very pause this avoids)."""
    gc.freeze()


def readmit_exempt_objects() -> None:
    """Undo :func:`exempt_loaded_objects` (``gc.unfreeze``), when what was loaded goes: a
    process may run the app more than once (tests do)."""
    gc.unfreeze()
