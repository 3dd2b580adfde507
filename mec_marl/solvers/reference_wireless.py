"""wireless_powered_v0: DROO's (P2) and LyDROO's P4 for a fixed decision, with cvxpy / scipy.

Part of :mod:`mec_marl.solvers.reference` (which re-exports it): slow,
obviously-correct references written from the paper's formulas; cvxpy and
scipy are imported inside the functions.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

__all__ = ['time_allocation_cvxpy', 'wireless_powered_exhaustive_reference', 'lyapunov_allocation_reference']


# ------------------------------------------------ wireless_powered_v0: (P2) of DROO
def time_allocation_cvxpy(system, gain, offload, weights):
    """(rate, a, tau) of (P2) for one channel ``(N,)`` and decision ``(N,)`` by cvxpy."""
    import cvxpy as cp

    from mec_marl.physics.wireless_power import weighted_sum_rate

    gain = np.asarray(gain, dtype=float)
    offload = np.asarray(offload) > 0
    weights = np.asarray(weights, dtype=float)
    n = gain.size
    local, off = np.flatnonzero(~offload), np.flatnonzero(offload)
    A = system.eta1 * float(np.sum(weights[local] * np.cbrt(gain[local] / system.kappa)))
    if off.size == 0:
        return A, 1.0, np.zeros(n)
    k = system.eta2 * gain[off] ** 2
    c = weights[off] * system.epsilon
    # The rate of the equal split a = tau_j = 1 / (m + 1): keeps the solver's objective near 1.
    share = 1.0 / (off.size + 1)
    scale = A * share ** (1 / 3) + float(np.sum(c * share * np.log1p(k)))
    a = cp.Variable(nonneg=True)
    tau = cp.Variable(off.size, nonneg=True)
    objective = (A / scale) * cp.power(a, 1.0 / 3.0) - cp.sum(cp.multiply(c / scale, cp.rel_entr(tau, tau + k * a)))
    problem = cp.Problem(cp.Maximize(objective), [a + cp.sum(tau) <= 1.0])
    with warnings.catch_warnings():  # "may be inaccurate" near 1e-10; callers allow ~1e-6
        warnings.simplefilter("ignore", UserWarning)
        problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    if problem.status not in ("optimal", "optimal_inaccurate"):
        raise RuntimeError(f"cvxpy reference failed: {problem.status}")
    a_val = float(np.clip(a.value, 0.0, 1.0))
    tau_full = np.zeros(n)
    tau_full[off] = np.maximum(np.asarray(tau.value, dtype=float), 0.0)
    total = a_val + tau_full.sum()
    if total > 1.0:  # solver tolerance: scale back onto the feasible set
        a_val, tau_full = a_val / total, tau_full / total
    rate = float(weighted_sum_rate(gain, offload, a_val, tau_full, weights, system))
    return rate, a_val, tau_full


def wireless_powered_exhaustive_reference(system, gain, weights, solver=time_allocation_cvxpy):
    """(best rate, best decision) over all 2^N decisions, one solver call per decision."""
    gain = np.asarray(gain, dtype=float)
    best_rate, best = -np.inf, None
    for bits in itertools.product((0, 1), repeat=gain.size):
        rate = solver(system, gain, np.array(bits), weights)[0]
        if rate > best_rate:
            best_rate, best = rate, np.array(bits, dtype=bool)
    return best_rate, best


# ------------------------------- wireless_powered_v0 (queues=True): LyDROO's P4
def lyapunov_allocation_reference(system, gain, offload, queue, energy_queue, weights) -> dict:
    """P4 of LyDROO for one state ``(N,)`` and decision ``(N,)``: objective, bits, energy.

    Objective sum_i b_i d_i - y_i e_i with b_i = (Q_i / D + V w_i) / D and
    y_i = c_Y Y_i, written from the paper's model, not through the fast solver.
    """
    import cvxpy as cp
    from scipy.optimize import minimize_scalar

    gain, queue, energy_queue = (np.asarray(a, dtype=float) for a in (gain, queue, energy_queue))
    offload = np.asarray(offload) > 0
    n, s = gain.size, system
    value = (queue / s.data_unit + s.lyapunov_v * np.asarray(weights, dtype=float)) / s.data_unit
    y = s.energy_queue_weight * energy_queue
    bits, energy = np.zeros(n), np.zeros(n)
    for i in np.flatnonzero(~offload):  # local: maximise b f T / phi - y kappa f^3 T over [0, f_top]
        top = min(s.cycles_per_bit * queue[i] / s.slot, s.max_cpu_freq)
        if top <= 0:
            continue

        def loss(u, i=i, top=top):  # u = f / top in [0, 1]
            f = u * top
            return -(value[i] * f * s.slot / s.cycles_per_bit - y[i] * s.kappa * f**3 * s.slot)

        res = minimize_scalar(loss, bounds=(0.0, 1.0), method="bounded", options={"xatol": 1e-12})
        u = min((res.x, 0.0, 1.0), key=loss)  # the ends too: Brent stays strictly inside
        bits[i] = u * top * s.slot / s.cycles_per_bit
        energy[i] = s.kappa * (u * top) ** 3 * s.slot
    off = np.flatnonzero(offload & (queue > 0))
    if off.size:
        unit = s.data_unit
        c = s.overhead * np.log(2.0) / s.bandwidth * unit  # exponent per unit of d / tau
        r_max = s.bandwidth / s.overhead * np.log2(1.0 + s.max_power * gain[off] / s.noise_power)
        k = s.noise_power / gain[off]
        d = cp.Variable(off.size, nonneg=True)  # bits / unit
        tau = cp.Variable(off.size, nonneg=True)
        priced = y[off] > 0  # the epigraph t >= tau exp(c d / tau) only where energy has a price
        t = cp.Variable(int(priced.sum())) if priced.any() else None
        objective = cp.sum(cp.multiply(value[off] * unit, d))
        constraints = [cp.sum(tau) <= s.slot, d <= queue[off] / unit, d * unit <= cp.multiply(r_max, tau)]
        if t is not None:
            p = np.flatnonzero(priced)
            objective -= cp.sum(cp.multiply(y[off][p] * k[p], t - tau[p]))
            constraints.append(cp.constraints.ExpCone(c * d[p], tau[p], t))
        problem = cp.Problem(cp.Maximize(objective), constraints)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-9, tol_gap_rel=1e-9, tol_feas=1e-9)
        if problem.status not in ("optimal", "optimal_inaccurate"):
            raise RuntimeError(f"cvxpy reference failed: {problem.status}")
        d_val = np.clip(np.asarray(d.value, dtype=float) * unit, 0.0, queue[off])
        tau_val = np.maximum(np.asarray(tau.value, dtype=float), 0.0)
        tau_val *= min(1.0, s.slot / max(tau_val.sum(), 1e-300))  # solver tolerance: back onto sum tau <= T
        sending = (d_val > 0) & (tau_val > 0)
        safe = np.where(sending, tau_val, 1.0)
        # Energy of the recovered point from the model (not the solver's epigraph variable).
        e_val = np.where(sending, tau_val * k * np.expm1(np.log(2.0) * s.overhead * d_val / (s.bandwidth * safe)), 0.0)
        bits[off], energy[off] = d_val, e_val
    return {"objective": float((value * bits - y * energy).sum()), "bits": bits, "energy": energy}
