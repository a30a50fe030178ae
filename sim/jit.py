"""Kept for the modules outside :mod:`sim.kernels` that import from here: how kernels
compile, and the cache, are :mod:`sim.kernels.jit`."""
from .kernels.jit import inlined_jit, jit, parallel_jit, prange, unowned

__all__ = ["inlined_jit", "jit", "parallel_jit", "prange", "unowned"]
