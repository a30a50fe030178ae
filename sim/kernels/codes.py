"""The numbers the kernels share with the Python side: distribution codes, and the occurrence
table's conventions. Numba freezes a module-level constant into each kernel that reads it, so
they live here, inside the kernels' cache key (:mod:`sim.kernels.jit`)."""

# Distribution codes: the first entry of a distribution row (sim.distributions).
CONSTANT, LOGNORMAL, GAMMA, PARETO, GPD, BETA, UNIFORM, POISSON, NEGBIN, BERNOULLI = range(10)

ATTRITIONAL = -1   # occ_event of an attritional claim; otherwise the catastrophe's index
DAYS_IN_YEAR = 365.0   # occurrence days lie in [0, DAYS_IN_YEAR)
