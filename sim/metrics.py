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
    tail_weights, trial_order_mean, trial_order_sum, value_and_tail_at_risk, value_at_risk, VAR_LEVEL,
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


# The columns of which the summary takes the mean.
MEAN_COLUMNS = ("gross_loss", "ceded_loss", "default_loss", "net_loss", "gross_premium", "ceded_premium",
                "reinstatement_premium", "commission", "expenses", "lead_fee", "defaulted")
# The whole-run columns beside PARTY_COLUMNS' that summary_of_columns asks column_of for.
OUTCOME_COLUMNS = ("net_result", "capital_end", "solvency_ratio", "minimum_capital")


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
    threads : the parties' figures are worked out on this many threads (the same numbers)

    Returns
    -------
    The table of :func:`summary_of_columns`.
    """
    if net_result is None:
        net_result = party_net_result(parties, arrays)
    whole = {**arrays, "net_result": net_result, "capital_end": capital_end, "solvency_ratio": solvency_ratio}
    if minimum_capital is not None:
        whole["minimum_capital"] = minimum_capital

    def column_of(name: str, party: int) -> np.ndarray:
        return whole[name][:, party]

    return summary_of_columns(parties, column_of, capital_start, arrays["net_loss"].shape[0],
                              has_minimum_capital=minimum_capital is not None, n_batches=n_batches,
                              threads=threads)


def summary_of_columns(parties: Parties, column_of: Callable[[str, int], np.ndarray], capital_start: np.ndarray,
                       n_trials: int, has_minimum_capital: bool = True, n_batches: int = N_BATCHES,
                       threads: int = 1) -> pd.DataFrame:
    """The summary (:func:`summary`) a party's column at a time.

    ``column_of(name, party)`` gives party ``party``'s ``(n_trials,)`` column of a name of
    :data:`MEAN_COLUMNS` or :data:`OUTCOME_COLUMNS` (``minimum_capital`` only with
    ``has_minimum_capital``); a column of which only the mean is wanted may be given as its
    mean alone, ``(1,)``. Each party's figures need only its own columns, a few at a time
    (the pool's row also each member's capital at the end and ratio, one after another), and
    every sum over the trials is in trial order (:mod:`sim.estimators`): the figures are
    those of the whole ``(n_trials, n_parties)`` arrays, to the bit.

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
    n_parties = len(kinds)

    def figures_of(party: int) -> dict[str, float]:
        """Every figure of one party that passes over its trials."""
        def column(name: str) -> np.ndarray:
            return np.ascontiguousarray(column_of(name, party), dtype=np.float64)

        def share_of_trials(event: np.ndarray, values: np.ndarray) -> float:
            """Share of trials with ``event``, NaN when every value is NaN."""
            return float(event.mean()) if not np.all(np.isnan(values)) else np.nan

        figures = {f"mean_{name}": float(trial_order_mean(column(name)))
                   for name in MEAN_COLUMNS if name not in ("gross_loss", "net_loss", "ceded_loss", "default_loss")}
        gross = column("gross_loss")
        figures.update(mean_gross_loss=float(trial_order_mean(gross)), gross_loss_se=float(mean_standard_error(gross)))
        del gross
        net = column("net_loss")
        figures.update(mean_net_loss=float(trial_order_mean(net)), net_loss_se=float(mean_standard_error(net)))
        figures["var"], figures["tvar"] = value_and_tail_at_risk(net)
        figures["var_se"], figures["tvar_se"] = batch_standard_error(net, value_and_tail_at_risk, n_batches,
                                                                     tail_probability=1.0 - VAR_LEVEL)
        ceded, default = column("ceded_loss"), column("default_loss")
        figures.update(mean_ceded_loss=float(trial_order_mean(ceded)),
                       mean_default_loss=float(trial_order_mean(default)),
                       default_loss_se=float(mean_standard_error(default)))
        # What a cedant actually received back (recoveries due less defaults); a reinsurer, what it paid.
        recovery = net if is_reinsurer[party] else np.subtract(ceded, default)
        del ceded, default, net
        figures.update(recovery=float(trial_order_mean(recovery)), recovery_se=float(mean_standard_error(recovery)))
        del recovery
        result = column("net_result")
        figures.update(net_result=float(trial_order_mean(result)), net_result_se=float(mean_standard_error(result)))
        del result
        end = column("capital_end")
        figures.update(capital_end=float(nan_mean(end)), capital_end_se=float(mean_standard_error(end)),
                       prob_ruin=share_of_trials(end < 0.0, end))
        del end
        ratio = column("solvency_ratio")
        figures.update(
            solvency_ratio=float(nan_mean(ratio)), solvency_ratio_se=float(mean_standard_error(ratio)),
            solvency_ratio_p01=float(nan_quantile(ratio, SOLVENCY_LOW_LEVEL)),
            solvency_ratio_p01_se=float(batch_standard_error(
                ratio, lambda batch: nan_quantile(batch, SOLVENCY_LOW_LEVEL), n_batches,
                tail_probability=SOLVENCY_LOW_LEVEL)),
            prob_below=share_of_trials(ratio < 1.0, ratio))
        del ratio
        figures["minimum_capital"] = float(nan_mean(column("minimum_capital"))) if has_minimum_capital else np.nan
        return figures

    def any_member() -> tuple[float, float]:
        """P(some member ruined), P(some member below 100%): each member's column in turn."""
        members = _member_indices(parties)
        if not len(members):
            return np.nan, np.nan
        # (A multi-year horizon's capital and ratios have a row per path, its losses per path-year.)
        ruined, below, any_ratio = np.asarray(False), np.asarray(False), False
        for member in members:
            ruined = ruined | (np.asarray(column_of("capital_end", member)) < 0.0)
            ratio = np.asarray(column_of("solvency_ratio", member))
            below = below | (ratio < 1.0)
            any_ratio = any_ratio or not np.isnan(ratio).all()
        # No member with a ratio in any trial (all run off): not applicable, as each member's own.
        return float(ruined.mean()), (float(below.mean()) if any_ratio else np.nan)

    tasks: dict[object, Callable[[], object]] = {party: (lambda party=party: figures_of(party))
                                                 for party in range(n_parties)}
    tasks["any_member"] = any_member
    worked = in_threads(tasks, threads)
    by_party = [worked[party] for party in range(n_parties)]

    def across(name: str) -> np.ndarray:
        return np.array([figures[name] for figures in by_party], dtype=np.float64)

    mean = {name: across(f"mean_{name}") for name in MEAN_COLUMNS}
    premium_net = net_premium(mean["gross_premium"], mean["ceded_premium"], mean["reinstatement_premium"])
    member_cost = mean["net_loss"] + mean["expenses"] - mean["commission"] - mean["lead_fee"]
    reinsurer_cost = mean["net_loss"] + mean["commission"]   # a reinsurer pays the commission
    # Ratios to a net premium of 0 or less (reinsurance dearer than the premium written) have
    # no meaning as loss ratios (a large loss would show as a large negative ratio): left blank.
    ratio_premium = np.where(premium_net > 0.0, premium_net, 0.0)
    combined = safe_divide(np.where(is_reinsurer, reinsurer_cost, member_cost), ratio_premium)
    prob_ruin, prob_below = across("prob_ruin"), across("prob_below")

    columns: dict[str, object] = {
        "party": list(parties.names),
        "kind": list(parties.kinds),
        "role": list(parties.roles),
        "share": np.asarray(parties.share, dtype=np.float64),
        "gross_premium": mean["gross_premium"],
        "net_premium": premium_net,
        "expected_gross_loss": mean["gross_loss"],
        "expected_gross_loss_se": across("gross_loss_se"),
        "expected_net_loss": mean["net_loss"],
        "expected_net_loss_se": across("net_loss_se"),
        "gross_loss_ratio": safe_divide(mean["gross_loss"], mean["gross_premium"]),
        "net_loss_ratio": safe_divide(mean["net_loss"], ratio_premium),
        "combined_ratio": combined,
        "var_995_net_loss": across("var"),
        "var_995_net_loss_se": across("var_se"),
        "tvar_995_net_loss": across("tvar"),
        "tvar_995_net_loss_se": across("tvar_se"),
        "capital_start": np.asarray(capital_start, dtype=np.float64),
        "mean_capital_end": across("capital_end"),
        "mean_capital_end_se": across("capital_end_se"),
        "mean_solvency_ratio": across("solvency_ratio"),
        "mean_solvency_ratio_se": across("solvency_ratio_se"),
        "solvency_ratio_p01": across("solvency_ratio_p01"),
        "solvency_ratio_p01_se": across("solvency_ratio_p01_se"),
        "prob_solvency_below_100": prob_below,
        "prob_solvency_below_100_se": proportion_standard_error(prob_below, n_trials),
        "prob_ruin": prob_ruin,
        "prob_ruin_se": proportion_standard_error(prob_ruin, n_trials),
        "expected_recovery": across("recovery"),
        "expected_recovery_se": across("recovery_se"),
        "expected_default_loss": mean["default_loss"],
        "expected_default_loss_se": across("default_loss_se"),
        "expected_ceded_loss": mean["ceded_loss"],
        "expected_expenses": mean["expenses"],
        "expected_commission": mean["commission"],
        "expected_lead_fee": mean["lead_fee"],
        "expected_net_result": across("net_result"),
        "expected_net_result_se": across("net_result_se"),
        "mean_minimum_capital": across("minimum_capital"),
        "prob_default": np.where(is_reinsurer, mean["defaulted"], np.nan),
    }
    table = pd.DataFrame(columns)
    any_ruin, any_below = worked["any_member"]
    pool_rows = kinds == "pool"
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
    return member_and_line_allocation(parties, arrays["net_loss"][:, _member_indices(parties)], line_loss,
                                      line_names, level)


def member_and_line_allocation(parties: Parties, member_net: np.ndarray, line_loss: np.ndarray,
                               line_names: Sequence[str], level: float = VAR_LEVEL) -> pd.DataFrame:
    """:func:`allocation` from the members' net loss alone, ``(n_trials, n_members)``."""
    members = _member_indices(parties)
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
