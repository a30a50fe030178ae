"""The poolsim loss model and pool programme, written plainly in vectorised NumPy.

The yardstick for the numba engine's speed-up: the same model as
:mod:`sim.engine` and :mod:`sim.pool`, written the way a competent NumPy user
would write it. Arrays cover a chunk of trials at once; the Python loops run
over lines, catastrophe types, treaties and (short) rejection / inversion
rounds only, never over trials.

Per chunk of trials::

    copula (Cholesky, chi-square for t, gammaincinv)   -> risk levels (n_trials, n_lines)
    per line: Binomial(policies, P(N > 0 | level))    -> claiming policies (distinct, flat)
              zero-truncated count by inversion        -> claims, severity or damage x sum insured
    per catastrophe type: Poisson events, beta share, Binomial hits per listed line (distinct)
    -> occurrences (trial, day, event) and risk losses (occurrence, line, policy, loss)

    programme: sort occurrences by (trial, day) once (one argsort), then each treaty
    in inuring order with bincount / per-trial cumulative sums for the annual
    aggregate terms and reinstatements.

It draws from ``numpy.random.Generator`` (one per chunk), not from the engine's
per-trial streams, so it agrees with the engine *in distribution*, not number
by number. It takes the engine's :class:`sim.occurrences.Exposure` (the
portfolio, sampled once per scenario) so both simulate the very same policies.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from sim.model import Scenario, Treaty
from sim.occurrences import Exposure

DAYS_IN_YEAR = 365.0


# ---------------------------------------------------------------------------
# Distributions
# ---------------------------------------------------------------------------

def draw(rng: np.random.Generator, dist, size: int) -> np.ndarray:
    """``size`` draws of a severity-type :class:`sim.distributions.Distribution`, capped."""
    kind, a, b, c = dist.kind, dist.p0, dist.p1, dist.p2
    if kind == "constant":
        x = np.full(size, a)
    elif kind == "lognormal":
        x = rng.lognormal(a, b, size)
    elif kind == "gamma":
        x = rng.gamma(a, b, size)
    elif kind == "pareto":          # numpy's pareto is the Lomax (Pareto II)
        x = a * rng.pareto(b, size)
    elif kind == "gpd":
        if b == 0.0:
            x = c + a * rng.standard_exponential(size)
        else:
            x = c + a / b * np.expm1(-b * np.log(rng.random(size)))
    elif kind == "beta":
        x = rng.beta(a, b, size)
    elif kind == "uniform":
        x = rng.uniform(a, b, size)
    else:
        raise ValueError(f"{kind!r} is not a severity distribution")
    return np.minimum(x, dist.cap) if math.isfinite(dist.cap) else x


def claim_probability(freq, level: np.ndarray) -> np.ndarray:
    """P(a policy has at least one claim) at risk level ``level``, elementwise."""
    mean = freq.p0 * level
    if freq.kind == "poisson":
        return -np.expm1(-mean)
    if freq.kind == "negbin":
        return -np.expm1(-freq.p1 * np.log1p(mean / freq.p1))
    return np.minimum(mean, 1.0)    # bernoulli: the level scales p, which cannot pass 1


def positive_counts(rng: np.random.Generator, freq, level: np.ndarray) -> np.ndarray:
    """Claims of each policy that has at least one: zero-truncated inversion, vectorised over policies.

    ``level`` (n_hits,) is each policy's line risk level. The loop runs over
    the count value k (rarely past 3 for these small means), on a shrinking
    set of unresolved policies.
    """
    n = len(level)
    if freq.kind == "bernoulli" or n == 0:
        return np.ones(n, dtype=np.int64)
    mean = freq.p0 * level
    if freq.kind == "poisson":
        probability = np.exp(-mean)
        ratio_base = mean
    else:
        dispersion = freq.p1
        probability = np.exp(-dispersion * np.log1p(mean / dispersion))
        ratio_base = mean / (dispersion + mean)
    target = rng.random(n) * (1.0 - probability)
    count = np.zeros(n, dtype=np.int64)
    cumulative = np.zeros(n)
    active = np.arange(n)
    k = 0
    while active.size:
        if freq.kind == "poisson":
            probability[active] *= ratio_base[active] / (k + 1)
        else:
            probability[active] *= (k + freq.p1) / (k + 1) * ratio_base[active]
        cumulative[active] += probability[active]
        count[active] += 1
        done = (cumulative[active] >= target[active]) | (probability[active] <= 0.0)
        active = active[~done]
        k += 1
    cap = min(freq.cap, 2.0 ** 31)
    return np.minimum(count, int(cap)) if math.isfinite(freq.cap) else count


def distinct_hits(rng: np.random.Generator, hits: np.ndarray, population: int) -> tuple[np.ndarray, np.ndarray]:
    """A uniform random set of ``hits[g]`` distinct positions in ``[0, population)`` for every group g.

    Returns ``(group, position)``, flat, sorted by group. Draws with
    replacement, then redraws duplicates (only in the groups that have some)
    until none is left; the procedure is symmetric in the positions, so each
    group's set is a uniform ``hits[g]``-subset, as the engine's Bernoulli
    hits per policy give.
    """
    group = np.repeat(np.arange(len(hits), dtype=np.int64), hits)
    keys = group * population + rng.integers(0, population, size=group.size)
    keys.sort()
    duplicate = np.flatnonzero(keys[1:] == keys[:-1]) + 1
    if duplicate.size:
        # Work on the groups with duplicates only; a group's keys stay in its slots.
        bad_groups = np.zeros(len(hits), dtype=np.bool_)
        bad_groups[keys[duplicate] // population] = True
        redo = bad_groups[keys // population]
        sub = keys[redo]
        while True:
            sub_duplicate = np.flatnonzero(sub[1:] == sub[:-1]) + 1
            if sub_duplicate.size == 0:
                break
            sub[sub_duplicate] = ((sub[sub_duplicate] // population) * population
                                  + rng.integers(0, population, size=sub_duplicate.size))
            sub.sort()
        keys[redo] = sub
    return keys // population, keys % population


# ---------------------------------------------------------------------------
# The loss model
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class NumpyChunk:
    """Gross losses of a chunk, as flat arrays (occurrences and risk losses in generation order)."""

    line_loss: np.ndarray      # (n_trials, n_lines)
    line_claims: np.ndarray    # (n_trials, n_lines)
    occ_trial: np.ndarray      # (n_occ,)
    occ_day: np.ndarray        # (n_occ,)
    occ_event: np.ndarray      # (n_occ,), catastrophe index or -1
    risk_occ: np.ndarray       # (n_risk,), index into the occ_* arrays
    risk_line: np.ndarray      # (n_risk,)
    risk_policy: np.ndarray    # (n_risk,)
    risk_loss: np.ndarray      # (n_risk,)

    @property
    def n_trials(self) -> int:
        return self.line_loss.shape[0]

    @property
    def n_risk_losses(self) -> int:
        return len(self.risk_loss)


class NumpyLossModel:
    """The scenario's loss sections, simulated with NumPy."""

    def __init__(self, scenario: Scenario, exposure: Exposure):
        self.scenario = scenario
        self.exposure = exposure
        lines = scenario.lines
        self.n_lines = len(lines)
        self.line_start = exposure.line_start
        self.n_policies = np.diff(exposure.line_start)
        dependence = scenario.dependence
        self.copula = dependence.copula
        self.df = float(dependence.df)
        correlation = np.eye(self.n_lines)
        for a, b, rho in dependence.correlation:
            i, j = scenario.line_index(a), scenario.line_index(b)
            correlation[i, j] = correlation[j, i] = rho
        try:
            self.cholesky = np.linalg.cholesky(correlation)
        except np.linalg.LinAlgError:
            values, vectors = np.linalg.eigh(correlation)
            self.cholesky = vectors * np.sqrt(np.clip(values, 0.0, None))
        self.cat_lines = [[scenario.line_index(name) for name in cat.lines] for cat in scenario.catastrophes]

    # -- risk levels ---------------------------------------------------------
    def risk_levels(self, rng: np.random.Generator, n_trials: int) -> np.ndarray:
        """Gamma multipliers (mean 1, CV = uncertainty) joined by the copula, ``(n_trials, n_lines)``."""
        normals = rng.standard_normal((n_trials, self.n_lines))
        if self.copula == "independent":
            uniforms = special.ndtr(normals)
        else:
            correlated = normals @ self.cholesky.T
            if self.copula == "t":
                chi_square = rng.chisquare(self.df, n_trials)
                uniforms = special.stdtr(self.df, correlated / np.sqrt(chi_square / self.df)[:, None])
            else:
                uniforms = special.ndtr(correlated)
        levels = np.ones((n_trials, self.n_lines))
        for j, line in enumerate(self.scenario.lines):
            if line.uncertainty > 0.0:
                shape = 1.0 / line.uncertainty ** 2
                levels[:, j] = special.gammaincinv(shape, uniforms[:, j]) / shape
        return levels

    def _losses(self, rng, damage, is_ratio, policy):
        """Loss after the policy's deductible and limit for one claim on each of ``policy``."""
        exposure = self.exposure
        ground_up = draw(rng, damage, policy.size)
        if is_ratio:
            ground_up *= exposure.sum_insured[policy]
        return np.minimum(np.maximum(ground_up - exposure.deductible[policy], 0.0), exposure.limit[policy])

    # -- one chunk -------------------------------------------------------------
    def simulate(self, rng: np.random.Generator, n_trials: int) -> NumpyChunk:
        """Gross losses of ``n_trials`` trials."""
        scenario = self.scenario
        levels = self.risk_levels(rng, n_trials)
        occ_trial, occ_day, occ_event = [], [], []
        risk_occ, risk_line, risk_policy, risk_loss = [], [], [], []
        n_occ = 0

        for j, line in enumerate(scenario.lines):
            probability = claim_probability(line.frequency, levels[:, j])
            claiming = rng.binomial(int(self.n_policies[j]), probability)
            trial, position = distinct_hits(rng, claiming, int(self.n_policies[j]))
            counts = positive_counts(rng, line.frequency, levels[trial, j])
            claim_trial = np.repeat(trial, counts)
            policy = self.line_start[j] + np.repeat(position, counts)
            damage = line.severity or line.damage_ratio
            loss = self._losses(rng, damage, line.severity is None, policy)
            n = claim_trial.size
            occ_trial.append(claim_trial)
            occ_day.append(DAYS_IN_YEAR * rng.random(n))
            occ_event.append(np.full(n, -1, dtype=np.int64))
            risk_occ.append(n_occ + np.arange(n, dtype=np.int64))
            risk_line.append(np.full(n, j, dtype=np.int64))
            risk_policy.append(policy)
            risk_loss.append(loss)
            n_occ += n

        for c, cat in enumerate(scenario.catastrophes):
            events = rng.poisson(cat.rate, n_trials)
            event_trial = np.repeat(np.arange(n_trials, dtype=np.int64), events)
            n_events = event_trial.size
            share = np.clip(draw(rng, cat.affected_share, n_events), 0.0, 1.0)
            occ_trial.append(event_trial)
            occ_day.append(DAYS_IN_YEAR * rng.random(n_events))
            occ_event.append(np.full(n_events, c, dtype=np.int64))
            damage = cat.severity or cat.damage_ratio
            for j in self.cat_lines[c]:
                hits = rng.binomial(int(self.n_policies[j]), share)
                event, position = distinct_hits(rng, hits, int(self.n_policies[j]))
                policy = self.line_start[j] + position
                risk_occ.append(n_occ + event)
                risk_line.append(np.full(event.size, j, dtype=np.int64))
                risk_policy.append(policy)
                risk_loss.append(self._losses(rng, damage, cat.severity is None, policy))
            n_occ += n_events

        occ_trial = np.concatenate(occ_trial)
        risk_occ = np.concatenate(risk_occ)
        risk_line = np.concatenate(risk_line)
        risk_loss = np.concatenate(risk_loss)
        risk_trial = occ_trial[risk_occ]
        cell = risk_trial * self.n_lines + risk_line
        size = n_trials * self.n_lines
        line_loss = np.bincount(cell, weights=risk_loss, minlength=size).reshape(n_trials, self.n_lines)
        line_claims = np.bincount(cell, minlength=size).reshape(n_trials, self.n_lines)
        return NumpyChunk(line_loss=line_loss, line_claims=line_claims, occ_trial=occ_trial,
                          occ_day=np.concatenate(occ_day), occ_event=np.concatenate(occ_event),
                          risk_occ=risk_occ, risk_line=risk_line,
                          risk_policy=np.concatenate(risk_policy), risk_loss=risk_loss)


def chunk_rng(seed: int, first_trial: int) -> np.random.Generator:
    """The chunk's own generator (NumPy has no cheap per-trial streams; chunks differ by first trial)."""
    return np.random.default_rng([seed, first_trial])


# ---------------------------------------------------------------------------
# The pool programme
# ---------------------------------------------------------------------------

def _masked(covered, values):
    """``values`` where ``covered`` (bool array, or True for every risk loss), else 0."""
    return values if covered is True else np.where(covered, values, 0.0)


def _layer(loss, retention, limit):
    return np.minimum(np.maximum(loss - retention, 0.0), limit)


@dataclass(frozen=True)
class _Placed:
    treaty: Treaty
    cedant: int                    # -1 pool, else member index
    covered_line: np.ndarray       # (n_lines,) bool
    panel: np.ndarray              # (n_reinsurers,)
    ceded_fraction: np.ndarray | None   # surplus, (n_policies,)
    subject_premium: float


class NumpyProgramme:
    """The pool's joint programme, members' own programmes and reinsurer defaults, in NumPy."""

    def __init__(self, scenario: Scenario, exposure: Exposure):
        self.scenario = scenario
        self.exposure = exposure
        names = [r.name for r in scenario.reinsurers]
        self.n_members = len(scenario.pool.members)
        self.n_reinsurers = len(names)
        self.shares = np.array([m.share for m in scenario.pool.members])
        self.default_probability = np.array([r.default_probability for r in scenario.reinsurers])
        self.recovery_rate = np.array([r.recovery_rate for r in scenario.reinsurers])
        self.capital = np.array([r.capital for r in scenario.reinsurers])

        def place(treaties, cedant, premium, sum_insured):
            retained = np.ones(exposure.n_policies)
            placed = []
            for treaty in treaties:
                covered_line = np.ones(len(scenario.lines), dtype=np.bool_)
                if treaty.lines is not None:
                    covered_line[:] = False
                    covered_line[[scenario.line_index(n) for n in treaty.lines]] = True
                covered = covered_line[exposure.line]
                subject = float(np.where(covered, premium * retained, 0.0).sum())
                panel = np.zeros(len(names))
                for name, share in treaty.panel:
                    panel[names.index(name)] += share
                fraction = None
                if treaty.type == "quota_share":
                    retained = retained * (1.0 - np.where(covered, treaty.cession, 0.0))
                elif treaty.type == "surplus":
                    held = sum_insured * retained     # the sum insured the earlier treaties leave
                    ceded_si = np.clip(held - treaty.retention, 0.0, treaty.surplus_lines * treaty.retention)
                    fraction = np.divide(ceded_si, held, out=np.zeros_like(held), where=held > 0)
                    retained = retained * (1.0 - np.where(covered, fraction, 0.0))
                placed.append(_Placed(treaty, cedant, covered_line, panel, fraction, subject))
            return placed, retained

        self.pool_treaties, pool_retained = place(scenario.pool.reinsurance, -1,
                                                  exposure.premium, exposure.sum_insured)
        self.member_treaties = [place(m.reinsurance, i, m.share * exposure.premium * pool_retained,
                                      m.share * exposure.sum_insured * pool_retained)[0]
                                for i, m in enumerate(scenario.pool.members)]

    def apply(self, chunk: NumpyChunk, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Every party's money per trial: ``gross_loss``, ``ceded_loss``, ``default_loss``,
        ``net_loss``, ``reinstatement_premium``, each ``(n_trials, 1 + n_members + n_reinsurers)``
        (pool, members, reinsurers)."""
        n_trials = chunk.n_trials
        # Day order, once: occurrences by (trial, day), risk losses by their occurrence's rank.
        # One float key instead of np.lexsort((day, trial)), which is ~10x slower here; exact
        # because day < 365 < 512 and trial * 512 is an integer far below 2**53.
        occ_order = np.argsort(chunk.occ_trial * 512.0 + chunk.occ_day)
        rank = np.empty_like(occ_order)
        rank[occ_order] = np.arange(occ_order.size)
        risk_order = np.argsort(rank[chunk.risk_occ], kind="stable")
        occ = rank[chunk.risk_occ][risk_order]          # occurrence (sorted position) of each risk loss
        occ_trial = chunk.occ_trial[occ_order]
        occ_day = chunk.occ_day[occ_order]
        occ_event = chunk.occ_event[occ_order]
        risk_trial = occ_trial[occ]
        risk_line = chunk.risk_line[risk_order]
        risk_policy = chunk.risk_policy[risk_order]
        gross = chunk.risk_loss[risk_order]
        trial_start_occ = np.searchsorted(occ_trial, np.arange(n_trials))
        trial_start_risk = np.searchsorted(risk_trial, np.arange(n_trials))
        ctx = dict(n_trials=n_trials, occ=occ, occ_trial=occ_trial, occ_day=occ_day, occ_event=occ_event,
                   risk_trial=risk_trial, risk_line=risk_line, risk_policy=risk_policy,
                   trial_start_occ=trial_start_occ, trial_start_risk=trial_start_risk)

        n_parties = 1 + self.n_members + self.n_reinsurers
        out = {name: np.zeros((n_trials, n_parties)) for name in
               ("gross_loss", "ceded_loss", "default_loss", "net_loss", "reinstatement_premium")}
        pool_gross = np.bincount(risk_trial, weights=gross, minlength=n_trials)
        outcomes = []     # (placed, ceded per trial)
        net = gross.copy()
        for placed in self.pool_treaties:
            ceded, premium = self._apply(placed, net, ctx)
            outcomes.append((placed, ceded, premium))
        for m, treaties in enumerate(self.member_treaties):
            member_net = self.shares[m] * net
            for placed in treaties:
                ceded, premium = self._apply(placed, member_net, ctx)
                outcomes.append((placed, ceded, premium))

        members = slice(1, 1 + self.n_members)
        reinsurers = slice(1 + self.n_members, n_parties)
        owed = np.zeros((n_trials, self.n_reinsurers))
        for placed, ceded, premium in outcomes:
            portion = self.shares if placed.cedant < 0 else np.eye(self.n_members)[placed.cedant]
            out["ceded_loss"][:, members] += np.outer(ceded, portion)
            out["reinstatement_premium"][:, members] += np.outer(premium, portion)
            owed += np.outer(ceded, placed.panel)
        defaulted = (rng.random((n_trials, self.n_reinsurers)) < self.default_probability) | (owed > self.capital)
        unpaid_share = np.where(defaulted, 1.0 - self.recovery_rate, 0.0)
        for placed, ceded, _ in outcomes:
            portion = self.shares if placed.cedant < 0 else np.eye(self.n_members)[placed.cedant]
            out["default_loss"][:, members] += np.outer(ceded * (unpaid_share @ placed.panel), portion)
        out["gross_loss"][:, members] = np.outer(pool_gross, self.shares)
        out["net_loss"][:, members] = (out["gross_loss"][:, members] - out["ceded_loss"][:, members]
                                       + out["default_loss"][:, members])
        out["gross_loss"][:, reinsurers] = owed
        out["default_loss"][:, reinsurers] = owed * unpaid_share
        out["net_loss"][:, reinsurers] = owed - owed * unpaid_share
        for name in out:
            out[name][:, 0] = out[name][:, members].sum(axis=1)
        out["gross_loss"][:, 0] = pool_gross
        return out

    # -- one treaty on the cedant's net loss (n_risk,), in place -------------------
    def _apply(self, placed: _Placed, net: np.ndarray, ctx) -> tuple[np.ndarray, np.ndarray]:
        """Cede ``placed``'s share of ``net`` (modified in place); return ceded and reinstatement
        premium per trial, each ``(n_trials,)``."""
        treaty = placed.treaty
        n_trials = ctx["n_trials"]
        premium = np.zeros(n_trials)
        if placed.covered_line.all():
            covered = True          # skips a gather of n_risk booleans; np.where broadcasts it
        else:
            covered = placed.covered_line[ctx["risk_line"]]
        if treaty.type == "quota_share":
            ceded = _masked(covered, treaty.cession * net)
        elif treaty.type == "surplus":
            ceded = _masked(covered, placed.ceded_fraction[ctx["risk_policy"]] * net)
        elif treaty.type == "per_risk_xl":
            to_layer = _masked(covered, _layer(net, treaty.retention, treaty.limit))
            recovery, premium = self._aggregate(treaty, to_layer, ctx["risk_trial"], ctx["trial_start_risk"],
                                                ctx["occ_day"][ctx["occ"]], n_trials)
            ceded = np.minimum(recovery, net)
        elif treaty.type == "cat_xl":
            n_occ = len(ctx["occ_trial"])
            occurrence_loss = np.bincount(ctx["occ"], weights=_masked(covered, net), minlength=n_occ)
            to_layer = _layer(occurrence_loss, treaty.retention, treaty.limit)
            recovery, premium = self._aggregate(treaty, to_layer, ctx["occ_trial"], ctx["trial_start_occ"],
                                                ctx["occ_day"], n_trials)
            share = np.divide(recovery, occurrence_loss, out=np.zeros(n_occ), where=occurrence_loss > 0.0)
            ceded = _masked(covered, np.minimum(share, 1.0)[ctx["occ"]] * net)
        elif treaty.type == "stop_loss":
            annual = np.bincount(ctx["risk_trial"], weights=_masked(covered, net), minlength=n_trials)
            limit = math.inf if treaty.limit == math.inf else treaty.limit * placed.subject_premium
            recovery = _layer(annual, treaty.attachment * placed.subject_premium, limit)
            share = np.divide(recovery, annual, out=np.zeros(n_trials), where=annual > 0.0)
            ceded = _masked(covered, np.minimum(share, 1.0)[ctx["risk_trial"]] * net)
        else:
            raise ValueError(treaty.type)
        net -= ceded
        return np.bincount(ctx["risk_trial"], weights=ceded, minlength=n_trials), premium

    @staticmethod
    def _aggregate(treaty: Treaty, to_layer, group, group_start, day, n_trials):
        """Annual aggregate terms and reinstatements over losses sorted by (trial, day).

        Per-trial running totals come from one cumulative sum less each
        trial's starting value. Returns the recovery per loss and the
        reinstatement premium per trial.
        """
        limit = treaty.limit
        if treaty.reinstatements > 0:
            reinstatable = treaty.reinstatements * limit
            aggregate_limit = min(treaty.aggregate_limit, (treaty.reinstatements + 1) * limit)
        else:
            reinstatable, aggregate_limit = 0.0, min(treaty.aggregate_limit, limit)
        rate = (treaty.reinstatement_premium * treaty.layer_premium() / limit
                if 0.0 < limit < math.inf else 0.0)
        running = np.cumsum(to_layer)
        before_trial = np.concatenate([[0.0], running])[group_start]     # (n_trials,)
        after = running - before_trial[group]
        before = after - to_layer
        add = treaty.aggregate_deductible
        recovery = np.clip(_layer(after, add, aggregate_limit) - _layer(before, add, aggregate_limit),
                           0.0, to_layer)
        premium = np.zeros(n_trials)
        if rate > 0.0 and reinstatable > 0.0:
            recovered = np.cumsum(recovery)
            recovered_before_trial = np.concatenate([[0.0], recovered])[group_start]
            recovered_after = recovered - recovered_before_trial[group]
            reinstated = (np.minimum(recovered_after, reinstatable)
                          - np.minimum(recovered_after - recovery, reinstatable))
            if treaty.reinstatement_basis == "amount_and_time":
                reinstated = reinstated * np.maximum(DAYS_IN_YEAR - day, 0.0) / DAYS_IN_YEAR
            premium = rate * np.bincount(group, weights=reinstated, minlength=n_trials)
        return recovery, premium
