"""LyDROO: Lyapunov-guided DROO (Bi, Huang, Wang & Zhang, IEEE TWC 2021), for ``wireless_powered_v0(queues=True)``.

Per slot (Sec. IV, Alg. 2): the DNN maps [h, Q, Y] (scaled as LyDROO's code
scales them: h x 1e10, Q in Mbit / 1e4, Y / 1e4) to a relaxed decision;
the quantiser makes candidates (LyDROO's default "OPN": the K order-preserving
candidates of x and the K of x + N(0, 1) noise); the critic is Algorithm 1,
the exact optimum of the per-slot problem P4 for every candidate in one
batched call (:mod:`mec_marl.solvers.lyapunov_allocation`); the best is
executed and stored in a replay memory; every ``training_interval`` slots
the DNN takes one Adam step (binary cross-entropy). Adaptive K with Delta = 32
on the best index modulo K. The learner is DROO's (:class:`~baselines.wireless_powered.droo.Droo`);
only the input, the critic and the defaults differ.

Hyper-parameters (:class:`LyDrooHyper`) are LyDROO.py's and memory.py's: net
[3N, 256, 128, N] with PyTorch's default initialisation, lr 0.01, Adam
betas (0.09, 0.999), weight decay 1e-4, training interval 20, batch 128,
memory 1024, initial K = N, Delta = 32. memory.py builds a new Adam optimiser
at every training step (moments reset); here one optimiser lives for the run,
as in DROO's original code (``fresh_optimizer=True`` gives memory.py's: in 2
seeds x 6,000 training slots it left 1.8-2x longer data queues over 3,000
slots and a lower per-slot P4 ratio, 0.946 against 0.955). The input scales are LyDROO's:
Q enters at ~1e-3 and Y at ~1e-2, so the DNN sees mostly the channel
(``queue_scale`` and ``energy_queue_scale`` are budget keys).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from baselines.wireless_powered.droo import Droo, DrooHyper, build_learner
from mec_marl.solvers.lyapunov_allocation import LyapunovSystem, best_decision


@dataclasses.dataclass(frozen=True)
class LyDrooHyper(DrooHyper):
    hidden: tuple[int, ...] = (256, 128)
    weight_decay: float = 1e-4
    training_interval: int = 20
    quantizer: str = "opn"
    torch_init: bool = True
    input_scale: float = 1e10  # on h (LyDROO's CHFACT)
    queue_scale: float = 1e-10  # on Q in bits (Mbit / 1e4)
    energy_queue_scale: float = 1e-4  # on Y


def queued_state(env) -> np.ndarray:
    """``(3, N)``: the slot's exact gains, data queues (bits) and energy queues, read from the env."""
    base = env.unwrapped
    state, instance = base.model_state, base.instance
    idx = min(int(state.t), instance.gain.shape[-2] - 1)
    return np.stack([instance.gain[idx], state.data_queue, state.energy_queue])


class LyDroo(Droo):
    """The LyDROO agent; ``decide`` takes the ``(3, N)`` state [h, Q, Y] in SI."""

    name = "lydroo"
    method = "lydroo"
    system_cls = LyapunovSystem
    hyper_cls = LyDrooHyper
    inputs_per_device = 3

    def __init__(self, n: int, system: LyapunovSystem, weights, hyper: LyDrooHyper = LyDrooHyper(), seed: int = 0):
        super().__init__(n, system, weights, hyper, seed)
        self.name = "lydroo"

    @classmethod
    def for_config(cls, cfg, hyper, seed: int) -> "LyDroo":
        if not cfg.queues:
            raise ValueError("lydroo needs wireless_powered_v0 with queues=True")
        return cls(cfg.n_devices, cfg.lyapunov_system, cfg.device_weights, hyper, seed)

    def features(self, state) -> np.ndarray:
        h = self.hyper
        scale = np.array([h.input_scale, h.queue_scale, h.energy_queue_scale])[:, None]
        return (np.asarray(state, dtype=float) * scale).reshape(-1)

    def critic(self, state, candidates):
        gain, queue, energy_queue = np.asarray(state, dtype=float)
        return best_decision(self.system, gain, queue, energy_queue, candidates, self.weights)

    def observed(self, env):
        return queued_state(env)


def build(env_id: str, env_kwargs: dict, seed: int | None, budget: dict) -> LyDroo:
    """The registry's builder: LyDROO trained online for ``budget["steps"]`` slots (any :class:`LyDrooHyper` key)."""
    return build_learner(LyDroo, env_id, env_kwargs, seed, budget)


def load(path: str) -> LyDroo:
    return LyDroo.load(path)
