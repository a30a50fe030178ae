"""A run's results in the Oasis Open Results Data (ORD) conventions: ``ord/`` of a results folder.

ORD is the results format of the Oasis Loss Modelling Framework, which other
catastrophe tools read. poolsim writes four of its tables, with ORD's column
names:

- ``ept.csv`` (exceedance probability table): ``SummaryId, EPCalc, EPType,
  ReturnPeriod, Loss``. ``EPCalc`` 2 is ORD's "full uncertainty": the curve
  from every simulated year, as poolsim's trials are. ``EPType`` 1 is the
  OEP, 2 the OEP's TVaR, 3 the AEP, 4 the AEP's TVaR. The OEP and AEP losses
  are ``ep.csv``'s (the empirical quantile at 1 − 1/T); a TVaR is poolsim's
  expected shortfall at that level (:func:`sim.metrics.expected_shortfall`:
  the mean of the worst 1/T of the years).
- ``palt.csv`` (period average loss table): ``SummaryId, SampleType,
  MeanLoss, SDLoss``; ``SampleType`` 2, figures from the samples (the trials).
- ``plt.csv`` (period loss table): ``Period, PeriodWeight, EventId, Year,
  Month, Day, SummaryId, SampleId, Loss``: one row per catastrophe occurrence
  with a loss, per gross summary of the pool and of each member (their share).
  ``Period`` is the trial + 1, each of weight 1 / trials; one sample a period.
- ``summary_info.csv``: what each ``SummaryId`` is: ``party``, ``kind`` and
  ``basis`` (gross or net), in the order of ``ep.csv``.

A summary is one party on one basis. Net losses are yearly in poolsim (the
treaties work on the year's occurrences together), so the net summaries have
EP and average-loss rows but no period-loss rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import metrics

FOLDER = "ord"
EPT_COLUMNS = ("SummaryId", "EPCalc", "EPType", "ReturnPeriod", "Loss")
PALT_COLUMNS = ("SummaryId", "SampleType", "MeanLoss", "SDLoss")
PLT_COLUMNS = ("Period", "PeriodWeight", "EventId", "Year", "Month", "Day", "SummaryId", "SampleId", "Loss")
SUMMARY_INFO_COLUMNS = ("SummaryId", "party", "kind", "basis")
FILES = ("ept.csv", "palt.csv", "plt.csv", "summary_info.csv")

FULL_UNCERTAINTY = 2     # ORD's EPCalc of a curve from every sampled period
OEP, OEP_TVAR, AEP, AEP_TVAR = 1, 2, 3, 4
SAMPLE_STATISTICS = 2    # ORD's SampleType of figures from the samples (1: analytical)
# The columns of each party's yearly loss and largest occurrence, by basis.
SOURCES = {"gross": ("gross_loss", "max_occurrence_gross"), "net": ("net_loss", "max_occurrence_net")}


def summaries(parties) -> pd.DataFrame:
    """summary_info.csv: SummaryId 1, 2, ... for each party (in order), gross then net."""
    rows = [(party, kind, basis) for party, kind in zip(parties.names, parties.kinds) for basis in ("gross", "net")]
    table = pd.DataFrame(rows, columns=list(SUMMARY_INFO_COLUMNS[1:]))
    table.insert(0, "SummaryId", np.arange(1, len(rows) + 1, dtype=np.int64))
    return table


def ept(parties, arrays: dict[str, np.ndarray], summary_info: pd.DataFrame,
        return_periods=metrics.RETURN_PERIODS) -> pd.DataFrame:
    """ept.csv from the per-party arrays of every trial (:data:`sim.replay.KEPT_COLUMNS`).

    OEP and AEP come from :func:`sim.metrics.ep_table`, as ``ep.csv`` does;
    their TVaRs are :func:`sim.metrics.expected_shortfall` at ``1 − 1/T``.
    """
    curves = metrics.ep_table(parties, arrays, return_periods)
    periods = np.sort(np.asarray(return_periods, dtype=np.float64))
    levels = metrics.exceedance_levels(periods)
    summary_id = {(party, basis): sid for sid, party, basis in
                  summary_info[["SummaryId", "party", "basis"]].itertuples(index=False)}
    frames = []
    for metric, code in (("OEP", OEP), ("AEP", AEP)):
        part = curves[curves["metric"] == metric]
        frames.append(pd.DataFrame({
            "SummaryId": [summary_id[(party, basis)] for party, basis in zip(part["party"], part["basis"])],
            "EPType": code, "ReturnPeriod": part["return_period"].to_numpy(), "Loss": part["loss"].to_numpy()}))
    with_occurrences = np.array([kind != "reinsurer" for kind in parties.kinds])
    for basis, (yearly, largest) in SOURCES.items():
        for values, code, rows in ((arrays[largest], OEP_TVAR, np.flatnonzero(with_occurrences)),
                                   (arrays[yearly], AEP_TVAR, np.arange(len(parties.names)))):
            tails = np.array([metrics.expected_shortfall(values, level) for level in levels])  # (periods, parties)
            for party in rows:
                frames.append(pd.DataFrame({
                    "SummaryId": summary_id[(parties.names[party], basis)], "EPType": code,
                    "ReturnPeriod": periods, "Loss": tails[:, party]}))
    table = pd.concat(frames, ignore_index=True)
    table.insert(1, "EPCalc", FULL_UNCERTAINTY)
    table = table.sort_values(["SummaryId", "EPCalc", "EPType", "ReturnPeriod"], ascending=[True, True, True, False],
                              kind="stable")
    return table[list(EPT_COLUMNS)].reset_index(drop=True)


def palt(parties, arrays: dict[str, np.ndarray], summary_info: pd.DataFrame) -> pd.DataFrame:
    """palt.csv: each summary's mean yearly loss and its standard deviation over the trials."""
    means, sds = [], []
    for party, basis in summary_info[["party", "basis"]].itertuples(index=False):
        values = arrays[SOURCES[basis][0]][:, parties.names.index(party)]
        means.append(values.mean())
        sds.append(values.std(ddof=1) if len(values) > 1 else np.nan)
    return pd.DataFrame({"SummaryId": summary_info["SummaryId"].to_numpy(), "SampleType": SAMPLE_STATISTICS,
                         "MeanLoss": means, "SDLoss": sds})[list(PALT_COLUMNS)]


def calendar(day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(month, day of the month)`` of days of the year in [0, 365), in a year of 365 days."""
    dates = np.datetime64("2001-01-01") + np.floor(day).astype("timedelta64[D]")
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day_of_month = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    return month, day_of_month


def plt_rows(parties, summary_info: pd.DataFrame, n_trials: int, trial: np.ndarray, event_id: np.ndarray,
             day: np.ndarray, loss: np.ndarray) -> pd.DataFrame:
    """plt.csv rows of some catastrophe occurrences: the pool's gross loss and each member's share of it.

    Parameters
    ----------
    trial, event_id : int64 (n,), the occurrences' trials (global) and EventIds
    day : float64 (n,), their days of the year in [0, 365)
    loss : float64 (n,), their gross losses (all lines)
    """
    month, day_of_month = calendar(day)
    gross_id = {party: sid for sid, party, basis in summary_info[["SummaryId", "party", "basis"]]
                .itertuples(index=False) if basis == "gross"}
    frames = []
    for index, (name, kind) in enumerate(zip(parties.names, parties.kinds)):
        if kind == "reinsurer":
            continue
        share = float(parties.share[index])
        party_loss = loss * share
        keep = party_loss > 0
        if not keep.any():
            continue
        frames.append(pd.DataFrame({
            "Period": trial[keep] + 1, "PeriodWeight": 1.0 / n_trials, "EventId": event_id[keep], "Year": 1,
            "Month": month[keep], "Day": day_of_month[keep], "SummaryId": gross_id[name], "SampleId": 1,
            "Loss": party_loss[keep]}))
    if not frames:
        return empty_plt()
    return pd.concat(frames, ignore_index=True)[list(PLT_COLUMNS)]


def empty_plt() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=np.float64 if column in ("PeriodWeight", "Loss") else np.int64)
                         for column in PLT_COLUMNS})


def sorted_plt(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The plt.csv of all chunks' rows, by summary, then period and event."""
    table = pd.concat(parts, ignore_index=True) if parts else empty_plt()
    return table.sort_values(["SummaryId", "Period", "EventId"], kind="stable").reset_index(drop=True)
