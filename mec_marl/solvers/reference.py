"""Slow, obviously-correct references for the fast sub-solvers (shared by tests and benchmark).

Each reference writes its cost out from the paper's formulas (never through
:mod:`mec_marl.solvers.allocation`) and solves with a general-purpose method:

* :func:`sqrt_shares_cvxpy` -- ``min sum w / x s.t. sum x = total`` with cvxpy
  (:class:`SqrtSharesProblem` keeps the canonicalised problem for repeated solves).
* :func:`local_cpu_reference` -- the penalised local cost per user, dense grid
  over ``f / f_max`` plus bounded Brent in the best bracket.
* :func:`best_power` -- for given bandwidths, the best transmit power per
  offloader (dense log grid plus golden section: the cost is unimodal in p).
* :func:`offload_brute_force` -- 1 or 2 offloaders: the whole bandwidth, or
  the best split (grid plus Brent) with the best power for each share.
* :func:`offload_slsqp` -- multi-start SLSQP on the smooth epigraph form of the
  penalised cost (tardiness slacks), polished by :func:`best_power`.
* :func:`offload_reference` -- the better of the two.
* :func:`cpdrl_exhaustive_reference` -- TEM with these references per
  offloading vector (the env's outcome functions score each vector).
* :func:`semantic_slot_reference` -- semantic_v0's per-slot, per-UE problem
  (DRLH paper, eq. 22 given the association) with cvxpy.
* :func:`p21_cvxpy` -- OJRS P2.1 (large_scale_v0) for a fixed decision,
  jointly over powers and CPU frequencies with a conic solver.
* :func:`time_allocation_cvxpy` -- wireless_powered_v0: DROO's (P2), the
  optimal (a, tau) for one binary decision, as a conic program: tau ln(1 + k a / tau)
  is -rel_entr(tau, tau + k a), a^(1/3) a power cone; no Lambert W, no dual
  variable (the fast path is :mod:`mec_marl.solvers.time_allocation`).
* :func:`wireless_powered_exhaustive_reference` -- all 2^N decisions one at a
  time with a per-decision solver (default :func:`time_allocation_cvxpy`).
* :func:`lyapunov_allocation_reference` -- wireless_powered_v0 with ``queues=True``:
  LyDROO's P4 for one binary decision; each local device by bounded Brent
  (scipy), the offloaders jointly as an exponential-cone program in (bits,
  time) (cvxpy; the energy tau (N_0 / h)(2^(d v_u / (W tau)) - 1) is a
  perspective of exp); no Lambert W, no dual price (the fast path is
  :mod:`mec_marl.solvers.lyapunov_allocation`).
* :func:`sigmoid_branch_and_bound`, :class:`SigmoidProblem`,
  :func:`sigmoid_grid_search` -- the DJTCRA per-ES sum-of-sigmoids allocation
  (Udell & Boyd's branch and bound; a grid for 2-3 users), kept in
  :mod:`mec_marl.solvers.reference_djtcra` and re-exported here.

cvxpy and scipy are imported inside the functions: the envs never need them.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np

__all__ = [
    "SqrtSharesProblem", "sqrt_shares_cvxpy", "local_cost", "local_cpu_reference", "offload_user_cost",
    "best_power", "offload_brute_force", "offload_slsqp", "offload_reference", "cpdrl_exhaustive_reference",
    "semantic_slot_reference",
    "time_allocation_cvxpy", "wireless_powered_exhaustive_reference",
    "SigmoidProblem", "sigmoid_branch_and_bound", "sigmoid_grid_search",
]


# ------------------------------------------------------------------ square-root shares
class SqrtSharesProblem:
    """``min sum w_i / x_i s.t. sum x = total`` over ``n`` entries, as a cvxpy DPP problem.

    Solved in scaled units (``w / max w``, ``x / total``) so that SI magnitudes
    (hertz, bits) do not upset the conic solver; the canonicalisation is cached
    after the first :meth:`solve`.
    """

    def __init__(self, n: int):
        import cvxpy as cp

        self.w = cp.Parameter(int(n), nonneg=True)
        self.x = cp.Variable(int(n))
        self.problem = cp.Problem(cp.Minimize(cp.sum(cp.multiply(self.w, cp.inv_pos(self.x)))), [cp.sum(self.x) == 1])

    def solve(self, w, total: float) -> np.ndarray:
        w = np.asarray(w, dtype=float)
        self.w.value = w / w.max()
        self.problem.solve()
        return np.maximum(self.x.value, 1e-12) * float(total)


def sqrt_shares_cvxpy(w, total: float) -> np.ndarray:
    """One-off cvxpy solve of ``min sum w / x s.t. sum x = total`` (every entry takes a share)."""
    return SqrtSharesProblem(len(np.atleast_1d(w))).solve(w, total)


# ------------------------------------------------------------------ local CPU frequency
def local_cost(cycles, f, kappa, w_latency, w_energy, tau, w_tardiness=1.0):
    """Penalised local cost ``w_l c / f + w_e kappa c f^2 + w_t max(0, c / f - tau)`` (CPDRL eq. 1-2)."""
    t = np.asarray(cycles, dtype=float) / f
    return w_latency * t + w_energy * kappa * np.asarray(cycles, dtype=float) * np.square(f) + w_tardiness * np.maximum(
        0.0, t - tau)


def local_cpu_reference(cycles, f_max, kappa, w_latency, w_energy, tau, w_tardiness=1.0, grid: int = 4000):
    """Per user: the best ``f in (0, f_max]`` by a dense grid over ``f / f_max`` then bounded Brent.

    Arguments broadcast to one shape (the users). Returns ``(f, cost)``.
    """
    from scipy.optimize import minimize_scalar

    args = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in
                                 (cycles, f_max, kappa, w_latency, w_energy, tau, w_tardiness)))
    shape = args[0].shape
    c, fm, k, wl, we, ta, wt = (a.ravel() for a in args)
    u = np.linspace(1.0 / grid, 1.0, grid)
    f_out, cost_out = np.empty(c.size), np.empty(c.size)
    for i in range(c.size):
        def fun(x, i=i):
            return float(local_cost(c[i], x * fm[i], k[i], wl[i], we[i], ta[i], wt[i]))

        vals = local_cost(c[i], u * fm[i], k[i], wl[i], we[i], ta[i], wt[i])
        j = int(np.argmin(vals))
        lo, hi = u[max(j - 1, 0)], u[min(j + 1, grid - 1)]
        res = minimize_scalar(fun, bounds=(lo, hi), method="bounded", options={"xatol": 1e-13})
        best_u, best = (res.x, res.fun) if res.fun < vals[j] else (u[j], vals[j])
        if fun(1.0) <= best:  # the optimum on the bound f = f_max
            best_u, best = 1.0, fun(1.0)
        f_out[i], cost_out[i] = best_u * fm[i], best
    return f_out.reshape(shape), cost_out.reshape(shape)


# ------------------------------------------------------------------ offloaders' bandwidth and power
def offload_user_cost(b, p, data_bits, gain, edge_latency, noise_power, w_latency, w_energy, tau, w_tardiness=1.0):
    """``(w_l + w_e p) T^t + w_t max(0, T^t + T^e - tau)`` with ``T^t = D / (b log2(1 + p g / sigma^2))``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = data_bits / (b * np.log2(1.0 + p * gain / noise_power))
    return (w_latency + w_energy * p) * t + w_tardiness * np.maximum(0.0, t + edge_latency - tau)


def _golden(fun, lo, hi, iters: int = 80):
    """Plain vectorised golden section (re-evaluates both interior points; simple and safe)."""
    r = (math.sqrt(5.0) - 1.0) / 2.0
    lo, hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
    for _ in range(iters):
        x1, x2 = hi - r * (hi - lo), lo + r * (hi - lo)
        left = fun(x1) <= fun(x2)
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
    x = 0.5 * (lo + hi)
    return x, fun(x)


def best_power(b, data_bits, gain, edge_latency, p_max, noise_power, w_latency, w_energy, tau, w_tardiness=1.0):
    """``min over p in (0, p_max]`` of :func:`offload_user_cost` for given bandwidths (elementwise).

    For a fixed b the cost is unimodal in p (convex in the upload time, which
    is monotone in p): dense log grid, then golden section in the grid bracket.
    Returns ``(cost, p)``.
    """
    b, D, g, Te = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (b, data_bits, gain, edge_latency)))
    grid = p_max * np.logspace(-7, 0, 401)

    def user(bb, p, DD, gg, TT):
        return offload_user_cost(bb, p, DD, gg, TT, noise_power, w_latency, w_energy, tau, w_tardiness)

    on_grid = user(b[..., None], grid, D[..., None], g[..., None], Te[..., None])
    k = np.argmin(on_grid, axis=-1)
    lo, hi = grid[np.maximum(k - 1, 0)], grid[np.minimum(k + 1, grid.size - 1)]
    p, c = _golden(lambda q: user(b, q, D, g, Te), lo, hi, iters=70)
    c_grid = np.take_along_axis(on_grid, k[..., None], axis=-1)[..., 0]
    better = c_grid < c
    return np.where(better, c_grid, c), np.where(better, grid[k], p)


def offload_brute_force(data_bits, gain, edge_latency, bandwidth_total, p_max, noise_power, w_latency, w_energy,
                        tau, w_tardiness=1.0):
    """Optimum for 1 or 2 offloaders: ``b = B``, or the best split ``beta B / (1 - beta) B``
    (grid over beta, then bounded Brent), each with its best power. Returns ``(cost, b, p)``."""
    from scipy.optimize import minimize_scalar

    D, g, Te = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (data_bits, gain, edge_latency))
    common = (p_max, noise_power, w_latency, w_energy, tau, w_tardiness)
    if D.size == 1:
        cost, p = best_power(bandwidth_total, D, g, Te, *common)
        return float(cost[0]), np.array([float(bandwidth_total)]), p
    if D.size != 2:
        raise ValueError(f"offload_brute_force handles 1 or 2 offloaders, got {D.size}")

    def total(beta):
        beta = np.asarray(beta, dtype=float)
        v1 = best_power(beta * bandwidth_total, D[0], g[0], Te[0], *common)[0]
        v2 = best_power((1.0 - beta) * bandwidth_total, D[1], g[1], Te[1], *common)[0]
        return v1 + v2

    grid = np.linspace(0.0, 1.0, 201)[1:-1]
    vals = total(grid)
    k = int(np.argmin(vals))
    lo = grid[k - 1] if k > 0 else 1e-9
    hi = grid[k + 1] if k + 1 < grid.size else 1 - 1e-9
    res = minimize_scalar(lambda x: float(total(x)), bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-12, "maxiter": 500})
    beta = res.x if res.fun < vals[k] else grid[k]
    b = np.array([beta, 1.0 - beta]) * bandwidth_total
    cost, p = best_power(b, D, g, Te, *common)
    return float(np.sum(cost)), b, p


def offload_slsqp(data_bits, gain, edge_latency, bandwidth_total, p_max, noise_power, w_latency, w_energy, tau,
                  w_tardiness=1.0, rng: np.random.Generator | None = None, starts: int = 1):
    """Multi-start SLSQP on the smooth epigraph form (variables ``b / B``, ``p / P_max``, slacks ``s``).

    ``min sum (w_l + w_e p) T^t + w_t s  s.t.  s >= T^t + T^e - tau, s >= 0, sum b <= B``
    (numerical gradients). Start 0 is equal bandwidths and ``p = 0.05 P_max``,
    the others random (``rng``). The best point is polished: bandwidths scaled
    to use all of B, each power re-optimised for its bandwidth with
    :func:`best_power` (both only lower the cost). Returns ``(cost, b, p)``.
    """
    from scipy.optimize import minimize

    D, g, Te = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (data_bits, gain, edge_latency))
    m = D.size
    if starts > 1 and rng is None:
        raise ValueError("offload_slsqp needs rng for more than one start")

    def times(z):
        b, p = z[:m] * bandwidth_total, z[m:2 * m] * p_max
        return D / (b * np.log2(1.0 + p * g / noise_power)), p

    def objective(z):
        t, p = times(z)
        return float(np.sum((w_latency + w_energy * p) * t) + w_tardiness * np.sum(z[2 * m:]))

    cons = [
        {"type": "ineq", "fun": lambda z: z[2 * m:] - (times(z)[0] + Te - tau)},
        {"type": "ineq", "fun": lambda z: 1.0 - np.sum(z[:m])},
    ]
    bounds = [(1e-9, 1.0)] * (2 * m) + [(0.0, None)] * m
    best = (math.inf, None, None)
    for s in range(starts):
        x0 = np.full(m, 1.0 / m) if s == 0 else rng.dirichlet(np.ones(m))
        y0 = np.full(m, 0.05) if s == 0 else np.exp(rng.uniform(np.log(1e-3), 0.0, m))
        z0 = np.concatenate([x0, y0, np.zeros(m)])
        z0[2 * m:] = np.maximum(0.0, times(z0)[0] + Te - tau) + 0.01
        res = minimize(objective, z0, method="SLSQP", bounds=bounds, constraints=cons,
                       options={"ftol": 1e-15, "maxiter": 2000})
        x = np.clip(res.x[:m], 1e-12, None)
        b = x / x.sum() * bandwidth_total
        cost, p = best_power(b, D, g, Te, p_max, noise_power, w_latency, w_energy, tau, w_tardiness)
        if float(np.sum(cost)) < best[0]:
            best = (float(np.sum(cost)), b, p)
    return best


def offload_reference(data_bits, gain, edge_latency, bandwidth_total, p_max, noise_power, w_latency, w_energy, tau,
                      w_tardiness=1.0, rng: np.random.Generator | None = None, starts: int = 1):
    """The better of :func:`offload_slsqp` and (for 1-2 offloaders) :func:`offload_brute_force`:
    ``(cost, b, p)`` for the offloaders given (every entry offloads)."""
    args = (data_bits, gain, edge_latency, bandwidth_total, p_max, noise_power, w_latency, w_energy, tau, w_tardiness)
    best = offload_slsqp(*args, rng=rng, starts=starts)
    if np.atleast_1d(data_bits).size <= 2:
        brute = offload_brute_force(*args)
        if brute[0] < best[0]:
            best = brute
    return best


# ------------------------------------------------------------------ TEM
def cpdrl_exhaustive_reference(instance, config) -> dict:
    """TEM with the references: every offloading vector, :func:`local_cpu_reference` for the
    local UTDs and :func:`offload_slsqp` for the offloaders (equal edge shares, eq. 7); each
    vector scored by the env's outcome functions. Returns ``{"penalised_cost", "offload"}``."""
    from mec_marl.envs import cpdrl

    cfg = config
    weights = (cfg.latency_weight, cfg.energy_weight, cfg.deadline, cfg.tardiness_weight)
    cpu, _ = local_cpu_reference(instance.cycles, instance.f_max, cfg.kappa, *weights)
    best = (math.inf, None)
    for bits in itertools.product((False, True), repeat=instance.n):
        a = np.array(bits)
        k = int(a.sum())
        b, p = np.zeros(instance.n), np.zeros(instance.n)
        if k:
            te = instance.cycles[a] * k / cfg.edge_capacity
            _, b[a], p[a] = offload_slsqp(instance.data_size[a], instance.gain[a], te, cfg.bandwidth, cfg.p_max,
                                          cfg.noise_power, *weights)
        f = np.where(a, 0.0, cpu)
        out = cpdrl.decision_outcome(instance, cfg, a, b, f, p)
        objective, tardiness = cpdrl.penalised_cost(out["latency"], out["energy"], cfg)
        cost = float(objective + cfg.tardiness_weight * tardiness)
        if cost < best[0]:
            best = (cost, a)
    return {"penalised_cost": best[0], "offload": best[1]}


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


__all__ += ["p21_cvxpy"]


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


__all__ += ["lyapunov_allocation_reference"]


from mec_marl.solvers.reference_djtcra import SigmoidProblem  # noqa: E402
from mec_marl.solvers.reference_djtcra import branch_and_bound as sigmoid_branch_and_bound  # noqa: E402
from mec_marl.solvers.reference_djtcra import grid_search as sigmoid_grid_search  # noqa: E402
