"""Freed heap memory is handed back on glibc; elsewhere nothing is asked."""

from __future__ import annotations

import ctypes
import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tui.core import memory


@pytest.fixture(autouse=True)
def fresh_lookup() -> None:
    memory._malloc_trim.cache_clear()


PROBE = """
import sys
from tui.core.memory import release_free_memory

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024

blocks = [bytearray(4000) for _ in range(25_000)]  # ~100 MB from malloc, not pymalloc
keep = bytearray(4000)  # allocated last: the heap's top stays busy, so no automatic trim
del blocks
before = rss()
print(release_free_memory(), before, rss())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_on_glibc_linux_the_free_heap_goes_back() -> None:
    if not hasattr(ctypes.CDLL(None), "malloc_trim"):
        pytest.skip("not glibc")
    # A fresh interpreter, so what this test process holds does not blur the numbers.
    answer = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            check=True, timeout=60).stdout.split()
    asked, before, after = answer[0], int(answer[1]), int(answer[2])
    assert asked == "True"
    assert before - after > 50, (before, after)  # MB: freed pages really went back


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux elsewhere")
def test_a_c_library_that_cannot_be_loaded_is_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_name: object) -> object:
        raise OSError("no libc")

    monkeypatch.setattr(ctypes, "CDLL", refuse)
    assert memory.release_free_memory() is False


def test_elsewhere_it_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert memory.release_free_memory() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux elsewhere")
def test_a_c_library_without_malloc_trim_is_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    class Musl:  # no malloc_trim
        pass

    monkeypatch.setattr(ctypes, "CDLL", lambda _name: Musl())
    assert memory.release_free_memory() is False


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("thresholds")
def test_young_collections_are_spaced_out_and_the_old_thresholds_come_back() -> None:
    gc.set_threshold(700, 10, 10)
    before = memory.collect_young_garbage_less_often()
    assert before == (700, 10, 10)
    assert gc.get_threshold() == (memory.YOUNG_COLLECTION_EVERY, 10, 10)


@pytest.mark.usefixtures("thresholds")
def test_a_higher_threshold_or_a_collector_switched_off_is_left_alone() -> None:
    gc.set_threshold(50_000, 5, 5)
    assert memory.collect_young_garbage_less_often() == (50_000, 5, 5)
    assert gc.get_threshold() == (50_000, 5, 5)
    gc.set_threshold(0, 10, 10)
    memory.collect_young_garbage_less_often()
    assert gc.get_threshold() == (0, 10, 10)
