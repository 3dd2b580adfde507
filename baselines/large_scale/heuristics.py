"""Rule-based baselines of the OJRS paper (Table II) on large_scale_v0, as SPEC words them.

* Greedy: every UE offloads to its nearest MEC; where a MEC is "insufficient"
  (some of its UEs would finish later than locally), its UEs go local, largest
  weighted demand w_i F_i first, until none would (:func:`insufficiency_rule`).
* Random: each UE uniform over local and the M MECs, then the same rule.

The rule is applied to the UEs as assigned, before the env's outage fallback
(SPEC's default reading; the env then moves any UE whose upload alone exceeds
local execution). "Finish" is the UE's whole latency, upload plus its KKT
share of the MEC's CPU (P2.1's allocation).
"""

from __future__ import annotations

import numpy as np

from baselines.policy import RandomSource
from mec_marl.envs import large_scale
from mec_marl.solvers import multi_mec


def insufficiency_rule(problem: multi_mec.P21Problem, decision: np.ndarray) -> np.ndarray:
    """``decision`` ``(*b, N)`` with UEs moved local until no MEC has a UE finishing later than locally.

    Each round removes, at every insufficient MEC at once, its UE with the largest
    weighted demand w_i F_i; the CPU split is then recomputed. Ends after at most N rounds.
    """
    a = np.array(decision, dtype=np.int64)
    m = problem.n_mecs
    demand = np.broadcast_to(problem.demand_sqrt, a.shape)
    for _ in range(a.shape[-1] + 1):
        latency = multi_mec.p21_solve(problem, a, fallback=False)["latency"]
        late = (a > 0) & (latency > problem.local_latency)
        if not late.any():
            return a
        for j in range(1, m + 1):
            here = a == j
            insufficient = (late & here).any(axis=-1)
            if not insufficient.any():
                continue
            score = np.where(here, demand, -np.inf)
            worst = np.argmax(score, axis=-1)[..., None]
            current = np.take_along_axis(a, worst, -1)
            np.put_along_axis(a, worst, np.where(insufficient[..., None], 0, current), -1)
    return a


def nearest_mec(instance: large_scale.LargeScaleInstance) -> np.ndarray:
    """``(*b, N)``: each UE's nearest MEC (1-based) by the distance R_ij of eq. 10."""
    return np.argmin(instance.distance, axis=-1) + 1


def greedy_decision(instance, problem) -> np.ndarray:
    return insufficiency_rule(problem, nearest_mec(instance))


def random_decision(problem, rng: np.random.Generator) -> np.ndarray:
    m = problem.n_mecs
    return insufficiency_rule(problem, rng.integers(0, m + 1, problem.weights.shape))


def current_problem(env):
    """The slot's P2.1 problem of a (single) large_scale_v0 env."""
    base = env.unwrapped
    return large_scale.slot_problem(base.config, base.instance, base.model_state)


def as_actions(env, decision: np.ndarray) -> dict:
    """A ``(N,)`` decision as the env's actions (scheduler or users mode)."""
    config = env.unwrapped.config
    decision = np.asarray(decision, dtype=np.int64)
    if config.agent_mode == "scheduler":
        return {large_scale.SCHEDULER: decision}
    return {agent: int(decision[i]) for i, agent in enumerate(large_scale.agents(config)) if agent in env.agents}


class Greedy:
    """Nearest MEC for everyone, then the insufficiency rule (Table II 'Greedy')."""

    name = "greedy"

    def reset(self, env, seed=None):
        pass

    def act(self, observations, env):
        return as_actions(env, greedy_decision(env.unwrapped.instance, current_problem(env)))


class RandomOffloading(RandomSource):
    """Uniform over local and the M MECs per UE, then the insufficiency rule (Table II 'Random')."""

    name = "random"

    def reset(self, env, seed=None):
        self._seed(seed)

    def act(self, observations, env):
        return as_actions(env, random_decision(current_problem(env), self.rng))


class AllLocal:
    """Every UE executes locally (a reference level, not in the paper)."""

    name = "local"

    def reset(self, env, seed=None):
        pass

    def act(self, observations, env):
        return as_actions(env, np.zeros(env.unwrapped.config.n_ues, dtype=np.int64))
