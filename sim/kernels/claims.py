"""Which policies of a line claim in a trial, and which a catastrophe event hits.

The policies of a line share one frequency, so their claim counts ``N_i`` are
iid. The engine draws them as points on the line, at a few nanoseconds a
claim, instead of visiting policies:

- **poisson** (mean ``m``): a Poisson(``n m``) number of claims, each on a
  policy drawn uniformly. Each policy then has Poisson(``m``) claims,
  independently of the others.
- **negbin** (mean ``m``, dispersion ``r``): ``N_i`` is Poisson with a
  Gamma(``r``, ``m / r``) mean, so the line's total is Poisson with a
  Gamma(``n r``, ``m / r``) mean. Given the total, the claims fall on the
  policies as a Dirichlet-multinomial with parameters ``r``: Polya's urn, in
  which claim ``b + 1`` goes to a uniform policy with probability
  ``n r / (n r + b)`` and otherwise to the policy of a uniformly chosen
  earlier claim (Johnson, Kotz and Balakrishnan 1997, *Discrete Multivariate
  Distributions*, ch. 40).
- **bernoulli** (probability ``p``) and a catastrophe's hits (share ``p``):
  a Poisson(``n λ``) number of points on uniform policies, with
  ``λ = -log(1 - p)``; a policy is hit when it has at least one point, which
  happens with probability ``1 - exp(-λ) = p``, independently of the others.
  Points after a policy's first are dropped (``stamp`` tells). ``p >= 1``
  hits every policy.

A frequency's ``max`` caps each policy's count: claims past it are dropped,
which gives ``min(N_i, max)``.

The claims come out in the order drawn, not by policy: nothing downstream
depends on that order, as a trial's claims get their days by a uniform random
permutation (:func:`sim.engine._place_trial`).

``stamp`` and ``tally`` are scratch arrays over all the scenario's policies;
``mark`` must differ from every mark used before on the same ``stamp``, which
then needs no clearing between lines, events and trials.
"""
import math

from . import codes as d
from .jit import inlined_jit, jit
from .rng import next_below, next_uniform
from .sampling import gamma_terms, next_gamma, next_poisson


@inlined_jit
def next_claim_points(s, code, mean, dispersion, n_policies):
    """``(points, s)``: how many claims (poisson, negbin) or points (bernoulli) a line of
    ``n_policies`` draws in a trial, its frequency's ``mean`` (the probability for bernoulli)
    already at the trial's risk level. Draws only for a positive mean."""
    if mean <= 0.0 or n_policies == 0:
        return 0, s
    if code == d.BERNOULLI:
        return next_hit_points(s, mean, n_policies)
    if code == d.POISSON:
        return next_poisson(s, n_policies * mean)
    shape = n_policies * dispersion
    boosted, third, c = gamma_terms(shape)
    total, s = next_gamma(s, shape, boosted, third, c)
    return next_poisson(s, total * (mean / dispersion))


@inlined_jit
def next_hit_points(s, probability, n_policies):
    """``(points, s)`` for hits with ``probability`` on each of ``n_policies``: ``n_policies``
    when it is 1 or more (every policy, no draw), none when it is 0 or less."""
    if probability <= 0.0 or n_policies == 0:
        return 0, s
    if probability >= 1.0:
        return n_policies, s
    return next_poisson(s, n_policies * -math.log1p(-probability))


@jit
def place_claims(s, points, code, mean, dispersion, cap, first_policy, n_policies, out, k, stamp, tally, mark):
    """Put a line's ``points`` (from :func:`next_claim_points`, with the same ``mean``) on its
    policies ``first_policy .. first_policy + n_policies - 1``, writing the claims' policies
    to ``out[k:]`` (room for ``points``). Returns ``(the end of the claims in out, s)``."""
    if code == d.BERNOULLI:     # at most one claim a policy: the cap cannot bind
        return place_hits(s, points, mean, first_policy, n_policies, out, k, stamp, mark)
    if code == d.POISSON:
        for b in range(points):
            policy, s = next_below(s, n_policies)
            out[k + b] = first_policy + policy
    else:
        weight = n_policies * dispersion     # the urn's weight of a fresh policy
        for b in range(points):
            u, s = next_uniform(s)
            if u * (weight + b) < weight:
                policy, s = next_below(s, n_policies)
                out[k + b] = first_policy + policy
            else:
                earlier, s = next_below(s, b)
                out[k + b] = out[k + earlier]
    if cap >= points:
        return k + points, s
    return _cap_counts(out, k, k + points, cap, stamp, tally, mark), s


@jit
def place_hits(s, points, probability, first_policy, n_policies, out, k, stamp, mark):
    """Put ``points`` (from :func:`next_hit_points`, with the same ``probability``) on the
    policies ``first_policy .. first_policy + n_policies - 1``; write each policy hit once to
    ``out[k:]`` (room for ``points``). Returns ``(the end of the hits in out, s)``."""
    if probability >= 1.0:
        for i in range(n_policies):
            out[k + i] = first_policy + i
        return k + n_policies, s
    for _ in range(points):
        policy, s = next_below(s, n_policies)
        policy += first_policy
        if stamp[policy] != mark:      # the policy's first point: a hit
            stamp[policy] = mark
            out[k] = policy
            k += 1
    return k, s


@jit
def _cap_counts(out, start, stop, cap, stamp, tally, mark):
    """Drop, in place, the claims of ``out[start:stop]`` past their policy's ``cap``-th; returns
    the new end."""
    kept = start
    for b in range(start, stop):
        policy = out[b]
        if stamp[policy] != mark:
            stamp[policy] = mark
            tally[policy] = 0
        tally[policy] += 1
        if tally[policy] <= cap:
            out[kept] = policy
            kept += 1
    return kept
