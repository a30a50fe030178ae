"""The numba kernels of the loss engine, and the one place that says how kernels compile
(:mod:`sim.kernels.jit`).

Numba caches each compiled kernel, and reuses it while the kernel's own file
is unchanged. A kernel also carries compiled copies of the functions it calls
and of the constants it reads from other files, so the cache is keyed by a
hash of the files that hold kernels (this subpackage, and those of the pool,
treaties, dynamics and exposure): an edit to the command line, the tables or
the scenario loader recompiles nothing.

Importing this package imports nothing else; :mod:`sim.kernels.codes` has no
dependencies, so the scenario loader can use it without loading numba.
"""
