"""Large-scale path loss in dB and small-scale fading draws (power gains |h~|^2).

Used by semantic_v0 (DRLH paper, Table II): Rayleigh fading to the MEC,
Rician fading with log-normal shadowing to the MCC. Draws take an explicit
generator; the power gains have unit mean.
"""

from __future__ import annotations

import numpy as np


def log_distance_gain(distance_m, intercept_db: float, slope_db: float):
    """Linear gain 10^(-PL/10) with PL = intercept + slope log10(d / 1 km) (dB)."""
    d_km = np.asarray(distance_m, dtype=float) / 1000.0
    return 10.0 ** (-(intercept_db + slope_db * np.log10(d_km)) / 10.0)


def rayleigh_power(rng: np.random.Generator, size):
    """|h~|^2 of unit-mean Rayleigh fading: Exp(1)."""
    return rng.exponential(1.0, size=size)


def rician_power(rng: np.random.Generator, k_factor: float, size):
    """|h~|^2 of unit-mean Rician fading with K-factor ``k_factor`` (LOS / scattered power)."""
    los = np.sqrt(k_factor / (k_factor + 1.0))
    scale = np.sqrt(0.5 / (k_factor + 1.0))
    re = los + scale * rng.standard_normal(size)
    im = scale * rng.standard_normal(size)
    return re * re + im * im


def lognormal_shadowing(rng: np.random.Generator, std_db: float, size):
    """Linear shadowing factor 10^(X/10), X ~ N(0, std_db^2) dB."""
    return 10.0 ** (std_db * rng.standard_normal(size) / 10.0)
