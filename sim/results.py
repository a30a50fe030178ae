"""The results of a run: tables in memory, and the results folder of the contract.

:func:`build_results` turns the runner's arrays into :class:`Results`;
:meth:`Results.write` saves the folder atomically and :meth:`Results.read`
loads it back. Files (every column is described in docs/results.md):

* ``summary.csv``          one row per party (:func:`sim.metrics.summary`)
* ``trials.parquet``       one row per trial, year and party
* ``line_losses.parquet``  one row per trial, year and line (``claims`` counts ground-up
                           policy losses, those below the deductible too)
* ``ep.csv``               AEP / OEP tables (:func:`sim.metrics.ep_table`)
* ``allocation.csv``       co-TVaR allocation (:func:`sim.metrics.allocation`)
* ``treaties.csv``         what each treaty costs its cedant (:func:`sim.costs.treaty_table`)
* ``run.json``             how the run was made, with every note the run printed (``notes``)
* ``scenario.toml``        the scenario as run (:mod:`sim.scenario_text`), when it came from a file
* ``plots/*.png``          :mod:`sim.plots`
* ``report.html``          one self-contained page of all the above (:mod:`sim.report`)

Trial numbers are the 0-based trial indices of the random streams, so a trial
can be replayed; ``year`` is 1-based.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import math
import os
import secrets
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import costs, metrics, solvency, subsidy
from .event_tables import event_table_record
from .errors import UsageError
from .model import Scenario
from .parties import TREATY_COLUMNS, Parties
from .pool import treaty_labels
from .scenario_text import text_as_run

# trials.parquet columns: the contract's, plus expenses, lead_fee and minimum_capital.
TRIAL_COLUMNS = (
    "trial", "year", "party", "share", "gross_loss", "ceded_loss", "default_loss", "net_loss",
    "gross_premium", "ceded_premium", "reinstatement_premium", "commission", "expenses", "lead_fee",
    "capital_end", "minimum_capital", "solvency_ratio",
)
LINE_COLUMNS = ("trial", "year", "line", "claims", "gross_loss", "capped_loss")
RUN_RECORD = "run.json"     # the file that marks a folder as a results folder
SCENARIO_FILE = "scenario.toml"
REPORT_FILE = "report.html"
FILES = ("summary.csv", "trials.parquet", "line_losses.parquet", "ep.csv", "allocation.csv", "treaties.csv",
         RUN_RECORD, SCENARIO_FILE, REPORT_FILE)
PARTIAL_REPORT = f".{REPORT_FILE}.tmp"     # what a report's writing interrupted leaves (sim.report.write_html)
PLOTS_FOLDER = "plots"
# What `poolsim export` (sim.exports, sim.ord) adds to a results folder.
EXPORT_FILES = ("yelt.parquet",)
EXPORT_FOLDER = "ord"
EXPORT_FOLDER_FILES = ("ept.csv", "palt.csv", "plt.csv", "summary_info.csv")
# The columns Results.read needs of each saved table: the contract's, which the plots use.
READ_COLUMNS = {
    "summary.csv": ("party", "kind", "role"),
    "trials.parquet": ("trial", "year", "party", "share", "gross_loss", "ceded_loss", "default_loss",
                       "net_loss", "gross_premium", "ceded_premium", "reinstatement_premium", "commission",
                       "capital_end", "solvency_ratio"),
    "ep.csv": ("party", "basis", "metric", "return_period", "loss"),
}
REWRITE_HINT = "run poolsim run again to write the folder anew"


def package_version() -> str:
    """The installed poolsim version, or ``"unknown"`` when run from a bare checkout."""
    try:
        from importlib.metadata import version
        return version("poolsim")
    except Exception:       # not installed: the version is informative only
        return "unknown"


@dataclass
class Results:
    """Everything a run produced, as DataFrames (see the module docstring for the files)."""

    name: str                      # scenario name
    run_info: dict[str, Any]
    trials: pd.DataFrame
    line_losses: pd.DataFrame
    summary: pd.DataFrame
    ep: pd.DataFrame
    allocation: pd.DataFrame
    currency: str = "CNY"
    treaties: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=costs.TREATY_TABLE_COLUMNS))
    folder: Path | None = field(default=None, compare=False)   # where it was written or read
    scenario_text: str | None = None   # scenario.toml: the scenario as run (sim.scenario_text)

    # ------------------------------------------------------------------ parties
    @property
    def _party_rows(self) -> pd.DataFrame:
        # A multi-year summary has a row per party and year: the first row of each party.
        return self.summary.drop_duplicates("party")

    @property
    def party_names(self) -> list[str]:
        return list(self._party_rows["party"])

    @property
    def party_kinds(self) -> list[str]:
        return list(self._party_rows["kind"])

    @property
    def years(self) -> int:
        return int(self.trials["year"].max()) if len(self.trials) else 1

    @property
    def n_trials(self) -> int:
        """How many trials (simulated years, or paths of a multi-year run) the trials table holds."""
        trial = self.trials["trial"].to_numpy()
        if np.all(trial[1:] >= trial[:-1]):     # the layout build_results writes: count the changes
            return int(np.count_nonzero(trial[1:] != trial[:-1])) + 1 if len(trial) else 0
        return len(pd.unique(trial))    # hashing: np.unique's sort took 0.9 s at 1,000,000 trials

    def names_of(self, kind: str) -> list[str]:
        """Names of the parties of one kind (pool | member | reinsurer), in party order."""
        return [name for name, k in zip(self.party_names, self.party_kinds) if k == kind]

    def party_matrix(self, column: str, year: int | None = None) -> np.ndarray:
        """One trials column as a ``(n_trials, n_parties)`` array in summary party order.

        ``year`` defaults to the last year. Rows are trials in ascending order.
        For the layout build_results writes (trial-major, parties in order) it is
        a read-only view of the table's column: no copy of a million-trial table.
        """
        trials = self.trials
        names = self.party_names
        n_parties = len(names)
        years = trials["year"].to_numpy()
        year = int(years.max()) if year is None else year
        rows = None if years.min() == years.max() else years == year

        def values_of(name: str) -> np.ndarray:
            values = trials[name].to_numpy()
            return values if rows is None else values[rows]

        party = trials["party"]
        if isinstance(party.dtype, pd.CategoricalDtype) and list(party.cat.categories) == names:
            codes = party.cat.codes.to_numpy()
        else:
            codes = pd.Categorical(party, categories=names).codes
        codes = codes if rows is None else codes[rows]
        values = values_of(column).astype(np.float64, copy=False)
        trial = values_of("trial")
        n_rows = len(values)
        if n_rows % n_parties == 0:
            in_order = (codes.reshape(-1, n_parties) == np.arange(n_parties)).all()
            if in_order and np.all(np.diff(trial[::n_parties]) > 0):
                matrix = values.reshape(-1, n_parties)
                matrix.flags.writeable = False      # a view of the trials table
                return matrix
        trial_numbers, trial_rows = np.unique(trial, return_inverse=True)
        matrix = np.full((len(trial_numbers), n_parties), np.nan)
        matrix[trial_rows, codes] = values
        return matrix

    def party_by_year(self, column: str, party: str) -> np.ndarray:
        """One trials column of one party as ``(n_trials, n_years)``, trials in ascending order."""
        trials = self.trials     # rows of only the columns needed: a row selection copies every column taken
        table = trials.loc[trials["party"] == party, list(dict.fromkeys(["trial", "year", column]))]
        table = table.sort_values(["trial", "year"], kind="stable")
        return table[column].to_numpy(dtype=np.float64).reshape(-1, self.years)

    # ------------------------------------------------------------------ files
    def write(self, folder: str | os.PathLike, plots: bool = True) -> Path:
        """Write the results folder atomically; return its path.

        Everything goes into a temporary sibling folder ``.<name>.tmp-XXXX``
        first; only a complete folder is swapped into place (the earlier one is
        renamed aside, the new one renamed in, the old one deleted). On any
        exception, including KeyboardInterrupt, the temporary folder is removed
        and an earlier complete folder at ``folder`` is left untouched.

        Raises UsageError, before writing anything, when ``folder`` is something
        else than a results folder or an empty folder (see :func:`check_replaceable`).
        """
        folder = Path(folder)
        check_replaceable(folder)
        parent = folder.parent
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=parent))
        try:
            # mkdtemp makes the folder private (0700); results are ordinary files.
            os.chmod(staging, 0o777 & ~current_umask())
            self._write_files(staging, plots)
            swap_into_place(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.folder = folder
        return folder

    def _write_files(self, folder: Path, plots: bool) -> None:
        # trials.parquet on a second thread, while the rest is written and the plots drawn:
        # Arrow encodes it with the GIL released (2.6 s at 1,000,000 trials, the plots 4 s).
        # On an error here, leaving the block still waits for it before the folder is removed.
        # The plots' capture of missing-glyph warnings spans the writer thread's whole life:
        # pandas enters warnings.catch_warnings there, which would undo a capture begun meanwhile.
        legible = contextlib.nullcontext()
        if plots:
            from . import plots as plotting
            legible = plotting.legible_text()
        with legible, ThreadPoolExecutor(max_workers=1, thread_name_prefix="poolsim-write") as writer:
            trials_written = writer.submit(_write_parquet, self.trials, folder / "trials.parquet")
            self.summary.to_csv(folder / "summary.csv", index=False)
            _write_parquet(self.line_losses, folder / "line_losses.parquet")
            self.ep.to_csv(folder / "ep.csv", index=False)
            self.allocation.to_csv(folder / "allocation.csv", index=False)
            self.treaties.to_csv(folder / "treaties.csv", index=False)
            (folder / RUN_RECORD).write_text(json.dumps(_json_safe(self.run_info), indent=2) + "\n")
            if self.scenario_text is not None:
                (folder / SCENARIO_FILE).write_text(self.scenario_text, encoding="utf-8")
            if plots:
                plotting.draw_plots(self, folder / PLOTS_FOLDER)
            from . import report      # the plots just drawn go into it as they are
            report.write_run_report(self, folder, plots_folder=folder / PLOTS_FOLDER if plots else None)
            trials_written.result()

    @classmethod
    def read(cls, folder: str | os.PathLike) -> "Results":
        """Load a results folder written by :meth:`write`.

        Raises UsageError naming the file when one is missing, cannot be read, or
        lacks the columns that the plots and the contract rely on.
        """
        folder = Path(folder)
        run_info = _read_file(folder / RUN_RECORD, lambda path: json.loads(path.read_text(encoding="utf-8")))
        if not isinstance(run_info, dict):
            raise UsageError(f"{folder / RUN_RECORD}: is not the record of a run (a JSON object); "
                             f"{REWRITE_HINT}")
        # Party names such as "NA" must stay strings; only empty fields are missing values.
        csv_options = dict(keep_default_na=False, na_values=[""])

        def read_csv(path: Path) -> pd.DataFrame:
            return pd.read_csv(path, **csv_options)

        summary = _read_table(folder / "summary.csv", read_csv, READ_COLUMNS["summary.csv"])
        summary["role"] = summary["role"].fillna("").astype(str)
        summary["party"] = summary["party"].astype(str)
        allocation_path = folder / "allocation.csv"
        # allocation.csv came after the first results folders: an older one has none
        allocation = (_read_table(allocation_path, read_csv, ()) if allocation_path.exists()
                      else pd.DataFrame(columns=["basis", "component_kind", "component", "contribution",
                                                 "share_of_tvar"]))
        treaties_path = folder / "treaties.csv"
        # treaties.csv came with version 2 of the results folder
        treaties = (_read_table(treaties_path, read_csv, ()) if treaties_path.exists()
                    else pd.DataFrame(columns=costs.TREATY_TABLE_COLUMNS))
        return cls(
            name=str(run_info.get("scenario", folder.name)),
            treaties=treaties,
            run_info=run_info,
            trials=_read_table(folder / "trials.parquet", pd.read_parquet, READ_COLUMNS["trials.parquet"]),
            # capped_loss came with event tables: an older folder has none
            line_losses=_read_table(folder / "line_losses.parquet", pd.read_parquet,
                                    tuple(c for c in LINE_COLUMNS if c != "capped_loss")),
            summary=summary,
            ep=_read_table(folder / "ep.csv", read_csv, READ_COLUMNS["ep.csv"]),
            allocation=allocation,
            currency=str(run_info.get("currency", "CNY")),
            folder=folder,
            scenario_text=(folder / SCENARIO_FILE).read_text(encoding="utf-8")
            if (folder / SCENARIO_FILE).is_file() else None,
        )

    # ------------------------------------------------------------------ plots
    def plot_solvency(self, path: str | os.PathLike | None = None):
        """Solvency-ratio distribution of each member; returns the Figure (saved if ``path``)."""
        from . import plots
        return plots.save(plots.plot_solvency(self), path)

    def plot_loss_ratio(self, path: str | os.PathLike | None = None):
        from . import plots
        return plots.save(plots.plot_loss_ratio(self), path)

    def plot_ep_curve(self, path: str | os.PathLike | None = None):
        from . import plots
        return plots.save(plots.plot_ep_curve(self), path)

    def plot_who_pays(self, path: str | os.PathLike | None = None):
        from . import plots
        return plots.save(plots.plot_who_pays(self), path)


def _read_file(path: Path, read):
    """``read(path)``; a missing or unreadable file is a UsageError naming it."""
    try:
        return read(path)
    except FileNotFoundError:
        raise UsageError(f"{path}: is missing, so the results folder is incomplete; {REWRITE_HINT}") from None
    except (OSError, ValueError) as error:   # pandas, pyarrow and json report bad content as ValueError
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UsageError(f"{path}: cannot be read ({reason}); {REWRITE_HINT}") from None


def _read_table(path: Path, read, columns) -> pd.DataFrame:
    """A saved table, with at least ``columns``; UsageError naming the file otherwise."""
    table = _read_file(path, read)
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise UsageError(f"{path}: is not a table poolsim wrote: it has no column {', '.join(missing)}; "
                         f"{REWRITE_HINT}")
    return table


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_replaceable(folder: str | os.PathLike, marker: str = RUN_RECORD,
                      what: str = "results folder", foreign: Callable[[Path], list[str]] | None = None) -> None:
    """Raise UsageError unless a new folder may be swapped in at ``folder``.

    Writing replaces the whole folder, so ``folder`` must not exist yet, or be
    an empty folder, or be a folder poolsim wrote (it holds ``marker``) and
    nothing else: ``foreign(folder)`` (default :func:`foreign_files`, for a
    results folder) lists what poolsim did not write there. A user's own
    folder given to ``--out`` by mistake, or a memo saved into an earlier
    results folder, is refused, not deleted.
    Cheap: the runner calls it before simulating, so a bad ``--out`` costs no
    simulation, and :func:`swap_into_place` calls it again at the last moment.
    """
    folder = Path(folder)
    _check_no_file_on_the_way(folder)
    if _is_current_folder_or_above(folder):
        raise UsageError(f"--out {folder}: is the current folder or one above it, which poolsim cannot "
                         f"replace; choose a sub-folder such as results/<name>")
    if not os.path.lexists(folder):
        return
    if not folder.is_dir():
        raise UsageError(f"--out {folder}: exists and is not a folder; choose another --out")
    if not any(folder.iterdir()):
        return
    if not (folder / marker).is_file():
        raise UsageError(f"--out {folder}: the folder is not empty and has no {marker}, so it is not a poolsim "
                         f"{what}, and writing would delete it; choose a new or empty folder")
    others = (foreign or foreign_files)(folder)
    if others:
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        raise UsageError(f"--out {folder}: this earlier poolsim {what} also holds what poolsim did not write "
                         f"({shown}), which writing would delete; move it out, or choose another --out")


def foreign_files(folder: Path) -> list[str]:
    """What a results folder holds that poolsim does not write there: the names, sorted,
    ``name/`` for a folder (:func:`listed`)."""
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name in FILES + (PARTIAL_REPORT,) and entry.is_file():
            continue
        if entry.name == PLOTS_FOLDER and entry.is_dir():
            found += [f"{PLOTS_FOLDER}/{listed(plot)}" for plot in sorted(entry.iterdir()) if not is_plot_file(plot)]
            continue
        if entry.name in EXPORT_FILES and entry.is_file():     # poolsim export, or run --export (sim.exports)
            continue
        if entry.name == EXPORT_FOLDER and entry.is_dir():
            found += [f"{EXPORT_FOLDER}/{listed(table)}" for table in sorted(entry.iterdir())
                      if table.name not in EXPORT_FOLDER_FILES]
            continue
        found.append(listed(entry))
    return found


def is_plot_file(path: Path) -> bool:
    """A PNG poolsim writes, or the temporary file of one that a killed run left (``.<name>.png.tmp``)."""
    return path.is_file() and (path.suffix == ".png" or path.name.endswith(".png.tmp"))


def listed(path: Path) -> str:
    """``path``'s name as a message lists it: ``name/`` for a folder."""
    return path.name + ("/" if path.is_dir() else "")


def _check_no_file_on_the_way(folder: Path) -> None:
    # Creating the folder would fail deep inside the writer with an obscure error.
    for ancestor in folder.absolute().parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise UsageError(f"--out {folder}: {ancestor} is a file, not a folder; choose another --out")
            return


def _is_current_folder_or_above(folder: Path) -> bool:
    # The swap renames the old folder aside: the current folder cannot be renamed
    # ("Device or resource busy"), and deleting one above it would delete the user's work.
    try:
        here = Path.cwd().resolve()
    except OSError:         # the current folder was deleted: nothing of it to protect
        return False
    target = folder.resolve()
    return target == here or target in here.parents


def swap_into_place(staging: Path, folder: Path, marker: str = RUN_RECORD, what: str = "results folder",
                    foreign: Callable[[Path], list[str]] | None = None) -> None:
    """Replace ``folder`` by the complete ``staging`` folder, keeping the old one until the end.

    ``folder`` is checked again here (:func:`check_replaceable`): it may have
    changed while the run was simulating.
    """
    check_replaceable(folder, marker, what, foreign)
    if not os.path.lexists(folder):
        os.replace(staging, folder)
        return
    aside = folder.parent / f".{folder.name}.old-{secrets.token_hex(4)}"
    os.replace(folder, aside)
    try:
        os.replace(staging, folder)
    except BaseException:
        os.replace(aside, folder)       # put the earlier complete folder back
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` with dictionary encoding for its name columns only.

    Parquet's default tries a dictionary for every column and gives up on
    float columns only once the dictionary is full, which tripled the time to
    write a million-row trials table and saved no space: amounts rarely repeat.
    """
    names = [column for column in frame.columns if not pd.api.types.is_numeric_dtype(frame[column])]
    frame.to_parquet(path, index=False, use_dictionary=names)


def _json_safe(value):
    """run_info as JSON: numpy scalars to Python, paths to text, non-finite floats to text."""
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


# --------------------------------------------------------------------------- building
def run_record(scenario: Scenario, run_info: dict[str, Any]) -> dict[str, Any]:
    """run.json content: the runner's ``run_info`` with the contract's keys filled in.

    Keys: scenario (the scenario's name), sha256, seed, trials, years, version,
    wall_seconds, threads, currency, regime, notes (every note the run printed:
    the scenario's, and the runner's), finished (UTC, ISO 8601) (and whatever else
    the runner recorded, ``name`` included).
    """
    record = dict(run_info)
    record["scenario"] = record.get("scenario") or record.get("name") or scenario.name
    record.setdefault("sha256", scenario.sha256)
    record.setdefault("seed", scenario.simulation.seed)
    record.setdefault("trials", scenario.simulation.trials)
    record.setdefault("years", scenario.simulation.years)
    record.setdefault("version", package_version())
    record.setdefault("wall_seconds", None)
    record.setdefault("threads", None)
    record.setdefault("currency", scenario.currency)
    record.setdefault("regime", scenario.solvency.regime)
    record.setdefault("notes", list(scenario.notes))
    record.setdefault("event_tables", event_table_record(scenario))
    record.setdefault("finished", datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    return record


def trials_table(parties: Parties, arrays: dict[str, np.ndarray], outcome: solvency.SolvencyOutcome,
                 year: int = 1) -> pd.DataFrame:
    """trials.parquet as a DataFrame, built column-wise with numpy (no per-row Python).

    Rows are trial-major: trial 0's parties in party order, then trial 1's, ...

    Parameters
    ----------
    arrays : dict of (n_trials, n_parties)
    outcome : the solvency of every party
    """
    n_trials, n_parties = arrays["net_loss"].shape
    codes = np.tile(np.arange(n_parties, dtype=np.int32), n_trials)
    columns: dict[str, Any] = {
        "trial": np.repeat(np.arange(n_trials, dtype=np.int64), n_parties),
        "year": np.full(n_trials * n_parties, year, dtype=np.int32),
        "party": pd.Categorical.from_codes(codes, categories=list(parties.names)),
        "share": np.tile(np.asarray(parties.share, dtype=np.float64), n_trials),
    }
    for key in ("gross_loss", "ceded_loss", "default_loss", "net_loss", "gross_premium", "ceded_premium",
                "reinstatement_premium", "commission", "expenses", "lead_fee"):
        columns[key] = np.ascontiguousarray(arrays[key], dtype=np.float64).ravel()
    columns["capital_end"] = outcome.capital_end.ravel()
    columns["minimum_capital"] = outcome.minimum_capital.ravel()
    columns["solvency_ratio"] = outcome.solvency_ratio.ravel()
    # copy=False: the amount columns stay views of the run's arrays (ravel of a C-contiguous
    # array), instead of pandas stacking them into a second copy: 0.9 GB at 1,000,000 trials.
    return pd.DataFrame(columns, columns=list(TRIAL_COLUMNS), copy=False)


def line_losses_table(line_names, line_loss: np.ndarray, line_claims: np.ndarray, year: int = 1,
                      capped_loss: np.ndarray | None = None) -> pd.DataFrame:
    """line_losses.parquet as a DataFrame; ``line_loss``, ``line_claims`` and ``capped_loss`` (what
    policy limits cut from event-table losses; None: 0) are ``(n_trials, n_lines)``."""
    n_trials, n_lines = line_loss.shape
    if capped_loss is None:
        capped_loss = np.zeros_like(line_loss, dtype=np.float64)
    return pd.DataFrame({
        "trial": np.repeat(np.arange(n_trials, dtype=np.int64), n_lines),
        "year": np.full(n_trials * n_lines, year, dtype=np.int32),
        "line": pd.Categorical.from_codes(np.tile(np.arange(n_lines, dtype=np.int32), n_trials),
                                          categories=list(line_names)),
        "claims": np.ascontiguousarray(line_claims, dtype=np.int64).ravel(),
        "gross_loss": np.ascontiguousarray(line_loss, dtype=np.float64).ravel(),
        "capped_loss": np.ascontiguousarray(capped_loss, dtype=np.float64).ravel(),
    }, columns=list(LINE_COLUMNS), copy=False)


def build_results(scenario: Scenario, parties: Parties, arrays: dict[str, np.ndarray],
                  line_loss: np.ndarray, line_claims: np.ndarray, run_info: dict[str, Any], *,
                  release_columns: bool = False, threads: int = 1,
                  capped_loss: np.ndarray | None = None) -> Results:
    """Turn a one-year run's arrays into :class:`Results`.

    Parameters
    ----------
    scenario : the scenario run
    parties : Parties (party 0 the pool, then members, then reinsurers)
    arrays : dict of (n_trials, n_parties) float64, every key of ``PARTY_COLUMNS``
    line_loss : (n_trials, n_lines) float64 gross loss by line
    line_claims : (n_trials, n_lines) int64 policy losses by line
    run_info : name, sha256, seed, trials, years, version, wall_seconds, threads, ...
    release_columns : drop each column from ``arrays`` as soon as no table still to be built
        needs it (for the runner, whose arrays are its own: 72 MB a column at 1,000,000 trials)
    threads : the EP curves and the summary's statistics are worked out on this many threads
        (the same numbers)
    capped_loss : (n_trials, n_lines) float64, what policy limits cut from event-table losses
        (None: 0)
    """
    if len(set(parties.names)) != len(parties.names):
        repeated = sorted({name for name in parties.names if parties.names.count(name) > 1})
        raise ValueError(f"party names must be unique across the pool, members and reinsurers; "
                         f"repeated: {repeated}. Rename the member or the reinsurer.")

    def release(*names: str) -> None:
        if release_columns:
            for name in names:
                arrays.pop(name, None)

    line_names = [line.name for line in scenario.lines]
    # In this order, each table after the columns it alone needs: the peak of a run is here.
    ep = metrics.ep_table(parties, arrays, threads=threads)
    release("max_occurrence_gross", "max_occurrence_net")
    outcome = solvency.assess(scenario, parties, arrays)
    release("cat_loss_after_proportional", "cat_xl_recovery", "credit_exposure")
    summary = metrics.summary(parties, arrays, outcome.capital_start, outcome.capital_end,
                              outcome.solvency_ratio, outcome.minimum_capital, net_result=outcome.net_result,
                              threads=threads)
    release("defaulted")
    summary = subsidy.add_premium_payers(summary, scenario, parties)
    allocation = metrics.allocation(parties, arrays, line_loss, line_names)
    treaties = costs.treaty_table(treaty_labels(scenario), arrays)
    release(*TREATY_COLUMNS)
    return Results(
        name=scenario.name,
        run_info=run_record(scenario, run_info),
        trials=trials_table(parties, arrays, outcome),
        line_losses=line_losses_table(line_names, line_loss, line_claims, capped_loss=capped_loss),
        summary=summary,
        ep=ep,
        allocation=allocation,
        currency=scenario.currency,
        treaties=treaties,
        scenario_text=text_as_run(scenario),
    )


# --------------------------------------------------------------------------- multi-year
# Extra trials.parquet columns of multi-year runs (sim.dynamics).
MULTI_YEAR_TRIAL_COLUMNS = ("active", "paid_loss", "outstanding_loss", "recoverable", "member_default_loss",
                            "capital_start")


def multi_year_trials_table(parties: Parties, arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    """trials.parquet of a multi-year run: rows by trial, then year, then party.

    ``arrays`` are ``(n_trials, n_years, n_parties)``; ``share`` is each member's share that year.
    """
    n_trials, n_years, n_parties = arrays["net_loss"].shape
    n_rows = n_trials * n_years * n_parties
    codes = np.tile(np.arange(n_parties, dtype=np.int32), n_trials * n_years)
    columns: dict[str, Any] = {
        "trial": np.repeat(np.arange(n_trials, dtype=np.int64), n_years * n_parties),
        "year": np.tile(np.repeat(np.arange(1, n_years + 1, dtype=np.int32), n_parties), n_trials),
        "party": pd.Categorical.from_codes(codes, categories=list(parties.names)),
    }
    for key in TRIAL_COLUMNS[3:] + MULTI_YEAR_TRIAL_COLUMNS:
        columns[key] = np.ascontiguousarray(arrays[key], dtype=np.float64).reshape(n_rows)
    columns["active"] = columns["active"].astype(np.bool_)
    return pd.DataFrame(columns, columns=list(TRIAL_COLUMNS + MULTI_YEAR_TRIAL_COLUMNS))


def _year_summary(parties: Parties, arrays: dict[str, np.ndarray], capital_start: np.ndarray,
                  capital_end: np.ndarray, ratio: np.ndarray, minimum: np.ndarray, share: np.ndarray,
                  extra: dict[str, np.ndarray]) -> pd.DataFrame:
    table = metrics.summary(dataclasses.replace(parties, share=share), arrays, capital_start, capital_end,
                            ratio, minimum)
    for key, values in extra.items():
        table[key] = values
    return table


def _dynamic_columns(flows: dict[str, np.ndarray], stocks: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The multi-year summary columns beyond the one-year ones, per party: the means of the
    year's flows (paid, defaulted) over ``flows`` and of the stocks at a year end
    (outstanding, recoverable, active) over ``stocks``."""
    return {
        "expected_paid_loss": flows["paid_loss"].mean(axis=0),
        "mean_outstanding_loss": stocks["outstanding_loss"].mean(axis=0),
        "mean_recoverable": stocks["recoverable"].mean(axis=0),
        "expected_member_default_loss": flows["member_default_loss"].mean(axis=0),
        "prob_active": stocks["active"].mean(axis=0),
    }


def build_multi_year_results(scenario: Scenario, parties: Parties, arrays: dict[str, np.ndarray],
                             line_loss: np.ndarray, line_claims: np.ndarray,
                             run_info: dict[str, Any], capped_loss: np.ndarray | None = None) -> Results:
    """:class:`Results` of a multi-year run (arrays ``(n_trials, n_years, n_parties)``).

    ``summary.csv`` holds, first, one row per party for the whole horizon (``year``
    empty): loss and premium figures over every path-year (the yearly averages;
    VaR/TVaR of the yearly net loss across path-years), capital at the horizon's
    end, ``prob_ruin`` = P(capital < 0 at some year end), ``prob_exit`` = P(the
    member has left by the end); then one row per party and year. ``ep.csv`` and
    ``allocation.csv`` use every path-year.

    Solvency ratios count only the years in which the party writes business
    (``active``; :func:`sim.solvency.going_concern_ratio`): a member's run-off
    after it has left the pool, and a pool whose members have all left, have a
    ratio of reserve risk alone that grows without bound, and are left out. On
    the horizon row:

    * ``prob_solvency_below_100`` = P(the ratio is below 100% at the end of at
      least one year of the path), "ever", as ``prob_ruin``; ``prob_default`` of a
      reinsurer = P(it is in default in at least one year of the path);
    * ``solvency_ratio_p01`` = the 1% quantile over paths of each path's lowest
      year-end ratio (so it is below 100% exactly when at least 1% of paths
      fall below 100% at some point);
    * ``mean_solvency_ratio`` = the mean over every path-year with a ratio (each
      year-end while in the pool counts once); its standard error is from batch
      means over paths, the years of a path being dependent.

    On a pool row, ``prob_any_member_below_100`` is then P(some member below 100%
    in some year it writes). On the year rows, each year's ratio statistics are
    over the paths in which the party writes business that year; the
    probabilities stay shares of all paths.
    """
    n_trials, n_years, n_parties = arrays["net_loss"].shape
    line_names = [line.name for line in scenario.lines]

    def stacked(values: np.ndarray) -> np.ndarray:
        return values.reshape(n_trials * n_years, *values.shape[2:])

    ratio = solvency.going_concern_ratio(arrays["solvency_ratio"], arrays["active"])
    year_rows = []
    for y in range(n_years):
        year_arrays = {key: values[:, y] for key, values in arrays.items()}
        extra = _dynamic_columns(flows=year_arrays, stocks=year_arrays)
        table = _year_summary(parties, year_arrays, metrics.nan_mean(year_arrays["capital_start"]),
                              year_arrays["capital_end"], ratio[:, y],
                              year_arrays["minimum_capital"], year_arrays["share"].mean(axis=0), extra)
        table.insert(0, "year", y + 1)
        year_rows.append(table)

    all_years = {key: stacked(values) for key, values in arrays.items()}
    last = {key: values[:, -1] for key, values in arrays.items()}
    extra = _dynamic_columns(flows=all_years, stocks=last)
    # The lowest ratio of each path gives the "ever" probability and the tail quantile.
    horizon = metrics.summary(dataclasses.replace(parties, share=arrays["share"][:, 0].mean(axis=0)),
                              all_years, solvency.party_capital_start(parties), last["capital_end"],
                              solvency.lowest_ratio(ratio), last["minimum_capital"])
    horizon["mean_solvency_ratio"] = metrics.nan_mean(stacked(ratio))
    horizon["mean_solvency_ratio_se"] = metrics.batch_standard_error(
        ratio, lambda batch: metrics.nan_mean(batch.reshape(-1, n_parties)))
    for key, values in extra.items():
        horizon[key] = values
    ever_ruined = (arrays["capital_end"] < 0.0).any(axis=1)
    known = ~np.all(np.isnan(last["capital_end"]), axis=0)
    horizon["prob_ruin"] = np.where(known, ever_ruined.mean(axis=0), np.nan)
    is_reinsurer = np.array(parties.kinds) == "reinsurer"
    horizon["prob_default"] = np.where(is_reinsurer, (arrays["defaulted"] > 0.0).any(axis=1).mean(axis=0), np.nan)
    # The share of paths that left, counted directly: 1 - mean(active) would print 0.00039999999999995595.
    left = last["active"] == 0.0
    horizon["prob_exit"] = np.where(np.array(parties.kinds) == "member", left.mean(axis=0), np.nan)
    horizon["prob_pool_ended"] = np.where(np.array(parties.kinds) == "pool", left[:, 0].mean(), np.nan)
    horizon.insert(0, "year", pd.NA)
    summary = pd.concat([horizon] + year_rows, ignore_index=True)
    summary["year"] = summary["year"].astype("Int64")
    summary = subsidy.add_premium_payers(summary, scenario, parties)

    line_table = line_losses_table(line_names, stacked(line_loss), stacked(line_claims),
                                   capped_loss=None if capped_loss is None else stacked(capped_loss))
    line_table["trial"] = np.repeat(np.arange(n_trials, dtype=np.int64), n_years * len(line_names))
    line_table["year"] = np.tile(np.repeat(np.arange(1, n_years + 1, dtype=np.int32), len(line_names)), n_trials)
    return Results(
        name=scenario.name,
        run_info=run_record(scenario, run_info),
        trials=multi_year_trials_table(parties, arrays),
        line_losses=line_table,
        summary=summary,
        ep=metrics.ep_table(parties, all_years),
        allocation=metrics.allocation(parties, all_years, stacked(line_loss), line_names),
        currency=scenario.currency,
        treaties=costs.multi_year_treaty_table(treaty_labels(scenario),
                                               {name: arrays[name] for name in TREATY_COLUMNS}),
        scenario_text=text_as_run(scenario),
    )
