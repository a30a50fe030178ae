"""The copula's random draws: per trial (or path), the lines' standard normals and one
chi-square, from its own stream. :mod:`sim.copula` turns them into the lines' risk levels."""
import numpy as np

from .jit import parallel_jit, prange
from .rng import seed_state
from .sampling import standard_gamma, standard_normal


@parallel_jit
def _draw_normals(seed, stream, first_trial, n_lines, chi_square_df, normals, chi_square):
    for t in prange(normals.shape[0]):
        state = np.empty(4, dtype=np.uint64)
        seed_state(state, seed, stream, first_trial + t, 0)
        for j in range(n_lines):
            normals[t, j] = standard_normal(state)
        if chi_square_df > 0.0:
            chi_square[t] = 2.0 * standard_gamma(state, 0.5 * chi_square_df)
