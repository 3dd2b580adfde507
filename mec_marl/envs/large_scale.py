"""Large-scale MEC: N UEs offload to M edge servers from per-slot channel quality (CQI).

F. Jiang, K. Wang, L. Dong, C. Pan, K. Yang, "Stacked Autoencoder-Based Deep
Reinforcement Learning for Online Resource Scheduling in Large-Scale MEC
Networks", IEEE Internet of Things Journal, 2020 (the OJRS paper: 2r-SAE,
ASA, 2p-ER). Equation numbers below are that paper's (Sec. III, Table I,
Sec. V-A).

This environment is part of the mec-marl suite.

| Import             | ``from mec_marl.envs import large_scale_v0``                          |
|--------------------|-----------------------------------------------------------------------|
| Actions            | Discrete                                                              |
| Parallel API       | Yes                                                                   |
| Manual control     | No                                                                    |
| Agents             | ``["scheduler"]`` or ``["ue_0", ..., "ue_{N-1}"]`` (``agent_mode``)   |
| Agents count       | 1 or N                                                                |
| Action space       | ``MultiDiscrete([M+1] * N)`` or ``Discrete(M+1)`` per UE              |
| Observation shape  | ``(N M + N,)`` (scheduler) or ``(M + 1,)`` (per UE)                   |
| Observation values | ``[0, 1e3]``                                                          |
| State shape        | ``(N M + N,)``                                                        |

**World (Sec. III-A, V-A, Table I).** An ``area_side`` square (50 m) with
``n_mecs`` MECs at the paper's coordinates for M = 1..5 (scaled with the
side) and ``n_ues`` UEs placed uniformly. Each UE has one task per slot of
D bits and F cycles (eq. 3). Distances R_ij (eq. 10, floored at
``min_distance``); each slot draws new small-scale fading, so the gain is
h_ij = beta0 / R_ij^2 * l_ij with l_ij ~ Exp(1) (eq. 11, Rayleigh). The
fading of every slot of the episode is pre-drawn into the instance
(``fading``, ``(T, N, M)``). Weights w_i ~ U(``weight_range``), re-drawn
once at ``weight_change_slot`` (the paper's dynamic test changes them at
epoch 5000; 0 = never).

**Action.** UE i's target a_i in {0, ..., M}: 0 = local, j = MEC j (eq. 1-2,
25). ``agent_mode="scheduler"``: one agent, ``MultiDiscrete([M+1] * N)``;
``"users"``: agent ``ue_i`` picks ``Discrete(M+1)``; all agents share the
team reward.

**Post-processing (P2.1, eq. 14-17).** For the chosen decision
(:mod:`mec_marl.solvers.multi_mec`, ``p21_solve``): transmit power at its C4
maximum P_max, rate r_ij = B log2(1 + P_max h_ij / sigma^2) (eq. 12), upload
D / r_ij (eq. 5); local CPU f_i0 = min(F_L, (P_max / kappa)^(1/v)) (C3, C4
with eq. 8), latency F / f_i0 (eq. 4); MEC j splits F_j by the KKT rule
f_ij = F_j sqrt(w_i F_i) / sum_k sqrt(w_k F_k) over its users (C5). Each
task's latency is counted once (eq. 13; eq. 15-17 taken literally would add
the local term once per MEC — not done). **Outage fallback** (SPEC): with
Rayleigh fading the expected upload time is infinite, so with
``outage_fallback=True`` a UE whose upload alone would take longer than its
local execution runs locally, and ``fallback`` flags it in the infos.

**Reward.** 1 / sum_i w_i T_i (Sec. IV-C), the same for every agent.

**Observation.** The CQI of the current slot as the spectral efficiency at
full power, ``cqi_ij = log2(1 + P_max h_ij / sigma^2)`` (bit/s/Hz; a
monotone map of h that keeps the SNR's decades readable), then the weights:
scheduler ``[cqi (N M, row-major), w (N)]``, UE i ``[cqi_i1..cqi_iM, w_i]``.
``observation="cqi"`` drops the weights (the paper's DRL sees h only).
``state()`` is the scheduler's ``full`` vector. After the last slot the
observation repeats the last slot's channel. Values saturate at 1e3.

**Infos** (every agent, the team's): per-UE ``latency`` (s), ``energy`` (J:
P_max T^up offloading, kappa f^v T^local locally), ``offload`` (executed
target), ``requested`` (the action), ``fallback`` (bool), ``power`` (W),
``cpu_freq`` (local Hz), ``edge_cpu`` (Hz), ``upload_time`` (s), ``weight``;
scalars ``objective`` (sum w_i T_i, Table II's "task latency"),
``latency_sum`` (sum T_i), ``avg_latency``, ``offload_rate``,
``fallback_rate``, ``slots`` (1 per step, for the ratio metric),
``slots_before`` / ``slots_after`` and ``objective_before`` /
``objective_after`` (the step's slot and objective on either side of the
weight change, for Table III's before / after columns; both the whole
episode when ``weight_change_slot`` is 0) and
``clipped_actions``; with ``record_solver_time=True`` also ``solver_time_s``
(wall-clock of the P2.1 call; off by default so that infos are
deterministic). ``reset`` returns the same keys for "every UE local".

**Episode metrics** (``infos[agent]["episode"]`` at the last step):

{episode_metrics}

**Arguments** (``large_scale_v0.parallel_env(**kwargs)``): ``scenario``
(``"large_scale_table2"`` for the reproduction, ``"large_scale_default"``),
``overrides``, ``render_mode``, ``config`` (a :class:`LargeScaleConfig`) and
the keys below.

{arguments}

**Deviations and choices (SPEC ``large_scale_v0``).** The paper gives no
P_max, beta0, sigma^2 or weight range: the defaults are SPEC's ``default``
preset (P_max 0.1 W, beta0 -30 dB, sigma^2 = -174 dBm/Hz x B, w ~ U[0.5, 1.5]);
``large_scale_table2`` (P_max 1 W, sigma^2 = -101 dBm/Hz x B, w ~ U[1, 2]) is
the one whose levels match Table II. D = 100 kB is 8e5 bits (decimal kB).
The outage fallback is not in the paper.

**Version history.** v0: initial release.
"""

from __future__ import annotations

import time
from typing import Literal

import numpy as np
from gymnasium import spaces
from pydantic import Field, model_validator

from mec_marl import units
from mec_marl.config import Bits, Cycles, EnvConfig, Hertz, Integer, Meters, Watt
from mec_marl.docs import env_page
from mec_marl.envs.base import MecParallelEnv, entry_points
from mec_marl.envs.large_scale_world import (
    LargeScaleInstance,
    LargeScaleState,
    check_instance,
    initial_state,
    sample_batch,
    sample_instance,
    slot_channel,
    slot_gain,
    slot_problem,
)
from mec_marl.envs.model import EnvModel, Outcome
from mec_marl.episode import Metric
from mec_marl.solvers import multi_mec

SCHEDULER = "scheduler"
# Observations saturate here (a CQI of 1000 bit/s/Hz is an SNR of 3000 dB; weights are <= 1e3).
OBSERVATION_CEILING = 1e3
# MEC coordinates of Sec. V-A for M = 1..5 in the paper's 50 m square.
PAPER_SIDE = 50.0
MEC_LAYOUTS = {
    1: ((25.0, 25.0),),
    2: ((10.0, 10.0), (40.0, 40.0)),
    3: ((10.0, 10.0), (25.0, 25.0), (40.0, 40.0)),
    4: ((10.0, 10.0), (10.0, 40.0), (40.0, 10.0), (40.0, 40.0)),
    5: ((10.0, 10.0), (10.0, 40.0), (25.0, 25.0), (40.0, 10.0), (40.0, 40.0)),
}


# ----------------------------------------------------------------- config
class LargeScaleConfig(EnvConfig):
    """Table I of the OJRS paper plus SPEC's choices (SI units; YAML may use the paper's units)."""

    n_ues: Integer = Field(30, ge=1, le=1000, description="number of UEs N")
    n_mecs: Integer = Field(2, ge=1, le=5, description="number of MECs M (Sec. V-A layouts)")
    area_side: Meters = Field(50.0, ge=1.0, le=1e4, description="side of the square area (m); layouts scale with it")
    min_distance: Meters = Field(1.0, ge=1e-3, le=1e3, description="floor of R_ij in eq. 11 (m)")
    beta0_db: float = Field(-30.0, ge=-100.0, le=0.0, description="beta0, channel gain at 1 m (dB)")
    noise_density_dbm: float = Field(
        -174.0, ge=-220.0, le=-30.0, description="noise density (dBm/Hz); sigma^2 = this x bandwidth"
    )
    bandwidth: Hertz = Field(1e6, ge=1e3, le=1e10, description="B per link (Hz)")
    p_max: Watt = Field(0.1, ge=1e-4, le=1e3, description="UE power cap P_max of C4 (W)")
    data_size: Bits = Field(8e5, ge=1.0, le=1e10, description="D_i (bits; 100 kB read as 8e5 bits)")
    task_cycles: Cycles = Field(1e9, ge=1.0, le=1e13, description="F_i (cycles)")
    f_local_max: Hertz = Field(1e9, ge=1e6, le=1e12, description="F_L max of C3 (cycles/s)")
    f_mec_max: Hertz = Field(50e9, ge=1e6, le=1e14, description="F_MEC max of C5 per MEC (cycles/s)")
    kappa: float = Field(1e-27, ge=1e-35, le=1e-20, description="effective switched capacitance (eq. 8)")
    power_exponent: float = Field(3.0, ge=1.0, le=5.0, description="v of eq. 8")
    weight_range: tuple[float, float] = Field((0.5, 1.5), description="w_i ~ U[lo, hi], within [1e-3, 1e3]")
    weight_change_slot: Integer = Field(
        0, ge=0, le=1_000_000, description="slot from which weights are re-drawn (0 = never)"
    )
    max_cycles: Integer = Field(50, ge=1, le=100_000, description="slots per episode T")
    outage_fallback: bool = Field(True, description="run locally when the upload alone exceeds local execution")
    agent_mode: Literal["scheduler", "users"] = Field("scheduler", description="one scheduler or one agent per UE")
    observation: Literal["full", "cqi"] = Field("full", description="CQI and weights, or CQI only")
    record_solver_time: bool = Field(False, description="put the P2.1 wall-clock time in infos (non-deterministic)")

    @model_validator(mode="after")
    def _check(self):
        lo, hi = self.weight_range
        if not (1e-3 <= lo <= hi <= 1e3):
            raise ValueError(f"weight_range must satisfy 1e-3 <= lo <= hi <= 1e3, got [{lo:g}, {hi:g}]")
        return self

    @property
    def n_users(self) -> int:
        return self.n_ues

    @property
    def beta0(self) -> float:
        return float(units.db_to_linear(self.beta0_db))

    @property
    def noise_power(self) -> float:
        """sigma^2 (W) over one link's bandwidth."""
        return float(units.dbm_to_watt(self.noise_density_dbm)) * self.bandwidth

    @property
    def mec_positions(self) -> np.ndarray:
        return np.array(MEC_LAYOUTS[self.n_mecs]) * (self.area_side / PAPER_SIDE)


# ------------------------------------------------------ the pure model
def agents(config: LargeScaleConfig) -> list[str]:
    if config.agent_mode == "scheduler":
        return [SCHEDULER]
    return [f"ue_{i}" for i in range(config.n_ues)]


def decision(config: LargeScaleConfig, actions: dict) -> np.ndarray:
    """The ``(*b, N)`` decision from the agents' actions."""
    if config.agent_mode == "scheduler":
        return np.asarray(actions[SCHEDULER], dtype=np.int64)
    return np.stack([np.asarray(actions[a], dtype=np.int64) for a in agents(config)], axis=-1)


def _infos(config: LargeScaleConfig, state: LargeScaleState, requested, result: dict) -> dict:
    latency = result["latency"]
    n = latency.shape[-1]
    total = latency.sum(axis=-1)
    info = {
        "latency": latency,
        "energy": result["energy"],
        "offload": result["offload"],
        "requested": np.asarray(requested, dtype=np.int64),
        "fallback": result["fallback"],
        "power": result["power"],
        "cpu_freq": result["cpu_freq"],
        "edge_cpu": result["edge_cpu"],
        "upload_time": result["upload_time"],
        "weight": np.array(state.weights, dtype=float),
        "objective": result["objective"],
        "latency_sum": total,
        "avg_latency": total / n,
        "offload_rate": (result["offload"] > 0).sum(axis=-1) / n,
        "fallback_rate": result["fallback"].sum(axis=-1) / n,
        "slots": np.ones(latency.shape[:-1]),
    }
    # Split at the weight change (Table III's before / after columns); without a change both are the episode.
    if config.weight_change_slot == 0:
        before = after = np.ones(latency.shape[:-1])
    else:
        after = (state.t >= config.weight_change_slot) * 1.0
        before = 1.0 - after
    info.update(slots_before=before, slots_after=after,
                objective_before=before * info["objective"], objective_after=after * info["objective"])
    return info


def _team(config: LargeScaleConfig, info: dict) -> dict:
    return {agent: info for agent in agents(config)}


def reset_infos(config: LargeScaleConfig, instance: LargeScaleInstance, state: LargeScaleState) -> dict:
    zeros = np.zeros(state.weights.shape, dtype=np.int64)
    result = multi_mec.p21_solve(slot_problem(config, instance, state), zeros, fallback=config.outage_fallback)
    info = _infos(config, state, zeros, result)
    info["clipped_actions"] = np.zeros(instance.batch_shape, dtype=np.int64)
    if config.record_solver_time:
        info["solver_time_s"] = np.zeros(instance.batch_shape)
    return _team(config, info)


def step(config: LargeScaleConfig, instance: LargeScaleInstance, state: LargeScaleState, actions: dict):
    """Decision -> P2.1 (power at P_max, KKT CPU split, local CPU at its cap) -> eq. 13 -> reward."""
    requested = decision(config, actions)
    problem = slot_problem(config, instance, state)
    start = time.perf_counter() if config.record_solver_time else 0.0
    result = multi_mec.p21_solve(problem, requested, fallback=config.outage_fallback)
    info = _infos(config, state, requested, result)
    if config.record_solver_time:
        info["solver_time_s"] = np.full(instance.batch_shape, time.perf_counter() - start)
    with np.errstate(divide="ignore"):
        reward = 1.0 / result["objective"]
    t = state.t + 1
    cqi, weights = slot_channel(config, instance, t)
    new_state = LargeScaleState(t=t, cqi=cqi, weights=weights, offload=result["offload"])
    rewards = {agent: reward for agent in agents(config)}
    terminated = np.zeros(instance.batch_shape, dtype=bool)
    return new_state, Outcome(rewards=rewards, infos=_team(config, info), terminated=terminated)


def global_state(config: LargeScaleConfig, instance: LargeScaleInstance, state: LargeScaleState) -> np.ndarray:
    """``(*b, N M + N)``: the current CQI (row-major) and weights."""
    b = state.cqi.shape[:-2]
    full = np.concatenate([state.cqi.reshape(b + (-1,)), state.weights], axis=-1)
    return np.minimum(full, OBSERVATION_CEILING)


def observe(config: LargeScaleConfig, instance: LargeScaleInstance, state: LargeScaleState) -> dict:
    if config.agent_mode == "scheduler":
        full = global_state(config, instance, state)
        if config.observation == "cqi":
            return {SCHEDULER: full[..., : config.n_ues * config.n_mecs]}
        return {SCHEDULER: full}
    if config.observation == "cqi":
        rows = state.cqi
    else:
        rows = np.concatenate([state.cqi, state.weights[..., None]], axis=-1)
    rows = np.minimum(rows, OBSERVATION_CEILING)
    return {f"ue_{i}": rows[..., i, :] for i in range(config.n_ues)}


def build_spaces(config: LargeScaleConfig):
    n, m = config.n_ues, config.n_mecs
    extra = 0 if config.observation == "cqi" else 1
    state = spaces.Box(0.0, OBSERVATION_CEILING, shape=(n * m + n,), dtype=np.float32)
    if config.agent_mode == "scheduler":
        obs = spaces.Box(0.0, OBSERVATION_CEILING, shape=(n * m + extra * n,), dtype=np.float32)
        return {SCHEDULER: obs}, {SCHEDULER: spaces.MultiDiscrete([m + 1] * n)}, state
    names = agents(config)
    obs = {a: spaces.Box(0.0, OBSERVATION_CEILING, shape=(m + extra,), dtype=np.float32) for a in names}
    return obs, {a: spaces.Discrete(m + 1) for a in names}, state


# ----------------------------------------------------------- rendering
def topology(config: LargeScaleConfig, instance: LargeScaleInstance, state: LargeScaleState) -> dict:
    return {
        "servers": instance.mec_position,
        "users": instance.ue_position,
        "targets": state.offload,
        "area": (config.area_side, config.area_side),
    }


def summary(config: LargeScaleConfig, instance: LargeScaleInstance, state: LargeScaleState) -> str:
    lines = [f"large_scale_v0  N={config.n_ues} M={config.n_mecs}  slot {int(state.t)}/{config.max_cycles}"]
    lines.append("  UE  where   weight  best CQI (bit/s/Hz)  nearest MEC (m)")
    for i in range(config.n_ues):
        where = "local" if state.offload[i] == 0 else f"MEC {int(state.offload[i])}"
        lines.append(f" {i:3d}  {where:6s} {state.weights[i]:7.3f} {state.cqi[i].max():12.2f} "
                     f"{instance.distance[i].min():16.1f}")
    counts = np.bincount(state.offload, minlength=config.n_mecs + 1)
    lines.append(" last decision: local " + str(counts[0]) + ", "
                 + ", ".join(f"MEC {j} {counts[j]}" for j in range(1, config.n_mecs + 1)))
    return "\n".join(lines)


EPISODE_METRICS = {
    "objective": Metric(
        "mean", description="weighted latency sum_i w_i T_i, mean over slots (Table II 'task latency')"
    ),
    "reward": Metric("ratio", "slots", "objective", description="1 / mean weighted latency (Table II 'reward')"),
    "reward_before": Metric("ratio", "slots_before", "objective_before",
                            description="1 / mean weighted latency before weight_change_slot"),
    "reward_after": Metric("ratio", "slots_after", "objective_after",
                           description="1 / mean weighted latency from weight_change_slot on "
                                       "(the episode's without a change)"),
    "avg_latency": Metric("mean", description="mean task latency (s), mean over slots"),
    "offload_rate": Metric("mean", description="fraction of UEs executed at a MEC, mean over slots"),
    "fallback_rate": Metric("mean", description="fraction of UEs moved local by the outage fallback"),
}

MODEL = EnvModel(
    name="large_scale_v0",
    config_cls=LargeScaleConfig,
    instance_cls=LargeScaleInstance,
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


class LargeScaleEnv(MecParallelEnv):
    """The OJRS system as a PettingZoo ParallelEnv; see the module docstring."""

    metadata = {
        "name": "large_scale_v0",
        "render_modes": ["ansi", "rgb_array"],
        "is_parallelizable": True,
        "render_fps": 4,
    }
    model = MODEL


parallel_env, env = entry_points(LargeScaleEnv)
raw_env = parallel_env

__doc__ = env_page(__doc__, LargeScaleConfig, EPISODE_METRICS)
__all__ = [
    "parallel_env",
    "env",
    "raw_env",
    "LargeScaleInstance",
    "LargeScaleState",
    "MEC_LAYOUTS",
    "sample_instance",
    "check_instance",
    "initial_state",
    "slot_gain",
    "slot_channel",
    "slot_problem",
    "decision",
    "step",
    "observe",
    "global_state",
]
