"""The PFR-OA paper's rule-based baselines on smart_community_v0 (Sec. V-A).

* Local — every task runs on its ED.
* Edge — every task is offloaded; bandwidth and MEC CPU in even shares among
  the sub-slot's offloaders.
* Greedy — a task runs on its ED when its waiting time plus C / f meets T_d,
  else it is offloaded (even shares among the offloaders).

The rules read the head-of-queue tasks through the env's model
(:func:`decide`), batch-first, so the same code drives one env or a vector
env of B instances.
"""

from __future__ import annotations

import numpy as np

from mec_marl.envs import smart_community as sc
from mec_marl.envs.smart_community_physics import head_task

MODES = ("local", "edge", "greedy")


def decide(mode: str, config, instance, state) -> np.ndarray:
    """``(*b, m, n)`` bool offloading decisions of a rule for the current head-of-queue tasks."""
    if mode not in MODES:
        raise ValueError(f"unknown heuristic {mode!r}; allowed: {list(MODES)}")
    now, arrival, _, cycles, has_task = head_task(config, instance, state)
    if mode == "local":
        return np.zeros(has_task.shape, dtype=bool)
    if mode == "edge":
        return np.ones(has_task.shape, dtype=bool)
    meets = (now - arrival) + cycles / instance.cpu_freq <= config.deadline
    return ~meets


def encode(offload) -> np.ndarray:
    """Decisions -> raw ``(..., 3n)`` actions: alpha = +-1, equal w and beta (even shares)."""
    offload = np.asarray(offload, dtype=bool)
    alpha = np.where(offload, 1.0, -1.0)
    ones = np.ones_like(alpha)
    return np.concatenate([alpha, ones, ones], axis=-1).astype(np.float32)


def batch_actions(mode: str, config, instance, state) -> dict:
    """Actions of every community for a (possibly batched) model state."""
    raw = encode(decide(mode, config, instance, state))
    return {agent: raw[..., i, :] for i, agent in enumerate(sc.agents(config))}


class SmartCommunityHeuristic:
    """Local / Edge / Greedy as a policy (``baselines.policy.Policy``)."""

    def __init__(self, mode: str, name: str | None = None):
        if mode not in MODES:
            raise ValueError(f"unknown heuristic {mode!r}; allowed: {list(MODES)}")
        self.mode = mode
        self.name = name or mode

    def reset(self, env, seed=None) -> None:
        pass

    def act(self, observations, env) -> dict:
        base = env.unwrapped
        actions = batch_actions(self.mode, base.config, base.instance, base.model_state)
        return {agent: actions[agent] for agent in env.agents}


def levels(mode: str, episodes: int = 256, seed: int = 0, **config) -> dict:
    """Mean episode metrics of a rule over ``episodes`` episodes (every community's), on the vector env.

    What SPEC's reference levels are measured with: per episode and community,
    success rate, energy and waiting time as ratios of sums over the episode's
    tasks, then the mean over episodes and communities.
    """
    from mec_marl import vector

    venv = vector.make("smart_community_v0", num_envs=episodes, **config)
    venv.reset(seed=seed)
    for _ in range(venv.config.episode_length):
        _, _, _, _, infos = venv.step(batch_actions(mode, venv.config, venv.instance, venv.model_state))
    keys = ("success_rate", "avg_energy", "avg_waiting_time", "return", "tasks")
    return {k: float(np.nanmean([infos[a]["episode"][k] for a in venv.agents])) for k in keys}
