"""Task queues and Lyapunov virtual queues (DRLH paper, eq. 1-2, 15-16, 22).

Queues are real-valued task counts per UE; every function broadcasts over
leading batch axes. ``None`` for a queue bound means "no bound" (Scenario II
of the DRLH paper), where the virtual queue stays at zero.
"""

from __future__ import annotations

import numpy as np


def local_queue_update(queue, served, arrivals):
    """Q^L(t+1) = max(Q^L(t) - mu^L(t), 0) + Lambda(t) (eq. 1)."""
    return np.maximum(np.asarray(queue, dtype=float) - served, 0.0) + arrivals


def edge_queue_update(queue, served, offloaded):
    """Q^E(t+1) = max(Q^E(t) - mu^E(t), 0) + u^E(t) (eq. 2)."""
    return np.maximum(np.asarray(queue, dtype=float) - served, 0.0) + offloaded


def virtual_queue_update(virtual, next_queue, bound):
    """Z(t+1) = max(Z(t) + Q(t+1) - Q_max, 0) (eq. 15 for Q^L, eq. 16 for Q^E).

    ``bound=None`` (no queue-length constraint) keeps the virtual queue at zero.
    """
    virtual = np.asarray(virtual, dtype=float)
    if bound is None:
        return np.zeros_like(virtual)
    return np.maximum(virtual + next_queue - bound, 0.0)


def drift_plus_penalty(weight_local, weight_edge, local_rate, arrivals, edge_rate, offloaded_edge, power, v):
    """G(X(t)) of eq. 22, summed over the last (UE) axis.

    ``weight_local`` = Q^L + Z^L, ``weight_edge`` = Q^E + Z^E, ``local_rate`` =
    mu^L = u^L + u^E + u^C, ``edge_rate`` = mu^E, ``power`` the per-UE power
    terms of p(t) (W), ``v`` the Lyapunov factor.
    """
    per_ue = (
        -weight_local * (local_rate - arrivals) - weight_edge * (edge_rate - offloaded_edge) + v * power
    )
    return per_ue.sum(axis=-1)


def poisson_arrivals(uniform, mean: float):
    """Poisson(``mean``) task counts by inversion of the CDF at uniforms on [0, 1) (eq. 1's Lambda(t))."""
    u = np.asarray(uniform, dtype=float)
    if mean <= 0.0:
        return np.zeros(u.shape)
    top = int(np.ceil(mean + 12.0 * np.sqrt(mean) + 20.0))  # P(N > top) < 1e-20
    k = np.arange(top + 1)
    log_pmf = k * np.log(mean) - mean - np.cumsum(np.log(np.maximum(k, 1)))
    cdf = np.cumsum(np.exp(log_pmf))
    return np.minimum(np.searchsorted(cdf, u, side="right"), top).astype(float)
