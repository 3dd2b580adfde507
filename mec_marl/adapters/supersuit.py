"""SuperSuit with Stable-Baselines3 on mec-marl envs: the documented fix for its traps.

SuperSuit 3.11's SB3 path (``pettingzoo_env_to_vec_env_v1`` then
``concat_vec_envs_v1(..., base_class="stable_baselines3")``) breaks SB3 2.x in
three ways (DESIGN.md, "Known traps"):

* ``PPO(..., seed=0)`` raises ``AttributeError: 'ConcatVecEnv' object has no
  attribute 'seed'``: SB3 seeds a VecEnv through ``venv.seed(s)`` and SuperSuit's
  wrapper forwards it to a Gymnasium vector env, which has no such method.
* Truncation is folded into ``dones`` with no ``infos[i]["TimeLimit.truncated"]``,
  so SB3 does not bootstrap the value of a truncated episode.
* Our ``infos[agent]["episode"]`` (return, length, metrics) lacks SB3's ``r`` /
  ``l`` / ``t`` keys, which SB3's logger reads from any info named ``episode``.

:class:`SeededSB3VecEnvWrapper` replaces SuperSuit's wrapper with one that
keeps SB3's seed for the next ``reset`` (SuperSuit's vector envs do take
``reset(seed=...)``, instance i getting ``seed + i``) and adds the two info
conventions; :func:`sb3_vec_env` builds the whole stack::

    from stable_baselines3 import PPO
    from mec_marl.adapters.supersuit import sb3_vec_env
    venv = sb3_vec_env("cpdrl_v0", num_vec_envs=8, n_devices=4)
    PPO("MlpPolicy", venv, seed=0).learn(2048)

SuperSuit's ``black_death_v3`` reports an episode's end only when every agent
is both terminated *and* truncated, so an episode that ends by truncation is
never reported and the next step runs on an env with no live agents (late by
one step, or an error from our envs). Our agents never leave mid-episode, so no
mec-marl env needs it; :func:`black_death` is the corrected wrapper for code
that applies it anyway. :class:`mec_marl.adapters.sb3.SB3VecEnv` (one process,
the env's batched model) needs none of this and is faster.
"""

from __future__ import annotations

import numpy as np
import supersuit
from supersuit.multiagent_wrappers.black_death import black_death_par
from supersuit.vector.sb3_vector_wrapper import SB3VecEnvWrapper

from mec_marl import registry


class SeededSB3VecEnvWrapper(SB3VecEnvWrapper):
    """SuperSuit's SB3 VecEnv wrapper with SB3's seeding, truncation and episode-info conventions."""

    def __init__(self, venv):
        super().__init__(venv)
        self._next_seed: int | None = None
        self._next_options: dict | None = None

    @classmethod
    def from_supersuit(cls, wrapper: SB3VecEnvWrapper) -> "SeededSB3VecEnvWrapper":
        """Re-wrap what ``concat_vec_envs_v1(..., base_class="stable_baselines3")`` returned."""
        return cls(wrapper.venv)

    def seed(self, seed: int | None = None) -> list[int | None]:
        """Keep ``seed`` for the next :meth:`reset` (SB3 2.x semantics); instance i gets ``seed + i``."""
        self._next_seed = None if seed is None else int(seed)
        return [None if seed is None else int(seed) + i for i in range(self.num_envs)]

    def set_options(self, options=None) -> None:
        """Options for the next :meth:`reset` (one dict for every instance)."""
        if isinstance(options, (list, tuple)):
            options = options[0] if options else None
        self._next_options = options

    def reset(self, seed=None, options=None):
        seed = self._next_seed if seed is None else seed
        options = self._next_options if options is None else options
        self._next_seed = self._next_options = None
        observations, self.reset_infos = self.venv.reset(seed=seed, options=options)
        return observations

    def step_wait(self):
        observations, rewards, terminations, truncations, infos = self.venv.step_wait()
        terminations = np.asarray(terminations, dtype=bool)
        truncations = np.asarray(truncations, dtype=bool)
        dones = terminations | truncations
        for i in np.flatnonzero(dones):
            info = infos[i]
            info["TimeLimit.truncated"] = bool(truncations[i] and not terminations[i])
            episode = info.get("episode")
            if isinstance(episode, dict) and "r" not in episode and "return" in episode:
                info["episode"] = {"r": episode["return"], "l": int(episode["length"]), "t": 0.0, **episode}
        return observations, rewards, dones, infos


def sb3_vec_env(env_id: str, num_vec_envs: int = 1, num_cpus: int = 0, **config) -> SeededSB3VecEnvWrapper:
    """``num_vec_envs`` copies of the env, all agents sharing one policy, as an SB3 VecEnv via SuperSuit.

    ``num_cpus > 0`` steps the copies in that many processes (SuperSuit's
    ``ProcConcatVec``). Agents must have the same spaces (SuperSuit's own check).
    """
    env = registry.make(env_id, **config)
    vec = supersuit.pettingzoo_env_to_vec_env_v1(env)
    wrapped = supersuit.concat_vec_envs_v1(vec, num_vec_envs, num_cpus=num_cpus, base_class="stable_baselines3")
    return SeededSB3VecEnvWrapper.from_supersuit(wrapped)


class BlackDeathParallel(black_death_par):
    """``black_death_v3`` that ends the episode on the step every agent is terminated *or* truncated."""

    def step(self, actions):
        active = {agent: actions[agent] for agent in self.env.agents}
        obs, rewards, terms, truncs, infos = self.env.step(active)
        for agent in self.agents:
            if agent not in obs:  # dead before this step: zero observation and reward
                obs[agent] = np.zeros_like(self.observation_space(agent).low)
                rewards[agent] = 0.0
                infos[agent] = {}
        term_all = all(terms.get(a, True) or truncs.get(a, True) for a in self.agents)
        terminations = {a: term_all and bool(terms.get(a, True)) for a in self.agents}
        truncations = {a: term_all and not terminations[a] for a in self.agents}
        if term_all:
            self.agents.clear()
        return obs, rewards, terminations, truncations, infos


def black_death(env) -> BlackDeathParallel:
    """The corrected ``black_death_v3`` for a ParallelEnv (module docstring)."""
    return BlackDeathParallel(env)
