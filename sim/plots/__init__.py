"""Plots of a results folder, drawn from the saved tables (matplotlib, no screen needed).

Figures are built with :class:`matplotlib.figure.Figure` directly, never
through ``pyplot``: no global state, no GUI backend, safe in threads, and a
notebook's own backend is left alone. Every plot takes a
:class:`sim.results.Results` (or several, for comparisons) and returns the Figure.

Files written into ``plots/`` by :func:`write_plots`:

* ``solvency.png``   each member's year-end solvency ratio distribution
* ``loss_ratio.png`` gross vs net loss ratio distributions, members and pool
* ``ep_curve.png``   the pool's AEP / OEP, gross vs net
* ``who_pays.png``   who pays the pool's 1-in-10, 1-in-100 and 1-in-250 gross losses

Multi-year runs (``years > 1``) also get, over the years:

* ``solvency_fan.png`` each member's year-end solvency ratio while it is in the pool:
  median, 50% and 90% bands of the paths in which it writes business that year
* ``capital_fan.png``  each member's year-end capital: median, 50% and 90% bands
* ``exits.png``        the share of paths in which each member has left (and the pool has ended)

and the other plots above show the last year, except ``solvency.png``: each
path's lowest year-end ratio while in the pool, so that its P(<100%) is the
horizon's ``prob_solvency_below_100``. Ratios of the run-off after a member has
left (:func:`sim.solvency.going_concern_ratio`) are in no plot.

The package, by concept:

* :mod:`sim.plots.style`       fonts, per-cent and return-period axes, box statistics, titles, thresholds, saving
* :mod:`sim.plots.horizon`     a run's values year by year, and the solvency ratio a run is judged on
* :mod:`sim.plots.one_year`    the plots of every run (the four files above)
* :mod:`sim.plots.multi_year`  the fan charts and exits of a multi-year run
* :mod:`sim.plots.compare`     structures side by side (``poolsim compare``)
* :mod:`sim.plots.files`       which figures go into ``plots/``, drawn and saved atomically

Every public name is importable from ``sim.plots`` itself.
"""
from ..money import format_money, money_label, money_scale
from .compare import COMPARE_PRICING_PLOT, plot_compare_net_ep, plot_compare_pricing, plot_compare_solvency
from .files import DRAWERS, PLOT_FILES, draw_plots, plot_results, save_atomically, write_plots
from .horizon import going_concern_year_matrix, horizon_solvency_ratio, year_matrix
from .multi_year import FAN_BANDS, MULTI_YEAR_DRAWERS, plot_capital_fan, plot_exits, plot_solvency_fan
from .one_year import (WHO_PAYS_RETURN_PERIODS, WHO_PAYS_WINDOW, loss_ratios, plot_ep_curve, plot_loss_ratio,
                       plot_solvency, plot_who_pays, premium_payers, trials_near_return_period, who_pays)
from .pricing import PRICING_PLOT, plot_pricing
from .style import (CJK_FAMILIES, DPI, GROSS_COLOUR, NET_COLOUR, NO_RATIO_LABEL, REGIME_NAMES, SOLVENCY_AXIS_LABELS,
                    SOLVENCY_THRESHOLDS, THRESHOLDS, _new_figure, _title, box_statistics, installed_cjk_families,
                    legible_text, missing_glyphs_note, save)

# Also importable, not public: _new_figure and _title (optimize_output's frontier plot and the tests use them).
__all__ = [
    "box_statistics", "CJK_FAMILIES", "DPI", "draw_plots", "DRAWERS", "FAN_BANDS",
    "format_money", "going_concern_year_matrix", "GROSS_COLOUR", "horizon_solvency_ratio",
    "installed_cjk_families", "legible_text", "loss_ratios", "missing_glyphs_note", "money_label",
    "money_scale", "MULTI_YEAR_DRAWERS", "NET_COLOUR", "NO_RATIO_LABEL", "plot_capital_fan",
    "COMPARE_PRICING_PLOT", "plot_compare_net_ep", "plot_compare_pricing", "plot_compare_solvency", "plot_ep_curve", "plot_exits", "PLOT_FILES",
    "plot_loss_ratio", "plot_pricing", "plot_results", "PRICING_PLOT", "plot_solvency", "plot_solvency_fan", "plot_who_pays",
    "premium_payers", "REGIME_NAMES", "save", "save_atomically", "SOLVENCY_AXIS_LABELS",
    "SOLVENCY_THRESHOLDS", "THRESHOLDS", "trials_near_return_period", "who_pays", "WHO_PAYS_RETURN_PERIODS",
    "WHO_PAYS_WINDOW", "write_plots", "year_matrix",
]
