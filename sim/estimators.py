"""Monte Carlo estimators of a run's figures: empirical quantiles, value at risk, expected
shortfall, and the standard errors beside them.

Every function works on columns of per-trial values (float64, shape
``(n_trials,)`` or ``(n_trials, n_columns)``) and returns one figure per column.

* **Quantiles** are the empirical generalised inverse
  ``VaR_p = min{x : F_n(x) >= p}``, i.e. ``np.quantile(..., method="inverted_cdf")``.
  A VaR is therefore always one of the simulated losses, and quantiles are
  monotone in ``p`` by construction.
* **Expected shortfall** at ``p`` (:func:`expected_shortfall`): the mean of the
  worst ``1 - p`` of the trials, a fractional trial counted with its fraction;
  ties at the VaR count only as far as needed to fill the tail.
* **Sums in trial order.** The means, NaN-skipping means, tail sums and spreads of batch
  estimates here add the trials one after another, in trial order: what NumPy does along
  axis 0 of a row-major ``(n_trials, n_columns)`` array of two or more columns (row after
  row). A single column it would sum pairwise, which rounds differently:
  :func:`trial_order_sum` adds a column as the array would. (The standard error of a mean
  takes ``np.std`` of each column alone, pairwise, whatever the array.) A party's figures
  are therefore the same to the bit whether worked out from its column alone or from every
  party's at once, which lets a long run work them out a column at a time.
* **Standard errors**: of a mean, ``sd / sqrt(n_trials)``; of a probability,
  ``sqrt(p (1 - p) / n_trials)``; of quantiles and tail means, batch means over
  :data:`N_BATCHES` contiguous batches of trials
  (``sd(batch estimates) / sqrt(N_BATCHES)``). Trials are independent, so
  contiguous batches are too.

:mod:`sim.metrics` builds the results tables from them.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np

VAR_LEVEL = 0.995
QUANTILE_METHOD = "inverted_cdf"
N_BATCHES = 20
# A tail statistic's batch standard error needs this many trials in each batch's tail (see
# batch_standard_error): 20 batches and a 99.5% VaR need 20,000 trials.
MIN_TAIL_TRIALS_PER_BATCH = 5


# --------------------------------------------------------------------------- elementwise
def safe_divide(numerator, denominator) -> np.ndarray:
    """``numerator / denominator``, NaN where the denominator is 0 (no warning)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    shape = np.broadcast_shapes(numerator.shape, denominator.shape)
    out = np.full(shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out



def trial_order_sum(values: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
    """Sum along axis 0 in trial order (see the module docstring), of the rows ``where`` is true.

    ``(n_trials,)`` gives a scalar, ``(n_trials, n_columns)`` one sum per column.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] > 1:
        if values.strides[0] < values.strides[1]:      # column-major: NumPy would sum each column pairwise
            values = np.ascontiguousarray(values)
        return values.sum(axis=0) if where is None else values.sum(axis=0, where=where)
    if values.ndim == 2:
        return trial_order_sum(values[:, 0], None if where is None else np.asarray(where)[:, 0])[None]
    taken = values if where is None else values[where]
    return np.add.accumulate(taken)[-1] if len(taken) else np.float64(0.0)


def trial_order_mean(values: np.ndarray) -> np.ndarray:
    """Mean along axis 0, the trials summed in trial order (:func:`trial_order_sum`)."""
    values = np.asarray(values, dtype=np.float64)
    return np.true_divide(trial_order_sum(values), values.shape[0])


def _trial_order_std(values: np.ndarray, ddof: int = 1) -> np.ndarray:
    """``np.std(values, axis=0, ddof=ddof)`` with its two sums in trial order."""
    values = np.asarray(values, dtype=np.float64)
    n_values = values.shape[0]
    deviation = values - trial_order_sum(values) / n_values
    deviation *= deviation
    return np.sqrt(trial_order_sum(deviation) / max(n_values - ddof, 0))


# --------------------------------------------------------------------------- tail measures
def order_statistic_index(n_values: int, level) -> np.ndarray:
    """0-based rank of the ``inverted_cdf`` quantile among ``n_values`` sorted values.

    The same floating-point steps as ``np.quantile(method="inverted_cdf")``
    (``ceil(n · level − 1)``), so both always pick the same simulated value.
    """
    index = np.ceil(n_values * np.asarray(level, dtype=np.float64) - 1.0).astype(np.int64)
    return np.clip(index, 0, n_values - 1)


def empirical_quantiles(values: np.ndarray, levels) -> np.ndarray:
    """Empirical quantiles (``inverted_cdf``) along axis 0, with one partial sort for all levels.

    Parameters
    ----------
    values : (n_trials,) or (n_trials, n_columns), no NaN
    levels : scalar or (n_levels,)

    Returns
    -------
    () / (n_columns,) for a scalar level, else (n_levels,) / (n_levels, n_columns)
    """
    values = np.asarray(values, dtype=np.float64)
    return order_statistics(values, order_statistic_index(values.shape[0], levels))


def order_statistics(values: np.ndarray, index) -> np.ndarray:
    """The values of 0-based ascending rank ``index`` (a scalar or an array) along axis 0."""
    if values.ndim == 2 and values.shape[1] > 1 and not values.flags.f_contiguous:
        # Each column copied out whole, then partitioned where it lies: along axis 0 of a
        # row-major (n_trials, n_parties) array, np.partition walks memory with a stride,
        # twice as slow at a million trials. The order statistics are the same values.
        columns = np.ascontiguousarray(values.T)
        columns.partition(np.unique(index), axis=1)
        return np.ascontiguousarray(columns[:, index].T)
    partitioned = np.partition(values, np.unique(index), axis=0)
    return partitioned[index]


def value_at_risk(losses: np.ndarray, level: float = VAR_LEVEL) -> np.ndarray:
    """Empirical ``level`` quantile along axis 0 (``inverted_cdf``).

    Parameters
    ----------
    losses : (n_trials,) or (n_trials, n_columns)
    Returns
    -------
    () or (n_columns,)
    """
    return empirical_quantiles(losses, level)


def tail_trial_count(n_values: int, level: float = VAR_LEVEL) -> float:
    """``k = n · (1 − level)``, the (possibly fractional) number of trials in the tail.

    Snapped to the nearest whole number when within 1e-9 of it: ``(1 − 0.995) · 20,000``
    is 100.00000000000009 in floating point, and must count as exactly 100 trials.
    """
    k = n_values * (1.0 - float(level))
    nearest = round(k)
    return float(nearest) if abs(k - nearest) <= 1e-9 * max(1.0, k) else k


def tail_weights(values: np.ndarray, level: float = VAR_LEVEL) -> np.ndarray:
    """Each trial's weight in the expected shortfall at ``level``, summing to 1 per column.

    With ``k`` = :func:`tail_trial_count`, the trials strictly above the value of
    the ``ceil(k)``-th largest (the boundary) weigh ``1/k`` each; the trials at
    the boundary value share the rest, ``(k − n_above)/k``, equally. Ties at the
    boundary therefore count only as far as needed to fill the tail, and
    ``Σ weight · value`` is the expected shortfall to the last rounding; an
    allocation with the same weights adds up to it (Euler / co-TVaR).

    Parameters
    ----------
    values : (n_trials,) or (n_trials, n_columns), no NaN

    Returns
    -------
    The same shape as ``values``.
    """
    values = np.asarray(values, dtype=np.float64)
    n_values = values.shape[0]
    k = tail_trial_count(n_values, level)
    boundary = _tail_boundary(values, k)
    above = values > boundary
    at = values == boundary
    n_above = above.sum(axis=0)
    n_at = at.sum(axis=0)
    weights = np.where(above, 1.0 / k, 0.0)
    return np.where(at, (k - n_above) / (k * n_at), weights)


def _tail_boundary(values: np.ndarray, k: float) -> np.ndarray:
    """The ``ceil(k)``-th largest value per column (at least the largest)."""
    n_values = values.shape[0]
    return order_statistics(values, n_values - min(max(int(np.ceil(k)), 1), n_values))


def expected_shortfall(losses: np.ndarray, level: float = VAR_LEVEL) -> np.ndarray:
    """Expected shortfall at ``level``: the mean of the worst ``1 − level`` of the trials.

    With the ``n`` trials sorted from the largest and ``k = n · (1 − level)``,
    the mean of the ``k`` largest values, the next one counted with weight
    ``k − floor(k)`` when ``k`` is not whole: ``(Σ_{i ≤ floor k} x_(i) +
    (k − floor k) · x_(floor k + 1)) / k``. Trials tied at the VaR count only
    as far as needed to fill the tail, so a layer that pays in 0.3% of
    trials has the mean of its worst 0.5% of trials here, not its mean.

    Parameters
    ----------
    losses : (n_trials,) or (n_trials, n_columns)

    Returns
    -------
    () or (n_columns,)
    """
    return value_and_tail_at_risk(losses, level)[1]


# summary.csv's name for the expected shortfall (tvar_995_net_loss).
tail_value_at_risk = expected_shortfall


def value_and_tail_at_risk(losses: np.ndarray, level: float = VAR_LEVEL) -> np.ndarray:
    """``[VaR, expected shortfall]`` at ``level`` per column.

    Worked from the values above the ``ceil(k)``-th largest and that value
    itself (one partial sort and one pass), with no weights array.

    Returns
    -------
    (2,) or (2, n_columns)
    """
    losses = np.asarray(losses, dtype=np.float64)
    threshold = value_at_risk(losses, level)
    k = tail_trial_count(losses.shape[0], level)
    boundary = _tail_boundary(losses, k)
    above = losses > boundary
    shortfall = (trial_order_sum(losses, where=above) + (k - above.sum(axis=0)) * boundary) / k
    return np.stack([threshold, shortfall])


def mean_standard_error(values: np.ndarray) -> np.ndarray:
    """Standard error of the mean along axis 0: ``sd(ddof=1) / sqrt(n)``; NaN values are left out.

    Worked column by column: a selection of columns, and np.std's deviations from
    the mean, would each copy the whole array (72 MB at 1,000,000 trials of 9 parties).
    """
    values = np.asarray(values, dtype=np.float64)
    shape = values.shape[1:]
    columns = values.reshape(values.shape[0], -1)
    out = np.full(columns.shape[1], np.nan)
    for index in range(columns.shape[1]):
        column = columns[:, index]
        present = column.shape[0] - np.count_nonzero(np.isnan(column))
        if present > 1:
            sd = np.std if present == column.shape[0] else np.nanstd    # nanstd copies the column
            out[index] = sd(column, ddof=1) / np.sqrt(present)
    return out.reshape(shape)


def proportion_standard_error(probability, n_trials: int) -> np.ndarray:
    """Binomial standard error ``sqrt(p (1 - p) / n)``."""
    probability = np.asarray(probability, dtype=np.float64)
    return np.sqrt(probability * (1.0 - probability) / n_trials)


def batch_standard_error(values: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray],
                         n_batches: int = N_BATCHES, tail_probability: float | None = None) -> np.ndarray:
    """Batch-means standard error of ``statistic`` along axis 0.

    The trials are split into ``n_batches`` contiguous batches, the statistic is
    computed on each, and the standard error of the full-sample estimate is
    ``sd(batch estimates) / sqrt(n_batches)``. NaN with fewer than two trials
    per batch, or, for a statistic of a tail of probability ``tail_probability``
    (0.005 for a 99.5% VaR), fewer than :data:`MIN_TAIL_TRIALS_PER_BATCH`
    expected in each batch's tail: a batch's 99.5% quantile from 100 trials is
    just its largest loss, and the spread of those says nothing of the
    full-sample quantile's error.

    Parameters
    ----------
    values : (n_trials,) or (n_trials, n_columns)
    statistic : maps a ``(n_batch_trials, ...)`` array to ``(...)``
    """
    values = np.asarray(values, dtype=np.float64)
    batch_trials = values.shape[0] / n_batches
    too_few_in_tail = tail_probability is not None and batch_trials * tail_probability < MIN_TAIL_TRIALS_PER_BATCH
    if batch_trials < 2 or too_few_in_tail:
        return np.full(np.shape(statistic(values)), np.nan)
    estimates = np.stack([statistic(batch) for batch in np.array_split(values, n_batches, axis=0)])
    return _trial_order_std(estimates, ddof=1) / np.sqrt(n_batches)


def nan_quantile(values: np.ndarray, level: float) -> np.ndarray:
    """Empirical quantile along axis 0 ignoring NaN; all-NaN columns give NaN, no warning.

    Columns without NaN (the usual case) take the fast path of :func:`empirical_quantiles`.
    """
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    complete, empty = ~missing.any(axis=0), missing.all(axis=0)
    partial = ~complete & ~empty
    out = np.full(values.shape[1:], np.nan)
    if complete.all():
        return empirical_quantiles(values, level)     # no copy of the columns first
    if complete.any():
        out[complete] = empirical_quantiles(values[:, complete], level)
    if partial.any():
        out[partial] = np.nanquantile(values[:, partial], level, axis=0, method=QUANTILE_METHOD)
    return out


def nan_mean(values: np.ndarray) -> np.ndarray:
    """Mean along axis 0 ignoring NaN; all-NaN columns give NaN without a warning."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    count = values.shape[0] - np.count_nonzero(missing, axis=0)
    total = trial_order_sum(np.where(missing, 0.0, values))
    return safe_divide(total, count)


def in_threads(tasks: dict[str, Callable[[], Any]], threads: int = 1) -> dict[str, Any]:
    """Every task's result by name, the tasks run on up to ``threads`` threads.

    NumPy releases the GIL in its partial sorts, reductions and copies, so the
    statistics of a million trials run side by side; each is computed exactly
    as it would be alone, so the numbers do not depend on ``threads``.
    """
    if threads <= 1 or len(tasks) <= 1:
        return {name: task() for name, task in tasks.items()}
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="poolsim-table") as pool:
        futures = {name: pool.submit(task) for name, task in tasks.items()}
        return {name: future.result() for name, future in futures.items()}
