"""Correlation matrices from a scenario's ``(line, line, rho)`` entries, and the nearest
valid one to suggest when a matrix is not positive semi-definite."""
from __future__ import annotations

import numpy as np


def correlation_matrix(names: list[str], entries) -> np.ndarray:
    """The (n_lines, n_lines) matrix of ``(line, line, rho)`` entries; unlisted pairs 0."""
    index = {name: i for i, name in enumerate(names)}
    matrix = np.eye(len(names))
    for first, second, rho in entries:
        matrix[index[first], index[second]] = matrix[index[second], index[first]] = rho
    return matrix


def nearest_correlation(matrix: np.ndarray, floor: float = 1e-3, iterations: int = 200) -> np.ndarray:
    """Nearest correlation matrix by Higham's (2002) alternating projections with Dykstra's correction.

    Alternates between the positive semi-definite matrices (eigenvalues clipped at
    ``floor`` > 0, so that rounding the suggestion to 4 decimals keeps it valid) and
    the matrices with a unit diagonal.
    """
    target = matrix.copy()
    correction = np.zeros_like(matrix)
    for _ in range(iterations):
        shifted = target - correction
        eigenvalues, vectors = np.linalg.eigh(shifted)
        positive = (vectors * np.maximum(eigenvalues, floor)) @ vectors.T
        correction = positive - shifted
        previous, target = target, positive.copy()
        np.fill_diagonal(target, 1.0)
        if np.max(np.abs(target - previous)) < 1e-10:
            break
    return target
