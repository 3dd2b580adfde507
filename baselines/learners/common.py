"""What every learner needs besides its algorithm: hyper-parameters, budget, seeding,
threads, progress, replay and target updates.

* Hyper-parameters are a pydantic model per learner (:class:`HyperParams`
  subclasses: defaults, types, ranges; unknown keys are errors naming the key),
  separate from the training :class:`Budget` (how long, whether to show
  progress). The registry passes one flat ``budget`` dict; :func:`split_budget`
  sorts it into the two and rejects anything else.
* :func:`seed_everything` seeds Python, numpy's global generator and torch
  (SB3's ``set_random_seed``) and returns the learner's own numpy generator:
  everything random derives from the one seed.
* :func:`torch_threads` pins torch to one thread while training (small nets are
  slower with more, and parallel runs must not oversubscribe the cores).
* :func:`progress_bar`: tqdm, on for a terminal, off when ``CI`` is set.
* :class:`SeededReplayBuffer` is SB3's ``ReplayBuffer`` drawing its batches from
  the learner's generator; :func:`polyak_update` is SB3's soft target update.

Checkpoints are :class:`baselines.policy.LearnedPolicy`'s (one format for
every learner, atomic save, clear errors); :class:`CheckpointError` and
:func:`read_checkpoint` are re-exported here for learners' convenience.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Annotated, Iterator, Mapping, TypeVar

import numpy as np
import torch
from gymnasium import spaces
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.utils import polyak_update, set_random_seed
from tqdm.auto import tqdm

from baselines.policy import CheckpointError, LearnedPolicy, read_checkpoint

__all__ = [
    "Budget", "HyperParams", "IntTuple", "split_budget", "parse_model", "resolve_seed", "seed_everything", "torch_threads",
    "progress_enabled", "progress_bar", "SeededReplayBuffer", "polyak_update", "CheckpointError",
    "LearnedPolicy", "read_checkpoint",
]

M = TypeVar("M", bound=BaseModel)


class HyperParams(BaseModel):
    """Base of the learners' hyper-parameter models: frozen, unknown keys refused.

    Command-line strings are accepted where pydantic's lax mode converts them
    (``"0.5"`` -> 0.5, ``"false"`` -> False); :data:`IntTuple` fields take ``"24,16"``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    def as_dict(self) -> dict:
        """Plain JSON/torch-safe values (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.model_dump().items()}


class Budget(BaseModel):
    """How long a learner trains, apart from how (the hyper-parameters)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: int = Field(ge=1, description="env steps")
    progress: bool | None = Field(None, description="tqdm progress bar; None: on for a terminal, off when CI is set")


def int_tuple(value):
    """``"24,16"``, ``"(24, 16)"``, ``[24, 16]`` -> ``(24, 16)`` (a pydantic before-validator)."""
    if isinstance(value, str):
        value = [v for v in value.strip("()[] ").split(",") if v.strip()]
    return tuple(int(v) for v in value)


IntTuple = Annotated[tuple[int, ...], BeforeValidator(int_tuple)]  # e.g. hidden layer sizes


def parse_model(cls: type[M], values: Mapping, what: str) -> M:
    """``cls(**values)`` with one-line ``ValueError``s that name the key and, if unknown, the allowed ones."""
    try:
        return cls(**dict(values))
    except ValidationError as err:
        problems = []
        unknown = []
        for e in err.errors():
            key = ".".join(str(p) for p in e["loc"])
            if e["type"] == "extra_forbidden":
                unknown.append(key)
            else:
                problems.append(f"{key}={e.get('input')!r}: {e['msg']}")
        if unknown:
            problems.insert(0, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(cls.model_fields)}")
        raise ValueError(f"{what}: " + "; ".join(problems)) from None


def split_budget(budget: Mapping | None, hyper_cls: type[M], what: str = "budget") -> tuple[Budget, M]:
    """A flat ``{"steps": N, "progress": ..., <hyper-parameter>: value}`` -> ``(Budget, hyper_cls)``.

    Keys that are neither budget nor hyper-parameters raise ``ValueError`` naming them.
    """
    budget = dict(budget or {})
    allowed = set(Budget.model_fields) | set(hyper_cls.model_fields)
    unknown = sorted(set(budget) - allowed)
    if unknown:
        raise ValueError(f"{what}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    if "steps" not in budget:
        raise ValueError(f"{what} needs 'steps' (number of env steps)")
    train = {k: budget.pop(k) for k in list(budget) if k in Budget.model_fields}
    return parse_model(Budget, train, what), parse_model(hyper_cls, budget, f"{what} (hyper-parameters)")


# ------------------------------------------------------------------ seeding, threads
def resolve_seed(seed: int | None) -> int:
    """``seed`` as an int; a fresh one from the OS when None (record it to reproduce the run)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**31))
    return int(seed)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, numpy's global generator and torch; return a numpy Generator of the same seed."""
    set_random_seed(int(seed))
    return np.random.default_rng(int(seed))


@contextlib.contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Run the block with ``n`` torch threads, restoring the previous count after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# ------------------------------------------------------------------ progress
def progress_enabled(requested: bool | None = None) -> bool:
    """An explicit request wins; otherwise on for a terminal, off in CI (``CI=true``)."""
    if requested is not None:
        return bool(requested)
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        return False
    return sys.stderr.isatty()


def progress_bar(total: int, desc: str, enabled: bool | None = None) -> tqdm:
    """A tqdm bar over ``total`` env steps (a no-op object when disabled)."""
    return tqdm(total=int(total), desc=desc, unit="step", disable=not progress_enabled(enabled),
                dynamic_ncols=True, mininterval=0.5, leave=False)


# ------------------------------------------------------------------ replay
class SeededReplayBuffer(ReplayBuffer):
    """SB3's ``ReplayBuffer`` (float32 vectors, one env, on the CPU) sampling with ``rng``.

    SB3 samples from numpy's global generator; drawing the indices from the
    learner's own generator keeps a run's random streams in one place, so the
    same seed gives the same run whatever else uses numpy.
    """

    def __init__(self, buffer_size: int, obs_dim: int, act_dim: int, rng: np.random.Generator):
        super().__init__(
            int(buffer_size),
            spaces.Box(-np.inf, np.inf, shape=(int(obs_dim),), dtype=np.float32),
            spaces.Box(-1.0, 1.0, shape=(int(act_dim),), dtype=np.float32),
            device="cpu",
            handle_timeout_termination=False,
        )
        self.rng = rng

    def __len__(self) -> int:
        return self.size()

    def add_transition(self, obs, action, reward: float, next_obs, done: bool) -> None:
        """One transition of a single env, without SB3's batch/infos plumbing."""
        self.add(np.asarray(obs), np.asarray(next_obs), np.asarray(action), np.asarray([reward]),
                 np.asarray([float(done)]), [{}])

    def sample(self, batch_size: int, env=None):
        upper = self.buffer_size if self.full else self.pos
        return self._get_samples(self.rng.integers(0, upper, size=batch_size), env=env)
