"""A single-agent mec-marl env as a plain ``gymnasium.Env`` (for SB3 and friends).

``gymnasium.make("mec_marl/CPDRL-v0", n_devices=4)`` returns this adapter; the
observation and action spaces are the single agent's, ``info`` is that agent's
infos dict, and ``truncated`` comes from the env's ``max_cycles``.
"""

from __future__ import annotations

import gymnasium
import gymnasium.vector
import numpy as np

from mec_marl import registry


class SingleAgentEnv(gymnasium.Env):
    """Wrap a one-agent ParallelEnv as a Gymnasium env (the agent's infos as ``info``)."""

    def __init__(self, parallel_env):
        if len(parallel_env.possible_agents) != 1:
            raise ValueError(
                f"{parallel_env.metadata['name']} has agents {parallel_env.possible_agents}; "
                "SingleAgentEnv needs exactly one (use the scheduler agent mode)"
            )
        self.parallel_env = parallel_env
        self.agent = parallel_env.possible_agents[0]
        self.observation_space = parallel_env.observation_space(self.agent)
        self.action_space = parallel_env.action_space(self.agent)
        self.metadata = dict(parallel_env.metadata)
        self.render_mode = parallel_env.render_mode

    @property
    def unwrapped_parallel(self):
        return self.parallel_env

    @property
    def instance(self):
        return self.parallel_env.instance

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        obs, infos = self.parallel_env.reset(seed=seed, options=options)
        return obs[self.agent], infos[self.agent]

    def step(self, action):
        obs, rew, term, trunc, infos = self.parallel_env.step({self.agent: action})
        a = self.agent
        return obs[a], rew[a], term[a], trunc[a], infos[a]

    def render(self):
        return self.parallel_env.render()

    def close(self):
        self.parallel_env.close()


def make_single_agent(env_id: str, render_mode=None, **config) -> SingleAgentEnv:
    """Entry point of the Gymnasium ids."""
    return SingleAgentEnv(registry.make(env_id, render_mode=render_mode, **config))


class SingleAgentVectorEnv(gymnasium.vector.VectorEnv):
    """A one-agent :class:`mec_marl.vector.VectorParallelEnv` as a Gymnasium ``VectorEnv``.

    ``gymnasium.make_vec("mec_marl/CPDRL-v0", num_envs=B,
    vectorization_mode="vector_entry_point")`` returns it: one process, B
    instances stepped by the env's batched model. Auto-reset is same-step:
    ``infos["final_obs"]`` / ``infos["_final_obs"]`` hold the last observations
    of the episodes that ended, ``infos["episode"]`` their metrics; every info
    key ``k`` has the mask ``"_k"`` Gymnasium's vector infos carry.
    """

    def __init__(self, vector_env):
        if len(vector_env.possible_agents) != 1:
            raise ValueError(
                f"{vector_env.model.name} has agents {vector_env.possible_agents}; "
                "a Gymnasium VectorEnv needs exactly one (use mec_marl.vector for multi-agent envs)"
            )
        self.vector_env = vector_env
        self.agent = vector_env.possible_agents[0]
        self.num_envs = vector_env.num_envs
        self.single_observation_space = vector_env.single_observation_space(self.agent)
        self.single_action_space = vector_env.single_action_space(self.agent)
        self.observation_space = vector_env.observation_space(self.agent)
        self.action_space = vector_env.action_space(self.agent)
        self.metadata = {"autoreset_mode": gymnasium.vector.AutoresetMode.SAME_STEP, "render_modes": []}
        self.render_mode = None

    def _infos(self, info: dict) -> dict:
        out = {}
        for key, value in info.items():
            if key.startswith("_"):
                continue
            out[key] = value
            mask = info.get(f"_{key}")
            out[f"_{key}"] = mask if mask is not None else np.ones(self.num_envs, dtype=bool)
        return out

    def reset(self, *, seed=None, options=None):
        if isinstance(seed, (list, tuple)):
            seed = seed[0]  # one batch seed; instance i gets the i-th spawned stream
        obs, infos = self.vector_env.reset(seed=seed, options=options)
        return obs[self.agent], self._infos(infos[self.agent])

    def step(self, actions):
        obs, rew, term, trunc, infos = self.vector_env.step({self.agent: actions})
        a = self.agent
        return obs[a], rew[a], term[a], trunc[a], self._infos(infos[a])

    def close_extras(self, **kwargs):
        self.vector_env.close()


def make_single_agent_vector(env_id: str, num_envs: int = 1, **config) -> SingleAgentVectorEnv:
    """Vector entry point of the Gymnasium ids."""
    from mec_marl import vector

    config.pop("render_mode", None)
    return SingleAgentVectorEnv(vector.make(env_id, num_envs=num_envs, **config))
