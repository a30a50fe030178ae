"""The ``poolsim`` command: a thin shell over the Python API.

Each subcommand parses its arguments and calls one function
(:func:`sim.scenario.check`, :func:`sim.runner.run`,
:func:`sim.compare.compare`, :func:`sim.plots.plot_results`,
:func:`sim.compare.redraw_plots`, :func:`sim.schema_json.schema_text` or
:func:`sim.report.write_report`), and prints the tables :mod:`sim.text_tables`
formats; anything the command can do, a notebook can do with one import. The
engine is imported inside the commands that need it, so ``poolsim validate``
and ``--help`` stay fast and work without it.

Exit status: 0 success, 2 bad input (scenario or arguments), 1 anything else,
130 interrupted.
"""
from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
from pathlib import Path

from . import __version__
from .errors import ScenarioError, UsageError

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


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
    except OSError as error:
        if arguments.debug:
            raise
        if error.errno != errno.ENOSPC:
            return internal_error(error)
        # A long run's kept columns and tables can fill a disk; the staging folder goes with the error.
        where = f" ({error.filename})" if error.filename else ""
        print(f"poolsim: the disk is full{where}: nothing was written; free some space, or run fewer trials, "
              "or write the results elsewhere (--out)", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception as error:  # noqa: BLE001 - the last line of defence: one clean line
        if arguments.debug:
            raise
        return internal_error(error)


def internal_error(error: Exception) -> int:
    """One clean line for an error poolsim did not foresee."""
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
    run.add_argument("--tables", type=table_names, metavar="LIST",
                     help="per-trial tables to write, comma-separated: trials, line_losses, or none "
                          "(default: both; without trials, no plots or report)")
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


def table_names(text: str) -> tuple[str, ...]:
    """``--tables``: a comma-separated list of per-trial tables, or ``none``."""
    tables = ("trials", "line_losses")      # sim.table_stream.TABLES, without importing the engine
    names = [name.strip() for name in text.split(",") if name.strip()]
    if names == ["none"]:
        return ()
    unknown = [name for name in names if name not in tables]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"{text!r}: choose among {', '.join(tables)}, comma-separated, or none")
    return tuple(names)


def seed_number(text: str) -> int:
    from .scenario_values import SEED_RANGE    # the range simulation.seed is checked against

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
    from .text_tables import run_text
    from .warmup import pool_kernels_compiled_aside

    local_one_year = scenario.simulation.years == 1 and arguments.workers is None and arguments.scheduler is None
    with pool_kernels_compiled_aside(arguments.scenario, local_one_year):
        results = run(arguments.scenario, trials=arguments.trials, seed=arguments.seed, out=out,
                      threads=arguments.threads, workers=arguments.workers, scheduler=arguments.scheduler,
                      chunk_trials=arguments.chunk_trials, plots=not arguments.no_plots,
                      progress=not arguments.no_progress, tables=arguments.tables)
    printed = run_text(results)
    if printed:
        print(printed)
    folder = _first_attribute(results, ('folder',)) or out
    print(f"\nresults: {folder}")
    if (Path(folder) / "report.html").is_file():
        print(f"report: {Path(folder) / 'report.html'}")
    if arguments.export:
        from .chunks import with_overrides
        from .exports import export

        for written in export(folder, arguments.export, with_overrides(scenario, arguments.trials, arguments.seed)):
            print(f"export: {written}")
    return EXIT_OK


def export_command(arguments: argparse.Namespace) -> int:
    from .exports import export
    from .results_folder import existing_folder

    folder = existing_folder(arguments.folder)
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
    from .compare import compare, output_folder
    from .compare_files import structure_labels, unique_stems
    from .text_tables import comparison_text, format_summary

    output_folder(arguments.scenarios, arguments.out)      # a bad --out exits 2 before any simulation
    _announce_compilation(arguments.no_progress)

    result = compare(arguments.scenarios, out=arguments.out, trials=arguments.trials, seed=arguments.seed,
                     threads=arguments.threads, progress=not arguments.no_progress)
    runs = getattr(result, "runs", None) or []
    for path, results in zip(arguments.scenarios, runs):
        print(f"\n{results.name} ({path})\n{format_summary(results.summary)}")
    if len(runs) > 1:
        print(f"\n{comparison_text(runs, structure_labels(runs, unique_stems(arguments.scenarios)))}")
    folder = _first_attribute(result, ("folder",)) or arguments.out
    if folder is not None:
        print(f"comparison: {folder}")
    return EXIT_OK


def optimize_command(arguments: argparse.Namespace) -> int:
    from .optimize_output import check_folder, default_folder, report
    from .optimize_read import IGNORED_BY_RUN
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
    from .compare import redraw_plots
    from .compare_files import COMPARISON_RECORD, is_comparison_folder
    from .plots import plot_results
    from .results import RUN_RECORD
    from .results_folder import existing_folder

    folder = existing_folder(arguments.folder)
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
    from .schema_json import schema_text
    from .schema_markdown import markdown

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


def default_results_folder(scenario: str) -> str:
    """``results/<scenario file stem>/``, the contract's default for ``run --out``."""
    return os.path.join("results", Path(scenario).stem)


def _first_attribute(value, names):
    for name in names:
        found = getattr(value, name, None)
        if found is not None:
            return found
    return None
