"""The one ParallelEnv base every mec-marl environment stands on.

It owns what is the same in every paper: the agent lifecycle, spaces built once,
action validation, seeding, pinned instances, episode length, ``state()``,
rendering and the infos contract. A scenario subclass supplies the paper's
system model through a handful of hooks, in the order of a system-model section:

* ``config_cls``: the frozen :class:`~mec_marl.config.EnvConfig` (paper's table);
* ``_agents()``, ``_build_spaces()``: who acts and on what;
* ``sample_instance(config, rng)`` / ``_check_instance(inst)``: the world;
* ``_reset_state()``: dynamic state at the start of an episode;
* ``_transition(actions)``: decode -> sub-solver -> physics -> rewards, infos;
* ``_observe()``, ``_state()``: observations and the global state;
* ``_topology()``, ``_summary()``: what ``render`` draws / prints.

Validation rules (every env): ``actions`` must map each live agent to one
action; an unknown or missing agent id, a wrong shape, a non-numeric value or a
NaN/inf raises ``ValueError`` naming the agent and the problem. Finite values
outside a ``Box`` are clipped to it and counted in ``infos[agent]["clipped_actions"]``.
Randomness comes only from ``reset(seed=...)``: the same seed and actions give
the same trajectory.
"""

from __future__ import annotations

import abc
import copy
from typing import Any, ClassVar

import gymnasium
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from mec_marl import render as render_lib
from mec_marl.config import EnvConfig, build_config

RESET_OPTIONS = ("instance",)


class MecParallelEnv(ParallelEnv, abc.ABC):
    """Base class; see the module docstring for the hooks a scenario implements."""

    metadata: ClassVar[dict[str, Any]] = {
        "name": "mec_base",
        "render_modes": ["ansi", "rgb_array"],
        "is_parallelizable": True,
        "render_fps": 4,
    }
    config_cls: ClassVar[type[EnvConfig]] = EnvConfig

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
        if config is not None:
            if not isinstance(config, self.config_cls):
                raise TypeError(f"config must be a {self.config_cls.__name__}, got {type(config).__name__}")
            if scenario is not None or overrides or kwargs:
                config = build_config(
                    self.config_cls,
                    base=config.model_dump(),
                    scenario=scenario,
                    overrides=overrides,
                    env_id=self.metadata["name"],
                    **kwargs,
                )
        else:
            config = build_config(
                self.config_cls, scenario=scenario, overrides=overrides, env_id=self.metadata["name"], **kwargs
            )
        self.config = config
        self.render_mode = render_mode
        self.possible_agents = list(self._agents())
        obs_spaces, act_spaces, state_space = self._build_spaces()
        self._observation_spaces = dict(obs_spaces)
        self._action_spaces = dict(act_spaces)
        self.state_space = state_space
        self.max_cycles = int(getattr(config, "max_cycles"))
        self.agents: list[str] = []
        self.instance = None
        self.num_cycles = 0
        self._rng: np.random.Generator | None = None
        self._last_infos: dict[str, dict] = {}

    # ------------------------------------------------------------------ spaces
    def observation_space(self, agent: str) -> spaces.Space:
        try:
            return self._observation_spaces[agent]
        except KeyError:
            raise ValueError(self._unknown_agent(agent)) from None

    def action_space(self, agent: str) -> spaces.Space:
        try:
            return self._action_spaces[agent]
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
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        options = dict(options or {})
        unknown = sorted(set(options) - set(RESET_OPTIONS))
        if unknown:
            # A warning, not an error: PettingZoo's api tests probe reset with an arbitrary option.
            gymnasium.logger.warn(
                f"{self.metadata['name']}: ignoring unknown reset option(s) {unknown}; known: {list(RESET_OPTIONS)}"
            )
        if options.get("instance") is not None:
            self.instance = self._check_instance(options["instance"])
        else:
            self.instance = self.sample_instance(self.config, self.np_random)
        self.agents = list(self.possible_agents)
        self.num_cycles = 0
        self._reset_state()
        infos = self._reset_infos()
        self._last_infos = infos
        return self._cast_observations(self._observe()), infos

    def step(self, actions: dict):
        if not self.agents:
            raise RuntimeError(f"{self.metadata['name']}: step() called with no live agents; call reset() first")
        checked, clipped = self._validate_actions(actions)
        rewards, infos = self._transition(checked)
        self.num_cycles += 1
        truncated = self.num_cycles >= self.max_cycles
        terminations = {a: False for a in self.agents}
        truncations = {a: truncated for a in self.agents}
        for agent in self.agents:
            infos[agent]["clipped_actions"] = clipped[agent]
        observations = self._cast_observations(self._observe())
        rewards = {a: float(rewards[a]) for a in self.agents}
        self._last_infos = infos
        if truncated:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def _cast_observations(self, observations: dict) -> dict:
        out = {}
        for agent, obs in observations.items():
            space = self._observation_spaces[agent]
            out[agent] = np.asarray(obs, dtype=space.dtype) if isinstance(space, spaces.Box) else obs
        return out

    def _reset_infos(self) -> dict[str, dict]:
        return {a: {} for a in self.agents}

    # ------------------------------------------------------------ validation
    def _validate_actions(self, actions) -> tuple[dict, dict]:
        name = self.metadata["name"]
        if not isinstance(actions, dict):
            raise ValueError(f"{name}: actions must be a dict agent -> action, got {type(actions).__name__}")
        unknown = [a for a in actions if a not in self.agents]
        if unknown:
            raise ValueError(f"{name}: unknown agent(s) {unknown} in actions; live agents are {self.agents}")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"{name}: missing action for agent(s) {missing}")
        checked, clipped = {}, {}
        for agent in self.agents:
            checked[agent], clipped[agent] = self._validate_one(agent, actions[agent], self._action_spaces[agent])
        return checked, clipped

    def _validate_one(self, agent: str, action, space: spaces.Space):
        name = self.metadata["name"]
        try:
            arr = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: action for agent {agent!r} is not numeric: {action!r}") from None
        if isinstance(space, spaces.Box):
            if arr.shape != space.shape:
                raise ValueError(f"{name}: action for agent {agent!r} has shape {arr.shape}, expected {space.shape}")
            clipped = np.clip(arr, space.low, space.high)
            changed = clipped != arr  # also True for NaN
            if not changed.any():
                return clipped, 0
            if not np.isfinite(arr).all():
                raise ValueError(f"{name}: action for agent {agent!r} contains NaN or inf")
            return clipped, int(changed.sum())
        if isinstance(space, (spaces.Discrete, spaces.MultiDiscrete)):
            expected = () if isinstance(space, spaces.Discrete) else space.shape
            if arr.shape != expected:
                raise ValueError(f"{name}: action for agent {agent!r} has shape {arr.shape}, expected {expected}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name}: action for agent {agent!r} contains NaN or inf")
            if not np.all(arr == np.round(arr)):
                raise ValueError(f"{name}: action for agent {agent!r} must be integer, got {action!r}")
            ints = arr.astype(np.int64)
            if not space.contains(ints if ints.shape else np.int64(ints)):
                raise ValueError(f"{name}: action {action!r} for agent {agent!r} is outside {space}")
            return ints, 0
        raise TypeError(f"{name}: unsupported action space {space}")

    # ------------------------------------------------------------ state, render
    def state(self) -> np.ndarray:
        if self.instance is None:
            raise RuntimeError(f"{self.metadata['name']}: state() called before reset()")
        return np.asarray(self._state(), dtype=self.state_space.dtype)

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
            return self._summary()
        return render_lib.topology_image(**self._topology())

    def close(self):
        pass

    def __deepcopy__(self, memo):
        cls = self.__class__
        out = cls.__new__(cls)
        memo[id(self)] = out
        for key, value in self.__dict__.items():
            setattr(out, key, copy.deepcopy(value, memo))
        return out

    # ------------------------------------------------------------- the hooks
    @abc.abstractmethod
    def _agents(self) -> list[str]:
        """The ``possible_agents`` for this config (e.g. one scheduler, or one per user)."""

    @abc.abstractmethod
    def _build_spaces(self):
        """Return ``(observation_spaces, action_spaces, state_space)``, built once."""

    @staticmethod
    @abc.abstractmethod
    def sample_instance(config, rng: np.random.Generator):
        """Draw a problem instance (a dataclass of SI arrays) from ``rng``."""

    @abc.abstractmethod
    def _check_instance(self, instance):
        """Validate a pinned instance passed to ``reset(options={"instance": ...})``."""

    @abc.abstractmethod
    def _reset_state(self) -> None:
        """Initialise the dynamic state for ``self.instance``."""

    @abc.abstractmethod
    def _transition(self, actions: dict) -> tuple[dict, dict]:
        """Apply validated actions; return ``(rewards, infos)`` for the live agents."""

    @abc.abstractmethod
    def _observe(self) -> dict:
        """Observations of the live agents."""

    @abc.abstractmethod
    def _state(self) -> np.ndarray:
        """The global state (an element of ``state_space``)."""

    @abc.abstractmethod
    def _topology(self) -> dict:
        """Keyword arguments of :func:`mec_marl.render.topology_image`."""

    @abc.abstractmethod
    def _summary(self) -> str:
        """Text shown by ``render()`` in ``ansi`` mode."""
