"""DROO-style learner (an extra baseline, not in the OJRS paper): a DNN proposes, an order-preserving
quantiser spreads K candidates, P2.1 picks the best, and the DNN learns from the winners.

DROO (Huang, Bi, Zhang, IEEE TMC 2020) does this for binary offloading; here each
UE has M + 1 targets. The DNN maps the observation (CQI / ``cqi_scale`` and
the weights) to per-UE probabilities; candidate 0 is the per-UE argmax, and
candidate k (k = 1..K-1) moves the k least confident UEs (smallest gap
between their two most likely targets) to their second choices, which keeps
the order of the DNN's confidences as DROO's threshold quantiser does. The K candidates are
scored in one batched P2.1 call (built from the observation and the system
constants); the best enters a FIFO replay; every ``train_interval`` slots one
Adam step of cross-entropy on a uniform batch.
"""

from __future__ import annotations

import numpy as np
import torch
from pydantic import Field

from baselines.large_scale.ojrs.learner import _problem
from baselines.learners.common import (
    HyperParams,
    IntTuple,
    LearnedPolicy,
    progress_bar,
    resolve_seed,
    seed_everything,
    split_budget,
    torch_threads,
)
from baselines.learners.nets import mlp
from mec_marl.solvers import multi_mec

ENV_OPTIONS = {"agent_mode": "scheduler", "observation": "full"}


class DrooHyper(HyperParams):
    candidates: int = Field(0, ge=0, description="K quantised candidates per slot (0 = N)")
    hidden: IntTuple = Field((120, 80), description="DNN hidden layers")
    lr: float = Field(1e-3, gt=0)
    batch_size: int = Field(128, ge=1)
    buffer_size: int = Field(1024, ge=1)
    train_interval: int = Field(10, ge=1)
    cqi_scale: float = Field(16.0, gt=0)


def order_preserving_candidates(probs: np.ndarray, k: int) -> np.ndarray:
    """``(k, N)`` decisions from per-UE probabilities ``(N, M+1)`` (module docstring)."""
    order = np.argsort(-probs, axis=-1, kind="stable")
    best, second = order[:, 0], order[:, 1]
    gap = np.take_along_axis(probs, best[:, None], -1)[:, 0] - np.take_along_axis(probs, second[:, None], -1)[:, 0]
    least_sure = np.argsort(gap, kind="stable")[: max(k - 1, 0)]
    cands = np.repeat(best[None], 1 + len(least_sure), axis=0)
    flip = np.tril(np.ones((len(least_sure), len(least_sure)), dtype=bool))  # row k-1: the k least sure UEs
    rows = cands[1:]
    rows[:, least_sure] = np.where(flip, second[least_sure], best[least_sure])
    return cands


class DrooPolicy(LearnedPolicy):
    name = "ls_droo"
    env_options = ENV_OPTIONS

    def __init__(self, net, hyper: DrooHyper, n: int, m: int, history: dict | None = None):
        self.net, self.hyper, self.n, self.m = net, hyper, n, m
        self.history = history or {}

    def _x(self, obs):
        obs = np.asarray(obs, dtype=np.float32).copy()
        obs[..., : self.n * self.m] /= self.hyper.cqi_scale
        return torch.as_tensor(obs)

    def predict(self, obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            logits = self.net(self._x(obs)).reshape(np.shape(obs)[:-1] + (self.n, self.m + 1))
        return logits.argmax(-1).numpy()

    def checkpoint_state(self) -> dict:
        return {"hyper": self.hyper.as_dict(), "n": self.n, "m": self.m, "weights": self.net.state_dict(),
                "history": self.history}

    @classmethod
    def from_checkpoint_state(cls, state: dict) -> "DrooPolicy":
        hyper = DrooHyper(**state["hyper"])
        n, m = state["n"], state["m"]
        net = mlp([n * m + n, *hyper.hidden, n * (m + 1)])
        net.load_state_dict(state["weights"])
        return cls(net, hyper, n, m, state.get("history"))


def train(env, hyper: DrooHyper, steps: int, seed: int, progress: bool | None = None) -> DrooPolicy:
    config = env.unwrapped.config
    n, m = config.n_ues, config.n_mecs
    k = hyper.candidates or n
    rng = seed_everything(seed)
    net = mlp([n * m + n, *hyper.hidden, n * (m + 1)])
    policy = DrooPolicy(net, hyper, n, m, {"reward": [], "objective": []})
    optimiser = torch.optim.Adam(net.parameters(), lr=hyper.lr)
    xs = np.zeros((hyper.buffer_size, n * m + n), dtype=np.float32)
    acts = np.zeros((hyper.buffer_size, n), dtype=np.int64)
    stored = 0
    obs = env.reset(seed=seed)[0]["scheduler"]
    bar = progress_bar(steps, "ls_droo", progress)
    with torch_threads(1):
        for t in range(1, steps + 1):
            x = policy._x(obs)
            with torch.no_grad():
                probs = torch.softmax(net(x).view(n, m + 1), -1).numpy()
            cands = order_preserving_candidates(probs, k)
            problem = _problem(obs, config)
            values = multi_mec.p21_objective(problem, cands, fallback=config.outage_fallback)
            xs[stored % hyper.buffer_size], acts[stored % hyper.buffer_size] = x.numpy(), cands[int(np.argmin(values))]
            stored += 1
            o, _, terms, truncs, infos = env.step({"scheduler": cands[0]})
            policy.history["objective"].append(float(infos["scheduler"]["objective"]))
            policy.history["reward"].append(1.0 / policy.history["objective"][-1])
            obs = env.reset()[0]["scheduler"] if (terms["scheduler"] or truncs["scheduler"]) else o["scheduler"]
            bar.update(1)
            if t % hyper.train_interval == 0:
                index = rng.integers(0, min(stored, hyper.buffer_size), hyper.batch_size)
                logits = net(torch.as_tensor(xs[index])).view(-1, m + 1)
                loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(acts[index]).view(-1))
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
    bar.close()
    return policy


def build(env_id: str, env_kwargs: dict, seed: int | None, budget: dict) -> DrooPolicy:
    """Registry builder: ``budget['steps']`` slots; other keys: :class:`DrooHyper`."""
    import mec_marl

    train_budget, hyper = split_budget(budget, DrooHyper, "ls_droo budget")
    env = mec_marl.make(env_id, **{**env_kwargs, **ENV_OPTIONS})
    return train(env, hyper, train_budget.steps, resolve_seed(seed), train_budget.progress)


def load(path):
    return DrooPolicy.load(path, method="ls_droo")
