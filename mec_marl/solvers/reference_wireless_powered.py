"""Slow, independent references for the wireless-powered MEC sub-solvers (tests, benchmark).

* :func:`time_allocation_cvxpy`: DROO's (P2) for one channel and decision as a
  conic program (cvxpy + Clarabel). tau ln(1 + k a / tau) is the perspective of
  ln(1 + k a), written as -rel_entr(tau, tau + k a); a^(1/3) is a power cone.
  No Lambert W, no dual variable: it shares nothing with
  :mod:`mec_marl.solvers.time_allocation` but the model's constants.
* :func:`exhaustive_reference`: enumerate the 2^N decisions one at a time with
  a per-decision solver (default the cvxpy one).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from mec_marl.physics.wireless_power import WptSystem, weighted_sum_rate


def time_allocation_cvxpy(system: WptSystem, gain, offload, weights):
    """(rate, a, tau) of (P2) for one channel ``(N,)`` and decision ``(N,)`` by cvxpy."""
    import cvxpy as cp

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


def exhaustive_reference(system: WptSystem, gain, weights, solver=time_allocation_cvxpy):
    """(best rate, best decision) over all 2^N decisions, one solver call per decision."""
    gain = np.asarray(gain, dtype=float)
    best_rate, best = -np.inf, None
    for bits in itertools.product((0, 1), repeat=gain.size):
        rate = solver(system, gain, np.array(bits), weights)[0]
        if rate > best_rate:
            best_rate, best = rate, np.array(bits, dtype=bool)
    return best_rate, best
