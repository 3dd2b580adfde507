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
initialisation (``torch_init``), weight decay 1e-4 (``weight_decay``), and a
new Adam optimiser at every training step (``fresh_optimizer``: moments reset,
so every step moves each weight by about lr); off by default here.
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
    quantizer: str = "op"  # "op" (order-preserving), "knn", or "opn" (LyDROO: op of x and of x + N(0, 1) noise)
    k: int = 0  # initial K; 0 = N
    adaptive_k: bool = True
    delta: int = 32
    input_scale: float = 1e6
    torch_init: bool = False  # PyTorch's default initialisation instead of N(0, init_std) and 0.1
    fresh_optimizer: bool = False  # a new Adam at every training step (moments reset), as the PyTorch ports do

    def __post_init__(self):
        if self.quantizer not in QUANTIZERS:
            raise ValueError(f"unknown quantizer {self.quantizer!r}; allowed: {', '.join(map(repr, QUANTIZERS))}")


QUANTIZERS = ("op", "knn", "opn")


def _net(n_in: int, n: int, hidden: tuple[int, ...], init_std: float, torch_init: bool = False) -> nn.Sequential:
    layers, width = [], n_in
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    net = nn.Sequential(*layers, nn.Linear(width, n), nn.Sigmoid())
    for layer in net if not torch_init else ():
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, init_std or 1.0 / n)
            nn.init.constant_(layer.bias, 0.1)
    return net


class Droo:
    """The DROO agent for ``n`` devices; acts through the policy interface or :meth:`decide`.

    A subclass changes what the DNN sees and how candidates are scored through
    :meth:`features`, :meth:`critic`, :meth:`observed` and ``system_cls`` (LyDROO does).
    """

    name = "droo"
    method = "droo"  # checkpoint tag
    system_cls = WptSystem
    hyper_cls = DrooHyper
    inputs_per_device = 1

    def __init__(self, n: int, system: WptSystem, weights, hyper: DrooHyper = DrooHyper(), seed: int = 0):
        self.n, self.system, self.hyper, self.seed = n, system, hyper, seed
        self.name = "droo" if hyper.quantizer == "op" else "droo_knn"  # the registry's method name
        self.weights = np.asarray(weights, dtype=float)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model = _net(self.inputs_per_device * n, n, hyper.hidden, hyper.init_std, hyper.torch_init)
        self.optimizer = self._adam()
        self.rng = np.random.default_rng(seed)
        self.memory_h = np.zeros((hyper.memory_size, self.inputs_per_device * n), dtype=np.float32)
        self.memory_x = np.zeros((hyper.memory_size, n), dtype=np.float32)
        self.stored = 0
        self.K = hyper.k or n
        self.frames = 0
        self.best_index: list[int] = []
        self.losses: list[float] = []
        self.learning = True
        self.decision_time_s = 0.0  # summed over decide() calls: DNN + quantiser + critic
        self.history: dict[str, list[float]] = {}  # training curves (filled by :func:`train`)

    def _adam(self) -> torch.optim.Adam:
        h = self.hyper
        return torch.optim.Adam(self.model.parameters(), lr=h.lr, betas=h.betas, weight_decay=h.weight_decay)

    @classmethod
    def for_config(cls, cfg, hyper, seed: int) -> "Droo":
        """An untrained agent for an env config."""
        return cls(cfg.n_devices, cfg.system, cfg.device_weights, hyper, seed)

    # ------------------------------------------------------------- deciding
    def features(self, state) -> np.ndarray:
        """The DNN input of one frame's state (DROO: the gains ``(N,)`` times ``input_scale``)."""
        return np.asarray(state, dtype=float) * self.hyper.input_scale

    def critic(self, state, candidates):
        """``(best decision, its value, its index)`` among ``candidates`` (DROO: the (a, tau) optimum)."""
        return best_decision(self.system, state, candidates, self.weights)

    def observed(self, env):
        """The state the agent decides on, read from the env (DROO: the frame's exact gains)."""
        return frame_gain(env)

    def relaxed(self, state) -> np.ndarray:
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(self.features(state), dtype=np.float32))
            return self.model(x).numpy().astype(float)

    def candidates(self, relaxed) -> np.ndarray:
        if self.hyper.quantizer == "op":
            return quantize.order_preserving(relaxed, self.K)
        if self.hyper.quantizer == "opn":  # LyDROO: the K of x, then the K of x + N(0, 1) (LyDROO's memory.py)
            noisy = relaxed + self.rng.standard_normal(np.shape(relaxed))
            return np.concatenate([quantize.order_preserving(relaxed, self.K),
                                   quantize.order_preserving(noisy, self.K)], axis=-2)
        return quantize.knn(relaxed, self.K)

    def decide(self, state) -> tuple[np.ndarray, float]:
        """One frame: (decision ``(N,)`` bool, its critic value); stores and trains when learning."""
        start = time.perf_counter()
        state = np.asarray(state, dtype=float)
        cand = self.candidates(self.relaxed(state))
        decision, value, index = self.critic(state, cand)
        self.decision_time_s += time.perf_counter() - start
        if self.learning:
            self._remember(self.features(state), decision, int(index) % self.K)
        return decision, float(value)

    def _remember(self, features, decision, index: int) -> None:
        hyper = self.hyper
        slot = self.stored % hyper.memory_size
        self.memory_h[slot] = features
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
        if self.hyper.fresh_optimizer:
            self.optimizer = self._adam()
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
            raise ValueError(f"{self.method} was built for {self.n} devices, the env has {cfg.n_devices}")
        if cfg.queues != (self.system_cls is not WptSystem):
            raise ValueError(f"{self.method} needs wireless_powered_v0 with queues={not cfg.queues}")

    def act(self, observations, env) -> dict:
        decision, _ = self.decide(self.observed(env))
        return to_actions(decision, env)

    # ----------------------------------------------------------- checkpoints
    def save(self, path: str) -> None:
        torch.save(
            {
                "method": self.method,
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
        if ckpt.get("method") != cls.method:
            raise ValueError(f"{path}: not a {cls.method} checkpoint (it is {ckpt.get('method')!r})")
        hyper = ckpt["hyper"]
        hyper = cls.hyper_cls(**{**hyper, "hidden": tuple(hyper["hidden"]), "betas": tuple(hyper["betas"])})
        agent = cls(ckpt["n"], cls.system_cls(**ckpt["system"]), ckpt["weights"], hyper, ckpt["seed"])
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
    """The registry's builder: DROO trained online for ``budget["steps"]`` frames (:func:`build_learner`)."""
    return build_learner(Droo, env_id, env_kwargs, seed, budget)


def build_learner(cls: type[Droo], env_id: str, env_kwargs: dict, seed: int | None, budget: dict) -> Droo:
    """A ``cls`` agent (DROO or a subclass) trained online for ``budget["steps"]`` frames.

    Training frames: with a ``channel_file``, the file's frames from
    ``budget.get("train_first_frame", 0)`` in order (DROO's protocol replays its
    data file); otherwise i.i.d. frames of the same config. ``budget`` may also
    set any field of ``cls.hyper_cls`` and ``online`` (keep learning while
    evaluated, the paper's setting; default True).
    """
    import mec_marl

    budget = dict(budget)
    steps = int(budget.pop("steps", 2000))
    online = bool(budget.pop("online", True))
    first = int(budget.pop("train_first_frame", 0))
    known = {f.name for f in dataclasses.fields(cls.hyper_cls)}
    unknown = sorted(set(budget) - known)
    if unknown:
        raise ValueError(f"{cls.method}: unknown budget key(s) {unknown}; allowed: steps, online, train_first_frame, "
                         f"{sorted(known)}")
    hyper = cls.hyper_cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in budget.items()})
    seed = 0 if seed is None else int(seed)
    # DROO never reads labels: i.i.d. training frames go unlabelled (exhaustive labels cost 2^N solves a frame).
    train_kwargs = dict(env_kwargs, agent_mode="scheduler", exhaustive_labels=False)
    if train_kwargs.get("channel_file"):
        train_kwargs.update(first_frame=first, replay_start="first_frame", max_cycles=steps)
    env = mec_marl.make(env_id, **train_kwargs)
    cfg = env.unwrapped.config
    agent = train(env, steps, cls.for_config(cfg, hyper, seed), seed=seed)
    agent.learning = online
    return agent


def load(path: str) -> Droo:
    """The registry's loader."""
    return Droo.load(path)
