"""Streamed tables, kept columns: every figure and table the same, to the bit, as before.

tests/data/run_fingerprints.json holds the fingerprints (tests/run_fingerprint.py) of
results folders written by poolsim before it streamed its tables, when every
column of every trial stayed in memory until the end. Here the same runs are made
with other chunk sizes, thread counts and on Dask, and must give the same files.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.kept_columns import RunningSum

import run_fingerprint

HERE = Path(__file__).parent
STORED = json.loads((HERE / "data" / "run_fingerprints.json").read_text())


def _fingerprint(name: str, tmp_path: Path, **options) -> dict:
    _, trials, seed = run_fingerprint.RUNS[name]
    out = tmp_path / f"{name}-{len(list(tmp_path.iterdir()))}"
    sim.run(run_fingerprint.scenario_for(name, tmp_path), trials=trials, seed=seed, out=out, plots=False,
            progress=False, **options)
    # The kept columns and the spill stay in the staging folder: neither is swapped in with it.
    assert not [path.name for path in out.iterdir() if path.name.startswith(".")]
    return run_fingerprint.folder_fingerprint(out)


def _assert_same(found: dict, stored: dict) -> None:
    for name, prints in stored.items():
        if isinstance(prints, dict):
            differing = [column for column, value in prints.items() if found[name].get(column) != value]
            assert not differing, f"{name}: columns {differing} differ from the stored run's"
        else:
            assert found[name] == prints, f"{name} differs from the stored run's"


@pytest.mark.parametrize("name, chunk_trials", [
    ("full_programme", None), ("full_programme", 333), ("ai_cyber_pool", 1000), ("ai_cyber_pool_var", 256),
    ("five_years", 64), ("single_insurer", 500),
])
def test_streamed_run_equals_the_stored_in_memory_run(tmp_path, name, chunk_trials):
    _assert_same(_fingerprint(name, tmp_path, chunk_trials=chunk_trials), STORED[name])


_CHILD = ("import json, sys; sys.path.insert(0, sys.argv[1]); import run_fingerprint, sim; from pathlib import Path; "
          "name, out = sys.argv[2], Path(sys.argv[3]); _, trials, seed = run_fingerprint.RUNS[name]; "
          "sim.run(run_fingerprint.scenario_for(name, out.parent), trials=trials, seed=seed, out=out, "
          "chunk_trials=200, plots=False, progress=False); "
          "print(json.dumps(run_fingerprint.folder_fingerprint(out)))")


@pytest.mark.parametrize("threads", [1, 2])
def test_thread_count_gives_the_stored_run(tmp_path, threads):
    """2 threads and 10 chunks: chunks two at a time, each on its own thread, finishing in any order."""
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
    done = subprocess.run([sys.executable, "-c", _CHILD, str(HERE), "full_programme", str(tmp_path / "run")],
                          check=True, env=env, capture_output=True, text=True)
    _assert_same(json.loads(done.stdout.strip().splitlines()[-1]), STORED["full_programme"])


def test_dask_cluster_gives_the_stored_run(tmp_path):
    pytest.importorskip("dask.distributed")
    _assert_same(_fingerprint("full_programme", tmp_path, chunk_trials=150, workers=2), STORED["full_programme"])


def test_a_run_without_out_keeps_the_same_tables_in_memory(tmp_path):
    _, trials, seed = run_fingerprint.RUNS["full_programme"]
    results = sim.run(run_fingerprint.RUNS["full_programme"][0], trials=trials, seed=seed, chunk_trials=700,
                      progress=False)
    stored = STORED["full_programme"]
    assert run_fingerprint.table_fingerprint(results.trials) == stored["trials.parquet"]
    _assert_same({"line_losses.parquet": run_fingerprint.table_fingerprint(results.line_losses)},
                 {"line_losses.parquet": stored["line_losses.parquet"]})
    assert results.folder is None
    assert not list(tmp_path.iterdir())


def test_running_sum_adds_as_numpy_sums_a_whole_array():
    rng = np.random.default_rng(3)
    for width in (1, 2, 9):
        values = rng.lognormal(10.0, 3.0, size=(10_001, width))
        running = RunningSum(width)
        for first in range(0, len(values), 777):
            running.add(values[first:first + 777])
        assert np.array_equal(running.mean(len(values))[0], values.mean(axis=0))


def test_tables_option_writes_only_the_tables_chosen(tmp_path):
    out = tmp_path / "summary_only"
    results = sim.run(run_fingerprint.RUNS["full_programme"][0], trials=400, out=out, progress=False, tables=())
    assert not (out / "trials.parquet").exists() and not (out / "line_losses.parquet").exists()
    assert not (out / "plots").exists()
    assert (out / "summary.csv").is_file() and not (out / "report.html").exists()
    record = json.loads((out / "run.json").read_text())
    assert record["tables"] == [] and "report.html" in record["notes"][-1]
    again = sim.results.Results.read(out)
    assert again.trials.empty and again.line_losses.empty
    with pytest.raises(sim.errors.UsageError, match="did not write trials.parquet"):
        again.party_matrix("net_loss")
    pd.testing.assert_frame_equal(again.summary, results.summary, check_dtype=False)
    with pytest.raises(sim.errors.UsageError, match="--tables"):
        sim.run(run_fingerprint.RUNS["full_programme"][0], trials=400, progress=False, tables=["trial"])


def test_kept_columns_refuse_a_member_gross_loss_that_is_not_its_share_of_the_pool():
    """The members' gross columns are kept as the pool's and worked out again: a pool whose
    members' gross loss were something else must stop the run, not change its figures."""
    from sim.chunks import prepare, simulate_chunk
    from sim.kept_columns import KeptColumns
    from sim.metrics import party_net_result
    from sim.pool import treaty_labels

    plan = prepare(sim.load(run_fingerprint.RUNS["full_programme"][0]))
    chunk = simulate_chunk(plan, 0, 50)
    kept = KeptColumns(plan.scenario, plan.parties, 50, len(treaty_labels(plan.scenario)))
    net_result = party_net_result(plan.parties, chunk.arrays)
    kept.add(0, chunk.arrays, chunk.line_loss, net_result)
    for party in range(plan.parties.n_parties):
        np.testing.assert_array_equal(kept.party_column("gross_loss", party), chunk.arrays.gross_loss[:, party],
                                      strict=True)
    chunk.arrays.gross_loss[:, 1] *= 1.0 + 1e-15
    with pytest.raises(RuntimeError, match="no longer their shares"):
        KeptColumns(plan.scenario, plan.parties, 50, len(treaty_labels(plan.scenario))).add(
            0, chunk.arrays, chunk.line_loss, net_result)


def test_only_the_temporary_folders_of_dead_runs_are_removed(tmp_path):
    from sim.results_folder import remove_abandoned_staging

    folder = tmp_path / "results"
    dead = tmp_path / ".results.tmp-999999999-abcd1234"     # no process has that id
    alive = tmp_path / f".results.tmp-{os.getpid()}-abcd1234"
    other = tmp_path / ".results.tmp-12345678"              # another writer's (mkdtemp's random part)
    for path in (dead, alive, other):
        path.mkdir()
    assert remove_abandoned_staging(folder) == [dead]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([alive.name, other.name])


def test_the_plots_of_a_fresh_run_see_the_trials_table_it_wrote(tmp_path, monkeypatch):
    """A fresh run's plots and report read a party's column from the run's kept columns (and a
    folder's, from trials.parquet a party at a time): the same values as the file's rows."""
    import sim.runner
    from sim.kept_columns import HELD_COLUMNS
    from sim.results import Results

    seen = []
    original = sim.runner.finish_run_folder

    def finish_and_compare(results, staging, *args, **kwargs):
        trials = pd.read_parquet(staging / "trials.parquet")
        assert results.held_columns is not None
        for name in HELD_COLUMNS + ("expenses",):
            for party in results.party_names:
                expected = trials.loc[trials["party"] == party, name].to_numpy()
                np.testing.assert_array_equal(results.party_column(name, party), expected, strict=True)
                seen.append(name)
        return original(results, staging, *args, **kwargs)

    monkeypatch.setattr(sim.runner, "finish_run_folder", finish_and_compare)
    out = tmp_path / "run"
    results = sim.run(run_fingerprint.RUNS["full_programme"][0], trials=300, out=out, plots=False, progress=False)
    assert set(seen) == set(HELD_COLUMNS + ("expenses",))
    assert results.held_columns is None
    from_folder = Results.read(out)
    trials = pd.read_parquet(out / "trials.parquet")
    for party in from_folder.party_names:
        np.testing.assert_array_equal(from_folder.party_column("net_loss", party),
                                      trials.loc[trials["party"] == party, "net_loss"].to_numpy(), strict=True)


def test_a_disk_without_room_for_the_kept_columns_stops_the_run_before_it_starts(tmp_path, monkeypatch):
    import collections
    import shutil

    import sim.runner

    out = tmp_path / "results"
    sim.run(run_fingerprint.RUNS["full_programme"][0], trials=200, out=out, plots=False, progress=False)
    before = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10**5, 10**5))
    with pytest.raises(sim.errors.UsageError, match=r"keeps \d+ MB of columns on disk .* 0 MB free"):
        sim.run(run_fingerprint.RUNS["full_programme"][0], trials=20_000, out=out, plots=False, progress=False)
    assert {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["results"], "a temporary folder was left behind"
