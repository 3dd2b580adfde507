"""OJRS P2.1 (large_scale_v0): multi-MEC resource allocation for a fixed offloading decision.

Split from :mod:`mec_marl.solvers.allocation` (CPDRL's single-cell allocation);
numpy only, batched over problems and candidate decisions.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mec_marl.physics import channel, compute

# Once the decision a is fixed, P2.1 (OJRS eq. 14-17) separates:
#   * transmit power: the upload time D / (B log2(1 + p h / sigma^2)) falls with
#     p, so every offloader transmits at its C4 maximum P_max;
#   * local CPU: F / f falls with f, so f_i0 = min(F_L, (P_max / kappa)^(1/v))
#     (C3, and C4 with the execution power of eq. 8);
#   * each MEC j splits its CPU F_j among its users: min sum_i w_i F_i / f_ij
#     s.t. sum_i f_ij <= F_j has the KKT solution
#     f_ij = F_j sqrt(w_i F_i) / S_j, S_j = sum_k sqrt(w_k F_k), whose weighted
#     latency is S_j^2 / F_j.
# Each task's latency is counted once (SPEC: eq. 15-17 taken literally would add
# the local term once per MEC). The outage fallback (SPEC) is an env rule, not
# part of P2.1: with ``fallback=True`` an offloader whose upload alone takes
# longer than local execution runs locally before the CPU split.
# A problem's arrays have a batch shape ``*b``; a decision may add candidate
# axes after it, ``(*b, *c, N)``, so one call evaluates many candidates.

@dataclasses.dataclass(frozen=True)
class P21Problem:
    """Per-slot constants of P2.1 for given channels and weights (SI), arrays over ``*b``.

    Attributes:
        upload_time: ``(*b, N, M)`` D_i / r_ij at p = P_max (eq. 5, 12); ``inf`` for a zero gain.
        local_latency: ``(*b, N)`` F_i / f_i0 (eq. 4) at the local optimum f_i0.
        local_cpu: ``(*b, N)`` f_i0 = min(F_L, (P_max / kappa)^(1/v)) (C3, C4, eq. 8).
        weights: ``(*b, N)`` w_i (positive).
        demand_sqrt: ``(*b, N)`` sqrt(w_i F_i), the KKT split's weights.
        time_per_load: ``(*b, N)`` sqrt(F_i / w_i): UE i's edge latency is this times S_j / F_j.
        mec_cpu: ``(*b, M)`` F_j (cycles/s).
        p_max: ``(*b, N)`` transmit power of an offloader (W).
        exec_power: ``(*b, N)`` local execution power kappa f_i0^v (W, eq. 8).
    """

    upload_time: np.ndarray
    local_latency: np.ndarray
    local_cpu: np.ndarray
    weights: np.ndarray
    demand_sqrt: np.ndarray
    time_per_load: np.ndarray
    mec_cpu: np.ndarray
    p_max: np.ndarray
    exec_power: np.ndarray

    @property
    def n_mecs(self) -> int:
        return self.upload_time.shape[-1]

    @property
    def batch_shape(self) -> tuple:
        return self.weights.shape[:-1]


def p21_problem_from_efficiency(efficiency, weights, *, data_size, cycles, bandwidth, p_max,
                                f_local_max, mec_cpu, kappa, exponent=3.0) -> P21Problem:
    """:class:`P21Problem` from the spectral efficiency at full power, ``log2(1 + P_max h / sigma^2)``
    (``(*b, N, M)``); the other arguments broadcast against ``(*b, N)`` (``mec_cpu`` against ``(*b, M)``).

    Per-UE constants given as scalars stay broadcast views (no per-UE copies on the env's hot path).
    """
    eff = np.asarray(efficiency, dtype=float)
    if eff.ndim < 2:
        raise ValueError(f"p21: efficiency must be (*b, N, M), got shape {eff.shape}")
    user_shape = eff.shape[:-1]
    w = np.asarray(weights, dtype=float)
    if not np.all(w > 0):
        raise ValueError("p21: weights must be positive")
    c = np.asarray(cycles, dtype=float)
    with np.errstate(divide="ignore"):
        per_bit = np.asarray(data_size, dtype=float) / np.asarray(bandwidth, dtype=float)
        upload = (per_bit[..., None] if per_bit.ndim else per_bit) / eff  # D / (B log2(1 + P h / sigma^2))
    f0 = compute.max_local_frequency(f_local_max, p_max, kappa, exponent)
    root_w, root_c = np.sqrt(w), np.sqrt(c)

    def users(x):
        return np.broadcast_to(x, user_shape)

    return P21Problem(
        upload_time=np.broadcast_to(upload, eff.shape),
        local_latency=users(compute.local_latency(c, f0)),
        local_cpu=users(f0),
        weights=users(w),
        demand_sqrt=users(root_w * root_c),
        time_per_load=users(root_c / root_w),
        mec_cpu=np.broadcast_to(np.asarray(mec_cpu, dtype=float), eff.shape[:-2] + eff.shape[-1:]),
        p_max=users(np.asarray(p_max, dtype=float)),
        exec_power=users(compute.execution_power(f0, kappa, exponent)),
    )


def p21_problem(gain, weights, *, data_size, cycles, bandwidth, noise_power, p_max,
                f_local_max, mec_cpu, kappa, exponent=3.0) -> P21Problem:
    """:class:`P21Problem` from channel gains ``h`` ``(*b, N, M)`` (eq. 11): power at its C4 maximum."""
    efficiency = channel.spectral_efficiency(p_max if np.ndim(p_max) == 0 else np.asarray(p_max)[..., None],
                                             gain, noise_power)
    return p21_problem_from_efficiency(
        efficiency, weights, data_size=data_size, cycles=cycles, bandwidth=bandwidth, p_max=p_max,
        f_local_max=f_local_max, mec_cpu=mec_cpu, kappa=kappa, exponent=exponent,
    )


def _expand(problem: P21Problem, decision: np.ndarray):
    """The problem's arrays with the decision's candidate axes inserted after ``*b``."""
    nb = problem.weights.ndim - 1
    extra = decision.ndim - 1 - nb
    if extra < 0 or decision.shape[-1] != problem.weights.shape[-1]:
        raise ValueError(
            f"p21: decision of shape {decision.shape} does not fit a problem with batch shape "
            f"{problem.batch_shape} and N = {problem.weights.shape[-1]} (expected (*b, *candidates, N))"
        )

    def ex(x):
        return x.reshape(x.shape[:nb] + (1,) * extra + x.shape[nb:])

    return {f.name: ex(getattr(problem, f.name)) for f in dataclasses.fields(problem)}


def _assign(problem_arrays: dict, decision: np.ndarray, fallback: bool) -> dict:
    """Executed assignment of ``decision``: float masks per MEC, upload times, fallback flags, loads S_j.

    Masks are float arrays and selections are sums of masked terms (no ``np.where``
    on random masks: several times slower per element); an infinite upload time
    (zero gain) takes the ``np.where`` path so that no ``0 * inf`` appears.
    """
    up = problem_arrays["upload_time"]
    m = up.shape[-1]
    a = decision.astype(np.intp, copy=False)
    if a.size and (a.min() < 0 or a.max() > m):
        raise ValueError(f"p21: decision values must lie in 0..{m} (0 = local, j = MEC j)")
    finite = bool(np.isfinite(up).all())
    at = [(a == j + 1).astype(np.float64) for j in range(m)]  # requested MEC j
    if finite:
        t_up = sum(e * up[..., j] for j, e in enumerate(at))  # 0 for local UEs
    else:
        idx = np.maximum(a - 1, 0)
        t_up = np.where(a > 0, np.take_along_axis(np.broadcast_to(up, a.shape + (m,)), idx[..., None], -1)[..., 0], 0.0)
    off = a > 0
    if fallback:
        fell = off & (t_up > problem_arrays["local_latency"])
        if fell.any():
            keep = (~fell).astype(np.float64)
            at = [e * keep for e in at]
            off = off & ~fell
            t_up = t_up * keep if finite else np.where(off, t_up, 0.0)
    else:
        fell = np.zeros(a.shape, dtype=bool)
    demand = problem_arrays["demand_sqrt"]
    load = [(demand * e).sum(axis=-1) for e in at]  # S_j
    return {"at": at, "off": off, "t_up": t_up, "fell": fell, "load": load}


def p21_objective(problem: P21Problem, decision, fallback: bool = True) -> np.ndarray:
    """Weighted latency sum (eq. 13) of P2.1's optimum for ``decision`` ``(*b, *c, N)`` -> ``(*b, *c)``.

    The fast path of searches: local UEs w_i F_i / f_i0, offloaders w_i D_i / r_ij,
    and each MEC's KKT split S_j^2 / F_j. ``inf`` where an offloader has zero rate
    (only with ``fallback=False``); never NaN.
    """
    d = np.asarray(decision)
    arrays = _expand(problem, d)
    x = _assign(arrays, d, fallback)
    local = (~x["off"]).astype(np.float64)
    users = (arrays["weights"] * (x["t_up"] + local * arrays["local_latency"])).sum(axis=-1)
    mec = arrays["mec_cpu"]
    return users + sum(s**2 / mec[..., j] for j, s in enumerate(x["load"]))


def p21_solve(problem: P21Problem, decision, fallback: bool = True) -> dict:
    """P2.1's optimum for ``decision`` ``(*b, *c, N)`` (0 = local, j = MEC j), all arrays ``(*b, *c, N)``.

    Returns ``offload`` (the executed target after the fallback), ``fallback``
    (bool, moved to local by the outage rule), ``latency`` (s), ``upload_time``,
    ``edge_time`` (0 for local UEs), ``power`` (transmit power, P_max for
    offloaders), ``cpu_freq`` (f_i0 for local UEs), ``edge_cpu`` (f_ij),
    ``energy`` (p T^up for offloaders, kappa f^v T^local locally) and
    ``objective`` ``(*b, *c)`` (eq. 13). A MEC without users allocates nothing.
    """
    d = np.asarray(decision)
    arrays = _expand(problem, d)
    x = _assign(arrays, d, fallback)
    at, up = x["at"], x["t_up"]
    mec = arrays["mec_cpu"]
    load_at = sum(e * s[..., None] for e, s in zip(at, x["load"]))  # S_j of the UE's MEC, 0 locally
    cpu_at = sum(e * mec[..., j, None] for j, e in enumerate(at))  # F_j, 0 locally
    local = (~x["off"]).astype(np.float64)
    edge_time = arrays["time_per_load"] * load_at / (cpu_at + local)  # sqrt(F_i / w_i) S_j / F_j
    edge_cpu = arrays["demand_sqrt"] * cpu_at / (load_at + local)  # F_j sqrt(w_i F_i) / S_j (KKT)
    tl = arrays["local_latency"]
    latency = up + edge_time + local * tl
    power = arrays["p_max"] * (1.0 - local)
    return {
        "offload": sum((j + 1) * e for j, e in enumerate(at)).astype(np.int64),
        "fallback": x["fell"],
        "latency": latency,
        "upload_time": up,
        "edge_time": edge_time,
        "power": power,
        "cpu_freq": arrays["local_cpu"] * local,
        "edge_cpu": edge_cpu,
        "energy": power * up + arrays["exec_power"] * tl * local,
        "objective": (arrays["weights"] * latency).sum(axis=-1),
    }


__all__ = [
    "P21Problem",
    "p21_problem",
    "p21_problem_from_efficiency",
    "p21_objective",
    "p21_solve",
]
