"""A results folder's fingerprint: the SHA-256 of each table as poolsim reads it back.

tests/test_streaming.py holds the fingerprints of runs made by poolsim before its tables were
streamed (tests/data/run_fingerprints.json, made by ``python tests/run_fingerprint.py``
from that version) and checks that every way of running gives the same, bit for bit.
The CSV files are compared as written; the Parquet tables as the values read back, column
by column (the file bytes also hold the writer's version and row-group sizes).
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CSV_FILES = ("summary.csv", "ep.csv", "allocation.csv", "treaties.csv")
PARQUET_FILES = ("trials.parquet", "line_losses.parquet")
# (scenario, trials, seed): the runs the fingerprints are of.
RUNS = {
    "full_programme": (HERE / "data" / "full_programme.toml", 2_000, 11),
    "ai_cyber_pool": (HERE.parent / "scenarios" / "ai_cyber_pool.toml", 2_500, 7),
    "ai_cyber_pool_var": (HERE.parent / "scenarios" / "ai_cyber_pool.toml", 1_500, 5),
    "five_years": (HERE.parent / "scenarios" / "ai_cyber_five_years.toml", 300, 3),
    # one member: NumPy sums its columns pairwise, not in trial order (sim.estimators)
    "single_insurer": (HERE.parent / "scenarios" / "ai_cyber_single_insurer.toml", 20_000, 19),
}


def table_fingerprint(frame: pd.DataFrame) -> dict[str, str]:
    """SHA-256 of each column's values (names as text, numbers as their bytes)."""
    prints = {}
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object:
            data = "\n".join(values.astype(str)).encode()
        else:
            data = np.ascontiguousarray(values.to_numpy()).tobytes() + str(values.dtype).encode()
        prints[column] = hashlib.sha256(data).hexdigest()
    return prints


def folder_fingerprint(folder: Path, files=CSV_FILES + PARQUET_FILES) -> dict[str, object]:
    prints: dict[str, object] = {}
    for name in files:
        path = folder / name
        if name.endswith(".csv"):
            prints[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            prints[name] = table_fingerprint(pd.read_parquet(path))
    return prints


def scenario_for(name: str, tmp: Path):
    """The scenario of run ``name`` (the VaR run: ai_cyber_pool under the VaR regime)."""
    path, _, _ = RUNS[name]
    if name.endswith("_var"):
        text = path.read_text(encoding="utf-8").replace('regime = "c-ross"', 'regime = "var"')
        path = tmp / "ai_cyber_pool_var.toml"
        path.write_text(text, encoding="utf-8")
        for data in (HERE.parent / "scenarios").iterdir():     # files the scenario names beside it
            if data.suffix != ".toml" and data.is_file():
                (tmp / data.name).write_bytes(data.read_bytes())
    return path


def main() -> None:
    import tempfile

    import sim

    prints = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (_, trials, seed) in RUNS.items():
            out = Path(tmp) / name
            sim.run(scenario_for(name, Path(tmp)), trials=trials, seed=seed, out=out, plots=False, progress=False)
            prints[name] = folder_fingerprint(out)
    json.dump(prints, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
