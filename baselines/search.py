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


def cpdrl_exhaustive(instance: cpdrl.CpdrlInstance, config: cpdrl.CpdrlConfig) -> dict:
    """TEM: the optimum of the penalised cost over all offloading vectors.

    Returns the chosen ``offload``, ``bandwidth``, ``cpu_freq``, ``power`` (SI),
    its ``objective``, ``penalised_cost`` and ``solver_time_s``.
    """
    start = time.perf_counter()
    vectors = offloading_vectors(instance.n)
    cycles = instance.cycles
    cpu = allocation.local_cpu_optimum(
        cycles, instance.f_max, config.kappa, config.latency_weight, config.energy_weight,
        config.deadline, config.tardiness_weight,
    )
    cpu_freq = np.where(vectors, 0.0, cpu[None, :])
    edge_latency = vectors * (cycles / cpdrl.compute.equal_share(vectors, config.edge_capacity))  # eq. 7
    bandwidth, power = allocation.offload_resources(
        vectors, instance.data_size, instance.gain, edge_latency, config.bandwidth, config.p_max,
        config.noise_power, config.latency_weight, config.energy_weight, config.deadline, config.tardiness_weight,
    )
    out = cpdrl.decision_outcome(instance, config, vectors, bandwidth, cpu_freq, power)
    objective, tardiness = cpdrl.penalised_cost(out["latency"], out["energy"], config)
    cost = objective + config.tardiness_weight * tardiness
    best = int(np.argmin(cost))
    return {
        "offload": vectors[best],
        "bandwidth": bandwidth[best],
        "cpu_freq": cpu_freq[best],
        "power": power[best],
        "objective": float(objective[best]),
        "penalised_cost": float(cost[best]),
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
