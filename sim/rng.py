"""Kept for the modules outside :mod:`sim.kernels` that import from here: the random
streams are :mod:`sim.kernels.rng`."""
from .kernels.rng import (STREAM_AMOUNTS, STREAM_COPULA, STREAM_COUNTS, STREAM_DEFAULT,
                          STREAM_EXPOSURE, seed_state, uniform, uniform_table)

__all__ = ["STREAM_AMOUNTS", "STREAM_COPULA", "STREAM_COUNTS", "STREAM_DEFAULT", "STREAM_EXPOSURE", "seed_state",
           "uniform", "uniform_table"]
