"""MADDPG and MAMaxEnt for server agents that allocate rows of a joint action (DJTCRA Algorithm 1).

The shape the DJTCRA paper gives (Sec. V-C to V-E): each agent h outputs a
``(U, H)`` array of per-row softmax probabilities (eq. 20) from its
observation; row u of the *joint* action (eq. 22) is taken from the agent that
owns user u (its connected ES), so the joint action has the shape of one
agent's. Training is centralised:

* per agent, twin critics Q_h^1, Q_h^2 (:class:`~baselines.learners.nets.CentralisedCritic`)
  on the system state and the joint action, target actors and critics;
* critic targets R + gamma (min_i Q'_h^i(S', A') + omega_h H'_h) (eq. 31,
  Algorithm 1 lines 6-12), with A' the joint action of the target actors and
  H'_h the entropy of target actor h's rows of its own users (eq. 32);
* every ``actor_delay`` (lambda = 15) steps each actor ascends
  min_i Q_h^i(S, A~) + omega_h H~_h (eq. 33; the other agents' rows detached),
  then the soft updates target <- mu target + (1 - mu) online (line 20);
* every ``entropy_delay`` (lambda_S = 5) steps log omega_h descends
  -log omega_h * sum_u(sum_h' p log p - 1) (eq. 34 with target entropy -1 per user,
  SAC's temperature rule); ``entropy=False`` is MADDPG (omega = 0).

Exploration while collecting: Gaussian noise on the probabilities before the
env's argmax (the paper does not say; MADDPG's usual choice). The critics see
the joint probabilities, as eq. (22) stores them (``critic_action="probs"``),
or the one-hot of the executed argmax of eq. (21) with straight-through
gradients to the actors (``"executed"``): the reward depends on the argmax
only, and a critic on one-hot rows learns the per-user effect of each ES from
far fewer samples than one on noisy probabilities. ``reward_scale``
multiplies the reward the critics learn (system QoE / |U| keeps Q near 1). The env
interface is a vector env in ``servers`` mode plus ``owner(state) -> (B, U)``
(the agent index of each row) and ``observe(state, owner, h)`` (agent h's
observation), so another paper's server agents can reuse it.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from pydantic import Field
from torch import nn

from baselines.learners.common import HyperParams, progress_bar, seed_everything, split_budget, torch_threads
from baselines.learners.common import polyak_update
from baselines.learners.nets import CentralisedCritic, mlp


def record_episodes(history: dict, info: dict) -> None:
    """Append the mean of each episode metric over the instances whose episode just ended."""
    ended = info.get("_episode")
    if ended is None or not np.any(ended):
        return
    for key, values in info["episode"].items():
        history.setdefault(key, []).append(float(np.mean(np.asarray(values)[ended])))


class MaddpgHyper(HyperParams):
    hidden: tuple[int, ...] = Field((256, 256, 256), description="hidden sizes (Table IV)")
    lr: float = Field(1e-4, gt=0, le=1.0, description="actor and critic learning rate (Table IV)")
    omega_lr: float = Field(1e-3, gt=0, le=1.0, description="learning rate of omega (Table IV)")
    omega_init: float = Field(1.0, gt=0, le=1e3, description="initial entropy coefficient")
    gamma: float = Field(0.1, ge=0, lt=1.0, description="discount (Fig. 6: 0.1)")
    mu: float = Field(0.995, ge=0, lt=1.0, description="soft update coefficient (Table IV)")
    actor_delay: int = Field(15, ge=1, description="lambda (Table IV)")
    entropy_delay: int = Field(5, ge=1, description="lambda_S (Table IV)")
    batch_size: int = Field(64, ge=1, le=4096)
    buffer_size: int = Field(20000, ge=1, le=10_000_000)
    warmup: int = Field(200, ge=0, description="transitions before training starts (T_c)")
    noise: float = Field(0.1, ge=0, le=1.0, description="exploration noise std on the probabilities")
    critic_action: str = Field("probs", pattern="^(probs|executed)$", description=(
        "what the critics see of the joint action: the probabilities (eq. 22), or the one-hot of the executed "
        "argmax (eq. 21) with straight-through gradients to the actor"))
    reward_scale: float = Field(1.0, gt=0, le=1e6, description="the critics learn reward x reward_scale (the logged reward is unscaled)")
    num_envs: int = Field(4, ge=1, le=4096, description="vector env batch")
    entropy: bool = Field(True, description="MAMaxEnt (True) or MADDPG (False)")


class RowSoftmaxActor(nn.Module):
    """``obs (U, d) -> (U, H)`` row-softmax probabilities through an MLP on the flattened table (Fig. 3)."""

    def __init__(self, n_rows: int, obs_cols: int, n_choices: int, hidden):
        super().__init__()
        self.shape = (n_rows, n_choices)
        self.net = mlp([n_rows * obs_cols, *hidden, n_rows * n_choices])

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        logits = self.net(obs.flatten(-2)).unflatten(-1, self.shape)
        return torch.softmax(logits, dim=-1)


def row_entropy(probs: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Eq. (32): ``-sum_{u in rows} sum_h p log p`` per batch entry (``rows`` (B, U) 0/1)."""
    return -((probs * torch.log(probs.clamp_min(1e-12))).sum(-1) * rows).sum(-1)


def one_hot_rows(probs: torch.Tensor) -> torch.Tensor:
    """The executed action of eq. (21) as a one-hot per row (ties: lowest index, as the env)."""
    return torch.nn.functional.one_hot(probs.argmax(-1), probs.shape[-1]).to(probs.dtype)


def straight_through(probs: torch.Tensor) -> torch.Tensor:
    """Forward: the one-hot argmax; backward: the gradient of the probabilities."""
    return one_hot_rows(probs) + probs - probs.detach()


def joint(actions: list[torch.Tensor], owner: torch.Tensor) -> torch.Tensor:
    """Row u of the joint action from agent ``owner[u]`` (eq. 22): ``(B, U, H)``."""
    out = torch.zeros_like(actions[0])
    for h, a in enumerate(actions):
        out = out + a * (owner == h).unsqueeze(-1)
    return out


class MaddpgLearner:
    """Networks, replay and the update rules of Algorithm 1 (module docstring)."""

    def __init__(self, n_agents, n_rows, obs_cols, n_choices, hyper: MaddpgHyper, observe: Callable, rng):
        self.h, self.rng, self.observe, self.n_agents = hyper, rng, observe, n_agents
        make_actor = lambda: RowSoftmaxActor(n_rows, obs_cols, n_choices, hyper.hidden)  # noqa: E731
        make_critic = lambda: CentralisedCritic(n_rows * obs_cols, [n_rows * n_choices], hyper.hidden)  # noqa: E731
        self.actors = [make_actor() for _ in range(n_agents)]
        self.critics = [[make_critic(), make_critic()] for _ in range(n_agents)]
        self.actors_t = [make_actor() for _ in range(n_agents)]
        self.critics_t = [[make_critic(), make_critic()] for _ in range(n_agents)]
        for src, dst in zip(self.actors + sum(self.critics, []), self.actors_t + sum(self.critics_t, [])):
            dst.load_state_dict(src.state_dict())
        self.actor_opt = [torch.optim.Adam(a.parameters(), lr=hyper.lr) for a in self.actors]
        self.critic_opt = [torch.optim.Adam([*c[0].parameters(), *c[1].parameters()], lr=hyper.lr) for c in self.critics]
        self.log_omega = torch.full((n_agents,), float(np.log(hyper.omega_init)), requires_grad=True)
        self.omega_opt = torch.optim.Adam([self.log_omega], lr=hyper.omega_lr)
        self.updates = 0

    def act(self, state: np.ndarray, owner: np.ndarray, noise: float = 0.0) -> list[np.ndarray]:
        """Each agent's ``(B, U, H)`` probabilities (plus clipped noise) for the env."""
        s = torch.as_tensor(state)
        with torch.no_grad():
            out = [a(torch.as_tensor(self.observe(s, torch.as_tensor(owner), h))).numpy()
                   for h, a in enumerate(self.actors)]
        if noise > 0:
            out = [np.clip(p + self.rng.normal(0.0, noise, p.shape), 0.0, 1.0).astype(np.float32) for p in out]
        return out

    def _seen(self, probs: torch.Tensor) -> torch.Tensor:
        return straight_through(probs) if self.h.critic_action == "executed" else probs

    def _omega(self) -> torch.Tensor:
        return self.log_omega.exp().detach() if self.h.entropy else torch.zeros(self.n_agents)

    def update(self, batch: dict) -> dict:
        h, gamma = self.h, self.h.gamma
        S, O, A, R, S2, O2, live = (batch[k] for k in ("state", "owner", "action", "reward", "next_state",
                                                       "next_owner", "live"))
        flat = lambda t: t.flatten(-2)  # noqa: E731
        omega = self._omega()
        with torch.no_grad():
            nxt = [a(self.observe(S2, O2, k)) for k, a in enumerate(self.actors_t)]
            A2 = flat(joint([self._seen(p) for p in nxt], O2))
        logs = {}
        for k in range(self.n_agents):  # lines 5-12
            with torch.no_grad():
                q_next = torch.min(*(c(flat(S2), A2) for c in self.critics_t[k]))[:, 0]
                y = R + gamma * live * (q_next + omega[k] * row_entropy(nxt[k], (O2 == k).float()))
            loss = sum(((c(flat(S), flat(A))[:, 0] - y) ** 2).mean() for c in self.critics[k])
            self.critic_opt[k].zero_grad()
            loss.backward()
            self.critic_opt[k].step()
            logs["critic_loss"] = loss.item() / 2
        self.updates += 1
        if self.updates % h.actor_delay == 0:  # lines 13-20
            for k in range(self.n_agents):
                outs = [a(self.observe(S, O, j)) if j == k else a(self.observe(S, O, j)).detach()
                        for j, a in enumerate(self.actors)]
                seen = flat(joint([self._seen(p) for p in outs], O))
                q = torch.min(*(c(flat(S), seen) for c in self.critics[k]))[:, 0]
                objective = q + omega[k] * row_entropy(outs[k], (O == k).float())
                self.actor_opt[k].zero_grad()
                (-objective.mean()).backward()
                self.actor_opt[k].step()
            online = self.actors + sum(self.critics, [])
            target = self.actors_t + sum(self.critics_t, [])
            for src, dst in zip(online, target):
                polyak_update(src.parameters(), dst.parameters(), 1.0 - h.mu)
        if h.entropy and self.updates % h.entropy_delay == 0:  # lines 21-25
            with torch.no_grad():
                gap = torch.stack([
                    -row_entropy(a(self.observe(S, O, k)), (O == k).float()) - (O == k).float().sum(-1)
                    for k, a in enumerate(self.actors)
                ], dim=-1)  # sum_u (sum p log p - 1)
            loss = -(self.log_omega * gap).mean()
            self.omega_opt.zero_grad()
            loss.backward()
            self.omega_opt.step()
        return logs


def train(venv, owner: Callable, observe: Callable, seed: int, budget: dict, name: str = "mamaxent"):
    """Run Algorithm 1-2 on a ``servers``-mode vector env; returns ``(learner, hyper, history)``."""
    train_budget, hyper = split_budget(budget, MaddpgHyper, f"{name} budget")
    rng = seed_everything(seed)
    agents = list(venv.possible_agents)
    venv.reset(seed=seed)
    state = venv.state()
    U, d = state.shape[1:]
    H = venv.single_action_space(agents[0]).shape[-1]
    learner = MaddpgLearner(len(agents), U, d, H, hyper, observe, rng)
    cap = hyper.buffer_size
    buf = {"state": np.zeros((cap, U, d), np.float32), "next_state": np.zeros((cap, U, d), np.float32),
           "owner": np.zeros((cap, U), np.int64), "next_owner": np.zeros((cap, U), np.int64),
           "action": np.zeros((cap, U, H), np.float32), "reward": np.zeros(cap, np.float32),
           "live": np.zeros(cap, np.float32)}
    size, pos, history = 0, 0, {"step": [], "system_reward": []}
    iterations = max(1, train_budget.steps // hyper.num_envs)
    with torch_threads(1), progress_bar(iterations * hyper.num_envs, name, train_budget.progress) as bar:
        for it in range(iterations):
            own = owner(state)
            probs = learner.act(state, own, hyper.noise)
            _, rewards, terms, truncs, infos = venv.step({a: probs[k] for k, a in enumerate(agents)})
            done = terms[agents[0]] | truncs[agents[0]]
            next_state = venv.state()
            if done.any():  # the rows of the final observations are the final state's
                final = sum(np.asarray(infos[a]["final_obs"], np.float32) for a in agents)
                final_state = np.where(done[:, None, None], final, next_state)
            else:
                final_state = next_state
            action = joint([torch.as_tensor(p) for p in probs], torch.as_tensor(own))
            action = (one_hot_rows(action) if hyper.critic_action == "executed" else action).numpy()
            for b in range(hyper.num_envs):
                buf["state"][pos], buf["next_state"][pos], buf["owner"][pos] = state[b], final_state[b], own[b]
                buf["next_owner"][pos], buf["action"][pos] = owner(final_state[b : b + 1])[0], action[b]
                buf["reward"][pos] = rewards[agents[0]][b] * hyper.reward_scale
                buf["live"][pos] = 1.0 - float(terms[agents[0]][b])
                pos, size = (pos + 1) % cap, min(size + 1, cap)
            state = next_state
            history["step"].append((it + 1) * hyper.num_envs)
            history["system_reward"].append(float(np.mean(rewards[agents[0]])))
            record_episodes(history, infos[agents[0]])
            if size >= max(hyper.warmup, hyper.batch_size):
                idx = rng.integers(0, size, hyper.batch_size)
                learner.update({k: torch.as_tensor(v[idx]) for k, v in buf.items()})
            bar.update(hyper.num_envs)
    history["omega"] = learner._omega().tolist()
    return learner, hyper, history
