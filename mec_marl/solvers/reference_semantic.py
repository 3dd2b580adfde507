"""semantic_v0's per-slot problem (DRLH paper) with cvxpy.

Part of :mod:`mec_marl.solvers.reference` (which re-exports it): slow,
obviously-correct references written from the paper's formulas; cvxpy and
scipy are imported inside the functions.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ['semantic_slot_reference']


# ------------------------------------------------------------------ semantic_v0 (DRLH paper)
def _semantic_case(p: dict, hw, rho_mec: np.ndarray, rho_mcc: np.ndarray, allow_mec: bool):
    import cvxpy as cp

    n = p["weight_local"].size
    # Clock per task per slot: eq. 6 (encoding), eq. 5 (local), eq. 7 (MEC), f = u l / (tau n).
    a = hw.flops_encode / (hw.slot * hw.flops_local)
    b = (hw.flops_encode + hw.flops_decode) / (hw.slot * hw.flops_local)
    e = hw.flops_decode / (hw.slot * hw.flops_edge)
    x = cp.Variable(n, nonneg=True)  # u^L
    u_e = cp.Variable(n, nonneg=True)
    u_c = cp.Variable(n, nonneg=True)
    y = cp.Variable(n, nonneg=True)  # mu^E
    w_l, w_e = p["weight_local"], p["weight_edge"]
    power = (
        hw.alpha_local * b**3 * cp.power(x, 3)
        + hw.alpha_local * a**3 * cp.power(u_e, 3)
        + hw.alpha_edge * e**3 * cp.power(y, 3)
        + cp.exp(hw.mcc_exponent * math.log(2.0) * u_c + np.log(p["mcc_scale"]))  # K 2^(c u), K folded in
        - p["mcc_scale"]
    )
    objective = cp.sum(
        -cp.multiply(w_l, x + u_e + u_c) - cp.multiply(w_e, y - u_e) + hw.v * power
    )
    mec_bound = rho_mec * (p["mec_cap"] if allow_mec else 0.0)
    constraints = [
        x + u_e + u_c <= p["queue_local"],  # 14i
        (b * x + a * u_e) / 1e9 <= hw.f_local_max / 1e9,  # 14g, in GHz
        y <= np.minimum(p["queue_edge"], hw.f_edge_max / e),  # 14j, 14h
        u_e <= mec_bound,
        u_c <= rho_mcc * p["mcc_max"],
    ]
    prob = cp.Problem(cp.Minimize(objective), constraints)
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11, max_iter=500)
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise RuntimeError(f"cvxpy reference failed: {prob.status}")
    xs, ue, uc, ys = (np.maximum(var.value, 0.0) for var in (x, u_e, u_c, y))
    # Per-UE costs, recomputed in numpy from the solution.
    pw = (
        hw.alpha_local * (b * xs) ** 3
        + hw.alpha_local * (a * ue) ** 3
        + hw.alpha_edge * (e * ys) ** 3
        + p["mcc_scale"] * np.expm1(hw.mcc_exponent * math.log(2.0) * uc)
        + np.where(ue > 1e-9, p["mec_power"], 0.0)
    )
    cost = -w_l * (xs + ue + uc) - w_e * (ys - ue) + hw.v * pw
    return cost, {"u_local": xs, "u_mec": ue, "u_mcc": uc, "mu_edge": ys}


def semantic_slot_reference(problem, hw, rho_mec, rho_mcc) -> dict:
    """semantic_v0's per-UE problem (eq. 22 given rho, 14g-14j) with cvxpy, for a flat batch of UEs.

    Written from the paper's formulas, not through :mod:`mec_marl.solvers.lyapunov`:
    cubic clock powers and the exponential MCC power (eq. 12) are convex, so one
    conic solve per case gives the optimum; the fixed semantic power p^tx,E makes
    u^E = 0 a second case, the cheaper one wins. Variables in tasks per slot.
    Returns each UE's ``cost`` and volumes ``u_local``, ``u_mec``, ``u_mcc``, ``mu_edge``.
    """
    import dataclasses

    p = {f.name: np.ravel(np.asarray(getattr(problem, f.name), dtype=float)) for f in dataclasses.fields(problem)}
    n = p["weight_local"].size
    p = {k: np.broadcast_to(v, (n,)) if v.size == 1 else v for k, v in p.items()}
    rho_mec = np.broadcast_to(np.ravel(np.asarray(rho_mec, dtype=float)), (n,))
    rho_mcc = np.broadcast_to(np.ravel(np.asarray(rho_mcc, dtype=float)), (n,))
    cost_on, sol_on = _semantic_case(p, hw, rho_mec, rho_mcc, True)
    cost_off, sol_off = _semantic_case(p, hw, rho_mec, rho_mcc, False)
    pick = cost_off <= cost_on
    out = {k: np.where(pick, sol_off[k], sol_on[k]) for k in sol_on}
    out["cost"] = np.minimum(cost_on, cost_off)
    return out
