"""TorchRL on mec-marl envs: PettingZoo's wrapper with infos kept, and a batched ``EnvBase``.

Two ways in:

* :func:`pettingzoo_env` -- TorchRL's own ``PettingZooWrapper`` over one env.
  TorchRL builds its info spec from the reset infos (ours carry every step key)
  and writes each step's info keys as tensors; the nested
  ``infos[agent]["episode"]`` dict of the last step would break it, so
  :class:`FlatEpisodeInfos` flattens it into ``episode_<metric>`` keys, present
  (as NaN) from the reset on. Infos land in ``td[group, "info", key]``.
* :class:`MecTorchRLEnv` -- an ``EnvBase`` over :mod:`mec_marl.vector`: B
  instances stepped by the env's batched model, no Python loop over instances,
  laid out as VMAS lays out its envs (what BenchMARL's algorithms expect):
  batch size ``(B,)``; per group ``(group, "observation" | "action" |
  "reward")`` of shape ``(B, n_agents, ...)``; ``(group, "info", key)`` for
  every numeric info key plus ``episode_<metric>`` (NaN until the step that
  ends the episode); ``done`` / ``terminated`` / ``truncated`` ``(B, 1)`` at
  the root (agents of one instance end together); ``state`` ``(B, ...)``.
  Agents with the same spaces form one group ``"agents"``; otherwise each
  agent is its own group.

>>> from torchrl.envs.utils import check_env_specs
>>> env = MecTorchRLEnv("cpdrl_v0", num_envs=16, n_devices=4)
>>> check_env_specs(env)
>>> rollout = env.rollout(10)              # rollout["next", "agents", "reward"].shape == (16, 10, 1, 1)

Seeding: ``env.set_seed(s)`` (or ``MecTorchRLEnv(..., seed=s)``) seeds the next
full reset as ``mec_marl.vector`` does (instance i its own spawned stream).
The vector env resets an instance in the step that ends it; this adapter
returns the episode's last observation in ``next`` and hands out the fresh one
when TorchRL asks for the partial reset (``_reset`` mask); ``("next", "state")``
of an ending step is already the new instance's (the vector env keeps no final state).
"""

from __future__ import annotations

import numpy as np
import torch
from gymnasium import spaces
from pettingzoo.utils.wrappers import BaseParallelWrapper
from tensordict import TensorDict, TensorDictBase
from torchrl.data import Bounded, Categorical, Composite, Unbounded
from torchrl.envs import EnvBase
from torchrl.envs.libs.gym import _gym_to_torchrl_spec_transform
from torchrl.envs.libs.pettingzoo import PettingZooWrapper

from mec_marl import registry, vector
from mec_marl.episode import RESERVED

EPISODE_PREFIX = "episode_"


def episode_keys(model) -> list[str]:
    """The episode metric names of an env's model, plus ``return`` and ``length``."""
    return [*model.episode_metrics, *RESERVED]


class FlatEpisodeInfos(BaseParallelWrapper):
    """``infos[agent]["episode"]`` as flat ``episode_<metric>`` floats, NaN before the episode ends."""

    def __init__(self, env):
        super().__init__(env)
        self._keys = [EPISODE_PREFIX + k for k in episode_keys(env.unwrapped.model)]

    def reset(self, seed=None, options=None):
        obs, infos = self.env.reset(seed=seed, options=options)
        return obs, {agent: self._flat(info) for agent, info in infos.items()}

    def step(self, actions):
        obs, rewards, terms, truncs, infos = self.env.step(actions)
        return obs, rewards, terms, truncs, {agent: self._flat(info) for agent, info in infos.items()}

    def _flat(self, info: dict) -> dict:
        info = dict(info)
        episode = info.pop("episode", None) or {}
        for key in self._keys:
            info[key] = float(episode.get(key[len(EPISODE_PREFIX):], np.nan))
        return info


def pettingzoo_env(env_id: str, seed: int | None = None, **config) -> PettingZooWrapper:
    """TorchRL's ``PettingZooWrapper`` over ``mec_marl.make(env_id, **config)`` with infos kept.

    ``return_state``, ``group_map``, ``use_mask``, ``categorical_actions`` and
    ``device`` go to the wrapper; everything else is env config.
    """
    wrapper_keys = ("return_state", "group_map", "use_mask", "categorical_actions", "device", "done_on_any")
    wrapper_kwargs = {k: config.pop(k) for k in wrapper_keys if k in config}
    env = FlatEpisodeInfos(registry.make(env_id, **config))
    return PettingZooWrapper(env, seed=seed, **wrapper_kwargs)


def group_map(venv) -> dict[str, list[str]]:
    """One group ``"agents"`` if every agent has the same spaces, else one group per agent."""
    agents = venv.possible_agents
    first = agents[0]
    alike = all(
        venv.single_observation_space(a) == venv.single_observation_space(first)
        and venv.single_action_space(a) == venv.single_action_space(first)
        for a in agents
    )
    return {"agents": list(agents)} if alike else {a: [a] for a in agents}


class MecTorchRLEnv(EnvBase):
    """B instances of a mec-marl env as one batched TorchRL env (module docstring)."""

    def __init__(self, env_id: str, num_envs: int = 1, seed: int | None = None, device="cpu", **config):
        self.vector_env = vector.make(env_id, num_envs=num_envs, **config)
        super().__init__(batch_size=torch.Size([self.vector_env.num_envs]), device=device)
        self._B = self.vector_env.num_envs
        self.env_id = env_id
        self.group_map = group_map(self.vector_env)
        self._next_seed = seed
        self._fresh_obs: dict | None = None  # first observations of instances reset in the last step
        self._fresh_mask = np.zeros(self.vector_env.num_envs, dtype=bool)
        self._info_shapes = self._probe_info_shapes()
        self._make_specs()

    # ------------------------------------------------------------------ specs
    def _probe_info_shapes(self) -> dict[str, tuple]:
        """Per-agent shapes of the numeric info keys (read from a throwaway reset)."""
        probe = vector.make(self.env_id, num_envs=1, config=self.vector_env.config)
        _, infos = probe.reset(seed=0)
        info = infos[self.vector_env.possible_agents[0]]
        shapes = {
            key: np.shape(value)[1:]
            for key, value in info.items()
            if not key.startswith("_") and isinstance(value, np.ndarray) and value.dtype.kind in "biuf"
        }
        for key in episode_keys(self.vector_env.model):
            shapes[EPISODE_PREFIX + key] = ()
        return shapes

    def _make_specs(self) -> None:
        venv, B = self.vector_env, self.vector_env.num_envs
        observation, action, reward = {}, {}, {}
        for group, agents in self.group_map.items():
            n = len(agents)
            lead = (B, n)
            obs_spec = _gym_to_torchrl_spec_transform(venv.single_observation_space(agents[0]), device=self.device)
            act_spec = _gym_to_torchrl_spec_transform(
                venv.single_action_space(agents[0]), device=self.device, categorical_action_encoding=True
            )
            info = Composite(
                {k: Unbounded(shape=lead + s, dtype=torch.float32, device=self.device) for k, s in self._info_shapes.items()},
                shape=lead,
            )
            observation[group] = Composite(
                {"observation": obs_spec.expand(*lead, *obs_spec.shape), "info": info}, shape=lead
            )
            action[group] = Composite({"action": act_spec.expand(*lead, *act_spec.shape)}, shape=lead)
            reward[group] = Composite({"reward": Unbounded(shape=lead + (1,), device=self.device)}, shape=lead)
        state_spec = _gym_to_torchrl_spec_transform(venv.single_state_space, device=self.device)
        observation["state"] = state_spec.expand(B, *state_spec.shape)
        self.observation_spec = Composite(observation, shape=(B,))
        self.action_spec = Composite(action, shape=(B,))
        self.reward_spec = Composite(reward, shape=(B,))
        self.done_spec = Composite(
            {k: Categorical(2, shape=(B, 1), dtype=torch.bool, device=self.device)
             for k in ("done", "terminated", "truncated")},
            shape=(B,),
        )

    # ------------------------------------------------------------------ API
    def _set_seed(self, seed: int | None) -> None:
        self._next_seed = seed

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs) -> TensorDictBase:
        mask = self._reset_mask(tensordict)
        if mask is None or self._fresh_obs is None or self._next_seed is not None:
            seed, self._next_seed = self._next_seed, None
            obs, infos = self.vector_env.reset(seed=seed)
            self._fresh_obs, self._fresh_mask[:] = None, False
            infos = {a: {**info, "_episode": np.zeros(self._B, dtype=bool)} for a, info in infos.items()}
        else:
            stale = mask & ~self._fresh_mask
            if stale.any():  # asked to reset instances that did not just end: start new episodes for them
                self.vector_env._autoreset(np.flatnonzero(stale))
                self._fresh_obs = self.vector_env._observations()
            obs = self._fresh_obs
            infos = None
            self._fresh_mask[mask] = False
        out = self._pack(obs, infos)
        out.update(self._done(np.zeros(self._B, dtype=bool), np.zeros(self._B, dtype=bool)))
        return out

    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        actions = {}
        for group, agents in self.group_map.items():
            group_actions = tensordict.get((group, "action")).detach().cpu().numpy()
            for k, agent in enumerate(agents):
                actions[agent] = group_actions[:, k]
        obs, rewards, terms, truncs, infos = self.vector_env.step(actions)
        first = self.vector_env.possible_agents[0]
        terminated, truncated = terms[first], truncs[first]
        done = terminated | truncated
        if done.any():
            self._fresh_obs = obs
            self._fresh_mask |= done
            obs = {a: np.where(_expand(done, obs[a]), infos[a]["final_obs"], obs[a]) for a in obs}
        out = self._pack(obs, infos)
        for group, agents in self.group_map.items():
            r = np.stack([rewards[a] for a in agents], axis=1)[..., None]
            out.set((group, "reward"), torch.as_tensor(r, dtype=torch.float32, device=self.device))
        out.update(self._done(terminated, truncated))
        return out

    # ------------------------------------------------------------------ packing
    def _pack(self, obs: dict, infos: dict | None) -> TensorDict:
        B = self._B
        out = TensorDict({}, batch_size=self.batch_size, device=self.device)
        for group, agents in self.group_map.items():
            lead = (B, len(agents))
            o = np.stack([obs[a] for a in agents], axis=1)
            spec = self.observation_spec[group, "observation"]
            info_td = TensorDict(
                {key: torch.as_tensor(self._info_array(infos, agents, key, shape)) for key, shape in self._info_shapes.items()},
                batch_size=lead, device=self.device,
            )
            group_td = TensorDict(
                {"observation": torch.as_tensor(o, dtype=spec.dtype), "info": info_td}, batch_size=lead, device=self.device
            )
            out.set(group, group_td)
        state = self.vector_env.state()
        out.set("state", torch.as_tensor(state, dtype=self.observation_spec["state"].dtype, device=self.device))
        return out

    def _info_array(self, infos: dict | None, agents: list[str], key: str, shape: tuple) -> np.ndarray:
        """``(B, n_agents, *shape)`` float32; NaN where the info has no entry."""
        B, out = self._B, np.full((self._B, len(agents)) + shape, np.nan, dtype=np.float32)
        if infos is None:
            return out
        for k, agent in enumerate(agents):
            info = infos[agent]
            if key.startswith(EPISODE_PREFIX):
                episode = info.get("episode")
                if episode is not None:
                    ended = info["_episode"]
                    out[ended, k] = np.asarray(episode[key[len(EPISODE_PREFIX):]], dtype=np.float32)[ended]
            elif key in info:
                out[:, k] = np.broadcast_to(np.asarray(info[key], dtype=np.float32), (B,) + shape)
        return out

    def _done(self, terminated: np.ndarray, truncated: np.ndarray) -> dict:
        def column(x):
            return torch.as_tensor(np.asarray(x, dtype=bool)[:, None], device=self.device)

        return {"done": column(terminated | truncated), "terminated": column(terminated), "truncated": column(truncated)}

    @staticmethod
    def _reset_mask(tensordict: TensorDictBase | None) -> np.ndarray | None:
        if tensordict is None:
            return None
        masks = [tensordict.get(k) for k in tensordict.keys(True, True) if (k[-1] if isinstance(k, tuple) else k) == "_reset"]
        if not masks:
            return None
        B = tensordict.batch_size[0]
        return np.any([m.reshape(B, -1).any(-1).cpu().numpy() for m in masks], axis=0)


def _expand(mask: np.ndarray, like: np.ndarray) -> np.ndarray:
    return mask.reshape(mask.shape + (1,) * (like.ndim - 1))
