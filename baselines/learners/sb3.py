"""Plain DDPG through Stable-Baselines3: the CPDRL paper's "DDPG" baseline (Sec. V-A).

A classic DDPG (SB3's ``DDPG``, MLP actor with tanh output and MLP critic) on
the Gymnasium adapter of ``cpdrl_v0``
(``SingleAgentEnv(mec_marl.make("cpdrl_v0", **env_kwargs))``) with the env's
consistency machinery off: ``consistency="none"`` (the raw combination of
offload decision and resources is executed) and
``consistency_bonus_weight=0``. The env thresholds the continuous offload
output at 0 (eq. 15's forward pass); the actor itself has no STE, no masks and
no consistency loss.

Hyper-parameters (:class:`Sb3DdpgHyper`; every key can be passed in ``budget``):
Table I as printed -- networks (24, 16) for pi and qf, learning rate 1e-4,
Gaussian action noise sigma 1.0 (SB3's ``NormalActionNoise``), tau 0.005,
gamma 0.85, batch 64, buffer 1e5 -- with ``learning_starts`` 500 (SB3 acts
uniformly at random before it) and ``train_freq`` 1. ``preset="tuned"``
(:func:`tuned_defaults`) trains instead with the settings of the
hand-written family's defaults that carry over to an MLP actor
(:class:`baselines.learners.cpdrl.Hyper`: gamma 0, the critic's learning
rate 1e-3 for both networks, critic (64, 64), decaying noise from 0.3, the
"relative" reward and "tasks" observation transforms, 10-step training
episodes), so that DDPG can also be compared under the same conditions. The
transforms are Gymnasium wrappers around the training env only; the returned
policy applies the observation transform itself and reads the env's own
observations.
"""

from __future__ import annotations

import math
import os
import time
from typing import Literal, Mapping

import gymnasium
import numpy as np
from pydantic import Field, model_validator
from stable_baselines3 import DDPG
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.noise import ActionNoise, NormalActionNoise

import mec_marl
from baselines.learners import cpdrl as family
from baselines.learners.common import (
    Budget,
    HyperParams,
    IntTuple,
    LearnedPolicy,
    progress_bar,
    resolve_seed,
    split_budget,
    torch_threads,
)
from mec_marl.adapters.gymnasium import SingleAgentEnv

ENV_ID = "cpdrl_v0"
AGENT = "scheduler"
VARIANT_ENV = {"consistency": "none", "consistency_bonus_weight": 0.0}
PRESETS = ("paper", "tuned")


def tuned_defaults() -> dict:
    """The hand-written family's default settings translated to SB3's arguments."""
    h = family.Hyper()
    return {
        "hidden_actor": tuple(h.hidden_actor),
        "hidden_critic": tuple(h.hidden_critic),
        "learning_rate": h.critic_lr,
        "noise_std": h.noise_std,
        "noise_final_std": h.noise_final_std,
        "noise_decay_fraction": h.noise_decay_fraction,
        "gamma": h.gamma,
        "learning_starts": h.learning_starts,
        "reward_transform": h.reward_transform,
        "reward_clip": h.reward_clip,
        "obs_transform": h.obs_transform,
        "episode_steps": h.episode_steps,
    }


class Sb3DdpgHyper(HyperParams):
    """SB3 DDPG's settings; the defaults are Table I as printed (``preset="paper"``).

    ``preset="tuned"`` starts from :func:`tuned_defaults` instead; keys given
    explicitly override either preset.
    """

    preset: Literal["paper", "tuned"] = "paper"
    hidden_actor: IntTuple = (24, 16)
    hidden_critic: IntTuple = (24, 16)
    learning_rate: float = Field(1e-4, gt=0)
    noise_std: float = Field(1.0, ge=0)
    noise_final_std: float = Field(1.0, ge=0)
    noise_decay_fraction: float = Field(0.0, ge=0, le=1)
    tau: float = Field(0.005, gt=0, le=1)
    gamma: float = Field(0.85, ge=0, lt=1)
    batch_size: int = Field(64, ge=1)
    buffer_size: int = Field(100_000, ge=1)
    learning_starts: int = Field(500, ge=0)
    train_freq: int = Field(1, ge=1)
    gradient_steps: int = Field(1, ge=1)
    reward_transform: Literal["relative", "symlog", "none"] = "none"
    reward_clip: float = Field(2.0, gt=0)
    obs_transform: Literal["tasks", "log", "none"] = "none"
    episode_steps: int = Field(0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _preset_defaults(cls, data):
        if isinstance(data, Mapping) and data.get("preset") == "tuned":
            return {**tuned_defaults(), **data}
        return data


def parse_budget(budget: Mapping | None) -> tuple[Budget, Sb3DdpgHyper]:
    """``{"steps": N, "progress": ..., "preset": ..., <setting>: value}`` -> ``(Budget, Sb3DdpgHyper)``."""
    return split_budget(budget, Sb3DdpgHyper)


class _Transforms(gymnasium.Wrapper):
    """Training-side reward and observation transforms of :mod:`baselines.learners.cpdrl`
    (:func:`~baselines.learners.cpdrl.transform_obs`, :func:`~baselines.learners.cpdrl.transform_reward`)."""

    def __init__(self, env: gymnasium.Env, n: int, obs_transform: str, reward_transform: str, reward_clip: float):
        super().__init__(env)
        self.n, self.obs_transform, self.reward_transform, self.reward_clip = n, obs_transform, reward_transform, reward_clip
        self.bonus = float(env.parallel_env.config.consistency_bonus_weight)
        self.reference = 1.0
        dim = family.transform_obs(np.zeros(env.observation_space.shape), n, obs_transform).shape[-1]
        self.observation_space = gymnasium.spaces.Box(0.0, np.inf, shape=(dim,), dtype=np.float32)

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self.reference = family.reference_cost(obs, self.n, self.bonus)
        return family.transform_obs(obs, self.n, self.obs_transform), info

    def step(self, action):
        obs, rew, term, trunc, info = self.env.step(action)
        reward = family.transform_reward(rew, self.reward_transform, self.reference, self.bonus, self.reward_clip)
        return family.transform_obs(obs, self.n, self.obs_transform), reward, term, trunc, info


class DecayingNormalNoise(ActionNoise):
    """Gaussian action noise with its own seeded generator; the std decays linearly from
    ``start`` to ``final`` over ``decay_steps`` calls (constant when ``decay_steps`` is 0)."""

    def __init__(self, dim: int, start: float, final: float, decay_steps: float, seed: int):
        super().__init__()
        self.dim, self.start, self.final, self.decay_steps = dim, start, final, decay_steps
        self.rng = np.random.default_rng(seed)
        self.t = 0

    def std(self) -> float:
        if self.decay_steps <= 0:
            return self.start
        return self.start + min(1.0, self.t / self.decay_steps) * (self.final - self.start)

    def __call__(self) -> np.ndarray:
        out = (self.rng.normal(0.0, 1.0, self.dim) * self.std()).astype(np.float32)
        self.t += 1
        return out

    def reset(self) -> None:
        """Gaussian noise has no state to reset between episodes (the schedule runs on)."""

    def __repr__(self) -> str:
        return f"DecayingNormalNoise(start={self.start}, final={self.final}, decay_steps={self.decay_steps})"


class Sb3DdpgPolicy(LearnedPolicy):
    """A trained SB3 DDPG model as a :class:`~baselines.policy.Policy` (deterministic ``predict``).

    The checkpoint holds the SB3 policy's state dict, the settings, env_kwargs and history.
    """

    name = "ddpg"

    def __init__(self, model, hyper: Sb3DdpgHyper, env_kwargs: dict, n: int, history: dict | None = None, seed=None):
        self.model = model
        self.hyper = hyper
        self.env_kwargs = dict(env_kwargs)
        self.env_options = dict(VARIANT_ENV)  # no masks: evaluated as trained
        self.n = int(n)
        self.history = history or {}
        self.seed = seed

    def predict(self, obs: np.ndarray) -> np.ndarray:
        x = family.transform_obs(obs, self.n, self.hyper.obs_transform)
        action, _ = self.model.predict(x, deterministic=True)
        return np.clip(np.asarray(action, dtype=np.float32), -1.0, 1.0)

    def checkpoint_state(self) -> dict:
        return {
            "hyper": self.hyper.as_dict(),
            "env_kwargs": self.env_kwargs,
            "n": self.n,
            "seed": self.seed,
            "policy": self.model.policy.state_dict(),
            "history": self.history,
        }

    @classmethod
    def from_checkpoint_state(cls, state: dict) -> "Sb3DdpgPolicy":
        hyper = Sb3DdpgHyper(**state["hyper"])
        shell = hyper.model_copy(update={"buffer_size": 1})  # no training after loading: skip the 1e5-row buffer
        model = _make_model(_make_env(state["env_kwargs"], hyper), shell, seed=state.get("seed"), noise=None)
        model.policy.load_state_dict(state["policy"])
        return cls(model, hyper, state["env_kwargs"], state["n"], state.get("history"), state.get("seed"))


def load(path: str | os.PathLike, method: str | None = None) -> Sb3DdpgPolicy:
    """Load a policy saved by :meth:`Sb3DdpgPolicy.save` (the registry's loader)."""
    return Sb3DdpgPolicy.load(path, method=method)


def _make_env(env_kwargs: dict, hyper: Sb3DdpgHyper, episode_steps: int = 0) -> gymnasium.Env:
    kwargs = dict(env_kwargs)
    if episode_steps > 0:
        kwargs["max_cycles"] = int(episode_steps)
    base = SingleAgentEnv(mec_marl.make(ENV_ID, **kwargs))
    n = base.parallel_env.config.n_devices
    return _Transforms(base, n, hyper.obs_transform, hyper.reward_transform, hyper.reward_clip)


def _make_model(env, hyper: Sb3DdpgHyper, seed, noise):
    return DDPG(
        "MlpPolicy",
        env,
        learning_rate=hyper.learning_rate,
        buffer_size=hyper.buffer_size,
        learning_starts=hyper.learning_starts,
        batch_size=hyper.batch_size,
        tau=hyper.tau,
        gamma=hyper.gamma,
        train_freq=hyper.train_freq,
        gradient_steps=hyper.gradient_steps,
        action_noise=noise,
        policy_kwargs={"net_arch": {"pi": list(hyper.hidden_actor), "qf": list(hyper.hidden_critic)}},
        seed=seed,
        device="cpu",
        verbose=0,
    )


def training_env_kwargs(env_kwargs: dict | None) -> dict:
    """The caller's env_kwargs with DDPG's env options (no masks, no bonus) on top."""
    out = {**dict(env_kwargs or {}), **VARIANT_ENV}
    out.pop("render_mode", None)
    return out


class _Record(BaseCallback):
    """Algorithm 1 line 18: record each episode's best and final objective; advance the progress bar."""

    def __init__(self, history: dict, bar):
        super().__init__()
        self.history, self.bar = history, bar
        self.best, self.reward = math.inf, 0.0

    def _on_step(self) -> bool:
        info = self.locals["infos"][0]
        self.best = min(self.best, info["objective"])
        self.reward += float(self.locals["rewards"][0])
        if self.locals["dones"][0]:
            self.history["best_objective"].append(float(self.best))
            self.history["final_objective"].append(float(info["objective"]))
            self.history["episode_reward"].append(self.reward)
            self.best, self.reward = math.inf, 0.0
            if len(self.history["final_objective"]) % 50 == 0:
                self.bar.set_postfix(objective=f"{np.mean(self.history['final_objective'][-50:]):.4g}")
        self.bar.update(1)
        return True


def train(env_kwargs: dict | None, seed: int | None, budget: Mapping, progress: bool | None = None) -> Sb3DdpgPolicy:
    """Train SB3 DDPG for ``budget["steps"]`` env steps; returns the deterministic policy.

    Unknown budget keys raise ``ValueError``. ``seed`` goes to SB3 (torch,
    numpy, the env's first reset) and to the action noise; the same seed gives
    the same policy. Training runs on one torch thread.
    """
    plan, hyper = parse_budget(budget)
    steps = plan.steps
    seed = resolve_seed(seed)
    kwargs = training_env_kwargs(env_kwargs)
    with torch_threads(1):
        env = _make_env(kwargs, hyper, hyper.episode_steps)
        n = env.unwrapped.parallel_env.config.n_devices
        dim = env.action_space.shape[0]
        if hyper.noise_decay_fraction > 0:
            noise = DecayingNormalNoise(dim, hyper.noise_std, hyper.noise_final_std,
                                        hyper.noise_decay_fraction * steps, seed)
        else:  # Table I: constant Gaussian noise, std 1.0 (SB3 seeds numpy's global generator)
            noise = NormalActionNoise(mean=np.zeros(dim), sigma=hyper.noise_std * np.ones(dim))
        model = _make_model(env, hyper, seed, noise)
        history = {"best_objective": [], "final_objective": [], "episode_reward": []}
        start = time.perf_counter()
        with progress_bar(steps, "ddpg", plan.progress if progress is None else progress) as bar:
            model.learn(total_timesteps=steps, callback=_Record(history, bar))
        history["train_time_s"] = time.perf_counter() - start
        history["steps"] = steps
    return Sb3DdpgPolicy(model, hyper, kwargs, n, history, seed)


def build_ddpg(env_id, env_kwargs, seed, budget):
    """Registry builder: train SB3 DDPG on the caller's env_kwargs (no masks, no bonus)."""
    if env_id != ENV_ID:
        raise ValueError(f"ddpg runs on {ENV_ID!r} only, got {env_id!r}")
    return train(env_kwargs, seed, budget)
