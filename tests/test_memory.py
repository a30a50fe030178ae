"""sim.memory: glibc's malloc keeps freed blocks for the next chunk (see the module docstring)."""
import ctypes
import ctypes.util
import platform

import numpy as np
import pytest

from sim import memory
from sim.memory import keep_freed_memory, release_freed_memory


def _is_glibc() -> bool:
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not _is_glibc(), reason="mallopt tuning applies to glibc only")
def test_applies_on_glibc_and_keeps_a_freed_chunk_sized_block():
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True       # calling again is harmless

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
            "keepcost")]

    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    if not hasattr(libc, "mallinfo2"):
        pytest.skip("glibc older than 2.33 has no mallinfo2")
    libc.mallinfo2.restype = MallInfo2
    # A 16 MB array, the size of one of a chunk's per-risk-loss columns: with glibc's defaults
    # it is its own mmap (counted in hblkhd) and goes back to the kernel when freed.
    before = libc.mallinfo2().hblkhd
    block = np.ones(2_000_000)
    during = libc.mallinfo2().hblkhd
    del block
    assert during == before                  # served from the heap, not by its own mmap
    # After release_freed_memory, glibc's defaults again: a block that size is its own mmap.
    assert release_freed_memory() is True
    block = np.ones(2_000_000)
    assert libc.mallinfo2().hblkhd - before >= 16_000_000
    del block


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


@pytest.mark.skipif(not _is_glibc(), reason="malloc_trim is glibc's")
def test_release_hands_kept_blocks_back():
    assert keep_freed_memory()
    blocks = [np.ones(2_000_000) for _ in range(12)]     # 12 x 16 MB, each from the heap, touched
    del blocks                                           # freed, but kept by the heap
    kept = _resident_bytes()
    assert release_freed_memory() is True
    assert kept - _resident_bytes() > 100e6              # most of the 192 MB went back


def test_returns_false_rather_than_failing_without_glibc(monkeypatch):
    memory._glibc.cache_clear()
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: "libc-that-does-not-exist.so")
    try:
        assert keep_freed_memory() is False
        assert release_freed_memory() is False
    finally:
        memory._glibc.cache_clear()
