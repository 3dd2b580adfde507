"""Batched environments: B instances of one env stepped by the env's own pure model.

``mec_marl.vector.make(env_id, num_envs=B, **config)`` runs the same functions as
the single env (``mec_marl.make``) over a leading batch axis, so a parity test
can hold the two equal step for step.

>>> import numpy as np, mec_marl.vector
>>> venv = mec_marl.vector.make("cpdrl_v0", num_envs=64, n_devices=4)
>>> obs, infos = venv.reset(seed=0)           # obs["scheduler"].shape == (64, 24)
>>> actions = {a: np.zeros((64,) + venv.single_action_space(a).shape) for a in venv.agents}
>>> obs, rewards, terminations, truncations, infos = venv.step(actions)   # rewards["scheduler"].shape == (64,)

Conventions (Gymnasium 1.x vector envs, per agent):

* Arrays have a leading batch axis ``B``: observations ``(B, *obs_shape)``,
  rewards, terminations and truncations ``(B,)``, infos ``{key: (B, ...)}``.
  ``single_observation_space(agent)`` / ``single_action_space(agent)`` are the
  single env's; ``observation_space(agent)`` / ``action_space(agent)`` the batched.
* Agents never leave: every agent acts in every instance at every step.
* Auto-reset in the same step (``metadata["autoreset_mode"] == "same_step"``):
  an instance whose episode ends is reset at once and its new first observation
  is returned; the step's infos are those of the step that ended it, plus
  ``infos[agent]["final_obs"]`` (the last observation) and
  ``infos[agent]["episode"]`` (the episode metrics, each ``(B,)``), with the
  boolean masks ``"_final_obs"`` and ``"_episode"`` saying which entries ended.
* Seeding: ``reset(seed=s)`` gives instance i of the batch the generator
  ``np.random.default_rng(np.random.SeedSequence(s).spawn(B)[i])``; every later
  (auto-)reset of instance i draws from that generator, so an instance's
  sequence of problems does not depend on B or on the other instances.
* ``reset(options={"instances": [...]})`` pins the batch to B single-env
  instances (what ``env.unwrapped.instance`` holds); ``instances`` returns the
  current ones as such a list. Auto-resets after a pinned reset draw new
  instances from the generators.
* Bad actions raise ``ValueError`` naming the agent (and, for NaN/inf or
  out-of-range discrete values, the batch index), as in the single env.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import gymnasium
import numpy as np
from gymnasium.vector.utils import batch_space

from mec_marl import registry
from mec_marl.envs import validation
from mec_marl.envs.base import make_config, split_reset_options
from mec_marl.envs.model import EnvModel, sample_batch, scatter, stack, unstack
from mec_marl.episode import EpisodeAccumulator


def model_of(env_id: str) -> EnvModel:
    """The pure model of a registered env."""
    module = importlib.import_module(registry.entry(env_id).module)
    return module.MODEL


class _BatchedSpaces(Mapping):
    """``{agent: batch_space(single, B)}``, each built on first access and kept."""

    def __init__(self, single: dict, num_envs: int):
        self._single, self._num_envs, self._built = dict(single), num_envs, {}

    def __getitem__(self, agent):
        if agent not in self._built:
            self._built[agent] = batch_space(self._single[agent], self._num_envs)
        return self._built[agent]

    def __iter__(self):
        return iter(self._single)

    def __len__(self):
        return len(self._single)


class VectorParallelEnv:
    """B instances of one env, stepped together (module docstring)."""

    def __init__(self, model: EnvModel, num_envs: int, scenario=None, config=None, overrides=None, **kwargs):
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"{model.name}: num_envs must be a positive integer, got {num_envs!r}")
        self.model = model
        self.num_envs = int(num_envs)
        self.config = make_config(model, config, scenario, overrides, **kwargs)
        self.metadata = {"name": model.name, "autoreset_mode": "same_step", "render_modes": []}
        self.render_mode = None
        self.possible_agents = list(model.agents(self.config))
        self.agents = list(self.possible_agents)
        obs_spaces, act_spaces, state_space = model.spaces(self.config)
        self.single_observation_spaces = dict(obs_spaces)
        self.single_action_spaces = dict(act_spaces)
        self.single_state_space = state_space
        # Batched spaces hold B copies of their bounds (djtcra at B = 8192: ~0.8 GB): built on first use.
        self.observation_spaces = _BatchedSpaces(obs_spaces, self.num_envs)
        self.action_spaces = _BatchedSpaces(act_spaces, self.num_envs)
        self._state_space = None
        self.instance = None
        self.model_state = None
        self._rngs: list[np.random.Generator] | None = None
        self._episode = EpisodeAccumulator(model.episode_metrics, self.possible_agents, (self.num_envs,))

    # ------------------------------------------------------------------ spaces
    def single_observation_space(self, agent: str) -> gymnasium.Space:
        return self.single_observation_spaces[self._known(agent)]

    def single_action_space(self, agent: str) -> gymnasium.Space:
        return self.single_action_spaces[self._known(agent)]

    def observation_space(self, agent: str) -> gymnasium.Space:
        return self.observation_spaces[self._known(agent)]

    def action_space(self, agent: str) -> gymnasium.Space:
        return self.action_spaces[self._known(agent)]

    def _known(self, agent: str) -> str:
        if agent not in self.single_action_spaces:
            raise ValueError(f"{self.model.name}: unknown agent {agent!r}; agents are {self.possible_agents}")
        return agent

    @property
    def state_space(self) -> gymnasium.Space:
        if self._state_space is None:
            self._state_space = batch_space(self.single_state_space, self.num_envs)
        return self._state_space

    # ------------------------------------------------------------- lifecycle
    @property
    def instances(self) -> list:
        """The current instances as a list of B single-env instances."""
        if self.instance is None:
            raise RuntimeError(f"{self.model.name}: no instances before reset()")
        return unstack(self.instance, self.num_envs)

    def _sample(self, indices) -> object:
        return sample_batch(self.model, self.config, [self._rngs[i] for i in indices])

    def reset(self, seed: int | None = None, options: dict | None = None):
        model, config, B = self.model, self.config, self.num_envs
        options = dict(options or {})
        pinned = options.pop("instances", None)
        single_pin, declared = split_reset_options(model, options)
        if single_pin is not None:
            raise ValueError(f"{model.name}: a vector env is pinned with options={{'instances': [B instances]}}")
        if pinned is not None:
            if not isinstance(pinned, (list, tuple)) or len(pinned) != B:
                raise ValueError(f"{model.name}: options['instances'] must be a list of {B} instances")
            instance = stack([model.check_instance(config, inst) for inst in pinned])
        if seed is not None:
            self._rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(B)]
        elif self._rngs is None:
            self._rngs = [np.random.default_rng(s) for s in np.random.SeedSequence().spawn(B)]
        if pinned is None:
            instance = self._sample(range(B))
        self._declared = declared
        self.instance = instance
        self.model_state = model.initial_state(config, instance, **declared)
        self._episode.reset()
        return self._observations(), self._copy_infos(model.reset_infos(config, instance, self.model_state))

    def step(self, actions: dict):
        model, config, B = self.model, self.config, self.num_envs
        if self.instance is None:
            raise RuntimeError(f"{model.name}: step() called before reset()")
        checked, clipped = validation.check_actions(
            model.name, actions, self.agents, self.single_action_spaces, (B,)
        )
        state, outcome = model.step(config, self.instance, self.model_state, checked)
        self.model_state = state
        self._episode.update(outcome.rewards, outcome.infos)
        terminated = np.broadcast_to(np.asarray(outcome.terminated, dtype=bool), (B,))
        truncated = np.asarray(state.t) >= config.episode_length
        done = terminated | truncated
        observations = self._observations()
        infos = self._copy_infos(outcome.infos)
        for agent in self.agents:
            infos[agent]["clipped_actions"] = np.asarray(clipped[agent])
        if done.any():
            for agent in self.agents:
                infos[agent]["final_obs"] = observations[agent]
                infos[agent]["_final_obs"] = done.copy()
                infos[agent]["episode"] = self._episode.result(agent)
                infos[agent]["_episode"] = done.copy()
            self._autoreset(np.flatnonzero(done))
            observations = self._observations()
        rewards = {a: np.asarray(outcome.rewards[a], dtype=np.float64) for a in self.agents}
        terminations = {a: terminated.copy() for a in self.agents}
        truncations = {a: truncated.copy() for a in self.agents}
        return observations, rewards, terminations, truncations, infos

    def _autoreset(self, index: np.ndarray) -> None:
        fresh = self._sample(index)
        self.instance = scatter(self.instance, index, fresh)
        self.model_state = scatter(
            self.model_state, index, self.model.initial_state(self.config, fresh, **self._declared)
        )
        self._episode.reset(index)

    def _observations(self) -> dict:
        observations = self.model.observe(self.config, self.instance, self.model_state)
        return {
            agent: np.asarray(observations[agent], dtype=self.single_observation_spaces[agent].dtype)
            for agent in self.possible_agents
        }

    @staticmethod
    def _copy_infos(infos: dict) -> dict:
        return {agent: dict(info) for agent, info in infos.items()}

    def state(self) -> np.ndarray:
        """``(B, *state_shape)``: the global state of every instance."""
        if self.instance is None:
            raise RuntimeError(f"{self.model.name}: state() called before reset()")
        value = self.model.global_state(self.config, self.instance, self.model_state)
        return np.asarray(value, dtype=self.single_state_space.dtype)

    def close(self) -> None:
        pass


def make(env_id: str, num_envs: int, **config) -> VectorParallelEnv:
    """A batch of ``num_envs`` instances of the registered env ``env_id``."""
    return VectorParallelEnv(model_of(env_id), num_envs, **config)
