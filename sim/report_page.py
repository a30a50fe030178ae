"""What every ``report.html`` shares: its Jinja2 templates, inline images, the picture of a
saved scenario's structure and the time it was written.

A page is self-contained: images inline (base64 PNG), styles inline, no script
and no network request (see :mod:`sim.report`).
"""
from __future__ import annotations

import base64
import datetime
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import plots
from .errors import ScenarioError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .model import Scenario
    from .results import Results

REPORT_FILE = "report.html"
_ENVIRONMENT = None


# --------------------------------------------------------------------------- templates
def environment():
    """The Jinja2 environment of ``sim/templates`` (made once): HTML escaped, undefined names an error."""
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        import jinja2

        _ENVIRONMENT = jinja2.Environment(
            loader=jinja2.PackageLoader("sim", "templates"),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True, lstrip_blocks=True)
    return _ENVIRONMENT


def render(template: str, context: dict[str, Any]) -> str:
    """``template`` of ``sim/templates`` filled with ``context``."""
    return environment().get_template(template).render(**context)


def write_html(html: str, path: Path) -> Path:
    """Write ``html`` to ``path`` through a temporary file, so a reader never sees half a page."""
    partial = path.with_name(f".{path.name}.tmp")
    try:
        partial.write_text(html, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


# --------------------------------------------------------------------------- images
@dataclass(frozen=True)
class Image:
    """A figure of the page: its data URI and its caption (also its alt text)."""

    uri: str
    caption: str


def png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def figure_image(figure: "Figure", caption: str) -> Image:
    """``figure`` as an inline PNG, at the resolution of the PNGs of ``plots/``."""
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=plots.DPI, format="png")
    return Image(png_uri(buffer.getvalue()), caption)


def plot_image(results: "Results", name: str, caption: str, plots_folder: Path | None) -> Image:
    """The plot ``name`` (e.g. ``solvency.png``) of :mod:`sim.plots`: the file just drawn into
    ``plots_folder`` when there is one, else drawn now by the same function."""
    if plots_folder is not None and (plots_folder / name).is_file():
        return Image(png_uri((plots_folder / name).read_bytes()), caption)
    drawers = {**plots.DRAWERS, **plots.MULTI_YEAR_DRAWERS, plots.PRICING_PLOT: plots.plot_pricing}
    return figure_image(drawers[name](results), caption)


def saved_scenario(scenario_text: str | None, source: str) -> tuple["Scenario | None", str]:
    """The scenario of a results folder's ``scenario.toml`` (``source``), or why there is none."""
    from .scenario import loads

    if scenario_text is None:
        return None, ("The scenario was not saved with these results (it was not read from a file, the file "
                      "changed during the run, or an earlier version of poolsim wrote the folder), so its "
                      "structure cannot be drawn.")
    try:
        return loads(scenario_text, source=source), ""
    except ScenarioError as error:
        return None, f"{source} cannot be read by this version of poolsim: {error.problems[0]}"


def structure_image(scenario: "Scenario | None") -> Image | None:
    """The picture of ``scenario``'s structure (:func:`sim.structure_figure.plot_structure`)."""
    from .structure_figure import plot_structure

    if scenario is None:
        return None
    return figure_image(plot_structure(scenario), f"The structure of {scenario.name}")


def written_at() -> str:
    """Now, to the minute, in UTC: when a page says it was written."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def largest_money(summary: pd.DataFrame) -> float:
    """The largest finite premium or starting capital of ``summary``: what sets a page's money unit."""
    values = summary[[c for c in ("gross_premium", "capital_start") if c in summary.columns]].to_numpy(float)
    finite = values[np.isfinite(values)]
    return float(np.max(np.abs(finite))) if finite.size else 0.0
