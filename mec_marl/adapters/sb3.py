"""Stable-Baselines3 on any mec-marl env: a ``VecEnv`` over :mod:`mec_marl.vector`.

``SB3VecEnv(env_id, num_envs=B, **config)`` steps B instances of the env in one
process with the env's batched model. Agents share one policy (parameter
sharing): SB3 sees ``B * n_agents`` environments, ordered instance-major
(entry ``i * n_agents + k`` is agent k of instance i), so every agent must
have the same observation and action space. With one agent (cpdrl_v0) it is
plain vectorised single-agent training.

What it does that SuperSuit's ``concat_vec_envs_v1`` does not (DESIGN.md,
"Known traps"): ``seed()`` works (SB3's ``PPO(..., seed=0)``), episodes end on
the step the env ends them, the last observation is in
``infos[i]["terminal_observation"]`` and ``infos[i]["TimeLimit.truncated"]``
says whether the end was a truncation (SB3's conventions), and
``infos[i]["episode"]`` holds SB3's ``r`` / ``l`` / ``t`` beside the env's
episode metrics, so SB3's logger reports episode returns.

>>> from stable_baselines3 import PPO
>>> from mec_marl.adapters.sb3 import SB3VecEnv
>>> venv = SB3VecEnv("cpdrl_v0", num_envs=8, n_devices=4)
>>> model = PPO("MlpPolicy", venv, seed=0, n_steps=64).learn(512)
"""

from __future__ import annotations

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from mec_marl import vector


class SB3VecEnv(VecEnv):
    """B instances x all agents of an env as one SB3 ``VecEnv`` (module docstring)."""

    def __init__(self, env_id: str, num_envs: int = 1, **config):
        self.vector_env = vector.make(env_id, num_envs=num_envs, **config)
        agents = self.vector_env.possible_agents
        obs_space = self.vector_env.single_observation_space(agents[0])
        act_space = self.vector_env.single_action_space(agents[0])
        for agent in agents[1:]:
            if (
                self.vector_env.single_observation_space(agent) != obs_space
                or self.vector_env.single_action_space(agent) != act_space
            ):
                raise ValueError(
                    f"{env_id}: agents have different spaces, so they cannot share one policy; "
                    "use an agent mode whose agents are alike (e.g. users) or train per agent"
                )
        self.agents = list(agents)
        self.batch = num_envs
        self._actions = None
        super().__init__(num_envs * len(agents), obs_space, act_space)

    # -- VecEnv API ------------------------------------------------------------
    def reset(self):
        seed = self._seeds[0] if self._seeds else None
        obs, infos = self.vector_env.reset(seed=seed, options=self._options[0] if self._options else None)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = self._per_env_infos(infos)
        return self._flatten(obs)

    def step_async(self, actions) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self):
        n = len(self.agents)
        actions = self._actions.reshape((self.batch, n) + self._actions.shape[1:])
        obs, rewards, terms, truncs, infos = self.vector_env.step(
            {agent: actions[:, k] for k, agent in enumerate(self.agents)}
        )
        flat_obs = self._flatten(obs)
        flat_rewards = self._flatten(rewards).astype(np.float32)
        term = self._flatten(terms)
        trunc = self._flatten(truncs)
        dones = term | trunc
        out_infos = self._per_env_infos(infos)
        if dones.any():
            for j in np.flatnonzero(dones):
                i, k = divmod(int(j), n)
                info, agent_info = out_infos[j], infos[self.agents[k]]
                info["terminal_observation"] = agent_info["final_obs"][i]
                info["TimeLimit.truncated"] = bool(trunc[j] and not term[j])
                episode = {key: value[i].item() for key, value in agent_info["episode"].items()}
                info["episode"] = {"r": episode["return"], "l": int(episode["length"]), "t": 0.0, **episode}
        return flat_obs, flat_rewards, dones, out_infos

    def _flatten(self, per_agent: dict) -> np.ndarray:
        """agent -> (B, ...) arrays into one (B * n_agents, ...) array, instance-major."""
        stacked = np.stack([per_agent[a] for a in self.agents], axis=1)
        return stacked.reshape((self.num_envs,) + stacked.shape[2:])

    def _per_env_infos(self, infos: dict) -> list[dict]:
        """Scalar infos per SB3 env (per-user arrays stay in the vector env's infos)."""
        out = []
        n = len(self.agents)
        for j in range(self.num_envs):
            i, k = divmod(j, n)
            info = infos[self.agents[k]]
            out.append(
                {
                    key: value[i].item()
                    for key, value in info.items()
                    if isinstance(value, np.ndarray) and value.ndim == 1 and not key.startswith("_")
                }
            )
        return out

    def close(self) -> None:
        self.vector_env.close()

    def get_attr(self, attr_name, indices=None):
        return [getattr(self.vector_env, attr_name)] * len(self._get_indices(indices))

    def set_attr(self, attr_name, value, indices=None) -> None:
        setattr(self.vector_env, attr_name, value)

    def env_method(self, method_name, *method_args, indices=None, **method_kwargs):
        result = getattr(self.vector_env, method_name)(*method_args, **method_kwargs)
        return [result] * len(self._get_indices(indices))

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False] * len(self._get_indices(indices))

    def get_images(self):
        return []
