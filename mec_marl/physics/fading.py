"""Large-scale path loss in dB and small-scale fading (power gains |h~|^2) from uniforms.

Used by semantic_v0 (DRLH paper, Table II): Rayleigh fading to the MEC,
Rician fading with log-normal shadowing to the MCC. The draws are
transforms of uniform variates on [0, 1) (inverse CDF, Box-Muller), so an
env draws one block of uniforms per instance from that instance's generator
and transforms a whole batch at once. The power gains have unit mean.
"""

from __future__ import annotations

import numpy as np


def log_distance_gain(distance_m, intercept_db: float, slope_db: float):
    """Linear gain 10^(-PL/10) with PL = intercept + slope log10(d / 1 km) (dB)."""
    d_km = np.asarray(distance_m, dtype=float) / 1000.0
    return 10.0 ** (-(intercept_db + slope_db * np.log10(d_km)) / 10.0)


def exponential(uniform):
    """Exp(1) by inversion, -log(1 - U): |h~|^2 of unit-mean Rayleigh fading (dtype kept).

    Floored at half the uniform grid's spacing (U = 0 would give a zero
    channel gain and an infinite transmit power): 6e-8 in float32.
    """
    u = np.asarray(uniform)
    floor = np.finfo(u.dtype).eps / 2 if u.dtype.kind == "f" else 0.0
    return np.maximum(-np.log1p(-u), floor)


def standard_normal(uniform):
    """Box-Muller: an even-length last axis of uniforms -> as many N(0, 1) variates (dtype kept)."""
    u = np.asarray(uniform)
    half = u.shape[-1] // 2
    radius = np.sqrt(2 * exponential(np.ascontiguousarray(u[..., :half])))
    angle = np.ascontiguousarray(u[..., half : 2 * half]) * u.dtype.type(2 * np.pi)
    return np.concatenate([radius * np.cos(angle), radius * np.sin(angle)], axis=-1)


def rician_power(normal_re, normal_im, k_factor: float):
    """|h~|^2 of unit-mean Rician fading with K-factor ``k_factor`` (LOS / scattered power)."""
    los = np.sqrt(k_factor / (k_factor + 1.0))
    scale = np.sqrt(0.5 / (k_factor + 1.0))
    re = np.asarray(normal_re)
    re = re.dtype.type(los) + re.dtype.type(scale) * re
    im = np.asarray(normal_im) * np.asarray(normal_im).dtype.type(scale)
    return re * re + im * im


def lognormal_shadowing(normal, std_db: float):
    """Linear shadowing factor 10^(X/10), X = std_db N(0, 1) dB (dtype kept)."""
    x = np.asarray(normal)
    return np.exp(x * x.dtype.type(std_db * np.log(10.0) / 10.0))
