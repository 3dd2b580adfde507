"""Semantic cloud-edge-end offloading under Lyapunov queue control (the DRLH paper).

Ji and Qin, "Computational Offloading in Semantic-Aware Cloud-Edge-End
Collaborative Networks" (IEEE; equation, table and figure numbers below are
the paper's).

This environment is part of the mec-marl suite.

| Import             | ``from mec_marl.envs import semantic_v0``                        |
|--------------------|------------------------------------------------------------------|
| Actions            | Continuous (relaxed association scores)                          |
| Parallel API       | Yes                                                              |
| Manual control     | No                                                               |
| Agents             | ``["controller"]`` or ``["ue_0", ..., "ue_{I-1}"]`` (``users``)  |
| Agents count       | 1 or I                                                           |
| Action shape       | ``(2 I,)`` (``controller``) or ``(2,)`` per UE (``users``)        |
| Action values      | ``[0, 1]``                                                       |
| Observation shape  | ``(6 I,)`` (``controller``) or ``(6,)`` per UE (``users``)        |
| Observation values | channels ``[-20, 20]``, queues ``[0, inf)``                      |
| State shape        | ``(6 I,)``                                                       |

**World (Sec. II, Sec. V, Tables I-II).** I UEs uniform in the annulus
``radius_range`` around the MEC server (origin); the MCC base station
``mcc_distance`` metres away. Path loss ``140.7 + 36.7 log10(d_km)`` dB to
the MEC and ``128.1 + 37.6 log10(d_km)`` dB to the MCC; Rayleigh fading to
the MEC, Rician (K = ``rician_k``) times log-normal shadowing to the MCC,
redrawn every slot (``shadowing="episode"``: one shadowing draw per UE per
episode). Each UE has a local queue Q^L and a dedicated MEC queue Q^E, with
virtual queues Z^L, Z^E (eq. 15-16); Poisson(``arrival_rate`` x ``slot``) tasks
arrive per slot; queues are real-valued and start empty. Fading, shadowing
and arrivals are pre-drawn into the instance over the episode's slots, so
``reset(options={"instance": inst})`` replays an episode exactly.

**Episode.** ``max_cycles`` slots of ``slot`` seconds (10 ms); no termination.
An instance holds its episode's pre-drawn slots, about 160 kB per 1000 slots
at I = 8: a vector env of B = 8192 with 1000-slot episodes holds 1.3 GB, so
give big batches short episodes (queues then restart empty more often).

**Action.** ``controller``: ``Box(0, 1, (2I,))`` = [MEC scores | MCC scores],
the relaxed (rho^E, rho^C) of the DRLH actor; ``users``: UE i sends its own
score pair ``Box(0, 1, (2,))`` and the env quantises all UEs' scores jointly.
Post-processing (``step``): the top-chi quantiser (Sec. IV-A) sets rho^E = 1
for exactly ``chi_mec`` UEs and rho^C = 1 for exactly ``chi_mcc`` UEs (the
largest scores; ties to the lower UE index), independently; then the
allocation (u^E, u^C, f^L, f^E) of P3.1-P3.4 (``solver="closed_form"``, the
paper's) or the exact per-slot optimum (``solver="exact"``); then the queue
updates (eq. 1-2, 15-16).

**Physics.** u^L = tau n^L f^L / l (eq. 5), u^E = tau n^L f^en / l^en (eq. 6),
mu^E = tau n^E f^E / l^de (eq. 7), powers alpha f^3 (eta^E alpha^E at the
MEC). Bandwidth is split equally among the associated UEs (b = BW / chi).
Semantic link: accuracy eps(SNR) = ``semantic_eps_max`` / (1 + exp(-slope
(SNR_dB - midpoint))); p^tx,E is the least power with eps >= ``eps_min``
(eq. 8, 14f), paid in a slot with u^E > 0; the link carries at most
tau b^E / (S k) tasks per slot (eq. 10-11), and none if p^tx,E > ``p_max``.
MCC link: eq. 12 with Shannon's "-1", u^C <= u^C_max at ``p_max``. f^E_max
bounds each UE's MEC share (eq. 14h read per UE).

**Reward.** -G(X(t)), the drift-plus-penalty of eq. 22 with the realised
arrivals and weights Q + Z; ``users`` mode: every UE receives the same team
reward.

**Observation.** Per UE: channel features log10(p_max |h|^2 / (b sigma^2))
to the MEC and to the MCC (the SNR at full power, in bels, clipped to
[-20, 20]) for the current slot, then Q^L, Q^E, Z^L, Z^E. ``controller``:
[chan^E (I) | chan^C (I) | Q^L | Q^E | Z^L | Z^E]; ``users``: UE i's six
values. ``state()`` is the ``controller`` vector.

**Infos** (every agent gets the same dict): per-UE arrays ``rho_mec``,
``rho_mcc``, ``offload`` (2 if associated with the MCC, else 1 if with the MEC,
else 0), ``u_local``, ``u_mec``, ``u_mcc``, ``mu_edge`` (tasks this slot),
``cpu_freq`` (f^L), ``encode_freq`` (f^en), ``edge_cpu`` (f^E), ``power`` (the
UE's transmit power, W), ``ue_power`` (every power term of the UE, W),
``energy`` (``ue_power`` x slot, J), ``arrivals``, the queues after the update
``q_local``, ``q_edge``, ``z_local``, ``z_edge``, and the constraint slack
``slack_backlog`` (14i: Q^L - mu^L), ``slack_clock`` (14g: f^L_max - f^L - f^en),
``slack_edge`` (14j: Q^E - mu^E); scalars ``objective`` (G), ``system_power`` (p(t)
of eq. 13, W), ``system_energy`` (J), ``avg_energy`` (J per UE), ``queue_local``,
``queue_edge``, ``virtual_local``, ``virtual_edge`` (means over UEs after the
update), ``tasks_arrived``, ``tasks_served`` (sum of mu^L),
``clipped_actions``.

**Episode metrics** (``infos[agent]["episode"]`` at the last slot; time averages as in Fig. 4-7):

{episode_metrics}

**Arguments** (``semantic_v0.parallel_env(**kwargs)``): ``scenario``
(``"semantic_scenario1"``: Lambda = 100/s, Q^L_max = 5, Q^E_max = 1, the
defaults; ``"semantic_scenario2"``: Lambda = 750/s, no bounds), ``overrides``,
``render_mode``, ``config`` (a :class:`SemanticConfig`) and the keys below.

{arguments}

**Deviations and readings (SPEC, semantic_v0).** The constants the paper does
not give (l^en, l^de, k_0, path loss, Rician K, shadowing, the eps curve) are
SPEC's. "At most chi_max" associations (14d-e) are read as exactly chi_max
(the paper's 1960 actions). The closed forms use the weights of eq. 22
(Q + Z), where the printed P3.2-P3.4 drop Z; P3.2's weight is Q^L + Z^L. The
semantic link cap uses each UE's band b^E (eq. 11); SPEC writes BW^E; at the
defaults the encoding clock (9.8 tasks/slot) binds before either.

**Levels.** The docs' DRLH reproduction page lists what this env gives for
the paper's methods next to SPEC's reference model.

**Version history.** v0: initial release.
"""

from __future__ import annotations

from typing import Literal, Optional

import numpy as np
from gymnasium import spaces
from pydantic import Field, model_validator

from mec_marl.config import EnvConfig, Hertz, Integer, Meters, MetersRange, Seconds, Watt
from mec_marl.docs import env_page
from mec_marl.envs.base import MecParallelEnv, entry_points
from mec_marl.envs.model import EnvModel, Outcome
from mec_marl.episode import Metric
from mec_marl.envs.semantic_world import (
    SemanticInstance,
    SemanticState,
    _at_slot,
    channel_gains,
    check_instance,
    initial_state,
    sample_batch,
    sample_instance,
    slot_problem,
)
from mec_marl.physics import queues
from mec_marl.solvers import lyapunov
from mec_marl.solvers.quantize_topchi import top_chi

CONTROLLER = "controller"
CHANNEL_CLIP = 20.0


# ----------------------------------------------------------------- config
class SemanticConfig(EnvConfig):
    """Tables I-II of the DRLH paper plus SPEC's constants (SI units); defaults = Scenario I."""

    n_ues: Integer = Field(8, ge=1, le=64, description="number of UEs I")
    agent_mode: Literal["controller", "users"] = Field("controller", description="one controller or one agent per UE")
    chi_mec: Integer = Field(4, ge=0, le=64, description="UEs associated with the MEC per slot (exactly)")
    chi_mcc: Integer = Field(2, ge=0, le=64, description="UEs associated with the MCC per slot (exactly)")
    slot: Seconds = Field(0.01, ge=1e-4, le=1.0, description="slot length tau (s)")
    max_cycles: Integer = Field(1000, ge=1, le=100_000, description="slots per episode")
    arrival_rate: float = Field(100.0, ge=0.0, le=1e5, description="Poisson arrival rate Lambda per UE (tasks/s)")
    q_local_max: Optional[float] = Field(5.0, ge=0.0, le=1e6, description="Q^L_max of eq. 3 (tasks); null: no bound")
    q_edge_max: Optional[float] = Field(1.0, ge=0.0, le=1e6, description="Q^E_max of eq. 4 (tasks); null: no bound")
    lyapunov_v: float = Field(2.0, ge=1e-3, le=1e4, description="Lyapunov factor v of eq. 19")
    alpha_local: float = Field(5.787e-26, ge=1e-35, le=1e-15, description="alpha^L, UE power = alpha f^3 (W/Hz^3)")
    alpha_edge: float = Field(4.45e-26, ge=1e-35, le=1e-15, description="alpha^E, MEC power coefficient (W/Hz^3)")
    eta_edge: float = Field(1.0, ge=0.0, le=100.0, description="eta^E, weight of the MEC power")
    f_local_max: Hertz = Field(1.2e9, ge=1e6, le=1e11, description="f^L_max, UE GPU clock (Hz)")
    f_edge_max: Hertz = Field(1.41e9, ge=1e6, le=1e11, description="f^E_max, MEC GPU clock per UE queue (Hz)")
    flops_per_cycle_local: float = Field(2048.0, ge=1.0, le=1e6, description="n^L, UE GPU cores (FLOP/cycle)")
    flops_per_cycle_edge: float = Field(6912.0, ge=1.0, le=1e6, description="n^E, MEC GPU cores (FLOP/cycle)")
    flops_encode: float = Field(2.5e9, ge=1.0, le=1e15, description="l^en, FLOP to encode a task")
    flops_decode: float = Field(5.5e9, ge=1.0, le=1e15, description="l^de, FLOP to decode a task")
    words_per_task: float = Field(10.0, ge=1.0, le=1e4, description="S, words per task (sentence)")
    symbols_per_word: float = Field(24.0, ge=1.0, le=1e4, description="k, semantic symbols per word")
    bits_per_word: float = Field(40.0, ge=1.0, le=1e5, description="k_0, source bits per word (MCC)")
    eps_min: float = Field(0.9, gt=0.0, lt=1.0, description="eps_min of eq. 14f")
    semantic_eps_max: float = Field(1.0, gt=0.0, le=1.0, description="asymptote of the logistic eps(SNR)")
    semantic_slope_per_db: float = Field(0.5, ge=1e-3, le=10.0, description="slope of the logistic eps(SNR) (1/dB)")
    semantic_midpoint_db: float = Field(0.2, ge=-50.0, le=50.0, description="SNR (dB) where eps = eps_max / 2")
    bandwidth_mec: Hertz = Field(1e6, ge=1e3, le=1e10, description="BW^E, MEC uplink (Hz)")
    bandwidth_mcc: Hertz = Field(50e3, ge=1e3, le=1e10, description="BW^C, MCC uplink (Hz)")
    noise_psd_dbm_per_hz: float = Field(-174.0, ge=-250.0, le=-100.0, description="sigma^2 (dBm/Hz)")
    p_max: Watt = Field(0.1, ge=1e-4, le=100.0, description="UE transmit power cap (W)")
    radius_range: MetersRange = Field(
        (50.0, 150.0), description="UE distance to the MEC, uniform over the annulus [lo, hi] (m), within [1, 1e4]"
    )
    mcc_distance: Meters = Field(500.0, ge=1.0, le=1e5, description="MCC base station to the MEC (m)")
    pathloss_mec_db: tuple[float, float] = Field((140.7, 36.7), description="MEC path loss a + b log10(d_km) (dB)")
    pathloss_mcc_db: tuple[float, float] = Field((128.1, 37.6), description="MCC path loss a + b log10(d_km) (dB)")
    rician_k: float = Field(3.0, ge=0.0, le=100.0, description="Rician K-factor to the MCC")
    shadowing_std_db: float = Field(8.0, ge=0.0, le=30.0, description="log-normal shadowing to the MCC (dB)")
    shadowing: Literal["slot", "episode"] = Field("slot", description="shadowing redrawn every slot or once")
    solver: Literal["closed_form", "exact"] = Field("closed_form", description="P3.1-P3.4 closed forms or exact")

    @model_validator(mode="after")
    def _consistent(self):
        for key in ("chi_mec", "chi_mcc"):
            if getattr(self, key) > self.n_ues:
                raise ValueError(f"{key}={getattr(self, key)} exceeds n_ues={self.n_ues}")
        if self.eps_min >= self.semantic_eps_max:
            raise ValueError(f"eps_min={self.eps_min} must be below semantic_eps_max={self.semantic_eps_max}")
        lo, hi = self.radius_range
        if lo < 1.0 or hi > 1e4:
            raise ValueError(f"radius_range must lie within [1, 1e4], got [{lo:g}, {hi:g}]")
        for key in ("pathloss_mec_db", "pathloss_mcc_db"):
            a, b = getattr(self, key)
            if not (0.0 <= a <= 300.0 and 0.0 <= b <= 100.0):
                raise ValueError(f"{key} must be (intercept in [0, 300], slope in [0, 100]) dB, got {(a, b)}")
        return self

    @property
    def n_users(self) -> int:
        return self.n_ues

    @property
    def noise_psd(self) -> float:
        """sigma^2 in W/Hz."""
        return 10.0 ** ((self.noise_psd_dbm_per_hz - 30.0) / 10.0)

    @property
    def band_mec(self) -> float:
        """b^E = BW^E / chi^E, each associated UE's band (Hz)."""
        return self.bandwidth_mec / max(self.chi_mec, 1)

    @property
    def band_mcc(self) -> float:
        return self.bandwidth_mcc / max(self.chi_mcc, 1)

    def hardware(self) -> lyapunov.Hardware:
        return lyapunov.Hardware(
            slot=self.slot,
            v=self.lyapunov_v,
            flops_local=self.flops_per_cycle_local,
            flops_edge=self.flops_per_cycle_edge,
            flops_encode=self.flops_encode,
            flops_decode=self.flops_decode,
            alpha_local=self.alpha_local,
            alpha_edge=self.eta_edge * self.alpha_edge,
            f_local_max=self.f_local_max,
            f_edge_max=self.f_edge_max,
            mcc_exponent=self.words_per_task * self.bits_per_word / (self.slot * self.band_mcc),
        )


def agents(config: SemanticConfig) -> list[str]:
    if config.agent_mode == "controller":
        return [CONTROLLER]
    return [f"ue_{i}" for i in range(config.n_ues)]


def decode_action(config: SemanticConfig, actions: dict):
    """Relaxed scores -> (rho^E, rho^C) by the top-chi quantiser, ``(*b, I)`` bool each."""
    if config.agent_mode == "controller":
        scores = np.asarray(actions[CONTROLLER], dtype=float)
        mec, mcc = scores[..., : config.n_ues], scores[..., config.n_ues :]
    else:
        stacked = np.stack([np.asarray(actions[f"ue_{i}"], dtype=float) for i in range(config.n_ues)], axis=-2)
        mec, mcc = stacked[..., 0], stacked[..., 1]
    return top_chi(mec, config.chi_mec), top_chi(mcc, config.chi_mcc)


def encode_action(config: SemanticConfig, rho_mec, rho_mcc) -> dict:
    """The actions dict whose quantisation is exactly (rho^E, rho^C) (for heuristics and searches)."""
    mec, mcc = np.asarray(rho_mec, dtype=np.float32), np.asarray(rho_mcc, dtype=np.float32)
    if config.agent_mode == "controller":
        return {CONTROLLER: np.concatenate([mec, mcc], axis=-1)}
    return {f"ue_{i}": np.stack([mec[..., i], mcc[..., i]], axis=-1) for i in range(config.n_ues)}


# ------------------------------------------------------------ the pure model
def _infos(config, rho_mec, rho_mcc, alloc, arrivals, new: SemanticState, objective) -> dict:
    slot = config.slot
    tx = alloc["p_mcc"] + alloc["p_mec"]
    ue_power = alloc["power"]
    system_power = ue_power.sum(axis=-1)
    per_ue = 1.0 / ue_power.shape[-1]
    offload = np.where(rho_mcc, 2, np.where(rho_mec, 1, 0))
    return {
        "rho_mec": rho_mec,
        "rho_mcc": rho_mcc,
        "offload": offload,
        "u_local": alloc["u_local"],
        "u_mec": alloc["u_mec"],
        "u_mcc": alloc["u_mcc"],
        "mu_edge": alloc["mu_edge"],
        "cpu_freq": alloc["f_local"],
        "encode_freq": alloc["f_encode"],
        "edge_cpu": alloc["f_edge"],
        "power": tx,
        "ue_power": ue_power,
        "energy": ue_power * slot,
        "arrivals": arrivals,
        "q_local": new.queue_local,
        "q_edge": new.queue_edge,
        "z_local": new.virtual_local,
        "z_edge": new.virtual_edge,
        "slack_backlog": alloc["slack_backlog"],
        "slack_clock": alloc["slack_clock"],
        "slack_edge": alloc["slack_edge"],
        "objective": objective,
        "system_power": system_power,
        "system_energy": system_power * slot,
        "avg_energy": system_power * (slot * per_ue),
        "queue_local": new.queue_local.sum(axis=-1) * per_ue,
        "queue_edge": new.queue_edge.sum(axis=-1) * per_ue,
        "virtual_local": new.virtual_local.sum(axis=-1) * per_ue,
        "virtual_edge": new.virtual_edge.sum(axis=-1) * per_ue,
        "tasks_arrived": arrivals.sum(axis=-1),
        "tasks_served": alloc["mu_local"].sum(axis=-1),
    }


def _per_agent(config: SemanticConfig, value) -> dict:
    return {a: value for a in agents(config)}


def step(config: SemanticConfig, instance: SemanticInstance, state: SemanticState, actions: dict):
    """Quantise -> P3.1-P3.4 (or exact) -> queues (eq. 1-2, 15-16) -> reward -G (eq. 22)."""
    rho_mec, rho_mcc = decode_action(config, actions)
    problem = slot_problem(config, state, state.gain_mec, state.gain_mcc)
    alloc = lyapunov.solve(problem, config.hardware(), rho_mec, rho_mcc, config.solver)
    arrivals = _at_slot(instance.arrivals, state.t)
    q_local = queues.local_queue_update(state.queue_local, alloc["mu_local"], arrivals)
    q_edge = queues.edge_queue_update(state.queue_edge, alloc["mu_edge"], alloc["u_mec"])
    t_next = state.t + 1
    gain_mec, gain_mcc = channel_gains(config, instance, t_next)
    new = SemanticState(
        queue_local=q_local,
        queue_edge=q_edge,
        virtual_local=queues.virtual_queue_update(state.virtual_local, q_local, config.q_local_max),
        virtual_edge=queues.virtual_queue_update(state.virtual_edge, q_edge, config.q_edge_max),
        rho_mec=rho_mec,
        rho_mcc=rho_mcc,
        gain_mec=gain_mec,
        gain_mcc=gain_mcc,
        t=t_next,
    )
    # G of eq. 22: the solver's per-UE cost plus the arrival term w^L Lambda(t).
    objective = (alloc["cost"] + problem.weight_local * arrivals).sum(axis=-1)
    alloc["slack_backlog"] = state.queue_local - alloc["mu_local"]
    alloc["slack_clock"] = config.f_local_max - alloc["f_local"] - alloc["f_encode"]
    alloc["slack_edge"] = state.queue_edge - alloc["mu_edge"]
    info = _infos(config, rho_mec, rho_mcc, alloc, arrivals, new, objective)
    reward = -objective
    return new, Outcome(
        rewards=_per_agent(config, reward),
        infos=_per_agent(config, info),
        terminated=np.zeros(instance.batch_shape, dtype=bool),
    )


def reset_infos(config: SemanticConfig, instance: SemanticInstance, state: SemanticState) -> dict:
    zeros = np.zeros(state.queue_local.shape)
    alloc = {k: zeros for k in ("u_local", "u_mec", "u_mcc", "mu_edge", "mu_local", "f_local", "f_encode", "f_edge")}
    alloc.update(p_mcc=zeros, p_mec=zeros, power=zeros, slack_backlog=zeros, slack_edge=zeros)
    alloc["slack_clock"] = zeros + config.f_local_max
    info = _infos(config, state.rho_mec, state.rho_mcc, alloc, zeros, state, np.zeros(instance.batch_shape))
    info["clipped_actions"] = np.zeros(instance.batch_shape, dtype=np.int64)
    return _per_agent(config, info)


def _features(config: SemanticConfig, instance: SemanticInstance, state: SemanticState) -> np.ndarray:
    """``(*b, 6, I)``: channel features (MEC, MCC), Q^L, Q^E, Z^L, Z^E."""
    sigma2 = config.noise_psd
    # float32 like the observation space (and several times faster than a float64 log10).
    chan_mec = np.log10((state.gain_mec * (config.p_max / (config.band_mec * sigma2))).astype(np.float32))
    chan_mcc = np.log10((state.gain_mcc * (config.p_max / (config.band_mcc * sigma2))).astype(np.float32))
    return np.stack(
        [
            np.clip(chan_mec, -CHANNEL_CLIP, CHANNEL_CLIP),
            np.clip(chan_mcc, -CHANNEL_CLIP, CHANNEL_CLIP),
            state.queue_local,
            state.queue_edge,
            state.virtual_local,
            state.virtual_edge,
        ],
        axis=-2,
    )


def global_state(config: SemanticConfig, instance: SemanticInstance, state: SemanticState) -> np.ndarray:
    feats = _features(config, instance, state)
    return feats.reshape(feats.shape[:-2] + (-1,))


def observe(config: SemanticConfig, instance: SemanticInstance, state: SemanticState) -> dict:
    feats = _features(config, instance, state)
    if config.agent_mode == "controller":
        return {CONTROLLER: feats.reshape(feats.shape[:-2] + (-1,))}
    return {f"ue_{i}": feats[..., i] for i in range(config.n_ues)}


def _obs_box(n: int) -> spaces.Box:
    low = np.concatenate([np.full(2 * n, -CHANNEL_CLIP), np.zeros(4 * n)]).astype(np.float32)
    high = np.concatenate([np.full(2 * n, CHANNEL_CLIP), np.full(4 * n, np.inf)]).astype(np.float32)
    return spaces.Box(low, high, dtype=np.float32)


def build_spaces(config: SemanticConfig):
    n = config.n_ues
    state = _obs_box(n)
    if config.agent_mode == "controller":
        return {CONTROLLER: _obs_box(n)}, {CONTROLLER: spaces.Box(0.0, 1.0, (2 * n,), np.float32)}, state
    names = agents(config)
    return (
        {a: _obs_box(1) for a in names},
        {a: spaces.Box(0.0, 1.0, (2,), np.float32) for a in names},
        state,
    )


# ----------------------------------------------------------- rendering
def topology(config: SemanticConfig, instance: SemanticInstance, state: SemanticState) -> dict:
    r = config.radius_range[1]
    shift = np.array([r, r])
    return {
        "servers": np.stack([np.zeros(2), instance.mcc_position]) + shift,
        "users": instance.position + shift,
        "targets": np.where(state.rho_mcc, 2, np.where(state.rho_mec, 1, 0)),
        "area": (config.mcc_distance + 2 * r, 2 * r),
    }


def summary(config: SemanticConfig, instance: SemanticInstance, state: SemanticState) -> str:
    lines = [f"semantic_v0  I={config.n_ues}  slot {int(state.t)}/{config.max_cycles}  v={config.lyapunov_v}"]
    lines.append("  UE  MEC MCC     Q^L     Q^E     Z^L     Z^E  d_MEC (m)")
    for i in range(config.n_ues):
        lines.append(
            f" {i:3d}  {int(state.rho_mec[i]):3d} {int(state.rho_mcc[i]):3d} {state.queue_local[i]:7.2f} "
            f"{state.queue_edge[i]:7.2f} {state.virtual_local[i]:7.2f} {state.virtual_edge[i]:7.2f} "
            f"{instance.distance_mec[i]:9.1f}"
        )
    return "\n".join(lines)


EPISODE_METRICS = {
    "objective": Metric("mean", description="time-average drift-plus-penalty G (eq. 22)"),
    "system_power": Metric("mean", description="time-average system power p(t) (W, eq. 13, 14a)"),
    "avg_energy": Metric("mean", description="time-average energy per UE per slot (J)"),
    "queue_local": Metric("mean", description="time-average Q^L per UE (tasks, eq. 3)"),
    "queue_edge": Metric("mean", description="time-average Q^E per UE (tasks, eq. 4)"),
    "virtual_local": Metric("mean", description="time-average Z^L per UE"),
    "virtual_edge": Metric("mean", description="time-average Z^E per UE"),
    "total_energy": Metric("sum", "system_energy", description="energy over the episode (J)"),
    "final_queue_local": Metric("last", "queue_local", description="Q^L per UE at the episode's end"),
    "served_ratio": Metric("ratio", "tasks_served", "tasks_arrived", description="tasks served / tasks arrived"),
}

MODEL = EnvModel(
    name="semantic_v0",
    config_cls=SemanticConfig,
    instance_cls=SemanticInstance,
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


class SemanticEnv(MecParallelEnv):
    """The DRLH paper's cloud-edge-end network as a PettingZoo ParallelEnv; see the module docstring."""

    metadata = {
        "name": "semantic_v0",
        "render_modes": ["ansi", "rgb_array"],
        "is_parallelizable": True,
        "render_fps": 4,
    }
    model = MODEL


parallel_env, env = entry_points(SemanticEnv)
raw_env = parallel_env

__doc__ = env_page(__doc__, SemanticConfig, EPISODE_METRICS)
__all__ = [
    "parallel_env",
    "env",
    "raw_env",
    "SemanticInstance",
    "SemanticState",
    "sample_instance",
    "check_instance",
    "initial_state",
    "step",
    "observe",
    "global_state",
    "channel_gains",
    "slot_problem",
    "decode_action",
    "encode_action",
]
