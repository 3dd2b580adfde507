"""OJRS P2.1 (large_scale_v0) for a fixed decision with cvxpy.

Part of :mod:`mec_marl.solvers.reference` (which re-exports it): slow,
obviously-correct references written from the paper's formulas; cvxpy and
scipy are imported inside the functions.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ['p21_cvxpy']


# ------------------------------------------------------------------ OJRS P2.1 (large_scale_v0)
# The paper's CVX route in cvxpy. P2.1 (OJRS eq. 14-17) for a fixed decision ``a``, solved jointly over every
# continuous variable without using the closed form's structure:
#
#     min_{p, f, l}  sum_i w_i l_i
#     s.t.  offloader i -> MEC j:  D_i / (B log2(1 + p_i h_ij / sigma^2)) + F_i / f_ij <= l_i   (C6)
#                                  0 <= p_i <= P_max                                          (C4)
#           local UE i:            F_i / f_i0 <= l_i,  f_i0 <= F_L (C3),  kappa f_i0^v <= P_max (C4, eq. 8)
#           each MEC j:            sum_{i -> j} f_ij <= F_j                                   (C5)
#
# C6 is convex (1 / concave + 1 / f). Two forms of the power, same problem:
#
# * ``power_form="rate"`` (default): the spectral efficiency ``z_i = log2(1 +
#   p_i h_ij / sigma^2)`` is the variable (eq. 12 inverted, ``p_i = sigma^2 /
#   h_ij (2^z_i - 1)``), so C4 reads ``z_i <= log2(1 + P_max h_ij / sigma^2)``
#   and C6 ``D_i / (B z_i) + F_i / f_ij <= l_i``: a second-order cone program;
# * ``power_form="log"``: ``p_i`` itself with ``inv_pos(log1p(p_i h / sigma^2))``
#   (exponential cones). Clarabel stalls on it near N = 200 (relative gaps
#   ~1e-5 with SNRs from 1 to 1e4), hence the default.
#
# CPU frequencies are in GHz inside the program for conditioning. Each task's
# latency is counted once (SPEC). Intended for tests and the benchmark; the
# outage fallback is an env rule and is not applied here.
GHZ = 1e9


def p21_cvxpy(decision, gain, weights, *, data_size, cycles, bandwidth, noise_power, p_max,
              f_local_max, mec_cpu, kappa, exponent=3.0, power_form: str = "rate", solver: str = "CLARABEL") -> dict:
    """OJRS P2.1 for one instance by cvxpy (section comment above).

    Returns ``objective``, ``latency``, ``power`` and ``cpu`` (Hz: local f_i0 or edge f_ij per UE).
    ``decision`` ``(N,)``: 0 = local, j = MEC j; ``gain`` ``(N, M)``.
    """
    import cvxpy as cp

    if power_form not in ("rate", "log"):
        raise ValueError(f"p21_cvxpy: power_form must be 'rate' or 'log', got {power_form!r}")
    a = np.asarray(decision, dtype=int)
    h = np.asarray(gain, dtype=float)
    n, m = h.shape
    w = np.broadcast_to(np.asarray(weights, dtype=float), (n,))
    D = np.broadcast_to(np.asarray(data_size, dtype=float), (n,))
    F = np.broadcast_to(np.asarray(cycles, dtype=float), (n,))
    F_mec = np.broadcast_to(np.asarray(mec_cpu, dtype=float), (m,))
    off = np.flatnonzero(a > 0)
    loc = np.flatnonzero(a == 0)
    latency = cp.Variable(n)
    cons = []
    u = cp.Variable(len(off)) if len(off) else None  # transmit power as a fraction of P_max
    f_edge = cp.Variable(len(off), pos=True) if len(off) else None
    f_loc = cp.Variable(len(loc), pos=True) if len(loc) else None
    if len(off):
        snr = h[off, a[off] - 1] * p_max / noise_power
        if power_form == "rate":
            z = cp.Variable(len(off))  # log2(1 + p h / sigma^2)
            upload = cp.multiply(D[off] / bandwidth, cp.inv_pos(z))  # eq. 5, 12
            cons += [z >= 0, z <= np.log2(1.0 + snr)]  # C4
        else:
            # D / (B log2(1 + snr u)) (eq. 5, 12), u = p / P_max
            upload = cp.multiply(D[off] / bandwidth * math.log(2.0), cp.inv_pos(cp.log1p(cp.multiply(snr, u))))
            cons += [u >= 0, u <= 1]  # C4
        cons += [upload + cp.multiply(F[off] / GHZ, cp.inv_pos(f_edge)) <= latency[off]]
        for j in range(m):
            users = np.flatnonzero(a[off] == j + 1)
            if len(users):
                cons.append(cp.sum(f_edge[users]) <= F_mec[j] / GHZ)
    if len(loc):
        cons += [
            cp.multiply(F[loc] / GHZ, cp.inv_pos(f_loc)) <= latency[loc],
            f_loc <= f_local_max / GHZ,
            kappa * GHZ**exponent * cp.power(f_loc, exponent) <= p_max,
        ]
    problem = cp.Problem(cp.Minimize(w @ latency), cons)
    # Clarabel's default 1e-8 tolerances left a 1.8e-6 relative gap at N = 200; 1e-10 stalls at N = 1000.
    tight = {"tol_gap_abs": 1e-9, "tol_gap_rel": 1e-9, "tol_feas": 1e-9} if solver == "CLARABEL" else {}
    problem.solve(solver=solver, **tight)
    if problem.status == "optimal_inaccurate" and tight:  # the tight tolerances stall on some draws
        problem.solve(solver=solver)
    if problem.status != "optimal":
        raise RuntimeError(f"p21_cvxpy: solver status {problem.status}")
    cpu = np.zeros(n)
    power = np.zeros(n)
    if len(off):
        cpu[off] = f_edge.value * GHZ
        if power_form == "rate":
            g = h[off, a[off] - 1]
            power[off] = np.minimum(noise_power / g * np.expm1(np.log(2.0) * z.value), p_max)
        else:
            power[off] = np.clip(u.value, 0.0, 1.0) * p_max
    if len(loc):
        cpu[loc] = f_loc.value * GHZ
    return {"objective": float(problem.value), "latency": np.asarray(latency.value), "power": power, "cpu": cpu}
