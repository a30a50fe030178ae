"""Probability distributions of the scenario format, in one internal form.

Every parameterisation the contract allows (``median``/``sigma`` or
``mean``/``sd`` for a lognormal, ``mean``/``sd`` or ``shape``/``scale`` for a
gamma, ...) is converted once, here, into a :class:`Distribution` with a
numeric ``code`` and three canonical parameters. The numba samplers in
:mod:`sim.kernels.sampling` only ever see that canonical form.

Canonical parameters by kind:

==========  =====================  ===========================================
kind        (p0, p1, p2)           meaning
==========  =====================  ===========================================
constant    (value, -, -)
lognormal   (mu, sigma, -)         ln X ~ Normal(mu, sigma)
gamma       (shape, scale, -)
pareto      (scale, shape, -)      Lomax: P(X > x) = (1 + x/scale)^-shape
gpd         (scale, shape, thr)    generalised Pareto above the threshold
beta        (alpha, beta, -)
uniform     (low, high, -)
poisson     (mean, -, -)
negbin      (mean, dispersion, -)  variance = mean + mean^2 / dispersion
bernoulli   (p, -, -)
==========  =====================  ===========================================
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .kernels.codes import BERNOULLI, BETA, CONSTANT, GAMMA, GPD, LOGNORMAL, NEGBIN, PARETO, POISSON, UNIFORM

CODES = {
    "constant": CONSTANT, "lognormal": LOGNORMAL, "gamma": GAMMA, "pareto": PARETO, "gpd": GPD,
    "beta": BETA, "uniform": UNIFORM, "poisson": POISSON, "negbin": NEGBIN, "bernoulli": BERNOULLI,
}
FREQUENCY_KINDS = ("poisson", "negbin", "bernoulli")
SEVERITY_KINDS = ("constant", "lognormal", "gamma", "pareto", "gpd", "beta", "uniform")

# The parameter sets each `dist` accepts, as the scenario writes them.
PARAMETER_SETS = {
    "lognormal": (("median", "sigma"), ("mean", "sd")),
    "gamma": (("mean", "sd"), ("shape", "scale")),
    "pareto": (("scale", "shape"),),
    "gpd": (("scale", "shape"), ("scale", "shape", "threshold")),
    "beta": (("mean", "sd"),),
    "uniform": (("low", "high"),),
    "poisson": (("mean",),),
    "negbin": (("mean", "dispersion"),),
    "bernoulli": (("p",),),
}


class DistributionError(ValueError):
    """A distribution's parameters are invalid. ``key`` names the parameter at fault."""

    def __init__(self, key: str, value, allowed: str):
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key} = {value!r} {allowed}")


@dataclass(frozen=True)
class Distribution:
    """A distribution in canonical form; ``cap`` caps every draw (``max`` in the scenario)."""

    kind: str
    p0: float
    p1: float = 0.0
    p2: float = 0.0
    cap: float = math.inf

    @property
    def code(self) -> int:
        return CODES[self.kind]

    def as_array(self) -> np.ndarray:
        """``(code, p0, p1, p2, cap)`` as float64, the form the kernels take."""
        return np.array([self.code, self.p0, self.p1, self.p2, self.cap], dtype=np.float64)

    @classmethod
    def constant(cls, value: float) -> "Distribution":
        return cls("constant", float(value))

    # ------------------------------------------------------------------ moments
    def mean(self) -> float:
        """Mean of the uncapped distribution (``inf`` where it does not exist)."""
        k, a, b, c = self.kind, self.p0, self.p1, self.p2
        if k == "constant":
            return a
        if k == "lognormal":
            return math.exp(a + 0.5 * b * b)
        if k == "gamma":
            return a * b
        if k == "pareto":
            return a / (b - 1.0) if b > 1.0 else math.inf
        if k == "gpd":
            return c + a / (1.0 - b) if b < 1.0 else math.inf
        if k == "beta":
            return a / (a + b)
        if k == "uniform":
            return 0.5 * (a + b)
        if k in ("poisson", "negbin", "bernoulli"):
            return a
        raise AssertionError(k)

    def variance(self) -> float:
        """Variance of the uncapped distribution (``inf`` where it does not exist)."""
        k, a, b = self.kind, self.p0, self.p1
        if k == "constant":
            return 0.0
        if k == "lognormal":
            return (math.exp(b * b) - 1.0) * math.exp(2.0 * a + b * b)
        if k == "gamma":
            return a * b * b
        if k == "pareto":
            return a * a * b / ((b - 1.0) ** 2 * (b - 2.0)) if b > 2.0 else math.inf
        if k == "gpd":
            return a * a / ((1.0 - b) ** 2 * (1.0 - 2.0 * b)) if b < 0.5 else math.inf
        if k == "beta":
            return a * b / ((a + b) ** 2 * (a + b + 1.0))
        if k == "uniform":
            return (b - a) ** 2 / 12.0
        if k == "poisson":
            return a
        if k == "negbin":
            return a + a * a / b
        if k == "bernoulli":
            return a * (1.0 - a)
        raise AssertionError(k)


def _positive(key: str, value: float) -> float:
    if not (isinstance(value, (int, float)) and not isinstance(value, bool)) or not value > 0 or math.isinf(value):
        raise DistributionError(key, value, "must be a finite number > 0")
    return float(value)


def _non_negative(key: str, value: float) -> float:
    if not (isinstance(value, (int, float)) and not isinstance(value, bool)) or not value >= 0 or math.isinf(value):
        raise DistributionError(key, value, "must be a finite number >= 0")
    return float(value)


def make(kind: str, params: dict) -> Distribution:
    """Build a :class:`Distribution` from the scenario's ``dist`` name and parameters.

    ``params`` holds the keys of the table other than ``dist`` (``max`` included).
    Raises :class:`DistributionError` naming the parameter at fault.
    """
    params = dict(params)
    cap = math.inf
    if "max" in params:
        cap = _positive("max", params.pop("max"))
    if kind not in PARAMETER_SETS:
        raise DistributionError("dist", kind, f"must be one of {', '.join(sorted(PARAMETER_SETS))}")
    given = set(params)
    options = PARAMETER_SETS[kind]
    if given not in [set(option) for option in options]:
        accepted = " or ".join("(" + ", ".join(option) + ")" for option in options)
        unknown = sorted(given - {name for option in options for name in option})
        key = unknown[0] if unknown else "dist"
        raise DistributionError(key, params.get(key, kind) if unknown else kind,
                                f"takes the parameters {accepted}, got ({', '.join(sorted(given))})")
    p = params
    if kind == "lognormal":
        if "median" in p:
            mu, sigma = math.log(_positive("median", p["median"])), _non_negative("sigma", p["sigma"])
        else:
            mean, sd = _positive("mean", p["mean"]), _non_negative("sd", p["sd"])
            sigma = math.sqrt(math.log1p((sd / mean) ** 2))
            mu = math.log(mean) - 0.5 * sigma * sigma
        return Distribution(kind, mu, sigma, cap=cap)
    if kind == "gamma":
        if "mean" in p:
            mean, sd = _positive("mean", p["mean"]), _positive("sd", p["sd"])
            return Distribution(kind, (mean / sd) ** 2, sd * sd / mean, cap=cap)
        return Distribution(kind, _positive("shape", p["shape"]), _positive("scale", p["scale"]), cap=cap)
    if kind == "pareto":
        return Distribution(kind, _positive("scale", p["scale"]), _positive("shape", p["shape"]), cap=cap)
    if kind == "gpd":
        scale = _positive("scale", p["scale"])
        shape = p["shape"]
        if not isinstance(shape, (int, float)) or isinstance(shape, bool) or not math.isfinite(shape):
            raise DistributionError("shape", shape, "must be a finite number")
        threshold = _non_negative("threshold", p.get("threshold", 0.0))
        return Distribution(kind, scale, float(shape), threshold, cap=cap)
    if kind == "beta":
        mean, sd = p["mean"], _positive("sd", p["sd"])
        if not isinstance(mean, (int, float)) or not 0.0 < mean < 1.0:
            raise DistributionError("mean", mean, "must be within (0, 1) for a beta distribution")
        if sd * sd >= mean * (1.0 - mean):
            limit = math.sqrt(mean * (1.0 - mean))
            raise DistributionError("sd", sd, f"is too large: a beta distribution with mean {mean} "
                                              f"needs sd < sqrt(mean*(1-mean)) = {limit:.6g}")
        nu = mean * (1.0 - mean) / (sd * sd) - 1.0
        return Distribution(kind, mean * nu, (1.0 - mean) * nu, cap=cap)
    if kind == "uniform":
        low, high = _non_negative("low", p["low"]), _non_negative("high", p["high"])
        if not high > low:
            raise DistributionError("high", high, f"must be greater than low = {low}")
        return Distribution(kind, low, high, cap=cap)
    if kind == "poisson":
        return Distribution(kind, _non_negative("mean", p["mean"]), cap=cap)
    if kind == "negbin":
        return Distribution(kind, _non_negative("mean", p["mean"]), _positive("dispersion", p["dispersion"]), cap=cap)
    if kind == "bernoulli":
        prob = _non_negative("p", p["p"])
        if prob > 1.0:
            raise DistributionError("p", prob, "must be within [0, 1]")
        return Distribution(kind, prob, cap=cap)
    raise AssertionError(kind)
