"""Federated training around per-agent learners: FedAvg (MCF-TD3) and PFR-OA's personalised rounds.

PFR-OA (Sec. IV-B, Algorithms 1-2): every ``f_p`` episodes each agent uploads
its networks; the server sorts them by training loss, picks V participants by
partial-greedy selection (each pick: with probability epsilon the lowest-loss
model not yet picked, else a random one not yet picked), averages them
(eq. 25), and every agent soft-merges the average into its own networks,
theta_i <- f_q theta_f + (1 - f_q) theta_i (Alg. 1 line 6). Between rounds the
agents train with the proximal term lambda/2 ||theta - theta_f||^2 (eq. 23-24)
towards the last average, with lambda adapted per agent: raised when the
agent's training loss rose since the last round, lowered when it fell (the
paper's Sec. IV-B states the direction only; the factor is ``lambda_rate``).
MCF-TD3 is the special case V = m, f_q = 1, lambda = 0 (plain FedAvg).

The wrapper knows nothing of the algorithm: a member exposes its federated
tensors by name, loads them back, reports a training loss, accepts a proximal
anchor and trains for some steps (:class:`Member`); :class:`SB3Member` adapts
Stable-Baselines3 off-policy models (actor and critics).
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Protocol, Sequence

import numpy as np
import torch


class Member(Protocol):
    def parameters(self) -> dict[str, torch.Tensor]:
        """The federated tensors by name (detached copies)."""

    def load_parameters(self, params: Mapping[str, torch.Tensor]) -> None: ...

    def training_loss(self) -> float:
        """The loss the server sorts by (lower is better)."""

    def set_proximal(self, anchor: Mapping[str, torch.Tensor] | None, lam: float) -> None: ...

    def learn(self, steps: int) -> None: ...


def fedavg(params: Sequence[Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Eq. (25): the element-wise mean of the members' tensors."""
    if not params:
        raise ValueError("fedavg needs at least one member")
    return {key: torch.stack([p[key] for p in params]).mean(dim=0) for key in params[0]}


def soft_merge(local: Mapping[str, torch.Tensor], federated: Mapping[str, torch.Tensor], f_q: float) -> dict:
    """Alg. 1 line 6: f_q theta_f + (1 - f_q) theta_i."""
    return {key: f_q * federated[key] + (1.0 - f_q) * local[key] for key in local}


def partial_greedy_select(losses: Sequence[float], V: int, epsilon: float, rng: np.random.Generator) -> list[int]:
    """Alg. 2 lines 6-13: V distinct participants; each pick greedy (lowest loss left) with prob. epsilon."""
    m = len(losses)
    if not 1 <= V <= m:
        raise ValueError(f"V must lie in [1, m={m}], got {V}")
    order = [int(i) for i in np.argsort(np.asarray(losses, dtype=float), kind="stable")]
    chosen: list[int] = []
    for _ in range(V):
        left = [i for i in order if i not in chosen]
        greedy = rng.random() < epsilon
        chosen.append(left[0] if greedy else left[int(rng.integers(len(left)))])
    return chosen


def adapt_lambda(lam: float, loss: float, previous: float | None, rate: float, lo: float, hi: float) -> float:
    """Raise lambda by (1 + rate) when the loss rose since the last round, lower it by (1 - rate) when it fell."""
    if previous is None or not np.isfinite(loss) or not np.isfinite(previous) or loss == previous:
        return lam
    return float(np.clip(lam * (1.0 + rate) if loss > previous else lam * (1.0 - rate), lo, hi))


@dataclasses.dataclass(frozen=True)
class FederatedConfig:
    """One federation scheme; the defaults are PFR-OA's (Sec. V-A)."""

    participants: int | None = None  # V (None: all m)
    epsilon: float = 0.9  # partial-greedy probability
    f_q: float = 0.3  # soft-merge weight
    f_p: int = 50  # episodes between rounds
    lambda_init: float = 0.01  # proximal coefficient at the first round (0 disables the term)
    lambda_rate: float = 0.1
    lambda_bounds: tuple[float, float] = (1e-4, 1.0)
    adaptive: bool = True

    def __post_init__(self):
        if not 0.0 <= self.f_q <= 1.0:
            raise ValueError(f"f_q must lie in [0, 1], got {self.f_q}")
        if not 0.0 <= self.epsilon <= 1.0:
            raise ValueError(f"epsilon must lie in [0, 1], got {self.epsilon}")
        if self.f_p < 1:
            raise ValueError(f"f_p must be at least 1 episode, got {self.f_p}")
        if self.lambda_init < 0:
            raise ValueError(f"lambda_init must be non-negative, got {self.lambda_init}")

    @classmethod
    def fedavg(cls, f_p: int = 50) -> "FederatedConfig":
        """MCF-TD3: all members, full replacement, no proximal term."""
        return cls(participants=None, epsilon=1.0, f_q=1.0, f_p=f_p, lambda_init=0.0, adaptive=False)


class Federation:
    """Runs rounds over members (module docstring); ``rng`` drives the random picks."""

    def __init__(self, members: Sequence[Member], config: FederatedConfig, seed: int | None = None):
        self.members = list(members)
        self.config = config
        self.rng = np.random.default_rng(seed)
        self.lambdas = [config.lambda_init] * len(self.members)
        self.previous_losses: list[float | None] = [None] * len(self.members)
        self.history: list[dict] = []

    def aggregate(self) -> dict:
        """One round (Alg. 2): select, average, soft-merge into every member, set proximal anchors."""
        cfg = self.config
        m = len(self.members)
        losses = [float(mem.training_loss()) for mem in self.members]
        chosen = partial_greedy_select(losses, cfg.participants or m, cfg.epsilon, self.rng)
        federated = fedavg([self.members[i].parameters() for i in chosen])
        for i, member in enumerate(self.members):
            member.load_parameters(soft_merge(member.parameters(), federated, cfg.f_q))
            if cfg.adaptive:
                self.lambdas[i] = adapt_lambda(
                    self.lambdas[i], losses[i], self.previous_losses[i], cfg.lambda_rate, *cfg.lambda_bounds
                )
            member.set_proximal(federated if self.lambdas[i] > 0 else None, self.lambdas[i])
        self.previous_losses = losses
        record = {"chosen": chosen, "losses": losses, "lambdas": list(self.lambdas)}
        self.history.append(record)
        return record

    def train(self, rounds: int, steps_per_round: int) -> None:
        """``rounds`` x (every member learns ``steps_per_round`` steps, then one aggregation)."""
        for _ in range(rounds):
            for member in self.members:
                member.learn(steps_per_round)
            self.aggregate()


class SB3Member:
    """An SB3 actor-critic model (TD3, DDPG or :class:`ProximalTD3`) as a federation member.

    The federated tensors are the actor's and the critics' (twin critics
    included); targets follow through their own Polyak updates.
    """

    def __init__(self, model):
        self.model = model

    def _modules(self) -> dict:
        return {"actor": self.model.actor, "critic": self.model.critic}

    def parameters(self) -> dict[str, torch.Tensor]:
        out = {}
        for prefix, module in self._modules().items():
            for name, tensor in module.state_dict().items():
                out[f"{prefix}.{name}"] = tensor.detach().clone().float()
        return out

    def load_parameters(self, params) -> None:
        for prefix, module in self._modules().items():
            state = module.state_dict()
            module.load_state_dict({name: params[f"{prefix}.{name}"].to(state[name].dtype) for name in state})

    def training_loss(self) -> float:
        return float(getattr(self.model, "last_critic_loss", np.inf))

    def set_proximal(self, anchor, lam: float) -> None:
        if hasattr(self.model, "set_proximal"):
            self.model.set_proximal(anchor, lam)

    def learn(self, steps: int) -> None:
        self.model.learn(steps, reset_num_timesteps=False)
