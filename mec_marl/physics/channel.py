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
