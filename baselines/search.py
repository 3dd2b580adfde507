"""Search baselines: exhaustive enumeration and (later) SA, ASA, PSO.

TEM (CPDRL paper, Sec. V-A; SPEC ``cpdrl_v0``): enumerate all 2^n offloading
vectors; for each, the optimal continuous resources of the penalised cost
(objective eq. 10 + tardiness) — local CPU in closed form, offloaders' power
by a 1-D search and bandwidth by the square-root KKT rule with the deadline
kink (:mod:`mec_marl.solvers.allocation`) — and keep the best vector. All
vectors are solved in one batched call, so the cost is O(2^n n) numpy work.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from mec_marl.envs import cpdrl
from mec_marl.solvers import allocation

MAX_EXHAUSTIVE_DEVICES = 16


def offloading_vectors(n: int) -> np.ndarray:
    """All 2^n binary offloading vectors, shape ``(2^n, n)`` bool."""
    if n > MAX_EXHAUSTIVE_DEVICES:
        raise ValueError(f"exhaustive search over 2^{n} vectors refused (n > {MAX_EXHAUSTIVE_DEVICES})")
    return np.array(list(itertools.product((False, True), repeat=n)), dtype=bool).reshape(-1, n)


def optimal_resources(instance: cpdrl.CpdrlInstance, config: cpdrl.CpdrlConfig, vectors) -> dict:
    """The optimal continuous resources for each offloading vector in ``vectors`` (``(V, n)``, 0/1 or bool).

    Local CPU in closed form, offloaders' power and bandwidth by the exact allocation of
    :func:`mec_marl.solvers.allocation.offload_resources`; the edge delay of eq. 7 is fixed by the
    vector. Returns per-row ``offload``, ``bandwidth``, ``cpu_freq``, ``power`` (SI), ``objective``,
    ``tardiness`` and ``penalised_cost`` (what the reward charges, without the consistency bonus).
    TEM calls it on all 2^n vectors; ``cpdrl_solver`` on the actor's one.
    """
    vectors = np.asarray(vectors) > 0
    cycles = instance.cycles
    cpu = allocation.local_cpu_optimum(
        cycles, instance.f_max, config.kappa, config.latency_weight, config.energy_weight,
        config.deadline, config.tardiness_weight,
    )
    cpu_freq = np.where(vectors, 0.0, cpu)
    edge_latency = vectors * (cycles / cpdrl.compute.equal_share(vectors, config.edge_capacity))  # eq. 7
    bandwidth, power = allocation.offload_resources(
        vectors, instance.data_size, instance.gain, edge_latency, config.bandwidth, config.p_max,
        config.noise_power, config.latency_weight, config.energy_weight, config.deadline, config.tardiness_weight,
    )
    out = cpdrl.decision_outcome(instance, config, vectors, bandwidth, cpu_freq, power)
    objective, tardiness = cpdrl.penalised_cost(out["latency"], out["energy"], config)
    return {
        "offload": vectors, "bandwidth": bandwidth, "cpu_freq": cpu_freq, "power": power,
        "objective": objective, "tardiness": tardiness,
        "penalised_cost": objective + config.tardiness_weight * tardiness,
    }


def cpdrl_exhaustive(instance: cpdrl.CpdrlInstance, config: cpdrl.CpdrlConfig) -> dict:
    """TEM: the optimum of the penalised cost over all offloading vectors.

    Returns the chosen ``offload``, ``bandwidth``, ``cpu_freq``, ``power`` (SI),
    its ``objective``, ``penalised_cost`` and ``solver_time_s``.
    """
    start = time.perf_counter()
    sol = optimal_resources(instance, config, offloading_vectors(instance.n))
    best = int(np.argmin(sol["penalised_cost"]))
    return {
        "offload": sol["offload"][best],
        "bandwidth": sol["bandwidth"][best],
        "cpu_freq": sol["cpu_freq"][best],
        "power": sol["power"][best],
        "objective": float(sol["objective"][best]),
        "penalised_cost": float(sol["penalised_cost"][best]),
        "solver_time_s": time.perf_counter() - start,
    }


class CpdrlExhaustive:
    """TEM as a policy: solves each instance once at ``reset``, then repeats the optimum."""

    name = "tem"

    def __init__(self):
        self.solution = None

    def reset(self, env, seed=None):
        base = env.unwrapped
        self.solution = cpdrl_exhaustive(base.instance, base.config)
        s = self.solution
        self._action = cpdrl.encode_action(s["offload"], s["bandwidth"], s["cpu_freq"], s["power"], base.instance, base.config)

    def act(self, observations, env):
        return {agent: self._action for agent in env.agents}


# =========================================================================== #
# Generic searches over integer decisions x in {0..k-1}^n (large_scale_v0 and
# any env whose decision is one target per user). ``objective`` maps a batch of
# candidates ``(C, n)`` to their costs ``(C,)`` in one call (e.g.
# multi_mec.p21_objective), so every iteration evaluates a whole population.
# =========================================================================== #
MAX_EXHAUSTIVE_CANDIDATES = 2**20


def exhaustive_search(objective, n: int, k: int, chunk: int = 65536) -> dict:
    """The best of all k^n decisions; refuses when k^n exceeds :data:`MAX_EXHAUSTIVE_CANDIDATES`."""
    total = k**n
    if total > MAX_EXHAUSTIVE_CANDIDATES:
        raise ValueError(
            f"exhaustive search over {k}^{n} = {total:.3g} decisions refused "
            f"(limit {MAX_EXHAUSTIVE_CANDIDATES}); use a smaller n or a heuristic search (asa, pso)"
        )
    powers = k ** np.arange(n - 1, -1, -1)
    best_value, best = np.inf, None
    for start in range(0, total, chunk):
        codes = np.arange(start, min(start + chunk, total))
        cands = (codes[:, None] // powers) % k
        values = objective(cands)
        i = int(np.argmin(values))
        if values[i] < best_value:
            best_value, best = float(values[i]), cands[i].copy()
    return {"decision": best, "value": best_value, "evaluations": total}


def _anneal(objective, start: np.ndarray, neighbour, rng, iterations: int, t0_fraction: float, cooling: float) -> dict:
    """Parallel simulated-annealing chains (Boltzmann acceptance, OJRS eq. 26; T(G) = phi T(G-1))."""
    x = np.array(start, dtype=np.int64, ndmin=2)
    fx = objective(x)
    best_i = int(np.argmin(fx))
    best, best_value = x[best_i].copy(), float(fx[best_i])
    temperature = t0_fraction * np.where(np.isfinite(fx), np.abs(fx), 1.0)
    evaluations = len(x)
    for g in range(iterations):
        cand = neighbour(x, g)
        fc = objective(cand)
        evaluations += len(cand)
        with np.errstate(over="ignore", invalid="ignore"):
            boltzmann = np.exp(np.minimum((fx - fc) / np.maximum(temperature, 1e-300), 0.0))
            accept = (fc <= fx) | (boltzmann > rng.random(len(x)))
        x = np.where(accept[:, None], cand, x)
        fx = np.where(accept, fc, fx)
        i = int(np.argmin(fx))
        if fx[i] < best_value:
            best, best_value = x[i].copy(), float(fx[i])
        temperature = temperature * cooling
    return {"decision": best, "value": best_value, "evaluations": evaluations}


def simulated_annealing(objective, start, k: int, rng: np.random.Generator, iterations: int = 200,
                        t0_fraction: float = 0.02, cooling: float = 0.97) -> dict:
    """Traditional SA: a neighbour changes one random user's target to another value (OJRS Sec. IV-D).

    ``start`` is ``(n,)`` or ``(chains, n)``; chains run in parallel, one batched evaluation per
    iteration. T(0) = ``t0_fraction`` x the start's cost.
    """

    def neighbour(x, g):
        chains, n = x.shape
        cand = x.copy()
        who = rng.integers(0, n, chains)
        shift = rng.integers(1, k, chains)  # never the current value
        cand[np.arange(chains), who] = (cand[np.arange(chains), who] + shift) % k
        return cand

    return _anneal(objective, start, neighbour, rng, iterations, t0_fraction, cooling)


def h_mutation_keep(gain: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Keep probability of each user's target, OJRS eq. 27: ``h_{i,a_i} / sum_j h_ij`` for a MEC
    target; the paper gives none for local execution, read here as ``1 / (M + 1)`` (as if local were
    one of M + 1 equally good places). ``gain`` ``(n, M)``, ``x`` ``(C, n)`` -> ``(C, n)``."""
    g = np.asarray(gain, dtype=float)
    m = g.shape[-1]
    total = g.sum(axis=-1)
    local = np.full(g.shape[:-1] + (1,), 1.0 / (m + 1))
    share = np.concatenate([local, g / np.where(total > 0, total, 1.0)[..., None]], -1)
    return np.take_along_axis(np.broadcast_to(share, x.shape + (m + 1,)), x[..., None], -1)[..., 0]


def adaptive_simulated_annealing(objective, start, gain, rng: np.random.Generator, iterations: int = 200,
                                 t0_fraction: float = 0.02, cooling: float = 0.97,
                                 mutation_scale: float = 1.0) -> dict:
    """ASA (OJRS Alg. 2): SA whose neighbours come from the adaptive h-mutation (eq. 27-29).

    User i leaves its target with probability ``mutation_scale x (1 - keep_i)`` (eq. 28 with
    ``rand > P_i^mut``; ``mutation_scale = 1`` is the paper's rule) for a target drawn uniformly
    among the others in M0 (eq. 29); a neighbour changes at least one user. The iteration count
    is the caller's (eq. 30, :func:`adaptive_iterations`, adapts it inside OJRS).
    """
    k = np.asarray(gain).shape[-1] + 1

    def neighbour(x, g):
        chains, n = x.shape
        leave = rng.random((chains, n)) < mutation_scale * (1.0 - h_mutation_keep(gain, x))
        none = ~leave.any(axis=1)
        leave[np.flatnonzero(none), rng.integers(0, n, int(none.sum()))] = True
        shift = rng.integers(1, k, (chains, n))
        return np.where(leave, (x + shift) % k, x)

    return _anneal(objective, start, neighbour, rng, iterations, t0_fraction, cooling)


def adaptive_iterations(current: int, loss_decrease: float, threshold: float) -> int:
    """OJRS eq. 30: one more SA iteration while the policy's loss still falls by >= ``threshold``,
    one fewer (down to 1) once it does not."""
    if loss_decrease >= threshold:
        return current + 1
    return current - 1 if current != 1 else 1


def particle_swarm(objective, n: int, k: int, rng: np.random.Generator, particles: int = 64,
                   iterations: int = 100, inertia: float = 0.72, c_personal: float = 1.49,
                   c_social: float = 1.49, init=None) -> dict:
    """PSO over continuous positions in [0, k) decoded by flooring (the usual integer PSO), one batched
    evaluation per iteration; ``init`` ``(r, n)`` decisions seed the first ``r`` particles."""
    pos = rng.uniform(0.0, k, (particles, n))
    if init is not None:
        seeds = np.array(init, ndmin=2)[:particles]
        pos[: len(seeds)] = seeds + 0.5
    vel = rng.uniform(-1.0, 1.0, (particles, n))

    def decode(p):
        return np.clip(np.floor(p), 0, k - 1).astype(np.int64)

    own = pos.copy()
    own_value = objective(decode(pos))
    g = int(np.argmin(own_value))
    best, best_value = decode(own[g : g + 1])[0], float(own_value[g])
    evaluations = particles
    for _ in range(iterations):
        r1, r2 = rng.random((2, particles, n))
        vel = inertia * vel + c_personal * r1 * (own - pos) + c_social * r2 * (best + 0.5 - pos)
        vel = np.clip(vel, -k, k)
        pos = np.clip(pos + vel, 0.0, k - 1e-9)
        values = objective(decode(pos))
        evaluations += particles
        better = values < own_value
        own[better], own_value[better] = pos[better], values[better]
        g = int(np.argmin(own_value))
        if own_value[g] < best_value:
            best, best_value = decode(own[g : g + 1])[0], float(own_value[g])
    return {"decision": best, "value": best_value, "evaluations": evaluations}
