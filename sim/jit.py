"""The one place that decides how kernels are compiled.

``cache=True`` because compiling the kernels takes far longer than running a
test; no blanket ``fastmath`` because an unlimited layer is ``inf`` and the
no-infinities flag would break ``loss <= limit``.
"""
import functools

import numba

jit = functools.partial(numba.njit, cache=True, nogil=True)
parallel_jit = functools.partial(numba.njit, cache=True, nogil=True, parallel=True)
prange = numba.prange
