"""The one place that decides how kernels are compiled, and where numba caches them.

``cache=True`` because compiling the kernels takes far longer than running a
test; no blanket ``fastmath`` because an unlimited layer is ``inf`` and the
no-infinities flag would break ``loss <= limit``.

Numba invalidates a cached kernel only when the kernel's own file changes,
not when a function it calls (whose compiled code it carries) or a constant
it reads lives in another file: an edited sampler could keep running in stale
cached kernels and change seeded results. So the cache lives in a folder
named after a hash of every file that holds kernels (:data:`KERNEL_FILES`):
this subpackage, and the few modules outside it that still define kernels.
Any edit to them starts a fresh cache; an edit to anything else (the command
line, the tables, the scenario loader) recompiles nothing. Those outside
modules' kernels read constants only from their own file or from
:mod:`sim.kernels` (tests/test_jit.py checks that the list is complete).
"""
import functools
import hashlib
import os
from pathlib import Path

import numba
from numba.core import types
from numba.extending import intrinsic


_KERNELS = Path(__file__).parent
# The package's modules outside this subpackage that define kernels.
OUTSIDE_KERNEL_MODULES = ("dynamics_timing.py", "exposure.py", "pool_kernel.py", "treaties.py")


def kernel_files() -> list[Path]:
    """Every file whose edit can change a compiled kernel: this subpackage's and
    :data:`OUTSIDE_KERNEL_MODULES`."""
    return sorted(_KERNELS.glob("*.py")) + [_KERNELS.parent / name for name in OUTSIDE_KERNEL_MODULES]


def _source_fingerprint() -> str:
    digest = hashlib.sha256(numba.__version__.encode())
    for path in kernel_files():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cache_root() -> Path:
    configured = os.environ.get("NUMBA_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "poolsim"


numba.config.CACHE_DIR = str(_cache_root() / f"numba-{_source_fingerprint()}")


def kernel_cache_folder() -> Path:
    """Where numba caches this copy's engine kernels: a subfolder of the cache named, by numba,
    after this subpackage's folder. Another copy of the same sources (a second checkout) shares
    the cache's name but not this subfolder, and compiles its own kernels."""
    try:
        from numba.core.caching import _CacheLocator     # numba's naming; private, so guarded
        return Path(numba.config.CACHE_DIR) / _CacheLocator.get_suitable_cache_subpath(__file__)
    except (ImportError, AttributeError):
        return Path(numba.config.CACHE_DIR)


def cache_is_warm() -> bool:
    """Whether this copy's kernels, in this version, were compiled and cached on this machine before."""
    folder = kernel_cache_folder()
    return folder.is_dir() and any(folder.rglob("*.nbi"))

jit = functools.partial(numba.njit, cache=True, nogil=True)
# For the small functions of the random-number chain (bits, uniform, normal, ...) that the hot
# loops call per draw: LLVM's always-inline attribute, so the state tuple stays in registers
# across the call. Numba compiles such a function once; LLVM then inlines its machine-level
# body into each caller, which costs far less compile time than numba's own
# ``inline="always"`` (which types and lowers the callee again inside every caller: the engine
# took about 2 minutes to compile that way).
inlined_jit = functools.partial(numba.njit, cache=True, nogil=True, forceinline=True)
parallel_jit = functools.partial(numba.njit, cache=True, nogil=True, parallel=True)
prange = numba.prange


@intrinsic
def unowned(typingctx, array):
    """A view of ``array`` that holds no reference to it (its meminfo is null), for the hot
    loops of parallel kernels.

    Numba counts references to an array with atomic instructions: a call of a
    jitted function that takes arrays may add one to each array's count on the
    way in and take it off on the way out. The engine's per-trial functions
    take some 25 arrays each, so on a 100,000-trial run ``NRT_incref`` and
    ``NRT_decref`` took 12% of all CPU samples on one thread and 10% on two
    (``perf record``); with two threads the shared counters also bounce between
    the cores. A view without a meminfo skips the count. The caller must keep
    ``array`` alive while the view is used: a kernel's own arguments are.
    """
    if not isinstance(array, types.Array):
        return None

    def codegen(context, builder, signature, arguments):
        source = context.make_array(array)(context, builder, value=arguments[0])
        view = context.make_array(array)(context, builder)
        view.meminfo = context.get_constant_null(types.MemInfoPointer(types.voidptr))
        view.parent = source.parent.type(None)
        view.nitems = source.nitems
        view.itemsize = source.itemsize
        view.data = source.data
        view.shape = source.shape
        view.strides = source.strides
        return view._getvalue()

    return array(array), codegen
