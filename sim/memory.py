"""Keep freed memory in the process, for the next chunk.

Every chunk allocates the same large arrays again: the occurrence table, the
treaty layer's per-risk arrays, the multi-year state. glibc's malloc serves a
block above 128 KiB with its own ``mmap`` and hands it back to the kernel when
it is freed, so the next chunk's arrays are fresh pages that the kernel must
fault in and zero one by one. In a five-year run that was 11% of the CPU time
spent in the kernel, and the whole run 18% slower (bench/bench_dynamics.py,
40,000 paths: 27.4 s against 22.4 s).

:func:`keep_freed_memory` raises malloc's mmap threshold to its largest value
(32 MiB on 64-bit), its trim threshold and its top pad, so that during the
chunks freed blocks stay in the heap and are reused. Results do not change.
:func:`release_freed_memory` hands the free part back and restores glibc's
defaults; the runner calls it once the chunks are done, or have failed,
before it builds the tables. Both do nothing where the C library is not glibc.
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
_DEFAULT_MMAP_THRESHOLD = 128 * 1024            # glibc's defaults (malloc.h), for the tables
_DEFAULT_TRIM_THRESHOLD = 128 * 1024
_DEFAULT_TOP_PAD = 128 * 1024


@functools.cache
def _glibc():
    """The C library when it is glibc (it has ``gnu_get_libc_version``), else None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.gnu_get_libc_version     # glibc only: musl and macOS's libc have no mallopt of these
        return libc
    except (OSError, AttributeError, TypeError):
        return None


def _mallopt(libc, mmap_threshold: int, trim_threshold: int, top_pad: int) -> bool:
    mallopt = libc.mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold) and mallopt(_M_TRIM_THRESHOLD, trim_threshold)
                and mallopt(_M_TOP_PAD, top_pad))


def keep_freed_memory() -> bool:
    """Tune glibc's malloc as the module docstring says; whether it applied."""
    libc = _glibc()
    return libc is not None and _mallopt(libc, _LARGEST_MMAP_THRESHOLD, _TRIM_THRESHOLD, _TOP_PAD)


def release_freed_memory() -> bool:
    """Hand the heap's free memory back to the kernel (``malloc_trim``) and go back to glibc's
    default thresholds; whether it did.

    The runner calls it once the chunks are done. Otherwise the chunks' freed
    scratch (0.18 GB at 1,000,000 trials of the benchmark scenario) would stay
    in the process while the tables are built, and a notebook that calls
    ``sim.run`` would keep up to the trim threshold of freed memory for good.
    """
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.malloc_trim.restype = ctypes.c_int
    libc.malloc_trim(0)      # its result says whether any memory went back, not whether it worked
    return _mallopt(libc, _DEFAULT_MMAP_THRESHOLD, _DEFAULT_TRIM_THRESHOLD, _DEFAULT_TOP_PAD)
