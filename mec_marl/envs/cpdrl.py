"""CPDRL: one edge server, n user devices, joint offloading and resource allocation.

Li, Nakamura, Takase, "Consistency-Preserving Deep Reinforcement Learning for
Computation Offloading and Resource Allocation in MEC Environment" (the
CPDRL paper; equation numbers below are the paper's).

This environment is part of the mec-marl suite.

| Import             | ``from mec_marl.envs import cpdrl_v0``                |
|--------------------|-------------------------------------------------------|
| Actions            | Continuous                                            |
| Parallel API       | Yes                                                   |
| Manual control     | No                                                    |
| Agents             | ``agents = ["scheduler"]``                            |
| Agents count       | 1                                                     |
| Action shape       | ``(4 n,)``                                            |
| Action values      | ``[-1, 1]``                                           |
| Observation shape  | ``(2 n,)`` (``paper``) or ``(6 n,)`` (``full``)       |
| Observation values | ``[0, inf)``                                          |
| State shape        | ``(6 n,)``                                            |

**World (Sec. III, Table I).** A ``area_side`` x ``area_side`` m square with the
server at its centre and ``n_devices`` UTDs placed uniformly. Each UTD n has a
task (D_n bits, C_n cycles/bit, deadline tau) and a CPU of at most f_max,n Hz.
Channel gain g_n = d_n^alpha (eq. 4, alpha = -3, distance floored at
``min_distance``). OFDMA uplink without interference, rate
R_n = b_n log2(1 + p_n g_n / sigma^2) (eq. 3). The server splits its capacity F
equally among the offloaders (eq. 7).

**Episode.** One problem instance per ``reset``; ``max_cycles`` steps (default 50)
of refining the decision on that instance. Each step returns the delays and
energies that the action gives. The initial observation is that of the
reference decision "every UTD local at f_max".

**Action.** ``Box(-1, 1, (4n,))`` laid out as ``[a_raw | b_raw | f_raw | p_raw]``
(n entries each). Post-processing inside ``step``:

* offloading a_n = round(sigmoid(beta a_raw,n)) (eq. 15 forward pass), which
  is ``a_raw > 0`` for every beta > 0: beta shapes only the learners'
  straight-through surrogate, so it is a learner hyper-parameter, not an env key;
* b, f, p scaled from [-1, 1] to [0, B], [0, f_max,n], [0, P_max];
* ``consistency="mask"`` (default): b and p zeroed for local UTDs and f zeroed
  for offloaders (eq. 16; the paper writes b_raw three times there, read
  b_raw, f_raw, p_raw); ``consistency="none"`` executes the raw combination;
* bandwidth over-use (C2 broken): with ``bandwidth_overuse="rescale"``
  (default) the shares are scaled down to sum to B before transmission (a
  radio cannot use spectrum that is not there), the reward still charges the
  violation; ``"execute"`` transmits with the requested shares as the paper's
  reward-only treatment does;
* a resource in use is floored at ``min_resource_fraction`` of its maximum so
  that delays stay finite (f = 0 for a local task would be an infinite delay);
  the floor comes before the over-use rescale, so with ``"rescale"`` the
  executed bandwidth never exceeds B (C2).

**Physics.** T^l = D C / f (eq. 1), E^l = kappa D C f^2 (eq. 2), T^t = D / R
(eq. 5), E^t = p T^t (eq. 6), T^e = D C sum(a) / F (eq. 7),
T_n = (1 - a) T^l + a (T^t + T^e) (eq. 8), E_n likewise without edge energy (eq. 9).

**Reward (eq. 17, made dimensionally sound — a documented deviation).** The
paper's eq. (17) subtracts (sum T - tau) and (sum b - B), mixing seconds with
hertz and rewarding slack. Here::

    r = - sum_n (l1 T_n + l2 E_n) - w_tardiness sum_n max(0, T_n - tau)
        - w_bandwidth max(0, sum_n b_n / B - 1) + w_consistency (#consistent UTDs) / n

so each constraint term is a non-negative violation in comparable units. The
``objective`` in infos is the paper's sum_n (l1 T_n + l2 E_n) (eq. 10).

**Deadline C1 is soft.** With Table I (1 KB = 8192 bits) a task needs 0.8-3.3
Gcycles, and C1 (T_n <= 0.5 s) cannot be met by any decision on most
instances once n >= 4; C1 enters as the tardiness penalty above, infos report
``deadline_violation`` (s) and ``success`` (T_n <= tau). The scenario
``cpdrl_kilobit`` reads D in kilobits (1 Kb = 1000 bits), where C1 can be met.

**Observation.** ``observation="paper"``: [T_1..T_n, E_1..E_n] (s, J), what the
paper's agent sees. ``"full"`` (default) appends per task D_n / D_hi,
C_n / C_hi, log10(P_max g_n / sigma^2) / 10 and f_max,n / f_hi (the task
parameters, normalised) so a policy can generalise across instances.
``state()`` is the ``full`` vector. Delays and energies are reported as
computed; the observation saturates them at 1e30 (float32 stays finite at
the extremes of the legal config range, where an upload at the resource
floor can take longer than the age of the universe).

**Infos** (``infos["scheduler"]``): per-UTD arrays ``latency``, ``energy``,
``offload`` (0 local / 1 server), ``bandwidth``, ``power``, ``cpu_freq``,
``edge_cpu``, ``success``, ``deadline_violation``, ``consistent``; scalars
``objective``, ``penalised_cost`` (objective + tardiness, what TEM minimises),
``avg_latency``, ``avg_energy``, ``success_rate``, ``bandwidth_overuse``,
``consistency_rate``, ``clipped_actions``. ``reset`` returns the same keys
for the reference decision (every UTD local at f_max). Infos are a
deterministic function of (seed, actions); ``scripts/benchmark.py`` times
the sub-solvers.

**Episode metrics** (``infos["scheduler"]["episode"]`` at the last step):

{episode_metrics}

**Arguments** (``cpdrl_v0.parallel_env(**kwargs)``): ``scenario`` (a name
under ``configs/scenarios``, e.g. ``"cpdrl_kilobit"``), ``overrides``
(``["key=value", ...]``), ``render_mode`` (``"ansi"`` or ``"rgb_array"``),
``config`` (a :class:`CpdrlConfig`) and the config keys below. Quantities
accept unit strings, e.g. ``edge_capacity="20 GHz"``; a non-finite or
out-of-range value raises ``ConfigError`` naming the key.

{arguments}

**Version history.** v0: initial release. v0 (env core v1, same id, same
physics): the config key ``beta`` moved to the learners (it never changed
the env's decision); the bandwidth floor is applied before the over-use
rescale (C2 now holds exactly with ``"rescale"``); ``solver_time_s`` left the
infos; episode metrics in ``infos[agent]["episode"]``.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from gymnasium import spaces
from pydantic import Field, model_validator

from mec_marl.config import (
    BitsRange,
    CyclesPerBitRange,
    EnvConfig,
    Hertz,
    HertzRange,
    Integer,
    Meters,
    Seconds,
    Watt,
)
from mec_marl.docs import env_page
from mec_marl.envs.base import MecParallelEnv, entry_points
from mec_marl.envs.cpdrl_world import (
    CpdrlInstance,
    CpdrlState,
    check_instance,
    sample_batch,
    sample_instance,
)
from mec_marl.envs.model import EnvModel, Outcome
from mec_marl.episode import Metric
from mec_marl.physics import channel, compute
from mec_marl.solvers import consistency

AGENT = "scheduler"
# Observations saturate here so that float32 stays finite (module docstring).
OBSERVATION_CEILING = 1e30


# ----------------------------------------------------------------- config
class CpdrlConfig(EnvConfig):
    """Table I of the CPDRL paper (SI units; YAML may use the paper's units).

    Every key is bounded to a physically meaningful range over which rewards
    and observations stay finite (a property test checks the extremes).
    """

    n_devices: Integer = Field(6, ge=1, le=64, description="number of UTDs n")
    area_side: Meters = Field(300.0, ge=1.0, le=1e4, description="side of the square area (m)")
    min_distance: Meters = Field(1.0, ge=1e-3, le=1e3, description="distance floor for the gain (m)")
    path_loss_exponent: float = Field(-3.0, ge=-6.0, le=-1.0, description="alpha of eq. 4")
    f_max_range: HertzRange = Field((1e9, 2e9), description="UTD CPU capacity U[lo, hi] (Hz), within [1 MHz, 1 THz]")
    edge_capacity: Hertz = Field(15e9, ge=1e6, le=1e13, description="server CPU F (Hz)")
    data_size_range: BitsRange = Field(
        (200 * 8192.0, 400 * 8192.0), description="D_n U[lo, hi] (bits), within [1, 1e10]"
    )
    cycles_per_bit_range: CyclesPerBitRange = Field((500.0, 1000.0), description="C_n U[lo, hi], within [1e-3, 1e5]")
    bandwidth: Hertz = Field(5e6, ge=1e3, le=1e10, description="total uplink bandwidth B (Hz)")
    noise_power: Watt = Field(1e-13, ge=1e-20, le=1e-3, description="sigma^2 (W)")
    deadline: Seconds = Field(0.5, ge=1e-6, le=1e4, description="tau (s)")
    p_max: Watt = Field(1.0, ge=1e-4, le=1e3, description="UTD transmit power cap (W)")
    kappa: float = Field(1e-28, ge=1e-35, le=1e-20, description="energy coefficient of eq. 2")
    latency_weight: float = Field(1.0, ge=0, le=1e6, description="lambda_1")
    energy_weight: float = Field(1.0, ge=0, le=1e6, description="lambda_2")
    tardiness_weight: float = Field(1.0, ge=0, le=1e6, description="reward weight of sum max(0, T - tau)")
    bandwidth_penalty_weight: float = Field(1.0, ge=0, le=1e6, description="reward weight of max(0, sum b / B - 1)")
    consistency_bonus_weight: float = Field(1.0, ge=0, le=1e6, description="reward weight of #consistent / n")
    max_cycles: Integer = Field(50, ge=1, le=1_000_000, description="steps per episode T")
    observation: Literal["full", "paper"] = Field("full", description="observation layout")
    consistency: Literal["mask", "none"] = Field("mask", description="eq. 16 masks, or the raw combination")
    bandwidth_overuse: Literal["rescale", "execute"] = Field("rescale", description="what C2 over-use transmits")
    min_resource_fraction: float = Field(1e-3, ge=1e-6, le=0.5, description="floor of a resource in use")
    consistency_tolerance: float = Field(1e-3, ge=0, lt=0.5, description="fraction below which a resource counts as 0")

    @model_validator(mode="after")
    def _ranges_in_bounds(self):
        for key, lo_ok, hi_ok in (
            ("f_max_range", 1e6, 1e12),
            ("data_size_range", 1.0, 1e10),
            ("cycles_per_bit_range", 1e-3, 1e5),
        ):
            lo, hi = getattr(self, key)
            if lo < lo_ok or hi > hi_ok:
                raise ValueError(f"{key} must lie within [{lo_ok:g}, {hi_ok:g}], got [{lo:g}, {hi:g}]")
        return self

    @property
    def n_users(self) -> int:
        return self.n_devices


# ------------------------------------------------- physics (eq. 1-9, 10)
def decision_outcome(instance: CpdrlInstance, config: CpdrlConfig, offload, bandwidth, cpu_freq, power) -> dict:
    """Delay and energy of a decision (eq. 1-9), vectorised over leading batch axes.

    ``offload`` is 0/1; the resources are the *executed* ones (SI): bandwidth
    and power must be positive for offloaders, the CPU frequency for local
    UTDs; the entries of the branch a UTD does not take are ignored. Returns
    the per-UTD arrays ``latency``, ``energy`` and ``edge_cpu`` (0 for local UTDs).
    """
    a = np.asarray(offload) > 0
    cycles = instance.cycles
    f = np.where(a, 1.0, cpu_freq)  # stand-in values keep the branch not taken finite
    t_local = compute.local_latency(cycles, f)  # eq. 1
    e_local = compute.local_energy(cycles, f, config.kappa)  # eq. 2
    p = np.where(a, power, 0.0)
    rate = channel.shannon_rate(np.where(a, bandwidth, 1.0), p, instance.gain, config.noise_power)  # eq. 3
    t_up = channel.upload_time(instance.data_size, np.where(a, rate, 1.0))  # eq. 5
    e_up = channel.upload_energy(p, t_up)  # eq. 6
    share = compute.equal_share(a, config.edge_capacity)  # eq. 7: F / sum(a) per offloader
    t_edge = cycles / share
    return {
        "latency": np.where(a, t_up + t_edge, t_local),  # eq. 8
        "energy": np.where(a, e_up, e_local),  # eq. 9
        "edge_cpu": a * share,
    }


def penalised_cost(latency, energy, config: CpdrlConfig):
    """Objective (eq. 10) plus the tardiness penalty; summed over the last axis.

    Returns ``(objective, tardiness)``; the reward's cost is ``objective + w_t tardiness``.
    """
    objective = config.latency_weight * latency.sum(axis=-1) + config.energy_weight * energy.sum(axis=-1)
    tardiness = np.maximum(latency - config.deadline, 0.0).sum(axis=-1)
    return objective, tardiness


# ------------------------------------------------- action, post-processing
def decode_action(action: np.ndarray, instance: CpdrlInstance, config: CpdrlConfig) -> dict:
    """Post-processing of a raw action (eq. 15-16), vectorised over leading axes.

    Returns the decided ``offload`` (bool), the *requested* resources
    ``bandwidth``, ``cpu_freq``, ``power`` (after masks), the *executed*
    resources ``exec_bandwidth``, ``exec_cpu_freq``, ``exec_power`` (floors,
    then the over-use rescale; 0 where unused), ``consistent`` (bool per UTD,
    eq. 11) and ``bandwidth_overuse`` (of the request: what the reward charges).
    """
    action = np.asarray(action, dtype=float)
    n, f_max = instance.n, instance.f_max
    bandwidth, p_max = config.bandwidth, config.p_max
    a_raw, b_raw, f_raw, p_raw = (action[..., k * n : (k + 1) * n] for k in range(4))
    offload = consistency.binarise(a_raw)  # eq. 15
    on = offload.astype(float)  # 0/1 masks: cheaper than np.where on large batches
    off = 1.0 - on
    b_req = (b_raw + 1.0) * (0.5 * bandwidth)
    f_req = (f_raw + 1.0) * (0.5 * f_max)
    p_req = (p_raw + 1.0) * (0.5 * p_max)
    if config.consistency == "mask":  # eq. 16: offloaders use (b, p), local UTDs f
        b_req, f_req, p_req = b_req * on, f_req * off, p_req * on
    tol = config.consistency_tolerance
    consistent = consistency.consistent(  # eq. 11
        offload, b_req > tol * bandwidth, f_req > tol * f_max, p_req > tol * p_max
    )
    overuse = np.maximum(b_req.sum(axis=-1) * (1.0 / bandwidth) - 1.0, 0.0)
    # Floors first, so that the rescale below bounds what is transmitted (C2).
    floor = config.min_resource_fraction
    b_floored = np.maximum(b_req, floor * bandwidth)
    exec_b = b_floored * on
    exec_f = np.maximum(f_req, floor * f_max) * off
    exec_p = np.maximum(p_req, floor * p_max) * on
    if config.bandwidth_overuse == "rescale":
        # A local UTD keeps the band it was given (consistency="none"), though it does not transmit.
        held = (exec_b + b_req * off).sum(axis=-1)
        over = held > bandwidth
        if over.any():
            exec_b = exec_b * np.where(over, bandwidth / np.where(over, held, 1.0), 1.0)[..., None]
    return {
        "offload": offload,
        "bandwidth": b_req,
        "cpu_freq": f_req,
        "power": p_req,
        "exec_bandwidth": exec_b,
        "exec_cpu_freq": exec_f,
        "exec_power": exec_p,
        "consistent": consistent,
        "bandwidth_overuse": overuse,
    }


def encode_action(offload, bandwidth, cpu_freq, power, instance: CpdrlInstance, config: CpdrlConfig) -> np.ndarray:
    """Inverse of :func:`decode_action`: SI resources -> a raw action in [-1, 1]^(4n).

    Lets heuristics and searches speak the learners' action space; offloaders
    get a_raw = +1, local UTDs -1.
    """
    a = np.asarray(offload) > 0
    a_raw = np.where(a, 1.0, -1.0)
    b_raw = 2.0 * np.asarray(bandwidth, dtype=float) / config.bandwidth - 1.0
    f_raw = 2.0 * np.asarray(cpu_freq, dtype=float) / instance.f_max - 1.0
    p_raw = 2.0 * np.asarray(power, dtype=float) / config.p_max - 1.0
    raw = np.concatenate([a_raw, b_raw, f_raw, p_raw], axis=-1)
    return np.clip(raw, -1.0, 1.0)


# ------------------------------------------------------ the pure model
def _infos(config: CpdrlConfig, offload, exec_b, exec_f, exec_p, out, consistent, overuse) -> dict:
    latency, energy = out["latency"], out["energy"]
    violation = np.maximum(latency - config.deadline, 0.0)
    objective, tardiness = penalised_cost(latency, energy, config)  # eq. 10
    success = violation <= 0.0
    per_user = 1.0 / latency.shape[-1]
    return {
        "latency": latency,
        "energy": energy,
        "offload": offload.astype(np.int64),
        "bandwidth": exec_b,
        "power": exec_p,
        "cpu_freq": exec_f,
        "edge_cpu": out["edge_cpu"],
        "success": success,
        "deadline_violation": violation,
        "consistent": consistent,
        "objective": objective,
        "penalised_cost": objective + config.tardiness_weight * tardiness,
        "tardiness": tardiness,
        "avg_latency": latency.sum(axis=-1) * per_user,
        "avg_energy": energy.sum(axis=-1) * per_user,
        "success_rate": success.sum(axis=-1) * per_user,
        "bandwidth_overuse": overuse,
        "consistency_rate": consistent.sum(axis=-1) * per_user,
    }


def _reference(config: CpdrlConfig, instance: CpdrlInstance):
    """The reference decision "every UTD local at f_max" and its outcome."""
    zeros = np.zeros_like(instance.f_max)
    return zeros, instance.f_max, decision_outcome(instance, config, zeros, zeros, instance.f_max, zeros)


def initial_state(config: CpdrlConfig, instance: CpdrlInstance) -> CpdrlState:
    _, _, out = _reference(config, instance)
    return CpdrlState(
        latency=out["latency"],
        energy=out["energy"],
        offload=np.zeros(instance.f_max.shape, dtype=bool),
        t=np.zeros(instance.batch_shape, dtype=np.int64),
    )


def reset_infos(config: CpdrlConfig, instance: CpdrlInstance, state: CpdrlState) -> dict:
    zeros, f_max, out = _reference(config, instance)
    consistent = np.ones(zeros.shape, dtype=bool)
    info = _infos(config, zeros > 0, zeros, f_max, zeros, out, consistent, np.zeros(instance.batch_shape))
    info["clipped_actions"] = np.zeros(instance.batch_shape, dtype=np.int64)
    return {AGENT: info}


def step(config: CpdrlConfig, instance: CpdrlInstance, state: CpdrlState, actions: dict):
    """Decode -> masks and floors -> eq. 1-9 -> reward (eq. 17, dimensionally sound)."""
    dec = decode_action(actions[AGENT], instance, config)
    b, f, p = dec["exec_bandwidth"], dec["exec_cpu_freq"], dec["exec_power"]
    out = decision_outcome(instance, config, dec["offload"], b, f, p)
    info = _infos(config, dec["offload"], b, f, p, out, dec["consistent"], dec["bandwidth_overuse"])
    reward = (
        -info["penalised_cost"]
        - config.bandwidth_penalty_weight * info["bandwidth_overuse"]
        + config.consistency_bonus_weight * info["consistency_rate"]
    )
    new_state = CpdrlState(latency=out["latency"], energy=out["energy"], offload=dec["offload"], t=state.t + 1)
    return new_state, Outcome(
        rewards={AGENT: reward}, infos={AGENT: info}, terminated=np.zeros(instance.batch_shape, dtype=bool)
    )


def global_state(config: CpdrlConfig, instance: CpdrlInstance, state: CpdrlState) -> np.ndarray:
    """``(*b, 6n)``: [T, E] of the last decision and the task features."""
    last = np.minimum(np.concatenate([state.latency, state.energy], axis=-1), OBSERVATION_CEILING)
    return np.concatenate([last, instance.task_features], axis=-1)


def observe(config: CpdrlConfig, instance: CpdrlInstance, state: CpdrlState) -> dict:
    full = global_state(config, instance, state)
    if config.observation == "paper":
        return {AGENT: full[..., : 2 * instance.n]}
    return {AGENT: full}


def agents(config: CpdrlConfig) -> list[str]:
    return [AGENT]


def build_spaces(config: CpdrlConfig):
    n = config.n_devices
    width = 2 * n if config.observation == "paper" else 6 * n
    obs = spaces.Box(0.0, OBSERVATION_CEILING, shape=(width,), dtype=np.float32)
    act = spaces.Box(-1.0, 1.0, shape=(4 * n,), dtype=np.float32)
    state = spaces.Box(0.0, OBSERVATION_CEILING, shape=(6 * n,), dtype=np.float32)
    return {AGENT: obs}, {AGENT: act}, state


# ----------------------------------------------------------- rendering
def topology(config: CpdrlConfig, instance: CpdrlInstance, state: CpdrlState) -> dict:
    return {
        "servers": instance.server_position[None, :],
        "users": instance.position,
        "targets": state.offload.astype(int),
        "area": (config.area_side, config.area_side),
    }


def summary(config: CpdrlConfig, instance: CpdrlInstance, state: CpdrlState) -> str:
    lines = [f"cpdrl_v0  n={instance.n}  step {int(state.t)}/{config.max_cycles}"]
    lines.append(" UTD  where    T (s)     E (J)   dist (m)")
    for i in range(instance.n):
        where = "server" if state.offload[i] else "local"
        lines.append(
            f" {i:3d}  {where:6s} {state.latency[i]:8.3f} {state.energy[i]:9.4f} {instance.distance[i]:9.1f}"
        )
    lines.append(f" sum T + E = {float(np.sum(state.latency + state.energy)):.4f}")
    return "\n".join(lines)


EPISODE_METRICS = {
    **{
        key: Metric("last", description=f"{key} of the episode's final decision")
        for key in (
            "objective",
            "penalised_cost",
            "tardiness",
            "avg_latency",
            "avg_energy",
            "success_rate",
            "bandwidth_overuse",
            "consistency_rate",
        )
    },
    "best_objective": Metric("min", "objective", description="lowest objective over the episode's steps (Alg. 1)"),
    "best_penalised_cost": Metric("min", "penalised_cost", description="lowest penalised cost over the steps"),
}

MODEL = EnvModel(
    name="cpdrl_v0",
    config_cls=CpdrlConfig,
    instance_cls=CpdrlInstance,
    sample_instance=sample_instance,
    sample_batch=sample_batch,
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


class CpdrlEnv(MecParallelEnv):
    """The CPDRL system as a one-agent PettingZoo ParallelEnv; see the module docstring."""

    metadata = {
        "name": "cpdrl_v0",
        "render_modes": ["ansi", "rgb_array"],
        "is_parallelizable": True,
        "render_fps": 4,
    }
    model = MODEL


parallel_env, env = entry_points(CpdrlEnv)
raw_env = parallel_env

__doc__ = env_page(__doc__, CpdrlConfig, EPISODE_METRICS)
# help(module) documents these, not pydantic's BaseModel internals.
__all__ = [
    "parallel_env",
    "env",
    "raw_env",
    "CpdrlInstance",
    "CpdrlState",
    "sample_instance",
    "check_instance",
    "initial_state",
    "step",
    "observe",
    "global_state",
    "decision_outcome",
    "decode_action",
    "encode_action",
    "penalised_cost",
]
