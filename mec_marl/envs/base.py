"""The one ParallelEnv base every mec-marl environment stands on.

:class:`MecParallelEnv` is the batch-shape-``()`` adapter over an env's pure
model (:class:`~mec_marl.envs.model.EnvModel`): it builds the config, keeps
``(instance, state)``, validates actions, packs dicts and Python floats, adds
the episode metrics at the step that ends an episode, and renders. A scenario
is a subclass that sets ``metadata`` and ``model``; it has no hooks to write
and no state of its own. :mod:`mec_marl.vector` adapts the same model to a
batch of B instances.

Contract (every env):

* Validation (:mod:`mec_marl.envs.validation`): an unknown or missing agent,
  a wrong shape, a non-numeric value or a NaN/inf raises ``ValueError`` naming
  the agent; finite values outside a ``Box`` are clipped and counted in
  ``infos[agent]["clipped_actions"]``.
* Randomness comes only from ``reset(seed=...)``; ``step`` draws nothing (the
  episode's exogenous randomness is pre-drawn into the instance), so the same
  seed and actions give the same trajectory, infos included.
* ``reset(options={"instance": inst})`` replays a pinned instance; the instance
  is checked and converted before any state changes. Other reset options are
  declared per env (``model.reset_options``); unknown ones warn and are ignored
  (PettingZoo's api tests probe reset with an arbitrary option).
* Episodes end by truncation at ``config.episode_length`` steps or by the
  model's termination; at that step ``infos[agent]["episode"]`` holds the
  episode metrics (:mod:`mec_marl.episode`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from mec_marl import render as render_lib
from mec_marl.config import EnvConfig, build_config
from mec_marl.envs import validation
from mec_marl.envs.model import EnvModel, single_infos
from mec_marl.episode import EpisodeAccumulator


def make_config(model: EnvModel, config=None, scenario=None, overrides=None, **kwargs) -> EnvConfig:
    """The env's validated config from a config object, a scenario, overrides and keywords."""
    if config is not None:
        if not isinstance(config, model.config_cls):
            raise TypeError(f"config must be a {model.config_cls.__name__}, got {type(config).__name__}")
        if scenario is None and not overrides and not kwargs:
            return config
        base = config.model_dump()
    else:
        base = None
    return build_config(
        model.config_cls, base=base, scenario=scenario, overrides=overrides, env_id=model.name, **kwargs
    )


def split_reset_options(model: EnvModel, options: dict | None) -> tuple[Any, dict]:
    """``(instance option, declared options)``; unknown options warn and are dropped."""
    options = dict(options or {})
    known = ("instance", *model.reset_options)
    unknown = sorted(set(options) - set(known))
    if unknown:
        gymnasium.logger.warn(f"{model.name}: ignoring unknown reset option(s) {unknown}; known: {list(known)}")
    declared = {k: v for k, v in options.items() if k in model.reset_options}
    return options.get("instance"), declared


class MecParallelEnv(ParallelEnv):
    """Base class; a subclass sets ``metadata`` and ``model`` (module docstring)."""

    metadata: ClassVar[dict[str, Any]] = {
        "name": "mec_base",
        "render_modes": ["ansi", "rgb_array"],
        "is_parallelizable": True,
        "render_fps": 4,
    }
    model: ClassVar[EnvModel]

    def __init__(
        self,
        render_mode: str | None = None,
        scenario: str | None = None,
        config: EnvConfig | None = None,
        overrides: list[str] | None = None,
        **kwargs,
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"{self.metadata['name']}: unknown render_mode {render_mode!r}; "
                f"allowed: {self.metadata['render_modes']} or None"
            )
        self.config = make_config(self.model, config, scenario, overrides, **kwargs)
        self.render_mode = render_mode
        self.possible_agents = list(self.model.agents(self.config))
        obs_spaces, act_spaces, state_space = self.model.spaces(self.config)
        self.observation_spaces = dict(obs_spaces)
        self.action_spaces = dict(act_spaces)
        self.state_space = state_space
        self.max_cycles = self.config.episode_length  # PettingZoo's api test may overwrite it
        self.agents: list[str] = []
        self.instance = None
        self.model_state = None
        self.num_cycles = 0
        self._rng: np.random.Generator | None = None
        self._episode = EpisodeAccumulator(self.model.episode_metrics, self.possible_agents)

    # ------------------------------------------------------------------ spaces
    def observation_space(self, agent: str) -> spaces.Space:
        try:
            return self.observation_spaces[agent]
        except KeyError:
            raise ValueError(self._unknown_agent(agent)) from None

    def action_space(self, agent: str) -> spaces.Space:
        try:
            return self.action_spaces[agent]
        except KeyError:
            raise ValueError(self._unknown_agent(agent)) from None

    def _unknown_agent(self, agent) -> str:
        return f"{self.metadata['name']}: unknown agent {agent!r}; agents are {self.possible_agents}"

    @property
    def np_random(self) -> np.random.Generator:
        if self._rng is None:
            self._rng = np.random.default_rng()
        return self._rng

    # ------------------------------------------------------------- lifecycle
    def reset(self, seed: int | None = None, options: dict | None = None):
        model, config = self.model, self.config
        pinned, declared = split_reset_options(model, options)
        # Everything that can fail runs before the env's own state changes.
        instance = model.check_instance(config, pinned) if pinned is not None else None
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        if instance is None:
            instance = model.sample_instance(config, self.np_random)
        state = model.initial_state(config, instance, **declared)
        self.instance, self.model_state = instance, state
        self.agents = list(self.possible_agents)
        self.num_cycles = 0
        self._episode.reset()
        infos = single_infos(model.reset_infos(config, instance, state))
        return self._observations(), infos

    def step(self, actions: dict):
        name = self.metadata["name"]
        if not self.agents:
            raise RuntimeError(f"{name}: step() called with no live agents; call reset() first")
        checked, clipped = validation.check_actions(name, actions, self.agents, self.action_spaces)
        state, outcome = self.model.step(self.config, self.instance, self.model_state, checked)
        self.model_state = state
        self.num_cycles += 1
        self._episode.update(outcome.rewards, outcome.infos)
        terminated = bool(outcome.terminated)
        truncated = self.num_cycles >= self.max_cycles
        infos = single_infos(outcome.infos)
        for agent in self.agents:
            infos[agent]["clipped_actions"] = clipped[agent]
            if terminated or truncated:
                infos[agent]["episode"] = {k: v.item() for k, v in self._episode.result(agent).items()}
        rewards = {a: float(outcome.rewards[a]) for a in self.agents}
        terminations = {a: terminated for a in self.agents}
        truncations = {a: truncated for a in self.agents}
        observations = self._observations()
        if terminated or truncated:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def _observations(self) -> dict:
        observations = self.model.observe(self.config, self.instance, self.model_state)
        out = {}
        for agent in self.possible_agents:
            space = self.observation_spaces[agent]
            obs = observations[agent]
            out[agent] = np.asarray(obs, dtype=space.dtype) if isinstance(space, spaces.Box) else obs
        return out

    # ------------------------------------------------------------ state, render
    def state(self) -> np.ndarray:
        if self.instance is None:
            raise RuntimeError(f"{self.metadata['name']}: state() called before reset()")
        return np.asarray(
            self.model.global_state(self.config, self.instance, self.model_state), dtype=self.state_space.dtype
        )

    def render(self):
        if self.render_mode is None:
            gymnasium.logger.warn(
                f"{self.metadata['name']}: render() called without a render_mode; "
                f"pass render_mode='ansi' or 'rgb_array' to the constructor"
            )
            return None
        if self.instance is None:
            raise RuntimeError(f"{self.metadata['name']}: render() called before reset()")
        if self.render_mode == "ansi":
            return self.model.summary(self.config, self.instance, self.model_state)
        return render_lib.topology_image(**self.model.topology(self.config, self.instance, self.model_state))

    def close(self):
        pass


def entry_points(env_cls: type[MecParallelEnv]):
    """PettingZoo's module-level constructors of an env class: ``(parallel_env, env)``.

    ``parallel_env(**kwargs)`` builds the ParallelEnv (arguments: the env page);
    ``env(**kwargs)`` the AEC env through PettingZoo's ``parallel_to_aec``.
    """

    def parallel_env(**kwargs) -> MecParallelEnv:
        return env_cls(**kwargs)

    def env(**kwargs):
        from pettingzoo.utils.conversions import parallel_to_aec

        return parallel_to_aec(env_cls(**kwargs))

    parallel_env.__doc__ = f"The {env_cls.metadata['name']} ParallelEnv (see the module docstring for arguments)."
    env.__doc__ = f"The {env_cls.metadata['name']} AEC env, through PettingZoo's ``parallel_to_aec``."
    return parallel_env, env

