"""The engine's drivers over a chunk's trials: one kernel for the two passes of work items
run on several threads (:func:`_parallel_pass`), and one for one thread (:func:`_serial_pass`).
:mod:`sim.engine` calls them and explains the scheme.
"""
import numpy as np

from .jit import jit, unowned
from .trial import _count_trial, _draw_trial, _place_trial

# Trials per parallel work item. Each item allocates its scratch once, not ~20 arrays per
# trial, and owns a region of the first pass's output. Output does not depend on it: each
# trial's draws come from its own streams.
TRIALS_PER_BLOCK = 64


@jit
def _scratch(occ_room, hit_room, n_lines, n_policies):
    """One work item's scratch: room for ``occ_room`` occurrences and ``hit_room`` catastrophe hits,
    and :mod:`sim.kernels.claims`' ``stamp`` and ``tally`` over the ``n_policies`` policies."""
    return (np.empty(occ_room, dtype=np.float64), np.empty(occ_room, dtype=np.int64),      # ev_day, ev_cat
            np.empty(occ_room, dtype=np.int64), np.empty(occ_room, dtype=np.int64),        # ev_size, ev_first
            np.empty(occ_room, dtype=np.int64),                                            # ev_order
            np.empty(hit_room, dtype=np.int64), np.empty(hit_room, dtype=np.int64),        # cat_policy, cat_line
            np.empty(hit_room, dtype=np.float64),                                          # cat_loss
            np.empty(occ_room, dtype=np.float64), np.empty(occ_room, dtype=np.int64),      # att_sum, position
            np.empty(occ_room, dtype=np.int64),                                            # dest
            np.empty(occ_room, dtype=np.int64), np.empty(occ_room, dtype=np.float64),      # claim_policy, ground
            np.empty(n_lines, dtype=np.int64),                                             # line_end
            np.full(n_policies, -1, dtype=np.int64), np.empty(n_policies, dtype=np.int64),  # stamp, tally
            np.zeros(1, dtype=np.int64))                                                   # marks


@jit
def _unowned_scratch(scratch):
    """:func:`sim.kernels.jit.unowned` views of a work item's scratch; ``scratch`` must outlive them."""
    (ev_day, ev_cat, ev_size, ev_first, ev_order, cat_policy, cat_line, cat_loss,
     att_sum, position, dest, claim_policy, ground, line_end, stamp, tally, marks) = scratch
    return (unowned(ev_day), unowned(ev_cat),
            unowned(ev_size), unowned(ev_first), unowned(ev_order), unowned(cat_policy), unowned(cat_line),
            unowned(cat_loss), unowned(att_sum), unowned(position),
            unowned(dest), unowned(claim_policy), unowned(ground), unowned(line_end),
            unowned(stamp), unowned(tally), unowned(marks))


@jit
def _keep(scratch):
    """Nothing: called after a loop that uses :func:`_unowned_scratch` views, so that numba
    keeps ``scratch`` (their memory) alive until then."""
    return scratch[0].shape[0]


@jit
def _simulate_trial(seed, trial, levels, model_arrays, exposure_arrays, scratch, line_loss, line_claims):
    """:func:`_draw_trial` with a work item's scratch tuple: ``(n_events, n_hits, n_attritional)``."""
    (ev_day, ev_cat, ev_size, ev_first, ev_order, cat_policy, cat_line, cat_loss,
     att_sum, position, dest, claim_policy, ground, line_end, stamp, tally, marks) = scratch
    return _draw_trial(seed, trial, levels, model_arrays, exposure_arrays,
                       ev_day, ev_cat, ev_size, ev_first, cat_policy, cat_line, cat_loss,
                       claim_policy, ground, line_end, stamp, tally, marks, line_loss, line_claims)


@jit
def _place(seed, trial, n_events, n_att, o0, r0, scratch, out):
    """:func:`_place_trial` with a work item's scratch tuple and the six output arrays ``out``."""
    (ev_day, ev_cat, ev_size, ev_first, ev_order, cat_policy, cat_line, cat_loss,
     att_sum, position, dest, claim_policy, ground, line_end, stamp, tally, marks) = scratch
    occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss = out
    _place_trial(seed, trial, n_events, n_att, o0, r0, ev_day, ev_cat, ev_size, ev_first, ev_order,
                 cat_policy, cat_line, cat_loss, att_sum, position, dest,
                 claim_policy, ground, line_end, occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss)


@jit
def _unowned_inputs(model_arrays, exposure_arrays):
    """:func:`sim.kernels.jit.unowned` views of the kernels' model and exposure arrays."""
    (line_frequency, line_damage, line_damage_is_ratio, cat_rate, cat_share, cat_damage,
     cat_damage_is_ratio, cat_line_offsets, cat_lines) = model_arrays
    line_start, sum_insured, deductible, limit = exposure_arrays
    return ((unowned(line_frequency), unowned(line_damage), unowned(line_damage_is_ratio), unowned(cat_rate),
             unowned(cat_share), unowned(cat_damage), unowned(cat_damage_is_ratio), unowned(cat_line_offsets),
             unowned(cat_lines)),
            (unowned(line_start), unowned(sum_insured), unowned(deductible), unowned(limit)))


@jit
def _unowned_outputs(out):
    """:func:`sim.kernels.jit.unowned` views of the six output arrays."""
    occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss = out
    return (unowned(occ_day), unowned(occ_event), unowned(risk_offsets), unowned(risk_policy),
            unowned(risk_line), unowned(risk_loss))


@jit
def _block_views(owned_scratch, model_arrays, exposure_arrays, levels, line_loss, line_claims):
    """``(scratch, model_arrays, exposure_arrays, levels, line_loss, line_claims)`` as
    :func:`sim.kernels.jit.unowned` views, for a work item's per-trial calls; ``owned_scratch``
    (from :func:`_scratch`) must outlive them."""
    model, exposure = _unowned_inputs(model_arrays, exposure_arrays)
    return (_unowned_scratch(owned_scratch), model, exposure, unowned(levels), unowned(line_loss),
            unowned(line_claims))


@jit
def _block_trials(block, n_trials):
    """``(t0, t1)``: the trials (chunk-local) of work item ``block``."""
    t0 = block * TRIALS_PER_BLOCK
    return t0, min(t0 + TRIALS_PER_BLOCK, n_trials)


@jit
def _parallel_pass(gather, first_block, block_step, seed, first_trial, levels, model_arrays, exposure_arrays,
                   occ_room, hit_room, region_occ, region_risk, region, region_occ_start, region_risk_start,
                   n_occ, n_risk, occ_need, hit_need, occ_offsets, trial_risk_offsets, out, line_loss,
                   line_claims):
    """Both passes of a chunk, in work items of ``TRIALS_PER_BLOCK`` trials: this call does
    items ``first_block, first_block + block_step, ...``. :func:`sim.engine._on_threads` runs
    one call a thread (the kernel releases the GIL); the work items are independent.

    One kernel with the pass as a flag, rather than one kernel a pass: numba
    optimises each kernel together with everything it calls, so each kernel
    more costs a cold start as much again. And Python threads rather than a
    ``prange`` loop: numba's parallel kernels take several times as long to
    compile (8.9 of the 23 s a cold run spent compiling the engine), and
    work items of 64 trials need no finer scheduling.

    **First pass** (``gather`` false): simulate every trial once, into its work
    item's region of ``region`` (the six output arrays, ``region_occ``
    occurrences and ``region_risk`` risk losses a work item). Records each
    trial's sizes in ``n_occ`` and ``n_risk`` and where it went
    (``region_occ_start``, ``region_risk_start``). A trial that outgrows the
    scratch (``occ_room``, ``hit_room``) or its item's region gets start -1,
    zero line totals, and the scratch room it needs in ``occ_need`` and
    ``hit_need``; one that outgrows the scratch has its sizes and needs counted
    by :func:`_count_trial`.

    **Second pass** (``gather``): move each trial from its region to its place
    in ``out`` (CSR by ``occ_offsets`` and ``trial_risk_offsets``), and
    simulate there the trials that had no room, in scratch of the room they
    need.
    """
    n_trials = levels.shape[0]
    n_lines = line_loss.shape[1]
    region_day, region_event, region_offsets, region_policy, region_line, region_loss = region
    occ_day, occ_event, risk_offsets, risk_policy, risk_line, risk_loss = out
    for block in range(first_block, (n_trials + TRIALS_PER_BLOCK - 1) // TRIALS_PER_BLOCK, block_step):
        t0, t1 = _block_trials(block, n_trials)
        scratch_occ, scratch_hits = occ_room, hit_room
        if gather:      # scratch for the trials that had no room
            scratch_occ = 0
            scratch_hits = 0
            for t in range(t0, t1):
                if region_occ_start[t] < 0:
                    scratch_occ = max(scratch_occ, occ_need[t])
                    scratch_hits = max(scratch_hits, hit_need[t])
        owned_scratch = _scratch(scratch_occ, scratch_hits, n_lines, exposure_arrays[0][-1])
        # views without reference counts for the per-trial calls (see sim.kernels.jit.unowned)
        scratch, model, exposure, block_levels, block_loss, block_claims = _block_views(
            owned_scratch, model_arrays, exposure_arrays, levels, line_loss, line_claims)
        if gather:
            block_out = _unowned_outputs(out)
            for t in range(t0, t1):
                o0 = occ_offsets[t]
                r0 = trial_risk_offsets[t]
                start = region_occ_start[t]
                if start >= 0:
                    shift = r0 - region_risk_start[t]
                    for i in range(occ_offsets[t + 1] - o0):
                        occ_day[o0 + i] = region_day[start + i]
                        occ_event[o0 + i] = region_event[start + i]
                        risk_offsets[o0 + i] = region_offsets[start + i] + shift
                    risk_start = region_risk_start[t]
                    for i in range(trial_risk_offsets[t + 1] - r0):
                        risk_policy[r0 + i] = region_policy[risk_start + i]
                        risk_line[r0 + i] = region_line[risk_start + i]
                        risk_loss[r0 + i] = region_loss[risk_start + i]
                else:
                    trial = first_trial + t
                    n_events, n_hits, n_att = _simulate_trial(seed, trial, block_levels[t], model, exposure,
                                                              scratch, block_loss[t], block_claims[t])
                    _place(seed, trial, n_events, n_att, o0, r0, scratch, block_out)
        else:
            block_region = _unowned_outputs(region)
            o = block * region_occ
            r = block * region_risk
            o_end = o + region_occ
            r_end = r + region_risk
            for t in range(t0, t1):
                trial = first_trial + t
                n_events, n_hits, n_att = _simulate_trial(seed, trial, block_levels[t], model, exposure,
                                                          scratch, block_loss[t], block_claims[t])
                region_occ_start[t] = -1
                region_risk_start[t] = -1
                occ_need[t] = occ_room
                hit_need[t] = hit_room
                if n_att < 0:
                    n_occ[t], n_risk[t], occ_need[t], hit_need[t] = _count_trial(seed, trial, block_levels[t],
                                                                                 model, exposure)
                else:
                    n_occ[t] = n_events + n_att
                    n_risk[t] = n_hits + n_att
                    if o + n_occ[t] <= o_end and r + n_risk[t] <= r_end:
                        _place(seed, trial, n_events, n_att, o, r, scratch, block_region)
                        region_occ_start[t] = o
                        region_risk_start[t] = r
                        o += n_occ[t]
                        r += n_risk[t]
                if region_occ_start[t] < 0:
                    line_loss[t, :] = 0.0
                    line_claims[t, :] = 0
        _keep(owned_scratch)


@jit
def _serial_pass(seed, first_trial, levels, model_arrays, exposure_arrays, occ_room, hit_room, start,
                 out, occ_offsets, trial_risk_offsets, line_loss, line_claims):
    """Simulate trials ``start ..`` one after another, each straight into its place in ``out``
    (the six output arrays), and fill in the CSR offsets as it goes.

    For one thread: there is then no region to copy from. A trial too big for the
    scratch is counted, given scratch of its size and drawn again. Returns the
    first trial that found no room left in ``out`` (its line totals zeroed, for
    the caller to give ``out`` more room and call again from there), or the
    number of trials when all are done.
    """
    n_trials = levels.shape[0]
    n_lines = line_loss.shape[1]
    occ_capacity = out[0].shape[0]
    risk_capacity = out[3].shape[0]
    owned_scratch = _scratch(occ_room, hit_room, n_lines, exposure_arrays[0][-1])
    scratch, model, exposure, trial_levels, trial_loss, trial_claims = _block_views(
        owned_scratch, model_arrays, exposure_arrays, levels, line_loss, line_claims)
    views = _unowned_outputs(out)
    for t in range(start, n_trials):
        trial = first_trial + t
        n_events, n_hits, n_att = _simulate_trial(seed, trial, trial_levels[t], model, exposure,
                                                  scratch, trial_loss[t], trial_claims[t])
        if n_att < 0:
            line_loss[t, :] = 0.0
            line_claims[t, :] = 0
            occ_need, hit_need = _count_trial(seed, trial, trial_levels[t], model, exposure)[2:]
            occ_room = max(occ_room, occ_need)
            hit_room = max(hit_room, hit_need)
            owned_scratch = _scratch(occ_room, hit_room, n_lines, exposure_arrays[0][-1])
            scratch = _unowned_scratch(owned_scratch)
            n_events, n_hits, n_att = _simulate_trial(seed, trial, trial_levels[t], model, exposure,
                                                      scratch, trial_loss[t], trial_claims[t])
        o_end = occ_offsets[t] + n_events + n_att
        r_end = trial_risk_offsets[t] + n_hits + n_att
        if o_end > occ_capacity or r_end > risk_capacity:
            line_loss[t, :] = 0.0
            line_claims[t, :] = 0
            _keep(owned_scratch)
            return t
        _place(seed, trial, n_events, n_att, occ_offsets[t], trial_risk_offsets[t], scratch, views)
        occ_offsets[t + 1] = o_end
        trial_risk_offsets[t + 1] = r_end
    _keep(owned_scratch)
    return n_trials


