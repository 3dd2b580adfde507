"""Quality of experience: the sigmoid of service latency (DJTCRA eq. 10-11)."""

from __future__ import annotations

import numpy as np
from scipy.special import expit


def sigmoid_qoe(latency, alpha, beta, ceiling=1.0):
    """``Omega = L / (1 + exp(alpha (D - beta)))`` (DJTCRA eq. 11).

    ``alpha`` (1/s) > 0 sets how fast QoE falls around the reference latency
    ``beta`` (s); ``ceiling`` is L_u. An infinite latency gives 0. ``expit``
    keeps it finite where ``exp`` would overflow.
    """
    d = np.asarray(latency, dtype=float)
    return np.asarray(ceiling, dtype=float) * expit(-np.asarray(alpha, dtype=float) * (d - beta))


def qoe_class(qoe, satisfied=0.9, given_up=0.1):
    """0 = GU (QoE < ``given_up``), 1 = DU (in between), 2 = SU (QoE > ``satisfied``) (DJTCRA Sec. VI-A)."""
    q = np.asarray(qoe, dtype=float)
    return np.where(q > satisfied, 2, np.where(q < given_up, 0, 1))
