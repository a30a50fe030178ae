"""Make ai_cyber_cloud_outage_yelt.csv, the small YELT that ai_cyber_vendor_events.toml reads.

The table is poolsim's own: the cloud_outage catastrophe of ai_cyber_pool.toml
(a CrowdStrike-like outage, once in 4 years) simulated over 2,000 years, and
exported with ``poolsim run --export yelt``. It stands in for a vendor's table:
replace it with your own in the same columns. Run from the repository's root:

    python scenarios/event_tables/make_ai_cyber_yelt.py
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
YEARS = 2_000
SEED = 2027


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "run"
        subprocess.run([sys.executable, "-m", "sim", "run", str(HERE.parent / "ai_cyber_pool.toml"),
                        "--trials", str(YEARS), "--seed", str(SEED), "--out", str(out), "--no-plots",
                        "--no-progress", "--export", "yelt"], check=True, stdout=subprocess.DEVNULL)
        yelt = pd.read_parquet(out / "yelt.parquet")
    outage = yelt[yelt["catastrophe"] == "cloud_outage"].drop(columns="catastrophe")
    # events numbered 1, 2, ... in the order of the years; losses to the cent
    outage["event"] = pd.factorize(outage["event"])[0] + 1
    outage["loss"] = outage["loss"].round(2)
    outage.to_csv(HERE / "ai_cyber_cloud_outage_yelt.csv", index=False)
    print(f"{len(outage):,} rows, {outage['event'].nunique():,} events in {YEARS:,} years")


if __name__ == "__main__":
    main()
