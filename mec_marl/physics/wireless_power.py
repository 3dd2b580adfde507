"""Wireless-powered MEC: harvested energy, local and offloading computation rates.

Bi & Zhang, "Computation rate maximization for wireless powered mobile-edge
computing with binary computation offloading", IEEE TWC 17(6), 2018 (the
system model), as restated by Huang, Bi & Zhang, "Deep reinforcement learning
for online computation offloading in wireless powered mobile-edge computing
networks", IEEE TMC 19(11), 2020 (DROO), Sec. II. Equation numbers below are
DROO's. The frame length is normalised to T = 1 s, so time fractions are
seconds and rates are bits per frame (bits/s).

Every function broadcasts over leading batch axes; the last axis is the
device axis where there is one.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mec_marl.physics.fading import rician_power

SPEED_OF_LIGHT = 3e8  # m/s, as in the free-space model of DROO Sec. V


@dataclasses.dataclass(frozen=True)
class WptSystem:
    """The constants of the TWC 2018 / DROO model (SI units; DROO's values by default).

    Attributes:
        ap_power: P, the AP's RF energy transmit power (W).
        efficiency: mu, the energy-harvesting efficiency.
        cycles_per_bit: phi, CPU cycles to process one bit.
        kappa: k_i, the computation energy efficiency coefficient.
        bandwidth: B, the uplink bandwidth (Hz).
        overhead: v_u > 1, the communication overhead (raw bits per task bit).
        noise_power: N_0, the receiver noise power (W).
    """

    ap_power: float = 3.0
    efficiency: float = 0.7
    cycles_per_bit: float = 100.0
    kappa: float = 1e-26
    bandwidth: float = 2e6
    overhead: float = 1.1
    noise_power: float = 1e-10

    @property
    def eta1(self) -> float:
        """(mu P)^(1/3) / phi: the local-rate constant of DROO eq. (1)."""
        return (self.efficiency * self.ap_power) ** (1.0 / 3.0) / self.cycles_per_bit

    @property
    def eta2(self) -> float:
        """mu P / N_0: the received-SNR constant of DROO eq. (2) (per h^2 a / tau)."""
        return self.efficiency * self.ap_power / self.noise_power

    @property
    def epsilon(self) -> float:
        """B / (v_u ln 2): bits per nat of offloading throughput per unit of time share."""
        return self.bandwidth / (self.overhead * np.log(2.0))


def harvested_energy(gain, a, system: WptSystem):
    """E_i = mu P h_i a T (J), the energy a device harvests in the WPT phase (T = 1)."""
    return system.efficiency * system.ap_power * np.asarray(gain, dtype=float) * np.asarray(a, dtype=float)


def local_rate(gain, a, system: WptSystem):
    """r_L,i = eta1 (h_i / k_i)^(1/3) a^(1/3) (DROO eq. 1), bits/s.

    The optimum of a device that computes through the whole frame on the energy
    it harvested: f_i = (E_i / k_i)^(1/3) cycles/s for T = 1, rate f_i / phi.
    """
    gain = np.asarray(gain, dtype=float)
    return system.eta1 * np.cbrt(gain / system.kappa) * np.cbrt(np.asarray(a, dtype=float))


def offload_rate(gain, a, tau, system: WptSystem):
    """r_O,i = (B tau_i / v_u) log2(1 + mu P a h_i^2 / (tau_i N_0)) (DROO eq. 2), bits/s.

    The device spends all its harvested energy transmitting for tau_i; the
    downlink and uplink gains are equal (reciprocity), hence h_i^2. A device
    given tau_i = 0 offloads nothing (the limit of eq. 2).
    """
    gain = np.asarray(gain, dtype=float)
    tau = np.asarray(tau, dtype=float)
    a = np.asarray(a, dtype=float)
    positive = tau > 0
    safe_tau = np.where(positive, tau, 1.0)
    snr = system.eta2 * gain**2 * a / safe_tau
    rate = system.bandwidth / system.overhead * safe_tau * np.log1p(snr) / np.log(2.0)
    return np.where(positive, rate, 0.0)


def device_rates(gain, offload, a, tau, system: WptSystem):
    """Each device's computation rate (bits/s): eq. (2) if it offloads, else eq. (1)."""
    offload = np.asarray(offload) > 0
    a_dev = np.asarray(a, dtype=float)[..., None]
    return np.where(offload, offload_rate(gain, a_dev, tau, system), local_rate(gain, a_dev, system))


def weighted_sum_rate(gain, offload, a, tau, weights, system: WptSystem):
    """Q(h, x, tau, a) = sum_i w_i [(1 - x_i) r_L,i(a) + x_i r_O,i(a, tau_i)] (DROO problem P1).

    ``gain``, ``offload``, ``tau`` and ``weights`` have the device axis last;
    ``a`` has the batch shape. Returns ``(*b,)`` bits/s.
    """
    return (np.asarray(weights, dtype=float) * device_rates(gain, offload, a, tau, system)).sum(axis=-1)


def path_gain(distance, antenna_gain: float, carrier_frequency: float, exponent: float):
    """Average channel gain A_d (c / (4 pi f_c d))^d_e (the free-space model of DROO Sec. V)."""
    d = np.asarray(distance, dtype=float)
    return antenna_gain * (SPEED_OF_LIGHT / (4.0 * np.pi * carrier_frequency * d)) ** exponent


def alternating_weights(n: int) -> np.ndarray:
    """w = (1, 1.5, 1, 1.5, ...): device 0 has weight 1 (DROO's data files)."""
    return np.where(np.arange(n) % 2 == 1, 1.5, 1.0)


# ---- Battery-powered devices with data queues: LyDROO (Bi, Huang, Wang & Zhang, IEEE TWC 2021, Sec. II)
def transmit_rate(gain, power, bandwidth: float, overhead: float, noise_power: float):
    """R = (W / v_u) log2(1 + P h / N_0), bits/s while transmitting (LyDROO Sec. II-B; tau R bits per slot)."""
    snr = np.asarray(power, dtype=float) * np.asarray(gain, dtype=float) / noise_power
    return bandwidth / overhead * np.log1p(snr) / np.log(2.0)


def transmit_power(gain, rate, bandwidth: float, overhead: float, noise_power: float):
    """P = (N_0 / h)(2^(R v_u / W) - 1), the power that sends at rate ``rate`` (inverse of :func:`transmit_rate`)."""
    gain = np.asarray(gain, dtype=float)
    exponent = np.asarray(rate, dtype=float) * overhead * np.log(2.0) / bandwidth
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(gain > 0, noise_power / np.where(gain > 0, gain, 1.0) * np.expm1(exponent), np.inf)


def rician_gain(mean_gain, normal_re, normal_im, los_fraction: float):
    """g = hbar |alpha|^2 with Rician fading whose line-of-sight carries ``los_fraction`` of the power.

    LyDROO's channel: alpha = x + j y, x ~ N(sqrt(f), (1 - f) / 2), y ~ N(0, (1 - f) / 2),
    so E|alpha|^2 = 1; the K-factor is f / (1 - f), and f = 0 is Rayleigh fading.
    """
    k = los_fraction / (1.0 - los_fraction)
    return np.asarray(mean_gain, dtype=float) * rician_power(normal_re, normal_im, k)
