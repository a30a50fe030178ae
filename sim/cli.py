"""The ``poolsim`` command: a thin shell over the Python API.

Each subcommand parses its arguments and calls one function
(:func:`sim.scenario.check`, :func:`sim.runner.run`,
:func:`sim.compare.compare`, :func:`sim.plots.plot_results`,
:func:`sim.compare.redraw_plots`, :func:`sim.schema.schema_text` or :func:`sim.report.write_report`); anything the
command can do, a notebook can do with one import. The engine is imported
inside the commands that need it, so ``poolsim validate`` and ``--help`` stay
fast and work without it.

Exit status: 0 success, 2 bad input (scenario or arguments), 1 anything else,
130 interrupted.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from . import __version__
from .errors import ScenarioError, UsageError

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

# Columns of the printed summary, in order; those the results lack are skipped.
SUMMARY_COLUMNS = (
    "party", "share", "gross_premium", "expected_net_loss", "net_loss_ratio", "combined_ratio",
    "var_995_net_loss", "mean_solvency_ratio", "prob_solvency_below_100", "prob_ruin",
)
PERCENT_COLUMNS = {"share", "net_loss_ratio", "combined_ratio", "mean_solvency_ratio", "prob_exit",
                   "prob_solvency_below_100", "prob_ruin"}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    arguments = parse_arguments(parser, argv)     # exits 2 with a usage message on bad arguments
    logging.basicConfig(level=logging.DEBUG if arguments.debug else logging.WARNING,
                        format="poolsim: %(levelname)s: %(message)s")
    if not arguments.debug:
        quiet_dask_logs()
    try:
        return arguments.command(arguments)
    except ScenarioError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    except UsageError as error:
        print(f"poolsim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("poolsim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the last line of defence: one clean line
        if arguments.debug:
            raise
        print(f"poolsim: internal error: {type(error).__name__}: {error} "
              "(run with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def quiet_dask_logs() -> None:
    """Dask's ``distributed`` loggers (and their children) at WARNING.

    A local cluster logs some forty INFO lines ("Start Nanny at", its dashboard,
    each worker's memory), which would reach stderr through our root handler.
    ``distributed`` sets its loggers' levels from dask's config when it is first
    imported, which would undo a level set here: so the config says "warning"
    too, through the environment, which the worker processes also read. A user's
    own DASK_LOGGING__DISTRIBUTED is kept.
    """
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    logging.getLogger("distributed").setLevel(logging.WARNING)   # if it is already imported


# ---------------------------------------------------------------- arguments
def parse_arguments(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """``parser.parse_args``, but an unknown option is reported with its command's usage.

    argparse leaves unknown options to the top-level parser, whose usage does not
    show the options of ``run`` or ``compare``: the user would not see what is allowed.
    """
    arguments, unknown = parser.parse_known_args(argv)
    if unknown:
        arguments.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return arguments


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="poolsim",
        description="Monte Carlo simulation of technology-insurance co-insurance pools and their reinsurance.")
    parser.add_argument("--version", action="version", version=f"poolsim {__version__}")
    parser.add_argument("--debug", action="store_true", help="debug logging; tracebacks on internal errors")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command_name")
    commands.required = True

    validate = commands.add_parser("validate", help="check scenario files and list every problem",
                                   description="Check scenario files; exit 0 when all are valid, 2 otherwise.")
    validate.add_argument("files", nargs="+", metavar="FILE", help="scenario files (TOML)")
    validate.set_defaults(command=validate_command, command_parser=validate)

    run = commands.add_parser("run", help="simulate one scenario and write its results folder",
                              description="Simulate a scenario; write results to DIR and print a summary.")
    run.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    run.add_argument("--trials", type=positive_integer, metavar="N", help="override simulation.trials")
    run.add_argument("--seed", type=seed_number, metavar="S", help="override simulation.seed")
    run.add_argument("--out", metavar="DIR", help="results folder (default: results/<scenario file stem>/)")
    run.add_argument("--threads", type=positive_integer, metavar="N", help="threads for the simulation and its tables (default: all cores)")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_integer, metavar="N",
                       help="run on a local Dask cluster of N processes")
    where.add_argument("--scheduler", metavar="ADDRESS", help="connect to a running Dask scheduler")
    run.add_argument("--chunk-trials", type=positive_integer, metavar="N",
                     help="trials per chunk (memory vs overhead; results do not depend on it)")
    run.add_argument("--no-plots", action="store_true", help="do not draw plots")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--export", action="append", choices=("ord", "yelt"), default=[], metavar="ord|yelt",
                     help="also write ord/ (Oasis ORD ept, palt, plt, summary_info) or yelt.parquet (the run's "
                          "catastrophe occurrences) into the results folder; may be repeated")
    run.set_defaults(command=run_command, command_parser=run)

    compare = commands.add_parser("compare", help="run several scenarios on the same seed and compare them",
                                  description="Run scenarios on the same seed (common random numbers); "
                                              "write comparison.csv and comparison plots.")
    compare.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files (at least two)")
    compare.add_argument("--out", metavar="DIR",
                         help="comparison folder (default: results/compare-<stem>-<stem>.../)")
    compare.add_argument("--trials", type=positive_integer, metavar="N", help="override simulation.trials")
    compare.add_argument("--seed", type=seed_number, metavar="S", help="override simulation.seed")
    compare.add_argument("--threads", type=positive_integer, metavar="N", help="numba threads")
    compare.add_argument("--no-progress", action="store_true", help="no progress bar")
    compare.set_defaults(command=compare_command, command_parser=compare)

    optimize = commands.add_parser(
        "optimize", help="search shares and treaty terms for the cheapest structure that keeps every member solvent",
        description="Search the [optimize] table's shares and treaty terms on identical gross losses; write "
                    "candidates.csv, frontier.png and best.toml to DIR.")
    optimize.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML) with an [optimize] table")
    optimize.add_argument("--out", metavar="DIR", help="folder to write (default: results/<scenario file stem>-optimize/)")
    optimize.add_argument("--trials", type=positive_integer, metavar="N", help="override simulation.trials")
    optimize.add_argument("--seed", type=seed_number, metavar="S", help="override simulation.seed")
    optimize.add_argument("--candidates", type=positive_integer, metavar="N", help="override optimize.candidates")
    optimize.add_argument("--threads", type=positive_integer, metavar="N", help="numba threads (default: all cores)")
    on_cluster = optimize.add_mutually_exclusive_group()
    on_cluster.add_argument("--workers", type=positive_integer, metavar="N",
                            help="evaluate the candidates on a local Dask cluster of N processes")
    on_cluster.add_argument("--scheduler", metavar="ADDRESS", help="evaluate them on a running Dask scheduler's")
    optimize.add_argument("--no-progress", action="store_true", help="no progress bar")
    optimize.set_defaults(command=optimize_command, command_parser=optimize)

    plot = commands.add_parser("plot", help="draw the plots again from a results folder",
                               description="Draw the plots of a results folder from its saved tables.")
    plot.add_argument("folder", metavar="RESULTS_DIR",
                      help="a results folder written by poolsim run, or a comparison folder by poolsim compare")
    plot.set_defaults(command=plot_command, command_parser=plot)

    export = commands.add_parser("export", help="write a results folder's occurrences as Oasis ORD tables or a YELT",
                                 description="Write ord/ (ORD ept.csv, palt.csv, plt.csv, summary_info.csv) or "
                                             "yelt.parquet into a one-year results folder, making its run again "
                                             "(same seed, same trials) for the occurrences the folder does not keep.")
    export.add_argument("kind", choices=("ord", "yelt"), metavar="ord|yelt", help="what to write")
    export.add_argument("folder", metavar="RESULTS_DIR", help="a results folder written by poolsim run")
    export.set_defaults(command=export_command, command_parser=export)

    schema = commands.add_parser("schema", help="print the JSON Schema of scenario files",
                                 description="Print the JSON Schema (draft 2020-12) of scenario files, for "
                                             "TOML-aware editors; docs/scenario.schema.json is a copy.")
    schema.add_argument("--markdown", action="store_true",
                        help="print the reference of every key in Markdown instead")
    schema.set_defaults(command=schema_command, command_parser=schema)

    report = commands.add_parser("report", help="write report.html again from a results, comparison or "
                                                "optimisation folder",
                                 description="Write report.html of a results, comparison or optimisation folder "
                                             "again from its saved tables (a comparison's runs too).")
    report.add_argument("folder", metavar="DIR",
                        help="a folder written by poolsim run, poolsim compare or poolsim optimize")
    report.set_defaults(command=report_command, command_parser=report)
    return parser


def positive_integer(text: str) -> int:
    return _integer(text, minimum=1)


def seed_number(text: str) -> int:
    from .scenario import SEED_RANGE    # the range simulation.seed is checked against

    value = _whole_number(text)
    if not SEED_RANGE.accepts(value):
        raise argparse.ArgumentTypeError(f"{value} must be {SEED_RANGE.text}")
    return value


def _integer(text: str, minimum: int) -> int:
    value = _whole_number(text)
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{value} must be >= {minimum}")
    return value


def _whole_number(text: str) -> int:
    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


# ---------------------------------------------------------------- commands
def validate_command(arguments: argparse.Namespace) -> int:
    from .scenario import check

    all_valid = True
    for file in arguments.files:
        scenario, problems = check(file)
        if problems:
            all_valid = False
            print("\n".join(problems))
        else:
            print(f"{file}: ok")
            print_notes(scenario.notes, sys.stdout)
    return EXIT_OK if all_valid else EXIT_BAD_INPUT


def _announce_compilation(quiet: bool) -> None:
    """Say why the first run on a machine is silent for a while: numba compiles the kernels
    (bench/README.md, "Cold start", has the measured figure)."""
    from .kernels.jit import cache_is_warm

    if not quiet and not cache_is_warm():
        print("poolsim: compiling the simulation kernels for this machine "
              "(first run of this version only: 20 to 45 s on 2 cores, by how busy they are)", file=sys.stderr, flush=True)


def run_command(arguments: argparse.Namespace) -> int:
    from .scenario import load

    from .results import check_replaceable

    # Checked here first so that a bad scenario or --out exits 2 in a fraction of a
    # second, before the engine (and its numba compilation) is imported.
    scenario = load(arguments.scenario)
    print_notes(scenario.notes, sys.stderr)
    out = arguments.out if arguments.out is not None else default_results_folder(arguments.scenario)
    check_replaceable(out)
    _announce_compilation(arguments.no_progress)
    from .runner import run
    from .warmup import pool_kernels_compiled_aside

    local_one_year = scenario.simulation.years == 1 and arguments.workers is None and arguments.scheduler is None
    with pool_kernels_compiled_aside(arguments.scenario, local_one_year):
        results = run(arguments.scenario, trials=arguments.trials, seed=arguments.seed, out=out,
                      threads=arguments.threads, workers=arguments.workers, scheduler=arguments.scheduler,
                      chunk_trials=arguments.chunk_trials, plots=not arguments.no_plots,
                      progress=not arguments.no_progress)
    summary = getattr(results, "summary", None)
    if summary is not None:
        print(format_summary(summary))
    treaties = getattr(results, "treaties", None)
    if treaties is not None and len(treaties):
        print(f"\n{format_treaties(treaties)}")
    folder = _first_attribute(results, ('folder',)) or out
    print(f"\nresults: {folder}")
    print(f"report: {Path(folder) / 'report.html'}")
    if arguments.export:
        from .exports import export
        from .runner import with_overrides

        for written in export(folder, arguments.export, with_overrides(scenario, arguments.trials, arguments.seed)):
            print(f"export: {written}")
    return EXIT_OK


def export_command(arguments: argparse.Namespace) -> int:
    from .exports import export

    folder = Path(arguments.folder)
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such results folder (write one with poolsim run)")
    _announce_compilation(False)
    for written in export(folder, [arguments.kind]):
        print(f"export: {written}")
    return EXIT_OK


def compare_command(arguments: argparse.Namespace) -> int:
    from .scenario import load

    if len(arguments.scenarios) < 2:
        raise UsageError("compare needs at least two scenario files")
    problems = []
    seeds = {}
    for path in arguments.scenarios:       # every file's problems, before any simulation
        try:
            scenario = load(path)
        except ScenarioError as error:
            problems.extend(error.problems)
            continue
        print_notes(scenario.notes, sys.stderr)
        seeds[path] = scenario.simulation.seed
    if problems:
        raise ScenarioError(problems)
    first = arguments.scenarios[0]
    others = [f"{path} sets {seed}" for path, seed in seeds.items() if seed != seeds[first]]
    if arguments.seed is None and others:
        print(f"poolsim: note: every scenario runs on seed {seeds[first]}, the first one's, so that all see the "
              f"same losses ({'; '.join(others)}); --seed chooses another", file=sys.stderr)
    from .compare import compare, output_folder, structure_labels, unique_stems

    output_folder(arguments.scenarios, arguments.out)      # a bad --out exits 2 before any simulation
    _announce_compilation(arguments.no_progress)

    result = compare(arguments.scenarios, out=arguments.out, trials=arguments.trials, seed=arguments.seed,
                     threads=arguments.threads, progress=not arguments.no_progress)
    runs = getattr(result, "runs", None) or []
    for path, results in zip(arguments.scenarios, runs):
        print(f"\n{results.name} ({path})\n{format_summary(results.summary)}")
    if len(runs) > 1:
        labels = structure_labels(runs, unique_stems(arguments.scenarios))
        print(f"\n{format_side_by_side([results.summary for results in runs], labels)}")
        print(f"\n{format_treaty_costs_side_by_side(runs, labels)}")
    folder = _first_attribute(result, ("folder",)) or arguments.out
    if folder is not None:
        print(f"comparison: {folder}")
    return EXIT_OK


def optimize_command(arguments: argparse.Namespace) -> int:
    from .optimize_output import check_folder, default_folder, report
    from .optimize_space import IGNORED_BY_RUN
    from .scenario import load

    notes = [note for note in load(arguments.scenario).notes if not note.endswith(IGNORED_BY_RUN)]
    print_notes(notes, sys.stderr)
    out = arguments.out if arguments.out is not None else default_folder(arguments.scenario)
    check_folder(out)
    _announce_compilation(arguments.no_progress)
    from .optimize_search import optimize

    found = optimize(arguments.scenario, out=out, trials=arguments.trials, seed=arguments.seed,
                     candidates=arguments.candidates, threads=arguments.threads, workers=arguments.workers,
                     scheduler=arguments.scheduler, progress=not arguments.no_progress)
    print(report(found))
    print(f"\noptimisation: {found.folder}")
    return EXIT_OK


def plot_command(arguments: argparse.Namespace) -> int:
    from .compare import COMPARISON_RECORD, is_comparison_folder, redraw_plots
    from .plots import plot_results
    from .results import RUN_RECORD

    folder = Path(arguments.folder)
    if not folder.exists():
        raise UsageError(f"{folder}: no such results folder (write one with poolsim run)")
    if not folder.is_dir():
        raise UsageError(f"{folder}: is a file, not a folder; give a folder written by poolsim run or poolsim compare")
    if is_comparison_folder(folder):
        written = redraw_plots(folder)
    elif (folder / RUN_RECORD).is_file():
        written = plot_results(folder)
    else:
        raise UsageError(f"{folder}: not a results folder (it has no {RUN_RECORD} or {COMPARISON_RECORD}); "
                         f"give a folder written by poolsim run or poolsim compare")
    for plots_folder in dict.fromkeys(path.parent for path in written):
        print(f"plots: {plots_folder}")
    return EXIT_OK


def schema_command(arguments: argparse.Namespace) -> int:
    from .schema import markdown, schema_text

    sys.stdout.write(markdown() if arguments.markdown else schema_text())
    return EXIT_OK


def report_command(arguments: argparse.Namespace) -> int:
    from .report import write_report

    for page in write_report(arguments.folder):
        print(f"report: {page}")
    return EXIT_OK


# ---------------------------------------------------------------- printing
def print_notes(notes, stream) -> None:
    """A scenario's notes (valid, but probably not meant), one a line."""
    for note in notes:
        print(note, file=stream)


def format_summary(summary) -> str:
    """The summary DataFrame as a compact table: money with thousands separators, ratios in %.

    A multi-year summary prints its whole-horizon rows, then each party's mean
    solvency ratio year by year over the paths in which it writes business that
    year (every per-year figure is in summary.csv).
    """
    if "year" in summary.columns and summary["year"].notna().any():
        horizon = _format_table(summary[summary["year"].isna()], SUMMARY_COLUMNS + ("prob_exit",))
        horizon += _beyond_the_columns(summary[summary["year"].isna()], " in some year")
        # Members and the pool, every year: a year in which none holds risk shows empty, not missing.
        by_year = summary[summary["year"].notna() & (summary["kind"] != "reinsurer")]
        ratios = by_year.pivot(index="party", columns="year", values="mean_solvency_ratio")
        ratios = ratios.reindex([p for p in summary["party"].drop_duplicates() if p in ratios.index])
        ratios.columns = [f"year {int(year)}" for year in ratios.columns]
        ratios = ratios.apply(lambda column: column.map(lambda value: _format(value, "{:.1%}")))
        return (f"{horizon}\n\nmean solvency ratio by year (paths in which the member is in the pool that "
                f"year; run-off after an exit left out)\n"
                f"{_table_text(ratios.rename_axis(None))}")
    return _format_table(summary, SUMMARY_COLUMNS) + _beyond_the_columns(summary)


def format_side_by_side(summaries, labels) -> str:
    """The pool and its members across the compared structures, on the same losses: what each
    risks (P(ratio < 100%), the 1% quantile of its ratio) and what the structure costs it (the
    expected net result, and its change from the first structure). A multi-year run gives its
    whole-horizon rows. Then, per structure, the members below 100% in more than 0.5% of trials."""
    import pandas as pd

    def kept(summary):
        if "year" in summary.columns:
            summary = summary[summary["year"].isna()]
        return summary[summary["kind"] != "reinsurer"].set_index("party")

    tables = [kept(summary) for summary in summaries]
    first = tables[0]
    rows, verdicts = [], []
    parties = list(dict.fromkeys(party for table in tables for party in table.index))
    for party in parties:
        for label, table in zip(labels, tables):
            if party not in table.index:
                continue
            row = table.loc[party]
            result = row["expected_net_result"]
            change = result - first.loc[party, "expected_net_result"] if party in first.index else float("nan")
            rows.append({"party": party, "structure": label,
                         "P(ratio < 100%)": _format(row["prob_solvency_below_100"], "{:.2%}"),
                         "ratio, 1% quantile": _format(row["solvency_ratio_p01"], "{:.1%}"),
                         "expected net result": _format(result, "{:,.0f}"),
                         "vs the first": "" if label == labels[0] else _format(change, "{:+,.0f}")})
    for label, table in zip(labels, tables):
        members = table[table["kind"] == "member"]
        below = members[members["prob_solvency_below_100"] > 0.005]["prob_solvency_below_100"]
        verdicts.append(f"{label}: " + (", ".join(f"{party} ({value:.2%})" for party, value in below.items())
                                        if len(below) else "none"))
    return ("side by side, on the same losses (a multi-year run: its whole horizon)\n"
            + _table_text(pd.DataFrame(rows), index=False)
            + "\nmembers below 100% in more than 0.5% of trials:\n  " + "\n  ".join(verdicts))


def yearly_average(treaties):
    """treaties.csv with one row per treaty: a multi-year run's rows averaged over its years."""
    if "year" not in treaties.columns:
        return treaties
    averaged = treaties.groupby(["cedant", "treaty", "type"], sort=False, as_index=False).mean(numeric_only=True)
    # a ratio of the averages, not an average of the yearly ratios
    premium = averaged["ceded_premium"] + averaged["reinstatement_premium"]
    averaged["ceded_loss_ratio"] = (averaged["expected_ceded_loss"] / premium).where(premium > 0)
    return averaged


def format_treaties(treaties) -> str:
    """What each treaty costs its cedant (treaties.csv), money with thousands separators,
    probabilities in %. A multi-year run shows each treaty's yearly average over the horizon."""
    table = yearly_average(treaties)
    note = " (yearly averages over the horizon; treaties.csv has each year)" if "year" in treaties.columns else ""
    shown = {
        "cedant": None, "treaty": None, "type": None,
        "ceded_premium": "{:,.0f}", "reinstatement_premium": "{:,.0f}", "commission": "{:,.0f}",
        "expected_recovery": "{:,.0f}", "expected_default_loss": "{:,.0f}", "cost": "{:,.0f}",
        "prob_attach": "{:.2%}", "prob_exhaust": "{:.2%}", "ceded_loss_ratio": "{:.1%}",
    }
    table = table.assign(expected_recovery=table["expected_ceded_loss"] - table["expected_default_loss"])
    text = table[list(shown)].copy()
    for column, pattern in shown.items():
        if pattern is not None:
            text[column] = text[column].map(lambda value, pattern=pattern: _format(value, pattern))
    text.columns = ["cedant", "treaty", "type", "ceded premium", "reinst. premium", "commission",
                    "expected recovery", "lost to defaults", "cost", "P(attach)", "P(exhaust)", "ceded LR"]
    return (f"what each treaty costs its cedant{note}: cost = premium + reinstatement premium - commission "
            "- expected recovery net of defaults\n" + _table_text(text, index=False))


def format_treaty_costs_side_by_side(runs, labels) -> str:
    """Each treaty's cost across the compared structures, then per structure the total cost of
    reinsurance next to the worst member's P(ratio < 100%) and its change from the first."""
    import pandas as pd

    costs, totals = {}, []
    first_worst = None
    for label, results in zip(labels, runs):
        treaties = getattr(results, "treaties", None)
        if treaties is None:
            continue
        treaties = yearly_average(treaties)
        for cedant, treaty, cost in zip(treaties["cedant"], treaties["treaty"], treaties["cost"]):
            costs.setdefault((cedant, treaty), {})[label] = _format(cost, "{:,.0f}")
        summary = results.summary
        if "year" in summary.columns:
            summary = summary[summary["year"].isna()]
        worst = summary.loc[summary["kind"] == "member", "prob_solvency_below_100"].max()
        first_worst = worst if first_worst is None else first_worst
        totals.append({"structure": label, "total cost of reinsurance": _format(treaties["cost"].sum(), "{:,.0f}"),
                       "worst member's P(ratio < 100%)": _format(worst, "{:.2%}"),
                       "vs the first": "" if label == labels[0] else _format(worst - first_worst, "{:+.2%}")})
    rows = [{"cedant": cedant, "treaty": treaty, **{label: by_label.get(label, "") for label in labels}}
            for (cedant, treaty), by_label in costs.items()]
    by_treaty = _table_text(pd.DataFrame(rows), index=False) if rows else "(no treaties)"
    return ("cost of each treaty to its cedant, on the same losses (a multi-year run: yearly average)\n"
            + by_treaty + "\n\n" + _table_text(pd.DataFrame(totals), index=False))


def _beyond_the_columns(summary, when: str = "") -> str:
    """Lines under the table for what its columns do not show: the chance that some member
    is below 100% or ruined (the pool row's own ratio is of the members' capital summed, so
    it can be well above 100% while a small member is below), and each reinsurer's chance of
    default. Empty when the summary lacks those columns."""
    if "kind" not in summary.columns:
        return ""
    lines = []
    pool = summary[summary["kind"] == "pool"]
    if len(pool) and {"prob_any_member_below_100", "prob_any_member_ruin"} <= set(summary.columns):
        row = pool.iloc[0]
        lines.append(f"some member below 100%{when}: {_format(row['prob_any_member_below_100'], '{:.2%}')}; "
                     f"some member ruined{when}: {_format(row['prob_any_member_ruin'], '{:.2%}')} "
                     "(the pool row's ratio is of the members' capital summed)")
    reinsurers = summary[summary["kind"] == "reinsurer"]
    if len(reinsurers) and "prob_default" in summary.columns:
        lines.append(f"reinsurer default probability{when}: " + ", ".join(
            f"{party} {_format(probability, '{:.2%}')}"
            for party, probability in zip(reinsurers["party"], reinsurers["prob_default"])))
    return "".join("\n" + line for line in lines)


def _format_table(summary, wanted) -> str:
    columns = [column for column in wanted if column in summary.columns]
    table = summary[columns].copy()
    if "share" in columns and "kind" in summary.columns:
        table.loc[summary["kind"] == "reinsurer", "share"] = float("nan")   # no pool share: blank, not 0.0%
    for column in columns:
        if column == "party":
            continue
        if column in PERCENT_COLUMNS:
            table[column] = table[column].map(lambda value: _format(value, "{:.1%}"))
        else:
            table[column] = table[column].map(lambda value: _format(value, "{:,.0f}"))
    return _table_text(table, index=False)


def _table_text(table, **options) -> str:
    """``table.to_string`` with columns aligned on a terminal when names are Chinese.

    A Chinese character takes two columns of a terminal; pandas counts it as one
    unless told to measure East Asian widths.
    """
    import pandas as pd

    with pd.option_context("display.unicode.east_asian_width", True):
        return table.to_string(**options)


def _format(value, pattern: str) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "" if number != number else pattern.format(number)   # NaN (e.g. a reinsurer's share) -> blank


def default_results_folder(scenario: str) -> str:
    """``results/<scenario file stem>/``, the contract's default for ``run --out``."""
    return os.path.join("results", Path(scenario).stem)


def _first_attribute(value, names):
    for name in names:
        found = getattr(value, name, None)
        if found is not None:
            return found
    return None
