"""poolsim run --export ord|yelt and poolsim export: ORD tables and the YELT round trip."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.engine import LossModel, simulate_chunk
from sim.exports import export
from sim.exposure import build_exposure
from sim.metrics import RETURN_PERIODS
from sim.ord import EPT_COLUMNS, PALT_COLUMNS, PLT_COLUMNS, SUMMARY_INFO_COLUMNS
from sim.results import Results
from sim.runner import run
from sim.scenario import load

TRIALS = 2_000


def naive_expected_shortfall(values: np.ndarray, return_period: float) -> float:
    """The mean of the worst n / T years, the next one counted in part (docs/results.md)."""
    ordered = np.sort(values)[::-1]
    k = len(values) / return_period
    whole = math.floor(k)
    return (ordered[:whole].sum() + (k - whole) * (ordered[whole] if whole < len(values) else 0.0)) / k


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from conftest import DATA

    folder = tmp_path_factory.mktemp("ord") / "tiny"
    assert main(["run", str(DATA / "tiny.toml"), "--trials", str(TRIALS), "--out", str(folder), "--no-plots",
                 "--no-progress", "--export", "ord"]) == 0
    return folder


def test_ord_tables_have_ords_column_names_and_read_back(tiny_run):
    tables = {name: pd.read_csv(tiny_run / "ord" / f"{name}.csv") for name in ("ept", "palt", "plt", "summary_info")}
    assert tuple(tables["ept"].columns) == EPT_COLUMNS == ("SummaryId", "EPCalc", "EPType", "ReturnPeriod", "Loss")
    assert tuple(tables["palt"].columns) == PALT_COLUMNS == ("SummaryId", "SampleType", "MeanLoss", "SDLoss")
    assert tuple(tables["plt"].columns) == PLT_COLUMNS == ("Period", "PeriodWeight", "EventId", "Year", "Month",
                                                           "Day", "SummaryId", "SampleId", "Loss")
    assert tuple(tables["summary_info"].columns) == SUMMARY_INFO_COLUMNS
    assert set(tables["ept"]["EPCalc"]) == {2}
    assert set(tables["ept"]["EPType"]) == {1, 2, 3, 4}
    assert tables["plt"]["Month"].between(1, 12).all() and tables["plt"]["Day"].between(1, 31).all()
    assert tables["plt"]["Period"].between(1, TRIALS).all()
    assert (tables["plt"]["PeriodWeight"] == 1.0 / TRIALS).all()


def test_ord_ep_rows_are_ep_csv_and_tvar_rows_the_expected_shortfall_of_the_trials(tiny_run):
    ept = pd.read_csv(tiny_run / "ord" / "ept.csv")
    info = pd.read_csv(tiny_run / "ord" / "summary_info.csv")
    ep = pd.read_csv(tiny_run / "ep.csv")
    results = Results.read(tiny_run)
    merged = ept.merge(info, on="SummaryId")
    for code, metric in ((1, "OEP"), (3, "AEP")):
        ours = merged[merged["EPType"] == code].set_index(["party", "basis", "ReturnPeriod"])["Loss"].sort_index()
        theirs = ep[ep["metric"] == metric].set_index(["party", "basis", "return_period"])["loss"].sort_index()
        assert len(ours) == len(theirs) > 0
        np.testing.assert_array_equal(ours.to_numpy(), theirs.to_numpy())
    # AEP TVaR from trials.parquet, for every party and basis
    names = results.party_names
    for basis, column in (("gross", "gross_loss"), ("net", "net_loss")):
        matrix = results.party_matrix(column)
        for index, name in enumerate(names):
            rows = merged[(merged["EPType"] == 4) & (merged["party"] == name) & (merged["basis"] == basis)]
            assert sorted(rows["ReturnPeriod"]) == sorted(RETURN_PERIODS)
            for period, loss in zip(rows["ReturnPeriod"], rows["Loss"]):
                assert loss == pytest.approx(naive_expected_shortfall(matrix[:, index], period), rel=1e-12)
    # OEP TVaR of the pool's gross: the largest occurrence of each trial, from the engine
    scenario = load(tiny_run / "scenario.toml")
    scenario = type(scenario)(**{**scenario.__dict__, "simulation": type(scenario.simulation)(
        trials=TRIALS, seed=scenario.simulation.seed)})
    chunk = simulate_chunk(scenario, LossModel.from_scenario(scenario), build_exposure(scenario), 0, TRIALS)
    occurrence_loss = np.add.reduceat(chunk.risk_loss, chunk.risk_offsets[:-1]) if chunk.n_risk_losses else []
    occurrence_loss = np.where(np.diff(chunk.risk_offsets) > 0, occurrence_loss, 0.0)
    largest = np.zeros(TRIALS)
    trial_of = np.repeat(np.arange(TRIALS), np.diff(chunk.occ_offsets))
    np.maximum.at(largest, trial_of, occurrence_loss)
    rows = merged[(merged["EPType"] == 2) & (merged["party"] == "pool") & (merged["basis"] == "gross")]
    for period, loss in zip(rows["ReturnPeriod"], rows["Loss"]):
        assert loss == pytest.approx(naive_expected_shortfall(largest, period), rel=1e-12)
    # the pool's gross catastrophe occurrences in plt.csv: every one with a loss, no other
    plt_rows = pd.read_csv(tiny_run / "ord" / "plt.csv").merge(info, on="SummaryId")
    pool = plt_rows[(plt_rows["party"] == "pool") & (plt_rows["basis"] == "gross")]
    cats = (chunk.occ_event >= 0) & (occurrence_loss > 0)
    assert len(pool) == cats.sum()
    assert pool["Loss"].sum() == pytest.approx(occurrence_loss[cats].sum(), rel=1e-12)


def test_ord_palt_is_the_mean_and_sd_of_the_yearly_losses(tiny_run):
    palt = pd.read_csv(tiny_run / "ord" / "palt.csv").merge(pd.read_csv(tiny_run / "ord" / "summary_info.csv"))
    results = Results.read(tiny_run)
    gross = results.party_matrix("gross_loss")[:, 0]
    row = palt[(palt["party"] == "pool") & (palt["basis"] == "gross")].iloc[0]
    assert row["SampleType"] == 2
    assert row["MeanLoss"] == pytest.approx(gross.mean(), rel=1e-12)
    assert row["SDLoss"] == pytest.approx(gross.std(ddof=1), rel=1e-12)


ROUND_TRIP = """
name = "round trip"

[simulation]
trials = 600
seed = 11

[[lines]]
name = "cloud"
policies = 60
sum_insured = 2e6
premium_rate = 0.03
frequency = {{ dist = "poisson", mean = 0.08 }}
severity = {{ dist = "lognormal", median = 1e5, sigma = 0.8 }}

[[lines]]
name = "saas"
policies = 30
sum_insured = 1e6
premium_rate = 0.03
frequency = {{ dist = "poisson", mean = 0.05 }}
damage_ratio = {{ dist = "beta", mean = 0.1, sd = 0.05 }}

{catastrophe}

[pool]
name = "round trip pool"

[[pool.members]]
name = "lead"
role = "lead"
share = 0.7
capital = 1e9

[[pool.members]]
name = "follower"
role = "follower"
share = 0.3
capital = 1e9
"""

PARAMETRIC = """
[[catastrophes]]
name = "outage"
rate = 0.6
lines = ["cloud", "saas"]
affected_share = { dist = "beta", mean = 0.3, sd = 0.15 }
damage_ratio = { dist = "beta", mean = 0.2, sd = 0.1 }

[[catastrophes]]
name = "breach"
rate = 0.3
lines = ["saas"]
affected_share = { dist = "beta", mean = 0.5, sd = 0.2 }
damage_ratio = { dist = "beta", mean = 0.4, sd = 0.2 }
"""


def test_a_runs_exported_yelt_fed_back_gives_the_same_gross_losses_trial_for_trial(tmp_path, write_scenario):
    # Policies of one sum insured and no deductible, as a YELT's loss spread over any
    # `policies_hit` policies by sum insured then gives each policy the same part, within its limit.
    first = write_scenario(ROUND_TRIP.format(catastrophe=PARAMETRIC), "first.toml")
    assert main(["run", str(first), "--out", str(tmp_path / "first"), "--no-plots", "--no-progress",
                 "--export", "yelt"]) == 0
    yelt = pd.read_parquet(tmp_path / "first" / "yelt.parquet")
    assert list(yelt.columns) == ["year", "event", "line", "loss", "day", "policies_hit", "catastrophe"]
    assert set(yelt["catastrophe"]) == {"outage", "breach"}
    table = f'[[catastrophes]]\nname = "replayed"\nevent_table = "{tmp_path / "first" / "yelt.parquet"}"\ntable = "yelt"\n'
    second = write_scenario(ROUND_TRIP.format(catastrophe=table), "second.toml")
    assert load(second).catastrophes[0].event_table.years == 600     # from the file's metadata
    assert main(["run", str(second), "--out", str(tmp_path / "second"), "--no-plots", "--no-progress"]) == 0
    a, b = Results.read(tmp_path / "first"), Results.read(tmp_path / "second")
    np.testing.assert_allclose(b.party_matrix("gross_loss"), a.party_matrix("gross_loss"), rtol=1e-9, atol=1e-6)
    lines_a = a.line_losses.sort_values(["trial", "line"])
    lines_b = b.line_losses.sort_values(["trial", "line"])
    np.testing.assert_allclose(lines_b["gross_loss"], lines_a["gross_loss"], rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(lines_b["claims"], lines_a["claims"])
    assert (lines_b["capped_loss"] == 0).all()
    # run.json records the table's content, which the scenario's sha256 does not cover
    import hashlib
    import json

    import results_checks

    record = json.loads((tmp_path / "second" / "run.json").read_text(encoding="utf-8"))["event_tables"]
    digest = hashlib.sha256((tmp_path / "first" / "yelt.parquet").read_bytes()).hexdigest()
    assert record == {"replayed": {"file": str(tmp_path / "first" / "yelt.parquet"), "table": "yelt",
                                   "years": 600, "sha256": digest}}
    assert results_checks.undocumented(tmp_path / "second") == []
    # the folder's own export, made again from the folder alone, is the same file
    before = pd.read_parquet(tmp_path / "first" / "yelt.parquet")
    assert main(["export", "yelt", str(tmp_path / "first")]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "first" / "yelt.parquet"), before)
    # and a new run into the folder replaces it, exports included
    assert main(["run", str(first), "--out", str(tmp_path / "first"), "--no-plots", "--no-progress"]) == 0
    assert not (tmp_path / "first" / "yelt.parquet").exists()


def test_export_refuses_what_is_not_a_results_folder_or_no_longer_its_run(tmp_path, write_scenario, capsys):
    assert main(["export", "ord", str(tmp_path / "absent")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["export", "ord", str(tmp_path / "empty")]) == 2
    assert "not a results folder" in capsys.readouterr().err
    path = write_scenario(ROUND_TRIP.format(catastrophe=PARAMETRIC).replace("trials = 600", "trials = 50"))
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--no-plots", "--no-progress"]) == 0
    # the folder's trials edited: the run made again no longer matches them
    trials = pd.read_parquet(tmp_path / "run" / "trials.parquet")
    trials.loc[0, "gross_loss"] += 1.0
    trials.to_parquet(tmp_path / "run" / "trials.parquet", index=False)
    assert main(["export", "ord", str(tmp_path / "run")]) == 2
    assert "does not give its trials.parquet gross_loss" in capsys.readouterr().err
    assert not (tmp_path / "run" / "ord").exists()
