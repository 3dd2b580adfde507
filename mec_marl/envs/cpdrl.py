"""CPDRL: one edge server, n user devices, joint offloading and resource allocation.

Li, Nakamura, Takase, "Consistency-Preserving Deep Reinforcement Learning for
Computation Offloading and Resource Allocation in MEC Environment"
(``shared/papers/000_138f3a7c34bc9218.txt``).

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

* offloading a_n = round(sigmoid(beta a_raw,n)) (eq. 15 forward pass; equals
  ``a_raw > 0`` for any beta > 0, beta shapes only the learners' surrogate);
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
  that delays stay finite (f = 0 for a local task would be an infinite delay).

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
``state()`` is the ``full`` vector.

**Infos** (``infos["scheduler"]``): per-UTD arrays ``latency``, ``energy``,
``offload`` (0 local / 1 server), ``bandwidth``, ``power``, ``cpu_freq``,
``edge_cpu``, ``success``, ``deadline_violation``, ``consistent``; scalars
``objective``, ``penalised_cost`` (objective + tardiness, what TEM minimises),
``avg_latency``, ``avg_energy``, ``success_rate``, ``bandwidth_overuse``,
``consistency_rate``, ``solver_time_s``, ``clipped_actions``.

**Arguments** (``cpdrl_v0.parallel_env(**kwargs)``): every field of
:class:`CpdrlConfig`, ``scenario`` (a name under ``configs/scenarios``),
``overrides`` (``["key=value", ...]``), ``render_mode`` (``"ansi"`` or
``"rgb_array"``). Quantities accept unit strings, e.g. ``edge_capacity="20 GHz"``.

**Version history.** v0: initial release.
"""

from __future__ import annotations

import dataclasses
import time
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
from mec_marl.envs.base import MecParallelEnv
from mec_marl.physics import channel, compute
from mec_marl.solvers import consistency

AGENT = "scheduler"


class CpdrlConfig(EnvConfig):
    """Table I of the CPDRL paper (SI units; YAML may use the paper's units)."""

    n_devices: Integer = Field(6, ge=1, le=64, description="number of UTDs n")
    area_side: Meters = Field(300.0, gt=0, description="side of the square area (m)")
    min_distance: Meters = Field(1.0, gt=0, description="distance floor for the gain (m)")
    path_loss_exponent: float = Field(-3.0, lt=0, description="alpha of eq. 4")
    f_max_range: HertzRange = Field((1e9, 2e9), description="UTD CPU capacity U[lo, hi] (Hz)")
    edge_capacity: Hertz = Field(15e9, gt=0, description="server CPU F (Hz)")
    data_size_range: BitsRange = Field((200 * 8192.0, 400 * 8192.0), description="D_n U[lo, hi] (bits)")
    cycles_per_bit_range: CyclesPerBitRange = Field((500.0, 1000.0), description="C_n U[lo, hi]")
    bandwidth: Hertz = Field(5e6, gt=0, description="total uplink bandwidth B (Hz)")
    noise_power: Watt = Field(1e-13, gt=0, description="sigma^2 (W)")
    deadline: Seconds = Field(0.5, gt=0, description="tau (s)")
    p_max: Watt = Field(1.0, gt=0, description="UTD transmit power cap (W)")
    kappa: float = Field(1e-28, gt=0, description="energy coefficient of eq. 2")
    latency_weight: float = Field(1.0, ge=0, description="lambda_1")
    energy_weight: float = Field(1.0, ge=0, description="lambda_2")
    tardiness_weight: float = Field(1.0, ge=0, description="reward weight of sum max(0, T - tau)")
    bandwidth_penalty_weight: float = Field(1.0, ge=0, description="reward weight of max(0, sum b / B - 1)")
    consistency_bonus_weight: float = Field(1.0, ge=0, description="reward weight of #consistent / n")
    max_cycles: Integer = Field(50, ge=1, description="steps per episode T")
    observation: Literal["full", "paper"] = "full"
    consistency: Literal["mask", "none"] = "mask"
    bandwidth_overuse: Literal["rescale", "execute"] = "rescale"
    beta: float = Field(1.0, gt=0, description="STE sharpness of eq. 15")
    min_resource_fraction: float = Field(1e-3, gt=0, lt=1, description="floor of a resource in use")
    consistency_tolerance: float = Field(1e-3, ge=0, lt=1, description="fraction below which a resource counts as 0")

    @model_validator(mode="after")
    def _positive_ranges(self):
        for key in ("f_max_range", "data_size_range", "cycles_per_bit_range"):
            lo, _ = getattr(self, key)
            if lo <= 0:
                raise ValueError(f"{key} must be positive, got low {lo}")
        return self


@dataclasses.dataclass(frozen=True)
class CpdrlInstance:
    """One CPDRL problem instance (SI units, arrays over the n UTDs).

    Attributes:
        position: ``(n, 2)`` UTD coordinates (m); the server is at ``server_position``.
        server_position: ``(2,)`` server coordinates (m).
        distance: ``(n,)`` UTD-server distance (m).
        gain: ``(n,)`` channel gain g_n = distance^alpha (eq. 4).
        data_size: ``(n,)`` D_n (bits).
        cycles_per_bit: ``(n,)`` C_n (cycles/bit).
        f_max: ``(n,)`` local CPU capacity (Hz).
    """

    position: np.ndarray
    server_position: np.ndarray
    distance: np.ndarray
    gain: np.ndarray
    data_size: np.ndarray
    cycles_per_bit: np.ndarray
    f_max: np.ndarray

    @property
    def n(self) -> int:
        return len(self.data_size)

    @property
    def cycles(self) -> np.ndarray:
        return compute.task_cycles(self.data_size, self.cycles_per_bit)


def sample_instance(config: CpdrlConfig, rng: np.random.Generator) -> CpdrlInstance:
    """Draw UTD positions and tasks per Table I."""
    n, side = config.n_devices, config.area_side
    position = rng.uniform(0.0, side, size=(n, 2))
    server = np.array([side / 2, side / 2])
    distance = np.linalg.norm(position - server, axis=1)
    return CpdrlInstance(
        position=position,
        server_position=server,
        distance=distance,
        gain=channel.power_law_gain(distance, config.path_loss_exponent, config.min_distance),
        data_size=rng.uniform(*config.data_size_range, size=n),
        cycles_per_bit=rng.uniform(*config.cycles_per_bit_range, size=n),
        f_max=rng.uniform(*config.f_max_range, size=n),
    )


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


def resource_scale(instance: CpdrlInstance, config: CpdrlConfig) -> np.ndarray:
    """``(3, n)`` maxima of (bandwidth, local CPU, power) that [-1, 1] maps onto."""
    n = instance.n
    return np.stack([np.full(n, config.bandwidth), instance.f_max, np.full(n, config.p_max)])


def decode_action(action: np.ndarray, instance: CpdrlInstance, config: CpdrlConfig, scale=None) -> dict:
    """Post-processing of a raw action (eq. 15-16), vectorised over leading axes.

    Returns the decided ``offload`` (bool), the *requested* resources
    ``bandwidth``, ``cpu_freq``, ``power`` (after masks), the *executed*
    resources ``exec_bandwidth``, ``exec_cpu_freq``, ``exec_power`` (rescale and
    floors applied, 0 where unused), ``consistent`` (bool per UTD, eq. 11) and
    ``bandwidth_overuse``. ``scale`` is :func:`resource_scale`, passed in by
    callers that cache it.
    """
    if scale is None:
        scale = resource_scale(instance, config)
    action = np.asarray(action, dtype=float)
    raw = action.reshape(action.shape[:-1] + (4, scale.shape[-1]))
    offload = consistency.binarise(raw[..., 0, :], config.beta)  # eq. 15
    requested = (raw[..., 1:, :] + 1.0) * (0.5 * scale)  # rows: b, f, p
    use = consistency.usage_mask(offload)  # rows: offload, local, offload
    if config.consistency == "mask":  # eq. 16
        requested = requested * use
    used = requested > config.consistency_tolerance * scale
    consistent = consistency.consistent(offload, used[..., 0, :], used[..., 1, :], used[..., 2, :])  # eq. 11
    total_b = requested[..., 0, :].sum(axis=-1)
    overuse = np.maximum(total_b / config.bandwidth - 1.0, 0.0)
    executed = requested
    if config.bandwidth_overuse == "rescale" and (overuse > 0).any():
        shrink = np.where(overuse > 0, config.bandwidth / np.maximum(total_b, 1e-300), 1.0)
        executed = requested.copy()
        executed[..., 0, :] *= shrink[..., None]
    executed = np.maximum(executed, config.min_resource_fraction * scale) * use
    return {
        "offload": offload,
        "bandwidth": requested[..., 0, :],
        "cpu_freq": requested[..., 1, :],
        "power": requested[..., 2, :],
        "exec_bandwidth": executed[..., 0, :],
        "exec_cpu_freq": executed[..., 1, :],
        "exec_power": executed[..., 2, :],
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


class CpdrlEnv(MecParallelEnv):
    """The CPDRL system as a one-agent PettingZoo ParallelEnv; see the module docstring."""

    metadata = {
        "name": "cpdrl_v0",
        "render_modes": ["ansi", "rgb_array"],
        "is_parallelizable": True,
        "render_fps": 4,
    }
    config_cls = CpdrlConfig
    sample_instance = staticmethod(sample_instance)

    # -- agents and spaces ------------------------------------------------
    def _agents(self):
        return [AGENT]

    def _build_spaces(self):
        n = self.config.n_devices
        width = 2 * n if self.config.observation == "paper" else 6 * n
        obs = spaces.Box(0.0, np.inf, shape=(width,), dtype=np.float32)
        act = spaces.Box(-1.0, 1.0, shape=(4 * n,), dtype=np.float32)
        state = spaces.Box(0.0, np.inf, shape=(6 * n,), dtype=np.float32)
        return {AGENT: obs}, {AGENT: act}, state

    # -- world --------------------------------------------------------------
    def _check_instance(self, instance):
        if not isinstance(instance, CpdrlInstance):
            raise ValueError(f"cpdrl_v0: options['instance'] must be a CpdrlInstance, got {type(instance).__name__}")
        n = self.config.n_devices
        for field, shape in (("position", (n, 2)), ("server_position", (2,))):
            arr = np.asarray(getattr(instance, field))
            if arr.shape != shape or not np.all(np.isfinite(arr)):
                raise ValueError(
                    f"cpdrl_v0: instance.{field} must be finite with shape {shape} for n_devices={n}, got {arr.shape}"
                )
        for field in ("distance", "gain", "data_size", "cycles_per_bit", "f_max"):
            arr = np.asarray(getattr(instance, field))
            if arr.shape != (n,):
                raise ValueError(f"cpdrl_v0: instance.{field} has shape {arr.shape}, expected ({n},) for n_devices={n}")
            if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
                raise ValueError(f"cpdrl_v0: instance.{field} must be finite and positive")
        return instance

    def _reset_state(self):
        inst, cfg = self.instance, self.config
        self._scale = resource_scale(inst, cfg)
        self._features = self._task_features()
        # Reference decision for the first observation: every UTD local at f_max.
        zeros = np.zeros(inst.n)
        out = decision_outcome(inst, cfg, zeros, zeros, inst.f_max, zeros)
        self._latency, self._energy = out["latency"], out["energy"]
        self._offload = np.zeros(inst.n, dtype=bool)

    # -- action -> post-processing -> physics -> reward ----------------------
    def _transition(self, actions):
        cfg, inst = self.config, self.instance
        start = time.perf_counter()
        dec = decode_action(actions[AGENT], inst, cfg, self._scale)
        solver_time = time.perf_counter() - start
        out = decision_outcome(inst, cfg, dec["offload"], dec["exec_bandwidth"], dec["exec_cpu_freq"], dec["exec_power"])
        latency, energy = out["latency"], out["energy"]
        violation = np.maximum(latency - cfg.deadline, 0.0)
        objective = float(cfg.latency_weight * latency.sum() + cfg.energy_weight * energy.sum())  # eq. 10
        tardiness = float(violation.sum())
        overuse = float(dec["bandwidth_overuse"])
        n_consistent = int(dec["consistent"].sum())
        reward = (  # eq. 17, dimensionally sound (module docstring)
            -objective
            - cfg.tardiness_weight * tardiness
            - cfg.bandwidth_penalty_weight * overuse
            + cfg.consistency_bonus_weight * n_consistent / inst.n
        )
        self._latency, self._energy, self._offload = latency, energy, dec["offload"]
        success = violation <= 0.0
        info = {
            "latency": latency,
            "energy": energy,
            "offload": dec["offload"].astype(np.int64),
            "bandwidth": dec["exec_bandwidth"],
            "power": dec["exec_power"],
            "cpu_freq": dec["exec_cpu_freq"],
            "edge_cpu": out["edge_cpu"],
            "success": success,
            "deadline_violation": violation,
            "consistent": dec["consistent"],
            "objective": objective,
            "penalised_cost": objective + cfg.tardiness_weight * tardiness,
            "tardiness": tardiness,
            "avg_latency": float(latency.sum()) / inst.n,
            "avg_energy": float(energy.sum()) / inst.n,
            "success_rate": int(success.sum()) / inst.n,
            "bandwidth_overuse": overuse,
            "consistency_rate": n_consistent / inst.n,
            "solver_time_s": solver_time,
        }
        return {AGENT: reward}, {AGENT: info}

    # -- observation and state ----------------------------------------------
    def _task_features(self):
        cfg, inst = self.config, self.instance
        snr = np.log10(cfg.p_max * inst.gain / cfg.noise_power) / 10.0
        return np.concatenate(
            [
                inst.data_size / cfg.data_size_range[1],
                inst.cycles_per_bit / cfg.cycles_per_bit_range[1],
                np.maximum(snr, 0.0),
                inst.f_max / cfg.f_max_range[1],
            ]
        )

    def _state(self):
        return np.concatenate([self._latency, self._energy, self._features])

    def _observe(self):
        if self.config.observation == "paper":
            return {AGENT: np.concatenate([self._latency, self._energy])}
        return {AGENT: self._state()}

    # -- rendering ------------------------------------------------------------
    def _topology(self):
        inst = self.instance
        return {
            "servers": inst.server_position[None, :],
            "users": inst.position,
            "targets": self._offload.astype(int),
            "area": (self.config.area_side, self.config.area_side),
        }

    def _summary(self):
        lines = [f"cpdrl_v0  n={self.instance.n}  step {self.num_cycles}/{self.max_cycles}"]
        lines.append(" UTD  where    T (s)     E (J)   dist (m)")
        for i in range(self.instance.n):
            where = "server" if self._offload[i] else "local"
            lines.append(
                f" {i:3d}  {where:6s} {self._latency[i]:8.3f} {self._energy[i]:9.4f} {self.instance.distance[i]:9.1f}"
            )
        lines.append(f" sum T + E = {float(np.sum(self._latency + self._energy)):.4f}")
        return "\n".join(lines)


def parallel_env(**kwargs) -> CpdrlEnv:
    """The parallel env (see the module docstring for arguments)."""
    return CpdrlEnv(**kwargs)


def env(**kwargs):
    """The AEC env, through PettingZoo's ``parallel_to_aec``."""
    from pettingzoo.utils.conversions import parallel_to_aec

    return parallel_to_aec(parallel_env(**kwargs))


raw_env = parallel_env
