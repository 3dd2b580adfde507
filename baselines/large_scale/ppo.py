"""SB3 PPO in ``users`` mode with parameter sharing (an extra baseline, not in the OJRS paper).

Every UE is an agent that sees its own CQI row and weight and picks
Discrete(M+1); all agents share one policy through
:class:`mec_marl.adapters.sb3.SB3VecEnv` (B instances x N agents as SB3
environments) and the team reward 1 / sum w T. Slots are independent (a
decision does not change the next slot's channel), so the default discount is
0: each slot is a contextual bandit. ``steps`` counts slots summed over the
B instances (SB3 timesteps / N).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from baselines.learners.common import (
    HyperParams,
    IntTuple,
    LearnedPolicy,
    resolve_seed,
    seed_everything,
    split_budget,
    torch_threads,
)

ENV_OPTIONS = {"agent_mode": "users"}


class PpoUsersHyper(HyperParams):
    n_envs: int = Field(16, ge=1, description="instances stepped together (each with N agents)")
    n_steps: int = Field(16, ge=1, description="rollout length per SB3 env")
    batch_size: int = Field(512, ge=2)
    n_epochs: int = Field(4, ge=1)
    learning_rate: float = Field(3e-4, gt=0)
    gamma: float = Field(0.0, ge=0, le=1, description="discount (slots are independent)")
    ent_coef: float = Field(0.01, ge=0)
    net_arch: IntTuple = Field((64, 64), description="shared actor/critic hidden layers")


def _model(env_id: str, env_kwargs: dict, hyper: PpoUsersHyper, seed, n_envs: int):
    from stable_baselines3 import PPO

    from mec_marl.adapters.sb3 import SB3VecEnv

    venv = SB3VecEnv(env_id, num_envs=n_envs, **{**env_kwargs, **ENV_OPTIONS})
    return PPO("MlpPolicy", venv, n_steps=hyper.n_steps, batch_size=hyper.batch_size, n_epochs=hyper.n_epochs,
               learning_rate=hyper.learning_rate, gamma=hyper.gamma, ent_coef=hyper.ent_coef, seed=seed,
               policy_kwargs={"net_arch": list(hyper.net_arch)}, device="cpu", verbose=0)


class PpoUsersPolicy(LearnedPolicy):
    """Each UE agent acts with the shared PPO policy on its own observation."""

    name = "ls_ppo_users"
    env_options = ENV_OPTIONS

    def __init__(self, model, hyper: PpoUsersHyper, env_id: str, env_kwargs: dict, history: dict | None = None):
        self.model, self.hyper, self.env_id, self.env_kwargs = model, hyper, env_id, dict(env_kwargs)
        self.history = history or {}

    def predict(self, obs: np.ndarray):
        action, _ = self.model.predict(np.asarray(obs, dtype=np.float32), deterministic=True)
        return int(action) if np.ndim(action) == 0 else np.asarray(action)

    def act(self, observations: dict, env) -> dict:
        agents = list(env.agents)
        actions, _ = self.model.predict(np.stack([observations[a] for a in agents]), deterministic=True)
        return {a: int(x) for a, x in zip(agents, actions)}

    def checkpoint_state(self) -> dict:
        return {"hyper": self.hyper.as_dict(), "env_id": self.env_id, "env_kwargs": self.env_kwargs,
                "policy": self.model.policy.state_dict(), "history": self.history}

    @classmethod
    def from_checkpoint_state(cls, state: dict) -> "PpoUsersPolicy":
        hyper = PpoUsersHyper(**state["hyper"])
        model = _model(state["env_id"], state["env_kwargs"], hyper, None, 1)
        model.policy.load_state_dict(state["policy"])
        return cls(model, hyper, state["env_id"], state["env_kwargs"], state.get("history"))


def build(env_id: str, env_kwargs: dict, seed: int | None, budget: dict) -> PpoUsersPolicy:
    """Registry builder: ``budget['steps']`` slots (over all instances); other keys: :class:`PpoUsersHyper`."""
    from stable_baselines3.common.callbacks import BaseCallback

    train_budget, hyper = split_budget(budget, PpoUsersHyper, "ls_ppo_users budget")
    seed = resolve_seed(seed)
    seed_everything(seed)
    history = {"reward": []}

    class Record(BaseCallback):
        def _on_step(self) -> bool:
            for info in self.locals["infos"][:: max(1, len(self.locals["infos"]) // hyper.n_envs)]:
                if "episode" in info:
                    history["reward"].append(float(info["episode"]["reward"]))
            return True

    with torch_threads(1):
        model = _model(env_id, env_kwargs, hyper, seed, hyper.n_envs)
        n_agents = len(model.get_env().agents)
        model.learn(total_timesteps=train_budget.steps * n_agents, callback=Record())
    return PpoUsersPolicy(model, hyper, env_id, env_kwargs, history)


def load(path):
    return PpoUsersPolicy.load(path, method="ls_ppo_users")
