"""2p-ER (OJRS Sec. IV-E): a FIFO replay of (CQI, searched action) pairs with a preserve strategy
(eq. 31) and priority sampling (eq. 32).

* Preserve: a transition collected when the policy's squared weight norm was
  ||theta_t0||^2 has dissimilarity rho_i = ||theta_t||^2 / ||theta_t0||^2; it is
  reusable when 1 / rho_max < rho_i < rho_max. When the buffer is full, the
  oldest transition that is not reusable is dropped (the oldest of all when
  every one is reusable).
* Priority: P_i = p_i^tau / sum_k p_k^tau with p_i = |delta_loss| + eps, set
  for the transitions of a training batch after it; new transitions get the
  current maximum priority so that each is likely to be seen once.
"""

from __future__ import annotations

import numpy as np


class PreservedPrioritizedReplay:
    def __init__(self, capacity: int, x_dim: int, n: int, rho_max: float, tau: float, eps: float,
                 rng: np.random.Generator):
        self.capacity = int(capacity)
        self.x = np.zeros((self.capacity, x_dim), dtype=np.float32)
        self.action = np.zeros((self.capacity, n), dtype=np.int64)
        self.norm_at = np.ones(self.capacity)  # ||theta||^2 when collected
        self.age = np.zeros(self.capacity, dtype=np.int64)  # insertion counter, for FIFO order
        self.priority = np.ones(self.capacity)
        self.size = 0
        self.counter = 0
        self.rho_max, self.tau, self.eps = rho_max, tau, eps
        self.rng = rng

    def __len__(self) -> int:
        return self.size

    def reusable(self, norm_now: float) -> np.ndarray:
        """Eq. 31 over the stored transitions."""
        rho = norm_now / self.norm_at[: self.size]
        return (rho > 1.0 / self.rho_max) & (rho < self.rho_max)

    def add(self, x: np.ndarray, action: np.ndarray, norm_now: float) -> int:
        if self.size < self.capacity:
            slot = self.size
            self.size += 1
        else:
            keep = self.reusable(norm_now)
            candidates = np.flatnonzero(~keep) if (~keep).any() else np.arange(self.size)
            slot = int(candidates[np.argmin(self.age[candidates])])
        self.x[slot], self.action[slot] = x, action
        self.norm_at[slot] = norm_now
        self.age[slot] = self.counter
        self.priority[slot] = self.priority[: self.size].max() if self.size > 1 else 1.0
        self.counter += 1
        return slot

    def sample(self, batch_size: int) -> np.ndarray:
        """Indices drawn by eq. 32."""
        p = self.priority[: self.size] ** self.tau
        return self.rng.choice(self.size, size=batch_size, replace=True, p=p / p.sum())

    def update_priorities(self, index: np.ndarray, loss_change: float) -> None:
        self.priority[index] = abs(loss_change) + self.eps
