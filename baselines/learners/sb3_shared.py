"""PPO with parameter sharing through Stable-Baselines3, on any mec-marl env.

One SB3 ``PPO`` policy acts for every agent: :class:`mec_marl.adapters.sb3.SB3VecEnv`
presents ``num_envs`` instances x all agents of the env (stepped together by the
env's batched model) as ``num_envs * n_agents`` SB3 environments. Agents must
have the same observation and action spaces (the adapter refuses otherwise).
With one agent (cpdrl_v0) this is plain vectorised PPO.

``build(env_id, env_kwargs, seed, budget)`` is the method registry's builder:
``budget["steps"]`` counts env steps summed over the instances (each step is
``n_agents`` agent-steps); every other budget key is a :class:`SharedPpoHyper`
setting (SB3's PPO defaults, except the smaller ``n_steps`` that suits short
episodes). The same seed gives the same policy: SB3 seeds torch and numpy and
the adapter's first reset; training runs on one torch thread.
"""

from __future__ import annotations

import os
import time
from typing import Mapping

import numpy as np
from pydantic import Field
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback

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
from mec_marl.adapters.sb3 import SB3VecEnv

METHOD = "ppo_shared"


class SharedPpoHyper(HyperParams):
    """SB3 PPO's settings plus the number of batched env instances."""

    num_envs: int = Field(8, ge=1, description="env instances stepped together")
    n_steps: int = Field(128, ge=1, description="rollout length per SB3 env (instance x agent)")
    batch_size: int = Field(256, ge=2)
    n_epochs: int = Field(10, ge=1)
    learning_rate: float = Field(3e-4, gt=0)
    gamma: float = Field(0.99, ge=0, le=1)
    gae_lambda: float = Field(0.95, ge=0, le=1)
    clip_range: float = Field(0.2, gt=0)
    ent_coef: float = Field(0.0, ge=0)
    vf_coef: float = Field(0.5, ge=0)
    max_grad_norm: float = Field(0.5, gt=0)
    hidden: IntTuple = (64, 64)


def parse_budget(budget: Mapping | None) -> tuple[Budget, SharedPpoHyper]:
    """``{"steps": N, "progress": ..., <setting>: value}`` -> ``(Budget, SharedPpoHyper)``."""
    return split_budget(budget, SharedPpoHyper)


class SharedPpoPolicy(LearnedPolicy):
    """A trained shared PPO policy (deterministic: the Gaussian's mean / the argmax)."""

    name = METHOD

    def __init__(self, model: PPO, env_id: str, env_kwargs: dict, hyper: SharedPpoHyper,
                 seed: int | None = None, history: dict | None = None):
        self.model = model
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs)
        self.hyper = hyper
        self.seed = seed
        self.history = history or {}

    def predict(self, obs: np.ndarray) -> np.ndarray:
        """One observation or a batch (leading axis) -> the action(s), clipped to the space."""
        action, _ = self.model.predict(np.asarray(obs), deterministic=True)
        return action

    def act(self, observations: dict, env) -> dict:
        agents = list(env.agents)
        actions = self.predict(np.stack([observations[a] for a in agents]))  # one forward pass for all agents
        return {agent: actions[k] for k, agent in enumerate(agents)}

    def checkpoint_state(self) -> dict:
        return {
            "env_id": self.env_id,
            "env_kwargs": self.env_kwargs,
            "hyper": self.hyper.as_dict(),
            "seed": self.seed,
            "policy": self.model.policy.state_dict(),
            "history": self.history,
        }

    @classmethod
    def from_checkpoint_state(cls, state: dict) -> "SharedPpoPolicy":
        hyper = SharedPpoHyper(**state["hyper"])
        venv = SB3VecEnv(state["env_id"], num_envs=1, **state["env_kwargs"])
        shell = hyper.model_copy(update={"batch_size": hyper.n_steps * venv.num_envs})  # no training after loading
        model = _make_model(venv, shell, state.get("seed"))
        model.policy.load_state_dict(state["policy"])
        return cls(model, state["env_id"], state["env_kwargs"], hyper, state.get("seed"), state.get("history"))


def load(path: str | os.PathLike, method: str | None = None) -> SharedPpoPolicy:
    """Load a policy saved by :meth:`SharedPpoPolicy.save` (the registry's loader)."""
    return SharedPpoPolicy.load(path, method=method)


def _make_model(venv: SB3VecEnv, hyper: SharedPpoHyper, seed: int | None) -> PPO:
    return PPO(
        "MlpPolicy",
        venv,
        n_steps=hyper.n_steps,
        batch_size=hyper.batch_size,
        n_epochs=hyper.n_epochs,
        learning_rate=hyper.learning_rate,
        gamma=hyper.gamma,
        gae_lambda=hyper.gae_lambda,
        clip_range=hyper.clip_range,
        ent_coef=hyper.ent_coef,
        vf_coef=hyper.vf_coef,
        max_grad_norm=hyper.max_grad_norm,
        policy_kwargs={"net_arch": list(hyper.hidden)},
        seed=seed,
        device="cpu",
        verbose=0,
    )


class _Record(BaseCallback):
    """Each finished episode's return and length (per agent), and the progress bar in env steps."""

    def __init__(self, history: dict, bar, n_agents: int):
        super().__init__()
        self.history, self.bar, self.n_agents = history, bar, n_agents

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            episode = info.get("episode")
            if episode is not None:
                self.history["episode_return"].append(float(episode["r"]))
                self.history["episode_length"].append(int(episode["l"]))
        self.bar.update(len(self.locals["infos"]) // self.n_agents)
        return True


def train(env_id: str, env_kwargs: dict | None, seed: int | None, budget: Mapping,
          progress: bool | None = None) -> SharedPpoPolicy:
    """Train shared PPO for ``budget["steps"]`` env steps (module docstring)."""
    plan, hyper = parse_budget(budget)
    seed = resolve_seed(seed)
    kwargs = {k: v for k, v in dict(env_kwargs or {}).items() if k != "render_mode"}
    with torch_threads(1):
        venv = SB3VecEnv(env_id, num_envs=hyper.num_envs, **kwargs)
        n_agents = len(venv.agents)
        model = _make_model(venv, hyper, seed)
        history = {"episode_return": [], "episode_length": []}
        start = time.perf_counter()
        with progress_bar(plan.steps, METHOD, plan.progress if progress is None else progress) as bar:
            model.learn(total_timesteps=plan.steps * n_agents, callback=_Record(history, bar, n_agents))
        history["train_time_s"] = time.perf_counter() - start
        history["agent_steps"] = int(model.num_timesteps)
        venv.close()
    return SharedPpoPolicy(model, env_id, kwargs, hyper, seed, history)


def build(env_id: str, env_kwargs: dict | None, seed: int | None, budget: Mapping) -> SharedPpoPolicy:
    """Registry builder: shared PPO on ``env_id`` with the caller's env_kwargs."""
    return train(env_id, env_kwargs, seed, budget)
