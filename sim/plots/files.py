"""The plot files of a results folder: which figures go into ``plots/``, drawn and saved atomically."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

from .multi_year import MULTI_YEAR_DRAWERS
from .one_year import plot_ep_curve, plot_loss_ratio, plot_solvency, plot_who_pays
from .pricing import PRICING_PLOT, plot_pricing
from .style import DPI, legible_text

if TYPE_CHECKING:
    from ..results import Results

PLOT_FILES = ("solvency.png", "loss_ratio.png", "ep_curve.png", "who_pays.png")


DRAWERS = {
    "solvency.png": plot_solvency,
    "loss_ratio.png": plot_loss_ratio,
    "ep_curve.png": plot_ep_curve,
    "who_pays.png": plot_who_pays,
}


def write_plots(results: "Results", folder: str | os.PathLike) -> list[Path]:
    """Draw every plot of ``results`` into ``folder``; each file is replaced atomically."""
    with legible_text():        # one note for all the plots, if a name cannot be drawn
        return draw_plots(results, folder)


def draw_plots(results: "Results", folder: str | os.PathLike) -> list[Path]:
    """:func:`write_plots` for a caller that holds :func:`legible_text` itself.

    :meth:`sim.results.Results.write` does: it writes trials.parquet on another thread
    meanwhile, and warning capture is process-wide, so it must span that thread's life.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    drawers = dict(DRAWERS)
    if results.years > 1:
        drawers.update(MULTI_YEAR_DRAWERS)
    if getattr(results, "pricing", None) is not None:      # a run with [pricing]
        drawers[PRICING_PLOT] = plot_pricing
    return [save_atomically(draw(results), folder / name) for name, draw in drawers.items()]


def save_atomically(figure: Figure, path: Path) -> Path:
    """Save ``figure`` as PNG at ``path`` through a temporary file; call it within :func:`legible_text`."""
    partial = path.with_name(f".{path.name}.tmp")
    try:
        figure.savefig(partial, dpi=DPI, format="png")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def plot_results(folder: str | os.PathLike) -> list[Path]:
    """Redraw every plot of a results folder from its saved tables into ``folder/plots``."""
    from ..results import PLOTS_FOLDER, Results
    results = Results.read(folder)
    return write_plots(results, Path(folder) / PLOTS_FOLDER)
