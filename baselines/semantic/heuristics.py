"""Association policies for semantic_v0 (DRLH paper, Sec. V).

* Random: an association drawn uniformly from the feasible ones (the paper's
  Random: one of the 1960 actions for I = 8, chi = (4, 2)).
* Exhaustive: every feasible association through the model-based critic (the
  env's own allocation solver, P3.1-P3.4 by default), the best kept. The
  per-slot objective separates over UEs given rho, so one call builds each
  UE's cost for the four (rho^E, rho^C) pairs and every candidate is scored
  by a gather and a sum (``lyapunov.action_costs``).
* Greedy (not in the paper): the chi_mec UEs that gain most from the MEC,
  then the chi_mcc that gain most from the MCC given that choice.
* Longest queue (not in the paper, model-free): MEC to the longest Q^L + Z^L
  minus Q^E + Z^E, MCC to the longest Q^L + Z^L with the best MCC channel breaking ties.

Policies read the privileged instance and state through ``env.unwrapped`` and
answer in the env's agent mode.
"""

from __future__ import annotations

import numpy as np

from baselines.policy import RandomSource
from mec_marl.envs import semantic
from mec_marl.solvers import lyapunov
from mec_marl.solvers.quantize_topchi import feasible_actions, top_chi


def critic_table(env, solver: str | None = None) -> np.ndarray:
    """``(I, 2, 2)`` per-UE costs of the current slot (the model-based critic's table)."""
    base = env.unwrapped
    config, state = base.config, base.model_state
    gain_mec, gain_mcc = state.gain_mec, state.gain_mcc
    problem = semantic.slot_problem(config, state, gain_mec, gain_mcc)
    return lyapunov.cost_table(problem, config.hardware(), solver or config.solver)


def all_actions(config) -> tuple[np.ndarray, np.ndarray]:
    return feasible_actions(config.n_ues, config.chi_mec, config.chi_mcc)


def candidate_costs(env, rho_mec, rho_mcc, critic: str = "table", solver: str | None = None) -> np.ndarray:
    """Per-slot objective (up to the arrival term) of ``(N, I)`` candidate associations.

    ``critic="table"`` scores them from the per-UE cost table (4 solves per UE,
    then a gather); ``"direct"`` solves P3 for every candidate, N x I problems in
    one batched call (the paper's J*(rho) per candidate). Both give the same numbers.
    """
    if critic == "table":
        return lyapunov.action_costs(critic_table(env, solver), rho_mec, rho_mcc)
    if critic != "direct":
        raise ValueError(f"unknown critic {critic!r}; allowed: ['table', 'direct']")
    base = env.unwrapped
    config, state = base.config, base.model_state
    gain_mec, gain_mcc = state.gain_mec, state.gain_mcc
    problem = semantic.slot_problem(config, state, gain_mec, gain_mcc)
    return lyapunov.solve(problem, config.hardware(), rho_mec, rho_mcc, solver or config.solver)["cost"].sum(-1)


class RandomAssociationPolicy(RandomSource):
    """The paper's Random: a uniformly drawn feasible association every slot."""

    name = "random"

    def reset(self, env, seed=None):
        self._seed(seed)

    def act(self, observations, env):
        config = env.unwrapped.config
        n = config.n_ues
        rho_mec = np.zeros(n, bool)
        rho_mec[self.rng.choice(n, config.chi_mec, replace=False)] = True
        rho_mcc = np.zeros(n, bool)
        rho_mcc[self.rng.choice(n, config.chi_mcc, replace=False)] = True
        return semantic.encode_action(config, rho_mec, rho_mcc)


class ExhaustivePolicy:
    """All feasible associations through the critic; the cheapest executed."""

    name = "exhaustive"

    def __init__(self, solver: str | None = None, critic: str = "table"):
        self.solver, self.critic = solver, critic

    def reset(self, env, seed=None):
        pass

    def choose(self, env) -> tuple[np.ndarray, np.ndarray]:
        rho_mec, rho_mcc = all_actions(env.unwrapped.config)
        costs = candidate_costs(env, rho_mec, rho_mcc, self.critic, self.solver)
        best = int(np.argmin(costs))
        return rho_mec[best], rho_mcc[best]

    def act(self, observations, env):
        return semantic.encode_action(env.unwrapped.config, *self.choose(env))


class GreedyPolicy:
    """MEC by largest marginal gain, then MCC by largest gain given the MEC choice."""

    name = "greedy"

    def reset(self, env, seed=None):
        pass

    def act(self, observations, env):
        config = env.unwrapped.config
        table = critic_table(env)
        rho_mec = top_chi(table[:, 0, 0] - table[:, 1, 0], config.chi_mec)
        rows = table[np.arange(config.n_ues), rho_mec.astype(int)]  # (I, 2) given rho^E
        rho_mcc = top_chi(rows[:, 0] - rows[:, 1], config.chi_mcc)
        return semantic.encode_action(config, rho_mec, rho_mcc)


class LongestQueuePolicy:
    """Model-free: backlog weights decide; the MCC channel breaks ties."""

    name = "longest_queue"

    def reset(self, env, seed=None):
        pass

    def act(self, observations, env):
        base = env.unwrapped
        config, state = base.config, base.model_state
        w_l = state.queue_local + state.virtual_local
        w_e = state.queue_edge + state.virtual_edge
        gain_mcc = state.gain_mcc
        tie = 1e-6 * np.log10(gain_mcc) / 20.0  # |tie| << one task
        return semantic.encode_action(
            config, top_chi(w_l - w_e, config.chi_mec), top_chi(w_l + tie, config.chi_mcc)
        )
