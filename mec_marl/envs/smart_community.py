"""Smart communities: m edge communities with task queues and harvesting batteries.

Chen, Xiong, Chen, Min, Li, "Joint Computation Offloading and Resource
Allocation in Multi-Edge Smart Communities With Personalized Federated Deep
Reinforcement Learning" (IEEE Trans. Mobile Comput., 2024; the PFR-OA paper;
equation numbers below are the paper's, Sec. III-IV).

This environment is part of the mec-marl suite.

| Import             | ``from mec_marl.envs import smart_community_v0``                 |
|--------------------|------------------------------------------------------------------|
| Actions            | Continuous                                                       |
| Parallel API       | Yes                                                              |
| Manual control     | No                                                               |
| Agents             | ``agents = ["community_0", ..., "community_{m-1}"]``             |
| Agents count       | m (default 3)                                                    |
| Action shape       | ``(3 n,)``                                                       |
| Action values      | ``[-1, 1]``                                                      |
| Observation shape  | ``(4 n + 5,)`` (``paper``) or ``(7 n + 5,)`` (``full``)          |
| Observation values | ``[0, 1e6]``                                                     |
| State shape        | ``(m * obs_dim,)``                                               |

**World (Sec. III).** m communities, each an AP with an MEC server (F_i Hz,
B_i Hz) and n EDs with a FIFO task buffer, a CPU f_ij, a transmit power P_ij
and a battery (b_max, e_t harvested per sub-slot). Communities do not
interact physically; the multi-agent part is federated training, so each
community is one agent. ED distances l ~ U[distance_range], f_ij, P_ij and
the personal weights q_i = (q_t, q_e, q_p) are drawn once per episode.

**Time and arrivals.** An episode is H time-slots of T sub-slots of
``sub_slot_length`` seconds (``max_cycles`` overrides H T). Tasks arrive at
each ED by a Poisson process (``arrival_rate`` tasks/s), pre-drawn at reset
for the whole episode with D ~ U[data_size_range], C ~ U[cycles_range]
(cycles per task). A task that arrives inside a sub-slot can start at the
next boundary; an ED starts at most one task per sub-slot, when it is idle.

**Action (eq. 18).** ``Box(-1, 1, (3n,))`` = ``[alpha | w | beta]``. alpha_j > 0
offloads ED j's head-of-queue task (the tanh output rounded, C1); w and beta
are mapped to [0, 1], floored at ``min_share`` and renormalised over this
sub-slot's offloaders, so C4 and C5 hold exactly (post-processing). EDs with
no task to start ignore their entries.

**Physics.** Rate r = w B log2(1 + P g / sigma^2) (eq. 1) with the gain
g = ``gain_constant`` l^-``path_loss_exponent`` (the paper's g / l, constants
from SPEC); T^tr = D / r, E^tr = P T^tr (eq. 2-3); T^l = C / f, E^l = k C f^2
(eq. 4-5); T^m = C / (beta F), E^m = P_m T^m (eq. 6-7); T = T^w + local or
upload + edge time (eq. 14), E likewise (eq. 15); T^w is the time from the
task's arrival to its start. The sub-slot's bandwidth and CPU shares hold for
the whole run of the tasks started in it.

**Failures and batteries (C2, C3, eq. 8-13; rules SPEC fixes).** C3 is
checked against the battery at the start of the sub-slot and the whole
task's energy is charged then. A started task runs to completion and fails if
T^w + execution > T_d (C2) or its energy exceeds the battery (C3): locally
eq. 10 charges E^l; an upload that breaks C2 or C3 charges
P min(tau, T^tr) (eq. 12, "h/T" read as the sub-slot tau) and keeps the ED busy
for T^tr; an edge run that breaks them charges E^tr + P_m clip(tau - T^tr, 0,
T^m) (eq. 13, the edge energy inside the sub-slot). A queued task whose
waiting time reaches T_d is dropped (0 J, failed, waiting T_d). Busy EDs
harvest too. Battery full at reset (``initial_battery``). A task's energy in
the metrics is what leaves the battery, min(charge, b + e_t).

**Reward (eq. 19).** Per community and sub-slot, the sum over its tasks
decided or dropped in the sub-slot of -(q_t T + q_e E) for a task that
succeeds and -q_p for one that fails.

**Observation (eq. 17).** Per ED: head-of-queue task D / D_hi and C / C_hi
(0 when the ED is busy or its buffer empty), battery / b_max, l / l_hi;
then B_i / 10 MHz, F_i / 10 GHz, q_t, q_e, q_p / 10. ``observation="full"``
(default) inserts per ED the head task's waiting time / T_d, the buffer
length / 10 and the ED's remaining busy time / T_d (capped at 10), which the
paper's state leaves out but a policy needs to tell a startable task from a
blocked one. ``state()`` concatenates every community's observation.

**Calibration (SPEC).** The paper omits the slot length, the arrival rate,
the noise and path-loss constants; the defaults are SPEC's (sub-slot 0.4 s,
0.72 tasks/s, g = 10^2.63 l^-4, l ~ U[10, 300] m, sigma^2 = 1e-6 W). Two
presets under ``configs/scenarios``: ``smart_community_realistic`` (the
default: P in [0.1, 0.4] W) reproduces Table III's success rate and waiting
time of Local and Edge, but an offloaded task then costs about 1-3 J on
average, not the paper's 55-59 J; ``smart_community_paper_power`` (P in
[100, 400] W as printed) gives Edge energies of the paper's order but far
higher Edge success, and eq. (19) then rewards failing an offloaded task
(its energy term exceeds q_p). Measured with this env (2000 episodes x 3
communities, mean of the per-episode ratios, ``baselines.smart_community.heuristics.levels``):

| preset | rule | B_i | success | energy (J) | waiting (s) | SPEC | paper (Table III) |
|---|---|---|---|---|---|---|---|
| realistic | Local | any | 0.419 | 10.66 | 0.82 | 0.415 / 10.68 / 0.82 | 0.43 / 10.47 / 0.84 |
| realistic | Edge | 5 / 15 / 25 MHz | 0.19 / 0.32 / 0.37 | 1.4 / 2.6 / 3.2 | 1.26 / 1.08 / 0.99 | 0.19 / 0.31 / 0.37; 1.26 / 1.08 / 1.00 s | 0.19 / 0.27 / 0.38; 59 / 58 / 55 J; 1.21 / 1.07 / 0.90 s |
| realistic | Greedy | 5 / 15 / 25 MHz | 0.30 / 0.42 / 0.47 | 3.7 / 5.0 / 5.6 | 1.19 / 1.05 / 0.99 | 0.30 / 0.42 / 0.47 | 0.65 / 0.73 / 0.78; 46 / 45 / 42 J; 0.60 / 0.48 / 0.43 s |
| paper_power | Edge | 5 / 15 / 25 MHz | 0.43 / 0.87 / 0.97 | 74 / 49 / 36 | 0.49 / 0.29 / 0.28 | 0.42 / 0.86 / 0.97; 37-80 J | as above |
| paper_power | Greedy | 5 / 15 / 25 MHz | 0.70 / 0.89 / 0.92 | 36 / 23 / 18 | 0.65 / 0.60 / 0.60 | 0.70 / 0.88 / 0.92 | as above |

Remaining gaps: no reading reproduces Table III's Edge energy together with
its Edge success, nor Greedy's success (0.65-0.78) with realistic powers.
Counting the tasks still queued at the episode's end as failures moves Local
from 0.419 to 0.406 (SPEC: 0.415 to 0.402). Table III's rewards cannot all
come from eq. (19) with one arrival process (SPEC), so reward levels are
reported, not matched. The busy rule of an offloading ED is a config key
(``edge_occupancy``): ``"upload"`` (default, what the levels above use) frees
the ED when its upload ends.

**Infos** (``infos[community_i]``): per-ED arrays ``latency`` (T, s),
``energy`` (J), ``waiting`` (s), ``offload`` (1 = MEC server), ``bandwidth``,
``power``, ``cpu_freq``, ``edge_cpu``, ``success``, ``started``,
``dropped`` (count), ``battery`` (J, after the sub-slot), ``battery_case``
(8-13, the equation applied), ``queue_length``; scalars ``objective`` (sum of
q_t T + q_e E over the started tasks), ``tasks``, ``successes``,
``energy_sum``, ``waiting_sum``, ``latency_sum`` (over the sub-slot's decided
and dropped tasks), ``success_rate``, ``avg_energy``, ``avg_waiting_time``
(of the sub-slot, 0 without tasks), ``clipped_actions``.

**Episode metrics** (``infos[community_i]["episode"]``, over the episode's
decided and dropped tasks; tasks still queued at the end are not counted):

{episode_metrics}

**Arguments** (``smart_community_v0.parallel_env(**kwargs)``): ``scenario``
(``"smart_community_realistic"``, the defaults, or ``"smart_community_paper_power"``), ``overrides``,
``render_mode``, ``config`` and the keys below; quantities accept unit
strings (``bandwidth="5 MHz"``); a bad value raises ``ConfigError`` naming the key.

{arguments}

**Version history.** v0: initial release.
"""
from __future__ import annotations

import math
from typing import Literal

import numpy as np
from gymnasium import spaces
from pydantic import Field, model_validator

from mec_marl.config import (
    BitsRange,
    CyclesRange,
    EnvConfig,
    Hertz,
    HertzRange,
    Integer,
    Joule,
    MetersRange,
    Seconds,
    Watt,
    WattRange,
)
from mec_marl.docs import env_page
from mec_marl.envs.base import MecParallelEnv, entry_points
from mec_marl.envs.model import EnvModel, Outcome
from mec_marl.episode import Metric
from mec_marl.envs.smart_community_world import (
    SmartCommunityInstance,
    SmartCommunityState,
    check_instance,
    sample_batch,
    sample_instance,
)
from mec_marl.envs.smart_community_physics import (
    AGENT_PREFIX,
    head_fields,
    observation_width,
    observe_one,
    subslot,
)

OBS_CEILING = 1e6


# ----------------------------------------------------------------- config
class SmartCommunityConfig(EnvConfig):
    """Sec. V-A of the PFR-OA paper with SPEC's constants (SI units; YAML may use the paper's units)."""

    n_communities: Integer = Field(3, ge=1, le=64, description="number of communities (agents) m")
    n_devices: Integer = Field(5, ge=1, le=64, description="EDs per community n")
    time_slots: Integer = Field(20, ge=1, le=10_000, description="time-slots per episode H")
    sub_slots: Integer = Field(4, ge=1, le=100, description="sub-slots per time-slot T")
    max_cycles: Integer | None = Field(None, ge=1, le=100_000, description="steps per episode (default H T)")
    sub_slot_length: Seconds = Field(0.4, ge=1e-3, le=1e3, description="sub-slot tau (s)")
    arrival_rate: float = Field(0.72, gt=0, le=100.0, description="Poisson task arrivals per ED (tasks/s)")
    data_size_range: BitsRange = Field((0.5 * 8 * 1024**2, 1.5 * 8 * 1024**2), description="D U[lo, hi] (bits)")
    cycles_range: CyclesRange = Field((1e9, 1.2e9), description="C U[lo, hi] (cycles per task)")
    deadline: Seconds = Field(1.5, ge=1e-3, le=1e4, description="maximum tolerable delay T_d (s)")
    cpu_freq_range: HertzRange = Field((1e9, 1.2e9), description="ED CPU f U[lo, hi] (Hz)")
    power_range: WattRange = Field((0.1, 0.4), description="ED transmit power P U[lo, hi] (W)")
    edge_power: Watt = Field(100.0, ge=0, le=1e4, description="MEC computing power P_m (W)")
    kappa: float = Field(1e-26, ge=0, le=1e-20, description="capacitance coefficient k (eq. 5)")
    noise_power: Watt = Field(1e-6, ge=1e-20, le=1.0, description="noise power sigma^2 (W)")
    gain_constant: float = Field(10**2.63, gt=0, le=1e12, description="g_0 of g = g_0 l^-alpha")
    path_loss_exponent: float = Field(4.0, ge=1.0, le=6.0, description="alpha of g = g_0 l^-alpha")
    distance_range: MetersRange = Field((10.0, 300.0), description="ED-AP distance l U[lo, hi] (m)")
    bandwidth: Hertz = Field(15e6, gt=0, le=1e10, description="upload bandwidth B_i (Hz)")
    edge_capacity: Hertz = Field(20e9, gt=0, le=1e13, description="MEC server CPU F_i (Hz)")
    battery_capacity: Joule = Field(120.0, gt=0, le=1e6, description="b_max (J)")
    harvest: Joule = Field(40.0, ge=0, le=1e6, description="energy harvested per sub-slot e_t (J)")
    initial_battery: float = Field(1.0, ge=0, le=1, description="battery at reset, fraction of b_max")
    time_weight_range: tuple[float, float] = Field((0.5, 1.0), description="q_t U[lo, hi]")
    energy_weight_range: tuple[float, float] = Field((0.5, 1.0), description="q_e U[lo, hi]")
    failure_penalty_range: tuple[float, float] = Field((10.0, 20.0), description="q_p U[lo, hi]")
    min_share: float = Field(1e-3, gt=0, le=1, description="floor of w and beta before renormalising")
    edge_occupancy: Literal["upload", "task"] = Field(
        "upload", description="an offloading ED is busy for the upload, or until the edge run ends"
    )
    observation: Literal["full", "paper"] = Field("full", description="observation layout")

    @model_validator(mode="after")
    def _ranges(self):
        for key, lo_ok, hi_ok in (
            ("data_size_range", 1.0, 1e12),
            ("cycles_range", 1.0, 1e14),
            ("cpu_freq_range", 1e6, 1e12),
            ("power_range", 1e-6, 1e4),
            ("distance_range", 1e-2, 1e5),
            ("time_weight_range", 0.0, 1e6),
            ("energy_weight_range", 0.0, 1e6),
            ("failure_penalty_range", 0.0, 1e6),
        ):
            lo, hi = getattr(self, key)
            if lo < lo_ok or hi > hi_ok or lo > hi:
                raise ValueError(f"{key} must be a [lo, hi] pair within [{lo_ok:g}, {hi_ok:g}], got [{lo:g}, {hi:g}]")
        return self

    @property
    def n_users(self) -> int:
        return self.n_devices

    @property
    def episode_length(self) -> int:
        return int(self.max_cycles) if self.max_cycles is not None else self.time_slots * self.sub_slots

    @property
    def task_capacity(self) -> int:
        """Arrivals pre-drawn per ED: the episode's Poisson mean plus ten standard deviations."""
        mean = self.arrival_rate * self.episode_length * self.sub_slot_length
        return int(math.ceil(mean + 10.0 * math.sqrt(mean) + 10.0))


# ------------------------------------------------------ the pure model
def agents(config: SmartCommunityConfig) -> list[str]:
    return [f"{AGENT_PREFIX}{i}" for i in range(config.n_communities)]


def initial_state(config: SmartCommunityConfig, instance: SmartCommunityInstance) -> SmartCommunityState:
    shape = instance.distance.shape
    return SmartCommunityState(
        head=np.zeros(shape, dtype=np.int64),
        tail=np.zeros(shape, dtype=np.int64),  # arrivals are after t = 0: nothing can start at reset
        **head_fields(instance, np.zeros(shape, dtype=np.int64)),
        busy_until=np.zeros(shape),
        battery=np.full(shape, config.initial_battery * config.battery_capacity),
        offload=np.zeros(shape, dtype=bool),
        case=np.full(shape, 8, dtype=np.int64),
        t=np.zeros(instance.batch_shape, dtype=np.int64),
    )


def _split_infos(config, per_community: dict) -> dict:
    """{key: (*b, m, ...)} -> {agent: {key: (*b, ...)}}."""
    out = {}
    for i, agent in enumerate(agents(config)):
        out[agent] = {
            key: value[..., i] if key in SCALAR_KEYS else value[..., i, :] for key, value in per_community.items()
        }
    return out


SCALAR_KEYS = (
    "objective", "tasks", "successes", "energy_sum", "waiting_sum", "latency_sum",
    "success_rate", "avg_energy", "avg_waiting_time",
)


def step(config: SmartCommunityConfig, instance: SmartCommunityInstance, state: SmartCommunityState, actions: dict):
    """Decode (C1, C4, C5) -> eq. 1-15 -> battery cases eq. 8-13 -> drops -> reward eq. 19."""
    action = np.stack([np.asarray(actions[a], dtype=float) for a in agents(config)], axis=-2)
    new_state, rewards, infos = subslot(config, instance, state, action, SmartCommunityState)
    return new_state, Outcome(
        rewards={a: rewards[..., i] for i, a in enumerate(agents(config))},
        infos=_split_infos(config, infos),
        terminated=np.zeros(instance.batch_shape, dtype=bool),
    )


def reset_infos(config: SmartCommunityConfig, instance: SmartCommunityInstance, state: SmartCommunityState) -> dict:
    from mec_marl.envs.smart_community_physics import empty_infos

    infos = _split_infos(config, empty_infos(config, instance, state))
    for info in infos.values():
        info["clipped_actions"] = np.zeros(instance.batch_shape, dtype=np.int64)
    return infos


def observe(config: SmartCommunityConfig, instance: SmartCommunityInstance, state: SmartCommunityState) -> dict:
    obs = np.minimum(observe_one(config, instance, state), OBS_CEILING)  # (*b, m, width)
    return {a: obs[..., i, :] for i, a in enumerate(agents(config))}


def global_state(config, instance, state) -> np.ndarray:
    obs = np.minimum(observe_one(config, instance, state), OBS_CEILING)
    return obs.reshape(obs.shape[:-2] + (-1,))


def build_spaces(config: SmartCommunityConfig):
    n, width = config.n_devices, observation_width(config)
    obs = spaces.Box(0.0, OBS_CEILING, shape=(width,), dtype=np.float32)
    act = spaces.Box(-1.0, 1.0, shape=(3 * n,), dtype=np.float32)
    state = spaces.Box(0.0, OBS_CEILING, shape=(config.n_communities * width,), dtype=np.float32)
    names = agents(config)
    return {a: obs for a in names}, {a: act for a in names}, state


# ----------------------------------------------------------- rendering
def topology(config, instance, state) -> dict:
    """Communities side by side; ED j of a community at angle 2 pi j / n and distance l from its AP."""
    m, n = config.n_communities, config.n_devices
    radius = config.distance_range[1]
    centres = np.stack([radius * (1 + 2 * np.arange(m)), np.full(m, radius)], axis=-1)
    angle = 2 * np.pi * np.arange(n) / n
    ring = np.stack([np.cos(angle), np.sin(angle)], axis=-1)
    users = (centres[:, None, :] + instance.distance[..., None] * ring[None]).reshape(-1, 2)
    targets = (state.offload * (1 + np.arange(m))[:, None]).reshape(-1)
    return {"servers": centres, "users": users, "targets": targets, "area": (2 * m * radius, 2 * radius)}


def summary(config, instance, state) -> str:
    lines = [f"smart_community_v0  m={config.n_communities} n={config.n_devices}  "
             f"step {int(state.t)}/{config.episode_length}"]
    queued = np.maximum(state.tail - state.head, 0)
    for i in range(config.n_communities):
        row = " ".join(
            f"[{'E' if state.offload[i, j] else 'L'} q{int(queued[i, j])} b{state.battery[i, j]:5.1f}]"
            for j in range(config.n_devices)
        )
        lines.append(f" community_{i}: {row}")
    return "\n".join(lines)


EPISODE_METRICS = {
    "success_rate": Metric("ratio", "successes", "tasks", description="task success rate (completed / all tasks)"),
    "avg_energy": Metric("ratio", "energy_sum", "tasks", description="average energy per task (J), failed included"),
    "avg_waiting_time": Metric(
        "ratio", "waiting_sum", "tasks", description="average waiting time per task (s), failed included"
    ),
    "avg_latency": Metric("ratio", "latency_sum", "tasks", description="average delay T (eq. 14) per task (s)"),
    "tasks": Metric("sum", description="tasks decided or dropped in the episode"),
    "objective": Metric("sum", description="sum of q_t T + q_e E over the started tasks (P1)"),
}

MODEL = EnvModel(
    name="smart_community_v0",
    config_cls=SmartCommunityConfig,
    instance_cls=SmartCommunityInstance,
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


class SmartCommunityEnv(MecParallelEnv):
    """m smart communities as a PettingZoo ParallelEnv; see the module docstring."""

    metadata = {
        "name": "smart_community_v0",
        "render_modes": ["ansi", "rgb_array"],
        "is_parallelizable": True,
        "render_fps": 4,
    }
    model = MODEL


parallel_env, env = entry_points(SmartCommunityEnv)
raw_env = parallel_env

__doc__ = env_page(__doc__, SmartCommunityConfig, EPISODE_METRICS)
__all__ = [
    "parallel_env",
    "env",
    "raw_env",
    "SmartCommunityInstance",
    "SmartCommunityState",
    "sample_instance",
    "check_instance",
    "initial_state",
    "step",
    "observe",
    "global_state",
]
