"""Top-chi quantisers of the DRLH paper (Sec. IV-A): relaxed scores -> feasible associations.

A feasible association puts exactly ``chi`` UEs on a server (semantic_v0 reads
the paper's "at most chi_max" as exactly chi_max, which gives the paper's count
of 1960 actions for I = 8, chi = (4, 2)). The MEC and MCC choices are
independent.

* :func:`top_chi`: the paper's quantiser, the chi largest scores -> 1 (ties to
  the lower UE index, so exactly chi ones).
* :func:`feasible_actions`: every feasible (rho^E, rho^C) pair, for exhaustive search.
* :func:`nearest_candidates`: the N_A feasible actions of highest likelihood
  under the relaxed output read as independent Bernoulli probabilities; the
  first is the :func:`top_chi` action (an order-preserving generalisation to
  N_A candidates: ranking by likelihood keeps the relaxed output's order).
"""

from __future__ import annotations

import functools
import itertools

import numpy as np


def top_chi(scores, chi: int) -> np.ndarray:
    """Bool mask with ones at the ``chi`` largest entries of the last axis (ties: lower index)."""
    scores = np.asarray(scores, dtype=float)
    n = scores.shape[-1]
    if not 0 <= chi <= n:
        raise ValueError(f"chi must lie in [0, {n}], got {chi}")
    if chi == 0:
        return np.zeros(scores.shape, dtype=bool)
    # The chi-th largest value v_th (Sec. IV-A); every score above it, then the
    # lowest-index ties with it until exactly chi are set.
    threshold = np.sort(scores, axis=-1)[..., n - chi, None]
    above = scores > threshold
    tied = scores == threshold
    need = chi - above.sum(axis=-1, keepdims=True)
    return above | (tied & (np.cumsum(tied, axis=-1) <= need))


@functools.lru_cache(maxsize=32)
def _combinations(n: int, chi: int) -> np.ndarray:
    combos = list(itertools.combinations(range(n), chi))
    rows = np.zeros((len(combos), n), dtype=bool)
    for r, idx in enumerate(combos):
        rows[r, list(idx)] = True
    rows.setflags(write=False)
    return rows


@functools.lru_cache(maxsize=32)
def feasible_actions(n: int, chi_mec: int, chi_mcc: int) -> tuple[np.ndarray, np.ndarray]:
    """``(rho_mec, rho_mcc)``, each ``(C(n, chi_mec) C(n, chi_mcc), n)`` bool: every feasible action."""
    mec, mcc = _combinations(n, chi_mec), _combinations(n, chi_mcc)
    rho_mec = np.repeat(mec, len(mcc), axis=0)
    rho_mcc = np.tile(mcc, (len(mec), 1))
    rho_mec.setflags(write=False)
    rho_mcc.setflags(write=False)
    return rho_mec, rho_mcc


def nearest_candidates(relaxed_mec, relaxed_mcc, chi_mec: int, chi_mcc: int, k: int, eps: float = 1e-6):
    """The ``k`` most likely feasible actions under independent Bernoulli(relaxed) bits.

    ``relaxed_*`` are ``(*b, n)`` in [0, 1]. Returns ``(rho_mec, rho_mcc)`` of
    shape ``(*b, k, n)`` bool, best first; the first is ``top_chi`` of each.
    """
    p_e = np.clip(np.asarray(relaxed_mec, dtype=float), eps, 1.0 - eps)
    p_c = np.clip(np.asarray(relaxed_mcc, dtype=float), eps, 1.0 - eps)
    n = p_e.shape[-1]
    mec, mcc = _combinations(n, chi_mec), _combinations(n, chi_mcc)
    # Log-likelihood of a mask = const + sum of logits over its ones.
    ll_e = np.log(p_e / (1 - p_e)) @ mec.T.astype(float)  # (*b, C_E)
    ll_c = np.log(p_c / (1 - p_c)) @ mcc.T.astype(float)  # (*b, C_C)
    total = (ll_e[..., :, None] + ll_c[..., None, :]).reshape(ll_e.shape[:-1] + (-1,))
    k = min(k, total.shape[-1])
    best = np.argsort(-total, axis=-1, kind="stable")[..., :k]
    return mec[best // len(mcc)], mcc[best % len(mcc)]
