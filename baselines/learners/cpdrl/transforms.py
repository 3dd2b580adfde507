"""Numpy-side pieces of Algorithm 1: the consistency-preserving action adjustment, the
learner's observation and reward transforms, and the UTD-permutation augmentation."""

from __future__ import annotations

import math

import numpy as np


def adjust_action(action: np.ndarray, n: int, ste: bool, mask: bool) -> np.ndarray:
    """Algorithm 1 line 9, the consistency-preserving adjustment of a noisy action.

    Clips to [-1, 1]; with the STE re-binarises the offload part to +-1 (eq. 15
    forward); with masks sets the unused resources to -1 (0 in [0, 1], eq. 16).
    """
    out = np.clip(np.asarray(action, dtype=np.float32), -1.0, 1.0)
    if ste:
        out[..., :n] = np.where(out[..., :n] > 0, 1.0, -1.0)
    if mask:
        off = out[..., :n] > 0
        out[..., n : 2 * n] = np.where(off, out[..., n : 2 * n], -1.0)
        out[..., 2 * n : 3 * n] = np.where(off, -1.0, out[..., 2 * n : 3 * n])
        out[..., 3 * n :] = np.where(off, out[..., 3 * n :], -1.0)
    return out


def transform_obs(obs: np.ndarray, n: int, mode: str) -> np.ndarray:
    """Learner-side observation normalisation.

    ``"log"``: ``log(1 + x)`` on the delays and energies (the first 2n
    entries), the rest unchanged; ``"tasks"``: only the task features of the
    ``full`` observation (the last 4n entries: D, C, SNR, f_max, normalised);
    ``"none"``: the observation as the env gives it.
    """
    obs = np.asarray(obs, dtype=np.float32)
    if mode == "none":
        return obs
    if mode == "tasks":
        if obs.shape[-1] != 6 * n:
            raise ValueError(f"obs_transform='tasks' needs the 'full' observation (6n = {6 * n} entries), got {obs.shape[-1]}")
        return obs[..., 2 * n :].copy()
    out = obs.copy()
    out[..., : 2 * n] = np.log1p(np.maximum(out[..., : 2 * n], 0.0))
    return out


def transform_reward(reward: float, mode: str, reference: float = 1.0, bonus: float = 0.0, clip: float = 2.0) -> float:
    """Learner-side reward scaling (all monotone in the reward for a fixed instance).

    * ``"symlog"``: ``sign(r) log(1 + |r|)``;
    * ``"relative"``: ``max(-clip, -log((bonus - r) / reference))`` where
      ``bonus - r >= 0`` is the cost the reward charges (eq. 17 with the
      consistency bonus at its maximum ``bonus``) and ``reference`` the
      instance's cost of the first observation (every UTD local at f_max, the
      sum of the observed T and E plus ``bonus``): the log-improvement over
      the reference decision, clipped below so that catastrophic exploratory
      actions (a resource at its floor costs thousands of seconds) do not
      dominate the critic's regression;
    * ``"none"``: the raw reward.
    """
    if mode == "none":
        return float(reward)
    if mode == "symlog":
        return math.copysign(math.log1p(abs(reward)), reward)
    cost = max(bonus - float(reward), 1e-9)
    return max(-clip, -math.log(cost / max(reference, 1e-9)))


def reference_cost(raw_obs: np.ndarray, n: int, bonus: float) -> float:
    """Scale of the "relative" reward: sum of the first observation's T and E, plus the bonus weight."""
    return float(np.sum(np.asarray(raw_obs, dtype=float)[: 2 * n])) + bonus


def permute_blocks(x: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """Re-order the UTDs of vectors made of blocks of n per-UTD entries.

    ``x`` is ``(batch, k n)`` (k blocks such as [T | E | D | ...] or [a | b | f | p]),
    ``perm`` is ``(batch, n)``; block j of row i becomes ``x[i, j n + perm[i]]``.
    The env is invariant to relabelling the UTDs (the reward sums over them,
    eq. 7 and C2 are symmetric), so permuted transitions are valid ones.
    """
    n = perm.shape[1]
    k = x.shape[1] // n
    index = (perm[:, None, :] + n * np.arange(k)[None, :, None]).reshape(x.shape[0], k * n)
    return np.take_along_axis(x, index, axis=1)
