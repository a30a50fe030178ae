"""Results tables and the results folder: the folder's checks, round trip, atomic writes, compare."""
import copy
import dataclasses
import json
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.run_folder
from sim.run_folder import write_run_folder
from sim import results as results_module
from sim.results import Results
from sim.tables import build_results

import results_checks
from synthetic_results import make_run


def build(n_trials=600, **options) -> Results:
    return build_results(*make_run(n_trials=n_trials, **options))


def test_synthetic_run_conserves_money():
    scenario, parties, arrays, line_loss, *_ = make_run(n_trials=500)
    members, reinsurers = parties.indices("member"), parties.indices("reinsurer")
    total = arrays["net_loss"][:, members].sum(axis=1) + arrays["net_loss"][:, reinsurers].sum(axis=1)
    np.testing.assert_allclose(total, arrays["gross_loss"][:, 0], rtol=1e-12)
    np.testing.assert_allclose(line_loss.sum(axis=1), arrays["gross_loss"][:, 0], rtol=1e-12)


def test_trials_table_layout():
    scenario, parties, arrays, line_loss, line_claims, run_info = make_run(n_trials=7)
    results = build_results(scenario, parties, arrays, line_loss, line_claims, run_info)
    trials = results.trials
    contract = ["trial", "year", "party", "share", "gross_loss", "ceded_loss", "default_loss", "net_loss",
                "gross_premium", "ceded_premium", "reinstatement_premium", "commission", "capital_end",
                "solvency_ratio"]
    assert [column for column in trials.columns if column in contract] == contract
    for column in ("capital_end", "solvency_ratio", "expenses", "lead_fee", "minimum_capital"):
        assert column in trials.columns
    assert len(trials) == 7 * parties.n_parties
    assert isinstance(trials["party"].dtype, pd.CategoricalDtype)
    assert (trials["year"] == 1).all()
    # Trial-major rows: row trial * n_parties + party.
    row = 3 * parties.n_parties + 2
    assert trials["trial"].iloc[row] == 3 and trials["party"].iloc[row] == parties.names[2]
    assert trials["net_loss"].iloc[row] == arrays["net_loss"][3, 2]
    np.testing.assert_array_equal(results.party_matrix("net_loss"), arrays["net_loss"])
    # a view of the table, which no caller may change
    assert not results.party_matrix("net_loss").flags.writeable
    # rows in another order take the general path, to the same matrix
    shuffled = copy.copy(results)
    shuffled._tables = {**results._tables, "trials": trials.sample(frac=1.0, random_state=1)}
    np.testing.assert_array_equal(shuffled.party_matrix("net_loss"), arrays["net_loss"])
    lines = results.line_losses
    assert list(lines.columns) == ["trial", "year", "line", "claims", "gross_loss", "capped_loss"]
    assert lines["claims"].dtype == np.int64
    np.testing.assert_allclose(lines.groupby("trial")["gross_loss"].sum(), arrays["gross_loss"][:, 0])


def test_run_json_has_the_contract_keys(tmp_path):
    folder = write_run_folder(build(), tmp_path / "run", plots=False)
    run = json.loads((folder / "run.json").read_text())
    for key in ("scenario", "sha256", "seed", "trials", "years", "version", "wall_seconds", "threads"):
        assert key in run
    assert run["scenario"] == "Synthetic AI pool" and run["trials"] == 600 and run["years"] == 1


def test_written_folder_passes_the_results_checks(tmp_path):
    folder = write_run_folder(build(n_trials=2000), tmp_path / "synthetic")
    results_checks.assert_valid(folder)


def _spoilt(folder: Path, name: str, change) -> list[str]:
    """The checks' problems after ``change(table)`` is saved over the folder's ``name``."""
    path = folder / name
    if name.endswith(".parquet"):
        table = pd.read_parquet(path)
        change(table)
        table.to_parquet(path, index=False)
    else:
        table = pd.read_csv(path)
        change(table)
        table.to_csv(path, index=False)
    return results_checks.problems(folder, plots=False)


def _one_member_pays_more(trials: pd.DataFrame) -> None:
    row = trials.index[(trials["trial"] == 3) & (trials["party"] == trials["party"].iloc[1])]
    trials.loc[row, "net_loss"] += 1e3


def _set_column(column: str, values):
    return lambda table: table.__setitem__(column, values(table))


@pytest.mark.parametrize("name, change, expected", [
    ("trials.parquet", _one_member_pays_more, "money is not conserved in 1 of 400"),
    ("line_losses.parquet", _set_column("gross_loss", lambda t: t["gross_loss"] * 1.01), "does not sum"),
    ("ep.csv", _set_column("loss", lambda t: t["loss"][::-1].to_numpy()), "falls as the return period grows"),
    ("summary.csv", _set_column("tvar_995_net_loss", lambda t: t["var_995_net_loss"] - 1e3), "is below"),
    ("summary.csv", _set_column("var_995_net_loss", lambda t: t["var_995_net_loss"] * 0.9 - 1.0),
     "is not the 99.5% quantile"),
    ("summary.csv", lambda table: table.pop("prob_ruin"), "lacks the columns ['prob_ruin']"),
    ("summary.csv", _set_column("tvar_995_net_loss", lambda t: t["tvar_995_net_loss"] * 0.999),
     "is not the expected shortfall"),
])
def test_the_results_checks_find_a_spoilt_folder(tmp_path, name, change, expected):
    folder = write_run_folder(build(n_trials=400), tmp_path / "spoilt", plots=False)
    assert results_checks.problems(folder, plots=False) == []
    found = _spoilt(folder, name, change)
    assert any(expected in problem for problem in found), found


def test_read_round_trip(tmp_path):
    original = build()
    folder = write_run_folder(original, tmp_path / "round", plots=False)
    loaded = Results.read(folder)
    assert loaded.name == original.name and loaded.currency == "CNY"
    pd.testing.assert_frame_equal(loaded.summary, original.summary, check_dtype=False)
    pd.testing.assert_frame_equal(loaded.ep, original.ep, check_dtype=False)
    np.testing.assert_array_equal(loaded.party_matrix("capital_end"), original.party_matrix("capital_end"))
    assert list(loaded.trials["party"].cat.categories) == list(original.summary["party"])
    # summary means equal the trials' means, as saved.
    for party in loaded.names_of("member"):
        mean = loaded.trials.loc[loaded.trials["party"] == party, "net_loss"].mean()
        expected = loaded.summary.set_index("party").loc[party, "expected_net_loss"]
        assert mean == pytest.approx(expected, rel=1e-12)


def leftovers(parent: Path) -> list[str]:
    return sorted(path.name for path in parent.iterdir() if path.name.startswith("."))


def test_failed_write_keeps_the_earlier_folder_and_leaves_no_temporary_folder(tmp_path, monkeypatch):
    folder = write_run_folder(build(n_trials=300), tmp_path / "out", plots=False)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}

    def fail_mid_write(results, staging, plots):
        results.summary.to_csv(staging / "summary.csv", index=False)   # half written ...
        raise RuntimeError("disk full")                                  # ... then it fails

    monkeypatch.setattr(sim.run_folder, "finish_run_folder", fail_mid_write)
    with pytest.raises(RuntimeError, match="disk full"):
        write_run_folder(build(n_trials=500, seed=99), folder)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    assert leftovers(tmp_path) == []


def test_interrupted_first_write_leaves_nothing(tmp_path, monkeypatch):
    def interrupted(results, staging, plots):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.run_folder, "finish_run_folder", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_run_folder(build(n_trials=100), tmp_path / "new")
    assert list(tmp_path.iterdir()) == []


def test_a_failure_on_either_writing_thread_keeps_the_earlier_folder(tmp_path, monkeypatch):
    """trials.parquet is written on a second thread while the rest is written: an error on
    either side is raised, the earlier folder is kept, and nothing is left behind."""
    import sim.plots
    import sim.run_folder

    folder = write_run_folder(build(n_trials=300), tmp_path / "out", plots=False)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    real_write_parquet = sim.run_folder.write_parquet

    def trials_fail(frame, path):
        if path.name == "trials.parquet":
            raise OSError("disk full")
        real_write_parquet(frame, path)

    def plots_fail(results, plots_folder):
        raise RuntimeError("no font")

    for target, replacement, error in ((sim.run_folder, ("write_parquet", trials_fail), OSError),
                                       (sim.plots, ("draw_plots", plots_fail), RuntimeError)):
        with monkeypatch.context() as patch:
            patch.setattr(target, *replacement)
            with pytest.raises(error):
                write_run_folder(build(n_trials=500, seed=99), folder, plots=True)
        assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
        assert leftovers(tmp_path) == []


def test_n_trials_counts_trials_in_any_row_order():
    results = build(n_trials=300)
    assert results.n_trials == 300
    shuffled = results.trials.sample(frac=1.0, random_state=1)
    results.trials = shuffled
    assert results.n_trials == 300


def test_successful_rewrite_replaces_the_folder(tmp_path):
    folder = write_run_folder(build(n_trials=300), tmp_path / "out", plots=False)
    write_run_folder(build(n_trials=400), folder, plots=False)
    # (a file poolsim did not write makes the folder refused, not replaced: see the test below)
    assert json.loads((folder / "run.json").read_text())["trials"] == 400
    assert leftovers(tmp_path) == []


def test_repeated_party_names_are_refused():
    scenario, parties, arrays, line_loss, line_claims, run_info = make_run(n_trials=10)
    import dataclasses
    clash = dataclasses.replace(parties, names=parties.names[:-1] + ("Lead P&C",))
    with pytest.raises(ValueError, match="Lead P&C"):
        build_results(scenario, clash, arrays, line_loss, line_claims, run_info)


# --------------------------------------------------------------------------- compare
def fake_runner(monkeypatch, gross_seeds: dict[str, int]):
    """Stand in for sim.runner.run: each stem maps to a synthetic run; records the seeds asked for."""
    calls = []

    def run(path, trials=None, seed=None, out=None, threads=None, plots=True, progress=True):
        stem = Path(path).stem
        calls.append((stem, seed))
        scenario, parties, arrays, line_loss, line_claims, run_info = make_run(
            n_trials=trials or 400, seed=seed if seed is not None else 2026, name=f"Structure {stem}",
            gross_seed=gross_seeds[stem])
        results = build_results(scenario, parties, arrays, line_loss, line_claims, run_info)
        write_run_folder(results, out, plots=plots)
        return results

    module = types.ModuleType("sim.runner")
    module.run = run
    monkeypatch.setitem(sys.modules, "sim.runner", module)
    import sim
    monkeypatch.setattr(sim, "runner", module, raising=False)
    return calls


def test_compare_writes_table_plots_and_flags_shared_gross_losses(tmp_path, monkeypatch, capsys):
    from sim.compare import compare
    calls = fake_runner(monkeypatch, {"a": 1, "b": 1, "c": 2})
    out = tmp_path / "cmp"
    comparison = compare(["a.toml", "b.toml", "c.toml"], out=out, trials=300, progress=False)
    # The first scenario's seed is used for all.
    assert [seed for _, seed in calls] == [None, 2026, 2026]
    assert comparison.gross_losses_identical == [True, True, False]
    table = pd.read_csv(out / "comparison.csv", keep_default_na=False, na_values=[""])
    assert len(table) == 3 * 6
    assert {"scenario", "party", "kind", "role", "gross_losses_identical_to_first",
            "expected_net_loss"} <= set(table.columns)
    record = json.loads((out / "comparison.json").read_text())
    assert [s["gross_losses_identical_to_first"] for s in record["scenarios"]] == [True, True, False]
    for name in ("compare_solvency.png", "compare_net_ep.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for stem in "abc":
        results_checks.assert_valid(out / stem)
    printed = capsys.readouterr().out
    assert "b.toml: same gross losses as a.toml" in printed
    assert "c.toml: gross losses differ" in printed
    assert leftovers(tmp_path) == []


def test_compare_failure_keeps_earlier_comparison(tmp_path, monkeypatch):
    from sim.compare import compare
    fake_runner(monkeypatch, {"a": 1, "b": 1})
    out = tmp_path / "cmp"
    compare(["a.toml", "b.toml"], out=out, trials=200, progress=False)
    before = (out / "comparison.csv").read_bytes()
    fake_runner(monkeypatch, {"a": 1})       # "b" is now unknown: the second run fails
    with pytest.raises(KeyError):
        compare(["a.toml", "b.toml"], out=out, trials=250, progress=False)
    assert (out / "comparison.csv").read_bytes() == before
    assert leftovers(tmp_path) == []


def test_default_compare_folder():
    from sim.compare import default_folder
    assert default_folder(["scenarios/x.toml", "y.toml"]) == Path("results/compare-x-y")
    assert results_module.FILES[0] == "summary.csv"


# --------------------------------------------------------------------------- what --out may replace
def precious_folder(parent: Path) -> Path:
    """A user's folder that is not a results folder."""
    folder = parent / "precious"
    folder.mkdir()
    (folder / "thesis.txt").write_text("years of work")
    return folder


def test_write_refuses_a_folder_that_is_not_a_results_folder(tmp_path):
    from sim.errors import UsageError
    folder = precious_folder(tmp_path)
    with pytest.raises(UsageError, match=f"--out {folder}: the folder is not empty and has no run.json"):
        write_run_folder(build(n_trials=100), folder, plots=False)
    assert (folder / "thesis.txt").read_text() == "years of work"
    assert leftovers(tmp_path) == []


def test_write_replaces_an_earlier_results_folder_only_when_it_holds_nothing_else(tmp_path):
    from sim.errors import UsageError
    results = build(n_trials=100)
    folder = write_run_folder(results, tmp_path / "out", plots=True)
    (folder / "plots" / ".solvency.png.tmp").write_text("a killed run's partial plot")   # poolsim's own
    write_run_folder(results, folder, plots=False)          # a re-run: replaced
    assert not (folder / "plots").exists()
    (folder / "memo.txt").write_text("mine")
    (folder / "analysis").mkdir()
    with pytest.raises(UsageError, match=r"also holds what poolsim did not write \(analysis/, memo.txt\), "
                                         r"which writing would delete"):
        write_run_folder(results, folder, plots=False)
    assert (folder / "memo.txt").read_text() == "mine" and (folder / "analysis").is_dir()
    assert (folder / "summary.csv").is_file() and leftovers(tmp_path) == []


def test_write_refuses_a_file_and_a_path_through_a_file(tmp_path):
    from sim.errors import UsageError
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    with pytest.raises(UsageError, match="exists and is not a folder"):
        write_run_folder(build(n_trials=100), file, plots=False)
    with pytest.raises(UsageError, match=f"{file} is a file, not a folder"):
        write_run_folder(build(n_trials=100), file / "out", plots=False)
    assert file.read_text() == "mine"
    assert leftovers(tmp_path) == []


def test_write_refuses_the_current_folder_even_a_results_folder(tmp_path, monkeypatch):
    from sim.errors import UsageError
    folder = write_run_folder(build(n_trials=100), tmp_path / "out", plots=False)
    monkeypatch.chdir(folder)
    for out in (".", folder, tmp_path):
        with pytest.raises(UsageError, match="is the current folder or one above it"):
            write_run_folder(build(n_trials=100), out, plots=False)
    assert (folder / "run.json").exists()


def test_write_replaces_an_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    write_run_folder(build(n_trials=100), tmp_path / "empty", plots=False)
    assert (tmp_path / "empty" / "run.json").exists()


def test_swap_checks_the_folder_again_at_the_last_moment(tmp_path):
    """The folder may have been filled by the user while the run was simulating."""
    from sim.errors import UsageError
    staging = tmp_path / "staging"
    staging.mkdir()
    folder = precious_folder(tmp_path)
    with pytest.raises(UsageError, match="has no run.json"):
        results_module.swap_into_place(staging, folder)
    assert (folder / "thesis.txt").exists() and staging.exists()


def test_compare_refuses_a_folder_that_is_not_a_comparison_before_running(tmp_path, monkeypatch):
    from sim.compare import compare
    from sim.errors import UsageError
    calls = fake_runner(monkeypatch, {"a": 1, "b": 1})
    folder = precious_folder(tmp_path)
    with pytest.raises(UsageError, match="has no comparison.json, so it is not a poolsim comparison folder"):
        compare(["a.toml", "b.toml"], out=folder, trials=100, progress=False)
    assert calls == []
    assert (folder / "thesis.txt").exists() and leftovers(tmp_path) == []


def test_compare_replaces_an_earlier_comparison(tmp_path, monkeypatch):
    from sim.compare import compare
    fake_runner(monkeypatch, {"a": 1, "b": 2})
    out = tmp_path / "cmp"
    compare(["a.toml", "b.toml"], out=out, trials=100, progress=False)
    compare(["a.toml", "b.toml"], out=out, trials=150, progress=False)
    assert json.loads((out / "comparison.json").read_text())["trials"] == [150, 150]
    assert leftovers(tmp_path) == []


def test_comparison_plots_are_redrawn_from_the_saved_tables(tmp_path, monkeypatch):
    from sim.compare import compare, redraw_plots
    fake_runner(monkeypatch, {"a": 1, "b": 2})
    out = tmp_path / "cmp"
    compare(["a.toml", "b.toml"], out=out, trials=100, progress=False)
    drawn = sorted(out.rglob("*.png"))
    for path in drawn:
        path.unlink()
    assert sorted(redraw_plots(out)) == drawn
    assert all(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for path in drawn)


SUBSIDISED = '''
premium_subsidy = 0.8
subsidy_rate_cap = 0.01
subsidy_years = 2
'''


def test_a_premium_subsidy_says_who_paid_and_leaves_the_money_alone(tiny_scenario_text, write_scenario):
    """ai_liability (premium rate 2%) gets 80% of its premium paid on a rate of at most 1%, for
    two years: the government pays 0.8 x 1/2 = 40% of that line's premium in years 1 and 2,
    nothing in year 3; robot_liability has no subsidy. The pool's money does not change."""
    import sim
    plain_text = tiny_scenario_text.replace("years = 1", "years = 3")
    text = plain_text.replace('capital_class = "liability"', 'capital_class = "liability"' + SUBSIDISED, 1)
    plain = sim.run(write_scenario(plain_text, "plain.toml"), trials=200, plots=False, progress=False)
    subsidised = sim.run(write_scenario(text, "subsidised.toml"), trials=200, plots=False, progress=False)
    money = ["gross_loss", "ceded_loss", "default_loss", "net_loss", "gross_premium", "ceded_premium",
             "reinstatement_premium", "commission", "capital_end", "solvency_ratio"]
    pd.testing.assert_frame_equal(subsidised.trials[money], plain.trials[money])
    summary = subsidised.summary
    pool = summary[summary["party"] == "pool"].set_index("year", drop=False)
    from sim.exposure import build_exposure     # sums insured are sampled: the line premium from the exposure
    scenario = sim.load(write_scenario(text, "again.toml"))
    line_premium = build_exposure(scenario).line_premium()
    share = 0.4 * line_premium[0] / line_premium.sum()
    for year, expected in ((1, share), (2, share), (3, 0.0)):
        row = pool.loc[year]
        assert row["premium_paid_by_government"] == pytest.approx(expected * row["gross_premium"], rel=1e-12)
        assert row["premium_paid_by_insureds"] == pytest.approx((1 - expected) * row["gross_premium"], rel=1e-12)
    members = summary[(summary["kind"] == "member") & (summary["year"] == 1)]
    assert members["premium_paid_by_government"].sum() == pytest.approx(pool.loc[1, "premium_paid_by_government"],
                                                                        rel=1e-12)
    assert summary.loc[summary["kind"] == "reinsurer", "premium_paid_by_government"].isna().all()
