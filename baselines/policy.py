"""The interface every method implements, and the evaluation loop that uses it.

A *policy* maps the live agents' observations to actions. Heuristics and
searches may read the privileged problem instance through ``env.unwrapped``;
learners see only observations. ``reset`` is called right after each
``env.reset`` so a policy can precompute per-instance work (TEM enumerates
once per instance, not once per step).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Policy(Protocol):
    name: str

    def reset(self, env, seed: int | None = None) -> None:
        """Called after ``env.reset``; ``env`` is the ParallelEnv."""

    def act(self, observations: dict, env) -> dict:
        """Actions for ``env.agents``."""


class RandomSource:
    """Mixin: a policy-owned generator, seeded only through ``reset(seed=...)``."""

    _rng: np.random.Generator | None = None

    def _seed(self, seed):
        if seed is not None or self._rng is None:
            self._rng = np.random.default_rng(seed)

    @property
    def rng(self) -> np.random.Generator:
        if self._rng is None:
            self._rng = np.random.default_rng()
        return self._rng
