"""The command line, run as a user runs it: `python -m sim ...` in a subprocess."""
from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sim.run_folder import write_run_folder
from sim import cli

REPOSITORY = Path(__file__).parent.parent
SCENARIOS = REPOSITORY / "scenarios"


def poolsim(*arguments, cwd=REPOSITORY) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *map(str, arguments)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_validate_valid_files_exits_0(tiny_scenario_path):
    result = poolsim("validate", tiny_scenario_path, *sorted(SCENARIOS.glob("*.toml")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{tiny_scenario_path}: ok" in result.stdout
    assert result.stdout.count(": ok") == 1 + len(list(SCENARIOS.glob("*.toml")))


def test_validate_notes_a_valid_key_that_the_run_would_not_use(write_scenario):
    # A one-year child of the five-year scenario inherits its [dynamics], which it cannot remove.
    child = write_scenario(f'base = "{SCENARIOS / "ai_cyber_five_years.toml"}"\n'
                           '[simulation]\ntrials = 100\nseed = 1\nyears = 1\n', "one_year.toml")
    result = poolsim("validate", child, SCENARIOS / "ai_cyber_five_years.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"{child}: ok",
        f"{SCENARIOS / 'ai_cyber_five_years.toml'} (a base of {child}): note: [dynamics] is used only for its "
        "payment_pattern and recovery_delay_days (the recoveries receivable at the year end, which C-ROSS credit "
        "risk is charged on): simulation.years = 1 is a one-year run; set years > 1 for a multi-year run",
        f"{SCENARIOS / 'ai_cyber_five_years.toml'}: ok"]


def test_validate_bad_file_exits_2_and_lists_problems(tiny_scenario_path, tiny_scenario_text, write_scenario):
    bad = write_scenario(tiny_scenario_text.replace("share = 0.4", "share = 1.2").replace("seed = 7", "seed = -7"),
                         "bad.toml")
    result = poolsim("validate", tiny_scenario_path, bad)
    assert result.returncode == 2
    assert f"{bad}: pool.members[1].share = 1.2 must be within [0, 1]" in result.stdout
    assert f"{bad}: simulation.seed = -7 must be within [0, 2**64 - 1]" in result.stdout
    assert f"{tiny_scenario_path}: ok" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("content", [None, "name = [\n", b"\xff\xfe"])
def test_validate_missing_or_unreadable_file_exits_2(tmp_path, content):
    path = tmp_path / "broken.toml"
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        path.write_bytes(content)
    result = poolsim("validate", path)
    assert result.returncode == 2
    assert str(path) in result.stdout
    assert "Traceback" not in result.stderr + result.stdout


def test_run_bad_scenario_exits_2_and_writes_nothing(tiny_scenario_text, write_scenario, tmp_path):
    bad = write_scenario(tiny_scenario_text.replace("trials = 200", "trials = 0"), "bad.toml")
    out = tmp_path / "out"
    result = poolsim("run", bad, "--out", out)
    assert result.returncode == 2
    assert f"{bad}: simulation.trials = 0 must be >= 1" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_run_missing_scenario_exits_2(tmp_path):
    result = poolsim("run", tmp_path / "nope.toml", "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "no such file" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("arguments", [
    ["run", "x.toml", "--workers", "2", "--scheduler", "tcp://host:8786"],
    ["run", "x.toml", "--trials", "0"],
    ["run", "x.toml", "--trials", "many"],
    ["run", "x.toml", "--seed", "-1"],
    ["compare", "x.toml", "y.toml", "--seed", "18446744073709551616"],
    ["frobnicate"],
    [],
])
def test_bad_arguments_exit_2(arguments):
    result = poolsim(*arguments)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "usage: poolsim" in result.stderr


def test_plot_missing_folder_exits_2(tmp_path):
    result = poolsim("plot", tmp_path / "nothing")
    assert result.returncode == 2
    assert "no such results folder" in result.stderr and "Traceback" not in result.stderr


def test_plot_refuses_a_file_and_a_folder_that_is_not_a_results_folder(tmp_path):
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    result = poolsim("plot", file)
    assert result.returncode == 2
    assert f"poolsim: {file}: is a file, not a folder" in result.stderr
    result = poolsim("plot", tmp_path)
    assert result.returncode == 2
    assert f"poolsim: {tmp_path}: not a results folder (it has no run.json or comparison.json)" in result.stderr
    assert "Traceback" not in result.stderr


def test_plot_redraws_a_comparison_folder(tmp_path, monkeypatch, capsys):
    from sim.compare import compare
    from test_results import fake_runner
    fake_runner(monkeypatch, {"a": 1, "b": 2})
    out = tmp_path / "cmp"
    compare(["a.toml", "b.toml"], out=out, trials=100, progress=False)
    (out / "compare_solvency.png").unlink()
    (out / "a" / "plots" / "solvency.png").unlink()
    capsys.readouterr()
    assert cli.main(["plot", str(out)]) == 0
    assert (out / "compare_solvency.png").exists() and (out / "a" / "plots" / "solvency.png").exists()
    assert capsys.readouterr().out.splitlines() == [f"plots: {out / 'a' / 'plots'}", f"plots: {out / 'b' / 'plots'}",
                                                    f"plots: {out}"]


def test_unknown_option_shows_the_usage_of_its_command(tiny_scenario_path):
    result = poolsim("run", tiny_scenario_path, "--bogus")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: poolsim run ")
    assert "poolsim run: error: unrecognized arguments: --bogus" in result.stderr


def test_seed_beyond_64_bits_exits_2(tiny_scenario_path, tiny_scenario_text, write_scenario, tmp_path):
    result = poolsim("run", tiny_scenario_path, "--seed", 2**64, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "argument --seed: 18446744073709551616 must be within [0, 2**64 - 1]" in result.stderr
    big = write_scenario(tiny_scenario_text.replace("seed = 7", "seed = 18446744073709551616"), "big.toml")
    for command in ("validate", "run"):
        result = poolsim(command, big, *(["--out", tmp_path / "out"] if command == "run" else []))
        assert result.returncode == 2
        assert f"{big}: simulation.seed = 18446744073709551616 must be within [0, 2**64 - 1]" in (
            result.stdout + result.stderr)
    assert not (tmp_path / "out").exists()


def refuse_to_simulate(monkeypatch):
    """Make any simulation fail the test: a bad --out must be found before one starts."""
    import types

    def simulate(*arguments, **options):
        raise AssertionError("simulated although --out would be refused")
    monkeypatch.setitem(sys.modules, "sim.runner", types.SimpleNamespace(run=simulate))


@pytest.mark.parametrize("command", ["run", "compare"])
@pytest.mark.parametrize("out", ["precious", "notes.txt", "."])
def test_out_that_cannot_be_replaced_exits_2_before_simulating(command, out, tiny_scenario_path, tmp_path,
                                                               monkeypatch, capsys):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.txt").write_text("years of work")
    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.chdir(tmp_path)
    refuse_to_simulate(monkeypatch)
    scenarios = [str(tiny_scenario_path)] * (2 if command == "compare" else 1)
    assert cli.main([command, *scenarios, "--out", out, "--no-progress"]) == 2
    error = capsys.readouterr().err
    expected = {"precious": f"poolsim: --out precious: the folder is not empty and has no "
                            f"{'comparison' if command == 'compare' else 'run'}.json",
                "notes.txt": "poolsim: --out notes.txt: exists and is not a folder; choose another --out",
                ".": "poolsim: --out .: is the current folder or one above it"}[out]
    assert error.startswith(expected), error
    assert (tmp_path / "precious" / "thesis.txt").read_text() == "years of work"
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("command", ["run", "compare"])
def test_an_earlier_folder_holding_the_users_own_files_is_refused_before_simulating(
        command, tiny_scenario_path, tmp_path, monkeypatch, capsys):
    # Writing replaces the whole folder: a memo saved into an earlier results (or comparison)
    # folder would be deleted with it.
    earlier = tmp_path / "earlier"
    runs = earlier / "tiny" if command == "compare" else earlier
    (runs / "plots").mkdir(parents=True)
    for name in ("run.json", "summary.csv", "plots/solvency.png"):
        (runs / name).write_text("poolsim's")
    if command == "compare":
        for name in ("comparison.json", "comparison.csv", "compare_solvency.png"):
            (earlier / name).write_text("poolsim's")
    (runs / "memo.txt").write_text("mine")
    (runs / "plots" / "annotated.pdf").write_text("mine too")
    monkeypatch.chdir(tmp_path)
    refuse_to_simulate(monkeypatch)
    scenarios = [str(tiny_scenario_path)] * (2 if command == "compare" else 1)
    assert cli.main([command, *scenarios, "--out", "earlier", "--no-progress"]) == 2
    error = capsys.readouterr().err
    inside = "tiny/" if command == "compare" else ""
    kind = "comparison folder" if command == "compare" else "results folder"
    assert error.startswith(f"poolsim: --out earlier: this earlier poolsim {kind} also holds what poolsim "
                            "did not write"), error
    assert f"({inside}memo.txt, {inside}plots/annotated.pdf)" in error, error
    assert (runs / "memo.txt").read_text() == "mine"


def test_unreachable_scheduler_exits_2(tiny_scenario_path, tmp_path, monkeypatch, capsys):
    pytest.importorskip("dask.distributed")
    from sim import distributed
    monkeypatch.setattr(distributed, "SCHEDULER_CONNECT_SECONDS", 1)
    status = cli.main(["run", str(tiny_scenario_path), "--trials", "100", "--scheduler", "tcp://127.0.0.1:1",
                       "--out", str(tmp_path / "out"), "--no-plots", "--no-progress"])
    assert status == 2
    error = capsys.readouterr().err
    # after the note on 100 trials being few for solvency figures
    assert error.splitlines()[-1].startswith("poolsim: could not connect to the Dask scheduler at "
                                             "tcp://127.0.0.1:1: "), error
    assert "internal error" not in error and not (tmp_path / "out").exists()


def test_more_threads_than_cores_exits_2_with_the_poolsim_prefix(tiny_scenario_path, tmp_path, capsys):
    import numba

    too_many = numba.config.NUMBA_NUM_THREADS + 3
    status = cli.main(["run", str(tiny_scenario_path), "--threads", str(too_many),
                       "--out", str(tmp_path / "out"), "--no-plots", "--no-progress"])
    assert status == 2
    error = capsys.readouterr().err
    assert error.startswith(f"poolsim: --threads = {too_many} must be within "
                            f"[1, {numba.config.NUMBA_NUM_THREADS}]"), error
    assert not (tmp_path / "out").exists()


def test_dask_logs_are_quiet_unless_debug(tiny_scenario_path):
    # distributed sets its loggers' levels when first imported: the level must hold after that
    pytest.importorskip("dask.distributed")
    script = ("import logging, sys\nfrom sim import cli\ncli.main(sys.argv[1:])\nimport distributed\n"
              "print(logging.getLogger('distributed').getEffectiveLevel(), "
              "logging.getLogger('distributed.nanny').getEffectiveLevel())")
    levels = {}
    for options in ([], ["--debug"]):
        result = subprocess.run([sys.executable, "-c", script, *options, "validate", str(tiny_scenario_path)],
                                cwd=REPOSITORY, capture_output=True, text=True, timeout=120,
                                env={key: value for key, value in os.environ.items()
                                     if not key.startswith("DASK_")})
        assert result.returncode == 0, result.stderr
        levels[bool(options)] = result.stdout.splitlines()[-1].split()
    assert levels[False] == [str(logging.WARNING)] * 2
    assert levels[True] == [str(logging.INFO)] * 2


def test_a_run_on_local_dask_workers_does_not_flood_stderr(tiny_scenario_path, tmp_path):
    pytest.importorskip("dask.distributed")
    result = poolsim("run", tiny_scenario_path, "--trials", "200", "--workers", "2", "--out", tmp_path / "out",
                     "--no-plots", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "INFO" not in result.stderr and "Nanny" not in result.stderr, result.stderr


def test_local_dask_workers_ignore_ctrl_c():
    # Ctrl-C in a terminal reaches every process of the foreground group: the parent
    # stops the run and closes the cluster; the workers must not print tracebacks of their own.
    pytest.importorskip("dask.distributed")
    import signal

    from dask.distributed import Client

    from sim import distributed
    cluster = distributed.local_cluster(2)
    try:
        with Client(cluster) as client:
            handlers = client.run(lambda: signal.getsignal(signal.SIGINT))
    finally:
        cluster.close()
    assert list(handlers.values()) == [signal.SIG_IGN] * 2


def test_ctrl_c_during_a_run_on_local_dask_workers_exits_130_without_tracebacks(tmp_path):
    pytest.importorskip("dask.distributed")
    import signal
    import threading
    import time

    # As from a terminal: Python turns SIGINT into KeyboardInterrupt only if it starts with the
    # default handler, and a job started in the background of a script (as CI may) ignores SIGINT.
    as_from_a_terminal = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                          "runpy.run_module('sim', run_name='__main__', alter_sys=True)")
    command = [sys.executable, "-c", as_from_a_terminal, "run", str(SCENARIOS / "ai_cyber_five_years.toml"),
               "--trials", "40000", "--workers", "2", "--out", str(tmp_path / "out"), "--no-plots"]
    # A session of its own, as a terminal's job: SIGINT goes to the whole group, as Ctrl-C does.
    run = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           start_new_session=True)
    err = bytearray()

    def read_stderr():
        for chunk in iter(lambda: run.stderr.read1(4096), b""):
            err.extend(chunk)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    deadline = time.monotonic() + 240
    while b"(dask)" not in err and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)         # the progress bar of the Dask chunks: the workers are up
    assert run.poll() is None, "the run ended before it could be interrupted"
    os.killpg(run.pid, signal.SIGINT)
    assert run.wait(timeout=60) == 130
    reader.join(timeout=10)
    text = err.decode(errors="replace")
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    # nor Dask's errors about the tasks dropped on the way out (a worker's, or the client's)
    assert "ERROR" not in text, text
    assert text.rstrip().endswith("poolsim: interrupted"), text
    assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == [], list(tmp_path.iterdir())


@pytest.fixture(scope="module")
def saved_results(tmp_path_factory):
    from sim.tables import build_results
    from synthetic_results import make_run

    return write_run_folder(build_results(*make_run(n_trials=300)), tmp_path_factory.mktemp("saved") / "run", plots=False)


@pytest.mark.parametrize("file, damage, expected", [
    ("trials.parquet", None, "is missing, so the results folder is incomplete"),
    ("summary.csv", "not,a,summary\n1,2,3\n", "is not a table poolsim wrote: it has no column party, kind, role"),
    ("summary.csv", b"\xff\xfe\x00junk", "cannot be read ("),
    ("trials.parquet", "junk", "cannot be read ("),
    ("ep.csv", "", "cannot be read ("),
    ("run.json", "{ not json", "cannot be read ("),
])
def test_plot_on_a_damaged_results_folder_exits_2_naming_the_file(file, damage, expected, saved_results,
                                                                  tmp_path, capsys):
    import shutil

    folder = tmp_path / "damaged"
    shutil.copytree(saved_results, folder)
    if damage is None:
        (folder / file).unlink()
    elif isinstance(damage, bytes):
        (folder / file).write_bytes(damage)
    else:
        (folder / file).write_text(damage)
    assert cli.main(["plot", str(folder)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"poolsim: {folder / file}: {expected}"), error
    assert "run poolsim run again" in error and "internal error" not in error


def test_compare_needs_valid_scenarios(tiny_scenario_path, tmp_path):
    result = poolsim("compare", tiny_scenario_path, tmp_path / "nope.toml", "--out", tmp_path / "cmp")
    assert result.returncode == 2
    assert "nope.toml: no such file" in result.stderr
    assert not (tmp_path / "cmp").exists()


def test_compare_prints_each_structures_summary(tiny_scenario_path, tmp_path, capsys):
    other = tmp_path / "other.toml"
    other.write_text(tiny_scenario_path.read_text())
    status = cli.main(["compare", str(tiny_scenario_path), str(other), "--trials", "200",
                       "--out", str(tmp_path / "cmp"), "--no-progress"])
    assert status == 0
    printed = capsys.readouterr().out
    # one summary table per structure, headed by its scenario and file, before the folder
    assert printed.count("net_loss_ratio") == 2, printed
    assert f"({tiny_scenario_path})" in printed and f"({other})" in printed
    assert printed.rstrip().endswith(f"comparison: {tmp_path / 'cmp'}")


def test_compare_says_when_it_overrides_a_scenarios_own_seed(tiny_scenario_path, tmp_path, monkeypatch, capsys):
    import sim.compare
    text = tiny_scenario_path.read_text()
    other = tmp_path / "other.toml"
    other.write_text(re.sub(r"(?m)^seed = .*$", "seed = 99", text))
    assert other.read_text() != text
    seeds = []
    monkeypatch.setattr(sim.compare, "compare", lambda paths, **options: seeds.append(options["seed"]))
    assert cli.main(["compare", str(tiny_scenario_path), str(other), "--out", str(tmp_path / "cmp")]) == 0
    error = capsys.readouterr().err
    assert "runs on seed" in error and f"{other} sets 99" in error and seeds == [None]
    # with --seed, or with the same seed, there is nothing to say
    assert cli.main(["compare", str(tiny_scenario_path), str(other), "--seed", "5",
                     "--out", str(tmp_path / "cmp")]) == 0
    assert cli.main(["compare", str(tiny_scenario_path), str(tiny_scenario_path),
                     "--out", str(tmp_path / "cmp")]) == 0
    assert "runs on seed" not in capsys.readouterr().err


@pytest.mark.parametrize("command", [[], ["validate"], ["run"], ["compare"], ["plot"]])
def test_help(command):
    result = poolsim(*command, "--help")
    assert result.returncode == 0
    assert "usage: poolsim" in result.stdout


def test_version():
    result = poolsim("--version")
    assert result.returncode == 0 and result.stdout.strip() == "poolsim 0.1.0"


# ---------------------------------------------------------------- in-process, for the error paths
def test_internal_error_is_one_clean_line(monkeypatch, capsys, tiny_scenario_path):
    def broken(arguments):
        raise RuntimeError("kernel exploded")
    monkeypatch.setattr(cli, "validate_command", broken)
    assert cli.main(["validate", str(tiny_scenario_path)]) == 1
    error = capsys.readouterr().err
    assert error.strip() == ("poolsim: internal error: RuntimeError: kernel exploded "
                             "(run with --debug for the traceback)")


def test_a_full_disk_is_said_as_such_and_leaves_no_half_written_folder(monkeypatch, capsys, tiny_scenario_path,
                                                                       tmp_path):
    import errno
    import os

    import sim.column_store

    def full(descriptor, data, offset):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(sim.column_store.os, "pwrite", full)
    out = tmp_path / "out"
    assert cli.main(["run", str(tiny_scenario_path), "--out", str(out), "--no-plots"]) == 1
    error = capsys.readouterr().err
    assert "poolsim: the disk is full" in error and "internal error" not in error
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_debug_shows_the_traceback(monkeypatch, tiny_scenario_path):
    def broken(arguments):
        raise RuntimeError("kernel exploded")
    monkeypatch.setattr(cli, "validate_command", broken)
    with pytest.raises(RuntimeError):
        cli.main(["--debug", "validate", str(tiny_scenario_path)])


def test_keyboard_interrupt_exits_130(monkeypatch, capsys, tiny_scenario_path):
    def interrupted(arguments):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "validate_command", interrupted)
    assert cli.main(["validate", str(tiny_scenario_path)]) == 130
    assert capsys.readouterr().err.strip() == "poolsim: interrupted"


def test_run_calls_the_runner_with_every_option(monkeypatch, capsys, tiny_scenario_path, tmp_path):
    import types

    import pandas as pd

    calls = []

    def fake_run(path, **options):
        calls.append((path, options))
        summary = pd.DataFrame({"party": ["pool", "Lead P&C"], "kind": ["pool", "member"],
                                "share": [1.0, 0.6], "gross_premium": [1.5e6, 9e5],
                                "net_loss_ratio": [0.55, 0.5], "prob_ruin": [0.001, float("nan")]})
        return types.SimpleNamespace(summary=summary, folder=tmp_path / "out")

    monkeypatch.setitem(sys.modules, "sim.runner", types.SimpleNamespace(run=fake_run))
    status = cli.main(["run", str(tiny_scenario_path), "--trials", "1_000", "--seed", "3", "--out",
                       str(tmp_path / "out"), "--threads", "2", "--workers", "4", "--chunk-trials", "500",
                       "--no-plots", "--no-progress"])
    assert status == 0
    assert calls == [(str(tiny_scenario_path), dict(trials=1000, seed=3, out=str(tmp_path / "out"), threads=2,
                                                    workers=4, scheduler=None, chunk_trials=500, plots=False,
                                                    progress=False, tables=None))]
    printed = capsys.readouterr().out
    assert "1,500,000" in printed and "55.0%" in printed and "kind" not in printed
    assert f"results: {tmp_path / 'out'}" in printed
    calls.clear()
    assert cli.main(["run", str(tiny_scenario_path), "--out", str(tmp_path / "out"), "--tables", "none",
                     "--no-progress"]) == 0
    assert calls[0][1]["tables"] == ()
