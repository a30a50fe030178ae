"""End-to-end runs: the results folder and its checks, conservation of money, reproducibility.

These go through the public API (``sim.run``) and the console script, as a
user would, on a scenario with every treaty type, a member programme and
reinsurers that default often.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim import runner
from sim.errors import ScenarioError, UsageError

import results_checks

DATA = Path(__file__).parent / "data"
FULL = DATA / "full_programme.toml"
LOSS_COLUMNS = ["gross_loss", "ceded_loss", "default_loss", "net_loss", "gross_premium", "ceded_premium",
                "reinstatement_premium", "commission"]


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "full"
    return sim.run(FULL, out=out, progress=False), out


def test_results_folder_passes_the_results_checks(full_run):
    _, out = full_run
    results_checks.assert_valid(out)
    assert results_checks.undocumented(out) == []      # every column is in docs/results.md


def test_money_is_conserved_in_every_trial(full_run):
    results, _ = full_run
    trials = results.trials
    kinds = dict(zip(results.summary["party"], results.summary["kind"]))
    party_kind = trials["party"].astype(str).map(kinds)
    pool_gross = trials[party_kind == "pool"].set_index("trial")["gross_loss"]
    members = trials[party_kind == "member"].groupby("trial")["net_loss"].sum()
    reinsurers = trials[party_kind == "reinsurer"].groupby("trial")["net_loss"].sum()
    residual = pool_gross - members.reindex(pool_gross.index) - reinsurers.reindex(pool_gross.index).fillna(0.0)
    assert np.all(np.abs(residual) <= 1e-9 * np.maximum(pool_gross.abs(), 1.0))
    # The scenario is built so that every mechanism is exercised, or the check above proves little.
    assert (trials.loc[party_kind == "reinsurer", "default_loss"] > 0).any()
    assert (trials.loc[party_kind == "member", "ceded_loss"] > 0).mean() > 0.5


def test_premiums_balance_between_members_and_reinsurers(full_run):
    results, _ = full_run
    trials = results.trials
    kinds = dict(zip(results.summary["party"], results.summary["kind"]))
    party_kind = trials["party"].astype(str).map(kinds)
    members = trials[party_kind == "member"].groupby("trial")[["ceded_premium", "reinstatement_premium"]].sum()
    paid = members.sum(axis=1)
    received = trials[party_kind == "reinsurer"].groupby("trial")["gross_premium"].sum()
    assert np.allclose(paid.to_numpy(), received.reindex(paid.index).to_numpy(), rtol=1e-12, atol=1e-6)


def _run_arrays(**options) -> pd.DataFrame:
    results = sim.run(FULL, progress=False, **options)
    return results.trials.sort_values(["trial", "party"]).reset_index(drop=True)


def test_chunk_size_does_not_change_results():
    one = _run_arrays(trials=900, chunk_trials=900)
    many = _run_arrays(trials=900, chunk_trials=128)
    pd.testing.assert_frame_equal(one, many, check_exact=True)


def test_first_trials_of_a_longer_run_equal_a_shorter_run():
    short = _run_arrays(trials=500)
    long = _run_arrays(trials=1000)
    long = long[long["trial"] < 500].reset_index(drop=True)
    # capital_end and the solvency ratio use run-wide quantiles (C-ROSS catastrophe risk), so
    # the prefix property is about the simulated money of each trial.
    pd.testing.assert_frame_equal(short[["trial", "party"] + LOSS_COLUMNS], long[["trial", "party"] + LOSS_COLUMNS],
                                  check_exact=True)


_DUMP = ("import sys, sim; r = sim.run(sys.argv[1], trials=600, chunk_trials=100, progress=False); "
         "r.trials.to_parquet(sys.argv[2])")


def test_thread_count_does_not_change_results(tmp_path):
    """With 2 threads and 6 chunks the runner works on two chunks at once, one thread each
    (sim.runner._chunks_on_threads); with 1 thread, chunk after chunk."""
    frames = []
    for threads in (1, 2):
        path = tmp_path / f"threads{threads}.parquet"
        env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
        subprocess.run([sys.executable, "-c", _DUMP, str(FULL), str(path)], check=True, env=env)
        frames.append(pd.read_parquet(path))
    pd.testing.assert_frame_equal(frames[0], frames[1], check_exact=True)


def test_dask_cluster_gives_the_in_process_results():
    pytest.importorskip("dask.distributed")
    local = _run_arrays(trials=600, chunk_trials=150)
    on_dask = _run_arrays(trials=600, chunk_trials=150, workers=2)
    pd.testing.assert_frame_equal(local, on_dask, check_exact=True)


def test_pool_structure_never_changes_gross_losses(tmp_path):
    text = FULL.read_text()
    without_reinsurance = text.split("[[pool.reinsurance]]")[0] + "\n".join(
        block for block in text.split("\n\n") if block.startswith("[[reinsurers]]"))
    path = tmp_path / "no_reinsurance.toml"
    path.write_text(without_reinsurance)
    with_programme = sim.run(FULL, trials=400, progress=False).line_losses
    bare = sim.run(path, trials=400, progress=False).line_losses
    pd.testing.assert_frame_equal(with_programme, bare, check_exact=True)


def test_killed_run_leaves_the_earlier_results_untouched(tmp_path):
    out = tmp_path / "results"
    command = [sys.executable, "-m", "sim", "run", str(FULL), "--out", str(out), "--no-plots"]
    subprocess.run(command + ["--trials", "300"], check=True, capture_output=True)
    before = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}
    slow = subprocess.Popen(command + ["--trials", "3000000"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(6.0)
    slow.send_signal(signal.SIGKILL)
    slow.wait()
    after = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}
    assert after == before
    # A run killed outright cannot remove the folder it was streaming its tables into; the next
    # run into the same place does, and leaves nothing else behind.
    left = [p.name for p in tmp_path.iterdir() if p.name != "results"]
    assert all(name.startswith(".results.tmp-") for name in left)
    subprocess.run(command + ["--trials", "200"], check=True, capture_output=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"], "a temporary folder was left behind"


def test_a_long_run_says_what_it_does_after_the_chunks(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "FEW_TRIALS_FOR_SOLVENCY", 0)     # no note on the trial count
    monkeypatch.setattr(runner, "STAGE_MESSAGES_AFTER", 1e9)     # a short run stays quiet
    sim.run(FULL, trials=300, out=tmp_path / "quiet", plots=False, progress=True)
    assert "poolsim:" not in capsys.readouterr().err
    monkeypatch.setattr(runner, "STAGE_MESSAGES_AFTER", 0.0)       # every run counts as long
    sim.run(FULL, trials=300, out=tmp_path / "long", plots=False, progress=True)
    err = capsys.readouterr().err
    assert "300 trials simulated in" in err and "computing the tables" in err
    assert f"writing {tmp_path / 'long'}" in err
    sim.run(FULL, trials=300, out=tmp_path / "silent", plots=False, progress=False)
    assert "poolsim:" not in capsys.readouterr().err


def test_a_one_year_run_too_short_for_its_solvency_figures_says_so(tmp_path, capsys):
    # At 300 trials the 99.5% quantile behind the minimum capital is about the second largest loss.
    sim.run(FULL, trials=300, plots=False, progress=True)
    assert "note: with 300 trials the minimum capital" in capsys.readouterr().err
    sim.run(FULL, trials=300, plots=False, progress=False)     # --no-progress hides the bar, not the note
    assert "note: with 300 trials the minimum capital" in capsys.readouterr().err


# ---------------------------------------------------------------- bad input found before simulating
TINY = DATA / "tiny.toml"


def test_seed_beyond_64_bits_is_refused_and_the_largest_runs():
    with pytest.raises(ScenarioError, match=r"--seed = 18446744073709551616 must be within \[0, 2\*\*64 - 1\]"):
        sim.run(TINY, trials=100, seed=2**64, progress=False)
    largest = sim.run(TINY, trials=100, seed=2**64 - 1, progress=False)
    assert largest.run_info["seed"] == 2**64 - 1


def test_out_that_is_not_a_results_folder_is_refused_before_simulating(tmp_path, monkeypatch):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")

    def must_not_run(*arguments, **options):
        raise AssertionError("simulated although --out would be refused")

    monkeypatch.setattr(runner, "prepare", must_not_run)
    with pytest.raises(UsageError, match="is not empty and has no run.json"):
        sim.run(TINY, trials=100, out=precious, progress=False)
    assert (precious / "thesis.txt").read_text() == "years of work"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["precious"]


def test_unreachable_scheduler_is_bad_input(monkeypatch):
    pytest.importorskip("dask.distributed")
    from sim import distributed
    monkeypatch.setattr(distributed, "SCHEDULER_CONNECT_SECONDS", 1)
    started = time.perf_counter()
    with pytest.raises(UsageError, match=r"could not connect to the Dask scheduler at tcp://127\.0\.0\.1:1: "):
        sim.run(TINY, trials=100, scheduler="tcp://127.0.0.1:1", progress=False)
    assert time.perf_counter() - started < 15
