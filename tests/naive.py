"""Slow, obvious references for the treaty kernels and the pool allocator (plain Python loops).

Written from the treaty formulas of docs/calibration.md (Reinsurance) and the issue,
independently of ``sim.treaties``:
the XL references clip the *cumulative* layer loss and take differences
(rather than carrying the increase loss by loss), and count reinstated limit
as ``min(cumulative recovery, reinstatements * limit, aggregate limit - limit)``.
"""
from __future__ import annotations

import math


def trials(occ_offsets, risk_offsets):
    """For each trial, its occurrences as ``(k, [risk indices])`` in table order."""
    result = []
    for t in range(len(occ_offsets) - 1):
        occurrences = []
        for k in range(occ_offsets[t], occ_offsets[t + 1]):
            occurrences.append((k, list(range(risk_offsets[k], risk_offsets[k + 1]))))
        result.append(occurrences)
    return result


def clip(x, low, width):
    """``min(max(x - low, 0), width)``, the loss to a layer ``width xs low``."""
    return min(max(x - low, 0.0), width)


def quota_share(occ_offsets, risk_offsets, covered, net, cession):
    ceded = [0.0] * len(net)
    for occurrences in trials(occ_offsets, risk_offsets):
        for _, risks in occurrences:
            for r in risks:
                if covered[r]:
                    ceded[r] = cession * net[r]
    return ceded


def surplus_fraction(sum_insured, retention, surplus_lines):
    out = []
    for si in sum_insured:
        if si <= 0:
            out.append(0.0)
        else:
            out.append(min(max(si - retention, 0.0), surplus_lines * retention) / si)
    return out


def surplus(occ_offsets, risk_offsets, covered, net, risk_policy, sum_insured, retention, surplus_lines):
    fraction = surplus_fraction(sum_insured, retention, surplus_lines)
    ceded = [0.0] * len(net)
    for r in range(len(net)):
        if covered[r]:
            ceded[r] = fraction[risk_policy[r]] * net[r]
    return ceded


def _total_limit(limit, reinstatements, aggregate_limit):
    total = limit if reinstatements == 0 else (reinstatements + 1) * limit
    return min(aggregate_limit, total)


def excess_of_loss(per_occurrence, occ_offsets, risk_offsets, occ_day, covered, net, retention, limit,
                   reinstatements=0, reinstatement_premium=1.0, layer_premium=0.0,
                   aggregate_deductible=0.0, aggregate_limit=math.inf, pro_rata_time=False):
    """Per-risk or per-occurrence XL. Returns ``(ceded per risk loss, reinstatement premium per trial)``."""
    aggregate_limit = _total_limit(limit, reinstatements, aggregate_limit)
    # reinstated limit: at most k * limit, and never past what the aggregate limit still allows
    reinstatable = 0.0 if reinstatements == 0 else max(min(reinstatements * limit, aggregate_limit - limit), 0.0)
    ceded = [0.0] * len(net)
    premiums = []
    for occurrences in trials(occ_offsets, risk_offsets):
        # the losses to the layer, in order: (day, [(risk, weight)], loss to the layer)
        pieces = []
        for k, risks in occurrences:
            mine = [r for r in risks if covered[r]]
            if per_occurrence:
                x = sum(net[r] for r in mine)
                pieces.append((occ_day[k], mine, x, clip(x, retention, limit)))
            else:
                for r in mine:
                    pieces.append((occ_day[k], [r], net[r], clip(net[r], retention, limit)))
        cumulative, paid_before, reinstated_before, premium = 0.0, 0.0, 0.0, 0.0
        for day, mine, x, to_layer in pieces:
            cumulative += to_layer
            paid_to_date = clip(cumulative, aggregate_deductible, aggregate_limit)
            recovery = max(paid_to_date - paid_before, 0.0)
            paid_before = paid_to_date
            for r in mine:
                ceded[r] = recovery * net[r] / x if x > 0 else 0.0
            reinstated_to_date = min(paid_to_date, reinstatable)
            reinstated = reinstated_to_date - reinstated_before
            reinstated_before = reinstated_to_date
            if 0 < limit < math.inf and reinstated > 0:
                share_of_year = (365.0 - day) / 365.0 if pro_rata_time else 1.0
                premium += reinstatement_premium * layer_premium * reinstated / limit * share_of_year
        premiums.append(premium)
    return ceded, premiums


def stop_loss(occ_offsets, risk_offsets, covered, net, attachment, limit, subject_premium):
    ceded = [0.0] * len(net)
    for occurrences in trials(occ_offsets, risk_offsets):
        mine = [r for _, risks in occurrences for r in risks if covered[r]]
        annual = sum(net[r] for r in mine)
        limit_money = math.inf if limit == math.inf else limit * subject_premium
        recovery = clip(annual, attachment * subject_premium, limit_money)
        for r in mine:
            ceded[r] = recovery * net[r] / annual if annual > 0 else 0.0
    return ceded
