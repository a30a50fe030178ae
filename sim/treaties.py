"""Treaty kernels: one pure function per treaty type, on the occurrence table's arrays.

Every kernel reads the cedant's current net loss per risk loss and writes what
the treaty takes of it, ``ceded``. Then :func:`retain` subtracts ``ceded`` from
``net`` and sums it by trial, so the next treaty in the programme works on the
loss net of this one (inuring order). The caller (:mod:`sim.pool`) asks the
kernel to do that itself (``retain=`` of the wrappers): each risk loss is taken
off ``net`` as soon as its ceded loss is known, in the same loop, and the sums
are added in the same order, so the numbers are :func:`retain`'s bit for bit
with one pass over the risk losses fewer. Without ``retain=`` a kernel never
touches ``net``.

Shapes, with the CSR layout of :class:`sim.occurrences.LossChunk`::

    occ_offsets   int64   (n_trials + 1,)   occurrences of trial t: occ_offsets[t]:occ_offsets[t+1]
    risk_offsets  int64   (n_occ + 1,)      risk losses of occurrence k: risk_offsets[k]:risk_offsets[k+1]
    occ_day       float64 (n_occ,)          sorted within each trial
    covered       bool    (n_risk,)         the risk loss is on a line the treaty covers
    net           float64 (n_risk,)         the cedant's loss before this treaty
    ceded         float64 (n_risk,)         out: what the treaty takes, 0 <= ceded <= net
                                            (per-trial functions: None records nothing)

Trials are independent, so every kernel is a ``prange`` over trials of a
per-trial function (``_quota_share_trial`` ...), which :mod:`sim.pool` also
calls directly to run a whole programme trial by trial; within a trial, the
aggregate terms and reinstatements of an XL layer make the occurrences depend
on each other, so they are walked in day order.

Money conventions (``sim.model.Treaty``): XL ``limit`` may be ``inf``; the
kernels therefore use plain IEEE comparisons and are never compiled with
``fastmath``. Every recovery is clipped to ``[0, net]`` so rounding in a
running aggregate can never cede more than the cedant has.
"""
from __future__ import annotations

import math

import numpy as np

from .jit import jit, parallel_jit, prange
from .occurrences import DAYS_IN_YEAR


# ---------------------------------------------------------------------------
# Scalar pieces shared by the layer kernels
# ---------------------------------------------------------------------------

@jit
def layer_loss(loss, retention, limit):
    """Loss to a layer ``limit xs retention``: ``min(max(loss - retention, 0), limit)``."""
    return min(max(loss - retention, 0.0), limit)


@jit
def aggregate_increase(total_before, recovery, aggregate_deductible, aggregate_limit):
    """Recovery left after the annual aggregate terms, for one more loss to the layer.

    The running total of layer losses is passed through
    ``min(max(total - AAD, 0), AAL)``; a loss recovers the increase of that
    clipped total. Clipped to ``[0, recovery]`` because ``total + recovery``
    rounds, and a recovery must never exceed the loss to the layer.
    """
    before = layer_loss(total_before, aggregate_deductible, aggregate_limit)
    after = layer_loss(total_before + recovery, aggregate_deductible, aggregate_limit)
    return min(max(after - before, 0.0), recovery)


@jit
def time_factor(day, pro_rata_time):
    """Share of the year left at ``day``, for reinstatements pro rata as to time; else 1."""
    if pro_rata_time:
        return max(DAYS_IN_YEAR - day, 0.0) / DAYS_IN_YEAR
    return 1.0


@jit
def _reinstate(recovery, reinstated, premium, reinstatable, reinstatement_rate, day, pro_rata_time):
    """Reinstate the limit a recovery used, up to what is still reinstatable; charge for it.

    Returns the updated ``(reinstated, premium)``: the limit reinstated so far
    in the year and the reinstatement premium due so far.
    """
    if recovery > 0.0:
        reinstatement = min(recovery, reinstatable - reinstated)
        reinstated += reinstatement
        premium += reinstatement_rate * reinstatement * time_factor(day, pro_rata_time)
    return reinstated, premium


# ---------------------------------------------------------------------------
# Retaining as a kernel goes
# ---------------------------------------------------------------------------

@jit
def _cede(r, amount, ceded, net, retained):
    """Record ``amount`` as risk loss ``r``'s ceded loss and return it; when ``retained``, also
    take it off ``net`` (what :func:`retain` does, once ``ceded[r]`` is final).

    ``ceded=None`` records nothing: :mod:`sim.pool` wants only the nets and the sums.
    (numba compiles a version for None with the branch gone.)
    """
    if ceded is not None:
        ceded[r] = amount
    if retained:
        net[r] -= amount
    return amount


@jit
def _cede_nothing(r, ceded):
    """:func:`_cede` of ``+0.0``: ``net - 0.0`` is ``net`` bit for bit, so only the record is made."""
    if ceded is not None:
        ceded[r] = 0.0


@jit
def _book(k, occurrence_ceded, occ_event, retained, total, cat_total):
    """Add occurrence ``k``'s ceded loss to the trial's ``(total, cat_total)``, the latter only
    for a catastrophe event (``occ_event[k] >= 0``), in :func:`retain`'s order. Without
    ``retained`` the sums are not wanted (``occ_event`` may be empty) and stay as they are."""
    if retained:
        total += occurrence_ceded
        if occ_event[k] >= 0:
            cat_total += occurrence_ceded
    return total, cat_total


# ---------------------------------------------------------------------------
# Proportional treaties
# ---------------------------------------------------------------------------

@parallel_jit
def quota_share_kernel(occ_offsets, risk_offsets, covered, net, cession, ceded,
                       retained, occ_event, ceded_by_trial, cat_ceded_by_trial):
    """Quota share: ``ceded = cession * net`` on covered risk losses. Writes ``ceded`` (n_risk,);
    when ``retained``, also does :func:`retain`'s work for each trial."""
    n_trials = len(occ_offsets) - 1
    for t in prange(n_trials):
        total, cat_total = _quota_share_trial(t, occ_offsets, risk_offsets, covered, net, cession, ceded,
                                              retained, occ_event)
        if retained:
            ceded_by_trial[t] = total
            cat_ceded_by_trial[t] = cat_total


@jit
def _quota_share_trial(t, occ_offsets, risk_offsets, covered, net, cession, ceded, retained, occ_event):
    """:func:`quota_share_kernel` for trial ``t``: returns its ``(ceded, catastrophe ceded)``
    when ``retained``, zeros otherwise."""
    total = 0.0
    cat_total = 0.0
    for k in range(occ_offsets[t], occ_offsets[t + 1]):
        occurrence_ceded = 0.0
        for r in range(risk_offsets[k], risk_offsets[k + 1]):
            occurrence_ceded += _cede(r, cession * net[r] if covered[r] else 0.0, ceded, net, retained)
        total, cat_total = _book(k, occurrence_ceded, occ_event, retained, total, cat_total)
    return total, cat_total


@parallel_jit
def surplus_kernel(occ_offsets, risk_offsets, covered, net, risk_policy, ceded_fraction, ceded,
                   retained, occ_event, ceded_by_trial, cat_ceded_by_trial):
    """Surplus: ``ceded = f[policy] * net`` on covered risk losses.

    ``ceded_fraction`` is ``(n_policies,)``, from :func:`surplus_fraction`.
    Writes ``ceded`` (n_risk,); ``retained`` as :func:`quota_share_kernel`.
    """
    n_trials = len(occ_offsets) - 1
    for t in prange(n_trials):
        total, cat_total = _surplus_trial(t, occ_offsets, risk_offsets, covered, net, risk_policy, ceded_fraction,
                                          ceded, retained, occ_event)
        if retained:
            ceded_by_trial[t] = total
            cat_ceded_by_trial[t] = cat_total


@jit
def _surplus_trial(t, occ_offsets, risk_offsets, covered, net, risk_policy, ceded_fraction, ceded,
                   retained, occ_event):
    """:func:`surplus_kernel` for trial ``t``; returns as :func:`_quota_share_trial`."""
    total = 0.0
    cat_total = 0.0
    for k in range(occ_offsets[t], occ_offsets[t + 1]):
        occurrence_ceded = 0.0
        for r in range(risk_offsets[k], risk_offsets[k + 1]):
            amount = ceded_fraction[risk_policy[r]] * net[r] if covered[r] else 0.0
            occurrence_ceded += _cede(r, amount, ceded, net, retained)
        total, cat_total = _book(k, occurrence_ceded, occ_event, retained, total, cat_total)
    return total, cat_total


def surplus_fraction(sum_insured: np.ndarray, retention: float, surplus_lines: float) -> np.ndarray:
    """Ceded fraction of each risk under a surplus treaty, shape ``(n_policies,)``.

    ``f = min(max(SI - R, 0), n * R) / SI``; a policy with no sum insured cedes nothing.
    """
    sum_insured = np.asarray(sum_insured, dtype=np.float64)
    capacity = surplus_lines * retention
    ceded_sum_insured = np.minimum(np.maximum(sum_insured - retention, 0.0), capacity)
    out = np.zeros_like(sum_insured)
    np.divide(ceded_sum_insured, sum_insured, out=out, where=sum_insured > 0)
    return out


# ---------------------------------------------------------------------------
# Excess of loss: per risk, per occurrence (cat), and stop loss
# ---------------------------------------------------------------------------

@parallel_jit
def excess_of_loss_kernel(per_occurrence, occ_offsets, risk_offsets, occ_day, covered, net,
                          retention, limit, aggregate_deductible, aggregate_limit,
                          reinstatable, reinstatement_rate, pro_rata_time,
                          ceded, reinstatement_premium, retained, occ_event, ceded_by_trial, cat_ceded_by_trial):
    """Excess of loss with annual aggregate terms and reinstatements: per risk
    (:func:`_per_risk_xl_trial`), or per occurrence when ``per_occurrence``
    (:func:`_cat_xl_trial`).

    Parameters
    ----------
    reinstatable : float
        Limit that may be reinstated in the year (see :func:`layer_terms`).
    reinstatement_rate : float
        ``reinstatement_premium * layer_premium / limit`` (0 for an unlimited layer).
    ceded : float64 (n_risk,)
        Out: recovery per risk loss.
    reinstatement_premium : float64 (n_trials,)
        Out: reinstatement premium due by the cedant in each trial.
    retained, occ_event, ceded_by_trial, cat_ceded_by_trial
        When ``retained``, :func:`retain`'s work for each trial, with its arguments.
    """
    n_trials = len(occ_offsets) - 1
    for t in prange(n_trials):
        reinstatement_premium[t], total, cat_total = _excess_of_loss_trial(
            per_occurrence, t, occ_offsets, risk_offsets, occ_day, covered, net, retention, limit,
            aggregate_deductible, aggregate_limit, reinstatable, reinstatement_rate, pro_rata_time, ceded,
            retained, occ_event)
        if retained:
            ceded_by_trial[t] = total
            cat_ceded_by_trial[t] = cat_total


@jit
def _excess_of_loss_trial(per_occurrence, t, occ_offsets, risk_offsets, occ_day, covered, net,
                          retention, limit, aggregate_deductible, aggregate_limit,
                          reinstatable, reinstatement_rate, pro_rata_time, ceded, retained, occ_event):
    """:func:`excess_of_loss_kernel` for trial ``t``: writes its ``ceded``, returns its
    ``(reinstatement premium, ceded, catastrophe ceded)`` (the last two as :func:`_quota_share_trial`)."""
    if per_occurrence:
        return _cat_xl_trial(t, occ_offsets, risk_offsets, occ_day, covered, net, retention, limit,
                             aggregate_deductible, aggregate_limit, reinstatable, reinstatement_rate,
                             pro_rata_time, ceded, retained, occ_event)
    return _per_risk_xl_trial(t, occ_offsets, risk_offsets, occ_day, covered, net, retention, limit,
                              aggregate_deductible, aggregate_limit, reinstatable, reinstatement_rate,
                              pro_rata_time, ceded, retained, occ_event)


@jit
def _per_risk_xl_trial(t, occ_offsets, risk_offsets, occ_day, covered, net,
                       retention, limit, aggregate_deductible, aggregate_limit,
                       reinstatable, reinstatement_rate, pro_rata_time, ceded, retained, occ_event):
    """Per-risk XL on trial ``t``: writes its ``ceded``, returns as :func:`_excess_of_loss_trial`.

    Each covered risk loss, occurrence by occurrence in day order, recovers
    ``min(max(net - retention, 0), limit)``, reduced by the aggregate terms
    (:func:`aggregate_increase`). Each recovery reinstates
    ``min(recovery, reinstatable left)`` of limit at ``reinstatement_rate``
    per unit of limit (times the share of the year left when ``pro_rata_time``).
    """
    total = 0.0            # layer losses so far, before the aggregate terms
    reinstated = 0.0       # limit reinstated so far
    premium = 0.0
    ceded_total = 0.0
    cat_ceded_total = 0.0
    for k in range(occ_offsets[t], occ_offsets[t + 1]):
        occurrence_ceded = 0.0
        for r in range(risk_offsets[k], risk_offsets[k + 1]):
            # Adding +0.0 to a sum that started at +0.0 changes nothing: no addition.
            if not covered[r]:
                _cede_nothing(r, ceded)
                continue
            loss = net[r]
            to_layer = layer_loss(loss, retention, limit)
            if to_layer == 0.0:     # most losses: below the retention, nothing to the layer or the aggregate
                _cede_nothing(r, ceded)
                continue
            recovery = min(aggregate_increase(total, to_layer, aggregate_deductible, aggregate_limit), loss)
            total += to_layer
            occurrence_ceded += _cede(r, recovery, ceded, net, retained)
            reinstated, premium = _reinstate(recovery, reinstated, premium, reinstatable,
                                             reinstatement_rate, occ_day[k], pro_rata_time)
        ceded_total, cat_ceded_total = _book(k, occurrence_ceded, occ_event, retained, ceded_total, cat_ceded_total)
    return premium, ceded_total, cat_ceded_total


@jit
def _cat_xl_trial(t, occ_offsets, risk_offsets, occ_day, covered, net,
                  retention, limit, aggregate_deductible, aggregate_limit,
                  reinstatable, reinstatement_rate, pro_rata_time, ceded, retained, occ_event):
    """Per-occurrence (catastrophe) XL on trial ``t``: writes its ``ceded``, returns as
    :func:`_excess_of_loss_trial`.

    The occurrence's loss is the sum of its covered net risk losses; its
    recovery is given back to those risk losses pro rata to their net, so the
    treaties after this one and the occurrence metrics see it.
    """
    total = 0.0
    reinstated = 0.0
    premium = 0.0
    ceded_total = 0.0
    cat_ceded_total = 0.0
    for k in range(occ_offsets[t], occ_offsets[t + 1]):
        occurrence_loss = 0.0
        for r in range(risk_offsets[k], risk_offsets[k + 1]):
            if covered[r]:
                occurrence_loss += net[r]
        to_layer = layer_loss(occurrence_loss, retention, limit)
        if to_layer == 0.0:     # most occurrences: below the retention, nothing to the layer or the aggregate
            for r in range(risk_offsets[k], risk_offsets[k + 1]):
                _cede_nothing(r, ceded)     # with ceded=None an empty loop, which LLVM drops
            continue
        recovery = aggregate_increase(total, to_layer, aggregate_deductible, aggregate_limit)
        total += to_layer
        # min(.., 1): the ratio of two rounded numbers may exceed 1 by an ulp
        ceded_share = min(recovery / occurrence_loss, 1.0) if occurrence_loss > 0.0 else 0.0
        occurrence_ceded = 0.0
        for r in range(risk_offsets[k], risk_offsets[k + 1]):
            occurrence_ceded += _cede(r, ceded_share * net[r] if covered[r] else 0.0, ceded, net, retained)
        ceded_total, cat_ceded_total = _book(k, occurrence_ceded, occ_event, retained, ceded_total, cat_ceded_total)
        reinstated, premium = _reinstate(recovery, reinstated, premium, reinstatable,
                                         reinstatement_rate, occ_day[k], pro_rata_time)
    return premium, ceded_total, cat_ceded_total


@parallel_jit
def stop_loss_kernel(occ_offsets, risk_offsets, covered, net, attachment, limit, ceded,
                     retained, occ_event, ceded_by_trial, cat_ceded_by_trial):
    """Stop loss on the trial's covered net loss ``S``: recovery ``min(max(S - attachment, 0), limit)``.

    ``attachment`` and ``limit`` are money (the loss ratios times the subject
    premium). The recovery is given back to the covered risk losses pro rata
    to their net. Writes ``ceded`` (n_risk,); ``retained`` as :func:`quota_share_kernel`.
    """
    n_trials = len(occ_offsets) - 1
    for t in prange(n_trials):
        total, cat_total = _stop_loss_trial(t, occ_offsets, risk_offsets, covered, net, attachment, limit, ceded,
                                            retained, occ_event)
        if retained:
            ceded_by_trial[t] = total
            cat_ceded_by_trial[t] = cat_total


@jit
def _stop_loss_trial(t, occ_offsets, risk_offsets, covered, net, attachment, limit, ceded, retained, occ_event):
    """:func:`stop_loss_kernel` for trial ``t``; returns as :func:`_quota_share_trial`."""
    annual_loss = 0.0
    for r in range(risk_offsets[occ_offsets[t]], risk_offsets[occ_offsets[t + 1]]):
        if covered[r]:
            annual_loss += net[r]
    recovery = layer_loss(annual_loss, attachment, limit)
    ceded_share = min(recovery / annual_loss, 1.0) if annual_loss > 0.0 else 0.0
    if ceded_share == 0.0 and ceded is None:
        # most trials: below the attachment. Ceding 0 * net (+0.0, losses are never negative)
        # changes no net and no sum, and there is nothing to record.
        return 0.0, 0.0
    # given back pro rata: for this trial, a quota share of ceded_share
    return _quota_share_trial(t, occ_offsets, risk_offsets, covered, net, ceded_share, ceded, retained, occ_event)


# ---------------------------------------------------------------------------
# Bookkeeping after a treaty
# ---------------------------------------------------------------------------

@jit
def _retain_trial(t, occ_offsets, risk_offsets, occ_event, ceded, net, ceded_by_trial, cat_ceded_by_trial):
    """:func:`retain` for trial ``t``."""
    total = 0.0
    cat_total = 0.0
    for k in range(occ_offsets[t], occ_offsets[t + 1]):
        occurrence_ceded = 0.0
        for r in range(risk_offsets[k], risk_offsets[k + 1]):
            net[r] -= ceded[r]
            occurrence_ceded += ceded[r]
        total += occurrence_ceded
        if occ_event[k] >= 0:
            cat_total += occurrence_ceded
    ceded_by_trial[t] = total
    cat_ceded_by_trial[t] = cat_total


@parallel_jit
def retain(occ_offsets, risk_offsets, occ_event, ceded, net, ceded_by_trial, cat_ceded_by_trial):
    """Subtract ``ceded`` from ``net`` in place and sum it by trial.

    Writes ``ceded_by_trial`` (n_trials,) and ``cat_ceded_by_trial``
    (n_trials,), the part ceded on catastrophe events (``occ_event >= 0``).
    The kernels' ``retained`` mode does the same, bit for bit, as they go.
    """
    n_trials = len(occ_offsets) - 1
    for t in prange(n_trials):
        _retain_trial(t, occ_offsets, risk_offsets, occ_event, ceded, net, ceded_by_trial, cat_ceded_by_trial)


# ---------------------------------------------------------------------------
# Python wrappers: validate, resolve the terms, call the kernel
# ---------------------------------------------------------------------------

def _check(occ_offsets, risk_offsets, net, covered):
    n_risk = len(net)
    if len(covered) != n_risk:
        raise ValueError(f"covered has {len(covered)} entries, net has {n_risk}: one per risk loss")
    if len(occ_offsets) < 1 or len(risk_offsets) != occ_offsets[-1] + 1 or risk_offsets[-1] != n_risk:
        raise ValueError("occ_offsets / risk_offsets do not describe net: "
                         "need risk_offsets[occ_offsets[-1]] == len(net)")


_NO_EVENTS = np.empty(0, dtype=np.int64)
_NO_TRIALS = np.empty(0, dtype=np.float64)


def _retain_arguments(retain, occ_offsets) -> tuple:
    """A kernel's ``(retained, occ_event, ceded_by_trial, cat_ceded_by_trial)`` from a wrapper's
    ``retain``: None, or ``(occ_event (n_occ,), ceded_by_trial (n_trials,), cat_ceded_by_trial
    (n_trials,))`` as :func:`retain` takes them."""
    if retain is None:
        return False, _NO_EVENTS, _NO_TRIALS, _NO_TRIALS
    occ_event, ceded_by_trial, cat_ceded_by_trial = retain
    n_trials = len(occ_offsets) - 1
    if len(occ_event) != occ_offsets[-1] or len(ceded_by_trial) != n_trials or len(cat_ceded_by_trial) != n_trials:
        raise ValueError("retain needs occ_event (n_occ,), ceded_by_trial and cat_ceded_by_trial (n_trials,)")
    return True, occ_event, ceded_by_trial, cat_ceded_by_trial


def layer_terms(limit: float, reinstatements: int, reinstatement_premium: float,
                layer_premium: float, aggregate_limit: float) -> tuple[float, float, float]:
    """Resolve an XL layer's yearly terms: ``(aggregate_limit, reinstatable, reinstatement_rate)``.

    - ``aggregate_limit``: at most ``(reinstatements + 1) * limit`` (the default),
    - ``reinstatable``: ``reinstatements * limit``, but no more than the aggregate limit leaves
      after the first limit, ``aggregate_limit - limit``: limit that could never be paid out
      is not reinstated, nor charged for (0 without reinstatements, or for an unlimited layer,
      where ``0 * inf`` would be nan),
    - ``reinstatement_rate``: premium per unit of limit reinstated,
      ``reinstatement_premium * layer_premium / limit``; 0 when the limit is 0 or unlimited.
    """
    total_limit = (reinstatements + 1) * limit if reinstatements > 0 else limit
    aggregate_limit = min(aggregate_limit, total_limit)
    if reinstatements > 0 and limit < math.inf:
        reinstatable = max(min(reinstatements * limit, aggregate_limit - limit), 0.0)
    else:
        reinstatable = 0.0
    if 0.0 < limit < math.inf:
        reinstatement_rate = reinstatement_premium * layer_premium / limit
    else:
        reinstatement_rate = 0.0
    return aggregate_limit, reinstatable, reinstatement_rate


def xl_terms(retention, limit, reinstatements=0, reinstatement_premium=1.0, layer_premium=0.0,
             aggregate_deductible=0.0, aggregate_limit=math.inf, pro_rata_time=False) -> tuple:
    """An XL layer's kernel arguments from its terms in the scenario: ``(retention, limit,
    aggregate_deductible, aggregate_limit, reinstatable, reinstatement_rate, pro_rata_time)``,
    as :func:`excess_of_loss_kernel` takes them (see :func:`layer_terms`)."""
    if retention < 0 or limit < 0 or aggregate_deductible < 0 or aggregate_limit < 0:
        raise ValueError("XL retention, limit and aggregate terms must be >= 0")
    aggregate_limit, reinstatable, reinstatement_rate = layer_terms(
        limit, reinstatements, reinstatement_premium, layer_premium, aggregate_limit)
    return (float(retention), float(limit), float(aggregate_deductible), float(aggregate_limit),
            float(reinstatable), float(reinstatement_rate), bool(pro_rata_time))


def stop_loss_terms(attachment, limit, subject_premium) -> tuple[float, float]:
    """A stop loss's ``(attachment, limit)`` in money, from loss ratios on ``subject_premium``."""
    # inf * 0 would be nan: an unlimited cover stays unlimited whatever the premium
    limit_money = math.inf if limit == math.inf else limit * subject_premium
    return float(attachment * subject_premium), float(limit_money)


def quota_share(occ_offsets, risk_offsets, covered, net, cession, ceded=None, retain=None):
    """Ceded loss per risk loss under a quota share; returns ``ceded`` (n_risk,).

    With ``retain=(occ_event, ceded_by_trial, cat_ceded_by_trial)``, also subtracts
    ``ceded`` from ``net`` and fills the two sums, as :func:`retain` does.
    """
    _check(occ_offsets, risk_offsets, net, covered)
    ceded = np.empty_like(net) if ceded is None else ceded
    quota_share_kernel(occ_offsets, risk_offsets, covered, net, float(cession), ceded,
                       *_retain_arguments(retain, occ_offsets))
    return ceded


def surplus(occ_offsets, risk_offsets, covered, net, risk_policy, ceded_fraction, ceded=None, retain=None):
    """Ceded loss per risk loss under a surplus; ``ceded_fraction`` from :func:`surplus_fraction`.

    With ``retain=(occ_event, ceded_by_trial, cat_ceded_by_trial)``, also subtracts
    ``ceded`` from ``net`` and fills the two sums, as :func:`retain` does.
    """
    _check(occ_offsets, risk_offsets, net, covered)
    ceded = np.empty_like(net) if ceded is None else ceded
    surplus_kernel(occ_offsets, risk_offsets, covered, net, risk_policy, ceded_fraction, ceded,
                   *_retain_arguments(retain, occ_offsets))
    return ceded


def excess_of_loss(per_occurrence, occ_offsets, risk_offsets, occ_day, covered, net, *,
                   retention, limit, reinstatements=0, reinstatement_premium=1.0,
                   layer_premium=0.0, aggregate_deductible=0.0, aggregate_limit=math.inf,
                   pro_rata_time=False, ceded=None, retain=None):
    """Per-risk (``per_occurrence=False``) or cat (``True``) XL.

    Returns ``(ceded (n_risk,), reinstatement_premium (n_trials,))``.

    With ``retain=(occ_event, ceded_by_trial, cat_ceded_by_trial)``, also subtracts
    ``ceded`` from ``net`` and fills the two sums, as :func:`retain` does.
    """
    _check(occ_offsets, risk_offsets, net, covered)
    terms = xl_terms(retention, limit, reinstatements, reinstatement_premium, layer_premium,
                     aggregate_deductible, aggregate_limit, pro_rata_time)
    ceded = np.empty_like(net) if ceded is None else ceded
    premium = np.empty(len(occ_offsets) - 1, dtype=np.float64)
    excess_of_loss_kernel(bool(per_occurrence), occ_offsets, risk_offsets, occ_day, covered, net, *terms,
                          ceded, premium, *_retain_arguments(retain, occ_offsets))
    return ceded, premium


def stop_loss(occ_offsets, risk_offsets, covered, net, *, attachment, limit, subject_premium, ceded=None,
              retain=None):
    """Stop loss with ``attachment`` and ``limit`` as loss ratios on ``subject_premium`` (money).

    Returns ``ceded`` (n_risk,).

    With ``retain=(occ_event, ceded_by_trial, cat_ceded_by_trial)``, also subtracts
    ``ceded`` from ``net`` and fills the two sums, as :func:`retain` does.
    """
    _check(occ_offsets, risk_offsets, net, covered)
    ceded = np.empty_like(net) if ceded is None else ceded
    stop_loss_kernel(occ_offsets, risk_offsets, covered, net, *stop_loss_terms(attachment, limit, subject_premium),
                     ceded, *_retain_arguments(retain, occ_offsets))
    return ceded
