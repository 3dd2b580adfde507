"""Search baselines of the OJRS paper on large_scale_v0: exhaustive, SA, ASA, PSO.

Each policy searches the current slot's decision space with the generic
searches of :mod:`baselines.search`; every candidate is scored by the P2.1
closed form (``multi_mec.p21_objective``, the env's own objective including
its outage fallback), one batched call per iteration. Searches start from the
Greedy decision (and, for SA/ASA, from random ones in the other chains) so
that they are never worse than Greedy.

* ``exhaustive``: all (M+1)^N decisions; refused above 2^20 with a clear message.
* ``sa``: traditional SA, one random UE changes per neighbour.
* ``asa``: Alg. 2 with the adaptive h-mutation (eq. 27-29); Table II's ASA.
* ``pso``: integer PSO, the near-optimal reference of the NRR (Table III).
"""

from __future__ import annotations

import numpy as np

from baselines import search
from baselines.large_scale.heuristics import as_actions, current_problem, greedy_decision
from baselines.policy import RandomSource
from mec_marl.envs import large_scale
from mec_marl.solvers import multi_mec


def slot_objective(env):
    """``candidates (C, N) -> (C,)`` weighted latency of the env's current slot."""
    problem = current_problem(env)
    fallback = env.unwrapped.config.outage_fallback
    return problem, lambda cands: multi_mec.p21_objective(problem, cands, fallback=fallback)


class _SlotSearch(RandomSource):
    """Shared policy shape: search the slot's decisions at every step."""

    name = "search"

    def reset(self, env, seed=None):
        self._seed(seed)

    def act(self, observations, env):
        base = env.unwrapped
        problem, objective = slot_objective(env)
        greedy = greedy_decision(base.instance, problem)
        result = self.search(env, objective, greedy)
        self.last_result = result
        return as_actions(env, result["decision"])

    def _starts(self, greedy, k: int, chains: int) -> np.ndarray:
        starts = self.rng.integers(0, k, (chains, greedy.shape[-1]))
        starts[0] = greedy
        return starts


class Exhaustive(_SlotSearch):
    name = "exhaustive"

    def reset(self, env, seed=None):
        config = env.unwrapped.config
        k, n = config.n_mecs + 1, config.n_ues
        if k**n > search.MAX_EXHAUSTIVE_CANDIDATES:  # refuse before the episode, not at its first step
            search.exhaustive_search(None, n, k)
        super().reset(env, seed)

    def search(self, env, objective, greedy):
        config = env.unwrapped.config
        return search.exhaustive_search(objective, config.n_ues, config.n_mecs + 1)


class SimulatedAnnealing(_SlotSearch):
    name = "sa"

    def __init__(self, iterations: int = 200, chains: int = 16, t0_fraction: float = 0.02, cooling: float = 0.97):
        self.iterations, self.chains, self.t0_fraction, self.cooling = iterations, chains, t0_fraction, cooling

    def search(self, env, objective, greedy):
        k = env.unwrapped.config.n_mecs + 1
        return search.simulated_annealing(objective, self._starts(greedy, k, self.chains), k, self.rng,
                                          self.iterations, self.t0_fraction, self.cooling)


class AdaptiveSimulatedAnnealing(_SlotSearch):
    name = "asa"

    def __init__(self, iterations: int = 200, chains: int = 16, t0_fraction: float = 0.02, cooling: float = 0.97,
                 mutation_scale: float = 1.0):
        self.iterations, self.chains, self.t0_fraction, self.cooling = iterations, chains, t0_fraction, cooling
        self.mutation_scale = mutation_scale

    def search(self, env, objective, greedy):
        base = env.unwrapped
        gain = large_scale.slot_gain(base.config, base.instance, base.model_state.t)
        k = base.config.n_mecs + 1
        return search.adaptive_simulated_annealing(
            objective, self._starts(greedy, k, self.chains), gain, self.rng, self.iterations,
            self.t0_fraction, self.cooling, self.mutation_scale,
        )


class ParticleSwarm(_SlotSearch):
    name = "pso"

    def __init__(self, particles: int = 64, iterations: int = 100):
        self.particles, self.iterations = particles, iterations

    def search(self, env, objective, greedy):
        config = env.unwrapped.config
        return search.particle_swarm(objective, config.n_ues, config.n_mecs + 1, self.rng, self.particles,
                                     self.iterations, init=greedy[None])
