"""Risk metrics of a run: the summary table, exceedance-probability tables, tail allocation.

Everything here works on the per-trial, per-party arrays of :mod:`sim.parties`
(float64, shape ``(n_trials, n_parties)``; party 0 is the pool, then the
members, then the reinsurers) and returns pandas DataFrames only at the end.
The estimators it uses (quantiles, expected shortfall, standard errors) are
:mod:`sim.estimators`'; their names stay importable from here.

Definitions (docs/results.md gives them for users):

* **Quantiles** are the empirical generalised inverse
  ``VaR_p = min{x : F_n(x) >= p}``, i.e. ``np.quantile(..., method="inverted_cdf")``.
  A VaR is therefore always one of the simulated losses, and quantiles are
  monotone in ``p`` by construction.
* **VaR** ``var_995_net_loss``: the 99.5% quantile of the yearly net loss.
  **TVaR** ``tvar_995_net_loss``: the expected shortfall at 99.5%
  (:func:`sim.estimators.expected_shortfall`): the mean of the worst 0.5% of the trials, a
  fractional trial counted with its fraction; ties at the VaR count only as far
  as needed to fill the 0.5%.
* **Net premium** = gross premium − ceded premium − reinstatement premium
  (what the party keeps of the premium before commission and expenses).
  For a reinsurer: the premiums it received (it cedes nothing here).
* **Combined ratio** of a member or the pool =
  (net loss + expenses − commission received − lead fee received) / net premium;
  the lead fee is negative for followers, so it adds to their cost. For a
  reinsurer: (paid losses + commission paid) / premium received.
  Summary ratios are ratios of expectations (E[numerator] / E[denominator]).
* **Capital and ruin.** ``capital_start`` / ``mean_capital_end`` of the pool are
  the members' sums; a reinsurer of unlimited capital has ``inf`` / NaN.
  ``prob_ruin`` = P(capital_end < 0) (the pool's: of the members' total;
  ``prob_any_member_ruin`` on the pool row: P(at least one member ruined)).
  ``prob_solvency_below_100`` = P(ratio < 100%); ``solvency_ratio_p01`` is the
  1% quantile of the year-end ratio. A multi-year run's whole-horizon row
  passes each path's lowest ratio over the years in the pool, so these are
  "ever" figures like its ``prob_ruin``, and ``mean_solvency_ratio`` is over
  path-years (:func:`sim.results.build_multi_year_results`).
* **Recoveries.** ``expected_recovery`` of a member or the pool is what it
  actually got back, E[ceded_loss − default_loss]; of a reinsurer, what it paid.
  ``expected_default_loss``: recoveries lost to defaults (members) / not paid
  (reinsurers). ``prob_default`` (reinsurers): P(it defaulted in the year).
* **Standard errors** ``*_se``: of a mean, ``sd / sqrt(n_trials)``; of a
  probability, ``sqrt(p (1 - p) / n_trials)``; of quantiles and tail means,
  batch means over :data:`N_BATCHES` contiguous batches of trials
  (``sd(batch estimates) / sqrt(N_BATCHES)``). Trials are independent, so
  contiguous batches are too.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .estimators import (  # noqa: F401 - the estimators' names stay importable from sim.metrics
    batch_standard_error, empirical_quantiles, expected_shortfall, in_threads, mean_standard_error,
    MIN_TAIL_TRIALS_PER_BATCH, N_BATCHES, nan_mean, nan_quantile, order_statistic_index, order_statistics,
    proportion_standard_error, QUANTILE_METHOD, safe_divide, tail_trial_count, tail_value_at_risk,
    tail_weights, value_and_tail_at_risk, value_at_risk, VAR_LEVEL,
)
from .parties import Parties

SOLVENCY_LOW_LEVEL = 0.01       # solvency_ratio_p01 is the 1% quantile of the ratio
RETURN_PERIODS = (2, 5, 10, 20, 50, 100, 200, 250, 500, 1000)

# The documented summary.csv columns every run has (docs/results.md), in order.
SUMMARY_COLUMNS = (
    "party", "kind", "role", "share", "gross_premium", "net_premium",
    "expected_gross_loss", "expected_net_loss", "gross_loss_ratio", "net_loss_ratio",
    "combined_ratio", "var_995_net_loss", "tvar_995_net_loss", "capital_start",
    "mean_capital_end", "mean_solvency_ratio", "solvency_ratio_p01",
    "prob_solvency_below_100", "prob_ruin", "expected_recovery", "expected_default_loss",
)


def horizon_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary's rows for the whole run: a multi-year summary's horizon rows (``year`` empty)."""
    return summary[summary["year"].isna()] if "year" in summary.columns else summary


# --------------------------------------------------------------------------- elementwise
def net_premium(gross_premium, ceded_premium, reinstatement_premium) -> np.ndarray:
    """Premium kept: gross − ceded − reinstatement premium. Any matching shapes."""
    return np.asarray(gross_premium) - np.asarray(ceded_premium) - np.asarray(reinstatement_premium)


def party_net_result(parties: Parties, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """Result of the year of every party, ``(n_trials, n_parties)``; the pool's is its members' sum.

    A member's: net premium + commission − expenses + lead fee − net loss. A
    reinsurer's: premium received − commission paid − losses paid. Worked in
    place, column block by column block: at a million trials each temporary
    of a whole expression would be another 72 MB.
    """
    members, reinsurers = parties.columns("member"), parties.columns("reinsurer")
    result = np.empty_like(arrays["net_loss"], dtype=np.float64)
    member = result[:, members]
    np.subtract(arrays["gross_premium"][:, members], arrays["ceded_premium"][:, members], out=member)
    member -= arrays["reinstatement_premium"][:, members]
    member += arrays["commission"][:, members]
    member -= arrays["expenses"][:, members]
    member += arrays["lead_fee"][:, members]
    member -= arrays["net_loss"][:, members]
    reinsurer = result[:, reinsurers]
    np.subtract(arrays["gross_premium"][:, reinsurers], arrays["commission"][:, reinsurers], out=reinsurer)
    reinsurer -= arrays["net_loss"][:, reinsurers]
    result[:, parties.columns("pool")] = member.sum(axis=1, keepdims=True)
    return result


def combined_ratio(net_loss, expenses, commission, lead_fee, net_premium_) -> np.ndarray:
    """Member combined ratio (net loss + expenses − commission − lead fee) / net premium.

    Any matching shapes, e.g. ``(n_trials, n_members)`` per trial or ``(n_members,)``
    of expectations. NaN where the net premium is 0.
    """
    cost = np.asarray(net_loss) + np.asarray(expenses) - np.asarray(commission) - np.asarray(lead_fee)
    return safe_divide(cost, net_premium_)


# --------------------------------------------------------------------------- summary
def _member_indices(parties: Parties) -> np.ndarray:
    return parties.indices("member")


def summary(parties: Parties, arrays: dict[str, np.ndarray], capital_start: np.ndarray,
            capital_end: np.ndarray, solvency_ratio: np.ndarray,
            minimum_capital: np.ndarray | None = None, n_batches: int = N_BATCHES,
            net_result: np.ndarray | None = None, threads: int = 1) -> pd.DataFrame:
    """One row per party with every documented column and standard errors beside them.

    Parameters
    ----------
    parties : Parties
    arrays : dict of (n_trials, n_parties) float64, every key of ``PARTY_COLUMNS``
    capital_start : (n_parties,) capital at the start; the pool's is the members' sum,
        ``inf`` for a reinsurer of unlimited capital
    capital_end : (n_trials, n_parties), NaN where unlimited
    solvency_ratio : (n_trials, n_parties), NaN for reinsurers and where not applicable
        (left out of the mean and quantile; not below 100% in the probabilities, whose
        denominator stays ``n_trials``)
    minimum_capital : (n_trials, n_parties), optional, reported as ``mean_minimum_capital``
    net_result : (n_trials, n_parties), optional: :func:`party_net_result`, when the caller has it
    threads : the standard errors and tail statistics are worked out on this many threads
        (:func:`in_threads`); the numbers are the same

    Returns
    -------
    DataFrame, one row per party in party order. Beyond the columns every run has:
    ``*_se`` standard errors, ``expected_ceded_loss``, ``expected_expenses``,
    ``expected_commission``, ``expected_lead_fee``, ``expected_net_result``,
    ``mean_minimum_capital``, ``prob_default`` (reinsurers), and, on the pool
    row, ``prob_any_member_ruin`` and ``prob_any_member_below_100``.
    """
    kinds = np.array(parties.kinds)
    is_reinsurer = kinds == "reinsurer"
    n_trials = arrays["net_loss"].shape[0]

    gross_loss, net_loss = arrays["gross_loss"], arrays["net_loss"]
    if net_result is None:
        net_result = party_net_result(parties, arrays)

    def recovery_by_trial() -> np.ndarray:
        """What a cedant actually received back (recoveries due less defaults); for a
        reinsurer, what it paid."""
        recovery = np.subtract(arrays["ceded_loss"], arrays["default_loss"])
        recovery[:, is_reinsurer] = net_loss[:, is_reinsurer]
        return recovery

    def mean_and_standard_error(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return values.mean(axis=0), mean_standard_error(values)

    def share_of_trials(event: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Share of trials with ``event``, NaN for a party whose ``values`` are all NaN."""
        return np.where(~np.all(np.isnan(values), axis=0), event.mean(axis=0), np.nan)

    # Every statistic that passes over all the trials, side by side on `threads` threads.
    worked = in_threads({
        "mean": lambda: {key: arrays[key].mean(axis=0) for key in (
            "gross_loss", "ceded_loss", "default_loss", "net_loss", "gross_premium",
            "ceded_premium", "reinstatement_premium", "commission", "expenses", "lead_fee", "defaulted")},
        "gross_loss_se": lambda: mean_standard_error(gross_loss),
        "net_loss_se": lambda: mean_standard_error(net_loss),
        "tail": lambda: value_and_tail_at_risk(net_loss),
        "tail_se": lambda: batch_standard_error(net_loss, value_and_tail_at_risk, n_batches,
                                                tail_probability=1.0 - VAR_LEVEL),
        "capital_end": lambda: nan_mean(capital_end),
        "capital_end_se": lambda: mean_standard_error(capital_end),
        "solvency_ratio": lambda: nan_mean(solvency_ratio),
        "solvency_ratio_se": lambda: mean_standard_error(solvency_ratio),
        "solvency_ratio_p01": lambda: nan_quantile(solvency_ratio, SOLVENCY_LOW_LEVEL),
        "solvency_ratio_p01_se": lambda: batch_standard_error(
            solvency_ratio, lambda batch: nan_quantile(batch, SOLVENCY_LOW_LEVEL), n_batches,
            tail_probability=SOLVENCY_LOW_LEVEL),
        "prob_ruin": lambda: share_of_trials(capital_end < 0.0, capital_end),
        "prob_below": lambda: share_of_trials(solvency_ratio < 1.0, solvency_ratio),
        "recovery": lambda: mean_and_standard_error(recovery_by_trial()),
        "default_loss_se": lambda: mean_standard_error(arrays["default_loss"]),
        "net_result": lambda: mean_and_standard_error(net_result),
        "minimum_capital": lambda: (nan_mean(minimum_capital) if minimum_capital is not None
                                    else np.full(len(kinds), np.nan)),
    }, threads)
    mean = worked["mean"]
    premium_net = net_premium(mean["gross_premium"], mean["ceded_premium"], mean["reinstatement_premium"])
    member_cost = mean["net_loss"] + mean["expenses"] - mean["commission"] - mean["lead_fee"]
    reinsurer_cost = mean["net_loss"] + mean["commission"]   # a reinsurer pays the commission
    # Ratios to a net premium of 0 or less (reinsurance dearer than the premium written) have
    # no meaning as loss ratios (a large loss would show as a large negative ratio): left blank.
    ratio_premium = np.where(premium_net > 0.0, premium_net, 0.0)
    combined = safe_divide(np.where(is_reinsurer, reinsurer_cost, member_cost), ratio_premium)
    var_net, tvar_net = worked["tail"]
    var_net_se, tvar_net_se = worked["tail_se"]
    prob_ruin, prob_below = worked["prob_ruin"], worked["prob_below"]

    columns: dict[str, object] = {
        "party": list(parties.names),
        "kind": list(parties.kinds),
        "role": list(parties.roles),
        "share": np.asarray(parties.share, dtype=np.float64),
        "gross_premium": mean["gross_premium"],
        "net_premium": premium_net,
        "expected_gross_loss": mean["gross_loss"],
        "expected_gross_loss_se": worked["gross_loss_se"],
        "expected_net_loss": mean["net_loss"],
        "expected_net_loss_se": worked["net_loss_se"],
        "gross_loss_ratio": safe_divide(mean["gross_loss"], mean["gross_premium"]),
        "net_loss_ratio": safe_divide(mean["net_loss"], ratio_premium),
        "combined_ratio": combined,
        "var_995_net_loss": var_net,
        "var_995_net_loss_se": var_net_se,
        "tvar_995_net_loss": tvar_net,
        "tvar_995_net_loss_se": tvar_net_se,
        "capital_start": np.asarray(capital_start, dtype=np.float64),
        "mean_capital_end": worked["capital_end"],
        "mean_capital_end_se": worked["capital_end_se"],
        "mean_solvency_ratio": worked["solvency_ratio"],
        "mean_solvency_ratio_se": worked["solvency_ratio_se"],
        "solvency_ratio_p01": worked["solvency_ratio_p01"],
        "solvency_ratio_p01_se": worked["solvency_ratio_p01_se"],
        "prob_solvency_below_100": prob_below,
        "prob_solvency_below_100_se": proportion_standard_error(prob_below, n_trials),
        "prob_ruin": prob_ruin,
        "prob_ruin_se": proportion_standard_error(prob_ruin, n_trials),
        "expected_recovery": worked["recovery"][0],
        "expected_recovery_se": worked["recovery"][1],
        "expected_default_loss": mean["default_loss"],
        "expected_default_loss_se": worked["default_loss_se"],
        "expected_ceded_loss": mean["ceded_loss"],
        "expected_expenses": mean["expenses"],
        "expected_commission": mean["commission"],
        "expected_lead_fee": mean["lead_fee"],
        "expected_net_result": worked["net_result"][0],
        "expected_net_result_se": worked["net_result"][1],
        "mean_minimum_capital": worked["minimum_capital"],
        "prob_default": np.where(is_reinsurer, mean["defaulted"], np.nan),
    }
    table = pd.DataFrame(columns)

    members = _member_indices(parties)
    pool_rows = kinds == "pool"
    if len(members):
        any_ruin = (capital_end[:, members] < 0.0).any(axis=1).mean()
        member_ratio = solvency_ratio[:, members]
        # No member with a ratio in any trial (all run off): not applicable, as each member's own.
        any_below = (member_ratio < 1.0).any(axis=1).mean() if not np.isnan(member_ratio).all() else np.nan
    else:
        any_ruin = any_below = np.nan
    table["prob_any_member_ruin"] = np.where(pool_rows, any_ruin, np.nan)
    table["prob_any_member_below_100"] = np.where(pool_rows, any_below, np.nan)
    return table


# --------------------------------------------------------------------------- EP tables
def exceedance_levels(return_periods: Sequence[float]) -> np.ndarray:
    """Non-exceedance probability ``1 − 1/T`` of each return period ``T``."""
    return 1.0 - 1.0 / np.asarray(return_periods, dtype=np.float64)


def ep_table(parties: Parties, arrays: dict[str, np.ndarray] | None,
             return_periods: Sequence[float] = RETURN_PERIODS, threads: int = 1,
             column_of: Callable[[str, int], np.ndarray] | None = None) -> pd.DataFrame:
    """Empirical AEP and OEP curves of every party, gross and net.

    AEP uses the yearly ``gross_loss`` / ``net_loss``, OEP the largest single
    occurrence ``max_occurrence_gross`` / ``max_occurrence_net``. For a
    reinsurer, gross is what it owes and net what it paid, by year: it has AEP
    rows only, as the allocation does not track its recoveries occurrence by
    occurrence. The loss at return
    period ``T`` is the empirical quantile at ``1 − 1/T`` (``inverted_cdf``),
    hence non-decreasing in ``T``. The quantiles are worked out one party's column at a
    time (a copy of one column, not of the whole ``(n_trials, n_parties)`` array: the same
    order statistics), on ``threads`` threads (:func:`in_threads`).

    ``arrays``: dict of ``(n_trials, n_parties)`` for the four columns; or ``column_of``,
    giving party ``j``'s ``(n_trials,)`` column of a name (the caller builds it only when asked).

    Returns
    -------
    DataFrame with columns party, basis, metric, return_period, loss; sorted by
    party (party order), basis, metric, return period.
    """
    periods = np.asarray(return_periods, dtype=np.float64)
    order = np.argsort(periods)
    periods = periods[order]
    levels = exceedance_levels(periods)
    sources = (("gross", "AEP", "gross_loss"), ("gross", "OEP", "max_occurrence_gross"),
               ("net", "AEP", "net_loss"), ("net", "OEP", "max_occurrence_net"))
    names = np.array(parties.names, dtype=object)
    n_parties, n_periods = len(names), len(periods)
    if column_of is None:
        def column_of(name: str, party: int) -> np.ndarray:
            return arrays[name][:, party]
    with_occurrences = np.array([kind != "reinsurer" for kind in parties.kinds], dtype=np.bool_)

    def party_quantiles(column: str, party: int) -> np.ndarray:
        return empirical_quantiles(np.ascontiguousarray(column_of(column, party)), levels)

    wanted = [(column, party) for _, metric, column in sources for party in range(n_parties)
              if metric == "AEP" or with_occurrences[party]]
    by_party = in_threads({wanted_pair: (lambda pair=wanted_pair: party_quantiles(*pair)) for wanted_pair in wanted},
                          threads)
    by_column = {}
    for _, _, column in sources:
        by_column[column] = np.full((n_periods, n_parties), np.nan)
        for party in range(n_parties):
            if (column, party) in by_party:
                by_column[column][:, party] = by_party[(column, party)]
    frames = []
    for basis, metric, column in sources:
        quantiles = by_column[column]     # (n_periods, n_parties)
        quantiles = np.maximum.accumulate(quantiles, axis=0)   # guards against rounding only
        rows = np.arange(n_parties) if metric == "AEP" else np.flatnonzero(with_occurrences)
        quantiles = quantiles[:, rows]
        frames.append(pd.DataFrame({
            "party": np.repeat(names[rows], n_periods),
            "party_order": np.repeat(rows, n_periods),
            "basis": basis,
            "metric": metric,
            "return_period": np.tile(periods, len(rows)),
            "loss": quantiles.T.ravel(),
        }))
    table = pd.concat(frames, ignore_index=True)
    table = table.sort_values(["party_order", "basis", "metric", "return_period"], kind="stable")
    return table.drop(columns="party_order").reset_index(drop=True)


# --------------------------------------------------------------------------- allocation
def co_tail_contributions(components: np.ndarray, total: np.ndarray,
                          level: float = VAR_LEVEL) -> tuple[np.ndarray, float]:
    """Euler (co-TVaR) allocation of the expected shortfall of ``total``.

    Each component's contribution is ``Σ weight · component`` with the trials'
    weights in the expected shortfall of ``total`` (:func:`tail_weights`: ties
    at the boundary split equally), so the contributions add up to it.

    Parameters
    ----------
    components : (n_trials, n_components), summing to ``total`` in every trial
    total : (n_trials,)

    Returns
    -------
    contributions : (n_components,), summing to the expected shortfall of ``total`` (up to rounding)
    shortfall : float, the expected shortfall of ``total``
    """
    weights = tail_weights(total, level)
    in_tail = weights > 0.0
    # the shortfall from the same weights: one partial sort, not three
    return weights[in_tail] @ components[in_tail], float(weights[in_tail] @ total[in_tail])


def allocation(parties: Parties, arrays: dict[str, np.ndarray], line_loss: np.ndarray,
               line_names: Sequence[str], level: float = VAR_LEVEL) -> pd.DataFrame:
    """Co-TVaR allocation at ``level`` of the pool's tail to members and lines.

    * basis ``net``: each member's contribution to the TVaR of the pool's net
      loss (Σ members' net loss) = E[member net | pool net ≥ VaR].
    * basis ``gross``: each line's contribution to the TVaR of the pool's gross
      loss (Σ lines) = E[line loss | pool gross ≥ VaR].

    Parameters
    ----------
    arrays : dict of (n_trials, n_parties)
    line_loss : (n_trials, n_lines)
    line_names : (n_lines,)

    Returns
    -------
    DataFrame: basis, component_kind (member|line), component, contribution,
    share_of_tvar. Within a basis the contributions sum to the TVaR and the
    shares to 1.
    """
    members = _member_indices(parties)
    member_net = arrays["net_loss"][:, members]
    member_contribution, net_tvar = co_tail_contributions(member_net, member_net.sum(axis=1), level)
    line_loss = np.asarray(line_loss, dtype=np.float64)
    line_contribution, gross_tvar = co_tail_contributions(line_loss, line_loss.sum(axis=1), level)
    frames = [
        pd.DataFrame({"basis": "net", "component_kind": "member",
                      "component": [parties.names[i] for i in members],
                      "contribution": member_contribution,
                      "share_of_tvar": safe_divide(member_contribution, net_tvar)}),
        pd.DataFrame({"basis": "gross", "component_kind": "line", "component": list(line_names),
                      "contribution": line_contribution,
                      "share_of_tvar": safe_divide(line_contribution, gross_tvar)}),
    ]
    return pd.concat(frames, ignore_index=True)
