"""wireless_powered_v0 with ``queues=True``: LyDROO's queued system, as pure batch-first functions.

Bi, Huang, Wang & Zhang, "Lyapunov-guided deep reinforcement learning for
stable online computation offloading in mobile-edge computing networks",
IEEE TWC 2021 (model, Sec. II; per-slot problem P4 and Algorithm 1, Sec. IV).
Battery-powered devices (no wireless power transfer) hold a data queue Q_i
(bits) and a virtual energy queue Y_i; each slot every device computes
locally or offloads (binary x_i), :func:`mec_marl.solvers.lyapunov_allocation.allocate`
solves P4 for x, and the queues move by LyDROO's updates (one copy of the
queue physics: :mod:`mec_marl.physics.queues`). The episode's exogenous
randomness (Rician fading and exponential arrivals of every slot) is drawn at
reset. :mod:`mec_marl.envs.wireless_powered` dispatches here; the module
docstring there is the documentation page.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from gymnasium import spaces

from mec_marl.envs.wireless_powered_config import WirelessPoweredConfig, mean_gain
from mec_marl.physics import queues as queue_physics
from mec_marl.physics import wireless_power as wpt
from mec_marl.solvers.lyapunov_allocation import allocate, best_decision
from mec_marl.solvers.time_allocation import all_decisions

OBSERVATION_CEILING = 1e30

# The env page's section on this system (mec_marl.envs.wireless_powered fills it in).
PAGE_SECTION = """**Queued system** (``queues=True``, LyDROO). Battery-powered WDs, no energy
transfer; keys whose published value differs take LyDROO's when not given
(noise -174 dBm/Hz over 2 MHz, distances [120, 255] m, exponent 3, weights
1.5, 1, 1.5, ..., gain scale 1e10); scenario ``wireless_powered_lydroo``
spells every constant out. Each slot (T = 1 s) device i has a data queue Q_i
(bits) and a virtual energy queue Y_i; the channel is Rician (LOS power
fraction ``los_fraction``, mean A_d (c / (4 pi f_c d))^3), A_i(t) bits arrive
(exponential, mean ``arrival_mean``); fading and arrivals of every slot are
drawn at ``reset`` (``QueuedInstance``). For the binary decision the env
solves the per-slot problem P4 exactly (LyDROO's Algorithm 1:
:mod:`mec_marl.solvers.lyapunov_allocation`): maximise
sum_i (Q_i / D + V w_i) d_i / D - c_Y Y_i e_i over the bits d_i <= Q_i each
device processes, locally (d = f T / phi, e = kappa f^3 T, f <= f_max) or by
offloading in a share tau_i of the slot (d = tau (W / v_u) log2(1 + P h / N_0),
e = P tau, P <= P_max, sum tau <= T). Then Q_i(t+1) = max(Q_i - d_i, 0) + A_i(t)
and Y_i(t+1) = max(Y_i + nu (e_i - gamma_i), 0) (:mod:`mec_marl.physics.queues`).
Units: the env is SI; LyDROO's code measures Q and d in Mbit (D = ``data_unit``
= 1e6 bits), f in MHz with kappa x 1e18, h x 1e10, and multiplies Y by its
``Y_factor`` 10 inside the critic (c_Y = ``energy_queue_weight``), so P4 here
equals its objective value. Reward (``queue_reward="drift_plus_penalty"``,
default) = V sum_i w_i d_i / D - (L(t+1) - L(t)) x ``reward_scale`` (1e-3), the
realised drift-plus-penalty with L = 1/2 sum (Q_i / D)^2 + c_Y / (2 nu) sum Y_i^2,
whose one-slot bound P4 maximises: an episode's return telescopes to V x the
weighted bits minus the final L, so returns rank policies by throughput and
backlog. ``queue_reward="p4"`` rewards the P4 value itself, as LyDROO's critic
scores candidates; it grows with the backlog (rate weights Q + V w), so its
returns do not rank policies. Observation (LyDROO's DNN input): ``scheduler`` sees
[h x 1e10, Q x 1e-10 (Mbit / 1e4), Y x 1e-4] of all devices; ``wd_i`` its
own [h, Q, Y, weight] (same scales); ``state()`` is [h, Q, Y, weights]. Infos
add ``data_queue``, ``energy_queue`` (after the slot), ``bits``, ``power``,
``cpu_freq``, ``drift_plus_penalty`` (P4 value), ``lyapunov_drift`` (L(t+1) - L(t)) and
``avg_energy_queue``;
``energy`` is the energy spent (J), ``time_share`` tau_i / T,
``computation_rate`` d_i / T, ``objective`` sum_i w_i d_i / T. With
``exhaustive_labels`` each slot's ``optimal_rate`` is the best P4 value over
all 2^N decisions at the same queues and ``normalized_rate`` = P4 / that."""


@dataclasses.dataclass(frozen=True)
class QueuedInstance:
    """One episode's draws, arrays over leading batch axes ``*b``.

    Attributes:
        distance: ``(*b, N)`` device-AP distances (m).
        gain: ``(*b, T, N)`` channel gain h_i of each slot (Rician fading x average gain).
        arrivals: ``(*b, T, N)`` bits A_i(t) arriving during each slot (exponential, mean ``arrival_mean``).
    """

    distance: np.ndarray
    gain: np.ndarray
    arrivals: np.ndarray

    @property
    def batch_shape(self) -> tuple:
        return self.distance.shape[:-1]


@dataclasses.dataclass(frozen=True)
class QueuedState:
    """Queues before slot ``t`` and the last slot's outcome, arrays over ``*b``.

    Attributes:
        data_queue: ``(*b, N)`` Q_i (bits). energy_queue: ``(*b, N)`` Y_i (nu x J).
        offload: ``(*b, N)`` bool, the last decision. bits: ``(*b, N)`` bits processed in the last slot.
        energy: ``(*b, N)`` energy spent in the last slot (J). t: ``(*b,)`` slots played.
    """

    data_queue: np.ndarray
    energy_queue: np.ndarray
    offload: np.ndarray
    bits: np.ndarray
    energy: np.ndarray
    t: np.ndarray


def sample_instance(config: WirelessPoweredConfig, rng: np.random.Generator, batch_shape: tuple = ()):
    b, n, T = tuple(batch_shape), config.n_devices, config.max_cycles
    normal = rng.standard_normal(size=b + (T, 2, n))
    gain = wpt.rician_gain(mean_gain(config), normal[..., 0, :], normal[..., 1, :], config.los_fraction)
    arrivals = rng.exponential(1.0, size=b + (T, n)) * config.arrival_mean
    distance = np.broadcast_to(config.distances, b + (n,)).copy()
    return QueuedInstance(distance=distance, gain=gain, arrivals=arrivals)


def check_instance(config: WirelessPoweredConfig, instance) -> QueuedInstance:
    name = "wireless_powered_v0"
    if not isinstance(instance, QueuedInstance):
        raise ValueError(f"{name}: with queues=True options['instance'] must be a QueuedInstance, "
                         f"got {type(instance).__name__}")
    n, T = config.n_devices, config.max_cycles
    arrays = {}
    for field, shape in (("distance", (n,)), ("gain", (T, n)), ("arrivals", (T, n))):
        try:
            arr = np.array(getattr(instance, field), dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: instance.{field} is not numeric") from None
        if arr.shape != shape:
            raise ValueError(f"{name}: instance.{field} has shape {arr.shape}, expected {shape}")
        if not np.all(np.isfinite(arr)) or np.any(arr < 0) or (field == "distance" and np.any(arr <= 0)):
            raise ValueError(f"{name}: instance.{field} must be finite and {'positive' if field == 'distance' else 'non-negative'}")
        arrays[field] = arr
    return QueuedInstance(**arrays)


def initial_state(config: WirelessPoweredConfig, instance: QueuedInstance) -> QueuedState:
    b, n = instance.batch_shape, config.n_devices
    zeros = np.zeros(b + (n,))
    return QueuedState(data_queue=zeros, energy_queue=zeros.copy(), offload=np.zeros(b + (n,), dtype=bool),
                       bits=zeros.copy(), energy=zeros.copy(), t=np.zeros(b, dtype=np.int64))


def at_slot(values, t) -> np.ndarray:
    """``values[..., t, :]`` per batch entry (the last slot once the episode is over)."""
    idx = np.minimum(np.asarray(t), values.shape[-2] - 1)
    return np.take_along_axis(values, idx[..., None, None], axis=-2)[..., 0, :]


def _infos(config, gain, offload, data_queue, energy_queue, alloc=None) -> dict:
    """Step infos; ``alloc=None`` gives the zero outcome of ``reset``."""
    shape = np.shape(gain)
    zeros = np.zeros(shape)
    bits, energy = (zeros, zeros) if alloc is None else (alloc.bits, alloc.energy)
    rate = bits / config.slot
    dpp = np.zeros(shape[:-1]) if alloc is None else alloc.objective
    weighted = (config.device_weights * rate).sum(axis=-1)
    avg_energy = energy.mean(axis=-1)
    return {
        "offload": offload.astype(np.int64),
        "energy": energy,
        "time_share": zeros if alloc is None else alloc.time / config.slot,
        "computation_rate": rate,
        "bits": bits,
        "power": zeros if alloc is None else alloc.power,
        "cpu_freq": zeros if alloc is None else alloc.cpu_freq,
        "data_queue": data_queue,
        "energy_queue": energy_queue,
        "gain": gain,
        "objective": weighted,
        "drift_plus_penalty": dpp,
        "lyapunov_drift": np.zeros(shape[:-1]),
        "avg_data_queue": data_queue.mean(axis=-1),
        "avg_energy_queue": energy_queue.mean(axis=-1),
        "avg_energy": avg_energy,
        "energy_excess": avg_energy - (0.0 if alloc is None else config.energy_threshold),
        "offload_fraction": offload.mean(axis=-1),
        # No energy transfer; labels only with exhaustive_labels (transition).
        "energy_fraction": np.zeros(shape[:-1]),
        "optimal_rate": np.zeros(shape[:-1]),
        "normalized_rate": np.zeros(shape[:-1]),
    }


def reset_infos(config: WirelessPoweredConfig, instance: QueuedInstance, state: QueuedState) -> dict:
    gain = at_slot(instance.gain, state.t)
    info = _infos(config, gain, state.offload, state.data_queue, state.energy_queue)
    info["frame"] = state.t.copy()
    return info


def lyapunov_function(config: WirelessPoweredConfig, data_queue, energy_queue) -> np.ndarray:
    """L = 1/2 sum (Q_i / D)^2 + c_Y / (2 nu) sum Y_i^2, ``(*b,)``: the quadratic Lyapunov function whose
    one-slot drift bound, minus V times the weighted rate, gives P4 (Bi et al. 2021, Sec. III-IV)."""
    q = np.asarray(data_queue) / config.data_unit
    y = np.asarray(energy_queue)
    return 0.5 * (q * q).sum(axis=-1) + 0.5 * config.energy_queue_weight / config.energy_queue_factor * (y * y).sum(axis=-1)


def drift_plus_penalty_reward(config: WirelessPoweredConfig, bits, drift) -> np.ndarray:
    """V sum_i w_i d_i / D - (L(t+1) - L(t)): the realised (not bounded) drift-plus-penalty, ``(*b,)``.

    P4 maximises a lower bound of this over the decision; summed over an episode it telescopes to
    V x (weighted bits) - L(T) + L(0), so returns rank policies by throughput and final backlog.
    """
    rate_term = config.lyapunov_v * (config.device_weights * np.asarray(bits)).sum(axis=-1) / config.data_unit
    return rate_term - drift


def transition(config: WirelessPoweredConfig, instance: QueuedInstance, state: QueuedState, offload):
    """One slot for decision ``offload`` ``(*b, N)``: ``(new state, reward value (*b,), infos)``."""
    gain = at_slot(instance.gain, state.t)
    alloc = allocate(config.lyapunov_system, gain, offload, state.data_queue, state.energy_queue,
                     config.device_weights)
    nu = config.energy_queue_factor
    data_queue = queue_physics.local_queue_update(state.data_queue, alloc.bits, at_slot(instance.arrivals, state.t))
    energy_queue = queue_physics.virtual_queue_update(state.energy_queue, nu * alloc.energy,
                                                      nu * config.energy_threshold)
    info = _infos(config, gain, offload, data_queue, energy_queue, alloc)
    info["frame"] = state.t.copy()
    if config.exhaustive_labels:  # the slot's P4 optimum over all 2^N decisions at the same state
        optimal = best_decision(config.lyapunov_system, gain, state.data_queue, state.energy_queue,
                                all_decisions(config.n_devices), config.device_weights)[1]
        info["optimal_rate"] = optimal
        info["normalized_rate"] = np.where(optimal > 0, alloc.objective / np.where(optimal > 0, optimal, 1.0), 1.0)
    new_state = QueuedState(data_queue=data_queue, energy_queue=energy_queue, offload=offload, bits=alloc.bits,
                            energy=alloc.energy, t=state.t + 1)
    drift = lyapunov_function(config, data_queue, energy_queue) - lyapunov_function(
        config, state.data_queue, state.energy_queue)
    info["lyapunov_drift"] = drift
    if config.queue_reward == "p4":
        return new_state, alloc.objective, info
    return new_state, drift_plus_penalty_reward(config, alloc.bits, drift), info


def global_state(config: WirelessPoweredConfig, instance: QueuedInstance, state: QueuedState) -> np.ndarray:
    """``(*b, 4N)``: [scaled gains of the slot to decide, scaled Q, scaled Y, weights]."""
    gain = at_slot(instance.gain, state.t) * config.observation_scale
    q = state.data_queue * config.queue_observation_scale
    y = state.energy_queue * config.energy_queue_observation_scale
    weights = np.broadcast_to(config.device_weights, gain.shape)
    return np.concatenate([np.minimum(np.concatenate([gain, q, y], axis=-1), OBSERVATION_CEILING), weights], axis=-1)


def observe(config: WirelessPoweredConfig, instance, state, agent_names: list[str]) -> dict:
    full = global_state(config, instance, state)
    n = config.n_devices
    if config.agent_mode == "scheduler":
        return {agent_names[0]: full[..., : 3 * n]}
    return {agent: full[..., [i, n + i, 2 * n + i, 3 * n + i]] for i, agent in enumerate(agent_names)}


def build_spaces(config: WirelessPoweredConfig, agent_names: list[str]):
    n = config.n_devices
    top = max(OBSERVATION_CEILING, float(config.device_weights.max()))
    state = spaces.Box(0.0, top, shape=(4 * n,), dtype=np.float32)
    if config.agent_mode == "scheduler":
        obs = {agent_names[0]: spaces.Box(0.0, OBSERVATION_CEILING, shape=(3 * n,), dtype=np.float32)}
        act = {agent_names[0]: spaces.Box(0.0, 1.0, shape=(n,), dtype=np.float32)}
    else:
        obs = {a: spaces.Box(0.0, top, shape=(4,), dtype=np.float32) for a in agent_names}
        act = {a: spaces.Discrete(2) for a in agent_names}
    return obs, act, state


def summary(config: WirelessPoweredConfig, instance: QueuedInstance, state: QueuedState) -> str:
    t = int(state.t)
    lines = [f"wireless_powered_v0 (queues)  N={config.n_devices}  slot {t}/{instance.gain.shape[-2]}"]
    lines.append(" WD  mode     bits(Mb)  energy(J)   Q(Mb)       Y")
    for i in range(config.n_devices):
        mode = "offload" if state.offload[i] else "local"
        lines.append(f" {i:2d}  {mode:7s} {state.bits[i] / 1e6:8.3f} {state.energy[i]:10.4f} "
                     f"{state.data_queue[i] / 1e6:7.3f} {state.energy_queue[i]:7.2f}")
    return "\n".join(lines)
