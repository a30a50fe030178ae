"""Money as figures and plots show it: one scale (thousands, millions, ...) that keeps amounts readable.

Plain numbers, no plotting: :mod:`sim.plots`, :mod:`sim.structure_figure` and
:mod:`sim.report_format` all use it.
"""
from __future__ import annotations

import numpy as np


def money_scale(largest: float) -> tuple[float, str]:
    """Divisor and suffix that keep money axes readable: (1e9, "bn"), (1e6, "m"), ..."""
    largest = abs(float(largest)) if np.isfinite(largest) else 0.0
    for divisor, suffix in ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if largest >= divisor:
            return divisor, suffix
    return 1.0, ""


def money_label(currency: str, suffix: str) -> str:
    """An axis's unit: ``CNY m``; the currency alone when there is no suffix."""
    return f"{currency} {suffix}".strip()


def format_money(value: float, currency: str) -> str:
    """``CNY 2.5bn``: three significant digits in the scale of ``value``."""
    divisor, suffix = money_scale(value)
    return f"{currency} {value / divisor:,.3g}{suffix}"
