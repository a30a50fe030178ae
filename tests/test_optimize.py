"""poolsim optimize: the [optimize] table's checks, the search on identical losses, its outputs.

The scenarios here are the tiny test pool (tests/data/tiny.toml) with a thin
follower: a few thousand trials keep every search to seconds once compiled.
"""
from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from conftest import DATA
from sim.cli import main
from sim.scenario import check

TINY = (DATA / "tiny.toml").resolve()
RETENTION = "pool.reinsurance[1].retention"
LOADING = 0.3

# The tiny pool's lines and reinsurers, a lead with ample capital and a thin follower; the pool's
# programme is a quota share, then a cat XL whose retention the known-answer test varies.
THIN_POOL = f'''
base = "{TINY.as_posix()}"

[simulation]
trials = 3000
seed = 11

[pool]
name = "thin pool"
lead_fee = 0.015

[[pool.members]]
name = "Lead P&C"
role = "lead"
share = 0.7
capital = 1e9
expense_ratio = 0.25

[[pool.members]]
name = "Thin Mutual"
role = "follower"
share = 0.3
capital = 2.5e6
expense_ratio = 0.25

[[pool.reinsurance]]
type = "quota_share"
cession = 0.3
commission = 0.3
panel = {{ "China Re" = 1.0 }}

[[pool.reinsurance]]
type = "cat_xl"
retention = 2e6
limit = 2e7
rate_on_line = 0.05
panel = {{ "Swiss Re" = 1.0 }}
'''

RETENTION_SEARCH = f'''
[optimize]
candidates = 16
max_prob_solvency_below_100 = 0.02
pricing = {{ loading = {LOADING} }}

[[optimize.vary]]
key = "{RETENTION}"
min = 5e5
max = 2e7
'''

# Every kind of varied key at once on the tiny pool as written (a per-risk XL, a cat XL with a
# reinstatement, the follower's own stop loss): shares, a cession, two priced layers.
EVERYTHING_SEARCH = f'''
base = "{TINY.as_posix()}"

[simulation]
trials = 2000
seed = 5

[optimize]
candidates = 10
pricing = {{ loading = {LOADING} }}

[[optimize.vary]]
key = "pool.members.share"
min = 0.2
max = 0.8

[[optimize.vary]]
key = "pool.reinsurance[0].cession"
min = 0.1
max = 0.5

[[optimize.vary]]
key = "pool.reinsurance[2].retention"
min = 2e6
max = 8e6

[[optimize.vary]]
key = "pool.members[1].reinsurance[0].attachment"
min = 0.8
max = 1.5
'''


def run_cli(*arguments) -> int:
    return main([str(argument) for argument in arguments])


@pytest.fixture(scope="module")
def retention_search(tmp_path_factory):
    """The thin pool's cat XL retention searched: (scenario path, output folder, candidates table)."""
    folder = tmp_path_factory.mktemp("retention")
    path = folder / "thin.toml"
    path.write_text(THIN_POOL + RETENTION_SEARCH, encoding="utf-8")
    out = folder / "found"
    assert run_cli("optimize", path, "--out", out, "--no-progress") == 0
    return path, out, pd.read_csv(out / "candidates.csv")


@pytest.fixture(scope="module")
def everything_search(tmp_path_factory):
    from sim.optimize_search import optimize

    folder = tmp_path_factory.mktemp("everything")
    path = folder / "everything.toml"
    path.write_text(EVERYTHING_SEARCH, encoding="utf-8")
    return path, optimize(path, out=folder / "found", progress=False)


# ---------------------------------------------------------------- the frontier
def dominated_by_definition(cost, risk) -> np.ndarray:
    """For each point: does another point have cost and risk no higher, one of them lower?"""
    n = len(cost)
    return np.array([any(cost[j] <= cost[i] and risk[j] <= risk[i] and (cost[j] < cost[i] or risk[j] < risk[i])
                         for j in range(n)) for i in range(n)], dtype=bool)


# small integers: many ties in cost, in risk, and whole repeated points
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=25))
def test_on_frontier_is_exactly_the_non_dominated_set(points):
    from sim.optimize_search import non_dominated

    cost = np.array([float(c) for c, _ in points])
    risk = np.array([float(r) for _, r in points])
    assert np.array_equal(non_dominated(cost, risk), ~dominated_by_definition(cost, risk))


def test_candidates_table_marks_the_frontier_and_the_best(retention_search):
    from sim.optimize_search import non_dominated

    _, _, table = retention_search
    expected = non_dominated(table["cost"].to_numpy(), table["worst_prob_solvency_below_100"].to_numpy())
    assert np.array_equal(table["on_frontier"].to_numpy(), expected)
    assert table["on_frontier"].any() and not table["on_frontier"].all()


# ---------------------------------------------------------------- outputs and the best
def test_candidates_csv_has_the_contract_columns_first(retention_search, everything_search):
    _, _, table = retention_search
    assert list(table.columns[:9]) == ["candidate", RETENTION, "objective", "cost", "members_net_result",
                                       "worst_prob_solvency_below_100", "worst_solvency_ratio_p01", "feasible",
                                       "on_frontier"]
    assert table["feasible"].dtype == bool and table["on_frontier"].dtype == bool
    assert list(table["candidate"]) == list(range(16))
    _, found = everything_search
    columns = list(found.table.columns)
    assert columns[:4] == ["candidate", "share:Lead P&C", "share:Follower P&C", "pool.reinsurance[0].cession"]
    shares = found.table[["share:Lead P&C", "share:Follower P&C"]]
    assert np.allclose(shares.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert (shares.iloc[1:] >= 0.2 - 1e-12).all().all() and (shares.iloc[1:] <= 0.8 + 1e-12).all().all()


def test_the_best_is_the_feasible_candidate_with_the_best_objective(retention_search):
    _, out, table = retention_search
    feasible = table[table["feasible"]]
    assert (feasible["worst_prob_solvency_below_100"] <= 0.02).all()
    assert (table.loc[~table["feasible"], "worst_prob_solvency_below_100"] > 0.02).all()
    best = table.loc[table["cost"].where(table["feasible"]).idxmin()]
    written = tomllib.loads((out / "best.toml").read_text(encoding="utf-8"))
    assert written["pool"]["reinsurance"][1]["retention"] == best[RETENTION]
    assert "optimize" not in written and written["base"] == "../thin.toml"


def test_net_result_objective_maximises_the_members_net_result(tmp_path):
    from sim.optimize_search import optimize

    path = tmp_path / "thin.toml"
    path.write_text(THIN_POOL + RETENTION_SEARCH.replace("candidates = 16", 'candidates = 8\nobjective = "net_result"'),
                    encoding="utf-8")
    found = optimize(path, progress=False)
    table = found.table
    assert (table["objective"] == table["members_net_result"]).all()
    assert found.best == table["members_net_result"].where(table["feasible"]).idxmax()


# ---------------------------------------------------------------- the known answer
def priced_run(path: Path, retention: float, trials: int, seed: int):
    """A run of the thin pool with its cat XL at ``retention``, priced at (1 + loading) x its expected
    loss: one run to learn the expected loss (no reinstatements: the premium is all it pays)."""
    import sim

    text = THIN_POOL.replace("retention = 2e6", f"retention = {retention!r}")
    learn = path.with_name("grid.toml")
    learn.write_text(text, encoding="utf-8")
    expected = float(sim.run(learn, trials=trials, seed=seed, progress=False).treaties["expected_ceded_loss"].iloc[1])
    learn.write_text(text.replace("rate_on_line = 0.05", f"premium = {(1 + LOADING) * expected!r}"),
                     encoding="utf-8")
    return sim.run(learn, trials=trials, seed=seed, progress=False)


def test_known_answer_the_best_retention_is_the_highest_feasible_one(retention_search):
    path, _, table = retention_search
    feasible = table[table["feasible"]]
    best = table.loc[table["cost"].where(table["feasible"]).idxmin()]
    # the priced layer costs loading x its expected loss, which falls as the retention rises
    assert best[RETENTION] == feasible[RETENTION].max()
    # a grid of poolsim runs on the same trials: feasible up to some retention, then not
    grid = [1e6, 2e6, 3e6, 4e6, 6e6, 8e6, 1.2e7]
    worst = []
    for retention in grid:
        summary = priced_run(path, retention, 3000, 11).summary
        worst.append(summary.loc[summary["kind"] == "member", "prob_solvency_below_100"].max())
    ok = [value <= 0.02 for value in worst]
    assert ok == sorted(ok, reverse=True), f"feasibility is not monotone on the grid: {worst}"
    highest = max(retention for retention, good in zip(grid, ok) if good)
    lowest_bad = min(retention for retention, good in zip(grid, ok) if not good)
    assert highest <= best[RETENTION] < lowest_bad


# ---------------------------------------------------------------- reproduction by best.toml
def test_best_toml_reproduces_the_best_candidate(everything_search):
    import sim

    path, found = everything_search
    best = found.table.loc[found.best]
    results = sim.run(found.folder / "best.toml", trials=2000, seed=5, progress=False)
    members = results.summary[results.summary["kind"] == "member"]
    assert results.treaties["cost"].sum() == pytest.approx(best["cost"], rel=1e-9)
    assert members["prob_solvency_below_100"].max() == pytest.approx(best["worst_prob_solvency_below_100"],
                                                                     rel=1e-9, abs=1e-15)
    assert members["solvency_ratio_p01"].min() == pytest.approx(best["worst_solvency_ratio_p01"], rel=1e-9)
    assert members["expected_net_result"].sum() == pytest.approx(best["members_net_result"], rel=1e-9)
    # the same gross losses as the scenario as written
    as_written = sim.run(path, trials=2000, seed=5, progress=False)
    pool = results.summary["kind"] == "pool"
    assert results.summary.loc[pool, "expected_gross_loss"].iloc[0] == pytest.approx(
        as_written.summary.loc[as_written.summary["kind"] == "pool", "expected_gross_loss"].iloc[0], rel=1e-12)
    # each priced layer's price, deposit and reinstatement premium, is (1 + loading) x its expected loss
    priced = results.treaties.iloc[[2, 3]]      # the cat XL and the follower's stop loss
    assert (priced["ceded_premium"] + priced["reinstatement_premium"]).to_numpy() == pytest.approx(
        (1 + LOADING) * priced["expected_ceded_loss"].to_numpy(), rel=1e-9)
    assert priced["reinstatement_premium"].iloc[0] > 0      # the reinstatement is part of the price


def test_candidate_zero_is_the_structure_as_written(everything_search):
    import sim

    path, found = everything_search
    results = sim.run(path, trials=2000, seed=5, progress=False)
    row = found.table.loc[0]
    assert row["phase"] == "written" and row["share:Lead P&C"] == 0.6
    assert results.treaties["cost"].sum() == pytest.approx(row["cost"], rel=1e-9)
    members = results.summary[results.summary["kind"] == "member"]
    assert members["solvency_ratio_p01"].min() == pytest.approx(row["worst_solvency_ratio_p01"], rel=1e-9)


def test_a_search_is_reproducible(everything_search):
    from sim.optimize_search import optimize

    path, found = everything_search
    again = optimize(path, progress=False)
    pd.testing.assert_frame_equal(again.table, found.table)


# ---------------------------------------------------------------- no feasible candidate
def test_no_feasible_candidate_names_the_binding_constraint_and_writes_no_best(tmp_path, capsys):
    path = tmp_path / "thin.toml"
    # the written structure's worst 1% ratio quantile is about 280%: nothing reaches 500%
    search = RETENTION_SEARCH.replace("candidates = 16", "candidates = 5\nmin_solvency_ratio_p01 = 5.0")
    path.write_text(THIN_POOL + search, encoding="utf-8")
    out = tmp_path / "found"
    assert run_cli("optimize", path, "--out", out, "--no-progress") == 0
    printed = capsys.readouterr().out
    assert "no candidate is feasible" in printed and "min_solvency_ratio_p01 = 5 binds" in printed
    assert "max_prob_solvency_below_100 = 0.02 binds" not in printed
    table = pd.read_csv(out / "candidates.csv")
    closest = table.loc[table["worst_solvency_ratio_p01"].idxmax(), "candidate"]
    assert f"The closest is candidate {closest};" in printed
    assert not table["feasible"].any()
    assert not (out / "best.toml").exists() and (out / "frontier.png").is_file()


# ---------------------------------------------------------------- validation
def problems_of(write_scenario, optimize_text: str) -> list[str]:
    path = write_scenario(THIN_POOL + optimize_text)
    return check(path)[1]


@pytest.mark.parametrize("vary, expected", [
    ('key = "pool.reinsurance[2].retention"\nmin = 1\nmax = 2',
     'names pool.reinsurance[2], but that programme has 2 treaties'),
    ('key = "pool.members[2].reinsurance[0].rate"\nmin = 0.01\nmax = 0.02',
     'names pool.members[2], but the pool has 2 members'),
    ('key = "pool.members[1].reinsurance[0].rate"\nmin = 0.01\nmax = 0.02',
     'names pool.members[1].reinsurance[0], but that programme has 0 treaties'),
    ('key = "pool.reinsurance[0].retention"\nmin = 1\nmax = 2',
     'is not a term of pool.reinsurance[0], a quota_share treaty'),
    ('key = "pool.reinsurance[1].retentoin"\nmin = 1\nmax = 2', "did you mean 'retention'?"),
    ('key = "pool.reinsurance[1].reinstatements"\nmin = 1\nmax = 2', "names a term that cannot be varied"),
    ('key = "pool.reinsurance[1].panel"\nmin = 1\nmax = 2', "names a term that cannot be varied"),
    ('key = "pool.lead_fee"\nmin = 0.01\nmax = 0.02', 'must be a numeric treaty term by its position'),
    ('key = "pool.reinsurance[1].retention"\nmin = 3e6\nmax = 2e6', 'optimize.vary[0].min = 3e6 must be <= max = 2e6'),
    ('key = "pool.reinsurance[0].cession"\nmin = 0.1\nmax = 30', 'optimize.vary[0].max = 30 must be within [0, 1]'),
    ('key = "pool.reinsurance[1].retention"\nmin = -1\nmax = 2e6', 'must be a finite number >= 0'),
    ('key = "pool.members.share"\nmin = 0.6\nmax = 0.9', 'cannot hold shares that sum to 1: 2 members need'),
    ('key = "pool.members.share"\nmin = 0.1\nmax = 0.4', 'cannot hold shares that sum to 1'),
    ('key = "pool.reinsurance[1].rate_on_line"\nmin = 0.01\nmax = 0.1', 'varies the premium of a layer that'),
    ('key = "pool.reinsurance[1].retention"\nmin = 1e6', 'optimize.vary[0].max is missing'),
])
def test_bad_vary_entries_are_problems_naming_the_key(write_scenario, vary, expected):
    text = f"[optimize]\npricing = {{ loading = 0.3 }}\n\n[[optimize.vary]]\n{vary}\n"
    problems = problems_of(write_scenario, text)
    assert len(problems) == 1, problems
    assert expected in problems[0] and problems[0].startswith(str(Path(problems[0].split(":")[0])))


@pytest.mark.parametrize("table, expected", [
    ('objective = "cheapest"', 'optimize.objective = "cheapest" must be one of "cost", "net_result"'),
    ("candidates = 0", "optimize.candidates = 0 must be >= 1"),
    ("max_prob_solvency_below_100 = 5", "optimize.max_prob_solvency_below_100 = 5 must be within [0, 1]"),
    ("pricing = { loadings = 0.3 }", "optimize.pricing.loadings is not a valid key"),
    ("maximum = 3", "optimize.maximum is not a valid key"),
])
def test_bad_optimize_keys_are_problems(write_scenario, table, expected):
    text = f'[optimize]\n{table}\n\n[[optimize.vary]]\nkey = "{RETENTION}"\nmin = 1e6\nmax = 2e6\n'
    problems = problems_of(write_scenario, text)
    assert any(expected in problem for problem in problems), problems


def test_optimize_needs_something_to_vary(write_scenario):
    problems = problems_of(write_scenario, "[optimize]\ncandidates = 4\n")
    assert any("optimize.vary is missing" in problem for problem in problems), problems


def test_the_same_key_twice_is_a_problem(write_scenario):
    vary = f'[[optimize.vary]]\nkey = "{RETENTION}"\nmin = 1e6\nmax = 2e6\n'
    problems = problems_of(write_scenario, "[optimize]\n" + vary + vary)
    assert problems and "optimize.vary[1].key" in problems[0] and "varied twice" in problems[0]


def test_a_bad_optimize_table_exits_2_and_writes_nothing(write_scenario, tmp_path, capsys):
    path = write_scenario(THIN_POOL + '[optimize]\nobjective = "cheap"\n[[optimize.vary]]\n'
                                      f'key = "{RETENTION}"\nmin = 1e6\nmax = 2e6\n')
    out = tmp_path / "found"
    assert run_cli("optimize", path, "--out", out) == 2
    assert "optimize.objective" in capsys.readouterr().err and not out.exists()
    # and poolsim run refuses it too: the table is checked like the rest of the file
    assert run_cli("run", path, "--out", tmp_path / "run") == 2


def test_run_ignores_optimize_with_a_note_and_optimize_needs_the_table(write_scenario, tmp_path, capsys):
    path = write_scenario(THIN_POOL + RETENTION_SEARCH)
    assert run_cli("run", path, "--trials", 200, "--out", tmp_path / "run", "--no-plots", "--no-progress") == 0
    assert "[optimize] is read by poolsim optimize only; poolsim run and compare ignore it" in capsys.readouterr().err
    plain = write_scenario(THIN_POOL, "plain.toml")
    assert run_cli("optimize", plain, "--out", tmp_path / "found") == 2
    assert "has no [optimize] table" in capsys.readouterr().err


def test_a_multi_year_scenario_is_refused(write_scenario, tmp_path, capsys):
    text = (THIN_POOL + RETENTION_SEARCH).replace("seed = 11", "seed = 11\nyears = 3")
    path = write_scenario(text)
    assert run_cli("optimize", path, "--out", tmp_path / "found", "--no-progress") == 2
    assert "one-year structures only" in capsys.readouterr().err
    assert not (tmp_path / "found").exists()


def test_an_out_folder_that_is_not_an_optimisation_folder_is_refused(write_scenario, tmp_path, capsys):
    path = write_scenario(THIN_POOL + RETENTION_SEARCH)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert run_cli("optimize", path, "--out", out, "--no-progress") == 2
    assert "not a poolsim optimisation folder" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine"


# ---------------------------------------------------------------- shares on the bounded simplex
@settings(max_examples=200, deadline=None)
@given(n=st.integers(2, 7), low_fraction=st.floats(0, 1), high_fraction=st.floats(0, 1),
       seed=st.integers(0, 2**32 - 1))
def test_shares_stay_within_their_bounds_and_sum_to_one(n, low_fraction, high_fraction, seed):
    from sim.optimize_space import bounded_simplex

    low = low_fraction / n                      # n * low <= 1 <= n * high
    high = 1 / n + high_fraction * (1 - 1 / n)
    point = np.random.default_rng(seed).random(n)
    shares = bounded_simplex(point, low, high)
    assert math.fsum(shares) == pytest.approx(1.0, abs=1e-12)
    assert (shares >= low - 1e-12).all() and (shares <= high + 1e-12).all()


def test_more_trials_than_memory_holds_are_refused_before_simulating(write_scenario, tmp_path, capsys):
    path = write_scenario(THIN_POOL + RETENTION_SEARCH)
    assert run_cli("optimize", path, "--trials", 10**9, "--out", tmp_path / "found", "--no-progress") == 2
    message = capsys.readouterr().err
    assert "keeps every trial's gross losses in memory" in message and "use --trials" in message
    assert not (tmp_path / "found").exists()


def test_a_search_on_dask_workers_gives_the_same_candidates(tmp_path):
    """Each round's candidates on a local Dask cluster of 2 processes, each worker with its own
    copy of the gross losses: the same candidates.csv, to the bit, as in one process."""
    pytest.importorskip("dask.distributed")
    path = tmp_path / "thin.toml"
    path.write_text(THIN_POOL + RETENTION_SEARCH.replace("candidates = 16", "candidates = 7"), encoding="utf-8")
    assert run_cli("optimize", path, "--out", tmp_path / "here", "--no-progress") == 0
    assert run_cli("optimize", path, "--out", tmp_path / "dask", "--workers", "2", "--no-progress") == 0
    here = pd.read_csv(tmp_path / "here" / "candidates.csv")
    on_dask = pd.read_csv(tmp_path / "dask" / "candidates.csv")
    assert len(here) == 7
    pd.testing.assert_frame_equal(on_dask, here, check_exact=True)
    assert (tmp_path / "dask" / "best.toml").read_text() == (tmp_path / "here" / "best.toml").read_text()
    import json
    assert json.loads((tmp_path / "dask" / "optimize.json").read_text())["workers"] == 2
