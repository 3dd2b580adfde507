"""The DJTCRA paper's learners on djtcra_v0: MAMaxEnt, MADDPG (ES agents) and VDN-L, VDN-G, IDQN (users).

The algorithms live in the learner toolkit (:mod:`baselines.learners.maddpg`,
:mod:`baselines.learners.value_decomposition`); this module binds them to the
env (which ES owns which row, what an ES observes) and gives the registry's
``build(env_id, env_kwargs, seed, budget)`` factories. Defaults follow Table
IV (3 x 256 ReLU, lr 1e-4, omega lr 1e-3, lambda 15, lambda_S 5, mu 0.995),
gamma 0.1 (Fig. 6) and epsilon 0.15 (Sec. VI-A).
"""

from __future__ import annotations

import numpy as np
import torch

from baselines.learners import maddpg, value_decomposition
from baselines.learners.common import LearnedPolicy, resolve_seed

ENV_ID = "djtcra_v0"


def owner_fn(config):
    """``state (B, U, 9) -> (B, U)`` the ES each row belongs to, from column 0 (the RAN, numbered from 1)."""
    scale = config.n_servers if config.observation_scale == "normalised" else 1.0

    def owner(state):
        return np.rint(np.asarray(state)[..., 0] * scale).astype(np.int64) - 1

    return owner


def observe(state: torch.Tensor, owner: torch.Tensor, h: int) -> torch.Tensor:
    """O^h (eq. 18): the state's rows of the users connected to ES h, the others zeroed."""
    return state * (owner == h).unsqueeze(-1).to(state.dtype)


class ServerActorsPolicy(LearnedPolicy):
    """Trained ES actors: each ES sends its users to the argmax of its softmax rows (eq. 21)."""

    def __init__(self, name: str, actors, hyper: maddpg.MaddpgHyper, env_kwargs: dict, dims: dict, history=None):
        self.name, self.actors, self.hyper, self.env_kwargs, self.dims = name, actors, hyper, dict(env_kwargs), dims
        self.history = history or {}
        for a in self.actors:
            a.eval()

    def act(self, observations: dict, env) -> dict:
        out = {}
        with torch.no_grad():
            for h, agent in enumerate(env.possible_agents):
                if agent in env.agents:
                    obs = torch.as_tensor(np.asarray(observations[agent], dtype=np.float32))
                    out[agent] = self.actors[h](obs).numpy()
        return out

    def checkpoint_state(self) -> dict:
        return {"actors": [a.state_dict() for a in self.actors], "hyper": self.hyper.as_dict(), "name": self.name,
                "env_kwargs": self.env_kwargs, "dims": self.dims, "history": self.history}

    @classmethod
    def from_checkpoint_state(cls, state: dict) -> "ServerActorsPolicy":
        hyper, d = maddpg.MaddpgHyper(**state["hyper"]), state["dims"]
        actors = []
        for sd in state["actors"]:
            actor = maddpg.RowSoftmaxActor(d["n_rows"], d["obs_cols"], d["n_choices"], hyper.hidden)
            actor.load_state_dict(sd)
            actors.append(actor)
        return cls(state["name"], actors, hyper, state["env_kwargs"], d, state["history"])


def _server_learner(name: str, entropy: bool):
    def build(env_id=ENV_ID, env_kwargs=None, seed=None, budget=None):
        from mec_marl import vector

        seed = resolve_seed(seed)
        env_kwargs = {**dict(env_kwargs or {}), "agent_mode": "servers"}
        budget = {**dict(budget or {}), "entropy": entropy}
        num_envs = int(budget.get("num_envs", maddpg.MaddpgHyper.model_fields["num_envs"].default))
        venv = vector.make(env_id, num_envs=num_envs, **env_kwargs)
        learner, hyper, history = maddpg.train(venv, owner_fn(venv.config), observe, seed, budget, name)
        dims = {"n_rows": venv.config.num_users, "obs_cols": 9, "n_choices": venv.config.n_servers}
        return ServerActorsPolicy(name, learner.actors, hyper, env_kwargs, dims, history)

    return build


def _users_learner(name: str, mixing: str, inputs: str):
    def build(env_id=ENV_ID, env_kwargs=None, seed=None, budget=None):
        seed = resolve_seed(seed)
        env_kwargs = {**dict(env_kwargs or {}), "agent_mode": "users", "user_observation": "own"}
        budget = {**dict(budget or {}), "mixing": mixing, "input": inputs}
        return value_decomposition.train(env_id, env_kwargs, seed, budget, name)

    return build


build_mamaxent = _server_learner("mamaxent", entropy=True)
build_maddpg = _server_learner("maddpg", entropy=False)
build_vdn_l = _users_learner("vdn_l", "sum", "own")
build_vdn_g = _users_learner("vdn_g", "sum", "joint")
build_idqn = _users_learner("idqn", "none", "own")
