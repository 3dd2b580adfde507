"""wireless_powered_v0 baselines that decide a binary offloading vector per frame.

* ``all_local`` / ``all_offload``: every device computes locally / offloads.
* ``random_offload``: each device offloads with probability 1/2 (seeded by ``reset``).
* ``exhaustive``: the best of all 2^N decisions, each scored by the exact
  (a, tau) critic in one batched call (how DROO's labels were made; N <= 16).
* ``coordinate_descent``: Bi & Zhang's CD method (TWC 2018, Sec. V): from a
  start decision, flip the single device whose flip raises Q most, until no
  flip helps; the N flips of a round are scored in one batched call.

Every policy reads the frame's channel gains from ``env.unwrapped`` (the
critic needs the exact gains; the observation is a scaled float32 copy) and
acts in either agent mode. With ``queues=True`` (LyDROO's system) the critic
is the per-slot problem P4 at the slot's gains and queues
(:mod:`mec_marl.solvers.lyapunov_allocation`), so exhaustive search and
coordinate descent optimise the slot's drift-plus-penalty objective, as
LyDROO's critic does.
"""

from __future__ import annotations

import numpy as np

from baselines.policy import RandomSource
from mec_marl.envs.wireless_powered import current_gain
from mec_marl.solvers import lyapunov_allocation
from mec_marl.solvers.time_allocation import all_decisions, optimal_time_allocation

MAX_EXHAUSTIVE_DEVICES = 16


def frame_gain(env) -> np.ndarray:
    """``(N,)`` exact channel gains of the frame the env is about to play."""
    base = env.unwrapped
    return current_gain(base.config, base.instance, base.model_state.t)


def slot_values(env, candidates) -> np.ndarray:
    """``(K,)`` the critic's value of each candidate decision ``(K, N)`` for the env's current frame / slot:
    the optimal weighted sum rate Q (DROO's (P2)), or with queues the optimum of P4 (LyDROO)."""
    base = env.unwrapped
    cfg, gain = base.config, frame_gain(env)
    cand = np.asarray(candidates, dtype=bool)
    if cfg.queues:
        state = base.model_state
        return lyapunov_allocation.allocate(cfg.lyapunov_system, gain[None], cand, state.data_queue[None],
                                            state.energy_queue[None], cfg.device_weights).objective
    return optimal_time_allocation(cfg.system, gain[None], cand, cfg.device_weights).rate


def to_actions(decision, env) -> dict:
    """A binary decision ``(N,)`` as the actions of ``env``'s agent mode."""
    decision = np.asarray(decision, dtype=bool)
    base = env.unwrapped
    if base.config.agent_mode == "scheduler":
        return {agent: decision.astype(np.float32) for agent in env.agents}
    return {f"wd_{i}": int(x) for i, x in enumerate(decision) if f"wd_{i}" in env.agents}


class FixedDecision:
    """Every device local (``offload=False``) or every device offloading."""

    def __init__(self, offload: bool, name: str):
        self.offload, self.name = bool(offload), name

    def reset(self, env, seed=None):
        pass

    def act(self, observations, env):
        return to_actions(np.full(env.unwrapped.config.n_devices, self.offload), env)


class RandomDecision(RandomSource):
    """Each device offloads with probability ``p``."""

    def __init__(self, p: float = 0.5, name: str = "random_offload"):
        self.p, self.name = p, name

    def reset(self, env, seed=None):
        self._seed(seed)

    def act(self, observations, env):
        return to_actions(self.rng.random(env.unwrapped.config.n_devices) < self.p, env)


class Exhaustive:
    """The best of all 2^N decisions by the exact critic."""

    name = "exhaustive"

    def reset(self, env, seed=None):
        n = env.unwrapped.config.n_devices
        if n > MAX_EXHAUSTIVE_DEVICES:
            raise ValueError(f"exhaustive search over 2^{n} decisions refused (n_devices > {MAX_EXHAUSTIVE_DEVICES})")
        self._decisions = all_decisions(n)

    def act(self, observations, env):
        values = slot_values(env, self._decisions)
        return to_actions(self._decisions[int(np.argmax(values))], env)


def coordinate_descent(evaluate, start) -> tuple[np.ndarray, float, int]:
    """Bi & Zhang's CD search from ``start``: ``(decision, value, rounds)``.

    ``evaluate(candidates (K, N)) -> (K,)`` scores decisions (the frame's critic, :func:`slot_values`).
    """
    x = np.asarray(start, dtype=bool).copy()
    n = x.size
    best = float(evaluate(x[None, :])[0])
    flips = np.eye(n, dtype=bool)
    rounds = 0
    while True:
        rounds += 1
        candidates = x[None, :] ^ flips
        rates = evaluate(candidates)
        j = int(np.argmax(rates))
        if rates[j] <= best:
            return x, best, rounds
        x, best = candidates[j], float(rates[j])


class CoordinateDescent(RandomSource):
    """CD from a random start (``start="random"``, as DROO's CD baseline) or from all-local."""

    def __init__(self, start: str = "random", name: str = "coordinate_descent"):
        if start not in ("random", "local"):
            raise ValueError(f"unknown start {start!r}; allowed: 'random', 'local'")
        self.start, self.name = start, name

    def reset(self, env, seed=None):
        self._seed(seed)

    def act(self, observations, env):
        cfg = env.unwrapped.config
        n = cfg.n_devices
        start = self.rng.random(n) < 0.5 if self.start == "random" else np.zeros(n, dtype=bool)
        decision, _, _ = coordinate_descent(lambda cand: slot_values(env, cand), start)
        return to_actions(decision, env)


# ------------------------------------------------------- registry builders
def build_all_local(env_id, env_kwargs, seed, budget):
    return FixedDecision(False, "all_local")


def build_all_offload(env_id, env_kwargs, seed, budget):
    return FixedDecision(True, "all_offload")


def build_random(env_id, env_kwargs, seed, budget):
    return RandomDecision(0.5, "random_offload")


def build_exhaustive(env_id, env_kwargs, seed, budget):
    return Exhaustive()


def build_coordinate_descent(env_id, env_kwargs, seed, budget):
    return CoordinateDescent("random")
