"""Keep freed memory in the process, for the next chunk.

Every chunk allocates the same large arrays again: the occurrence table, the
treaty layer's per-risk arrays, the multi-year state. glibc's malloc serves a
block above 128 KiB with its own ``mmap`` and hands it back to the kernel when
it is freed, so the next chunk's arrays are fresh pages that the kernel must
fault in and zero one by one. In a five-year run that was 11% of the CPU time
spent in the kernel, and the whole run 18% slower (bench/bench_dynamics.py,
40,000 paths: 27.4 s against 22.4 s).

:func:`keep_freed_memory` raises malloc's mmap threshold to its largest value
(32 MiB on 64-bit), its trim threshold and its top pad, so freed blocks stay in the heap
and are reused. Results do not change; the process keeps its peak memory
until it ends. It does nothing where the C library is not glibc.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools

_M_TRIM_THRESHOLD = -1     # mallopt parameters, from glibc's malloc.h
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_LARGEST_MMAP_THRESHOLD = 32 * 1024 * 1024     # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
_TRIM_THRESHOLD = 1 << 30
_TOP_PAD = 1 << 28          # grow the heap 256 MiB at a time: fewer brk calls


@functools.cache
def keep_freed_memory() -> bool:
    """Tune glibc's malloc as the module docstring says, once per process; whether it applied."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.gnu_get_libc_version     # glibc only: musl and macOS's libc have no mallopt of these
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _LARGEST_MMAP_THRESHOLD)
                and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
                and mallopt(_M_TOP_PAD, _TOP_PAD))
