"""Value decomposition for ``users``-mode envs: VDN and independent DQN on a vector env.

Any env whose agents all pick from one ``Discrete(A)`` and share a team reward
(the ``users`` modes of the multi-agent papers) trains here:

* one Q-network trunk shared by the agents, the agent's one-hot index appended
  to its input, and one output layer per agent (the paper's per-user networks
  are N whole copies; the own heads keep their independent initial greedy
  actions, see :class:`SharedAgentQ`), on each agent's own observation (``input="own"``: VDN-L,
  IDQN) or on every agent's observations concatenated (``input="joint"``:
  VDN-G; in ``djtcra_v0`` that is the system state);
* ``mixing="sum"``: VDN (Sunehag et al., 2018), Q_tot = sum_i Q_i, one TD
  target on the team reward; ``mixing="none"``: independent DQN, each agent
  regresses the team reward on its own Q;
* epsilon-greedy exploration, soft target updates, a uniform replay of the
  vector env's transitions (time-limit truncation bootstraps).
"""

from __future__ import annotations

import numpy as np
import torch
from pydantic import Field
from torch import nn

from baselines.learners.common import HyperParams, LearnedPolicy, progress_bar, seed_everything, split_budget, torch_threads
from baselines.learners.common import polyak_update
from baselines.learners.maddpg import record_episodes
from baselines.learners.nets import mlp


class DqnHyper(HyperParams):
    hidden: tuple[int, ...] = Field((256, 256, 256), description="hidden sizes (DJTCRA Table IV)")
    lr: float = Field(1e-4, gt=0, le=1.0)
    gamma: float = Field(0.1, ge=0, lt=1.0, description="discount (DJTCRA Fig. 6: 0.1)")
    epsilon: float = Field(0.15, ge=0, le=1.0, description="exploration rate (DJTCRA Sec. VI-A)")
    tau: float = Field(0.005, gt=0, le=1.0, description="soft target update 1 - mu (Table IV: mu = 0.995)")
    batch_size: int = Field(64, ge=1, le=4096)
    buffer_size: int = Field(20000, ge=1, le=10_000_000)
    warmup: int = Field(200, ge=0, description="transitions collected before the first update")
    num_envs: int = Field(4, ge=1, le=4096, description="vector env batch")
    mixing: str = Field("sum", pattern="^(sum|none)$", description="sum: VDN; none: independent DQN")
    input: str = Field("own", pattern="^(own|joint)$", description="own observation, or all agents' (global)")


class SharedAgentQ(nn.Module):
    """``Q(o_i, i) -> (A,)`` for N agents: ``(..., N, d) -> (..., N, A)``.

    A shared trunk on ``[o_i, one-hot i]`` and one output layer per agent,
    initialised independently like N separate networks' last layers. With a
    single shared output layer its per-action biases (spread ~0.05 at
    PyTorch's default init) outweigh what the user id and row change (~0.004
    on djtcra_v0), so every agent starts with the same greedy action: all
    users on one ES, a state that epsilon-greedy Q-learning on a positive
    team reward only reinforces (the greedy action's Q is pulled up most).
    """

    def __init__(self, obs_dim: int, n_agents: int, n_actions: int, hidden):
        super().__init__()
        if not hidden:
            raise ValueError("SharedAgentQ needs at least one hidden layer (the per-agent heads sit on it)")
        self.n_agents = n_agents
        # first layer = Linear([o_i, one-hot i]) split in two, so that a shared input (..., 1, d)
        # (VDN-G's system state) goes through it once, not once per agent
        self.embed_obs = nn.Linear(obs_dim, hidden[0])
        fan_in = 1.0 / float(np.sqrt(obs_dim + n_agents))
        self.embed_id = nn.Parameter(torch.empty(n_agents, hidden[0]).uniform_(-fan_in, fan_in))
        self.trunk = nn.Sequential(nn.ReLU(), *([mlp(hidden), nn.ReLU()] if len(hidden) > 1 else []))
        bound = 1.0 / float(np.sqrt(hidden[-1]))  # nn.Linear's default init, per agent
        self.head_w = nn.Parameter(torch.empty(n_agents, hidden[-1], n_actions).uniform_(-bound, bound))
        self.head_b = nn.Parameter(torch.empty(n_agents, n_actions).uniform_(-bound, bound))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """``(..., N, d)`` per-agent inputs, or ``(..., 1, d)`` one input for all -> ``(..., N, A)``."""
        z = self.trunk(self.embed_obs(obs) + self.embed_id)
        return torch.einsum("...nk,nka->...na", z, self.head_w) + self.head_b


def td_loss(q: SharedAgentQ, target: SharedAgentQ, batch: dict, gamma: float, mixing: str) -> torch.Tensor:
    """VDN (``sum``) or independent (``none``) squared TD error of a batch."""
    q_taken = q(batch["obs"]).gather(-1, batch["actions"][..., None])[..., 0]  # (B, N)
    with torch.no_grad():
        q_next = target(batch["next_obs"]).max(dim=-1).values
        live = 1.0 - batch["terminated"]
    if mixing == "sum":
        y = batch["rewards"] + gamma * live * q_next.sum(dim=-1)
        return ((q_taken.sum(dim=-1) - y) ** 2).mean()
    y = batch["rewards"][:, None] + gamma * live[:, None] * q_next
    return ((q_taken - y) ** 2).mean()


def agent_inputs(obs: dict, agents: list[str], mode: str) -> np.ndarray:
    """Network inputs from a vector env's per-agent observations ``(B, ...)``: ``(B, N, d)``
    (``own``) or the one joint input ``(B, 1, N d)`` that every agent sees (``joint``)."""
    own = np.stack([np.asarray(obs[a], dtype=np.float32).reshape(len(obs[a]), -1) for a in agents], axis=1)
    return own if mode == "own" else own.reshape(own.shape[0], 1, -1)


class UsersQPolicy(LearnedPolicy):
    """Greedy actions of a trained :class:`SharedAgentQ` (``act`` works on the single env)."""

    def __init__(self, name: str, q: SharedAgentQ, hyper: DqnHyper, env_kwargs: dict, dims: dict, history=None):
        self.name, self.q, self.hyper, self.env_kwargs, self.dims = name, q.eval(), hyper, dict(env_kwargs), dims
        self.history = history or {}

    def act(self, observations: dict, env) -> dict:
        agents = list(env.possible_agents)
        batch = {a: np.asarray(observations[a])[None] for a in agents}
        with torch.no_grad():
            q = self.q(torch.as_tensor(np.ascontiguousarray(agent_inputs(batch, agents, self.hyper.input))))
        greedy = q.argmax(dim=-1).numpy()[0]
        return {a: int(greedy[i]) for i, a in enumerate(agents) if a in env.agents}

    def checkpoint_state(self) -> dict:
        return {"q": self.q.state_dict(), "hyper": self.hyper.as_dict(), "env_kwargs": self.env_kwargs,
                "dims": self.dims, "history": self.history, "name": self.name}

    @classmethod
    def from_checkpoint_state(cls, state: dict) -> "UsersQPolicy":
        hyper = DqnHyper(**state["hyper"])
        d = state["dims"]
        q = SharedAgentQ(d["obs_dim"], d["n_agents"], d["n_actions"], hyper.hidden)
        q.load_state_dict(state["q"])
        return cls(state["name"], q, hyper, state["env_kwargs"], d, state["history"])


def train(env_id: str, env_kwargs: dict, seed: int, budget: dict, name: str = "vdn") -> UsersQPolicy:
    """Train on ``mec_marl.vector.make(env_id, ...)``; ``budget["steps"]`` counts instance-steps
    (each vector step adds ``num_envs`` transitions and makes one gradient step)."""
    from mec_marl import vector

    train_budget, hyper = split_budget(budget, DqnHyper, f"{name} budget")
    rng = seed_everything(seed)
    venv = vector.make(env_id, num_envs=hyper.num_envs, **env_kwargs)
    agents = list(venv.possible_agents)
    n_actions = int(venv.single_action_space(agents[0]).n)
    obs, _ = venv.reset(seed=seed)
    x = agent_inputs(obs, agents, hyper.input)
    N, rows, d = len(agents), x.shape[1], x.shape[2]
    q, target = SharedAgentQ(d, N, n_actions, hyper.hidden), SharedAgentQ(d, N, n_actions, hyper.hidden)
    target.load_state_dict(q.state_dict())
    opt = torch.optim.Adam(q.parameters(), lr=hyper.lr)
    cap = hyper.buffer_size
    buf = {"obs": np.zeros((cap, rows, d), np.float32), "next_obs": np.zeros((cap, rows, d), np.float32),
           "actions": np.zeros((cap, N), np.int64), "rewards": np.zeros(cap, np.float32),
           "terminated": np.zeros(cap, np.float32)}
    size, pos, history = 0, 0, {"step": [], "system_reward": []}
    iterations = max(1, train_budget.steps // hyper.num_envs)
    with torch_threads(1), progress_bar(iterations * hyper.num_envs, name, train_budget.progress) as bar:
        for it in range(iterations):
            with torch.no_grad():
                greedy = q(torch.as_tensor(np.ascontiguousarray(x))).argmax(dim=-1).numpy()
            explore = rng.random(greedy.shape) < hyper.epsilon
            actions = np.where(explore, rng.integers(0, n_actions, greedy.shape), greedy)
            obs, rewards, terms, truncs, infos = venv.step({a: actions[:, i] for i, a in enumerate(agents)})
            done = terms[agents[0]] | truncs[agents[0]]
            # the vector env auto-resets: the observations that ended an episode are in final_obs
            final = {a: infos[a]["final_obs"] if done.any() else obs[a] for a in agents}
            x_next = agent_inputs(final, agents, hyper.input)
            for b in range(hyper.num_envs):
                buf["obs"][pos], buf["next_obs"][pos], buf["actions"][pos] = x[b], x_next[b], actions[b]
                buf["rewards"][pos], buf["terminated"][pos] = rewards[agents[0]][b], float(terms[agents[0]][b])
                pos, size = (pos + 1) % cap, min(size + 1, cap)
            x = agent_inputs(obs, agents, hyper.input)
            history["step"].append((it + 1) * hyper.num_envs)
            history["system_reward"].append(float(np.mean(rewards[agents[0]])))
            record_episodes(history, infos[agents[0]])
            if size >= max(hyper.warmup, hyper.batch_size):
                idx = rng.integers(0, size, hyper.batch_size)
                batch = {k: torch.as_tensor(v[idx]) for k, v in buf.items()}
                loss = td_loss(q, target, batch, hyper.gamma, hyper.mixing)
                opt.zero_grad()
                loss.backward()
                opt.step()
                polyak_update(q.parameters(), target.parameters(), hyper.tau)
            bar.update(hyper.num_envs)
    dims = {"obs_dim": d, "n_agents": N, "n_actions": n_actions}
    return UsersQPolicy(name, q, hyper, env_kwargs, dims, history)
