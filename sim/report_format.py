"""Numbers as the report prints them: money in one unit per page, per cents, probabilities.

Every table of ``report.html`` goes through :func:`table_rows`, which keeps
each figure's exact value beside its text (the page's ``data-value``
attributes), so a reader's copy, or a test, can check the page against the
saved tables.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .money import money_scale

MISSING = "—"
POOL_LABEL = "Pool (members together)"     # the summary's pool row, as a table shows it


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def format_percent(value) -> str:
    """A ratio as a per cent with one decimal: ``2.408`` -> ``240.8%``; missing -> ``—``."""
    number = _number(value)
    return f"{number:,.1%}" if math.isfinite(number) else MISSING


def format_probability(value) -> str:
    """A probability with two decimals of a per cent, as small ones matter: ``0.007`` -> ``0.70%``."""
    number = _number(value)
    return f"{number:.2%}" if math.isfinite(number) else MISSING


def decimals_for(error: float, least: int) -> int:
    """Decimals that show a standard error ``error`` (in the units printed) to two significant
    digits: 0.004 needs 3, where the figure itself is printed with ``least``."""
    if not (math.isfinite(error) and error > 0):
        return least
    return int(min(max(least, 1 - math.floor(math.log10(error))), least + 3))


def format_se(value, kind: str, unit: "MoneyUnit") -> str:
    """A standard error, as its figure's ``kind`` prints, with the decimals that show it (not ``0.0%``)."""
    number = _number(value)
    if not math.isfinite(number):
        return MISSING
    if kind == "money":
        scaled = number / unit.divisor
        return f"{scaled:,.{decimals_for(scaled, 1 if unit.divisor > 1 else 0)}f}"
    if kind in ("percent", "probability"):
        return f"{number * 100:,.{decimals_for(number * 100, 1 if kind == 'percent' else 2)}f}%"
    return f"{number:,.{decimals_for(number, 0)}f}"


def format_count(value) -> str:
    number = _number(value)
    return f"{number:,.0f}" if math.isfinite(number) else MISSING


@dataclass(frozen=True)
class MoneyUnit:
    """The one money unit of a page (``CNY m``): figures side by side are then read at a glance."""

    currency: str
    divisor: float
    suffix: str

    @classmethod
    def for_amount(cls, currency: str, largest: float) -> "MoneyUnit":
        """The unit that shows ``largest`` (e.g. the pool's premium or capital) in thousands or less."""
        divisor, suffix = money_scale(largest / 1000.0 if math.isfinite(largest) else 0.0)
        return cls(currency, divisor, suffix)

    @property
    def header(self) -> str:
        return f"{self.currency} {self.suffix}".strip()

    def format(self, value) -> str:
        """``1,234.5`` in this unit; one decimal unless the unit is the currency itself."""
        number = _number(value)
        if math.isinf(number):
            return "unlimited"
        if not math.isfinite(number):
            return MISSING
        text = f"{number / self.divisor:,.1f}" if self.divisor > 1 else f"{number:,.0f}"
        return text.replace("-", "−")


@dataclass(frozen=True)
class Column:
    """A column of a report table: the table's ``key``, its header, how it is written, its SE column."""

    key: str
    label: str
    kind: str                     # money | percent | probability | count | text
    se: str | None = None

    def header(self, unit: MoneyUnit) -> str:
        return f"{self.label} ({unit.header})" if self.kind == "money" else self.label

    def format(self, value, unit: MoneyUnit) -> str:
        if self.kind == "money":
            return unit.format(value)
        if self.kind == "percent":
            return format_percent(value)
        if self.kind == "probability":
            return format_probability(value)
        if self.kind == "count":
            return format_count(value)
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def table_rows(frame: pd.DataFrame, columns: Sequence[Column], unit: MoneyUnit,
               label_column: str | None = "party") -> dict[str, Any]:
    """A table for a template: ``header`` (texts) and ``rows``, each with its ``label`` and its
    ``cells``: ``text`` (the figure, ``± SE`` beside it where the table has one), ``key``
    (the column), ``value`` (the exact value, for ``data-value``) and ``se`` text.

    Columns the frame lacks are left out, and so are those with no value in any row.
    """
    shown = [column for column in columns if column.key in frame.columns
             and (column.kind == "text" or frame[column.key].map(_number).notna().any())]
    header = ([] if label_column is None else ["Party"]) + [column.header(unit) for column in shown]
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for column in shown:
            value = row[column.key]
            se = _number(row[column.se]) if column.se and column.se in frame.columns else math.nan
            number = _number(value)
            cells.append({
                "key": column.key,
                "text": column.format(value, unit),
                "se": format_se(se, column.kind, unit) if math.isfinite(number) and math.isfinite(se) and se > 0
                else "",
                "value": repr(number) if column.kind != "text" and not math.isnan(number) else "",
                "numeric": column.kind != "text",
            })
        label = "" if label_column is None else str(row[label_column])
        shown_label = POOL_LABEL if label_column is not None and row.get("kind") == "pool" else label
        rows.append({"label": label, "shown_label": shown_label, "cells": cells})
    return {"header": header, "rows": rows}


def row_number(row, column: str) -> float:
    """``row[column]`` as a float; NaN when the row lacks the column or holds no number there."""
    value = row.get(column, np.nan) if hasattr(row, "get") else np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def with_se(value: float, se: float, kind: str, unit: MoneyUnit | None = None) -> str:
    """``value`` as ``kind`` prints it, with ``(± SE)`` when there is a standard error."""
    unit = unit or MoneyUnit("", 1.0, "")
    if not (math.isfinite(value) and math.isfinite(se) and se > 0):
        return Column("", "", kind).format(value, unit)
    error = format_se(se, kind, unit)
    if kind == "money" and abs(value / unit.divisor) < 0.05:   # 0.0061 (± 0.0053), not 0.0 (± 0.0053)
        decimals = len(error.split(".")[1]) if "." in error else 0
        return f"{value / unit.divisor:,.{decimals}f} (± {error})".replace("-", "−")
    return f"{Column('', '', kind).format(value, unit)} (± {error})"

