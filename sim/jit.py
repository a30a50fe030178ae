"""The one place that decides how kernels are compiled.

``cache=True`` because compiling the kernels takes far longer than running a
test; no blanket ``fastmath`` because an unlimited layer is ``inf`` and the
no-infinities flag would break ``loss <= limit``.

Numba invalidates a cached kernel only when the kernel's own file changes,
not when a function it inlines from another file does: an edited sampler
could keep running in stale cached kernels and change seeded results. So the
cache lives in a folder named after a hash of every source file of the
package, and any edit to the package starts a fresh cache.
"""
import functools
import hashlib
import os
from pathlib import Path

import numba


def _source_fingerprint() -> str:
    digest = hashlib.sha256(numba.__version__.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cache_root() -> Path:
    configured = os.environ.get("NUMBA_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "poolsim"


numba.config.CACHE_DIR = str(_cache_root() / f"numba-{_source_fingerprint()}")


def cache_is_warm() -> bool:
    """Whether this version's kernels were compiled and cached on this machine before."""
    folder = Path(numba.config.CACHE_DIR)
    return folder.is_dir() and any(folder.rglob("*.nbi"))

jit = functools.partial(numba.njit, cache=True, nogil=True)
parallel_jit = functools.partial(numba.njit, cache=True, nogil=True, parallel=True)
prange = numba.prange
