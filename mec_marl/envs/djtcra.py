"""DJTCRA: edge servers allocate their users' tasks across a distributed edge system.

Chen, Sun, Yu, Taleb, "Joint Task and Computing Resource Allocation in
Distributed Edge Computing Systems via Multi-Agent Deep Reinforcement
Learning" (the DJTCRA paper; equation numbers below are the paper's).

This environment is part of the mec-marl suite.

| Import             | ``from mec_marl.envs import djtcra_v0``                          |
|--------------------|------------------------------------------------------------------|
| Actions            | Continuous (``servers``) / Discrete (``users``)                  |
| Parallel API       | Yes                                                              |
| Manual control     | No                                                               |
| Agents             | ``es_0..es_{H-1}`` (``servers``) or ``user_0..`` (``users``)     |
| Agents count       | H = 7 (``servers``) or U = 100 (``users``)                       |
| Action shape       | ``(U, H)`` scores (``servers``) / ``Discrete(H)`` (``users``)    |
| Observation shape  | ``(U, 9)`` (``servers``, ``users`` + ``state``) / ``(9,)`` (``users``) |
| State shape        | ``(U, 9)``                                                       |

**World (Sec. III, VI-A, Table III).** H radio access networks (RANs), each
with an edge server (ES) of capacity P^h (default [60, 60, 80, 90, 100, 120,
160] GHz), and a remote cloud (RCS). The *world* is fixed: the inter-RAN
rates B_ij ~ U[80, 200] Mbps and delays delta_ij ~ U[10, 20] ms (symmetric)
and the processing factors eta_u^h ~ U[0.5, 8] with the paper's unbalancing
swap: n ~ Multinomial(U, Dirichlet(``eta_swap_concentration`` 1_H)) disjoint
users per ES get their row minimum swapped into column h. It is drawn from
``world_seed`` (default 0: one world for every episode, as the paper fixes
it and as a learner needs, since eta is not observed) or, with
``world_seed=None``, from the reset's generator (a new world per episode).
An experiment that reports means over seeds should pass ``world_seed=s``
with seed s (the paper's "fixed" world is per run; GA-Aware's system QoE
varies by ~5 between worlds).

**Slots.** Each step is one slot; per slot and user (pre-drawn for the
episode): connected RAN uniform, 2D distance U[30, 100] m, in-band noise
power U[-120, -80] dBm (total over the user's band), bandwidth U[16, 56] MHz
(``[2, 7] x 8 MHz``, continuous), V^T U[200, 800] KB, V^R U[10, 20] KB,
kappa U[228, 328] cycles/bit, alpha ~ N(15, 4^2) 1/s and beta ~ N(350, 10^2)
ms, both redrawn until positive. The paper redraws users per episode; here
per slot (SPEC).

**Physics.** Path loss: 3GPP rural macro LOS (eq. 2-5; h_bar 5 m, H_BS 35 m,
H_UT 1.5 m, f_c 5 GHz: the break point is ~5.5 km, so PL1 applies at 30-100
m). Wireless latency d^c (eq. 1, transmit power 20 dBm), forwarding d^f
(eq. 6; 0 when the task stays at its own RAN), processing d^p = eta V^T
kappa / p (eq. 8), D = d^c + d^f + d^p (eq. 9), QoE = L / (1 + exp(alpha (D -
beta))) (eq. 11, L = 1). Remote cloud (missing from the paper; SPEC):
D^RCS = d^c + (V^T + V^R) / 100 Mbps + 2 x 200 ms + V^T kappa / 20 GHz.

**Actions (eq. 20-21).** ``servers``: agent ``es_h`` gives a ``(U, H)`` score
array; the env reads only the rows of the users connected to RAN h and sends
each to the argmax of its row (ties: lowest index, so an all-zero row means
ES 0). ``users``: agent ``user_u`` picks its ES (VDN-L, VDN-G, IDQN).

**Post-processing (P2, eq. 17).** Each ES shares its capacity among the
users allocated to it to maximise their summed QoE, where a user may be
sent on to the cloud: the ES maximises sum_u max(QoE_u^RCS, QoE_u(p_u))
(still a sum of sigmoids) with :func:`mec_marl.solvers.sigmoidal.allocate`.
A user whose cloud QoE wins (or who gets no CPU) is a cloud user (CU) and
gets the cloud's latency and QoE. ``allocation="proportional"`` instead
splits P^h in proportion to eta V^T kappa (equal processing times), still
with the cloud fallback.

**Observations (eq. 18-19).** Rows ``[h, V^T, V^R, kappa, alpha, beta,
distance, B_u, N_u]`` of the current slot's users; ``h`` is the connected
RAN numbered from 1 (so an all-zero row is "not mine"). ``es_h`` sees the
rows of the users connected to RAN h, the other rows zeroed; ``state()`` is
every row. ``observation_scale="normalised"`` (default) divides each column
by its config upper bound (h by H, alpha and beta by their means) and maps
the noise in dBm onto [0, 1]; ``"si"`` gives SI values (noise in W).
``users`` mode: ``user_u`` sees its own row (``user_observation="own"``) or
the whole state (``"state"``, VDN-G). After the last step the observation
repeats the last slot.

**Reward (eq. 23).** The system QoE (sum over users) to every agent.

**Infos** (every agent): per-user ``latency`` (s), ``qoe``, ``assignment``
(the chosen ES, 0-based), ``offload`` (1..H the ES, H + 1 the cloud),
``edge_cpu`` (Hz), ``cloud`` and ``success`` (QoE > 0.9, an SU); scalars
``objective`` = ``system_qoe``, ``avg_latency``, ``su``, ``du``, ``gu``,
``cu`` (users with QoE > 0.9, in [0.1, 0.9], < 0.1, at the cloud) and
``own_qoe`` (``es_h``: r^h, the QoE of its connected users; ``user_u``: its own).

**Episode metrics** (``infos[agent]["episode"]`` at the last step):

{episode_metrics}

**Arguments** (``djtcra_v0.parallel_env(**kwargs)``): ``scenario``,
``overrides``, ``render_mode``, ``config`` (a :class:`DjtcraConfig`) and the
keys below; quantities accept unit strings (``capacities=["60 GHz", ...]``).

{arguments}

**Deviations.** The cloud latency is SPEC's (the paper gives none); with it
every GU is also a CU and CU ~ 1.6 GU, so the paper's "CUs slightly fewer
than GUs" (Fig. 6d) is not reproduced. Users are redrawn per slot, not per
episode. The sub-problem is solved by our sigmoidal solver, not the paper's
Julia optimiser.

**Version history.** v0: initial release.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, Optional

import numpy as np
from gymnasium import spaces
from pydantic import Field, model_validator

from mec_marl.config import (
    Bits,
    BitsPerSecond,
    BitsPerSecondRange,
    BitsRange,
    CyclesPerBitRange,
    EnvConfig,
    Hertz,
    HertzRange,
    Integer,
    Meters,
    MetersRange,
    Seconds,
    SecondsRange,
    Watt,
)
from mec_marl.docs import env_page
from mec_marl.envs import djtcra_world as world
from mec_marl.envs.base import MecParallelEnv, entry_points
from mec_marl.envs.model import EnvModel, Outcome
from mec_marl.episode import Metric
from mec_marl.physics import qoe as qoe_lib
from mec_marl.solvers import sigmoidal

DjtcraInstance = world.DjtcraInstance
CAPACITIES = (60e9, 60e9, 80e9, 90e9, 100e9, 120e9, 160e9)


# ----------------------------------------------------------------- config
class DjtcraConfig(EnvConfig):
    """Sec. VI-A and Table III of the DJTCRA paper (SI units; YAML may use the paper's)."""

    num_users: Integer = Field(100, ge=1, le=1000, description="number of users |U|")
    n_servers: Integer = Field(7, ge=1, le=32, description="number of RANs / ESs |H|")
    capacities: tuple[Hertz, ...] = Field(CAPACITIES, description="P^h per ES (Hz), one per ES, each in [1 MHz, 10 THz]")
    cloud_cpu: Hertz = Field(20e9, ge=1e6, le=1e13, description="RCS processing speed per task (Hz)")
    cloud_rate: BitsPerSecond = Field(1e8, ge=1e3, le=1e12, description="RAN-RCS rate (bit/s)")
    cloud_delay: Seconds = Field(0.2, ge=0.0, le=10.0, description="RAN-RCS one-way propagation delay (s)")
    distance_range: MetersRange = Field((30.0, 100.0), description="2D user-RAN distance U[lo, hi] (m), within [10, 10000]")
    noise_dbm_range: tuple[float, float] = Field((-120.0, -80.0), description="in-band noise U[lo, hi] (dBm), within [-200, 30]")
    bandwidth_range: HertzRange = Field((16e6, 56e6), description="B_u U[lo, hi] (Hz), within [1 kHz, 10 GHz]")
    tx_power: Watt = Field(0.1, ge=1e-6, le=100.0, description="transmit power I_u (W)")
    task_volume_range: BitsRange = Field((200 * 8192.0, 800 * 8192.0), description="V^T U[lo, hi] (bits), within [1, 1e10]")
    task_volume_max: Optional[Bits] = Field(
        None, ge=1.0, le=1e10, description="upper bound of V^T (bits; Fig. 10's MTV): replaces task_volume_range's hi; None: keep it"
    )
    result_volume_range: BitsRange = Field((10 * 8192.0, 20 * 8192.0), description="V^R U[lo, hi] (bits), within [0, 1e10]")
    cycles_per_bit_range: CyclesPerBitRange = Field((228.0, 328.0), description="kappa U[lo, hi], within [1e-3, 1e5]")
    alpha_mean: float = Field(15.0, gt=0.0, le=1e4, description="mean of alpha (1/s); redrawn until positive")
    alpha_std: float = Field(4.0, ge=0.0, le=1e4, description="std of alpha (1/s)")
    beta_mean: Seconds = Field(0.35, gt=0.0, le=100.0, description="mean of beta (s); redrawn until positive")
    beta_std: Seconds = Field(0.01, ge=0.0, le=100.0, description="std of beta (s)")
    qoe_ceiling: float = Field(1.0, gt=0.0, le=1e3, description="L_u")
    eta_range: tuple[float, float] = Field((0.5, 8.0), description="eta U[lo, hi] before the swap, within [1e-3, 1e3]")
    eta_swap: bool = Field(True, description="apply the unbalancing swap of Sec. VI-A")
    eta_swap_concentration: float = Field(1.0, gt=0.0, le=1e3, description="Dirichlet concentration of the swap counts")
    link_rate_range: BitsPerSecondRange = Field((8e7, 2e8), description="B_ij U[lo, hi] (bit/s), within [1e3, 1e12]")
    link_delay_range: SecondsRange = Field((0.01, 0.02), description="delta_ij U[lo, hi] (s), within [0, 10]")
    bs_height: Meters = Field(35.0, ge=10.0, le=150.0, description="H_BS (m)")
    ut_height: Meters = Field(1.5, ge=1.0, le=10.0, description="H_UT (m)")
    building_height: Meters = Field(5.0, ge=5.0, le=50.0, description="average building height h_bar (m)")
    carrier_frequency: Hertz = Field(5e9, ge=5e8, le=3e10, description="f_c (Hz)")
    world_seed: Optional[Integer] = Field(0, ge=0, le=2**32 - 1, description="seed of the fixed world; None: a new world per episode")
    max_cycles: Integer = Field(10, ge=1, le=1_000_000, description="slots per episode")
    agent_mode: Literal["servers", "users"] = Field("servers", description="ESs as agents, or one agent per user")
    user_observation: Literal["own", "state"] = Field("own", description="users mode: own row or the state")
    observation_scale: Literal["normalised", "si"] = Field("normalised", description="observation units")
    allocation: Literal["sigmoidal", "proportional"] = Field("sigmoidal", description="per-ES CPU split")

    @model_validator(mode="after")
    def _consistent(self):
        if len(self.capacities) != self.n_servers:
            raise ValueError(
                f"capacities has {len(self.capacities)} entries but n_servers is {self.n_servers}: give one per ES"
            )
        if any(not 1e6 <= c <= 1e13 for c in self.capacities):
            raise ValueError(f"capacities must each lie in [1e6, 1e13] Hz, got {list(self.capacities)}")
        if self.task_volume_max is not None:  # a scalar for Fig. 10's sweep; the range stays the one source
            lo = self.task_volume_range[0]
            if self.task_volume_max < lo:
                raise ValueError(f"task_volume_max {self.task_volume_max:g} bits is below task_volume_range's low {lo:g}")
            object.__setattr__(self, "task_volume_range", (lo, float(self.task_volume_max)))
        for key, lo_ok, hi_ok in (
            ("distance_range", 10.0, 1e4),
            ("noise_dbm_range", -200.0, 30.0),
            ("bandwidth_range", 1e3, 1e10),
            ("task_volume_range", 1.0, 1e10),
            ("result_volume_range", 0.0, 1e10),
            ("cycles_per_bit_range", 1e-3, 1e5),
            ("eta_range", 1e-3, 1e3),
            ("link_rate_range", 1e3, 1e12),
            ("link_delay_range", 0.0, 10.0),
        ):
            lo, hi = getattr(self, key)
            if lo < lo_ok or hi > hi_ok or lo > hi:
                raise ValueError(f"{key} must be an ordered pair within [{lo_ok:g}, {hi_ok:g}], got [{lo:g}, {hi:g}]")
        return self

    @property
    def n_users(self) -> int:
        return self.num_users


# ---------------------------------------------------------------- state
@dataclasses.dataclass(frozen=True)
class DjtcraState:
    """The last slot's outcome, arrays over ``*b``.

    Attributes:
        t: ``(*b,)`` slots taken.
        assignment: ``(*b, U)`` the ES each task was allocated to (-1 before the first step).
        qoe: ``(*b, U)`` QoE of the last slot.
        cloud: ``(*b, U)`` bool, the task went on to the cloud.
    """

    t: np.ndarray
    assignment: np.ndarray
    qoe: np.ndarray
    cloud: np.ndarray


def sample_instance(config: DjtcraConfig, rng: np.random.Generator, batch_shape: tuple = ()) -> DjtcraInstance:
    return world.sample_instance(config, rng, batch_shape)


def sample_batch(config: DjtcraConfig, rngs: list) -> DjtcraInstance:
    return world.sample_batch(config, rngs)


def check_instance(config: DjtcraConfig, instance) -> DjtcraInstance:
    return world.check_instance(config, instance)


def initial_state(config: DjtcraConfig, instance: DjtcraInstance) -> DjtcraState:
    b, U = instance.batch_shape, config.num_users
    return DjtcraState(
        t=np.zeros(b, dtype=np.int64),
        assignment=np.full(b + (U,), -1, dtype=np.int64),
        qoe=np.zeros(b + (U,)),
        cloud=np.zeros(b + (U,), dtype=bool),
    )


# ------------------------------------------------- action, post-processing
def agents(config: DjtcraConfig) -> list[str]:
    if config.agent_mode == "servers":
        return [f"es_{h}" for h in range(config.n_servers)]
    return [f"user_{u}" for u in range(config.num_users)]


def decode_action(config: DjtcraConfig, instance: DjtcraInstance, t, actions: dict) -> np.ndarray:
    """``(*b, U)`` ES per user (eq. 21): the argmax of the connected ES's row, or the user's choice."""
    names = agents(config)
    if config.agent_mode == "users":
        return np.stack([np.asarray(actions[a], dtype=np.int64) for a in names], axis=-1)
    ran = world.at_slot(instance.ran, t)
    assignment = np.zeros(ran.shape, dtype=np.int64)
    for h, a in enumerate(names):  # only agent h's rows of its connected users are read
        mine = ran == h
        assignment[mine] = np.argmax(np.broadcast_to(np.asarray(actions[a]), ran.shape + (config.n_servers,))[mine], axis=-1)
    return assignment


def _pack(assignment: np.ndarray, n_servers: int):
    """Group users by ES: ``(index, mask)`` of shape ``(N, H, K)`` over the flattened batch ``N``."""
    flat = assignment.reshape(-1, assignment.shape[-1])
    N, U = flat.shape
    order = np.argsort(flat, axis=-1, kind="stable")
    server = np.take_along_axis(flat, order, axis=-1)
    counts = (flat[:, :, None] == np.arange(n_servers)).sum(axis=1)  # (N, H)
    start = np.cumsum(counts, axis=-1) - counts
    rank = np.arange(U) - np.take_along_axis(start, server, axis=-1)
    K = max(int(counts.max()), 1)
    index = np.zeros((N, n_servers, K), dtype=np.int64)
    mask = np.zeros((N, n_servers, K), dtype=bool)
    rows = np.repeat(np.arange(N), U)
    index[rows, server.ravel(), rank.ravel()] = order.ravel()
    mask[rows, server.ravel(), rank.ravel()] = True
    return index, mask


def allocate_cpu(config: DjtcraConfig, assignment, base_latency, work, alpha, beta, floor) -> np.ndarray:
    """``(*b, U)`` CPU (Hz) each ES gives each of its users (P2 with the cloud floor, or proportional)."""
    shape = assignment.shape
    H = config.n_servers
    index, mask = _pack(assignment, H)
    N = index.shape[0]

    def packed(a):
        return np.take_along_axis(np.broadcast_to(a, shape).reshape(N, 1, -1), index.reshape(N, 1, -1), axis=-1).reshape(
            index.shape
        )

    capacity = np.broadcast_to(np.asarray(config.capacities), (N, H))
    w = packed(work)
    if config.allocation == "proportional":
        share = np.where(mask, w, 0.0)
        x = capacity[..., None] * share / np.maximum(share.sum(axis=-1, keepdims=True), 1e-300)
    else:
        result = sigmoidal.allocate(
            packed(alpha), packed(base_latency), np.where(mask, w, 1.0), packed(beta), capacity,
            ceiling=config.qoe_ceiling, floor=packed(floor), mask=mask,
        )
        x = result.allocation
    out = np.zeros((N, shape[-1]))
    rows = np.broadcast_to(np.arange(N)[:, None, None], index.shape)
    out[rows[mask], index[mask]] = x[mask]
    return out.reshape(shape)


def slot_outcome(config: DjtcraConfig, instance: DjtcraInstance, t, assignment) -> dict:
    """Latency (eq. 1, 6, 8, 9 or the cloud's), QoE (eq. 11) and CPU of one slot's allocation."""
    s = world.slot(instance, t)
    base = s["radio"] + world.forwarding(instance, s, assignment)
    work = world.work(instance, s, assignment)
    cpu = allocate_cpu(config, assignment, base, work, s["alpha"], s["beta"], s["cloud_qoe"])
    with np.errstate(divide="ignore"):
        edge_latency = base + work / np.where(cpu > 0, cpu, 0.0)
    edge_qoe = qoe_lib.sigmoid_qoe(edge_latency, s["alpha"], s["beta"], config.qoe_ceiling)
    cloud = (cpu <= 0) | (edge_qoe <= s["cloud_qoe"])
    return {
        "latency": np.where(cloud, s["cloud_latency"], edge_latency),
        "qoe": np.where(cloud, s["cloud_qoe"], edge_qoe),
        "edge_cpu": np.where(cloud, 0.0, cpu),
        "cloud": cloud,
        "ran": s["ran"],
    }


def _infos(config: DjtcraConfig, assignment, out: dict) -> dict:
    qoe, latency, cloud = out["qoe"], out["latency"], out["cloud"]
    klass = qoe_lib.qoe_class(qoe)
    system = qoe.sum(axis=-1)
    shared = {
        "latency": latency,
        "qoe": qoe,
        "assignment": assignment,
        "offload": np.where(cloud, config.n_servers + 1, assignment + 1).astype(np.int64),
        "edge_cpu": out["edge_cpu"],
        "cloud": cloud,
        "success": klass == 2,
        "objective": system,
        "system_qoe": system,
        "avg_latency": latency.mean(axis=-1),
        "su": (klass == 2).sum(axis=-1).astype(float),
        "du": (klass == 1).sum(axis=-1).astype(float),
        "gu": (klass == 0).sum(axis=-1).astype(float),
        "cu": cloud.sum(axis=-1).astype(float),
    }
    infos = {}
    for i, agent in enumerate(agents(config)):
        info = dict(shared)
        if config.agent_mode == "servers":
            info["own_qoe"] = np.where(out["ran"] == i, qoe, 0.0).sum(axis=-1)
        else:
            info["own_qoe"] = qoe[..., i]
        infos[agent] = info
    return infos


def step(config: DjtcraConfig, instance: DjtcraInstance, state: DjtcraState, actions: dict):
    """Decode (eq. 21) -> per-ES sigmoidal allocation (P2) -> latency and QoE -> system QoE (eq. 23)."""
    assignment = decode_action(config, instance, state.t, actions)
    out = slot_outcome(config, instance, state.t, assignment)
    infos = _infos(config, assignment, out)
    reward = out["qoe"].sum(axis=-1)
    new_state = DjtcraState(t=state.t + 1, assignment=assignment, qoe=out["qoe"], cloud=out["cloud"])
    rewards = {a: reward for a in agents(config)}
    return new_state, Outcome(rewards=rewards, infos=infos, terminated=np.zeros(instance.batch_shape, dtype=bool))


def reset_infos(config: DjtcraConfig, instance: DjtcraInstance, state: DjtcraState) -> dict:
    b, U = instance.batch_shape, config.num_users
    out = {
        "latency": np.zeros(b + (U,)),
        "qoe": np.zeros(b + (U,)),
        "edge_cpu": np.zeros(b + (U,)),
        "cloud": np.zeros(b + (U,), dtype=bool),
        "ran": world.at_slot(instance.ran, state.t),
    }
    infos = _infos(config, np.zeros(b + (U,), dtype=np.int64), out)
    for info in infos.values():
        info["offload"] = np.zeros(b + (U,), dtype=np.int64)
        for key in ("su", "du", "gu", "cu"):
            info[key] = np.zeros(b)
        info["clipped_actions"] = np.zeros(b, dtype=np.int64)
    return infos


# ----------------------------------------------------------- observations
def global_state(config: DjtcraConfig, instance: DjtcraInstance, state: DjtcraState) -> np.ndarray:
    """``(*b, U, 9)`` system state (eq. 19) of the current slot."""
    return world.rows(config, instance, np.minimum(state.t, config.max_cycles - 1))


def observe(config: DjtcraConfig, instance: DjtcraInstance, state: DjtcraState) -> dict:
    rows = global_state(config, instance, state)
    names = agents(config)
    if config.agent_mode == "users":
        if config.user_observation == "state":
            return {a: rows for a in names}
        return {a: rows[..., u, :] for u, a in enumerate(names)}
    ran = world.at_slot(instance.ran, np.minimum(state.t, config.max_cycles - 1))
    return {a: rows * (ran == h)[..., None].astype(rows.dtype) for h, a in enumerate(names)}


def build_spaces(config: DjtcraConfig):
    U, H = config.num_users, config.n_servers
    table = spaces.Box(0.0, np.inf, shape=(U, 9), dtype=np.float32)
    if config.agent_mode == "servers":
        obs = {a: table for a in agents(config)}
        act = {a: spaces.Box(0.0, 1.0, shape=(U, H), dtype=np.float32) for a in agents(config)}
    else:
        own = table if config.user_observation == "state" else spaces.Box(0.0, np.inf, shape=(9,), dtype=np.float32)
        obs = {a: own for a in agents(config)}
        act = {a: spaces.Discrete(H) for a in agents(config)}
    return obs, act, table


# ----------------------------------------------------------- rendering
def topology(config: DjtcraConfig, instance: DjtcraInstance, state: DjtcraState) -> dict:
    # The picture shows the last slot's decision next to where those users were.
    last = np.maximum(state.t - 1, 0)
    servers, users, area = world.layout(config, instance, last)
    done = state.assignment >= 0
    targets = np.where(done, np.where(state.cloud, config.n_servers + 1, state.assignment + 1), 0)
    return {"servers": servers, "users": users, "targets": targets, "area": area, "cloud": True}


def summary(config: DjtcraConfig, instance: DjtcraInstance, state: DjtcraState) -> str:
    t = int(state.t)
    lines = [f"djtcra_v0  |U|={config.num_users}  |H|={config.n_servers}  slot {t}/{config.max_cycles}"]
    if t == 0:
        lines.append(" no allocation yet")
        return "\n".join(lines)
    ran = world.at_slot(instance.ran, t - 1)
    lines.append(" ES  P^h (GHz)  CA users  PA users  r^h (QoE)")
    for h in range(config.n_servers):
        r = float(state.qoe[ran == h].sum())
        pa = int(((state.assignment == h) & ~state.cloud).sum())
        lines.append(f" {h:2d}  {config.capacities[h] / 1e9:9.1f}  {int((ran == h).sum()):8d}  {pa:8d}  {r:9.3f}")
    lines.append(f" cloud users {int(state.cloud.sum())}   system QoE {float(state.qoe.sum()):.3f}")
    return "\n".join(lines)


EPISODE_METRICS = {
    "system_qoe": Metric("mean", description="system QoE (sum over users) per slot, averaged over the episode"),
    "avg_latency": Metric("mean", description="average service latency (s), averaged over the episode"),
    "su": Metric("mean", description="users with QoE > 0.9 per slot"),
    "du": Metric("mean", description="users with QoE in [0.1, 0.9] per slot"),
    "gu": Metric("mean", description="users with QoE < 0.1 per slot"),
    "cu": Metric("mean", description="users served by the cloud per slot"),
    "own_qoe": Metric("mean", description="the agent's own r^h (ES) or QoE (user) per slot"),
}

MODEL = EnvModel(
    name="djtcra_v0",
    config_cls=DjtcraConfig,
    instance_cls=DjtcraInstance,
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


class DjtcraEnv(MecParallelEnv):
    """The DJTCRA system as a PettingZoo ParallelEnv; see the module docstring."""

    metadata = {"name": "djtcra_v0", "render_modes": ["ansi", "rgb_array"], "is_parallelizable": True, "render_fps": 4}
    model = MODEL


parallel_env, env = entry_points(DjtcraEnv)
raw_env = parallel_env

__doc__ = env_page(__doc__, DjtcraConfig, EPISODE_METRICS)
__all__ = [
    "parallel_env",
    "env",
    "raw_env",
    "DjtcraInstance",
    "DjtcraState",
    "sample_instance",
    "check_instance",
    "initial_state",
    "step",
    "observe",
    "global_state",
    "decode_action",
    "slot_outcome",
    "allocate_cpu",
]
