"""DROO: Deep Reinforcement learning-based Online Offloading (Huang, Bi & Zhang, IEEE TMC 2020).

Per frame (Sec. IV, Alg. 1): a DNN maps the channel gains (times 1e6) to a
relaxed decision in [0, 1]^N; a quantiser (order-preserving, eq. 8-9, or
kNN) turns it into K binary candidates; the critic (the exact (a, tau)
optimum of :mod:`mec_marl.solvers.time_allocation`) scores all K in one
batched call; the best is executed and stored with its channel in a replay
memory; every ``training_interval`` frames the DNN takes one Adam step on a
random batch of the memory (binary cross-entropy against the stored best
decisions). Adaptive K (Sec. IV-D): every ``delta`` frames, K = min(1 + the
largest best-candidate index of the last ``delta`` frames + 1, N).

DROO learns online: the policy keeps learning while it is evaluated
(``learning=True``, as in the paper); ``learning=False`` freezes it.

Hyper-parameters (:class:`DrooHyper`) are those of the paper's original
TensorFlow code: hidden layers (120, 80), ReLU, sigmoid output, weights
N(0, 1/N) and biases 0.1, Adam lr 0.01 with beta1 = 0.09 (one optimiser for
the whole run), batch 128, memory 1024, training interval 10, initial K = N,
delta = 32. The repository's later PyTorch port differs: default
initialisation, weight decay 1e-4 (``weight_decay``), and a new Adam
optimiser at every training step (moments reset); not reproduced here.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import torch
from torch import nn

from baselines.wireless_powered.heuristics import frame_gain, to_actions
from mec_marl.physics.wireless_power import WptSystem
from mec_marl.solvers import quantize
from mec_marl.solvers.time_allocation import best_decision


@dataclasses.dataclass(frozen=True)
class DrooHyper:
    hidden: tuple[int, ...] = (120, 80)
    lr: float = 0.01
    betas: tuple[float, float] = (0.09, 0.999)
    weight_decay: float = 0.0
    init_std: float = 0.0  # N(0, std) weights and 0.1 biases; 0 = 1 / N (the original code's)
    batch_size: int = 128
    memory_size: int = 1024
    training_interval: int = 10
    quantizer: str = "op"  # "op" (order-preserving) or "knn"
    k: int = 0  # initial K; 0 = N
    adaptive_k: bool = True
    delta: int = 32
    input_scale: float = 1e6

    def __post_init__(self):
        if self.quantizer not in ("op", "knn"):
            raise ValueError(f"unknown quantizer {self.quantizer!r}; allowed: 'op', 'knn'")


def _net(n: int, hidden: tuple[int, ...], init_std: float) -> nn.Sequential:
    layers, width = [], n
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    net = nn.Sequential(*layers, nn.Linear(width, n), nn.Sigmoid())
    for layer in net:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, init_std or 1.0 / n)
            nn.init.constant_(layer.bias, 0.1)
    return net


class Droo:
    """The DROO agent for ``n`` devices; acts through the policy interface or :meth:`decide`."""

    name = "droo"

    def __init__(self, n: int, system: WptSystem, weights, hyper: DrooHyper = DrooHyper(), seed: int = 0):
        self.n, self.system, self.hyper, self.seed = n, system, hyper, seed
        self.name = "droo" if hyper.quantizer == "op" else "droo_knn"  # the registry's method name
        self.weights = np.asarray(weights, dtype=float)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model = _net(n, hyper.hidden, hyper.init_std)
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=hyper.lr, betas=hyper.betas, weight_decay=hyper.weight_decay
        )
        self.rng = np.random.default_rng(seed)
        self.memory_h = np.zeros((hyper.memory_size, n), dtype=np.float32)
        self.memory_x = np.zeros((hyper.memory_size, n), dtype=np.float32)
        self.stored = 0
        self.K = hyper.k or n
        self.frames = 0
        self.best_index: list[int] = []
        self.losses: list[float] = []
        self.learning = True
        self.decision_time_s = 0.0  # summed over decide() calls: DNN + quantiser + critic
        self.history: dict[str, list[float]] = {}  # training curves (filled by :func:`train`)

    # ------------------------------------------------------------- deciding
    def relaxed(self, gain) -> np.ndarray:
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(gain, dtype=np.float32) * self.hyper.input_scale)
            return self.model(x).numpy().astype(float)

    def candidates(self, relaxed) -> np.ndarray:
        if self.hyper.quantizer == "op":
            return quantize.order_preserving(relaxed, self.K)
        return quantize.knn(relaxed, self.K)

    def decide(self, gain) -> tuple[np.ndarray, float]:
        """One frame: (decision ``(N,)`` bool, its Q); stores and trains when learning."""
        start = time.perf_counter()
        gain = np.asarray(gain, dtype=float)
        cand = self.candidates(self.relaxed(gain))
        decision, rate, index = best_decision(self.system, gain, cand, self.weights)
        self.decision_time_s += time.perf_counter() - start
        if self.learning:
            self._remember(gain, decision, int(index))
        return decision, float(rate)

    def _remember(self, gain, decision, index: int) -> None:
        hyper = self.hyper
        slot = self.stored % hyper.memory_size
        self.memory_h[slot] = gain * hyper.input_scale
        self.memory_x[slot] = decision
        self.stored += 1
        self.frames += 1
        self.best_index.append(index)
        if self.stored % hyper.training_interval == 0:
            self._learn()
        if hyper.adaptive_k and self.frames % hyper.delta == 0:
            self.K = min(max(self.best_index[-hyper.delta :]) + 2, self.n)
            self.best_index = self.best_index[-hyper.delta :]

    def _learn(self) -> None:
        filled = min(self.stored, self.hyper.memory_size)
        idx = self.rng.integers(0, filled, size=self.hyper.batch_size)
        h = torch.as_tensor(self.memory_h[idx])
        x = torch.as_tensor(self.memory_x[idx])
        self.model.train()
        self.optimizer.zero_grad()
        loss = nn.functional.binary_cross_entropy(self.model(h), x)
        loss.backward()
        self.optimizer.step()
        self.model.eval()
        self.losses.append(float(loss.detach()))

    # ------------------------------------------------------ policy interface
    def reset(self, env, seed=None) -> None:
        cfg = env.unwrapped.config
        if cfg.n_devices != self.n:
            raise ValueError(f"DROO was built for {self.n} devices, the env has {cfg.n_devices}")

    def act(self, observations, env) -> dict:
        decision, _ = self.decide(frame_gain(env))
        return to_actions(decision, env)

    # ----------------------------------------------------------- checkpoints
    def save(self, path: str) -> None:
        torch.save(
            {
                "method": "droo",
                "name": self.name,
                "n": self.n,
                "system": dataclasses.asdict(self.system),
                "weights": self.weights.tolist(),
                "hyper": dataclasses.asdict(self.hyper),
                "seed": self.seed,
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "memory_h": torch.as_tensor(self.memory_h),
                "memory_x": torch.as_tensor(self.memory_x),
                "stored": self.stored,
                "K": self.K,
                "frames": self.frames,
                "best_index": list(self.best_index),
                "learning": self.learning,
            },
            path,
        )

    @classmethod
    def load(cls, path: str) -> "Droo":
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        if ckpt.get("method") != "droo":
            raise ValueError(f"{path}: not a DROO checkpoint")
        hyper = ckpt["hyper"]
        hyper = DrooHyper(**{**hyper, "hidden": tuple(hyper["hidden"]), "betas": tuple(hyper["betas"])})
        agent = cls(ckpt["n"], WptSystem(**ckpt["system"]), ckpt["weights"], hyper, ckpt["seed"])
        agent.model.load_state_dict(ckpt["model"])
        agent.optimizer.load_state_dict(ckpt["optimizer"])
        agent.memory_h = ckpt["memory_h"].numpy().copy()
        agent.memory_x = ckpt["memory_x"].numpy().copy()
        agent.stored, agent.K, agent.frames = ckpt["stored"], ckpt["K"], ckpt["frames"]
        agent.best_index = list(ckpt["best_index"])
        agent.learning = bool(ckpt.get("learning", True))
        agent.name = ckpt.get("name", agent.name)
        return agent


def train(env, frames: int, agent: Droo, seed: int | None = None) -> Droo:
    """Run ``agent`` online on ``frames`` frames of ``env`` (a ParallelEnv), resetting at episode ends.

    One torch thread while it runs: the DNN is tiny, and thread hand-offs cost more than the math.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    ratios, rates = [], []
    try:
        obs, _ = env.reset(seed=seed)
        agent.reset(env)
        for _ in range(frames):
            if not env.agents:
                obs, _ = env.reset()
            obs, _, _, _, infos = env.step(agent.act(obs, env))
            info = infos[env.possible_agents[0]]
            ratios.append(info["normalized_rate"])
            rates.append(info["objective"])
    finally:
        torch.set_num_threads(threads)
    agent.history = {
        "objective": _block_means(rates, HISTORY_BLOCK),
        "loss": _block_means(agent.losses, max(1, HISTORY_BLOCK // agent.hyper.training_interval)),
    }
    if any(ratios):  # labelled frames (a replayed DROO file)
        agent.history["normalized_rate"] = _block_means(ratios, HISTORY_BLOCK)
    return agent


HISTORY_BLOCK = 100  # training frames per point of the recorded curves


def _block_means(values, block: int) -> list[float]:
    values = np.asarray(values, dtype=float)
    return [float(values[i : i + block].mean()) for i in range(0, values.size, block)]


def build(env_id: str, env_kwargs: dict, seed: int | None, budget: dict) -> Droo:
    """The registry's builder: DROO trained online for ``budget["steps"]`` frames.

    Training frames: with a ``channel_file``, the file's frames from
    ``budget.get("train_first_frame", 0)`` in order (DROO's protocol replays its
    data file); otherwise i.i.d. frames of the same config. ``budget`` may also
    set any :class:`DrooHyper` field and ``online`` (keep learning while
    evaluated, the paper's setting; default True).
    """
    import mec_marl

    budget = dict(budget)
    steps = int(budget.pop("steps", 2000))
    online = bool(budget.pop("online", True))
    first = int(budget.pop("train_first_frame", 0))
    known = {f.name for f in dataclasses.fields(DrooHyper)}
    unknown = sorted(set(budget) - known)
    if unknown:
        raise ValueError(f"droo: unknown budget key(s) {unknown}; allowed: steps, online, train_first_frame, {sorted(known)}")
    hyper = DrooHyper(**{k: tuple(v) if isinstance(v, list) else v for k, v in budget.items()})
    seed = 0 if seed is None else int(seed)
    # DROO never reads labels: i.i.d. training frames go unlabelled (exhaustive labels cost 2^N solves a frame).
    train_kwargs = dict(env_kwargs, agent_mode="scheduler", exhaustive_labels=False)
    if train_kwargs.get("channel_file"):
        train_kwargs.update(first_frame=first, replay_start="first_frame", max_cycles=steps)
    env = mec_marl.make(env_id, **train_kwargs)
    cfg = env.unwrapped.config
    agent = train(env, steps, Droo(cfg.n_devices, cfg.system, cfg.device_weights, hyper, seed), seed=seed)
    agent.learning = online
    return agent


def load(path: str) -> Droo:
    """The registry's loader."""
    return Droo.load(path)
