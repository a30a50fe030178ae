"""Published regulatory figures: C-ROSS II factors and Solvency II default probabilities.

Every table here is stated, with its public source, in docs/calibration.md
(reinsurer default, C-ROSS II solvency); entries marked ASSUMPTION are not
published there and are labelled as such.
"""
# C-ROSS II basic risk factors RF0 by capital class: (premium risk, reserve risk).
RF0 = {
    "property": (0.391, 0.561),
    "special": (0.232, 0.604),
    "liability": (0.203, 0.433),
    "other": (0.098, 0.170),
}

# Correlation of premium-and-reserve risk across capital classes.
# Published: property-special 0.40, property-liability 0.35, special-liability 0.25.
# ASSUMPTION: "other" correlates 0.25 with every class (the lowest published figure).
CLASS_CORRELATION = {
    frozenset(("property", "special")): 0.40,
    frozenset(("property", "liability")): 0.35,
    frozenset(("special", "liability")): 0.25,
    frozenset(("other", "property")): 0.25,
    frozenset(("other", "special")): 0.25,
    frozenset(("other", "liability")): 0.25,
}

PREMIUM_RESERVE_CORRELATION = 0.5    # within a class: sqrt(P^2 + P*R + R^2)
PREMIUM_RESERVE_CAT_CORRELATION = 0.25   # non-life: sqrt(PR^2 + 0.5*PR*Cat + Cat^2)
# Company level, v = (non-life, market, credit).
NON_LIFE_MARKET, NON_LIFE_CREDIT, MARKET_CREDIT = 0.10, 0.15, 0.27
TECHNOLOGY_FACTOR = 0.9              # technology insurance counts its minimum capital at 90%


def combined_ratio_adjustment(combined_ratio: float) -> float:
    """K term for the combined ratio: <=95% -0.05; 95-100% 0; 100-105% +0.05; >105% +0.10."""
    if combined_ratio <= 0.95:
        return -0.05
    if combined_ratio <= 1.00:
        return 0.0
    if combined_ratio <= 1.05:
        return 0.05
    return 0.10


# K term for non-proportional cession as a share of retained premium: (2.5-5%, >=5%).
NON_PROPORTIONAL_ADJUSTMENT = {
    "property": (-0.012, -0.035),
    "liability": (-0.018, -0.047),
    "special": (-0.023, -0.062),
    "other": (0.0, 0.0),   # ASSUMPTION: no published relief for "other"
}

K_BOUNDS = (-0.25, 0.25)

# Credit-risk factor on reinsurance recoverables.
# Rated offshore reinsurers: AA 0.046, A 0.087, BBB 0.167 (published).
# ASSUMPTION: AAA takes the AA factor; anything below BBB, and an unrated reinsurer,
# takes the worst published factor (BBB).
CREDIT_FACTOR_BY_RATING = {"AAA": 0.046, "AA": 0.046, "A": 0.087, "BBB": 0.167}
CREDIT_FACTOR_UNRATED = 0.167
# A domestic (Chinese) reinsurer's factor by its own C-ROSS comprehensive solvency ratio:
# (lowest ratio of the band, factor), best band first. Below 100% the bands stop: unrated.
CREDIT_FACTOR_BY_DOMESTIC_RATIO = ((2.0, 0.008), (1.5, 0.013), (1.0, 0.047))

# Solvency II one-year default probability by credit quality step (published).
DEFAULT_PROBABILITY_BY_RATING = {
    "AAA": 0.00002, "AA": 0.0001, "A": 0.0005, "BBB": 0.0024, "BB": 0.012, "B": 0.042,
    "CCC": 0.042, "CC": 0.042, "C": 0.042, "D": 1.0,
}


def credit_factor(rating: str | None, default_probability: float = 0.0,
                  domestic_solvency_ratio: float | None = None) -> float:
    """C-ROSS credit factor on a reinsurer's recoverables, from its rating.

    A domestic reinsurer given its own ``domestic_solvency_ratio`` (1.8 for
    180%) takes the factor of its band, whatever its rating (which still sets
    its default probability). A reinsurer given a yearly ``default_probability``
    instead of a rating takes the factor of the best rating whose default
    probability (``DEFAULT_PROBABILITY_BY_RATING``) is at least as high: 0.0001
    is AA, 0.0003 is A. Without either (a default probability of 0) it is unrated.
    """
    if domestic_solvency_ratio is not None:
        return next((factor for lowest, factor in CREDIT_FACTOR_BY_DOMESTIC_RATIO
                     if domestic_solvency_ratio >= lowest), CREDIT_FACTOR_UNRATED)
    if rating is None and default_probability > 0.0:
        rating = min((p, name) for name, p in DEFAULT_PROBABILITY_BY_RATING.items()
                     if p >= default_probability)[1]
    if rating is None:
        return CREDIT_FACTOR_UNRATED
    return CREDIT_FACTOR_BY_RATING.get(rating.upper(), CREDIT_FACTOR_UNRATED)

