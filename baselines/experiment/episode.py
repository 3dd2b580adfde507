"""Run a policy on seeded instances and read each episode's metrics from the env.

The env reports an episode's metrics itself, in ``infos[agent]["episode"]`` at
the step where that agent's episode ends (each metric aggregated as the paper
reports it, plus ``return`` and ``length``); experiment code never recomputes
physics. Metrics of several agents are averaged. Decision time is timed
separately (:func:`decision_time`): the median over many decisions after a
warm-up, so one slow call under load does not become the reported number.
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np

import mec_marl
from baselines.experiment.seeds import eval_seeds

# Per-step scalars that are not metrics of the decision.
_NOT_METRICS = {"solver_time_s", "clipped_actions"}


def _scalars(info: dict) -> dict[str, float]:
    out = {}
    for key, value in info.items():
        if key in _NOT_METRICS or key == "episode":
            continue
        if isinstance(value, (bool, int, float, np.floating, np.integer, np.bool_)):
            out[key] = float(value)
    return out


def run_episode(env, policy, seed: int, trace: list | None = None, episode: int = 0) -> dict[str, float]:
    """One episode on the instance of ``seed``; the env's episode metrics, averaged over agents.

    With ``trace`` (a list), one row per step is appended: episode, step, the
    mean reward and the step's scalar infos averaged over agents.
    """
    observations, _ = env.reset(seed=seed)
    policy.reset(env, seed=seed)
    ended: dict[str, dict] = {}
    step = 0
    while env.agents:
        actions = policy.act(observations, env)
        observations, rewards, terms, truncs, infos = env.step(actions)
        step += 1
        if trace is not None:
            per_agent = [_scalars(i) for i in infos.values()]
            keys = sorted({k for p in per_agent for k in p})
            row = {"episode": episode, "step": step, "reward": float(np.mean(list(rewards.values())))}
            row.update({k: float(np.mean([p[k] for p in per_agent if k in p])) for k in keys})
            trace.append(row)
        for agent in rewards:
            if terms.get(agent) or truncs.get(agent):
                episode_info = infos.get(agent, {}).get("episode")
                if episode_info is None:
                    raise ValueError(f"{type(env.unwrapped).__name__}: agent {agent!r} ended without "
                                     "infos[agent]['episode'] (the env contract of mec_marl.episode)")
                ended[agent] = dict(episode_info)
    keys = sorted({k for e in ended.values() for k in e})
    return {k: float(np.mean([float(e[k]) for e in ended.values() if k in e])) for k in keys}


def decision_time(env, policy, seeds: list[int], samples: int = 20, warmup: int = 3) -> list[float]:
    """Wall times of ``samples`` decisions (``policy.reset`` + first ``act`` on a fresh instance) after ``warmup``.

    A decision includes ``reset`` because searches solve the instance there.
    Instances cycle through ``seeds``; call this after the evaluation, as it
    advances the policy's own random state.
    """
    times = []
    for k in range(warmup + samples):
        seed = seeds[k % len(seeds)]
        observations, _ = env.reset(seed=seed)
        start = time.perf_counter()
        policy.reset(env, seed=seed)
        policy.act(observations, env)
        if k >= warmup:
            times.append(time.perf_counter() - start)
    return times


def evaluate(env_id: str, policy, episodes: int, seed: int = 0, env_kwargs: dict | None = None,
             trace: list | None = None) -> list[dict[str, float]]:
    """Episode metrics of ``policy`` on the ``episodes`` evaluation instances of training seed ``seed``.

    ``env_kwargs`` must already hold the method's env options (the registry's
    ``Method.env_options``): a method is scored in the env it acts in.
    """
    env = mec_marl.make(env_id, **dict(env_kwargs or {}))
    try:
        return [run_episode(env, policy, s, trace, i) for i, s in enumerate(eval_seeds(seed, episodes))]
    finally:
        env.close()


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else math.nan
