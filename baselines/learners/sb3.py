"""Plain DDPG through Stable-Baselines3: the CPDRL paper's "DDPG" baseline (Sec. V-A).

A classic DDPG (SB3's ``DDPG``, MLP actor with tanh output and MLP critic) on
the Gymnasium adapter of ``cpdrl_v0``
(``SingleAgentEnv(mec_marl.make("cpdrl_v0", **env_kwargs))``) with the env's
consistency machinery off: ``consistency="none"`` (the raw combination of
offload decision and resources is executed) and
``consistency_bonus_weight=0``. The env thresholds the continuous offload
output at 0 (eq. 15's forward pass); the actor itself has no STE, no masks and
no consistency loss.

Hyper-parameters (:data:`DEFAULTS`; every key can be passed in ``budget``):
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
import time

import gymnasium
import numpy as np
import torch
from stable_baselines3 import DDPG
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.noise import ActionNoise, NormalActionNoise

import mec_marl
from baselines.learners import cpdrl as family
from mec_marl.adapters.gymnasium import SingleAgentEnv

ENV_ID = "cpdrl_v0"
AGENT = "scheduler"
VARIANT_ENV = {"consistency": "none", "consistency_bonus_weight": 0.0}
CHECKPOINT_FORMAT = "mec_marl.baselines.learners.sb3/1"

# Table I as printed.
DEFAULTS = {
    "hidden_actor": (24, 16),
    "hidden_critic": (24, 16),
    "learning_rate": 1e-4,
    "noise_std": 1.0,
    "noise_final_std": 1.0,
    "noise_decay_fraction": 0.0,
    "tau": 0.005,
    "gamma": 0.85,
    "batch_size": 64,
    "buffer_size": 100_000,
    "learning_starts": 500,
    "train_freq": 1,
    "gradient_steps": 1,
    "reward_transform": "none",
    "reward_clip": 2.0,
    "obs_transform": "none",
    "episode_steps": 0,
}
BUDGET_KEYS = ("steps", "progress", "preset") + tuple(DEFAULTS)
PRESETS = ("paper", "tuned")


def tuned_defaults() -> dict:
    """The hand-written family's default settings translated to SB3's arguments."""
    h = family.Hyper()
    return {
        **DEFAULTS,
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


def parse_budget(budget: dict | None) -> tuple[int, dict, bool]:
    """``{"steps": N, "preset": ..., <DEFAULTS key>: value}`` -> ``(steps, settings, progress)``."""
    steps, progress, budget = family.split_budget(budget, BUDGET_KEYS)
    preset = budget.pop("preset", "paper")
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; allowed: {list(PRESETS)}")
    settings = dict(DEFAULTS if preset == "paper" else tuned_defaults())
    for key, value in budget.items():
        settings[key] = family.coerce_like(settings[key], value)
    if settings["reward_transform"] not in family.REWARD_TRANSFORMS:
        raise ValueError(f"reward_transform must be one of {list(family.REWARD_TRANSFORMS)}, got {settings['reward_transform']!r}")
    if settings["obs_transform"] not in family.OBS_TRANSFORMS:
        raise ValueError(f"obs_transform must be one of {list(family.OBS_TRANSFORMS)}, got {settings['obs_transform']!r}")
    settings["preset"] = preset
    return steps, settings, progress


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


class Sb3DdpgPolicy:
    """A trained SB3 DDPG model as a :class:`~baselines.policy.Policy` (deterministic ``predict``)."""

    name = "ddpg"

    def __init__(self, model, settings: dict, env_kwargs: dict, n: int, history: dict | None = None, seed=None):
        self.model = model
        self.settings = dict(settings)
        self.env_kwargs = dict(env_kwargs)
        self.env_options = dict(VARIANT_ENV)  # no masks: evaluated as trained
        self.n = int(n)
        self.history = history or {}
        self.seed = seed

    def reset(self, env, seed=None) -> None:
        """Nothing to prepare: the actor is deterministic and reads only observations."""

    def predict(self, obs: np.ndarray) -> np.ndarray:
        x = family.transform_obs(obs, self.n, self.settings["obs_transform"])
        action, _ = self.model.predict(x, deterministic=True)
        return np.clip(np.asarray(action, dtype=np.float32), -1.0, 1.0)

    def act(self, observations: dict, env) -> dict:
        return {agent: self.predict(observations[agent]) for agent in env.agents}

    def save(self, path: str) -> None:
        """One file: the SB3 policy's state dict, the settings, env_kwargs and history."""
        settings = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.settings.items()}
        torch.save(
            {
                "format": CHECKPOINT_FORMAT,
                "settings": settings,
                "env_kwargs": self.env_kwargs,
                "n": self.n,
                "seed": self.seed,
                "policy": self.model.policy.state_dict(),
                "history": self.history,
            },
            path,
        )

    @classmethod
    def load(cls, path: str) -> "Sb3DdpgPolicy":
        ckpt = family.read_checkpoint(path, CHECKPOINT_FORMAT)
        settings = dict(ckpt["settings"])
        for key in ("hidden_actor", "hidden_critic"):
            settings[key] = tuple(settings[key])
        shell = {**settings, "buffer_size": 1}  # no training after loading: skip the 1e5-row replay buffer
        model = _make_model(_make_env(ckpt["env_kwargs"], settings), shell, seed=ckpt.get("seed"), noise=None)
        model.policy.load_state_dict(ckpt["policy"])
        return cls(model, settings, ckpt["env_kwargs"], ckpt["n"], ckpt.get("history"), ckpt.get("seed"))


def load(path: str) -> Sb3DdpgPolicy:
    """Load a policy saved by :meth:`Sb3DdpgPolicy.save` (the registry's loader)."""
    return Sb3DdpgPolicy.load(path)


def _make_env(env_kwargs: dict, settings: dict, episode_steps: int = 0) -> gymnasium.Env:
    kwargs = dict(env_kwargs)
    if episode_steps > 0:
        kwargs["max_cycles"] = int(episode_steps)
    base = SingleAgentEnv(mec_marl.make(ENV_ID, **kwargs))
    n = base.parallel_env.config.n_devices
    return _Transforms(base, n, settings["obs_transform"], settings["reward_transform"], settings["reward_clip"])


def _make_model(env, settings: dict, seed, noise):
    return DDPG(
        "MlpPolicy",
        env,
        learning_rate=settings["learning_rate"],
        buffer_size=int(settings["buffer_size"]),
        learning_starts=int(settings["learning_starts"]),
        batch_size=int(settings["batch_size"]),
        tau=settings["tau"],
        gamma=settings["gamma"],
        train_freq=int(settings["train_freq"]),
        gradient_steps=int(settings["gradient_steps"]),
        action_noise=noise,
        policy_kwargs={"net_arch": {"pi": list(settings["hidden_actor"]), "qf": list(settings["hidden_critic"])}},
        seed=seed,
        device="cpu",
        verbose=0,
    )


def training_env_kwargs(env_kwargs: dict | None) -> dict:
    """The caller's env_kwargs with DDPG's env options (no masks, no bonus) on top."""
    out = {**dict(env_kwargs or {}), **VARIANT_ENV}
    out.pop("render_mode", None)
    return out


def train(env_kwargs: dict | None, seed: int | None, budget: dict, progress: bool = False) -> Sb3DdpgPolicy:
    """Train SB3 DDPG for ``budget["steps"]`` env steps; returns the deterministic policy.

    Unknown budget keys raise ``ValueError``. ``seed`` goes to SB3 (torch,
    numpy, the env's first reset) and to the action noise; the same seed gives
    the same policy. Training runs on one torch thread.
    """
    steps, settings, budget_progress = parse_budget(budget)
    progress = progress or budget_progress
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**31))
    seed = int(seed)
    kwargs = training_env_kwargs(env_kwargs)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        env = _make_env(kwargs, settings, int(settings["episode_steps"]))
        n = env.unwrapped.parallel_env.config.n_devices
        dim = env.action_space.shape[0]
        if settings["noise_decay_fraction"] > 0:
            noise = DecayingNormalNoise(dim, settings["noise_std"], settings["noise_final_std"],
                                        settings["noise_decay_fraction"] * steps, seed)
        else:  # Table I: constant Gaussian noise, std 1.0 (SB3 seeds numpy's global generator)
            noise = NormalActionNoise(mean=np.zeros(dim), sigma=settings["noise_std"] * np.ones(dim))
        model = _make_model(env, settings, seed, noise)
        history = {"best_objective": [], "final_objective": [], "episode_reward": []}
        start = time.perf_counter()

        class _Record(BaseCallback):
            """Algorithm 1 line 18: record each episode's best and final objective."""

            def __init__(self):
                super().__init__()
                self.best, self.reward = math.inf, 0.0

            def _on_step(self) -> bool:
                info = self.locals["infos"][0]
                self.best = min(self.best, info["objective"])
                self.reward += float(self.locals["rewards"][0])
                if self.locals["dones"][0]:
                    history["best_objective"].append(float(self.best))
                    history["final_objective"].append(float(info["objective"]))
                    history["episode_reward"].append(self.reward)
                    self.best, self.reward = math.inf, 0.0
                    if progress and len(history["final_objective"]) % 50 == 0:
                        recent = history["final_objective"][-50:]
                        print(f"[ddpg] step {self.num_timesteps}/{steps}  final objective (last 50 ep.) "
                              f"{np.mean(recent):.4g}  {time.perf_counter() - start:.1f} s", flush=True)
                return True

        model.learn(total_timesteps=steps, callback=_Record())
        history["train_time_s"] = time.perf_counter() - start
        history["steps"] = steps
    finally:
        torch.set_num_threads(threads)
    return Sb3DdpgPolicy(model, settings, kwargs, n, history, seed)


def build_ddpg(env_id, env_kwargs, seed, budget):
    """Registry builder: train SB3 DDPG on the caller's env_kwargs (no masks, no bonus)."""
    if env_id != ENV_ID:
        raise ValueError(f"ddpg runs on {ENV_ID!r} only, got {env_id!r}")
    return train(env_kwargs, seed, budget)
