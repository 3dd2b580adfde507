"""Wireless channel: path loss, Shannon rate, upload time and energy.

All functions broadcast over users (and servers) and take SI inputs.
"""

from __future__ import annotations

import numpy as np


def power_law_gain(distance, exponent: float = -3.0, min_distance: float = 1.0):
    """Channel gain ``g = d^alpha`` (CPDRL eq. 4, alpha = -3 in Table I).

    ``distance`` is floored at ``min_distance`` metres so that a user standing
    on the server does not get an infinite gain.
    """
    d = np.maximum(np.asarray(distance, dtype=float), min_distance)
    return d**exponent


def shannon_rate(bandwidth, power, gain, noise_power):
    """Uplink rate ``R = b log2(1 + p g / sigma^2)`` in bit/s (CPDRL eq. 3).

    OFDMA: each user has its own band, so there is no interference term.
    """
    return np.asarray(bandwidth, dtype=float) * spectral_efficiency(power, gain, noise_power)


def spectral_efficiency(power, gain, noise_power):
    """``log2(1 + p g / sigma^2)`` in bit/s/Hz (the rate per unit bandwidth).

    Through ``log1p``: at a far UTD's resource floor the SNR can be 1e-30,
    where ``1 + snr`` rounds to 1 and the rate (hence the delay) would be lost.
    """
    snr = np.asarray(power, dtype=float) * np.asarray(gain, dtype=float) / noise_power
    return np.log1p(snr) * (1.0 / np.log(2.0))


def upload_time(data_bits, rate):
    """Transmission delay ``T^t = D / R`` (CPDRL eq. 5); ``rate`` must be positive."""
    return np.asarray(data_bits, dtype=float) / rate


def upload_energy(power, upload_seconds):
    """Transmission energy ``E^t = p T^t`` (CPDRL eq. 6)."""
    return np.asarray(power, dtype=float) * np.asarray(upload_seconds, dtype=float)


def distance_matrix(users, servers):
    """Horizontal UE-server distances ``R_ij`` (OJRS eq. 10), shape ``(..., N, M)``.

    ``users`` is ``(..., N, 2)``, ``servers`` ``(..., M, 2)`` (metres).
    """
    u = np.asarray(users, dtype=float)[..., :, None, :]
    s = np.asarray(servers, dtype=float)[..., None, :, :]
    return np.sqrt(((u - s) ** 2).sum(axis=-1))


def path_gain(distance, beta0: float, min_distance: float = 1.0):
    """Large-scale part of OJRS eq. (11), ``beta0 / R^2``; ``R`` floored at ``min_distance``."""
    d = np.maximum(np.asarray(distance, dtype=float), min_distance)
    return beta0 / d**2


def rayleigh_gain(large_scale, fading):
    """Channel power gain ``h_ij = beta0 / R_ij^2 * l_ij`` (OJRS eq. 11).

    ``large_scale`` is :func:`path_gain`; ``fading`` the small-scale power
    ``l_ij ~ Exp(1)`` (Rayleigh amplitude), broadcast against it.
    """
    return np.asarray(large_scale, dtype=float) * np.asarray(fading, dtype=float)

# ------------------------------------------- 3GPP rural macro (DJTCRA eq. 2-5)
SPEED_OF_LIGHT = 3e8  # m/s, as the DJTCRA paper writes it under eq. (5)


def breakpoint_distance(bs_height, ut_height, carrier_frequency):
    """Break-point distance ``d_BP = 2 pi H_BS H_UT f_c / c`` in metres (DJTCRA eq. 5, f_c in Hz)."""
    return 2.0 * np.pi * bs_height * ut_height * np.asarray(carrier_frequency, dtype=float) / SPEED_OF_LIGHT


def _rural_macro_pl1(distance_3d, carrier_ghz, building_height):
    """PL1 of DJTCRA eq. (3) in dB (3GPP TR 38.900 RMa LOS), f_c in GHz."""
    d = np.asarray(distance_3d, dtype=float)
    h172 = building_height**1.72
    return (
        20.0 * np.log10(40.0 * np.pi * d * carrier_ghz / 3.0)
        + min(0.03 * h172, 10.0) * np.log10(d)
        - min(0.044 * h172, 14.77)
        + 0.002 * np.log10(building_height) * d
    )


def rural_macro_path_loss_db(
    distance_2d, bs_height=35.0, ut_height=1.5, carrier_frequency=5e9, building_height=5.0
):
    """Rural-macro LOS path loss in dB (DJTCRA eq. 2-5, 3GPP TR 38.900).

    ``distance_2d`` is the ground distance (m), valid over [10 m, 10 km]; the
    3D distance adds the antenna height difference. Below the break point
    (eq. 5, ~5.5 km at the defaults) PL1 (eq. 3); beyond it
    PL2 = PL1(d_BP) + 40 lg(d_3d / d_BP) (eq. 4), with d_BP taken as a 3D
    distance as eq. (4) writes it. ``carrier_frequency`` is in Hz (eq. 3 reads it in GHz).
    """
    d2 = np.asarray(distance_2d, dtype=float)
    d3 = np.sqrt(d2**2 + (bs_height - ut_height) ** 2)
    ghz = carrier_frequency / 1e9
    d_bp = breakpoint_distance(bs_height, ut_height, carrier_frequency)
    pl1 = _rural_macro_pl1(d3, ghz, building_height)
    pl2 = _rural_macro_pl1(d_bp, ghz, building_height) + 40.0 * np.log10(d3 / d_bp)
    return np.where(d2 <= d_bp, pl1, pl2)


def db_to_gain(path_loss_db):
    """Linear channel gain ``g = 10^(-PL/10)`` of a path loss in dB."""
    return 10.0 ** (-np.asarray(path_loss_db, dtype=float) / 10.0)


def radio_latency(volume_up, volume_down, bandwidth, power, gain, noise_power):
    """Wireless latency ``d^c = (V^T + V^R) / (B log2(1 + I g / N))`` (DJTCRA eq. 1).

    ``noise_power`` is the total in-band noise power (W) over ``bandwidth``,
    per user (SPEC: read as dBm per Hz the median upload would take minutes).
    """
    volume = np.asarray(volume_up, dtype=float) + np.asarray(volume_down, dtype=float)
    return volume / shannon_rate(bandwidth, power, gain, noise_power)


def forwarding_latency(volume_up, volume_down, link_rate, link_delay):
    """Inter-RAN forwarding latency ``d^f = (V^T + V^R) / B_ij + 2 delta_ij`` (DJTCRA eq. 6).

    Callers pass 0 where the task stays at its own RAN (i = j).
    """
    volume = np.asarray(volume_up, dtype=float) + np.asarray(volume_down, dtype=float)
    return volume / link_rate + 2.0 * np.asarray(link_delay, dtype=float)
