"""Kept for the modules outside :mod:`sim.kernels` that import from here: the samplers are
:mod:`sim.kernels.sampling`."""
from .kernels.sampling import sample

__all__ = ["sample"]
