"""Wireless-powered MEC with binary offloading: the DROO reference system, and LyDROO's queued system.

Bi & Zhang, "Computation rate maximization for wireless powered mobile-edge
computing with binary computation offloading", IEEE TWC 17(6), 2018 (the
model), and Huang, Bi & Zhang, "Deep reinforcement learning for online
computation offloading in wireless powered mobile-edge computing networks",
IEEE TMC 19(11), 2020 (DROO: constants, channel model, published labels).
Equation numbers are DROO's. ``queues=True`` selects the system of Bi, Huang,
Wang & Zhang, "Lyapunov-guided deep reinforcement learning for stable online
computation offloading in mobile-edge computing networks", IEEE TWC 2021
(LyDROO; section "Queued system" below).

This environment is part of the mec-marl suite.

| Import             | ``from mec_marl.envs import wireless_powered_v0``                 |
|--------------------|-------------------------------------------------------------------|
| Actions            | Continuous (``scheduler``) / Discrete (``users``)                 |
| Parallel API       | Yes                                                               |
| Manual control     | No                                                                |
| Agents             | ``["scheduler"]`` or ``["wd_0", ..., "wd_{N-1}"]``               |
| Agents count       | 1 or N                                                            |
| Action shape       | ``(N,)`` in [0, 1] / ``Discrete(2)`` per device                   |
| Observation shape  | ``(N,)`` / ``(2,)`` per device; queues: ``(3N,)`` / ``(4,)``      |
| Observation values | ``[0, 1e30]``                                                     |
| State shape        | ``(2N,)``; queues: ``(4N,)``                                      |

**World.** One access point (AP) and ``n_devices`` wireless devices (WDs). Each
frame (T = 1 s) the AP broadcasts RF energy for a fraction a; device i
harvests E_i = mu P h_i a. Then each device either computes locally for the
whole frame on its harvested energy (rate eq. 1, r_L = eta1 (h_i / k)^(1/3)
a^(1/3)) or offloads its task in its own slot tau_i, spending all its energy
(rate eq. 2, r_O = (B tau_i / v_u) log2(1 + mu P a h_i^2 / (tau_i N_0))), with
a + sum tau <= 1. The objective is the weighted sum computation rate
Q = sum_i w_i r_i (problem P1), weights (1, 1.5, 1, 1.5, ...) by default.

**Channels.** ``channel_file=None`` (default): i.i.d. frames, h_i = hbar_i
alpha_i with Rayleigh fading (alpha_i ~ Exp(1)) and the free-space average
gain hbar_i = A_d (c / (4 pi f_c d_i))^d_e, d_e = 2.8, f_c = 915 MHz, devices
at distances equally spaced over [2.5, 5.2] m. A_d defaults to 3: a fit of
this model to the 20,000 distinct frames of DROO's ``data_10.mat`` gives
A_d = 3.00 +/- 0.01 with these distances and exponent, so the default draws
frames from the distribution of DROO's published data. ``channel_file=PATH``
replays a DROO ``.mat`` file (``input_h``, frames in order from
``first_frame``); the episode terminates at the file's end or is truncated
after ``max_cycles`` frames. ``replay_start="random"`` starts each episode at
a random frame >= ``first_frame`` whose ``max_cycles`` window fits the file
(drawn from the reset seed; such episodes end by truncation only). Where the file has labels (``output_obj``,
exhaustive optima), infos report ``optimal_rate`` and ``normalized_rate`` =
Q / ``output_obj``, DROO's "normalized computation rate". With i.i.d. frames
these are 0 unless ``exhaustive_labels=True`` labels each frame by enumerating
its 2^N decisions when the episode is drawn (N <= 12; slow: ~2^N x 10 us per frame).

DROO's labels, checked here against an exhaustive search with this env's
critic and an independent conic solver: ``data_5.mat`` is exact; in
``data_10.mat`` ``output_obj`` carries up to 1.6e-6 relative error, and on 9
of its 20,000 distinct frames the labelled decision is not optimal (another
decision gives 0.013-0.18 % more), so ``normalized_rate`` can reach 1.0018
there (frames 1300, 2012, 4831, 13048, 16076, 18700, 18792, 19649, 19942 and
the repeats of the last six at +10000).

**Episode.** One frame per step, ``max_cycles`` frames (the fading of every
frame is drawn at ``reset``). Frames are independent: the decision of one
frame does not change the next.

**Action and post-processing.** ``agent_mode="scheduler"`` (default): one
agent outputs a relaxed decision in [0, 1]^N, quantised as x_i = 1 iff
x_i > ``decision_threshold`` (DROO eq. 8, the first order-preserving
candidate). ``agent_mode="users"``: device ``wd_i`` picks ``Discrete(2)``
(1 = offload). For the binary decision the env solves DROO's (P2) exactly
(:mod:`mec_marl.solvers.time_allocation`: the dual variable of
a + sum tau <= 1 by safeguarded Newton / bisection, the offloaders' SNR by the
Lambert W function) and executes the optimal (a, tau). Reward = Q x
``reward_scale`` (default 1e-6: Mbit/s), the same for every agent.

**Observation.** Channel gains of the frame to decide, times
``observation_scale`` (1e6, DROO's scaling of its DNN input): ``scheduler``
sees all N gains; ``wd_i`` sees [its gain, its weight]. ``state()`` is
[all scaled gains, all weights]. After the last frame the observation
repeats the last frame.

**Infos** (every agent gets the same dict): per-device ``offload`` (0/1),
``energy`` (harvested J), ``time_share`` (tau_i), ``computation_rate`` (bits/s,
unweighted), ``gain``; scalars ``objective`` (Q, bits/s), ``energy_fraction``
(a), ``offload_fraction``, ``optimal_rate`` (label, 0 if unknown),
``normalized_rate`` (0 if unknown), ``frame`` (source frame index),
``clipped_actions``.

{queued_system}

**Episode metrics** (``infos[agent]["episode"]`` at the last step):

{episode_metrics}

**Arguments** (``wireless_powered_v0.parallel_env(**kwargs)``): ``scenario``,
``overrides``, ``render_mode``, ``config`` and the keys below.

{arguments}

**Deviations.** None in the DROO model. Queued system: LyDROO's code rounds
its allocation to 1e-6 and bisects its dual price to an absolute 1; here the
price is bisected to ~2e-6 relative and the bits come from an exact greedy
LP (P4 within 1e-7 of an exponential-cone reference). The queued system's
episodes start from empty queues; LyDROO's simulation is one long run.

**Version history.** v0: initial release.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from gymnasium import spaces

from mec_marl.docs import env_page
from mec_marl.envs import droo_files
from mec_marl.envs import wireless_powered_queues as queued
from mec_marl.envs.base import MecParallelEnv, entry_points
from mec_marl.envs.model import EnvModel, Outcome
from mec_marl.envs.wireless_powered_config import MAX_LABELLED_DEVICES, WirelessPoweredConfig, mean_gain  # noqa: F401
from mec_marl.episode import Metric
from mec_marl.physics import wireless_power as wpt
from mec_marl.solvers import time_allocation

SCHEDULER = "scheduler"
OBSERVATION_CEILING = 1e30


# ------------------------------------------------------------------ world
@dataclasses.dataclass(frozen=True)
class WirelessPoweredInstance:
    """One episode's channels, arrays over leading batch axes ``*b``.

    Attributes:
        distance: ``(*b, N)`` device-AP distances (m) of the average-gain model
            (nominal in replay mode: DROO's files carry no positions).
        gain: ``(*b, T, N)`` channel gain h_i of each frame (pre-drawn fading, or replayed).
        optimal_rate: ``(*b, T)`` the frame's optimal Q (bits/s), 0 where unknown.
        frame: ``(*b, T)`` int, the frame's index in the channel file (i.i.d.: 0..T-1).
    """

    distance: np.ndarray
    gain: np.ndarray
    optimal_rate: np.ndarray
    frame: np.ndarray

    @property
    def batch_shape(self) -> tuple:
        return self.distance.shape[:-1]


@dataclasses.dataclass(frozen=True)
class WirelessPoweredState:
    """The last frame's decision and allocation (zeros at reset), arrays over ``*b``.

    Attributes:
        offload: ``(*b, N)`` bool decision x.
        a: ``(*b,)`` energy-transfer fraction.
        tau: ``(*b, N)`` offloading time fractions.
        rate: ``(*b,)`` weighted sum computation rate Q (bits/s).
        t: ``(*b,)`` frames played.
    """

    offload: np.ndarray
    a: np.ndarray
    tau: np.ndarray
    rate: np.ndarray
    t: np.ndarray


def exhaustive_optimum(config: WirelessPoweredConfig, gain) -> np.ndarray:
    """``(*b,)`` the best Q over all 2^N decisions for channels ``(*b, N)``."""
    decisions = time_allocation.all_decisions(config.n_devices)
    return time_allocation.best_decision(config.system, gain, decisions, config.device_weights)[1]


def sample_instance(config: WirelessPoweredConfig, rng: np.random.Generator, batch_shape: tuple = ()):
    """i.i.d. Rayleigh frames (drawn from ``rng``) or the replayed file's frames (``rng`` unused); queues: LyDROO's draws."""
    if config.queues:
        return queued.sample_instance(config, rng, batch_shape)
    b, n, T = tuple(batch_shape), config.n_devices, config.frames
    distance = np.broadcast_to(config.distances, b + (n,)).copy()
    if config.channel_file is None:
        gain = mean_gain(config) * rng.exponential(1.0, size=b + (T, n))
        optimal = exhaustive_optimum(config, gain) if config.exhaustive_labels else np.zeros(b + (T,))
        frame = np.broadcast_to(np.arange(T), b + (T,)).copy()
    else:
        data = droo_files.load(config.channel_file)
        if config.replay_start == "random":
            start = rng.integers(config.first_frame, data.n_frames - T + 1, size=b)
        else:
            start = np.full(b, config.first_frame)
        frame = np.asarray(start)[..., None] + np.arange(T)
        gain = data.gain[frame]
        optimal = data.optimal_rate[frame] if data.optimal_rate is not None else np.zeros(b + (T,))
    return WirelessPoweredInstance(distance=distance, gain=gain, optimal_rate=optimal, frame=frame)


def check_instance(config: WirelessPoweredConfig, instance) -> WirelessPoweredInstance:
    """Validate a pinned (single) instance: shapes, finiteness, signs; returns float arrays."""
    if config.queues:
        return queued.check_instance(config, instance)
    name = "wireless_powered_v0"
    if not isinstance(instance, WirelessPoweredInstance):
        raise ValueError(f"{name}: options['instance'] must be a WirelessPoweredInstance, got {type(instance).__name__}")
    n, T = config.n_devices, config.frames
    arrays = {}
    for field, shape in (("distance", (n,)), ("gain", (T, n)), ("optimal_rate", (T,)), ("frame", (T,))):
        try:
            arr = np.array(getattr(instance, field), dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: instance.{field} is not numeric") from None
        if arr.shape != shape:
            raise ValueError(f"{name}: instance.{field} has shape {arr.shape}, expected {shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name}: instance.{field} must be finite")
        if np.any(arr < 0) or (field == "distance" and np.any(arr <= 0)):
            raise ValueError(f"{name}: instance.{field} must be {'positive' if field == 'distance' else 'non-negative'}")
        arrays[field] = arr
    if np.any(arrays["frame"] != np.round(arrays["frame"])):
        raise ValueError(f"{name}: instance.frame must hold integers")
    arrays["frame"] = arrays["frame"].astype(np.int64)
    return WirelessPoweredInstance(**arrays)


# ------------------------------------------------------ the pure model
def current_gain(config: WirelessPoweredConfig, instance: WirelessPoweredInstance, t) -> np.ndarray:
    """``(*b, N)`` gains of frame ``t`` (the last frame once the episode is over)."""
    idx = np.minimum(np.asarray(t), instance.gain.shape[-2] - 1)
    return np.take_along_axis(instance.gain, idx[..., None, None], axis=-2)[..., 0, :]


def agents(config: WirelessPoweredConfig) -> list[str]:
    if config.agent_mode == "scheduler":
        return [SCHEDULER]
    return [f"wd_{i}" for i in range(config.n_devices)]


def decode_actions(config: WirelessPoweredConfig, actions: dict) -> np.ndarray:
    """``(*b, N)`` bool offloading decision from the agents' actions (DROO eq. 8 for the scheduler)."""
    if config.agent_mode == "scheduler":
        return np.asarray(actions[SCHEDULER]) > config.decision_threshold
    return np.stack([np.asarray(actions[a]) > 0 for a in agents(config)], axis=-1)


def _infos(config, instance, gain, offload, a, tau, rate, t) -> dict:
    system = config.system
    idx = np.minimum(np.asarray(t), instance.gain.shape[-2] - 1)
    optimal = np.take_along_axis(instance.optimal_rate, idx[..., None], axis=-1)[..., 0]
    frame = np.take_along_axis(instance.frame, idx[..., None], axis=-1)[..., 0]
    labelled = optimal > 0
    device = wpt.device_rates(gain, offload, a, tau, system)
    energy = wpt.harvested_energy(gain, a[..., None], system)  # all of it is spent in the frame
    return {
        "offload": offload.astype(np.int64),
        "energy": energy,
        "time_share": tau,
        "computation_rate": device,
        "gain": gain,
        "objective": rate,
        "energy_fraction": a,
        "offload_fraction": offload.mean(axis=-1),
        "optimal_rate": optimal,
        "normalized_rate": np.where(labelled, rate / np.where(labelled, optimal, 1.0), 0.0),
        "frame": frame.astype(np.int64),
        "avg_energy": energy.mean(axis=-1),
        "avg_data_queue": np.zeros_like(rate),  # the queued system's scalars: no queues, no budget here
        "energy_excess": np.zeros_like(rate),
    }


def initial_state(config: WirelessPoweredConfig, instance: WirelessPoweredInstance) -> WirelessPoweredState:
    if config.queues:
        return queued.initial_state(config, instance)
    b, n = instance.batch_shape, config.n_devices
    return WirelessPoweredState(
        offload=np.zeros(b + (n,), dtype=bool),
        a=np.zeros(b),
        tau=np.zeros(b + (n,)),
        rate=np.zeros(b),
        t=np.zeros(b, dtype=np.int64),
    )


def reset_infos(config, instance, state) -> dict:
    if config.queues:
        info = queued.reset_infos(config, instance, state)
        info["clipped_actions"] = np.zeros(instance.batch_shape, dtype=np.int64)
        return {agent: dict(info) for agent in agents(config)}
    gain = current_gain(config, instance, state.t)
    info = _infos(config, instance, gain, state.offload, state.a, state.tau, state.rate, state.t)
    info["normalized_rate"] = np.zeros(instance.batch_shape)
    info["clipped_actions"] = np.zeros(instance.batch_shape, dtype=np.int64)
    return {agent: dict(info) for agent in agents(config)}


def step(config: WirelessPoweredConfig, instance: WirelessPoweredInstance, state: WirelessPoweredState, actions):
    """Decode x -> optimal (a, tau) of (P2) -> Q (P1) as the reward; queues: P4's optimum and objective."""
    offload = decode_actions(config, actions)
    names = agents(config)
    if config.queues:
        new_state, objective, info = queued.transition(config, instance, state, offload)
        reward = objective * config.reward_scale
        return new_state, Outcome(rewards={a: reward for a in names}, infos={a: dict(info) for a in names},
                                  terminated=np.zeros(instance.batch_shape, dtype=bool))
    gain = current_gain(config, instance, state.t)
    alloc = time_allocation.optimal_time_allocation(config.system, gain, offload, config.device_weights)
    info = _infos(config, instance, gain, offload, alloc.a, alloc.tau, alloc.rate, state.t)
    t = state.t + 1
    new_state = WirelessPoweredState(offload=offload, a=alloc.a, tau=alloc.tau, rate=alloc.rate, t=t)
    if config.channel_file is None or config.replay_start == "random":
        terminated = np.zeros(instance.batch_shape, dtype=bool)
    else:  # sequential replay: the file's last frame was played
        terminated = instance.frame[..., -1] + 1 >= droo_files.load(config.channel_file).n_frames
        terminated = terminated & (t >= instance.gain.shape[-2])
    reward = alloc.rate * config.reward_scale
    return new_state, Outcome(
        rewards={a: reward for a in names}, infos={a: dict(info) for a in names}, terminated=terminated
    )


def global_state(config: WirelessPoweredConfig, instance, state) -> np.ndarray:
    """``(*b, 2N)``: [scaled gains of the frame to decide, weights]; queues: ``(*b, 4N)`` with scaled Q, Y."""
    if config.queues:
        return queued.global_state(config, instance, state)
    gain = np.minimum(current_gain(config, instance, state.t) * config.observation_scale, OBSERVATION_CEILING)
    weights = np.broadcast_to(config.device_weights, gain.shape)
    return np.concatenate([gain, weights], axis=-1)


def observe(config: WirelessPoweredConfig, instance, state) -> dict:
    if config.queues:
        return queued.observe(config, instance, state, agents(config))
    full = global_state(config, instance, state)
    n = config.n_devices
    if config.agent_mode == "scheduler":
        return {SCHEDULER: full[..., :n]}
    return {f"wd_{i}": full[..., [i, n + i]] for i in range(n)}


def build_spaces(config: WirelessPoweredConfig):
    if config.queues:
        return queued.build_spaces(config, agents(config))
    n = config.n_devices
    top = max(OBSERVATION_CEILING, float(config.device_weights.max()))
    state = spaces.Box(0.0, top, shape=(2 * n,), dtype=np.float32)
    if config.agent_mode == "scheduler":
        obs = {SCHEDULER: spaces.Box(0.0, OBSERVATION_CEILING, shape=(n,), dtype=np.float32)}
        act = {SCHEDULER: spaces.Box(0.0, 1.0, shape=(n,), dtype=np.float32)}
    else:
        obs = {a: spaces.Box(0.0, top, shape=(2,), dtype=np.float32) for a in agents(config)}
        act = {a: spaces.Discrete(2) for a in agents(config)}
    return obs, act, state


# ----------------------------------------------------------- rendering
def topology(config: WirelessPoweredConfig, instance, state) -> dict:
    n = config.n_devices
    reach = float(instance.distance.max())
    angle = 2 * np.pi * np.arange(n) / n
    centre = np.array([reach, reach])
    users = centre + instance.distance[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=-1)
    return {
        "servers": centre[None, :],
        "users": users,
        "targets": state.offload.astype(int),
        "area": (2 * reach, 2 * reach),
    }


def summary(config: WirelessPoweredConfig, instance, state) -> str:
    if config.queues:
        return queued.summary(config, instance, state)
    t = int(state.t)
    lines = [f"wireless_powered_v0  N={config.n_devices}  frame {t}/{instance.gain.shape[-2]}  a={float(state.a):.4f}"]
    lines.append(" WD  mode      tau      gain")
    gain = current_gain(config, instance, max(t - 1, 0))
    for i in range(config.n_devices):
        mode = "offload" if state.offload[i] else "local"
        lines.append(f" {i:2d}  {mode:7s} {state.tau[i]:7.4f} {gain[i]:9.3e}")
    lines.append(f" Q = {float(state.rate):.6g} bit/s")
    return "\n".join(lines)


EPISODE_METRICS = {
    "objective": Metric("mean", description="mean weighted sum computation rate Q per frame (bits/s)"),
    "normalized_rate": Metric("mean", description="mean of Q / optimal Q over frames (queues: P4 / its optimum; 0 without labels)"),
    "optimal_rate": Metric("mean", description="mean optimal Q per frame (bits/s; queues: optimal P4; 0 without labels)"),
    "energy_fraction": Metric("mean", description="mean energy-transfer fraction a"),
    "offload_fraction": Metric("mean", description="mean fraction of devices that offload"),
    "avg_data_queue": Metric("mean", description="queues: mean data queue per device after each slot (bits; else 0)"),
    "final_data_queue": Metric("last", source="avg_data_queue",
                               description="queues: mean data queue per device after the last slot (bits; else 0)"),
    "avg_energy": Metric("mean", description="mean energy a device spends per slot (J; WPT: harvested = spent)"),
    "energy_excess": Metric(
        "mean", description="queues: mean energy per device per slot minus the budget gamma (J; <= 0 meets it; else 0)"
    ),
}

MODEL = EnvModel(
    name="wireless_powered_v0",
    config_cls=WirelessPoweredConfig,
    instance_cls=WirelessPoweredInstance,
    sample_instance=sample_instance,
    check_instance=check_instance,
    initial_state=initial_state,
    step=step,
    observe=observe,
    global_state=global_state,
    reset_infos=reset_infos,
    agents=agents,
    spaces=build_spaces,
    topology=topology,
    summary=summary,
    episode_metrics=EPISODE_METRICS,
)


class WirelessPoweredEnv(MecParallelEnv):
    """The DROO system as a PettingZoo ParallelEnv; see the module docstring."""

    metadata = {
        "name": "wireless_powered_v0",
        "render_modes": ["ansi", "rgb_array"],
        "is_parallelizable": True,
        "render_fps": 4,
    }
    model = MODEL


parallel_env, env = entry_points(WirelessPoweredEnv)
raw_env = parallel_env

__doc__ = env_page(__doc__.replace("{queued_system}", queued.PAGE_SECTION), WirelessPoweredConfig, EPISODE_METRICS)
__all__ = [
    "parallel_env",
    "env",
    "raw_env",
    "WirelessPoweredInstance",
    "WirelessPoweredState",
    "sample_instance",
    "check_instance",
    "initial_state",
    "step",
    "observe",
    "global_state",
    "current_gain",
    "decode_actions",
    "mean_gain",
    "exhaustive_optimum",
]
