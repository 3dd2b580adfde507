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

CPDRL's references live here; the other envs' in ``reference_<env>.py``
modules (re-exported here, so tests and the benchmark import one module).
cvxpy and scipy are imported inside the functions: the envs never need them.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = [
    "SqrtSharesProblem", "sqrt_shares_cvxpy", "local_cost", "local_cpu_reference", "offload_user_cost",
    "best_power", "offload_brute_force", "offload_slsqp", "offload_reference", "cpdrl_exhaustive_reference",
    "semantic_slot_reference", "p21_cvxpy",
    "time_allocation_cvxpy", "wireless_powered_exhaustive_reference", "lyapunov_allocation_reference",
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


from mec_marl.solvers.reference_semantic import semantic_slot_reference  # noqa: E402
from mec_marl.solvers.reference_large_scale import p21_cvxpy  # noqa: E402
from mec_marl.solvers.reference_wireless import time_allocation_cvxpy, wireless_powered_exhaustive_reference, lyapunov_allocation_reference  # noqa: E402
from mec_marl.solvers.reference_djtcra import SigmoidProblem  # noqa: E402
from mec_marl.solvers.reference_djtcra import branch_and_bound as sigmoid_branch_and_bound  # noqa: E402
from mec_marl.solvers.reference_djtcra import grid_search as sigmoid_grid_search  # noqa: E402
