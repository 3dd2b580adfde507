"""Quantisers: a relaxed decision in [0, 1]^N -> K candidate binary decisions.

DROO (Huang, Bi & Zhang, IEEE TMC 2020, Sec. IV-B) turns its DNN's relaxed
output into K binary offloading decisions, evaluates each with the critic and
keeps the best. Both of its quantisers are here, batched over leading axes:

* :func:`order_preserving` (DROO eq. 8-9): the first candidate thresholds at
  0.5; the k-th (k >= 2) thresholds at the entry that is the (k-1)-th closest
  to 0.5, so the candidates keep the order of the relaxed entries and differ
  from each other; at most N + 1 distinct candidates exist.
* :func:`knn`: the K binary vectors nearest in Euclidean distance (all 2^N
  enumerated; N <= 20).
"""

from __future__ import annotations

import numpy as np

from mec_marl.solvers.time_allocation import all_decisions


def order_preserving(relaxed, k: int) -> np.ndarray:
    """``(*b, K, N)`` bool candidates from ``relaxed`` ``(*b, N)``; K = min(k, N + 1).

    Candidate 1: x_i > 0.5 (eq. 8). Candidate k >= 2, with x_(k-1) the entry
    (k-1)-th closest to 0.5: x_i > x_(k-1) if x_(k-1) > 0.5, else x_i >= x_(k-1) (eq. 9).
    Ties in the distance to 0.5 keep the lower device index first.
    """
    x = np.asarray(relaxed, dtype=float)
    n = x.shape[-1]
    k = int(min(k, n + 1))
    if k < 1:
        raise ValueError(f"order_preserving needs k >= 1, got {k}")
    first = (x > 0.5)[..., None, :]
    if k == 1:
        return first
    order = np.argsort(np.abs(x - 0.5), axis=-1, kind="stable")[..., : k - 1]
    pivot = np.take_along_axis(x, order, axis=-1)[..., :, None]  # (*b, k-1, 1)
    rows = x[..., None, :]
    rest = np.where(pivot > 0.5, rows > pivot, rows >= pivot)
    return np.concatenate([first, rest], axis=-2)


def knn(relaxed, k: int, decisions: np.ndarray | None = None) -> np.ndarray:
    """``(*b, K, N)`` bool: the K binary decisions nearest to ``relaxed`` (ties: binary counting order).

    ``decisions`` (``(M, N)`` bool) restricts the search; default all 2^N.
    """
    x = np.asarray(relaxed, dtype=float)
    n = x.shape[-1]
    if decisions is None:
        if n > 20:
            raise ValueError(f"knn enumerates 2^N decisions; N = {n} is too large")
        decisions = all_decisions(n)
    k = int(min(k, decisions.shape[0]))
    if k < 1:
        raise ValueError(f"knn needs k >= 1, got {k}")
    # ||b - x||^2 = sum x^2 + sum_i b_i (1 - 2 x_i): the first term is the same for every b.
    dist = (1.0 - 2.0 * x) @ decisions.T.astype(float)  # (*b, M)
    idx = np.argsort(dist, axis=-1, kind="stable")[..., :k]
    return decisions[idx]
