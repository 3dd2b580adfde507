"""DRLH(N_A): the DRLH paper's hybrid of a model-free actor and a model-based critic (Sec. IV).

Each slot the actor DNN maps the observed state Xi = (channels, Q^L, Q^E, Z^L,
Z^E) to a relaxed association in [0, 1]^(2I) (sigmoid outputs); the quantiser
turns it into N_A feasible candidates (the N_A most likely associations under
the relaxed output, the first being the paper's top-chi action,
:func:`~mec_marl.solvers.quantize_topchi.nearest_candidates`); the critic
solves the allocation for each candidate (the env's own solver, P3.1-P3.4 by
default) and the best is executed (eq. 23; ``critic="direct"`` solves each candidate, the paper's J*(rho), which
for N_A <= 64 is cheaper than building the per-UE table). The pair (Xi, best rho) enters a
replay memory, and every ``train_interval`` slots the actor takes one Adam
step on the cross-entropy (eq. 24) of a sampled batch. Learning is online,
as in the paper: running the policy for 15000 slots is its training.

Hyper-parameters not in the paper follow DROO (Huang, Bi, Zhang, 2020):
hidden layers (120, 80), memory 1024, batch 128; but one training step every
slot, where DROO trains every 10 frames: with 10, DRLH(8) never stabilised
the queues of Scenario II within 15000 slots and DRLH(64) stayed ~20% above
exhaustive search on power; with 1, DRLH(64) reached exhaustive search's
levels within 6000 slots. Inputs are normalised (channel features / 10,
log1p of the queues). ``decision_cpu_seconds`` records the CPU time of each
decision (actor, quantiser, critic), without the training step.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from baselines.learners.common import torch_threads
from baselines.semantic.heuristics import candidate_costs
from mec_marl.envs import semantic
from mec_marl.solvers.quantize_topchi import nearest_candidates


def features(config, observation: np.ndarray) -> np.ndarray:
    """Controller observation ``(..., 6I)`` -> normalised actor input."""
    n = config.n_ues
    obs = np.asarray(observation, dtype=np.float32)
    return np.concatenate([obs[..., : 2 * n] / 10.0, np.log1p(np.maximum(obs[..., 2 * n :], 0.0))], axis=-1)


def controller_observation(env, observations: dict) -> np.ndarray:
    """The ``controller`` vector in either agent mode (users' rows re-assembled)."""
    if semantic.CONTROLLER in observations:
        return observations[semantic.CONTROLLER]
    config = env.unwrapped.config
    return np.stack([observations[f"ue_{i}"] for i in range(config.n_ues)], axis=-1).reshape(-1)


class DrlhPolicy:
    """DRLH(N_A) with online training (module docstring)."""

    def __init__(
        self,
        n_candidates: int = 64,
        learning_rate: float = 1e-3,
        hidden: tuple[int, ...] = (120, 80),
        memory_size: int = 1024,
        batch_size: int = 128,
        train_interval: int = 1,
        learn: bool = True,
        critic: str = "direct",
        seed: int = 0,
        name: str | None = None,
    ):
        if n_candidates < 1:
            raise ValueError(f"n_candidates must be >= 1, got {n_candidates}")
        self.n_candidates = int(n_candidates)
        self.learning_rate, self.hidden = learning_rate, tuple(hidden)
        self.memory_size, self.batch_size, self.train_interval = memory_size, batch_size, train_interval
        self.learn, self.critic, self.seed = learn, critic, seed
        self.name = name or f"drlh_{n_candidates}"
        self.net: nn.Module | None = None
        self.losses: list[float] = []
        self.decision_cpu_seconds: list[float] = []

    # ------------------------------------------------------------ network
    def _build(self, n_ues: int) -> None:
        torch.manual_seed(self.seed)
        layers, width = [], 6 * n_ues
        for h in self.hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers += [nn.Linear(width, 2 * n_ues), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=self.learning_rate)
        self.memory_x = np.zeros((self.memory_size, 6 * n_ues), np.float32)
        self.memory_y = np.zeros((self.memory_size, 2 * n_ues), np.float32)
        self.stored = 0
        self._n_ues = n_ues
        self._rng = np.random.default_rng(self.seed)

    def reset(self, env, seed=None):
        n = env.unwrapped.config.n_ues
        if self.net is None or self._n_ues != n:
            self._build(n)
        if seed is not None:
            self._rng = np.random.default_rng([self.seed, seed])

    def relaxed(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.net(torch.as_tensor(x)).numpy()

    # ------------------------------------------------------------- acting
    def act(self, observations, env):
        if torch.get_num_threads() == 1:
            return self._act(observations, env)
        with torch_threads(1):  # a small MLP: more threads only contend (resizing the pool per call costs ms)
            return self._act(observations, env)

    def _act(self, observations, env):
        config = env.unwrapped.config
        start = time.process_time()
        x = features(config, controller_observation(env, observations))
        out = self.relaxed(x)
        n = config.n_ues
        cand_mec, cand_mcc = nearest_candidates(out[:n], out[n:], config.chi_mec, config.chi_mcc, self.n_candidates)
        best = int(np.argmin(candidate_costs(env, cand_mec, cand_mcc, self.critic)))  # eq. 23
        rho_mec, rho_mcc = cand_mec[best], cand_mcc[best]
        self.decision_cpu_seconds.append(time.process_time() - start)
        if self.learn:
            self._remember(x, np.concatenate([rho_mec, rho_mcc]).astype(np.float32))
        return semantic.encode_action(config, rho_mec, rho_mcc)

    def _remember(self, x, y) -> None:
        slot = self.stored % self.memory_size
        self.memory_x[slot], self.memory_y[slot] = x, y
        self.stored += 1
        if self.stored >= self.batch_size and self.stored % self.train_interval == 0:
            self._train_step()

    def _train_step(self) -> None:
        filled = min(self.stored, self.memory_size)
        idx = self._rng.choice(filled, self.batch_size, replace=filled < self.batch_size)
        x, y = torch.as_tensor(self.memory_x[idx]), torch.as_tensor(self.memory_y[idx])
        loss = nn.functional.binary_cross_entropy(self.net(x), y)  # eq. 24
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.losses.append(float(loss.detach()))

    # --------------------------------------------------------- checkpoints
    def save(self, path) -> None:
        torch.save(
            {
                "net": self.net.state_dict(),
                "n_ues": self._n_ues,
                "hidden": list(self.hidden),
                "n_candidates": self.n_candidates,
                "name": self.name,
                "critic": self.critic,
            },
            path,
        )

    def load(self, path) -> None:
        data = torch.load(path, weights_only=True)
        if tuple(data["hidden"]) != self.hidden:
            raise ValueError(f"checkpoint {path} has hidden layers {tuple(data['hidden'])}, policy has {self.hidden}")
        self._build(int(data["n_ues"]))
        self.net.load_state_dict(data["net"])


def load(path) -> DrlhPolicy:
    """A saved DRLH policy, frozen (``learn=False``), with its own N_A and name."""
    data = torch.load(path, weights_only=True)
    policy = DrlhPolicy(
        int(data["n_candidates"]), hidden=tuple(data["hidden"]), learn=False, critic=data["critic"], name=data["name"]
    )
    policy.load(path)
    return policy


# Training curves keep one point per this many slots (Fig. 5 averages every 1000 slots).
HISTORY_EVERY = 100


def train(env_kwargs: dict, n_candidates: int, seed: int = 0, steps: int = 15000, **options) -> DrlhPolicy:
    """DRLH's online training (Sec. IV, Table I: 15000 slots): one ``steps``-slot episode.

    Returns the policy frozen for evaluation, with ``history``: per
    :data:`HISTORY_EVERY` slots the mean ``queue_local``, ``queue_edge``,
    ``system_power`` and training ``loss`` (the curves of Fig. 3 and 5).
    """
    import mec_marl

    env = mec_marl.make("semantic_v0", **{**env_kwargs, "max_cycles": int(steps)})
    policy = DrlhPolicy(n_candidates, seed=seed, **options)
    obs, _ = env.reset(seed=seed)
    policy.reset(env, seed=seed)
    keys = ("queue_local", "queue_edge", "system_power")
    window = {k: [] for k in keys}
    history = {k: [] for k in (*keys, "loss", "slot")}
    while env.agents:
        obs, _, _, _, infos = env.step(policy.act(obs, env))
        info = next(iter(infos.values()))
        for k in keys:
            window[k].append(info[k])
        if len(window["queue_local"]) == HISTORY_EVERY or not env.agents:
            for k in keys:
                history[k].append(float(np.mean(window[k])))
                window[k] = []
            history["loss"].append(float(np.mean(policy.losses[-HISTORY_EVERY:])) if policy.losses else float("nan"))
            history["slot"].append(float(env.unwrapped.num_cycles))
    policy.history = history
    policy.learn = False
    return policy
