"""The config of wireless_powered_v0: DROO's wireless-powered system, or LyDROO's queued one (``queues=True``).

Keys that both systems have but with different published values take the
selected system's value when they are not given (:data:`LYDROO_DEFAULTS`),
so ``parallel_env(queues=True)`` is LyDROO's system as published; the
scenario ``wireless_powered_lydroo`` spells every LyDROO constant out.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, ValidationInfo, field_validator, model_validator

from mec_marl.config import Bits, CyclesPerBit, EnvConfig, Hertz, Integer, Joule, MetersRange, Seconds, Watt
from mec_marl.envs import droo_files
from mec_marl.physics import wireless_power as wpt
from mec_marl.solvers.lyapunov_allocation import LyapunovSystem

MAX_LABELLED_DEVICES = 12
# LyDROO's values of the keys whose DROO default differs (LyDROO.py, ResourceAllocation.py).
LYDROO_DEFAULTS = {
    "noise_power": 2e6 * 10 ** (-17.4) * 1e-3,  # W * N_0 with N_0 = -174 dBm/Hz, W = 2 MHz
    "distance_range": (120.0, 255.0),
    "path_loss_exponent": 3.0,
    "observation_scale": 1e10,  # LyDROO's CHFACT
    "reward_scale": 1e-3,
}


class WirelessPoweredConfig(EnvConfig):
    """DROO's constants (SI units); every key bounded to a meaningful range. LyDROO's keys apply with ``queues``."""

    n_devices: Integer = Field(10, ge=1, le=64, description="number of wireless devices N")
    agent_mode: Literal["scheduler", "users"] = Field("scheduler", description="one scheduler, or one agent per device")
    queues: bool = Field(False, description="LyDROO's system: battery-powered devices with data and energy queues")
    ap_power: Watt = Field(3.0, ge=1e-3, le=1e3, description="AP energy-transmit power P (W; not with queues)")
    harvesting_efficiency: float = Field(0.7, gt=0.0, le=1.0, description="energy-harvesting efficiency mu (not with queues)")
    cycles_per_bit: CyclesPerBit = Field(100.0, ge=1.0, le=1e5, description="phi, CPU cycles per bit")
    kappa: float = Field(1e-26, ge=1e-35, le=1e-20, description="computation energy efficiency k")
    bandwidth: Hertz = Field(2e6, ge=1e3, le=1e10, description="uplink bandwidth B (Hz)")
    overhead: float = Field(1.1, ge=1.0, le=10.0, description="communication overhead v_u")
    noise_power: Watt = Field(1e-10, ge=1e-20, le=1e-3, description="noise power N_0 (W; queues: 7.96e-15)")
    weights: tuple[float, ...] | None = Field(
        None, description="device weights w_i in (0, 1e3]; None = 1, 1.5, 1, ... (queues: 1.5, 1, 1.5, ...)"
    )
    antenna_gain: float = Field(3.0, gt=0.0, le=1e3, description="A_d of the average gain (fit to data_10)")
    carrier_frequency: Hertz = Field(915e6, ge=1e6, le=1e12, description="f_c (Hz)")
    path_loss_exponent: float = Field(2.8, ge=1.0, le=6.0, description="d_e (queues: 3)")
    distance_range: MetersRange = Field(
        (2.5, 5.2), description="device distances, equally spaced (m), within [0.1, 1e4] (queues: [120, 255])"
    )
    channel_file: str | None = Field(None, description="DROO .mat file to replay (None = i.i.d. Rayleigh frames)")
    first_frame: Integer = Field(0, ge=0, le=10_000_000, description="first replayed frame of channel_file")
    replay_start: Literal["first_frame", "random"] = Field(
        "first_frame", description="episode starts at first_frame, or at a random frame >= it (window fits the file)"
    )
    exhaustive_labels: bool = Field(
        False, description="i.i.d. mode: label frames by exhaustive search (N <= 12); queues: each slot's P4 optimum"
    )
    max_cycles: Integer = Field(100, ge=1, le=10_000_000, description="frames per episode")
    observation_scale: float = Field(1e6, gt=0.0, le=1e15, description="gain multiplier in observations (queues: 1e10)")
    reward_scale: float = Field(1e-6, gt=0.0, le=1.0, description="reward = Q (queues: the P4 objective) * reward_scale")
    decision_threshold: float = Field(0.5, gt=0.0, lt=1.0, description="scheduler: x_i = 1 iff action_i > this")
    # LyDROO (queues=True) only.
    slot: Seconds = Field(1.0, ge=1e-3, le=10.0, description="queues: slot length T (s)")
    los_fraction: float = Field(0.3, ge=0.0, lt=1.0, description="queues: Rician LOS power fraction (0 = Rayleigh)")
    arrival_mean: Bits = Field(3e6, ge=0.0, le=1e10, description="queues: mean bits arriving per slot (exponential)")
    max_power: Watt = Field(0.1, gt=0.0, le=10.0, description="queues: transmit power limit P_max (W)")
    max_cpu_freq: Hertz = Field(300e6, gt=0.0, le=1e11, description="queues: local CPU limit f_max (Hz)")
    energy_threshold: Joule = Field(0.08, gt=0.0, le=1e3, description="queues: energy budget gamma_i per slot (J)")
    energy_queue_factor: float = Field(1000.0, gt=0.0, le=1e9, description="queues: nu of the energy queue (1/J)")
    energy_queue_weight: float = Field(10.0, gt=0.0, le=1e9, description="queues: c_Y, weight of Y in P4")
    queue_reward: Literal["drift_plus_penalty", "p4"] = Field(
        "drift_plus_penalty",
        description="queues: reward = V x rate - realised Lyapunov drift, or the P4 value (a bound's surrogate)")
    lyapunov_v: float = Field(20.0, ge=0.0, le=1e9, description="queues: V, weight of the computation rate")
    data_unit: Bits = Field(1e6, gt=0.0, le=1e12, description="queues: D (bits), the unit of Q and r in P4")
    queue_observation_scale: float = Field(1e-10, gt=0.0, le=1.0, description="queues: Q multiplier in observations (1/bit)")
    energy_queue_observation_scale: float = Field(1e-4, gt=0.0, le=1e3, description="queues: Y multiplier in observations")

    @model_validator(mode="before")
    @classmethod
    def _system_defaults(cls, data):
        if isinstance(data, dict) and data.get("queues") is True:
            data = {**{k: v for k, v in LYDROO_DEFAULTS.items() if data.get(k) is None}, **data}
        return data

    @field_validator("channel_file")
    @classmethod
    def _readable_file(cls, value, info: ValidationInfo):
        if value is not None:
            data = droo_files.load(value)  # ChannelFileError (a ValueError) names the problem
            n = info.data.get("n_devices")
            if n is not None and data.n_devices != n:
                raise ValueError(f"{value!r} has {data.n_devices} devices per frame; set n_devices={data.n_devices}")
        return value

    @model_validator(mode="after")
    def _consistent(self):
        lo, hi = self.distance_range
        if lo < 0.1 or hi > 1e4:
            raise ValueError(f"distance_range must lie within [0.1, 10000] m, got [{lo:g}, {hi:g}]")
        if self.weights is not None:
            if len(self.weights) != self.n_devices:
                raise ValueError(f"weights has {len(self.weights)} entries for n_devices={self.n_devices}")
            if any(not (0 < w <= 1e3) for w in self.weights):
                raise ValueError("weights must lie in (0, 1000]")
        if self.queues and self.channel_file is not None:
            raise ValueError("queues=True draws its own channels and arrivals: channel_file does not apply")
        if self.channel_file is not None:
            frames = droo_files.load(self.channel_file).n_frames
            if self.first_frame >= frames:
                raise ValueError(f"first_frame={self.first_frame} but channel_file has {frames} frames")
        elif self.exhaustive_labels and self.n_devices > MAX_LABELLED_DEVICES:
            raise ValueError(f"exhaustive_labels needs n_devices <= {MAX_LABELLED_DEVICES}")
        return self

    @property
    def n_users(self) -> int:
        return self.n_devices

    @property
    def system(self) -> wpt.WptSystem:
        return wpt.WptSystem(
            ap_power=self.ap_power,
            efficiency=self.harvesting_efficiency,
            cycles_per_bit=self.cycles_per_bit,
            kappa=self.kappa,
            bandwidth=self.bandwidth,
            overhead=self.overhead,
            noise_power=self.noise_power,
        )

    @property
    def lyapunov_system(self) -> LyapunovSystem:
        """The constants of LyDROO's per-slot problem P4 (``queues=True``)."""
        return LyapunovSystem(
            cycles_per_bit=self.cycles_per_bit,
            kappa=self.kappa,
            bandwidth=self.bandwidth,
            overhead=self.overhead,
            noise_power=self.noise_power,
            max_power=self.max_power,
            max_cpu_freq=self.max_cpu_freq,
            slot=self.slot,
            lyapunov_v=self.lyapunov_v,
            energy_queue_weight=self.energy_queue_weight,
            data_unit=self.data_unit,
        )

    @property
    def device_weights(self) -> np.ndarray:
        if self.weights is not None:
            return np.array(self.weights, dtype=float)
        if self.queues:  # LyDROO: w_i = 1.5 for even i
            return 2.5 - wpt.alternating_weights(self.n_devices)
        return wpt.alternating_weights(self.n_devices)

    @property
    def distances(self) -> np.ndarray:
        return np.linspace(*self.distance_range, self.n_devices)

    @property
    def frames(self) -> int:
        """Frames in an episode's instance: ``max_cycles``, or fewer when the file ends first."""
        if self.channel_file is None:
            return self.max_cycles
        return min(self.max_cycles, droo_files.load(self.channel_file).n_frames - self.first_frame)


def mean_gain(config: WirelessPoweredConfig) -> np.ndarray:
    """``(N,)`` average gains hbar_i = A_d (c / (4 pi f_c d_i))^d_e of the free-space model."""
    return wpt.path_gain(config.distances, config.antenna_gain, config.carrier_frequency, config.path_loss_exponent)
