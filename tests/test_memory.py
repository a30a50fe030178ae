"""sim.memory: glibc's malloc keeps freed blocks for the next chunk, and hands them back after."""
import ctypes
import ctypes.util
import json
import platform
import subprocess
import sys

import pytest

from sim import memory
from sim.memory import keep_freed_memory, release_freed_memory

# Run in a fresh interpreter: in this one, earlier tests leave free space in the heap, and
# malloc serves a block from there whatever its thresholds say.
_PROBE = """
import ctypes, ctypes.util, json
import numpy as np
from sim.memory import keep_freed_memory, release_freed_memory

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
        "keepcost")]

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.mallinfo2.restype = MallInfo2

def own_mmap_bytes():
    # a 16 MB array, the size of one of a chunk's per-risk-loss columns: bytes of it in its own mmap
    before = libc.mallinfo2().hblkhd
    block = np.ones(2_000_000)
    grown = libc.mallinfo2().hblkhd - before
    del block
    return grown

report = {"default": own_mmap_bytes()}
report["keep_applied"] = keep_freed_memory()
report["kept"] = own_mmap_bytes()
report["release_applied"] = release_freed_memory()
report["released"] = own_mmap_bytes()
print(json.dumps(report))
"""


def _is_glibc() -> bool:
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not _is_glibc(), reason="mallopt tuning applies to glibc only")
def test_keep_serves_chunk_sized_blocks_from_the_heap_and_release_restores_the_default():
    if not hasattr(ctypes.CDLL(ctypes.util.find_library("c")), "mallinfo2"):
        pytest.skip("glibc older than 2.33 has no mallinfo2")
    completed = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["keep_applied"] and report["release_applied"]
    assert report["default"] >= 16_000_000       # glibc's default: its own mmap, unmapped when freed
    assert report["kept"] == 0                   # kept: from the heap, so freed blocks are reused
    assert report["released"] >= 16_000_000     # glibc's default again for the tables


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


@pytest.mark.skipif(not _is_glibc(), reason="malloc_trim is glibc's")
def test_release_hands_kept_blocks_back():
    import numpy as np
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
